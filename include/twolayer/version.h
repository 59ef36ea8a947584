#pragma once

// Keep in step with project(VERSION) in CMakeLists.txt and version in setup.py.
#define TWOLAYER_VERSION_MAJOR 0
#define TWOLAYER_VERSION_MINOR 1
#define TWOLAYER_VERSION_PATCH 0
