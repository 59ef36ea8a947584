// TwoLayerNetImpl::load(path): a runnable net from any of the three files a TwoLayerNet is
// saved as. The Python module reads the same three (python/twolayer/_checkpoint.py), with the
// same messages.

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "math/activation.h"
#include "math/output_layer.h"
#include "net_checkpoint.h"
#include "twolayer/net.h"

namespace twolayer {

namespace {

using Tensors = std::map<std::string, at::Tensor>;

const char* const kParameters[] = {"W1", "b1", "W2", "b2"};

// torch.jit.save and torch::save (which writes a TorchScript module) leave constants.pkl in
// their zip archive; torch.save's state dict is a zip without it (or, before torch 1.6, no zip
// at all).
bool is_torchscript_archive(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.hasRecord("constants.pkl");
  } catch (const c10::Error&) {
    return false;  // not a zip archive: the pickle reader says what it is
  }
}

Tensors read_torchscript(const std::string& path) {
  const torch::jit::Module module = torch::jit::load(path, at::Device(at::kCPU));
  Tensors tensors;
  for (const auto& p : module.named_parameters(/*recurse=*/false)) tensors[p.name] = p.value;
  for (const auto& b : module.named_buffers(/*recurse=*/false)) tensors[b.name] = b.value;
  return tensors;
}

// Whether the pickle of a torch.save zip names collections.OrderedDict.
bool holds_ordered_dict(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const auto record = reader.getRecord("data.pkl");
    const char* data = static_cast<const char*>(std::get<0>(record).get());
    const std::string pickle(data, data + std::get<1>(record));
    return pickle.find("collections\nOrderedDict") != std::string::npos;
  } catch (const c10::Error&) {
    return false;
  }
}

Tensors read_state_dict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in.good(), "twolayer: cannot open ", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  c10::IValue state;
  try {
    state = torch::jit::pickle_load(bytes);
  } catch (const c10::Error&) {
    // LibTorch's unpickler (1.13 at least) cannot rebuild the OrderedDict that state_dict()
    // returns: its _metadata attribute ends in an internal assert. Say what can be read instead.
    TORCH_CHECK(!holds_ordered_dict(path), "twolayer: ", path,
                " holds an OrderedDict (torch.save(net.state_dict())), which LibTorch's pickle "
                "reader cannot rebuild; save it for C++ as a plain dict, "
                "torch.save(dict(net.state_dict()), path), or as TorchScript, "
                "torch.jit.save(torch.jit.script(net), path)");
    throw;
  }
  TORCH_CHECK(state.isGenericDict(), "twolayer: ", path, " holds a ", state.tagKind(),
              ", not the state dict of a TwoLayerNet");
  Tensors tensors;
  for (const auto& item : state.toGenericDict()) {
    TORCH_CHECK(item.key().isString() && item.value().isTensor(), "twolayer: ", path,
                " is not a checkpoint of a TwoLayerNet: it holds ", item.key().tagKind(), " ",
                item.key(), ", which is not a named tensor");
    tensors[item.key().toStringRef()] = item.value().toTensor();
  }
  return tensors;
}

[[noreturn]] void cannot_read(const std::string& path, const std::string& why) {
  TORCH_CHECK(false, "twolayer: cannot read ", path,
              " as a TwoLayerNet checkpoint (a torch::save archive, a TorchScript file or a "
              "state dict saved with torch.save): ",
              why);
  throw std::logic_error("unreachable");  // TORCH_CHECK(false, ...) has thrown
}

Tensors read_tensors(const std::string& path) {
  TORCH_CHECK(std::ifstream(path).good(), "twolayer: no checkpoint file ", path);
  try {
    return is_torchscript_archive(path) ? read_torchscript(path) : read_state_dict(path);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.rfind("twolayer: ", 0) == 0) throw;  // ours already says what is wrong
    cannot_read(path, what);
  } catch (const std::exception& e) {
    // LibTorch's readers throw more than c10::Error for malformed files (std::out_of_range, ...).
    cannot_read(path, e.what());
  }
}

