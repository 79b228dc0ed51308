// The avx2 backend. Compiler flags (CMakeLists.txt): -mavx2 -mbmi -mbmi2 -mpopcnt.
#define WSFRAME_ISA avx2
#define WSFRAME_ARCH xsimd::avx2
#include "backends/instantiate.ipp"
