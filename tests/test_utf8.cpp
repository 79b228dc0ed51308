// UTF-8 validation (RFC 3629, RFC 6455 section 8.1): every backend against the scalar oracle and
// against an independent reference written here from the RFC's grammar; one-shot and streaming,
// with fail-fast offsets.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <sstream>

#include "support.hpp"
#include "utf8_reference.hpp"

using namespace wsframe;

using test::Bytes;
using test::bytes;
using test::reference;

namespace {

// A second, arithmetic view of validity for complete sequences: the bytes are the shortest
// encoding of a Unicode scalar value (not a surrogate, at most U+10FFFF).
Bytes encode(std::uint32_t cp) {
  if (cp < 0x80) return bytes({int(cp)});
  if (cp < 0x800) return bytes({int(0xC0 | cp >> 6), int(0x80 | (cp & 0x3F))});
  if (cp < 0x10000) return bytes({int(0xE0 | cp >> 12), int(0x80 | (cp >> 6 & 0x3F)), int(0x80 | (cp & 0x3F))});
  return bytes({int(0xF0 | cp >> 18), int(0x80 | (cp >> 12 & 0x3F)), int(0x80 | (cp >> 6 & 0x3F)), int(0x80 | (cp & 0x3F))});
}
bool is_one_scalar_value(const Bytes& seq) {
  const int lead = std::to_integer<int>(seq[0]);
  const std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (length != seq.size()) return false;
  std::uint32_t cp = length == 1 ? lead : static_cast<std::uint32_t>(lead & (0x7F >> length));
  for (std::size_t k = 1; k < length; ++k) {
    const int b = std::to_integer<int>(seq[k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = cp << 6 | (b & 0x3F);
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  return encode(cp) == seq;  // not overlong
}

// --- helpers --------------------------------------------------------------------------------
struct Outcome {
  Utf8Result result;
  bool finished;  // utf8_finish afterwards
  bool one_shot;  // is_valid_utf8 on the same bytes (the backend's one-shot kernel)
};
bool operator==(const Outcome& a, const Outcome& b) {
  return a.result.status == b.result.status && a.finished == b.finished && a.one_shot == b.one_shot &&
         (a.result.status != Utf8Status::invalid || a.result.offset == b.result.offset);
}
std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  const char* names[] = {"valid", "incomplete", "invalid"};
  os << names[static_cast<int>(o.result.status)];
  if (o.result.status == Utf8Status::invalid) os << " at " << o.result.offset;
  return os << (o.finished ? " (finished)" : "") << (o.one_shot ? " (one-shot valid)" : " (one-shot invalid)");
}
std::string hex(const Bytes& v, std::size_t limit = 64) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
    std::snprintf(buf, sizeof buf, "%02X ", std::to_integer<int>(v[i]));
    s += buf;
  }
  return v.size() > limit ? s + "..." : s;
}

Outcome run(const Backend& b, std::span<const std::byte> text) {
  Utf8State st{};
  const Utf8Result r = utf8_feed(b, st, text);
  return {r, utf8_finish(st), is_valid_utf8(b, text)};
}
Outcome expected(const Bytes& text) {
  const Utf8Result r = reference(text);
  return {r, r.status == Utf8Status::valid, r.status == Utf8Status::valid};
}

// Every supported backend, scalar included.
std::vector<const Backend*> all_backends() {
  std::vector<const Backend*> out;
  for (const BackendInfo& info : backends())
    if (info.supported) out.push_back(info.backend);
  return out;
}

// Counts disagreements with the reference without a CHECK per case (millions of cases), and
// reports the first one.
struct Tally {
  std::size_t cases = 0, mismatches = 0;
  std::string first;
  void compare(const Backend& b, const Bytes& text, const Outcome& want) {
    ++cases;
    const Outcome got = run(b, text);
    if (got == want) return;
    if (mismatches++ == 0) {
      std::ostringstream os;
      os << b.name << " on " << hex(text) << ": got " << got << ", want " << want;
      first = os.str();
    }
  }
  void require_none() const {
    INFO(cases << " cases; first mismatch: " << first);
    CHECK(mismatches == 0);
  }
};

// Random valid text; `widths` lists the UTF-8 lengths to draw from (1..4).
Bytes random_text(std::size_t min_bytes, std::initializer_list<int> widths) {
  auto& g = test::rng();
  const std::vector<int> w(widths);
  Bytes out;
  while (out.size() < min_bytes) {
    std::uint32_t cp = 0;
    switch (w[g() % w.size()]) {
      case 1: cp = g() % 0x80; break;
      case 2: cp = 0x80 + g() % (0x800 - 0x80); break;
      case 3:
        do cp = 0x800 + g() % (0x10000 - 0x800);
        while (cp >= 0xD800 && cp <= 0xDFFF);
        break;
      default: cp = 0x10000 + g() % (0x110000 - 0x10000); break;
    }
    const Bytes e = encode(cp);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

}  // namespace

// Validity by decoding: split at the lengths the lead bytes announce, and check each piece
// arithmetically. Used to test the reference, which the backends are then tested against.
bool valid_by_decoding(const Bytes& text) {
  for (std::size_t i = 0; i < text.size();) {
    const int lead = std::to_integer<int>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    if (!is_one_scalar_value(Bytes(text.begin() + i, text.begin() + i + length))) return false;
    i += length;
  }
  return true;
}

TEST_CASE("utf8: the test's reference agrees with decoding", "[utf8]") {
  std::size_t cases = 0, disagreements = 0;
  for (std::uint32_t v = 0; v < (1u << 24); v += test::quick() ? 101 : 7) {
    for (std::size_t length = 1; length <= 3; ++length) {
      const Bytes text = length == 1   ? bytes({int(v & 0xFF)})
                         : length == 2 ? bytes({int(v >> 8 & 0xFF), int(v & 0xFF)})
                                       : bytes({int(v >> 16), int(v >> 8 & 0xFF), int(v & 0xFF)});
      ++cases;
      if ((reference(text).status == Utf8Status::valid) != valid_by_decoding(text)) ++disagreements;
    }
  }
  INFO(cases << " cases");
  CHECK(disagreements == 0);
  for (std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu})
    CHECK(reference(encode(cp)).status == Utf8Status::valid);
}

TEST_CASE("utf8: every short sequence, every backend, against the reference", "[utf8]") {
  const auto all = all_backends();
  SECTION("every 1- and 2-byte sequence") {
    Tally tally;
    for (int a = 0; a < 256; ++a) {
      const Bytes one = bytes({a});
      for (const Backend* b : all) tally.compare(*b, one, expected(one));
      for (int c = 0; c < 256; ++c) {
        const Bytes two = bytes({a, c});
        for (const Backend* b : all) tally.compare(*b, two, expected(two));
      }
    }
    tally.require_none();
  }
  SECTION("every 3-byte sequence") {
    // Exhaustive; under emulation every 13th third byte (all lead/second pairs still).
    Tally tally;
    for (int a = 0; a < 256; ++a)
      for (int c = 0; c < 256; ++c)
        for (int d = 0; d < 256; d += test::quick() ? 13 : 1) {
          const Bytes three = bytes({a, c, d});
          const Outcome want = expected(three);
          for (const Backend* b : all) tally.compare(*b, three, want);
        }
    tally.require_none();
  }
  SECTION("every 4-byte lead and second byte, with valid and invalid 3rd and 4th bytes") {
    Tally tally;
    const int tails[][2] = {{0x80, 0x80}, {0xBF, 0xBF}, {0x9F, 0xA0}, {0x7F, 0x80}, {0x80, 0x7F},
                            {0xC0, 0x80}, {0x80, 0xC0}, {0xBF, 0xF4}, {0x80, 0x20}};
    for (int a = 0; a < 256; ++a)
      for (int c = 0; c < 256; ++c)
        for (const auto& t : tails) {
          const Bytes four = bytes({a, c, t[0], t[1]});
          const Outcome want = expected(four);
          for (const Backend* b : all) tally.compare(*b, four, want);
        }
    tally.require_none();
  }
}

TEST_CASE("utf8: Markus Kuhn's UTF-8 decoder stress cases", "[utf8]") {
  // Expected per RFC 3629 (Kuhn's file predates the U+10FFFF limit: F7 BF BF BF is invalid here).
  // offset: the first impossible byte for invalid cases.
  struct Case {
    const char* name;
    Bytes text;
    Utf8Status status;
    std::size_t offset;
  };
  using S = Utf8Status;
  const Case cases[] = {
      {"1 kosme", bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5}), S::valid, 0},
      {"2.1.1 U+0000", bytes({0x00}), S::valid, 0},
      {"2.1.2 U+0080", bytes({0xC2, 0x80}), S::valid, 0},
      {"2.1.3 U+0800", bytes({0xE0, 0xA0, 0x80}), S::valid, 0},
      {"2.1.4 U+10000", bytes({0xF0, 0x90, 0x80, 0x80}), S::valid, 0},
      {"2.1.5 five bytes", bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), S::invalid, 0},
      {"2.1.6 six bytes", bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}), S::invalid, 0},
      {"2.2.1 U+007F", bytes({0x7F}), S::valid, 0},
      {"2.2.2 U+07FF", bytes({0xDF, 0xBF}), S::valid, 0},
      {"2.2.3 U+FFFF", bytes({0xEF, 0xBF, 0xBF}), S::valid, 0},
      {"2.2.4 F7 BF BF BF (above U+10FFFF)", bytes({0xF7, 0xBF, 0xBF, 0xBF}), S::invalid, 0},
      {"2.3.1 U+D7FF", bytes({0xED, 0x9F, 0xBF}), S::valid, 0},
      {"2.3.2 U+E000", bytes({0xEE, 0x80, 0x80}), S::valid, 0},
      {"2.3.3 U+FFFD", bytes({0xEF, 0xBF, 0xBD}), S::valid, 0},
      {"2.3.4 U+10FFFF", bytes({0xF4, 0x8F, 0xBF, 0xBF}), S::valid, 0},
      {"2.3.5 U+110000", bytes({0xF4, 0x90, 0x80, 0x80}), S::invalid, 1},
      {"3.1.1 first continuation byte", bytes({0x80}), S::invalid, 0},
      {"3.1.2 last continuation byte", bytes({0xBF}), S::invalid, 0},
      {"3.1.3 two continuation bytes", bytes({0x80, 0xBF}), S::invalid, 0},
      {"3.1 continuation after a complete character", bytes({0x41, 0xC3, 0xA9, 0x80}), S::invalid, 3},
      {"3.2.1 lonely 2-byte start followed by space", bytes({0xC2, 0x20}), S::invalid, 1},
      {"3.2.2 lonely 3-byte start followed by space", bytes({0xE1, 0x20}), S::invalid, 1},
      {"3.2.3 lonely 4-byte start followed by space", bytes({0xF1, 0x20}), S::invalid, 1},
      {"3.2.4 F8 followed by space", bytes({0xF8, 0x20}), S::invalid, 0},
      {"3.3.1 2-byte sequence without its last byte (C0)", bytes({0xC0}), S::invalid, 0},
      {"3.3.2 3-byte sequence without its last byte (E0 80)", bytes({0xE0, 0x80}), S::invalid, 1},
      {"3.3.6 DF at the end", bytes({0x41, 0xDF}), S::incomplete, 0},
      {"3.3.7 EF BF at the end", bytes({0x41, 0xEF, 0xBF}), S::incomplete, 0},
      {"3.3.8 F3 BF BF at the end", bytes({0xF3, 0xBF, 0xBF}), S::incomplete, 0},
      {"3.3.8 F7 BF BF (never valid)", bytes({0xF7, 0xBF, 0xBF}), S::invalid, 0},
      {"3.4 truncated sequences in a row", bytes({0xC2, 0xE1, 0x80}), S::invalid, 1},
      {"3.5.1 FE", bytes({0xFE}), S::invalid, 0},
      {"3.5.2 FF", bytes({0xFF}), S::invalid, 0},
      {"3.5.3 FE FE FF FF", bytes({0xFE, 0xFE, 0xFF, 0xFF}), S::invalid, 0},
      {"4.1.1 overlong / as C0 AF", bytes({0xC0, 0xAF}), S::invalid, 0},
      {"4.1.2 overlong / as E0 80 AF", bytes({0xE0, 0x80, 0xAF}), S::invalid, 1},
      {"4.1.3 overlong / as F0 80 80 AF", bytes({0xF0, 0x80, 0x80, 0xAF}), S::invalid, 1},
      {"4.1.4 overlong / in 5 bytes", bytes({0xF8, 0x80, 0x80, 0x80, 0xAF}), S::invalid, 0},
      {"4.2.1 largest overlong 2-byte C1 BF", bytes({0xC1, 0xBF}), S::invalid, 0},
      {"4.2.2 largest overlong 3-byte E0 9F BF", bytes({0xE0, 0x9F, 0xBF}), S::invalid, 1},
      {"4.2.3 largest overlong 4-byte F0 8F BF BF", bytes({0xF0, 0x8F, 0xBF, 0xBF}), S::invalid, 1},
      {"4.3.1 overlong NUL C0 80", bytes({0xC0, 0x80}), S::invalid, 0},
      {"4.3.2 overlong NUL E0 80 80", bytes({0xE0, 0x80, 0x80}), S::invalid, 1},
      {"4.3.3 overlong NUL F0 80 80 80", bytes({0xF0, 0x80, 0x80, 0x80}), S::invalid, 1},
      {"5.1.1 U+D800", bytes({0xED, 0xA0, 0x80}), S::invalid, 1},
      {"5.1.3 U+DB80", bytes({0xED, 0xAE, 0x80}), S::invalid, 1},
      {"5.1.5 U+DC00", bytes({0xED, 0xB0, 0x80}), S::invalid, 1},
      {"5.1.7 U+DFFF", bytes({0xED, 0xBF, 0xBF}), S::invalid, 1},
      {"5.2.1 paired surrogates U+D800 U+DC00", bytes({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), S::invalid, 1},
      {"5.3.1 noncharacter U+FFFE is valid UTF-8", bytes({0xEF, 0xBF, 0xBE}), S::valid, 0},
      {"5.3.4 noncharacter U+10FFFE is valid UTF-8", bytes({0xF4, 0x8F, 0xBF, 0xBE}), S::valid, 0},
      {"Autobahn 6.3.1: error after valid text", bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64}), S::invalid, 12},
  };
  for (const Case& c : cases) {
    INFO(c.name << ": " << hex(c.text));
    const Outcome want{{c.status, c.offset}, c.status == Utf8Status::valid, c.status == Utf8Status::valid};
    CHECK(expected(c.text) == want);  // the reference agrees with the table
    for (const Backend* b : all_backends()) {
      INFO("backend " << b->name);
      CHECK(run(*b, c.text) == want);
      // Embedded after a long ASCII prefix (in the vector body) the offset moves with it.
      Bytes padded(200, std::byte{'a'});
      padded.insert(padded.end(), c.text.begin(), c.text.end());
      const Outcome in_body = run(*b, padded);
      CHECK(in_body.result.status == c.status);
      if (c.status == Utf8Status::invalid) CHECK(in_body.result.offset == 200 + c.offset);
    }
  }
  SECTION("3.2.1 all 32 lonely 2-byte starts, each followed by a space") {
    Bytes text;
    for (int lead = 0xC0; lead <= 0xDF; ++lead) text.insert(text.end(), {std::byte(lead), std::byte{0x20}});
    for (const Backend* b : all_backends()) CHECK(run(*b, text) == Outcome{{Utf8Status::invalid, 0}, false, false});
    text.erase(text.begin(), text.begin() + 4);  // from C2 on, fail fast at the space
    for (const Backend* b : all_backends()) CHECK(run(*b, text) == Outcome{{Utf8Status::invalid, 1}, false, false});
  }
  SECTION("3.1.9 all 64 continuation bytes in a row") {
    Bytes text;
    for (int c = 0x80; c <= 0xBF; ++c) text.push_back(std::byte(c));
    for (const Backend* b : all_backends()) CHECK(run(*b, text) == Outcome{{Utf8Status::invalid, 0}, false, false});
  }
}

