// SHA-1 with the ARMv8 SHA1 instructions (kernels/arm_sha1/), on the neon SIMD layer, for the
// neon backend on a CPU that has them (dispatch.cpp patches them in). Compiler flags
// (CMakeLists.txt): -march=armv8-a+crypto.
#define WSFRAME_ISA arm_sha1
#include "simd/neon.hpp"
#include "kernels/prelude.hpp"

namespace wsframe::arm_sha1 {
#include "kernels/common.ipp"
#include "kernels/base64.ipp"
#include "kernels/sha1.ipp"
#include "kernels/arm_sha1/sha1.ipp"

constinit const Sha1Kernels kernels{&sha1_arm, &accept_key_arm, &accept_keys_arm};
}  // namespace wsframe::arm_sha1
