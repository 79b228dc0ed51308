// The avx512 backend and its avx512vbmi variant: the kernels on the avx512 SIMD layer, and for
// avx512vbmi base64 on AVX-512 VBMI (kernels/avx512vbmi/). Compiler flags (CMakeLists.txt):
// -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mbmi -mbmi2 -mpopcnt; the VBMI kernels
// carry their own target attribute, and only CPUs with VBMI get the avx512vbmi table
// (dispatch.cpp).
#define WSFRAME_ISA avx512
#include "simd/avx512.hpp"
#include "backends/instantiate.ipp"

namespace wsframe::avx512 {
#include "kernels/avx512vbmi/base64.ipp"

// Derived from `backend`, so that it has every kernel the plain table has.
extern const Backend backend_vbmi;
constinit const Backend backend_vbmi = [] {
  Backend b = backend;
  b.name = "avx512vbmi";
  b.base64_encode = &base64_encode_vbmi;
  b.base64_decode = &base64_decode_vbmi;
  return b;
}();
}  // namespace wsframe::avx512
