// SHA-1 with the x86 SHA extensions, for every x86 backend on a CPU that has them (dispatch.cpp
// patches them in). Compiler flags (CMakeLists.txt): -msha -msse4.1 -mssse3.
#include <string_view>

#include "kernels/prelude.hpp"

#ifndef WSFRAME_SHANI_LANES
#define WSFRAME_SHANI_LANES 4  // accept_keys: keys hashed interleaved (measured: bench_accept)
#endif

namespace wsframe::sha_ni {
#include "kernels/common.ipp"
#include "kernels/base64.ipp"
#include "kernels/sha1.ipp"
#include "kernels/sha1_x86.ipp"

constinit const Sha1Kernels kernels{&sha1_shani, &accept_key_shani, &accept_keys_shani};
}  // namespace wsframe::sha_ni