TEST_CASE("utf8: one corrupted byte in random valid text, at every position", "[utf8]") {
  // Fail-fast offsets must agree with the scalar oracle and the reference wherever the error
  // falls relative to the vector blocks.
  const auto all = all_backends();
  Tally tally;
  const int replacements[] = {0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0x41, 0x00};
  for (int round = 0; round < (test::quick() ? 2 : 8); ++round) {
    const Bytes text = random_text(300, {1, 2, 3, 4});
    for (const Backend* b : all) tally.compare(*b, text, expected(text));
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
      for (int r : replacements) {
        Bytes bad = text;
        bad[pos] = static_cast<std::byte>(r);
        const Outcome want = expected(bad);
        for (const Backend* b : all) tally.compare(*b, bad, want);
      }
      Bytes bad = text;
      bad[pos] = static_cast<std::byte>(test::rng()() & 0xFF);
      const Outcome want = expected(bad);
      for (const Backend* b : all) tally.compare(*b, bad, want);
    }
  }
  tally.require_none();
}

TEST_CASE("utf8: lengths and alignments, every backend against scalar", "[utf8]") {
  const Backend& scalar = test::scalar_backend();
  const std::size_t max_length = test::quick() ? 700 : 4200;
  const std::size_t step = test::quick() ? 13 : 1;
  const std::initializer_list<int> mixes[] = {{1}, {1, 2}, {3}, {4}, {1, 2, 3, 4}};
  std::size_t mix = 0;
  test::for_each_simd_backend([&](const Backend& b) {
    std::size_t mismatches = 0, invalid_seen = 0;
    std::string first;
    for (std::size_t n = 0; n <= max_length; n += step) {
      const Bytes text = random_text(n, mixes[mix++ % 5]);
      const std::size_t align = n % 64;
      // Exact-size heap buffers: a read past the end is caught by AddressSanitizer.
      Bytes buffer(align + text.size());
      std::copy(text.begin(), text.end(), buffer.begin() + static_cast<std::ptrdiff_t>(align));
      const std::span<const std::byte> view(buffer.data() + align, text.size());
      Bytes corrupted = buffer;
      if (!text.empty()) corrupted[align + test::rng()() % text.size()] = static_cast<std::byte>(test::rng()() & 0xFF);
      const std::span<const std::byte> bad_view(corrupted.data() + align, text.size());
      for (auto v : {view, bad_view}) {
        const Outcome want = run(scalar, v);
        invalid_seen += want.result.status == Utf8Status::invalid;
        if (!(run(b, v) == want) && mismatches++ == 0) {
          std::ostringstream os;
          os << "n=" << n << " align=" << align << ": got " << run(b, v) << ", want " << want;
          first = os.str();
        }
      }
    }
    INFO("first mismatch: " << first);
    CHECK(mismatches == 0);
    CHECK(invalid_seen > 0);
  });
}

