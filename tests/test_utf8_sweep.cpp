// UTF-8 at every block boundary: each backend's one-shot, streaming and fused unmask+validate
// kernels against the test's reference (tests/utf8_reference.hpp), for every length around a
// multiple of the vector widths and every valid and invalid ending there. The SIMD kernels treat
// the last block of an input apart (zero padding, an overlapping vector, an "ends open" check),
// so an input ending exactly at a block multiple, or one byte around it, is where they differ.
#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>
#include <string>

#include "kernel_support.hpp"
#include "utf8_reference.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

// The lengths swept: every length through four 64-byte blocks and one byte more, every length
// within 4 of a multiple of 16 up to 4 KiB, and 64 KiB +- 4. Under emulation (quick) the
// lengths near a multiple of 16 are those within 1 of it, above 1 KiB only those of 64.
std::vector<std::size_t> sweep_lengths() {
  std::set<std::size_t> n;
  for (std::size_t i = 0; i <= 4 * 64 + 1; ++i) n.insert(i);
  const std::size_t reach = quick() ? 1 : 4;
  for (std::size_t m = 16; m <= 4096; m += 16) {
    if (quick() && m > 1024 && m % 64 != 0) continue;
    for (std::size_t i = m - reach; i <= m + reach; ++i) n.insert(i);
  }
  for (std::size_t i = 65536 - reach; i <= 65536 + reach; ++i) n.insert(i);
  return {n.begin(), n.end()};
}

// What ends the text: `bytes`, then `after` ASCII bytes up to the end.
struct Ending {
  Bytes bytes;
  std::size_t after;
};

// Every valid ending: a code point of each length, at the edges of its range, ending at n.
const std::vector<Bytes> valid_endings = {
    bytes({0x41}), bytes({0x7F}), bytes({0xC2, 0x80}), bytes({0xDF, 0xBF}), bytes({0xE0, 0xA0, 0x80}),
    bytes({0xED, 0x9F, 0xBF}), bytes({0xEE, 0x80, 0x80}), bytes({0xEF, 0xBF, 0xBF}),
    bytes({0xF0, 0x90, 0x80, 0x80}), bytes({0xF3, 0xBF, 0xBF, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF}),
};
// Every invalid ending: truncated 2-, 3- and 4-byte sequences, stray continuations, bytes that
// are in no valid text, overlong forms, a surrogate, and above U+10FFFF.
const std::vector<Bytes> invalid_endings = {
    bytes({0xC2}), bytes({0xDF}),                                                        // 2 bytes, truncated
    bytes({0xE1}), bytes({0xE1, 0x80}), bytes({0xE0, 0xA0}), bytes({0xED, 0x9F}),         // 3 bytes, truncated
    bytes({0xF0}), bytes({0xF0, 0x9F}), bytes({0xF0, 0x9F, 0x98}), bytes({0xF4, 0x8F, 0xBF}),  // 4 bytes, truncated
    bytes({0x80}), bytes({0xBF}), bytes({0xC2, 0x80, 0x80}),                             // stray continuation
    bytes({0xC0}), bytes({0xC1}), bytes({0xC0, 0x80}), bytes({0xC1, 0xBF}),                // C0, C1
    bytes({0xF5}), bytes({0xF8, 0x88, 0x80, 0x80}), bytes({0xFE}), bytes({0xFF}),          // F5..FF
    bytes({0xE0, 0x80}), bytes({0xE0, 0x80, 0x80}), bytes({0xF0, 0x80}), bytes({0xF0, 0x80, 0x80, 0x80}),  // overlong
    bytes({0xED, 0xA0}), bytes({0xED, 0xA0, 0x80}),                                      // surrogate
    bytes({0xF4, 0x90}), bytes({0xF4, 0x90, 0x80, 0x80}),                                // above U+10FFFF
};

std::vector<Ending> all_endings() {
  std::vector<Ending> out;
  for (const Bytes& e : valid_endings) out.push_back({e, 0});
  for (const Bytes& e : invalid_endings)
    for (std::size_t after = 0; after <= 3; ++after) out.push_back({e, after});
  return out;
}

