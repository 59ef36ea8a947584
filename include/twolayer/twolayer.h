#pragma once

// Everything a LibTorch application needs from twolayer:
//   twolayer::loss / twolayer::forward       the operators (ops.h)
//   twolayer::TwoLayerFunction               the hand-written backward (two_layer_function.h)
//   twolayer::TwoLayerNet                     the parameters as a torch::nn::Module (net.h)

#include "twolayer/net.h"
#include "twolayer/ops.h"
#include "twolayer/two_layer_function.h"