TEST_CASE("utf8: streaming, a text split anywhere is judged as the whole", "[utf8]") {
  const auto all = all_backends();
  // Feeds the pieces in order; returns the outcome with the offset made absolute.
  auto feed_pieces = [](const Backend& b, const Bytes& text, std::initializer_list<std::size_t> cuts) {
    Utf8State st{};
    std::size_t from = 0;
    Utf8Result last{Utf8Status::valid, 0};
    std::vector<std::size_t> ends(cuts);
    ends.push_back(text.size());
    for (std::size_t to : ends) {
      const Bytes piece(text.begin() + static_cast<std::ptrdiff_t>(from), text.begin() + static_cast<std::ptrdiff_t>(to));
      last = utf8_feed(b, st, piece);
      if (last.status == Utf8Status::invalid) return Outcome{{last.status, from + last.offset}, utf8_finish(st), is_valid_utf8(b, text)};
      from = to;
    }
    return Outcome{last, utf8_finish(st), is_valid_utf8(b, text)};
  };
  SECTION("every split point in two and three feeds") {
    Tally tally;
    std::vector<Bytes> texts = {
        bytes({0xF0, 0x9F, 0x98, 0x80, 0xE4, 0xB8, 0xAD, 0xC3, 0xA9, 0x41}),
        bytes({0xF4, 0x8F, 0xBF, 0xBF, 0xF4, 0x90, 0x80, 0x80}),  // invalid at the 90
        bytes({0xE0, 0xA0, 0x80, 0xED, 0xA0, 0x80}),              // invalid at the A0
        bytes({0xC2, 0x80, 0xF0, 0x9F, 0x98}),                    // ends open
    };
    texts.push_back(random_text(100, {2, 3, 4}));
    for (const Bytes& text : texts) {
      const Outcome whole = expected(text);
      for (std::size_t i = 0; i <= text.size(); ++i) {
        for (const Backend* b : all) {
          const Outcome two = feed_pieces(*b, text, {i});
          tally.cases++;
          if (!(two == whole) && tally.mismatches++ == 0) tally.first = std::string(b->name) + " split at " + std::to_string(i) + " of " + hex(text);
        }
        for (std::size_t j = i; j <= text.size() && j <= i + (text.size() > 20 ? 9 : text.size()); ++j)
          for (const Backend* b : all) {
            const Outcome three = feed_pieces(*b, text, {i, j});
            tally.cases++;
            if (!(three == whole) && tally.mismatches++ == 0)
              tally.first = std::string(b->name) + " split at " + std::to_string(i) + "," + std::to_string(j) + " of " + hex(text);
          }
      }
    }
    tally.require_none();
  }
  SECTION("long texts in random pieces, every backend") {
    for (const Backend* b : all) {
      INFO("backend " << b->name);
      for (int round = 0; round < (test::quick() ? 3 : 20); ++round) {
        const Bytes text = random_text(3000, {1, 2, 3, 4});
        Utf8State st{};
        for (std::size_t from = 0; from < text.size();) {
          const std::size_t to = std::min(text.size(), from + 1 + test::rng()() % 300);
          const auto r = utf8_feed(*b, st, std::span(text).subspan(from, to - from));
          REQUIRE(r.status != Utf8Status::invalid);
          from = to;
        }
        CHECK(utf8_finish(st));
      }
    }
  }
  SECTION("a sequence left open at the end of a vector block, then a lead byte") {
    // Found by fuzz_utf8: whole blocks ending inside a sequence, before the bytes kept for the
    // next call, were taken as valid, so F3 8F | F3 BF BF BF passed as one code point.
    for (const Backend* b : all)
      for (std::size_t width : {16u, 32u, 64u}) {
        INFO("backend " << b->name << ", block of " << width);
        Bytes text(width - 2, std::byte{'a'});
        for (int c : {0xF3, 0x8F, 0xF3}) text.push_back(static_cast<std::byte>(c));
        Utf8State st{};
        const Utf8Result r = utf8_feed(*b, st, text);
        CHECK(r.status == Utf8Status::invalid);
        CHECK(r.offset == width);
        CHECK(utf8_feed(*b, st, bytes({0xBF, 0xBF, 0xBF})).status == Utf8Status::invalid);
        CHECK(!utf8_finish(st));
      }
  }
  SECTION("an invalid state stays invalid") {
    for (const Backend* b : all) {
      Utf8State st{};
      CHECK(utf8_feed(*b, st, bytes({0xC0})).status == Utf8Status::invalid);
      CHECK(utf8_feed(*b, st, bytes({'a', 'b'})) .status == Utf8Status::invalid);
      CHECK(utf8_feed(*b, st, {}).status == Utf8Status::invalid);
      CHECK(!utf8_finish(st));
    }
  }
  SECTION("an empty feed changes nothing") {
    for (const Backend* b : all) {
      Utf8State st{};
      CHECK(utf8_feed(*b, st, {}).status == Utf8Status::valid);
      CHECK(utf8_feed(*b, st, bytes({0xE4, 0xB8})).status == Utf8Status::incomplete);
      CHECK(utf8_feed(*b, st, {}).status == Utf8Status::incomplete);
      CHECK(utf8_feed(*b, st, bytes({0xAD})).status == Utf8Status::valid);
      CHECK(utf8_finish(st));
    }
  }
}