// Valid text to put before an ending: ASCII, or ASCII and then mixed 1- to 4-byte code points in
// the last bytes (so the SIMD kernels take their non-ASCII paths in the last blocks, where the
// input's end is handled). The mixed part is cut at its last code-point boundary that fits.
constexpr std::size_t mixed_reach = 320;  // more than the last four 64-byte blocks
struct Filler {
  const char* name;
  Bytes mixed;                                     // empty for ASCII
  std::vector<std::size_t> boundary_at_or_before;  // in `mixed`, per length
};
Filler make_filler(const char* name, bool mixed) {
  Filler f{name, {}, {}};
  if (!mixed) return f;
  const Bytes units[] = {bytes({'a'}), bytes({0xC3, 0xA9}), bytes({'b', 'c'}), bytes({0xE2, 0x82, 0xAC}),
                         bytes({0xF0, 0x9F, 0x98, 0x80}), bytes({0xED, 0x9F, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF})};
  std::vector<bool> boundary{true};
  for (std::size_t k = 0; f.mixed.size() < mixed_reach; ++k) {
    const Bytes& u = units[(k * 5 + k / 7) % 7];
    f.mixed.insert(f.mixed.end(), u.begin(), u.end());
    boundary.resize(f.mixed.size() + 1, false);
    boundary[f.mixed.size()] = true;
  }
  f.boundary_at_or_before.resize(mixed_reach + 1);
  for (std::size_t k = 0, last = 0; k <= mixed_reach; ++k) f.boundary_at_or_before[k] = last = boundary[k] ? k : last;
  return f;
}

// Writes the filler's m bytes to p.
void write_filler(std::byte* p, const Filler& f, std::size_t m) {
  if (f.mixed.empty()) return (void)std::memset(p, 'a', m);
  const std::size_t k = std::min(m, mixed_reach), ascii = m - k, cut = f.boundary_at_or_before[k];
  std::memset(p, 'a', ascii);
  std::memcpy(p + ascii, f.mixed.data(), cut);
  std::memset(p + ascii + cut, 'a', k - cut);
}

// Builds filler(m) + ending into the last n bytes of `buffer` (exact end: AddressSanitizer sees
// any read past it); returns them.
std::span<std::byte> build(std::vector<std::byte>& buffer, const Filler& f, std::size_t n, const Ending& e) {
  std::byte* p = buffer.data() + buffer.size() - n;
  const std::size_t m = n - e.bytes.size() - e.after;
  write_filler(p, f, m);
  std::memcpy(p + m, e.bytes.data(), e.bytes.size());
  std::memset(p + m + e.bytes.size(), 'a', e.after);
  return {p, n};
}

// The reference's verdict on filler(m) + tail, from the verdict on the tail alone: the filler
// is valid and ends at a boundary (checked once per length by prefix_is_valid).
Utf8Result expected_result(std::size_t m, const Bytes& tail) {
  const Utf8Result r = reference(tail);
  return r.status == Utf8Status::invalid ? Utf8Result{r.status, m + r.offset} : r;
}

bool same(Utf8Result a, Utf8Result b) {
  return a.status == b.status && (a.status != Utf8Status::invalid || a.offset == b.offset);
}
std::string describe(Utf8Result r) {
  const char* names[] = {"valid", "incomplete", "invalid"};
  return std::string(names[static_cast<int>(r.status)]) + (r.status == Utf8Status::invalid ? " at " + std::to_string(r.offset) : "");
}

// The distinct UTF-8 kernels of every backend, scalar first (an unpatched table shares them
// with its patched twin: those are run once).
std::vector<const Backend*> utf8_backends() {
  std::vector<const Backend*> out;
  for_each_backend_and_fallback([&](const Backend& b) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const Backend* o) {
      return o->utf8_feed == b.utf8_feed && o->utf8_validate == b.utf8_validate && o->unmask_utf8_validate == b.unmask_utf8_validate;
    });
    if (!seen) out.push_back(&b);
  });
  return out;
}

