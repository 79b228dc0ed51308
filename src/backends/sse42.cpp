// The sse42 backend: the kernels on the sse42 SIMD layer. Compiler flags (CMakeLists.txt): -msse4.2 -mpopcnt.
#define WSFRAME_ISA sse42
#include "simd/sse42.hpp"
#include "backends/instantiate.ipp"
