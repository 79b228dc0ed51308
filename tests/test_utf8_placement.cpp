// UTF-8 in short texts at every start alignment: the one-shot kernels check ASCII first, with
// overlapping words (up to 16 bytes) or vectors loaded from both ends of the text (up to four
// vectors; with masked loads one or two for up to 128 bytes), before any rule check. So every
// length 0..260 (past four 64-byte blocks), every start 0..63 bytes into a cache line, and
// every valid, truncated and invalid sequence at every position of an ASCII text (beyond 129
// bytes, every position near a block edge or an end), and the text all ASCII, each backend
// against the reference (tests/utf8_reference.hpp) and the scalar backend. Each text ends where
// its allocation ends: AddressSanitizer sees any read past it.
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "kernel_support.hpp"
#include "utf8_sweep.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

// A buffer of exactly `start + n` bytes, 64-byte aligned: the text at start is its end.
struct PlacedText {
  std::size_t start, n;
  std::byte* base;
  PlacedText(std::size_t start_, std::size_t n_)
      : start(start_), n(n_), base(static_cast<std::byte*>(::operator new(start_ + n_, std::align_val_t{64}))) {}
  ~PlacedText() { ::operator delete(base, std::align_val_t{64}); }
  PlacedText(const PlacedText&) = delete;
  PlacedText& operator=(const PlacedText&) = delete;
  std::byte* text() const { return base + start; }
};

// The multi-byte sequences placed: valid ones of each length, and every invalid ending of the
// boundary sweep (truncated, stray continuations, C0/C1/F5..FF, overlong, surrogate, too large).
std::vector<Bytes> placed_sequences() {
  std::vector<Bytes> out;
  for (const Bytes& e : valid_endings)
    if (e.size() > 1) out.push_back(e);
  out.insert(out.end(), invalid_endings.begin(), invalid_endings.end());
  return out;
}

// The starts swept: all of 0..63, under emulation (quick) those next to each 8- and 16-byte step.
bool start_swept(std::size_t start) { return !quick() || start % 8 <= 1 || start % 16 == 15; }

// The longest text placed: past four 64-byte blocks (one group of the ASCII pass) and 4 bytes.
constexpr std::size_t longest = 4 * 64 + 4;
// The positions of a sequence swept: all up to two 64-byte blocks and one byte; beyond, those
// within 4 bytes of a 64-byte block edge or of either end of the text (where the kernels split
// their work), which keeps the sweep to seconds.
bool position_swept(std::size_t n, std::size_t pos, std::size_t width) {
  if (n <= 2 * 64 + 1) return true;
  const std::size_t in_block = pos % 64, end = pos + width;
  return in_block <= 4 || in_block + width + 4 >= 64 || pos <= 4 || end + 4 >= n;
}

}  // namespace

TEST_CASE("utf8 placement: every length to 260 at every start, a sequence at every position", "[utf8][sweep]") {
  const auto backends = utf8_backends();
  const Backend& scalar = scalar_backend();
  const std::vector<Bytes> sequences = placed_sequences();
  std::vector<Tally> tallies(backends.size());
  Bytes copy;
  for (std::size_t n = 0; n <= longest; ++n)
    for (std::size_t start = 0; start < 64; ++start) {
      if (!start_swept(start)) continue;
      PlacedText placed(start, n);
      std::byte* p = placed.text();
      // seq == sequences.size(): the text all ASCII.
      for (std::size_t seq = 0; seq <= sequences.size(); ++seq) {
        const Bytes* s = seq < sequences.size() ? &sequences[seq] : nullptr;
        const std::size_t width = s != nullptr ? s->size() : 0;
        if (width > n) continue;
        for (std::size_t pos = 0; pos + width <= n; ++pos) {
          if (s != nullptr && !position_swept(n, pos, width)) continue;
          if (n != 0) std::memset(p, 'a' + static_cast<int>((n + pos) % 26), n);
          if (s != nullptr) std::memcpy(p + pos, s->data(), width);
          copy.assign(p, p + n);
          const Utf8Result want = reference(copy);
          const bool valid = want.status == Utf8Status::valid;
          const auto where = [&](const Backend& b, const char* path) {
            return [&, path] {
              return std::string(b.name) + " " + path + ": length " + std::to_string(n) + ", start " + std::to_string(start) +
                     ", " + hex_tail({p, n}) + ", want " + describe(want);
            };
          };
          // The scalar backend against the reference, then every backend against both.
          Utf8State scalar_state{};
          const Utf8Result scalar_result = scalar.utf8_feed(scalar_state, p, n);
          tallies[0].check(same(scalar_result, want), where(scalar, "scalar feed"));
          for (std::size_t i = 0; i < backends.size(); ++i) {
            const Backend& b = *backends[i];
            tallies[i].check(b.utf8_validate(p, n) == valid, where(b, "one-shot"));
            Utf8State st{};
            const Utf8Result r = b.utf8_feed(st, p, n);
            tallies[i].check(same(r, want) && same(r, scalar_result) && utf8_finish(st) == valid, where(b, "one feed"));
          }
          if (s == nullptr) break;  // the all-ASCII text has no positions
        }
      }
    }
  for (std::size_t i = 0; i < backends.size(); ++i) {
    INFO("backend " << backends[i]->name);
    tallies[i].require_none();
  }
}
