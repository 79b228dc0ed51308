// wsframe — runtime CPU dispatch: the kernel table of one backend, and choosing among them.
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
#include "wsframe/types.hpp"

namespace wsframe {

struct FrameHeader;   // frame.hpp
struct HeaderResult;  // frame.hpp

// The kernel table of one instruction set. Kernels take raw pointers and lengths; the
// span-based functions in kernels.hpp check arguments and call them.
struct Backend {
  std::string_view name;  // "scalar", "sse42", "avx2", "avx512", "avx512vbmi", "neon"

  // XOR n bytes with the 4-byte pattern `key_word` repeated (its memory image is the key
  // already rotated to the starting phase). mask_copy: src may equal dst, no partial overlap.
  void (*mask)(std::byte* p, std::size_t n, std::uint32_t key_word) noexcept;
  void (*mask_copy)(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept;

  // Validates n more bytes of a UTF-8 text from `state` (see utf8_feed in kernels.hpp).
  Utf8Result (*utf8_feed)(Utf8State& state, const std::byte* p, std::size_t n) noexcept;
  // One shot: true when the n bytes are a complete, valid UTF-8 text (see is_valid_utf8).
  bool (*utf8_validate)(const std::byte* p, std::size_t n) noexcept;
  // mask_copy(src, dst, n, key_word), then utf8_validate(dst, n), in one pass where the ISA
  // allows (the receive path's text frames). src may equal dst, no partial overlap. The bytes are
  // unmasked into dst whatever the verdict.
  bool (*unmask_utf8_validate)(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept;

  // Base64 with padding; `out` holds base64_encoded_size(n) chars. Returns the chars written.
  std::size_t (*base64_encode)(const std::byte* in, std::size_t n, char* out) noexcept;
  // Strict base64 decoding of n chars, n a multiple of 4, into `out`, which holds the decoded
  // bytes (3 * n / 4 minus the padding). Sets *written on ok (0 on error).
  Base64Status (*base64_decode)(const char* in, std::size_t n, std::byte* out, std::size_t* written) noexcept;

  // SHA-1 of n bytes into out[0..19].
  void (*sha1)(const std::byte* p, std::size_t n, std::byte* out) noexcept;
  // The 28-char Sec-WebSocket-Accept value of a key of n chars into out[0..27].
  void (*accept_key)(const char* key, std::size_t n, char* out) noexcept;
  // accept_key for count keys; out holds 28 * count chars (key i's accept at out + 28 * i).
  void (*accept_keys)(const std::string_view* keys, std::size_t count, char* out) noexcept;
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
