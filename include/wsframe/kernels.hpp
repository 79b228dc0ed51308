// wsframe — the byte-level kernels, run on the active backend (see backend.hpp).
//
// Each function has a second overload taking a `const Backend&` first, which runs that backend
// instead of the active one: tests and benchmarks use it to compare backends by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/backend.hpp"

namespace wsframe {

// ---------------------------------------------------------------------------------------------
// Masking (RFC 6455 section 5.3): byte i of the payload is XORed with key[(phase + i) % 4].

// The four masking-key bytes in wire order (the bytes that follow the payload length).
using MaskKey = std::array<std::byte, 4>;

// XOR `data` in place, starting at key byte `phase` (0..3; larger values are taken modulo 4).
// Returns the phase after the last byte, so a payload split over several reads is unmasked by
// feeding each piece with the phase the previous call returned.
std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;
inline std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;

// Masked copy: dst[i] = src[i] ^ key[(phase + i) % 4] for i < min(src.size(), dst.size()).
// dst may alias src exactly (then it is the in-place form); partial overlap is not allowed.
// Returns the phase after the last byte written.
std::size_t mask_copy(std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase = 0) noexcept;
inline std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst,
                             MaskKey key, std::size_t phase = 0) noexcept;

// ---------------------------------------------------------------------------------------------
// Inline definitions: the Backend overloads are on every hot path, so they add no call of
// their own in front of the kernel's.

namespace detail {
// The key as a 32-bit word whose memory image starts at key byte `phase` (little endian).
inline std::uint32_t mask_key_word(MaskKey key, std::size_t phase) noexcept {
  const std::uint32_t word = static_cast<std::uint32_t>(key[0]) | static_cast<std::uint32_t>(key[1]) << 8 |
                             static_cast<std::uint32_t>(key[2]) << 16 | static_cast<std::uint32_t>(key[3]) << 24;
  const unsigned shift = static_cast<unsigned>(phase & 3) * 8;
  return shift == 0 ? word : (word >> shift) | (word << (32 - shift));
}
}  // namespace detail

inline std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  b.mask(data.data(), data.size(), detail::mask_key_word(key, phase));
  return (phase + data.size()) & 3;
}

inline std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                             std::size_t phase) noexcept {
  const std::size_t n = src.size() < dst.size() ? src.size() : dst.size();
  b.mask_copy(src.data(), dst.data(), n, detail::mask_key_word(key, phase));
  return (phase + n) & 3;
}

}  // namespace wsframe
