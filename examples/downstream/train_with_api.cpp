// A downstream program using twolayer's C++ API: a few gradient-descent steps on an XOR-like
// problem must lower the cost, with gradients from the hand-written backward.

#include <iostream>

#include <torch/torch.h>
#include <twolayer/twolayer.h>

int main() {
  const torch::Tensor X = torch::tensor({{0., 0.}, {0., 1.}, {1., 0.}, {1., 1.}});
  const torch::Tensor Y = torch::tensor({{0.}, {1.}, {1.}, {0.}});
  twolayer::TwoLayerNet net(twolayer::TwoLayerNetOptions(2, 8, 1).init_scale(1.0).seed(0));

  const double first = net->loss(X, Y).item<double>();
  for (int i = 0; i < 2000; ++i) {
    torch::Tensor J = twolayer::loss(X, Y, net->W1, net->b1, net->W2, net->b2, "tanh");
    net->zero_grad();
    J.backward();
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : net->parameters()) p.sub_(0.5 * p.grad());
  }
  const double last = net->loss(X, Y).item<double>();
  const bool solved = net->score(X, Y) == 1.0;
  std::cout << "cost " << first << " -> " << last << ", XOR " << (solved ? "solved" : "not solved")
            << "\n";
  return (last < first && solved) ? 0 : 1;
}