// Counts cases and mismatches (millions of cases: no CHECK per case) and keeps the first.
struct Tally {
  std::size_t cases = 0, mismatches = 0;
  std::string first;
  template <class Describe>
  void check(bool ok, const Describe& what) {
    ++cases;
    if (ok || mismatches++ != 0) return;
    first = what();
  }
  void require_none() const {
    INFO(cases << " cases; " << mismatches << " mismatches; first: " << first);
    CHECK(cases > 0);
    CHECK(mismatches == 0);
  }
};

std::string hex_tail(std::span<const std::byte> t) {
  std::ostringstream os;
  os << "n=" << t.size() << ", last bytes";
  for (std::size_t i = t.size() > 8 ? t.size() - 8 : 0; i < t.size(); ++i) os << ' ' << std::hex << std::to_integer<int>(t[i]);
  return os.str();
}

constexpr MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

// The paths of one text, each against `want`:
//   one-shot (is_valid_utf8), streaming in one feed (utf8_feed + utf8_finish), streaming split
//   at every point when `split_everywhere`, and the fused unmask+validate at every key phase.
void check_paths(Tally& tally, const Backend& b, std::span<std::byte> text, Utf8Result want, bool split_everywhere,
                 std::vector<std::byte>& scratch) {
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
  // `scratch` (exact end), at every phase.
  const Backend& scalar = scalar_backend();
  for (std::size_t phase = 0; phase < 4; ++phase) {
    const std::span<std::byte> masked(scratch.data() + scratch.size() - text.size(), text.size());
    scalar.mask_copy(text.data(), masked.data(), text.size(), detail::mask_key_word(key, phase));
    std::byte* p = masked.data();
    const bool got = b.unmask_utf8_validate(p, text.size(), detail::mask_key_word(key, phase));
    tally.check(got == valid && std::memcmp(text.data(), p, text.size()) == 0,
                [&] { return std::string(b.name) + " fused, phase " + std::to_string(phase) + ": " + hex_tail(text) + ", want " + describe(want); });
  }
}

}  // namespace

TEST_CASE("utf8 sweep: the fillers are valid text ending at a boundary at every length", "[utf8][sweep]") {
  // The sweeps below take the reference's verdict on the filler as "valid"; this checks it.
  std::vector<std::byte> buffer(65536 + 8);
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true)}) {
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
  std::vector<std::byte> buffer(65536 + 8), scratch(65536 + 8);
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true)}) {
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
        for (std::size_t i = 0; i < backends.size(); ++i) check_paths(tallies[i], *backends[i], text, want, n <= 130, scratch);
      }
    for (const Tally& t : tallies) t.require_none();
  }
}

TEST_CASE("utf8 sweep: an invalid byte at every position of every text up to 130 bytes", "[utf8][sweep]") {
  const auto backends = utf8_backends();
  std::vector<std::byte> buffer(256), scratch(256);
  const int bad_bytes[] = {0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xFF};
  for (const Filler& f : {make_filler("ascii", false), make_filler("mixed", true)}) {
    INFO("filler " << f.name);
    for (const Backend* b : backends) {
      Tally tally;
      for (std::size_t n = 1; n <= 130; ++n)
        for (std::size_t pos = 0; pos < n; ++pos)
          for (int bad : bad_bytes) {
            const std::span<std::byte> text = build(buffer, f, n, {{}, 0});
            text[pos] = static_cast<std::byte>(bad);
            const Utf8Result want = reference(Bytes(text.begin(), text.end()));
            // Split at every point for the bytes that are invalid everywhere; the continuation
            // bytes (valid inside the mixed filler's sequences) once whole.
            check_paths(tally, *b, text, want, bad >= 0xC0 && bad != 0xF5, scratch);
          }
      INFO("backend " << b->name);
      tally.require_none();
    }
  }
}
