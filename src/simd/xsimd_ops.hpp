// The layer operations that xsimd 8.1 has, written once over the layer's byte batch (loads and
// stores stay intrinsics in each layer: through xsimd's load path GCC allocates the sse42
// kernels' registers worse, 1-3% more instructions in the UTF-8 and base64 loops). Included by
// the x86 layers (src/simd/{sse42,avx2,avx512}.hpp) after they have defined `bytes`
// (xsimd::batch<std::uint8_t, arch>) and `u8v` (the register type, which the batch converts to
// and from). The neon layer keeps intrinsics for these (see there).
#pragma once

#include <cstdint>

namespace wsframe::WSFRAME_ISA::simd {

// Every byte b.
inline u8v splat(std::uint8_t b) noexcept { return bytes(b); }

// Bitwise and arithmetic, per byte (wrapping).
inline u8v bit_and(u8v a, u8v b) noexcept { return bytes(a) & bytes(b); }
inline u8v bit_or(u8v a, u8v b) noexcept { return bytes(a) | bytes(b); }
inline u8v bit_xor(u8v a, u8v b) noexcept { return bytes(a) ^ bytes(b); }
inline u8v add(u8v a, u8v b) noexcept { return bytes(a) + bytes(b); }
inline u8v sub(u8v a, u8v b) noexcept { return bytes(a) - bytes(b); }

}  // namespace wsframe::WSFRAME_ISA::simd
