// The cases of the UTF-8 boundary sweeps (test_utf8_sweep, test_connection_sweep): the lengths
// around every block multiple, the valid and invalid endings, and the valid text before them,
// with the reference's verdict (tests/utf8_reference.hpp).
#pragma once

#include <algorithm>
#include <cstring>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_support.hpp"
#include "utf8_reference.hpp"

namespace wsframe::test {

// The lengths swept: every length through four 64-byte blocks and one byte more, every length
// within 4 of a multiple of 16 up to 4 KiB, and 64 KiB +- 4. Under emulation (quick) the
// lengths near a multiple of 16 are those within 1 of it, above 1 KiB only those of 64.
inline std::vector<std::size_t> sweep_lengths() {
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
inline const std::vector<Bytes> valid_endings = {
    bytes({0x41}), bytes({0x7F}), bytes({0xC2, 0x80}), bytes({0xDF, 0xBF}), bytes({0xE0, 0xA0, 0x80}),
    bytes({0xED, 0x9F, 0xBF}), bytes({0xEE, 0x80, 0x80}), bytes({0xEF, 0xBF, 0xBF}),
    bytes({0xF0, 0x90, 0x80, 0x80}), bytes({0xF3, 0xBF, 0xBF, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF}),
};
// Every invalid ending: truncated 2-, 3- and 4-byte sequences, stray continuations, bytes that
// are in no valid text, overlong forms, a surrogate, and above U+10FFFF.
inline const std::vector<Bytes> invalid_endings = {
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

inline std::vector<Ending> all_endings() {
  std::vector<Ending> out;
  for (const Bytes& e : valid_endings) out.push_back({e, 0});
  for (const Bytes& e : invalid_endings)
    for (std::size_t after = 0; after <= 3; ++after) out.push_back({e, after});
  return out;
}

// Valid text to put before an ending: ASCII, or ASCII and then mixed 1- to 4-byte code points in
// the last bytes (so the SIMD kernels take their non-ASCII paths in the last blocks, where the
// input's end is handled). The mixed part is cut at its last code-point boundary that fits.
inline constexpr std::size_t mixed_reach = 320;  // more than the last four 64-byte blocks
struct Filler {
  const char* name;
  Bytes mixed;                                     // empty for ASCII
  std::vector<std::size_t> boundary_at_or_before;  // in `mixed`, per length
};
// The filler whose mixed part is unit(0), unit(1), ... up to mixed_reach bytes.
template <class Unit>
inline Filler make_filler_of(const char* name, const Unit& unit) {
  Filler f{name, {}, {}};
  std::vector<bool> boundary{true};
  for (std::size_t k = 0; f.mixed.size() < mixed_reach; ++k) {
    const Bytes& u = unit(k);
    f.mixed.insert(f.mixed.end(), u.begin(), u.end());
    boundary.resize(f.mixed.size() + 1, false);
    boundary[f.mixed.size()] = true;
  }
  f.boundary_at_or_before.resize(mixed_reach + 1);
  for (std::size_t k = 0, last = 0; k <= mixed_reach; ++k) f.boundary_at_or_before[k] = last = boundary[k] ? k : last;
  return f;
}
inline Filler make_filler(const char* name, bool mixed) {
  if (!mixed) return Filler{name, {}, {}};
  static const Bytes units[] = {bytes({'a'}), bytes({0xC3, 0xA9}), bytes({'b', 'c'}), bytes({0xE2, 0x82, 0xAC}),
                                bytes({0xF0, 0x9F, 0x98, 0x80}), bytes({0xED, 0x9F, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF})};
  return make_filler_of(name, [](std::size_t k) -> const Bytes& { return units[(k * 5 + k / 7) % 7]; });
}

// Runs of 0 to 13 and of 30 code points from `run_units` (cycling), each run ended by one from
// `others`: the scalar backend skips runs of 3- and 4-byte sequences four at a time.
inline Filler make_runs_filler(const char* name, const std::vector<Bytes>& run_units, const std::vector<Bytes>& others) {
  std::vector<Bytes> units;
  std::size_t k = 0;
  for (const std::size_t run : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 30}) {
    for (std::size_t r = 0; r < run; ++r, ++k) units.push_back(run_units[k % run_units.size()]);
    units.push_back(others[run % others.size()]);
  }
  return make_filler_of(name, [units](std::size_t j) -> const Bytes& { return units[j % units.size()]; });
}
// CJK-like: 3-byte sequences whose lead takes any two continuations (E1..EC, EE, EF), second
// bytes on both sides of A0; ended by E0 and ED forms (valid, with a restricted second byte),
// ASCII, 2- and 4-byte.
inline Filler make_cjk_filler() {
  return make_runs_filler("cjk",
                          {bytes({0xE4, 0xB8, 0x80}), bytes({0xE9, 0xBF, 0xBF}), bytes({0xE1, 0x80, 0x80}),
                           bytes({0xEC, 0x9F, 0xBF}), bytes({0xEE, 0x80, 0x80}), bytes({0xEF, 0xBF, 0xBD})},
                          {bytes({0xE0, 0xA0, 0x80}), bytes({0xED, 0x9F, 0xBF}), bytes({'a'}), bytes({0xC3, 0xA9}),
                           bytes({0xF0, 0x9F, 0x98, 0x80})});
}
// Emoji-like: 4-byte sequences of every lead F0..F4, at the edges of planes 1 and 16; ended by
// ASCII, 2- and 3-byte.
inline Filler make_emoji_filler() {
  return make_runs_filler("emoji",
                          {bytes({0xF0, 0x9F, 0x98, 0x80}), bytes({0xF0, 0x90, 0x80, 0x80}), bytes({0xF1, 0x80, 0x80, 0x80}),
                           bytes({0xF3, 0xBF, 0xBF, 0xBF}), bytes({0xF4, 0x8F, 0xBF, 0xBF}), bytes({0xF2, 0xA0, 0x8F, 0x9F})},
                          {bytes({'a'}), bytes({0xC3, 0xA9}), bytes({0xE4, 0xB8, 0x80}), bytes({0xED, 0x9F, 0xBF})});
}

// Writes the filler's m bytes to p.
inline void write_filler(std::byte* p, const Filler& f, std::size_t m) {
  if (f.mixed.empty()) return (void)std::memset(p, 'a', m);
  const std::size_t k = std::min(m, mixed_reach), ascii = m - k, cut = f.boundary_at_or_before[k];
  std::memset(p, 'a', ascii);
  copy_bytes(p + ascii, f.mixed.data(), cut);
  std::memset(p + ascii + cut, 'a', k - cut);
}

// Builds filler(m) + ending into the last n bytes of `buffer` (exact end: AddressSanitizer sees
// any read past it); returns them.
inline std::span<std::byte> build(std::vector<std::byte>& buffer, const Filler& f, std::size_t n, const Ending& e) {
  std::byte* p = buffer.data() + buffer.size() - n;
  const std::size_t m = n - e.bytes.size() - e.after;
  write_filler(p, f, m);
  copy_bytes(p + m, e.bytes.data(), e.bytes.size());
  std::memset(p + m + e.bytes.size(), 'a', e.after);
  return {p, n};
}

// The reference's verdict on filler(m) + tail, from the verdict on the tail alone: the filler
// is valid and ends at a boundary (checked once per length by prefix_is_valid).
inline Utf8Result expected_result(std::size_t m, const Bytes& tail) {
  const Utf8Result r = reference(tail);
  return r.status == Utf8Status::invalid ? Utf8Result{r.status, m + r.offset} : r;
}

inline bool same(Utf8Result a, Utf8Result b) {
  return a.status == b.status && (a.status != Utf8Status::invalid || a.offset == b.offset);
}
inline std::string describe(Utf8Result r) {
  const char* names[] = {"valid", "incomplete", "invalid"};
  return std::string(names[static_cast<int>(r.status)]) + (r.status == Utf8Status::invalid ? " at " + std::to_string(r.offset) : "");
}

// The backends whose UTF-8 kernels differ.
inline std::vector<const Backend*> utf8_backends() {
  return distinct_backends(&Backend::utf8_feed, &Backend::utf8_validate, &Backend::unmask_utf8_validate);
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

inline std::string hex_tail(std::span<const std::byte> t) {
  std::ostringstream os;
  os << "n=" << t.size() << ", last bytes";
  for (std::size_t i = t.size() > 8 ? t.size() - 8 : 0; i < t.size(); ++i) os << ' ' << std::hex << std::to_integer<int>(t[i]);
  return os.str();
}

}  // namespace wsframe::test
