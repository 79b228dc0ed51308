// Instantiates every kernel on one SIMD layer and fills the backend's table. A backend TU
// defines WSFRAME_ISA (the namespace and backend name: scalar, sse42, avx2, avx512, neon),
// includes its layer, src/simd/<isa>.hpp, and then this file; CMakeLists.txt compiles it with
// the ISA's -m flags. Adding a backend means writing one SIMD header and one such TU.
#include "kernels/prelude.hpp"

#define WSFRAME_STRINGIFY_(x) #x
#define WSFRAME_STRINGIFY(x) WSFRAME_STRINGIFY_(x)

namespace wsframe::WSFRAME_ISA {
#include "kernels/common.ipp"
#include "kernels/mask.ipp"
#include "kernels/utf8.ipp"
#include "kernels/base64.ipp"
#include "kernels/sha1.ipp"
#include "kernels/header.ipp"

// Constant-initialised: no code of this TU runs before dispatch has checked the CPU.
extern const Backend backend;
constexpr Backend backend{
    .name = WSFRAME_STRINGIFY(WSFRAME_ISA),
    .mask = &mask,
    .mask_copy = &mask_copy,
    .utf8_feed = &utf8_feed,
    .utf8_validate = &utf8_validate,
    .unmask_utf8_validate = &unmask_utf8_validate,
    .base64_encode = &base64_encode,
    .base64_decode = &base64_decode,
    .sha1 = &sha1,
    .accept_key = &accept_key,
    .accept_keys = &accept_keys,
    .decode_header = &decode_header,
};
}  // namespace wsframe::WSFRAME_ISA
