// Headers every backend translation unit needs, included *outside* any namespace (after the
// backend's SIMD layer, src/simd/<isa>.hpp), before the kernel sources (*.ipp) are included
// *inside* the backend's own namespace.
//
// Why the .ipp files are included inside a namespace: each backend TU is compiled with its own
// -m flags. If two TUs emitted the same inline function or template instantiation under one
// name, the linker would keep one of them, and a helper compiled with -mavx512bw could end up
// in the scalar path: SIGILL on an older CPU. Everything a kernel defines therefore lives in
// wsframe::<isa> (the SIMD layer in wsframe::<isa>::simd), and each TU instantiates xsimd only
// with its own arch.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "kernels/extensions.hpp"
#include "utf8_state.hpp"
#include "wsframe/backend.hpp"
#include "wsframe/frame.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "wsframe supports little-endian targets only (x86-64, aarch64)"
#endif
