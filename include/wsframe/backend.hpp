// wsframe — runtime CPU dispatch (DESIGN.md section 2).
//
// Every kernel exists once per instruction set ("backend"). The best backend this CPU and OS
// support is chosen once, on first use; WSFRAME_BACKEND=<name> in the environment or
// use_backend(name) override it. Every compiled-in backend stays callable by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wsframe/error.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {

struct FrameHeader;   // frame.hpp
struct HeaderResult;  // frame.hpp

// The kernel table of one instruction set. Kernels take raw pointers and lengths; the
// span-based functions in kernels.hpp check arguments and call them.
struct Backend {
  std::string_view name;  // "scalar", "sse42", "avx2", "avx512", "neon"

  // XOR n bytes with the 4-byte pattern `key_word` repeated (its memory image is the key
  // already rotated to the starting phase). mask_copy: src may equal dst, no partial overlap.
  void (*mask)(std::byte* p, std::size_t n, std::uint32_t key_word) noexcept;
  void (*mask_copy)(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept;

  // Validates n more bytes of a UTF-8 text from `state` (see utf8_feed in kernels.hpp).
  Utf8Result (*utf8_feed)(Utf8State& state, const std::byte* p, std::size_t n) noexcept;

  // Decodes one frame header from the n bytes at p without reading past them (frame.hpp).
  HeaderResult (*decode_header)(const std::byte* p, std::size_t n, FrameHeader& header) noexcept;
};

// One compiled-in backend and whether this machine can run it.
struct BackendInfo {
  const Backend* backend;
  bool supported;               // this CPU and OS can run it
  std::string_view requirement; // what it needs, e.g. "AVX-512 F+BW+VL and OS ZMM state"
};

// All backends compiled into this build, slowest first (scalar is always first and supported).
std::span<const BackendInfo> backends() noexcept;

// The backend of that name, or nullptr if none is compiled in. Does not check support.
const Backend* find_backend(std::string_view name) noexcept;

// True when this CPU and OS can run `b`.
bool supported(const Backend& b) noexcept;

// The backend every call without an explicit Backend uses. Chosen on first use: the
// WSFRAME_BACKEND environment variable if it names a supported backend (otherwise one line on
// stderr says why it was ignored), else the fastest supported one. Thread-safe.
const Backend& active() noexcept;

// Makes `name` the active backend. Unknown or unsupported names change nothing and return
// Error::unknown_backend / Error::unsupported_backend. Thread-safe; calls already running on the
// previous backend finish on it.
Error use_backend(std::string_view name) noexcept;

}  // namespace wsframe
