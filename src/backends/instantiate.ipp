// Instantiates every kernel for one instruction set. A backend TU defines
//   WSFRAME_ISA       the namespace and backend name (scalar, sse42, avx2, avx512, neon; avx512
//                     also defines avx512vbmi)
//   WSFRAME_ARCH      the xsimd architecture (SIMD backends only; also defines WSFRAME_ARCH_SIMD)
// and includes this file; CMakeLists.txt compiles it with the ISA's -m flags.
#if defined(WSFRAME_ARCH)
#define WSFRAME_ARCH_SIMD 1
#endif
#include "kernels/prelude.hpp"

#define WSFRAME_STRINGIFY_(x) #x
#define WSFRAME_STRINGIFY(x) WSFRAME_STRINGIFY_(x)

namespace wsframe::WSFRAME_ISA {
#if defined(WSFRAME_ARCH_SIMD)
using arch = WSFRAME_ARCH;
#endif
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

#if defined(__AVX512BW__)
// The avx512vbmi backend: the same kernels with base64 on AVX-512 VBMI (vpermb), for CPUs that
// have it. Derived from `backend`, so that it has every kernel the plain table has.
extern const Backend backend_vbmi;
constinit const Backend backend_vbmi = [] {
  Backend b = backend;
  b.name = WSFRAME_STRINGIFY(WSFRAME_ISA) "vbmi";
  b.base64_encode = &base64_encode_vbmi;
  b.base64_decode = &base64_decode_vbmi;
  return b;
}();
#endif
}  // namespace wsframe::WSFRAME_ISA
