// The scalar backend. Compiler flags (CMakeLists.txt): none: the x86-64 / armv8-a baseline.
#define WSFRAME_ISA scalar
#include "backends/instantiate.ipp"
