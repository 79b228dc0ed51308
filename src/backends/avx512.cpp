// The avx512 backend. Compiler flags (CMakeLists.txt): -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mbmi -mbmi2 -mpopcnt.
#define WSFRAME_ISA avx512
#define WSFRAME_ARCH xsimd::avx512bw
#include "backends/instantiate.ipp"
