// The sse42 backend. Compiler flags (CMakeLists.txt): -msse4.2 -mpopcnt.
#define WSFRAME_ISA sse42
#define WSFRAME_ARCH xsimd::sse4_2
#include "backends/instantiate.ipp"
