// Nothing lost: TwoLayerNet checkpoints written with torch::save must come back bit for bit,
// training resumed from one must end exactly where uninterrupted training ends, a damaged or
// foreign file must raise c10::Error (never crash), and checkpoints must cross between C++ and
// Python in both directions.
//
// Checkpoint.*               pure C++, no files from outside.
// CheckpointCrossLanguage.*  needs TWOLAYER_CHECKPOINT_DIR, where ctest has first run
//                            tests/python/save_checkpoints.py (the Python side); these tests
//                            read its files and write cpp_net.pt + cpp_expected.txt there for
//                            tests/python/check_cpp_checkpoint.py, which ctest runs after them.
//                            As with ScriptedModel.*, a missing directory fails rather than
//                            skips, so that CI cannot silently lose the cross-language tests;
//                            TWOLAYER_ALLOW_MISSING_MODELS=1 skips them on purpose.
//
// Reference values that come from Python are plain text in hexadecimal floating point (exact),
// so that the serialization under test is never its own oracle.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

namespace {

const char* const kParams[] = {"W1", "b1", "W2", "b2"};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// Bit patterns, so that -0.0 and 0.0 differ and the comparison is exact.
at::Tensor bits(const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous();
  return c.view(c.scalar_type() == at::kDouble ? at::kLong : at::kInt);
}

::testing::AssertionResult BitwiseEqual(const at::Tensor& actual, const at::Tensor& expected) {
  if (!actual.defined() || !expected.defined()) {
    return ::testing::AssertionFailure() << "undefined tensor";
  }
  if (actual.scalar_type() != expected.scalar_type() || actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "got " << actual.scalar_type() << " " << actual.sizes() << ", expected "
           << expected.scalar_type() << " " << expected.sizes();
  }
  if (!torch::equal(bits(actual), bits(expected))) {
    return ::testing::AssertionFailure()
           << "values differ (max |diff| "
           << (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>()
           << ")\nactual:\n"
           << actual << "\nexpected:\n"
           << expected;
  }
  return ::testing::AssertionSuccess();
}

// Across the Python package and this library, two compilations free to fuse different
// multiply-adds (FMA) in the vectorised kernels, training agrees to float64 rounding.
::testing::AssertionResult EqualToRounding(const at::Tensor& actual, const at::Tensor& expected) {
  if (actual.sizes() == expected.sizes() && actual.scalar_type() == expected.scalar_type() &&
      torch::allclose(actual, expected, 1e-12, 1e-12)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got\n" << actual << "\nexpected\n" << expected;
}

std::map<std::string, at::Tensor> params_of(const twolayer::TwoLayerNet& net) {
  return {{"W1", net->W1}, {"b1", net->b1}, {"W2", net->W2}, {"b2", net->b2}};
}

void ExpectSameParameters(const twolayer::TwoLayerNet& actual,
                          const std::map<std::string, at::Tensor>& expected) {
  for (const char* p : kParams) {
    EXPECT_TRUE(BitwiseEqual(params_of(actual).at(p), expected.at(p))) << p;
    // The members must still be the registered parameters that torch::load wrote into;
    // otherwise forward() would use stale weights while the registry held the loaded ones.
    EXPECT_TRUE(BitwiseEqual(actual->named_parameters()[p], expected.at(p))) << p;
  }
}

std::map<std::string, at::Tensor> clone_params(const twolayer::TwoLayerNet& net) {
  std::map<std::string, at::Tensor> out;
  for (const char* p : kParams) out[p] = params_of(net).at(p).detach().clone();
  return out;
}

// Training data on which every parameter, biases included, moves.
std::pair<at::Tensor, at::Tensor> training_data(int64_t m, at::ScalarType dtype, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor X = torch::randn({m, 2}, gen, torch::kDouble) * 2.0;
  const at::Tensor Y = (X.slice(1, 0, 1).pow(2) - X.slice(1, 1, 2) > 0.5)
                           .logical_xor(torch::rand({m, 1}, gen, torch::kDouble) < 0.1);
  return {X.to(dtype), Y.to(dtype)};
}

twolayer::TwoLayerNet make_net(at::ScalarType dtype, uint64_t seed,
                               const std::string& activation = "tanh") {
  return twolayer::TwoLayerNet(
      twolayer::TwoLayerNetOptions(2, 4, 1).dtype(dtype).seed(seed).activation(activation));
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "twolayer_checkpoint_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = mkdtemp(buf.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Loads `path` into a fresh net and reports how it went: "ok", "c10::Error: <message>" or, for
// any other exception type, what it was (a crash ends the test binary and fails ctest anyway).
std::string load_outcome(const std::string& path) {
  twolayer::TwoLayerNet net = make_net(at::kDouble, 1);
  try {
    torch::load(net, path);
    return "ok";
  } catch (const c10::Error& e) {
    return std::string("c10::Error: ") + e.what_without_backtrace();
  } catch (const std::exception& e) {
    return std::string("other std::exception: ") + e.what();
  } catch (...) {
    return "a non-std exception";
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: C++ only
// ---------------------------------------------------------------------------------------------

class Checkpoint : public ::testing::TestWithParam<at::ScalarType> {};

TEST_P(Checkpoint, SaveLoadRoundTripIsBitwise) {
  const at::ScalarType dtype = GetParam();
  const auto [X, Y] = training_data(40, dtype, 3);
  twolayer::TwoLayerNet net = make_net(dtype, 3, "relu");
  net->fit(X, Y, 30, 0.5);  // non-zero biases and no round init values
  const auto saved = clone_params(net);
  const at::Tensor A2 = net->forward(X).detach();

  TempDir dir;
  torch::save(net, dir.file("net.pt"));
  twolayer::TwoLayerNet loaded = make_net(dtype, 99, "relu");  // different weights before load
  ASSERT_FALSE(BitwiseEqual(loaded->W1, saved.at("W1")));
  torch::load(loaded, dir.file("net.pt"));
  ExpectSameParameters(loaded, saved);
  EXPECT_TRUE(BitwiseEqual(loaded->forward(X).detach(), A2));
  EXPECT_TRUE(loaded->W1.requires_grad());  // still trainable after loading

  // In memory too (checkpoints sent over a network or kept in a database).
  std::stringstream stream;
  torch::save(net, stream);
  twolayer::TwoLayerNet from_stream = make_net(dtype, 98, "relu");
  torch::load(from_stream, stream);
  ExpectSameParameters(from_stream, saved);
}

TEST_P(Checkpoint, ResumedFitMatchesUninterruptedFit) {
  const at::ScalarType dtype = GetParam();
  const auto [X, Y] = training_data(40, dtype, 4);

  twolayer::TwoLayerNet uninterrupted = make_net(dtype, 4);
  uninterrupted->fit(X, Y, 100, 1.2);

  TempDir dir;
  {
    twolayer::TwoLayerNet first_half = make_net(dtype, 4);
    first_half->fit(X, Y, 50, 1.2);
    torch::save(first_half, dir.file("half.pt"));
  }  // the process that trained it is gone; only the file remains
  twolayer::TwoLayerNet resumed = make_net(dtype, 77);
  torch::load(resumed, dir.file("half.pt"));
  resumed->fit(X, Y, 50, 1.2);
  ExpectSameParameters(resumed, clone_params(uninterrupted));
}

// A manual loop with an optimizer that has state (momentum): the checkpoint must hold the
// optimizer's state too, and with it the resumed run is exact.
TEST_P(Checkpoint, ResumedSgdWithMomentumMatchesUninterrupted) {
  const at::ScalarType dtype = GetParam();
  // Not a structured binding: C++17 does not let the lambda below capture one (clang refuses).
  const auto data = training_data(40, dtype, 5);
  const at::Tensor X = data.first, Y = data.second;
  const auto sgd = torch::optim::SGDOptions(0.3).momentum(0.9);
  auto train = [&](twolayer::TwoLayerNet& net, torch::optim::SGD& optimizer, int steps) {
    for (int i = 0; i < steps; ++i) {
      optimizer.zero_grad();
      net->loss(X, Y).backward();  // the hand-written backward
      optimizer.step();
    }
  };

  twolayer::TwoLayerNet uninterrupted = make_net(dtype, 5);
  torch::optim::SGD uninterrupted_opt(uninterrupted->parameters(), sgd);
  train(uninterrupted, uninterrupted_opt, 100);
  const auto expected = clone_params(uninterrupted);

  TempDir dir;
  {
    twolayer::TwoLayerNet net = make_net(dtype, 5);
    torch::optim::SGD optimizer(net->parameters(), sgd);
    train(net, optimizer, 50);
    torch::save(net, dir.file("net.pt"));
    torch::save(optimizer, dir.file("optimizer.pt"));
  }
  twolayer::TwoLayerNet resumed = make_net(dtype, 66);
  torch::load(resumed, dir.file("net.pt"));
  torch::optim::SGD resumed_opt(resumed->parameters(), sgd);
  torch::load(resumed_opt, dir.file("optimizer.pt"));
  train(resumed, resumed_opt, 50);
  ExpectSameParameters(resumed, expected);

  // Without the optimizer's state the momentum restarts from zero and the run differs: the
  // comparison above is sharp enough to see a lost piece of state.
  twolayer::TwoLayerNet forgetful = make_net(dtype, 66);
  torch::load(forgetful, dir.file("net.pt"));
  torch::optim::SGD fresh_opt(forgetful->parameters(), sgd);
  train(forgetful, fresh_opt, 50);
  EXPECT_FALSE(BitwiseEqual(forgetful->W1, expected.at("W1")));
}

// The prefix starts with "Checkpoint" so that --gtest_filter='Checkpoint*' selects these too.
INSTANTIATE_TEST_SUITE_P(CheckpointDtypes, Checkpoint, ::testing::Values(at::kFloat, at::kDouble),
                         [](const auto& info) {
                           return info.param == at::kDouble ? std::string("f64")
                                                            : std::string("f32");
                         });

TEST(CheckpointErrors, TruncatedFileThrowsC10Error) {
  TempDir dir;
  twolayer::TwoLayerNet net = make_net(at::kDouble, 2);
  torch::save(net, dir.file("net.pt"));
  const std::string bytes = read_bytes(dir.file("net.pt"));
  ASSERT_GT(bytes.size(), 1000u);

  // Every cut: empty, inside the first header, inside the data, inside the trailing directory.
  std::vector<size_t> cuts = {0,
                              1,
                              4,
                              30,
                              64,
                              100,
                              bytes.size() / 4,
                              bytes.size() / 2,
                              bytes.size() - 100,
                              bytes.size() - 22,
                              bytes.size() - 1};
  for (size_t step = 97; step < bytes.size(); step += 97) cuts.push_back(step);
  for (size_t cut : cuts) {
    const std::string path = dir.file("cut_" + std::to_string(cut) + ".pt");
    write_bytes(path, bytes.substr(0, cut));
    const std::string outcome = load_outcome(path);
    EXPECT_EQ(outcome.rfind("c10::Error: ", 0), 0u)
        << "a checkpoint cut to " << cut << " of " << bytes.size() << " bytes: " << outcome;
  }
  // The untouched file still loads: the failures above are the cuts', not the loader's.
  EXPECT_EQ(load_outcome(dir.file("net.pt")), "ok");
}

TEST(CheckpointErrors, FileThatIsNotACheckpointThrowsC10Error) {
  TempDir dir;
  std::map<std::string, std::string> files;
  files["text"] = "W1 = [[0.1, 0.2]]\nthis is not a checkpoint\n";
  std::string noise(4096, '\0');
  uint32_t state = 12345;
  for (char& c : noise) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  files["noise"] = noise;
  files["zip_signature_only"] = std::string("PK\x03\x04", 4) + noise.substr(0, 200);
  files["empty_zip"] = std::string("PK\x05\x06", 4) + std::string(18, '\0');
  for (const auto& [name, bytes] : files) {
    write_bytes(dir.file(name), bytes);
    const std::string outcome = load_outcome(dir.file(name));
    EXPECT_EQ(outcome.rfind("c10::Error: ", 0), 0u) << name << ": " << outcome;
  }
  const std::string missing = load_outcome(dir.file("does_not_exist.pt"));
  EXPECT_EQ(missing.rfind("c10::Error: ", 0), 0u) << missing;
}

// A valid archive of another module is not a TwoLayerNet checkpoint: the error must say which
// parameter is missing.
TEST(CheckpointErrors, CheckpointOfAnotherModuleNamesTheMissingParameter) {
  TempDir dir;
  torch::nn::Linear linear(2, 4);
  torch::save(linear, dir.file("linear.pt"));
  const std::string outcome = load_outcome(dir.file("linear.pt"));
  EXPECT_EQ(outcome.rfind("c10::Error: ", 0), 0u) << outcome;
  EXPECT_NE(outcome.find("W1"), std::string::npos) << outcome;
}

// A checkpoint of a TwoLayerNet of other sizes or another dtype. Disabled because it fails on
// LibTorch 1.13: torch::load (InputArchive::read) does `param.set_(saved)`, which neither checks
// the shape (a (3, 5, 2) checkpoint loads into a (2, 4, 1) net, whose options then disagree with
// its parameters) nor the dtype (a float64 checkpoint's bytes are reinterpreted as float32
// garbage; a float32 checkpoint loaded into a float64 net leaves 8-byte elements on a storage
// half that size, so reads run past its end). Python's load_state_dict refuses the first and
// converts the second. Enable once TwoLayerNet guards its load (reported to the core's owner).
TEST(CheckpointErrors, CheckpointOfAnotherShapeOrDtypeIsRefusedOrConverted) {
  TempDir dir;
  twolayer::TwoLayerNet other_shape(twolayer::TwoLayerNetOptions(3, 5, 2).dtype(at::kDouble));
  torch::save(other_shape, dir.file("other_shape.pt"));
  const std::string outcome = load_outcome(dir.file("other_shape.pt"));
  EXPECT_EQ(outcome.rfind("c10::Error: ", 0), 0u) << outcome;
  EXPECT_NE(outcome.find("W1"), std::string::npos) << outcome;

  for (const auto& [saved_dtype, net_dtype] :
       {std::pair{at::kDouble, at::kFloat}, std::pair{at::kFloat, at::kDouble}}) {
    twolayer::TwoLayerNet saved = make_net(saved_dtype, 2);
    torch::save(saved, dir.file("saved.pt"));
    twolayer::TwoLayerNet net = make_net(net_dtype, 3);
    try {
      torch::load(net, dir.file("saved.pt"));
    } catch (const c10::Error&) {
      continue;  // refusing is fine
    }
    // Loading is fine too, if it converts: the net keeps its dtype and gets the values.
    for (const char* p : kParams) {
      const at::Tensor t = params_of(net).at(p);
      EXPECT_EQ(t.scalar_type(), net_dtype) << p;
      if (t.storage().nbytes() < static_cast<size_t>(t.numel()) * t.element_size()) {
        ADD_FAILURE() << p << ": " << t.numel() << " elements of " << t.element_size()
                      << " bytes on a storage of " << t.storage().nbytes() << " bytes";
        continue;  // reading the values would run past the storage
      }
      EXPECT_TRUE(BitwiseEqual(t, params_of(saved).at(p).to(net_dtype))) << p;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CheckpointCrossLanguage: files shared with Python
// ---------------------------------------------------------------------------------------------

// The text format of tests/python/save_checkpoints.py: "name dtype dims v0 v1 ..." per line,
// values in hexadecimal floating point, dims "d0,d1" or "scalar".
std::map<std::string, at::Tensor> read_values(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::map<std::string, at::Tensor> values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, dtype, dims, token;
    fields >> name >> dtype >> dims;
    std::vector<int64_t> shape;
    if (dims != "scalar") {
      std::istringstream d(dims);
      while (std::getline(d, token, ',')) shape.push_back(std::stoll(token));
    }
    std::vector<double> numbers;
    while (fields >> token) {
      char* end = nullptr;
      numbers.push_back(std::strtod(token.c_str(), &end));
      if (end == token.c_str() || *end != '\0') {
        throw std::runtime_error(path + ": bad number '" + token + "' in " + name);
      }
    }
    at::Tensor t = torch::tensor(numbers, torch::kDouble).reshape(shape);
    values[name] = t.to(dtype == "float32" ? at::kFloat : at::kDouble);
  }
  return values;
}

void write_values(const std::string& path, const std::map<std::string, at::Tensor>& values,
                  const std::string& header) {
  std::ofstream out(path, std::ios::trunc);
  out << "# " << header << "\n" << std::hexfloat;
  for (const auto& [name, tensor] : values) {
    const at::Tensor t = tensor.detach().to(at::kDouble).contiguous();
    out << name << " " << (tensor.scalar_type() == at::kFloat ? "float32" : "float64") << " ";
    if (t.dim() == 0) {
      out << "scalar";
    } else {
      for (int64_t d = 0; d < t.dim(); ++d) out << (d ? "," : "") << t.size(d);
    }
    const double* data = t.data_ptr<double>();
    for (int64_t i = 0; i < t.numel(); ++i) out << " " << data[i];
    out << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

class CheckpointCrossLanguage : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("TWOLAYER_CHECKPOINT_DIR");
    if (dir == nullptr || *dir == '\0') {
      const char* allow = std::getenv("TWOLAYER_ALLOW_MISSING_MODELS");
      if (allow != nullptr && std::string(allow) == "1") {
        GTEST_SKIP() << "TWOLAYER_CHECKPOINT_DIR is not set and TWOLAYER_ALLOW_MISSING_MODELS=1";
      }
      FAIL() << "TWOLAYER_CHECKPOINT_DIR is not set. Run tests/python/save_checkpoints.py <dir> "
                "with a Python that has twolayer installed and set "
                "TWOLAYER_CHECKPOINT_DIR=<dir> (ctest does both when configured with "
                "-DTWOLAYER_PYTHON=...), or set TWOLAYER_ALLOW_MISSING_MODELS=1 to skip the "
                "cross-language tests.";
    }
    dir_ = dir;
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::map<std::string, at::Tensor> python_expected() const {
    const std::string file = path("python_expected.txt");
    if (!std::ifstream(file).good()) {
      ADD_FAILURE() << file << " is missing; run tests/python/save_checkpoints.py " << dir_;
      return {};
    }
    return read_values(file);
  }

  // Trains the checkpointed net HALF more steps in C++ and compares with Python's
  // uninterrupted run: the checkpoint carried everything the training needs.
  void ExpectResumesLikePython(twolayer::TwoLayerNet& net,
                               const std::map<std::string, at::Tensor>& expected) {
    net->fit(expected.at("X"), expected.at("Y"),
             static_cast<int64_t>(expected.at("half_steps").item<double>()),
             expected.at("learning_rate").item<double>());
    for (const char* p : kParams) {
      EXPECT_TRUE(
          EqualToRounding(params_of(net).at(p), expected.at(std::string(p) + "_after_resume")))
          << p
          << ": training resumed in C++ from the Python checkpoint differs from Python's "
             "uninterrupted training";
    }
  }

  std::string dir_;
};

// torch.save(net.state_dict()) in Python: a pickled OrderedDict of tensors in a zip archive,
// which torch::pickle_load reads.
TEST_F(CheckpointCrossLanguage, ReadsPythonStateDictWithPickleLoad) {
  const auto expected = python_expected();
  ASSERT_FALSE(expected.empty());
  const std::string bytes = read_bytes(path("python_state_dict.pt"));
  ASSERT_FALSE(bytes.empty()) << path("python_state_dict.pt") << " is missing or empty";
  const c10::IValue state = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  ASSERT_TRUE(state.isGenericDict()) << state.tagKind();
  const c10::Dict<c10::IValue, c10::IValue> dict = state.toGenericDict();
  // The four parameters, the activation and the output layer, as their names in ASCII.
  EXPECT_EQ(dict.size(), 6u);
  ASSERT_TRUE(dict.contains(std::string("activation_name")));
  EXPECT_TRUE(torch::equal(dict.at(std::string("activation_name")).toTensor(),
                           torch::tensor({'t', 'a', 'n', 'h'}, torch::kUInt8)));
  ASSERT_TRUE(dict.contains(std::string("output_name")));
  EXPECT_TRUE(torch::equal(dict.at(std::string("output_name")).toTensor(),
                           torch::tensor({'s', 'i', 'g', 'm', 'o', 'i', 'd'}, torch::kUInt8)));

  twolayer::TwoLayerNet net = make_net(at::kDouble, 123);
  {
    torch::NoGradGuard no_grad;
    for (const char* p : kParams) {
      ASSERT_TRUE(dict.contains(std::string(p))) << "the state dict has no " << p;
      const at::Tensor t = dict.at(std::string(p)).toTensor();
      EXPECT_TRUE(BitwiseEqual(t, expected.at(p))) << p;
      params_of(net).at(p).copy_(t);
    }
  }
  ExpectResumesLikePython(net, expected);
}

// torch.jit.save(torch.jit.script(net)) in Python: torch::load reads its parameters by name
// straight into the C++ module.
TEST_F(CheckpointCrossLanguage, ReadsPythonScriptedNetWithTorchLoad) {
  const auto expected = python_expected();
  ASSERT_FALSE(expected.empty());
  twolayer::TwoLayerNet net = make_net(at::kDouble, 321);
  torch::load(net, path("python_scripted_net.pt"));
  std::map<std::string, at::Tensor> params;
  for (const char* p : kParams) params[p] = expected.at(p);
  ExpectSameParameters(net, params);
  ExpectResumesLikePython(net, expected);
}

// TwoLayerNet::load makes a net of each Python file: its sizes, dtype and activation from the
// file, its parameters bit for bit, and training resumes from it as from Python's.
TEST_F(CheckpointCrossLanguage, LoadMakesANetOfPythonStateDictAndScriptedNet) {
  const auto expected = python_expected();
  ASSERT_FALSE(expected.empty());
  std::map<std::string, at::Tensor> params;
  for (const char* p : kParams) params[p] = expected.at(p);
  for (const char* file : {"python_state_dict.pt", "python_scripted_net.pt"}) {
    SCOPED_TRACE(file);
    twolayer::TwoLayerNet net = twolayer::TwoLayerNetImpl::load(path(file));
    EXPECT_EQ(net->activation(), "tanh");
    EXPECT_EQ(net->W1.sizes(), expected.at("W1").sizes());
    EXPECT_EQ(net->W2.sizes(), expected.at("W2").sizes());
    ExpectSameParameters(net, params);
    EXPECT_TRUE(net->W1.requires_grad());
    ExpectResumesLikePython(net, expected);
  }
}

// torch.save(net.state_dict()) pickles an OrderedDict, which LibTorch 1.13's unpickler cannot
// rebuild. Either it loads (a LibTorch that can) or the refusal says what to save instead.
TEST_F(CheckpointCrossLanguage, LoadReadsOrExplainsPythonOrderedDictStateDict) {
  const auto expected = python_expected();
  ASSERT_FALSE(expected.empty());
  const std::string file = path("python_state_dict_ordered.pt");
  ASSERT_TRUE(std::ifstream(file).good()) << file << " is missing";
  try {
    twolayer::TwoLayerNet net = twolayer::TwoLayerNetImpl::load(file);
    std::map<std::string, at::Tensor> params;
    for (const char* p : kParams) params[p] = expected.at(p);
    ExpectSameParameters(net, params);
  } catch (const c10::Error& e) {
    EXPECT_EQ(std::string(e.what_without_backtrace()),
              "twolayer: " + file +
                  " holds an OrderedDict (torch.save(net.state_dict())), which LibTorch's pickle "
                  "reader cannot rebuild; save it for C++ as a plain dict, "
                  "torch.save(dict(net.state_dict()), path), or as TorchScript, "
                  "torch.jit.save(torch.jit.script(net), path)");
  }
}

// Writes cpp_net.pt (torch::save) and cpp_expected.txt for tests/python/check_cpp_checkpoint.py.
TEST_F(CheckpointCrossLanguage, WritesCheckpointForPython) {
  constexpr int64_t kHalf = 50;
  constexpr double kLearningRate = 1.2;
  const auto [X, Y] = training_data(40, at::kDouble, 9);
  twolayer::TwoLayerNet net = make_net(at::kDouble, 9);
  net->fit(X, Y, kHalf, kLearningRate);
  torch::save(net, path("cpp_net.pt"));

  std::map<std::string, at::Tensor> values = clone_params(net);
  values["X"] = X;
  values["Y"] = Y;
  values["learning_rate"] = torch::tensor(kLearningRate, torch::kDouble);
  values["half_steps"] = torch::tensor(static_cast<double>(kHalf), torch::kDouble);
  net->fit(X, Y, kHalf, kLearningRate);  // uninterrupted: what Python's resumed run must reach
  for (const char* p : kParams) values[std::string(p) + "_after_resume"] = params_of(net).at(p);
  write_values(path("cpp_expected.txt"), values,
               "written by tests/cpp/test_checkpoint.cpp: TwoLayerNet(2, 4, 1, seed 9, float64), "
               "fit 50 steps then 50 more");

  // The file must at least load back in C++, or the Python check would chase a C++ fault.
  twolayer::TwoLayerNet back = make_net(at::kDouble, 10);
  torch::load(back, path("cpp_net.pt"));
  std::map<std::string, at::Tensor> saved;
  for (const char* p : kParams) saved[p] = values.at(p);
  ExpectSameParameters(back, saved);
}

}  // namespace
