// The code wsframe is compared with, each built in a TU of its own with the flags its name says
// (bench/CMakeLists.txt). Out of line on purpose: a benchmark times one call of each.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "wsframe/kernels.hpp"

#define WSFRAME_BENCH_EXPORT __attribute__((visibility("default")))

namespace wsframe::bench {

// boost::beast::websocket::detail::mask_inplace, with the library's default flags.
void beast_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept;
// The same Beast code compiled with -O3 -march=native (in its own shared library, so the
// linker cannot merge its inline Beast functions with the default-flags copy).
WSFRAME_BENCH_EXPORT void beast_native_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept;
// One plain XOR pass with a constant at the widest vector width this machine has: the
// ceiling for in-place masking (-O3 -march=native).
WSFRAME_BENCH_EXPORT void xor_pass(std::byte* p, std::size_t n) noexcept;
// p[i] ^= key[i & 3], compiled without vectorisation: the naive baseline.
void bytes_loop_mask(std::byte* p, std::size_t n, MaskKey key) noexcept;

// boost::beast::websocket::detail::check_utf8 (one-shot utf8_checker), default flags.
bool beast_check_utf8(const std::byte* p, std::size_t n) noexcept;

// Beast's permessage-deflate echo (its zlib port): a client and a server websocket::stream
// connected in memory, no sockets.
class BeastDeflateEcho {
 public:
  // Both ends negotiate permessage-deflate at zlib `level` (memLevel 8, no threshold).
  BeastDeflateEcho(int level, bool no_context_takeover);
  ~BeastDeflateEcho();
  bool ok() const { return ok_; }
  // One round trip of a text message: the client writes it, the server reads it and writes it
  // back, the client reads it. false on any error.
  bool echo(std::string_view message);
  std::size_t wire_bytes() const;  // written by both ends since the handshake

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool ok_ = false;
};

// Beast's server receive path (frame parsing, unmasking, UTF-8 check, reassembly, automatic
// pongs) over an in-memory beast::test::stream: no sockets. load() makes a fresh handshaken
// stream whose input is a copy of the bytes (untimed); read_all() reads every message of it.
class BeastReceiver {
 public:
  BeastReceiver();
  ~BeastReceiver();
  bool load(const std::byte* p, std::size_t n);
  std::size_t read_all();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsframe::bench
