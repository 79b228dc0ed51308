// wsframe — the byte-level kernels, run on the active backend (see backend.hpp).
//
// Each function has a second overload taking a `const Backend&` first, which runs that backend
// instead of the active one: tests and benchmarks use it to compare backends by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wsframe {

struct Backend;

// ---------------------------------------------------------------------------------------------
// Masking (RFC 6455 section 5.3): byte i of the payload is XORed with key[(phase + i) % 4].

// The four masking-key bytes in wire order (the bytes that follow the payload length).
using MaskKey = std::array<std::byte, 4>;

// XOR `data` in place, starting at key byte `phase` (0..3; larger values are taken modulo 4).
// Returns the phase after the last byte, so a payload split over several reads is unmasked by
// feeding each piece with the phase the previous call returned.
std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;
std::size_t mask(const Backend& b, std::span<std::byte> data, MaskKey key, std::size_t phase = 0) noexcept;

// Masked copy: dst[i] = src[i] ^ key[(phase + i) % 4] for i < min(src.size(), dst.size()).
// dst may alias src exactly (then it is the in-place form); partial overlap is not allowed.
// Returns the phase after the last byte written.
std::size_t mask_copy(std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase = 0) noexcept;
std::size_t mask_copy(const Backend& b, std::span<const std::byte> src, std::span<std::byte> dst,
                      MaskKey key, std::size_t phase = 0) noexcept;

}  // namespace wsframe
