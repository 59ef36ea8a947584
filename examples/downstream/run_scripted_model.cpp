// Loads a TorchScript model saved in Python that calls torch.ops.twolayer.loss, runs it and
// differentiates it. This file includes no twolayer header and names no twolayer symbol: the
// operators must be registered only because the executable links TwoLayer::twolayer.
//
// Usage: run_scripted_model <loss_module.pt>
// Prints "mapped: <file>" for each libtwolayer the process maps, so that a test can check that an
// application built against the Python package runs the package's own library.

#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: run_scripted_model <loss_module.pt>\n";
    return 2;
  }
  torch::jit::script::Module module = torch::jit::load(argv[1]);

  torch::manual_seed(0);
  const int64_t m = 16, n0 = 2, n1 = 4, n2 = 1;
  torch::Tensor X = torch::randn({m, n0});
  torch::Tensor Y = torch::randint(0, 2, {m, n2}).to(torch::kFloat);
  torch::Tensor W1 = torch::randn({n1, n0}).requires_grad_();
  torch::Tensor b1 = torch::zeros({n1}).requires_grad_();
  torch::Tensor W2 = torch::randn({n2, n1}).requires_grad_();
  torch::Tensor b2 = torch::zeros({n2}).requires_grad_();

  torch::Tensor J = module.forward({X, Y, W1, b1, W2, b2}).toTensor();
  J.backward();

  // The same cost from plain ATen ops, as a check that the operator computed the right thing.
  torch::Tensor Z2 = torch::linear(torch::tanh(torch::linear(X, W1, b1)), W2, b2);
  const double expected =
      torch::binary_cross_entropy_with_logits(Z2, Y, {}, {}, at::Reduction::Mean).item<double>();
  const double got = J.item<double>();
  const bool grads_ok =
      W1.grad().defined() && W2.grad().defined() && b1.grad().defined() && b2.grad().defined();
  std::cout << "scripted twolayer::loss = " << got << " (ATen: " << expected << "), gradients "
            << (grads_ok ? "present" : "missing") << "\n";
  std::set<std::string> mapped;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash != std::string::npos && line.find("libtwolayer", slash) != std::string::npos) {
      mapped.insert(line.substr(slash));
    }
  }
  for (const auto& file : mapped) std::cout << "mapped: " << file << "\n";
  return (std::abs(got - expected) < 1e-5 && grads_ok) ? 0 : 1;
}
