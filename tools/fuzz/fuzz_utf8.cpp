// Differential UTF-8 validation (RFC 3629): every backend against scalar and against a byte-wise
// reference written from the Unicode well-formed byte table, one shot and streamed in random
// pieces (the fail-fast offset of the first impossible byte must not depend on the cuts, nor on
// the alignment; input at the end of an exact allocation).
#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::ExactBuffer;
using wsframe::fuzz::fail;

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Unicode 15, table 3-7. Returns the offset of the first byte no valid text can have there, or
// npos; `incomplete` says whether the bytes end inside a sequence.
std::size_t reference_first_invalid(std::span<const std::byte> s, bool& incomplete) {
  incomplete = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    unsigned need, lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) need = 2, lo = 0xA0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
    else if (b == 0xED) need = 2, hi = 0x9F;
    else if (b == 0xF0) need = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) need = 3, hi = 0x8F;
    else return i;
    for (unsigned k = 1; k <= need; ++k) {
      if (i + k >= s.size()) {
        incomplete = true;
        return npos;
      }
      const auto c = static_cast<unsigned>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return i + k;
    }
    i += need + 1;
  }
  return npos;
}

// Streams `text` through utf8_feed in the given pieces; returns the global offset of the first
// invalid byte or npos, and whether the end is complete.
std::size_t streamed_first_invalid(const Backend& b, std::span<const std::byte> text, const std::vector<std::size_t>& pieces,
                                   bool& complete) {
  Utf8State state{};
  std::size_t at = 0, invalid_at = npos;
  for (const std::size_t n : pieces) {
    ExactBuffer piece(at % 64, text.subspan(at, n));
    const Utf8Result r = utf8_feed(b, state, piece.span());
    if (r.status == Utf8Status::invalid && invalid_at == npos) {
      if (r.offset >= n) fail("invalid offset outside the piece", b.name);
      invalid_at = at + r.offset;
    } else if (invalid_at != npos && (r.status != Utf8Status::invalid || r.offset != 0)) {
      fail("the state did not stay invalid", b.name);
    }
    at += n;
  }
  complete = utf8_finish(state);
  return invalid_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> text(reinterpret_cast<const std::byte*>(data), size);
  bool incomplete = false;
  const std::size_t want = reference_first_invalid(text, incomplete);
  const bool valid = want == npos && !incomplete;
  const auto pieces = wsframe::fuzz::Splitter(static_cast<std::uint16_t>(size * 31 + (size ? data[0] : 0))).piece_sizes(size);

  for (const Backend* backend : wsframe::fuzz::runnable_backends()) {
    const Backend& b = *backend;
    for (std::size_t offset : {0u, 1u, 31u}) {
      ExactBuffer buf(offset, text);
      if (is_valid_utf8(b, buf.span()) != valid) fail("is_valid_utf8 disagrees with the reference", b.name);
      Utf8State state{};
      const Utf8Result r = utf8_feed(b, state, buf.span());
      const std::size_t got = r.status == Utf8Status::invalid ? r.offset : npos;
      if (got != want) fail("first invalid offset (one shot) differs from the reference", b.name);
      if (r.status == Utf8Status::incomplete) {
        if (!incomplete) fail("incomplete, the reference says not", b.name);
      } else if (r.status == Utf8Status::valid && (incomplete || !utf8_finish(state))) {
        fail("valid, but the reference says the text ends inside a sequence", b.name);
      }
    }
    bool complete = false;
    if (streamed_first_invalid(b, text, pieces, complete) != want) fail("first invalid offset (streamed) differs", b.name);
    if (want == npos && complete != !incomplete) fail("streamed end state differs from the reference", b.name);
  }
  return 0;
}
