// The neon backend. Compiler flags (CMakeLists.txt): none: NEON is part of armv8-a.
#define WSFRAME_ISA neon
#define WSFRAME_ARCH xsimd::neon64
#include "backends/instantiate.ipp"
