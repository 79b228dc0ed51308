// UTF-8 at every block boundary: each backend's one-shot, streaming and fused unmask+validate
// kernels against the test's reference (tests/utf8_reference.hpp), for every length around a
// multiple of the vector widths and every valid and invalid ending there. The SIMD kernels treat
// the last block of an input apart (zero padding, an overlapping vector, an "ends open" check),
// so an input ending exactly at a block multiple, or one byte around it, is where they differ.
#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>

#include "kernel_support.hpp"
#include "utf8_sweep.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

// Under emulation (quick) the streaming splits are those within 1 of a multiple of 16 and in
// the last 4 bytes.
bool near_block_edge(std::size_t cut) { return (cut + 1) % 16 <= 2; }

constexpr MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

// The paths of one text, each against `want`:
//   one-shot (is_valid_utf8), streaming in one feed (utf8_feed + utf8_finish), streaming split
//   in two at every point when `split_everywhere`, and the fused unmask+validate at every key
//   phase.
void check_paths(Tally& tally, const Backend& b, std::span<std::byte> text, Utf8Result want, bool split_everywhere,
                 std::vector<std::byte>& scratch, std::vector<std::byte>& copy) {
  const bool valid = want.status == Utf8Status::valid;
  const auto where = [&](const char* path) { return [&, path] { return std::string(b.name) + " " + path + ": " + hex_tail(text) + ", want " + describe(want); }; };
  tally.check(b.utf8_validate(text.data(), text.size()) == valid, where("one-shot"));
  {
    Utf8State st{};
    const Utf8Result r = b.utf8_feed(st, text.data(), text.size());
    tally.check(same(r, want) && utf8_finish(st) == valid, where("one feed"));
  }
  if (split_everywhere) {
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      if (quick() && !near_block_edge(cut) && cut + 4 < text.size()) continue;
      Utf8State st{};
      Utf8Result r = b.utf8_feed(st, text.data(), cut);
      if (r.status != Utf8Status::invalid) {
        r = b.utf8_feed(st, text.data() + cut, text.size() - cut);
        if (r.status == Utf8Status::invalid) r.offset += cut;
      }
      tally.check(same(r, want) && utf8_finish(st) == valid,
                  [&] { return std::string(b.name) + " split at " + std::to_string(cut) + ": " + hex_tail(text) + ", want " + describe(want) + ", got " + describe(r); });
    }
  }
  // Fused: the text masked (by the scalar kernel, tested in test_mask) into the last n bytes of
  // `scratch` (exact end), at every phase; unmasked from there into the last n bytes of `copy`,
  // then in place.
  const Backend& scalar = scalar_backend();
  for (std::size_t phase = 0; phase < 4; ++phase) {
    const std::span<std::byte> masked(scratch.data() + scratch.size() - text.size(), text.size());
    scalar.mask_copy(text.data(), masked.data(), text.size(), detail::mask_key_word(key, phase));
    // Into the last n bytes of `copy` (exact end too), the source left as it is; then in place.
    std::byte* to = copy.data() + copy.size() - text.size();
    const bool copied = b.unmask_utf8_validate(masked.data(), to, text.size(), detail::mask_key_word(key, phase));
    bool source_kept = true;
    for (std::size_t i = 0; i < text.size(); ++i) source_kept &= (masked[i] ^ key[(phase + i) % 4]) == text[i];
    tally.check(copied == valid && same_bytes(text.data(), to, text.size()) && source_kept,
                [&] { return std::string(b.name) + " fused copy, phase " + std::to_string(phase) + ": " + hex_tail(text) + ", want " + describe(want); });
    std::byte* p = masked.data();
    const bool got = b.unmask_utf8_validate(p, p, text.size(), detail::mask_key_word(key, phase));
    tally.check(got == valid && same_bytes(text.data(), p, text.size()),
                [&] { return std::string(b.name) + " fused, phase " + std::to_string(phase) + ": " + hex_tail(text) + ", want " + describe(want); });
  }
}

}  // namespace

TEST_CASE("utf8 sweep: the fillers are valid text ending at a boundary at every length", "[utf8][sweep]") {
  // The sweeps below take the reference's verdict on the filler as "valid"; this checks it.
  std::vector<std::byte> buffer(65536 + 8);
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true), make_cjk_filler(), make_emoji_filler()}) {
    INFO("filler " << f.name);
    std::size_t bad = 0, non_ascii = 0;
    for (std::size_t m = 0; m <= 65536 + 4; m += (m < 4200 ? 1 : 4093)) {
      const std::span<std::byte> text = build(buffer, f, m, {{}, 0});
      bad += reference(Bytes(text.begin(), text.end())).status != Utf8Status::valid;
      non_ascii += std::any_of(text.begin(), text.end(), [](std::byte b) { return b >= std::byte{0x80}; });
    }
    CHECK(bad == 0);
    CHECK((non_ascii > 0) == !f.mixed.empty());
  }
}

TEST_CASE("utf8 sweep: every length near a block multiple, every valid and invalid ending", "[utf8][sweep]") {
  const auto lengths = sweep_lengths();
  const auto endings = all_endings();
  const auto backends = utf8_backends();
  std::vector<std::byte> buffer(65536 + 8), scratch(65536 + 8), copy(65536 + 8);
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true), make_cjk_filler(), make_emoji_filler()}) {
    INFO("filler " << f.name);
    std::vector<Tally> tallies(backends.size());
    for (std::size_t n : lengths)
      for (const Ending& e : endings) {
        if (e.bytes.size() + e.after > n) continue;
        const std::size_t m = n - e.bytes.size() - e.after;
        Bytes tail = e.bytes;
        tail.resize(tail.size() + e.after, std::byte{'a'});
        const Utf8Result want = expected_result(m, tail);
        const std::span<std::byte> text = build(buffer, f, n, e);
        for (std::size_t i = 0; i < backends.size(); ++i) check_paths(tallies[i], *backends[i], text, want, n <= 130, scratch, copy);
      }
    for (const Tally& t : tallies) t.require_none();
  }
}

