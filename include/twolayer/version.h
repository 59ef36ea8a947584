#pragma once

// The version of version.txt at the repository root, which CMake and setup.py read: both
// refuse to build when these numbers disagree with it.
#define TWOLAYER_VERSION_MAJOR 0
#define TWOLAYER_VERSION_MINOR 1
#define TWOLAYER_VERSION_PATCH 0
