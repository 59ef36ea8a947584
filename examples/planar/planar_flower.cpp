// Trains the lecture's network on the planar "flower" data set with plain gradient descent:
// 2 inputs, 4 tanh hidden units, 1 sigmoid output, learning rate 1.2, 10 000 iterations.
// Each step is the lecture's: forward, cost, the six backward equations, then W := W - alpha dW,
// all inside twolayer's fit_ (the same steps as loss() + backward() + a manual update).
//
// Usage: planar_flower [--iterations N] [--learning-rate A] [--hidden N1] [--seed S]
//                      [--min-accuracy PERCENT]
// With --min-accuracy it exits with status 1 when the training accuracy falls short.

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string>

#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "planar_data.h"

namespace {

struct Settings {
  int64_t iterations = 10000;
  double learning_rate = 1.2;
  int64_t hidden_units = 4;
  uint64_t seed = 1;
  double min_accuracy = 0.0;
};

Settings parse_arguments(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--iterations") s.iterations = std::stoll(value);
    else if (flag == "--learning-rate") s.learning_rate = std::stod(value);
    else if (flag == "--hidden") s.hidden_units = std::stoll(value);
    else if (flag == "--seed") s.seed = std::stoull(value);
    else if (flag == "--min-accuracy") s.min_accuracy = std::stod(value);
    else {
      std::cerr << "unknown option " << flag << "\n";
      std::exit(2);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse_arguments(argc, argv);
  const planar::Dataset data = planar::flower(settings.seed);
  const torch::Tensor X = data.X.to(torch::kFloat32);
  const torch::Tensor Y = data.Y.to(torch::kFloat32);

  twolayer::TwoLayerNet net(
      twolayer::TwoLayerNetOptions(2, settings.hidden_units, 1).seed(settings.seed));
  std::cout << net << " on " << X.size(0) << " points, learning rate " << settings.learning_rate
            << ", " << settings.iterations << " iterations\n";

  // The lecture's loop, run by twolayer::fit_ inside C++: cost, the six backward equations, then
  // W := W - alpha * dW, reporting every 1 000 iterations.
  net->fit(X, Y, settings.iterations, settings.learning_rate, [](int64_t i, double cost) {
    std::cout << "Cost after iteration " << i << ": " << std::fixed << std::setprecision(6)
              << cost << "\n";
  });

  const double accuracy = 100.0 * net->predict(X).eq(Y).to(torch::kFloat64).mean().item<double>();
  std::cout << "Training accuracy: " << std::setprecision(2) << accuracy << " %\n";
  if (accuracy < settings.min_accuracy) {
    std::cerr << "accuracy " << accuracy << " % is below the required " << settings.min_accuracy
              << " %\n";
    return 1;
  }
  return 0;
}
