// Raw DEFLATE streams (RFC 1951, no zlib header: RFC 7692 7.2) over zlib, for the connection's
// permessage-deflate. Internal; built as no-op stubs that always fail when zlib is absent
// (deflate_available() is then false and no connection ever gets a DeflateParameters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace wsframe::detail {

// What one call did.
struct ZStep {
  std::size_t consumed = 0;  // input bytes taken
  std::size_t produced = 0;  // output bytes written
  bool output_full = false;  // the output ran out: call again (zlib may hold more)
  bool stream_end = false;   // inflate: a block with BFINAL set ended the stream
  bool block_boundary = false;  // inflate: the input ended right after a block (not inside one)
  bool failed = false;       // invalid data (inflate) or an internal error
};

class ZStream;  // a z_stream on the heap: zlib's state points back at it, so it must not move

class Inflater {
 public:
  Inflater() noexcept;
  ~Inflater();
  Inflater(Inflater&&) noexcept;
  Inflater& operator=(Inflater&&) noexcept;

  bool ready() const noexcept { return stream_ != nullptr; }
  // Always with the largest window (32 KiB), whatever window the peer agreed to; false when
  // memory runs out (the inflater then stays not ready).
  bool init() noexcept;
  ZStep run(const std::byte* in, std::size_t n, std::byte* out, std::size_t room) noexcept;
  // Starts a new stream after a block with BFINAL set, keeping the last 32 KiB as
  // its history (RFC 7692 7.2.3.4: data may follow such a block). false when memory runs out.
  bool restart() noexcept;

 private:
  std::unique_ptr<ZStream> stream_;
};

class Deflater {
 public:
  Deflater() noexcept;
  ~Deflater();
  Deflater(Deflater&&) noexcept;
  Deflater& operator=(Deflater&&) noexcept;

  bool ready() const noexcept { return stream_ != nullptr; }
  bool init(int level, int window_bits, int mem_level) noexcept;
  // Nonzero, and equal for two sets of arguments exactly when init() gives compressors that
  // write the same bytes for the same input (the values as init() adjusts them).
  static std::uint32_t settings_key(int level, int window_bits, int mem_level) noexcept;
  // The most bytes compress() can write for n input bytes, its flush included.
  std::size_t bound(std::size_t n) const noexcept;
  // Compresses all of `in` and ends with a sync flush (RFC 7692 7.2.1: the output then ends
  // with the empty stored block 00 00 FF FF). `room` must be at least bound(n).
  ZStep compress(const std::byte* in, std::size_t n, std::byte* out, std::size_t room) noexcept;
  void reset() noexcept;  // no context takeover: the next message starts with an empty window

 private:
  std::unique_ptr<ZStream> stream_;
};

}  // namespace wsframe::detail
