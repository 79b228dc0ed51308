// The avx2 backend: the kernels on the avx2 SIMD layer. Compiler flags (CMakeLists.txt): -mavx2 -mbmi -mbmi2 -mpopcnt.
#define WSFRAME_ISA avx2
#include "simd/avx2.hpp"
#include "backends/instantiate.ipp"