TEST_CASE("utf8: is_valid_utf8 and the active backend", "[utf8]") {
  CHECK(is_valid_utf8(bytes({0x68, 0xC3, 0xA9})));
  CHECK(is_valid_utf8({}));
  CHECK(!is_valid_utf8(bytes({0x68, 0xC3})));  // truncated at the end of the text
  CHECK(!is_valid_utf8(bytes({0xED, 0xA0, 0x80})));
  for (const Backend* b : all_backends()) {
    CHECK(is_valid_utf8(*b, random_text(1000, {1, 2, 3, 4})));
    CHECK(!is_valid_utf8(*b, bytes({0xF0, 0x9F, 0x98})));
  }
  Utf8State st{};
  CHECK(utf8_feed(st, bytes({0xF0, 0x9F})).status == Utf8Status::incomplete);
  CHECK(utf8_feed(st, bytes({0x98, 0x80})).status == Utf8Status::valid);
  CHECK(utf8_finish(st));
}

TEST_CASE("utf8: unmask and validate in one pass = mask, then the reference's verdict", "[utf8]") {
  const MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  std::uint32_t key_word;
  std::memcpy(&key_word, key.data(), 4);
  Tally tally;
  for (std::size_t n = 0; n <= (test::quick() ? 140u : 300u); ++n) {
    // Valid text of n bytes (cut at a code-point boundary), the same ending open, and the same
    // with one byte corrupted; every backend, several alignments.
    Bytes valid = random_text(n, {1, 2, 3, 4});
    valid.resize(n);
    while (!valid.empty() && expected(valid).result.status != Utf8Status::valid) valid.pop_back();
    std::vector<Bytes> texts = {valid};
    if (!valid.empty()) {
      Bytes corrupted = valid;
      corrupted[test::rng()() % corrupted.size()] = std::byte(0x80 + test::rng()() % 0x80);
      texts.push_back(corrupted);
    }
    if (n >= 2) {
      Bytes open = valid;
      open.resize(n - 2);
      open.push_back(std::byte{0xF0});
      open.push_back(std::byte{0x9F});  // the start of a 4-byte sequence, left open
      texts.push_back(open);
    }
    for (const Bytes& text : texts) {
      const bool want = expected(text).result.status == Utf8Status::valid;
      Bytes masked = text;
      mask(test::scalar_backend(), masked, key);
      for (const Backend* b : all_backends()) {
        for (std::size_t alignment : {0u, 1u, 7u, 63u}) {
          std::vector<std::byte> buf(masked.size() + alignment);
          std::copy(masked.begin(), masked.end(), buf.begin() + static_cast<std::ptrdiff_t>(alignment));
          std::vector<std::byte> out(masked.size() + 64 - alignment);  // the other alignment
          std::byte* const to = out.data() + 64 - alignment;
          const bool copied = b->unmask_utf8_validate(buf.data() + alignment, to, masked.size(), key_word);
          const bool kept = std::equal(masked.begin(), masked.end(), buf.begin() + static_cast<std::ptrdiff_t>(alignment));
          const bool got = b->unmask_utf8_validate(buf.data() + alignment, buf.data() + alignment, masked.size(), key_word);
          tally.cases++;
          if ((got != want || copied != want || !kept || !std::equal(text.begin(), text.end(), to) ||
               !std::equal(text.begin(), text.end(), buf.begin() + static_cast<std::ptrdiff_t>(alignment))) &&
              tally.mismatches++ == 0)
            tally.first = std::string(b->name) + " alignment " + std::to_string(alignment) + ": " + hex(text);
        }
      }
    }
  }
  INFO(tally.first);
  CHECK(tally.cases > 0);
  CHECK(tally.mismatches == 0);
}
