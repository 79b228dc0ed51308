// permessage-deflate's compression streams (src/zlib_stream.hpp) on zlib, and
// deflate_available(). Baseline flags: zlib does its own CPU work.
#include "zlib_stream.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "wsframe/deflate.hpp"

#ifdef WSFRAME_HAVE_ZLIB
#include <zlib.h>
#endif

namespace wsframe {

bool deflate_available() noexcept {
#ifdef WSFRAME_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

namespace detail {

#ifdef WSFRAME_HAVE_ZLIB

namespace {
// zlib allocates through operator new, so that it is bounded and counted like the rest of the
// connection's memory (and an allocation failure is an error, never an exception).
voidpf zlib_alloc(voidpf, uInt items, uInt size) noexcept {
  if (size != 0 && items > SIZE_MAX / size) return Z_NULL;
  return ::operator new(static_cast<std::size_t>(items) * size, std::nothrow);
}
void zlib_free(voidpf, voidpf p) noexcept { ::operator delete(p); }

// zlib counts in uInt; larger spans are handed over in pieces.
constexpr std::size_t max_zlib_span = 1u << 30;

struct DeflaterSettings {
  int level, window_bits, mem_level;
};

// The settings a compressor is made with, in zlib's ranges.
DeflaterSettings adjusted(int level, int window_bits, int mem_level) noexcept {
  // zlib (since 1.2.9) refuses an 8-bit window for raw deflate; a 9-bit one is safe where 8 was
  // agreed, because zlib never emits a distance beyond window - 262 = 250 bytes (MAX_DIST), which
  // a 256-byte window holds.
  return {std::clamp(level, 0, 9), std::clamp(window_bits, 9, 15), std::clamp(mem_level, 1, 9)};
}
}  // namespace

class ZStream {
 public:
  explicit ZStream(bool deflating) noexcept : deflating_(deflating) {
    z.zalloc = zlib_alloc;
    z.zfree = zlib_free;
    z.opaque = Z_NULL;
  }
  ~ZStream() {
    if (!initialised) return;
    if (deflating_)
      deflateEnd(&z);
    else
      inflateEnd(&z);
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;

  z_stream z{};
  bool initialised = false;

 private:
  bool deflating_;
};

Inflater::Inflater() noexcept = default;
Inflater::~Inflater() = default;
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&&) noexcept = default;

bool Inflater::init() noexcept {
  auto s = std::unique_ptr<ZStream>(new (std::nothrow) ZStream(false));
  if (!s) return false;
  // Negative window bits: raw DEFLATE, no zlib header or checksum (RFC 7692 7.2.2). Always 15,
  // whatever the peer's agreed window: zlib checks a match's distance against a smaller window
  // only when the match reaches back before the current call, so a peer overstepping its window
  // would be accepted or refused depending on how its bytes happened to be cut. With 15 bits
  // every valid DEFLATE distance is accepted alike.
  if (inflateInit2(&s->z, -15) != Z_OK) return false;
  s->initialised = true;
  stream_ = std::move(s);
  return true;
}

ZStep Inflater::run(const std::byte* in, std::size_t n, std::byte* out, std::size_t room) noexcept {
  z_stream& z = stream_->z;
  const auto in_n = static_cast<uInt>(std::min(n, max_zlib_span));
  const auto out_n = static_cast<uInt>(std::min(room, max_zlib_span));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in));  // zlib does not write to it
  z.avail_in = in_n;
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = out_n;
  const int r = inflate(&z, Z_SYNC_FLUSH);
  ZStep step;
  step.consumed = in_n - z.avail_in;
  step.produced = out_n - z.avail_out;
  step.output_full = z.avail_out == 0;
  step.stream_end = r == Z_STREAM_END;
  step.block_boundary = (z.data_type & 128) != 0;  // zlib: stopped just after an end of block
  step.failed = r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR;  // Z_BUF_ERROR: no progress possible
  return step;
}

bool Inflater::restart() noexcept {
  z_stream& z = stream_->z;
  unsigned char window[1u << 15];
  uInt kept = 0;
  if (inflateGetDictionary(&z, window, &kept) != Z_OK) kept = 0;
  if (inflateReset(&z) != Z_OK) return false;
  // A raw inflater takes a dictionary right after a reset: the window the peer still refers to.
  return kept == 0 || inflateSetDictionary(&z, window, kept) == Z_OK;
}

Deflater::Deflater() noexcept = default;
Deflater::~Deflater() = default;
Deflater::Deflater(Deflater&&) noexcept = default;
Deflater& Deflater::operator=(Deflater&&) noexcept = default;

bool Deflater::init(int level, int window_bits, int mem_level) noexcept {
  auto s = std::unique_ptr<ZStream>(new (std::nothrow) ZStream(true));
  if (!s) return false;
  const DeflaterSettings z = adjusted(level, window_bits, mem_level);
  if (deflateInit2(&s->z, z.level, Z_DEFLATED, -z.window_bits, z.mem_level, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  s->initialised = true;
  stream_ = std::move(s);
  return true;
}

std::uint32_t Deflater::settings_key(int level, int window_bits, int mem_level) noexcept {
  const DeflaterSettings z = adjusted(level, window_bits, mem_level);  // Z_DEFAULT_STRATEGY always
  return 1u << 24 | static_cast<std::uint32_t>(z.level) << 16 | static_cast<std::uint32_t>(z.window_bits) << 8 |
         static_cast<std::uint32_t>(z.mem_level);
}

std::size_t Deflater::bound(std::size_t n) const noexcept {
  // deflateBound covers the blocks; a sync flush adds at most an empty stored block (the 3
  // header bits, alignment and 4 bytes), and a split over max_zlib_span pieces one per piece.
  const std::size_t pieces = n / max_zlib_span + 1;
  return deflateBound(&stream_->z, n) + 8 * pieces;
}

ZStep Deflater::compress(const std::byte* in, std::size_t n, std::byte* out, std::size_t room) noexcept {
  z_stream& z = stream_->z;
  ZStep step;
  for (;;) {
    const std::size_t in_n = std::min(n - step.consumed, max_zlib_span);
    const std::size_t out_n = std::min(room - step.produced, max_zlib_span);
    const bool last = step.consumed + in_n == n;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in + step.consumed));
    z.avail_in = static_cast<uInt>(in_n);
    z.next_out = reinterpret_cast<Bytef*>(out + step.produced);
    z.avail_out = static_cast<uInt>(out_n);
    const int r = deflate(&z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    step.consumed += in_n - z.avail_in;
    step.produced += out_n - z.avail_out;
    // Z_BUF_ERROR: nothing to do (an empty message right after a flush).
    if (r != Z_OK && r != Z_BUF_ERROR) return step.failed = true, step;
    if (z.avail_out == 0) {  // out of room: bound() was not respected
      step.output_full = true;
      return step;
    }
    if (last && z.avail_in == 0) return step;
  }
}

void Deflater::reset() noexcept { deflateReset(&stream_->z); }

#else  // no zlib: nothing can be agreed, so nothing here is reached; all of it fails safely

class ZStream {};
Inflater::Inflater() noexcept = default;
Inflater::~Inflater() = default;
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&&) noexcept = default;
bool Inflater::init() noexcept { return false; }
ZStep Inflater::run(const std::byte*, std::size_t, std::byte*, std::size_t) noexcept { return {.failed = true}; }
bool Inflater::restart() noexcept { return false; }
Deflater::Deflater() noexcept = default;
Deflater::~Deflater() = default;
Deflater::Deflater(Deflater&&) noexcept = default;
Deflater& Deflater::operator=(Deflater&&) noexcept = default;
bool Deflater::init(int, int, int) noexcept { return false; }
std::uint32_t Deflater::settings_key(int, int, int) noexcept { return 0; }

std::size_t Deflater::bound(std::size_t n) const noexcept { return n; }
ZStep Deflater::compress(const std::byte*, std::size_t, std::byte*, std::size_t) noexcept { return {.failed = true}; }
void Deflater::reset() noexcept {}

#endif

}  // namespace detail
}  // namespace wsframe
