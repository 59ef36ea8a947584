#pragma once

// The sample networks of the C++ gradient tests (test_loss_gradients.cpp,
// test_forward_gradients.cpp), in one place. Each line names the CPU path the library takes for
// it (twolayer::_testing's cpu_path; tests/python/test_cpu_paths.py reads this file and checks
// every line), as the Python table tests/python/helpers.py SHAPES does for the Python tests.

#include <vector>

#include "reference.h"

namespace twolayer_test {

// Every dimension different, so that a transposed or swapped axis cannot go unnoticed; m = 1
// catches a mean over the wrong axis or a batch axis squeezed away; n2 = 3 catches gradients
// that only work for a single output unit. Only two, because every parametrized case is a
// process under ctest.
inline const std::vector<Shape> kSampleShapes = {
    {1, 4, 2, 3},  // cpu path: small_net
    {7, 3, 5, 1},  // cpu path: small_net
};

// One input feature and one hidden unit: the shapes where broadcasting or squeezing can make a
// wrong formula produce a right-shaped result.
inline const std::vector<Shape> kEdgeShapes = {
    {3, 1, 1, 1},  // cpu path: small_net
    {1, 1, 1, 1},  // cpu path: small_net
    {4, 1, 1, 3},  // cpu path: small_net
};

}  // namespace twolayer_test
