// Trains the lecture's network on the planar "flower" data set with plain gradient descent:
// 2 inputs, 4 tanh hidden units, 1 sigmoid output, learning rate 1.2, 10 000 iterations.
// Each step is the lecture's: forward, cost, the six backward equations, then W := W - alpha dW,
// all inside twolayer's fit_ (the same steps as loss() + backward() + a manual update).
//
// Usage: planar_flower [--iterations N] [--learning-rate A] [--hidden N1] [--seed S]
//                      [--min-accuracy PERCENT] [--help]
// With --min-accuracy it exits with status 1 when the training accuracy falls short.

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
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

constexpr const char* kUsage =
    "usage: planar_flower [--iterations N] [--learning-rate A] [--hidden N1] [--seed S]\n"
    "                     [--min-accuracy PERCENT] [--help]\n"
    "Trains the lecture's 2-N1-1 network on the planar flower data set.\n"
    "  --iterations N          gradient-descent steps, N >= 0 (default 10000)\n"
    "  --learning-rate A       step size, a finite number (default 1.2)\n"
    "  --hidden N1             hidden units, N1 >= 1 (default 4)\n"
    "  --seed S                seed of the data and the weights, S >= 0 (default 1)\n"
    "  --min-accuracy PERCENT  exit with status 1 below this training accuracy (default 0)\n"
    "  --help                  print this message and exit\n";

// A bad command line: the reason and the usage on stderr, exit status 2 (as getopt tools do).
[[noreturn]] void usage_error(const std::string& reason) {
  std::cerr << "planar_flower: " << reason << "\n" << kUsage;
  std::exit(2);
}

// The whole of `text` as an integer in [low, high], or nothing.
std::optional<long long> parse_integer(const char* text, long long low, long long high) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < low || value > high) return {};
  return value;
}

std::optional<double> parse_number(const char* text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !std::isfinite(value)) return {};
  return value;
}

Settings parse_arguments(int argc, char** argv) {
  constexpr long long kMax = std::numeric_limits<long long>::max();
  Settings s;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag != "--iterations" && flag != "--learning-rate" && flag != "--hidden" &&
        flag != "--seed" && flag != "--min-accuracy") {
      usage_error("unknown option '" + flag + "'");
    }
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const char* value = argv[i + 1];
    auto bad = [&](const char* expected) {
      usage_error(flag + " takes " + expected + ", but got '" + value + "'");
    };
    if (flag == "--iterations" || flag == "--hidden" || flag == "--seed") {
      const long long low = flag == "--hidden" ? 1 : 0;
      const auto n = parse_integer(value, low, kMax);
      if (!n) bad(low == 1 ? "an integer >= 1" : "an integer >= 0");
      if (flag == "--iterations")
        s.iterations = *n;
      else if (flag == "--hidden")
        s.hidden_units = *n;
      else
        s.seed = static_cast<uint64_t>(*n);
    } else {
      const auto x = parse_number(value);
      if (!x) bad("a finite number");
      if (flag == "--learning-rate")
        s.learning_rate = *x;
      else
        s.min_accuracy = *x;
    }
  }
  return s;
}

}  // namespace

int run(const Settings& settings) {
  const planar::Dataset data = planar::flower(settings.seed);
  const torch::Tensor X = data.X.to(torch::kFloat32);
  const torch::Tensor Y = data.Y.to(torch::kFloat32);

  twolayer::TwoLayerNet net(
      twolayer::TwoLayerNetOptions(2, settings.hidden_units, 1).seed(settings.seed));
  std::cout << net << " on " << X.size(0) << " points, learning rate " << settings.learning_rate
            << ", " << settings.iterations << " iterations\n";

  // The lecture's loop, run by twolayer::fit_ inside C++: cost, the six backward equations, then
  // W := W - alpha * dW, reporting every 1 000 iterations and the last one.
  net->fit(X, Y, settings.iterations, settings.learning_rate, [](int64_t i, double cost) {
    std::cout << "Cost after iteration " << i << ": " << std::fixed << std::setprecision(6) << cost
              << "\n";
  });

  std::cout << "Final cost after " << settings.iterations << " iterations: " << std::fixed
            << std::setprecision(6) << net->loss(X, Y).item<double>() << "\n";
  const double accuracy = 100.0 * net->score(X, Y);
  std::cout << "Training accuracy: " << std::setprecision(2) << accuracy << " %\n";
  if (accuracy < settings.min_accuracy) {
    std::cerr << "accuracy " << accuracy << " % is below the required " << settings.min_accuracy
              << " %\n";
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  const Settings settings = parse_arguments(argc, argv);
  try {
    return run(settings);
  } catch (const std::exception& error) {
    // c10::Error included (a net too large to allocate, say): a message, not an abort.
    std::cerr << "planar_flower: " << error.what() << "\n";
    return 1;
  }
}
