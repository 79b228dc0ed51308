// The scalar backend: the kernels without vectors (src/simd/scalar.hpp). Compiler flags
// (CMakeLists.txt): none: the x86-64 / armv8-a baseline.
#define WSFRAME_ISA scalar
#include "simd/scalar.hpp"
#include "backends/instantiate.ipp"
