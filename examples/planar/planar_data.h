#pragma once

// The lecture's planar "flower" data set: two classes of points drawn as the petals of a rose
// curve r = a sin(4t). planar_flower.py draws the very same points from the same seed (both use
// PyTorch's CPU generator in the same order).

#include <cstdint>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace planar {

struct Dataset {
  torch::Tensor X;  // (400, 2): one example per row
  torch::Tensor Y;  // (400, 1): labels 0 and 1
};

inline Dataset flower(uint64_t seed, int64_t points_per_class = 200, double petal_length = 4.0) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  const auto f64 = torch::dtype(torch::kFloat64);
  std::vector<torch::Tensor> xs, ys;
  for (int64_t label = 0; label < 2; ++label) {
    torch::Tensor t = torch::linspace(3.12 * label, 3.12 * (label + 1), points_per_class, f64) +
                      0.2 * torch::randn({points_per_class}, generator, f64);
    torch::Tensor r =
        petal_length * torch::sin(4 * t) + 0.2 * torch::randn({points_per_class}, generator, f64);
    xs.push_back(torch::stack({r * torch::sin(t), r * torch::cos(t)}, 1));
    ys.push_back(torch::full({points_per_class, 1}, static_cast<double>(label), f64));
  }
  return {torch::cat(xs), torch::cat(ys)};
}

}  // namespace planar