// Checks the file's tensors against what a TwoLayerNet holds, before a net is made of them.
std::string checked_activation(const std::string& path, const Tensors& tensors) {
  for (const char* name : kParameters) {
    TORCH_CHECK(tensors.count(name) == 1, "twolayer: ", path,
                " is not a checkpoint of a TwoLayerNet: it has no ", name);
  }
  for (const auto& [name, tensor] : tensors) {
    const bool known = name == detail::kActivationBuffer || name == detail::kOutputBuffer ||
                       name == "W1" || name == "b1" || name == "W2" || name == "b2";
    TORCH_CHECK(known, "twolayer: ", path, " is not a checkpoint of a TwoLayerNet: it holds ",
                name, ", which a TwoLayerNet has not");
  }
  for (const char* name : {"W1", "W2"}) {
    TORCH_CHECK(tensors.at(name).dim() == 2, "twolayer: the checkpoint's ", name,
                " must be 2-D, but has shape ", tensors.at(name).sizes());
  }
  // Checkpoints written before the activation was saved come from tanh nets, the only ones
  // there were.
  if (tensors.count(detail::kActivationBuffer) == 0) return "tanh";
  const std::string name = detail::activation_from_bytes(tensors.at(detail::kActivationBuffer));
  try {
    parse_activation(name);
  } catch (const c10::Error&) {
    TORCH_CHECK(false, "twolayer: the checkpoint's ", detail::kActivationBuffer,
                " holds bytes that name no activation: the checkpoint is damaged, or was saved "
                "from a net whose buffer was never written");
  }
  return name;
}

// The output layer a checked checkpoint records; sigmoid for one written before it was saved.
std::string checked_output(const Tensors& tensors) {
  if (tensors.count(detail::kOutputBuffer) == 0) return "sigmoid";
  const std::string name = detail::activation_from_bytes(tensors.at(detail::kOutputBuffer));
  try {
    parse_output(name);
  } catch (const c10::Error&) {
    TORCH_CHECK(false, "twolayer: the checkpoint's ", detail::kOutputBuffer,
                " holds bytes that name no output layer: the checkpoint is damaged, or was saved "
                "from a net whose buffer was never written");
  }
  return name;
}

}  // namespace

TwoLayerNet TwoLayerNetImpl::load(const std::string& path) {
  const Tensors tensors = read_tensors(path);
  const std::string activation = checked_activation(path, tensors);
  const std::string output = checked_output(tensors);
  const at::Tensor& W1 = tensors.at("W1");
  // Seeded, so that making the net does not draw from the caller's global generator; the
  // loaded parameters replace the draws, and the seed is dropped so that reset() later draws
  // as for any unseeded net.
  TwoLayerNet net(TwoLayerNetOptions(W1.size(1), W1.size(0), tensors.at("W2").size(0))
                      .activation(activation)
                      .output(output)
                      .dtype(W1.scalar_type())
                      .seed(0));
  net->options.seed(c10::nullopt);
  const auto parameters = net->named_parameters(/*recurse=*/false);
  for (const char* name : kParameters) {
    const at::Tensor& saved = tensors.at(name);
    const at::Tensor& mine = parameters[name];
    TORCH_CHECK(saved.sizes() == mine.sizes(), "twolayer: the checkpoint's ", name,
                " has shape ", saved.sizes(), ", but its W1 and W2 make a TwoLayerNet(n0=",
                W1.size(1), ", n1=", W1.size(0), ", n2=", tensors.at("W2").size(0), "), whose ",
                name, " has shape ", mine.sizes());
  }
  torch::NoGradGuard no_grad;
  for (const char* name : kParameters) parameters[name].copy_(tensors.at(name));
  return net;
}

}  // namespace twolayer
