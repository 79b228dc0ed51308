// SHA-1 with the x86 SHA extensions (kernels/sha_ni/), on the sse42 SIMD layer, for every x86
// backend on a CPU that has them (dispatch.cpp patches them in). Compiler flags
// (CMakeLists.txt): -msha -msse4.2: every CPU with SHA-NI has SSE4.2, and dispatch asks for both.
#include <string_view>

#ifndef WSFRAME_SHANI_LANES
#define WSFRAME_SHANI_LANES 4  // accept_keys: keys hashed interleaved (measured: bench_accept)
#endif

#define WSFRAME_ISA sha_ni
#include "simd/sse42.hpp"
#include "kernels/prelude.hpp"

namespace wsframe::sha_ni {
#include "kernels/common.ipp"
#include "kernels/base64.ipp"
#include "kernels/sha1.ipp"
#include "kernels/sha_ni/sha1.ipp"

constinit const Sha1Kernels kernels{&sha1_shani, &accept_key_shani, &accept_keys_shani};
}  // namespace wsframe::sha_ni
