// The neon backend: the kernels on the neon SIMD layer. Compiler flags (CMakeLists.txt): none:
// NEON is part of armv8-a.
#define WSFRAME_ISA neon
#include "simd/neon.hpp"
#include "backends/instantiate.ipp"
