// Runs a TwoLayerNet that Python exported and compiled with AOTInductor (export_package.py),
// from C++, at the batch sizes of expected.txt, and checks its probabilities against Python's
// eager ones there. The compiled model calls torch.ops.twolayer.forward through the dispatcher:
// linking TwoLayer::twolayer registers it.
//
//   run_aoti_package twolayer_net.pt2 expected.txt

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/torch.h>

#include "twolayer/twolayer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PACKAGE.pt2 EXPECTED.txt\n", argv[0]);
    return 2;
  }
  torch::inductor::AOTIModelPackageLoader loader(argv[1]);
  std::ifstream expected_file(argv[2]);
  std::string line;
  int failures = 0, batches = 0;
  while (std::getline(expected_file, line)) {
    std::istringstream fields(line);
    int64_t m = 0;
    fields >> m;
    std::vector<double> expected;
    for (double v; fields >> v;) expected.push_back(v);

    // The inputs of export_package.py: linspace(-2, 2) as m rows of 2 features.
    const at::Tensor X = torch::linspace(-2.0, 2.0, m * 2, torch::kFloat32).reshape({m, 2});
    const at::Tensor A2 = loader.run({X}).at(0).flatten();
    double worst = A2.numel() == static_cast<int64_t>(expected.size()) ? 0.0 : INFINITY;
    for (int64_t i = 0; i < A2.numel() && std::isfinite(worst); ++i) {
      worst = std::max(worst, std::abs(A2[i].item<double>() - expected[i]));
    }
    const bool same = worst <= 1e-6;
    std::printf("batch %lld: %lld probabilities, max |AOTInductor - Python eager| = %.3g: %s\n",
                static_cast<long long>(m), static_cast<long long>(A2.numel()), worst,
                same ? "equal" : "DIFFERENT");
    failures += same ? 0 : 1;
    ++batches;
  }
  if (batches < 2) {
    std::fprintf(stderr, "run_aoti_package: expected at least two batch sizes in %s\n", argv[2]);
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
