// The layer operations that xsimd 8.1 has, written once over the layer's byte batch. Included by
// each src/simd/<isa>.hpp after it has defined `bytes` (xsimd::batch<std::uint8_t, arch>) and
// `u8v` (its register type, which the batch converts to and from).
#pragma once

#include <cstdint>

namespace wsframe::WSFRAME_ISA::simd {

// Unaligned loads and stores.
inline u8v load(const void* p) noexcept { return bytes::load_unaligned(static_cast<const std::uint8_t*>(p)); }
inline void store(void* p, u8v v) noexcept { bytes(v).store_unaligned(static_cast<std::uint8_t*>(p)); }

// Every byte b.
inline u8v splat(std::uint8_t b) noexcept { return bytes(b); }

// Bitwise and arithmetic, per byte (wrapping).
inline u8v bit_and(u8v a, u8v b) noexcept { return bytes(a) & bytes(b); }
inline u8v bit_or(u8v a, u8v b) noexcept { return bytes(a) | bytes(b); }
inline u8v bit_xor(u8v a, u8v b) noexcept { return bytes(a) ^ bytes(b); }
inline u8v add(u8v a, u8v b) noexcept { return bytes(a) + bytes(b); }
inline u8v sub(u8v a, u8v b) noexcept { return bytes(a) - bytes(b); }

}  // namespace wsframe::WSFRAME_ISA::simd
