#pragma once

// Symbols of libtwolayer that applications call directly.
#if defined(_WIN32)
#if defined(TWOLAYER_BUILDING_LIBRARY)
#define TWOLAYER_API __declspec(dllexport)
#else
#define TWOLAYER_API __declspec(dllimport)
#endif
#else
#define TWOLAYER_API __attribute__((visibility("default")))
#endif