TEST_CASE("utf8 sweep: an invalid byte at every position of every text up to 130 bytes", "[utf8][sweep]") {
  const auto backends = utf8_backends();
  std::vector<std::byte> buffer(256), scratch(256), copy(256);
  // In the run fillers also ASCII, a lead in place of a continuation and leads with a
  // restricted second byte in place of a lead (a run broken, overlong, a surrogate, above
  // U+10FFFF, or valid), and in the emoji runs second bytes across the F0 and F4 limits.
  const std::vector<int> bad_bytes = {0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xFF}, cjk_bad_bytes = {0x41, 0xE0, 0xED, 0xE4},
                         emoji_bad_bytes = {0x41, 0xF0, 0xF4, 0xE4, 0x8F, 0x90};
  const auto bad_bytes_of = [&](const Filler& f) -> const std::vector<int>& {
    const std::string name = f.name;
    return name == "cjk" ? cjk_bad_bytes : name == "emoji" ? emoji_bad_bytes : bad_bytes;
  };
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true), make_cjk_filler(), make_emoji_filler()}) {
    INFO("filler " << f.name);
    for (const Backend* b : backends) {
      Tally tally;
      for (std::size_t n = 1; n <= 130; ++n)
        for (std::size_t pos = 0; pos < n; ++pos)
          for (int bad : bad_bytes_of(f)) {
            const std::span<std::byte> text = build(buffer, f, n, {{}, 0});
            text[pos] = static_cast<std::byte>(bad);
            const Utf8Result want = reference(Bytes(text.begin(), text.end()));
            // Split at every point for the bytes that are invalid everywhere; the continuation
            // bytes (valid inside the mixed filler's sequences) once whole.
            check_paths(tally, *b, text, want, bad >= 0xC0 && bad != 0xF5, scratch, copy);
          }
      INFO("backend " << b->name);
      tally.require_none();
    }
  }
}

// Long ASCII runs are checked a group of four vectors at a time, and only the first group of a
// run asks whether a sequence is left open before it. So every sequence, valid, truncated or
// invalid, at every position of ASCII texts longer than two groups of the widest vector
// (4 x 64 bytes), with ASCII runs of every length before and after it. Up to 1024 bytes the
// one-shot ASCII pass makes a single test over the whole text, so lengths on both sides of that,
// and one whose last group overlaps the one before it.
namespace {

const std::vector<Bytes>& placed_sequences() {
  static const std::vector<Bytes> sequences = {
      bytes({0xC3, 0xA9}), bytes({0xF0, 0x9F, 0x98, 0x80}),  // valid
      bytes({0xE2, 0x82}), bytes({0xC3}), bytes({0xF0, 0x9F, 0x98}),  // truncated: ASCII follows
      bytes({0x80}), bytes({0xED, 0xA0, 0x80}), bytes({0xF4, 0x90, 0x80, 0x80}),  // invalid
  };
  return sequences;
}

}  // namespace

TEST_CASE("utf8 sweep: a sequence at every position inside long ASCII runs", "[utf8][sweep]") {
  const auto backends = utf8_backends();
  const std::vector<Bytes>& sequences = placed_sequences();
  const Filler ascii = make_filler("ascii", false);
  std::vector<std::byte> buffer(1200), scratch(1200), copy(1200);
  for (const std::size_t n : {std::size_t{1100}, std::size_t{1025}, std::size_t{1024}, std::size_t{1023}, std::size_t{520}}) {
    Tally tally;
    for (const Bytes& seq : sequences)
      for (std::size_t pos = 0; pos + seq.size() <= n; ++pos) {
        const std::span<std::byte> text = build(buffer, ascii, n, {{}, 0});
        std::copy(seq.begin(), seq.end(), text.begin() + static_cast<std::ptrdiff_t>(pos));
        const Utf8Result want = reference(Bytes(text.begin(), text.end()));
        for (const Backend* b : backends) check_paths(tally, *b, text, want, false, scratch, copy);
      }
    INFO("length " << n);
    tally.require_none();
  }
}

// Texts of up to 4 vectors of 32 bytes and a few more are unmasked and checked block by block in
// registers, the last block ending at the end and overlapping the one before it: every
// sequence at every position of every such length, inside that overlap and at its edges.
TEST_CASE("utf8 sweep: a sequence at every position of every text up to 130 bytes", "[utf8][sweep]") {
  const auto backends = utf8_backends();
  const Filler ascii = make_filler("ascii", false);
  std::vector<std::byte> buffer(256), scratch(256), copy(256);
  Tally tally;
  for (std::size_t n = 1; n <= 130; ++n)
    for (const Bytes& seq : placed_sequences())
      for (std::size_t pos = 0; pos + seq.size() <= n; ++pos) {
        const std::span<std::byte> text = build(buffer, ascii, n, {{}, 0});
        std::copy(seq.begin(), seq.end(), text.begin() + static_cast<std::ptrdiff_t>(pos));
        const Utf8Result want = reference(Bytes(text.begin(), text.end()));
        for (const Backend* b : backends) check_paths(tally, *b, text, want, false, scratch, copy);
      }
  tally.require_none();
}
