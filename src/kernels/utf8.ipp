// UTF-8 validation, RFC 3629 (RFC 6455 section 8.1), one-shot and streaming, fail-fast.
//
// The scalar form is a deterministic automaton over the byte ranges of Unicode Table 3-7
// (well-formed UTF-8 byte sequences), with an ASCII fast path on 64-bit words. The scalar
// backend runs it as a shift-based DFA (below the automaton), with word paths for runs of 3- and
// 4-byte sequences too; the plain table form is the oracle, and it is what every backend runs
// at the edges of an input: to finish a sequence left open by the previous call, on the last
// open sequence of this call, and to find the exact first bad byte after a vector block (or a
// shift-DFA block) reported an error. The SIMD form (further down) is the lookup-table
// algorithm of Keiser & Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte" (2021).

// --- the automaton ----------------------------------------------------------------------------
// States: what the next byte must be. A Utf8State holds one (utf8_state_of); 0 (a new
// Utf8State) is the start of a text and every code-point boundary.
inline constexpr std::uint8_t utf8_boundary = 0; // between code points
inline constexpr std::uint8_t utf8_need1 = 1; // one continuation 80..BF left
inline constexpr std::uint8_t utf8_need2 = 2; // two left, any 80..BF
inline constexpr std::uint8_t utf8_need3 = 3; // three left, any 80..BF
inline constexpr std::uint8_t utf8_after_e0 = 4; // E0 A0..BF 80..BF      (E0 80..9F would be overlong)
inline constexpr std::uint8_t utf8_after_ed = 5; // ED 80..9F 80..BF      (ED A0..BF would be a surrogate)
inline constexpr std::uint8_t utf8_after_f0 = 6; // F0 90..BF 80..BF x2   (F0 80..8F would be overlong)
inline constexpr std::uint8_t utf8_after_f4 = 7; // F4 80..8F 80..BF x2   (F4 90..BF would be above U+10FFFF)
inline constexpr std::uint8_t utf8_rejected = 8; // no continuation can make the text valid; stays so
inline constexpr std::uint8_t utf8_state_count = 9;

// The automaton state a Utf8State carries between calls.
inline std::uint8_t& utf8_state_of(Utf8State& st) noexcept { return ::wsframe::detail::Utf8StateAccess::automaton(st); }

// Byte classes: bytes that behave the same in every state.
inline constexpr std::uint8_t utf8_ascii = 0; // 00..7F
inline constexpr std::uint8_t utf8_cont_8x = 1; // 80..8F
inline constexpr std::uint8_t utf8_cont_9x = 2; // 90..9F
inline constexpr std::uint8_t utf8_cont_ab = 3; // A0..BF
inline constexpr std::uint8_t utf8_lead2 = 4; // C2..DF
inline constexpr std::uint8_t utf8_lead_e0 = 5; // E0
inline constexpr std::uint8_t utf8_lead3 = 6; // E1..EC, EE..EF
inline constexpr std::uint8_t utf8_lead_ed = 7; // ED
inline constexpr std::uint8_t utf8_lead_f0 = 8; // F0
inline constexpr std::uint8_t utf8_lead4 = 9; // F1..F3
inline constexpr std::uint8_t utf8_lead_f4 = 10; // F4
inline constexpr std::uint8_t utf8_never = 11; // C0, C1, F5..FF: in no valid text
inline constexpr std::uint8_t utf8_class_count = 12;

struct Utf8Automaton {
  std::uint8_t byte_class[256];
  // next[state * utf8_class_count + class]
  std::uint8_t next[utf8_state_count * utf8_class_count];

  constexpr Utf8Automaton() : byte_class{}, next{} {
    for (unsigned b = 0; b < 256; ++b)
      byte_class[b] = b < 0x80    ? utf8_ascii
                      : b < 0x90  ? utf8_cont_8x
                      : b < 0xA0  ? utf8_cont_9x
                      : b < 0xC0  ? utf8_cont_ab
                      : b < 0xC2  ? utf8_never
                      : b < 0xE0  ? utf8_lead2
                      : b == 0xE0 ? utf8_lead_e0
                      : b == 0xED ? utf8_lead_ed
                      : b < 0xF0  ? utf8_lead3
                      : b == 0xF0 ? utf8_lead_f0
                      : b < 0xF4  ? utf8_lead4
                      : b == 0xF4 ? utf8_lead_f4
                                  : utf8_never;
    for (auto& s : next) s = utf8_rejected;
    auto on = [this](std::uint8_t state, std::uint8_t cls, std::uint8_t to) { next[state * utf8_class_count + cls] = to; };
    on(utf8_boundary, utf8_ascii, utf8_boundary);
    on(utf8_boundary, utf8_lead2, utf8_need1);
    on(utf8_boundary, utf8_lead_e0, utf8_after_e0);
    on(utf8_boundary, utf8_lead3, utf8_need2);
    on(utf8_boundary, utf8_lead_ed, utf8_after_ed);
    on(utf8_boundary, utf8_lead_f0, utf8_after_f0);
    on(utf8_boundary, utf8_lead4, utf8_need3);
    on(utf8_boundary, utf8_lead_f4, utf8_after_f4);
    for (std::uint8_t c : {utf8_cont_8x, utf8_cont_9x, utf8_cont_ab}) {
      on(utf8_need1, c, utf8_boundary);
      on(utf8_need2, c, utf8_need1);
      on(utf8_need3, c, utf8_need2);
    }
    on(utf8_after_e0, utf8_cont_ab, utf8_need1);
    on(utf8_after_ed, utf8_cont_8x, utf8_need1);
    on(utf8_after_ed, utf8_cont_9x, utf8_need1);
    on(utf8_after_f0, utf8_cont_9x, utf8_need2);
    on(utf8_after_f0, utf8_cont_ab, utf8_need2);
    on(utf8_after_f4, utf8_cont_8x, utf8_need2);
  }
};
inline constexpr Utf8Automaton utf8_automaton{};

inline std::uint8_t utf8_step(std::uint8_t state, std::byte b) noexcept {
  return utf8_automaton.next[state * utf8_class_count + utf8_automaton.byte_class[static_cast<std::uint8_t>(b)]];
}

inline Utf8Result utf8_result(std::uint8_t state) noexcept {
  return {state == utf8_boundary ? Utf8Status::valid : Utf8Status::incomplete, 0};
}

// The top bit of every byte of a 64-bit word: what ASCII never has set.
inline constexpr std::uint64_t utf8_word_high_bits = 0x8080808080808080ull;

// The first non-ASCII byte of p[start, n), or n, in 64-bit words: 16, then 8 bytes at a time,
// then the word ending at n (its first bytes, already seen, are ASCII). Fewer than 8 bytes in
// all are left to the caller.
inline std::size_t utf8_skip_ascii(const std::byte* p, std::size_t start, std::size_t n) noexcept {
  const auto first_high = [](std::size_t at, std::uint64_t high) { return at + static_cast<std::size_t>(__builtin_ctzll(high)) / 8; };
  std::size_t i = start;
  while (i + 16 <= n && ((load_u64(p + i) | load_u64(p + i + 8)) & utf8_word_high_bits) == 0) i += 16;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t high = load_u64(p + i) & utf8_word_high_bits;
    if (high != 0) return first_high(i, high);
  }
  if (i == n || n - start < 8) return i;
  const std::uint64_t high = load_u64(p + n - 8) & utf8_word_high_bits;
  return high == 0 ? n : first_high(n - 8, high);
}

// True when the text is at most 16 bytes, all ASCII: a chat line, checked in two overlapping
// words (or two halves of one) before any vector set-up, which costs more than this whole check
// (with masked loads too: the mask from the length, the load and the vector test). The overlap
// is read twice, which an OR does not mind.
inline bool utf8_short_ascii(const std::byte* p, std::size_t n) noexcept {
  if (n > 16) return false;
  std::uint64_t w;
  if (n >= 8) w = load_u64(p) | load_u64(p + n - 8);
  else if (n >= 4) w = load_u32(p) | load_u32(p + n - 4);
  else w = n == 0 ? 0 : static_cast<std::uint64_t>(p[0] | p[n / 2] | p[n - 1]);
  return (w & utf8_word_high_bits) == 0;
}

// Runs the automaton over p[i, n) from `state` (not rejected). Offsets are relative to p.
inline Utf8Result utf8_run(std::uint8_t& state, const std::byte* p, std::size_t i, std::size_t n) noexcept {
  std::uint8_t s = state;
  while (i < n) {
    if (s == utf8_boundary) i = utf8_skip_ascii(p, i, n);
    // Then up to 16 bytes one at a time through the automaton (multi-byte text stays in this
    // loop; back at a boundary, ASCII returns to the word path).
    const std::size_t stop = i + 16 < n ? i + 16 : n;
    for (; i < stop; ++i) {
      s = utf8_step(s, p[i]);
      if (s == utf8_rejected) {
        state = utf8_rejected;
        return {Utf8Status::invalid, i};
      }
    }
  }
  state = s;
  return utf8_result(s);
}

// --- the shift-based DFA: the scalar backend's fast form of the automaton ---------------------
// The same states, each held as a bit offset (6 x its number). row[b] packs, at the offset of
// every state, the offset of the state after byte b: a step is one shift by the state (x86
// shifts take their count mod 64, so the `& 63` costs nothing), and the table load does not wait
// for the state, so the chain from byte to byte is one cycle. Only the low 6 bits of the shifted
// word are the state.
inline constexpr unsigned utf8_state_bits = 6;
inline constexpr std::uint64_t utf8_rejected_offset = utf8_state_bits * utf8_rejected;

struct Utf8ShiftDfa {
  std::uint64_t row[256];
  constexpr Utf8ShiftDfa() : row{} {
    for (unsigned b = 0; b < 256; ++b)
      for (unsigned s = 0; s < utf8_state_count; ++s) {
        const unsigned to = utf8_automaton.next[s * utf8_class_count + utf8_automaton.byte_class[b]];
        row[b] |= std::uint64_t{utf8_state_bits * to} << (utf8_state_bits * s);
      }
  }
};
inline constexpr Utf8ShiftDfa utf8_shift_dfa{};

inline std::uint64_t utf8_shift_step(std::uint64_t s, std::byte b) noexcept {
  return utf8_shift_dfa.row[static_cast<std::uint8_t>(b)] >> (s & 63);
}

// The state offset after p[i, end) from offset s, with no exit on the way (rejected is final).
inline std::uint64_t utf8_shift_chain(std::uint64_t s, const std::byte* p, std::size_t i, std::size_t end) noexcept {
  for (; i < end; ++i) s = utf8_shift_step(s, p[i]);
  return s & 63;
}

// The same, for a long block as two interleaved chains, doubling the bytes per cycle: the second
// starts at a boundary at the first ASCII or lead byte past the middle, which is right only if
// the first chain ends there at a boundary, so anything else counts as rejected.
inline std::uint64_t utf8_shift_block(std::uint64_t s, const std::byte* p, std::size_t i, std::size_t end) noexcept {
  if (end - i < 32) return utf8_shift_chain(s, p, i, end);
  std::size_t mid = i + (end - i) / 2;
  const std::size_t limit = mid + 4;  // four continuations in a row are never valid: no split
  while (mid < limit && (static_cast<std::uint8_t>(p[mid]) & 0xc0) == 0x80) ++mid;
  if (mid == limit) return utf8_shift_chain(s, p, i, end);
  std::uint64_t t = 0;  // the second chain, from a boundary
  const std::byte *a = p + i, *b = p + mid;
  const std::size_t first = mid - i, second = end - mid, both = first < second ? first : second;
#pragma GCC unroll 4
  for (std::size_t k = 0; k < both; ++k) {
    s = utf8_shift_step(s, a[k]);
    t = utf8_shift_step(t, b[k]);
  }
  s = utf8_shift_chain(s, a, both, first);
  t = utf8_shift_chain(t, b, both, second);
  return s == 0 ? t : utf8_rejected_offset;
}

// Runs of 3-byte sequences (most of CJK text) and of 4-byte ones (emoji) are tested two
// sequences to a 64-bit word (little-endian: the first byte in the low bits), which costs less
// than a DFA step per byte, whose variable shift (one a cycle) is the limit there.

// True when the first 6 bytes of w are two 3-byte sequences whose leads take any two
// continuations: E1..EC, EE, EF (RFC 3629 section 4; E0 and ED restrict the second byte, so
// those are left to the DFA). Bytes 6 and 7 are not looked at.
inline bool utf8_two_3byte(std::uint64_t w) noexcept {
  const auto lead_takes_any = [](std::uint64_t lead) { return (lead & 0x0f) != 0x0 && (lead & 0x0f) != 0xd; };
  return (w & 0xc0c0f0c0c0f0ull) == 0x8080e08080e0ull && lead_takes_any(w) && lead_takes_any(w >> 24);
}

// True when w is two 4-byte sequences of planes 1..16: U+10000..10FFFF (RFC 3629 section 4),
// which rules out F0 80..8F (overlong), F4 90..BF and F5..F7 (above U+10FFFF).
inline bool utf8_two_4byte(std::uint64_t w) noexcept {
  const auto plane = [](std::uint64_t q) { return static_cast<unsigned>((q & 0x07) << 2 | (q >> 12 & 0x03)); };
  return (w & 0xc0c0c0f8c0c0c0f8ull) == 0x808080f0808080f0ull && plane(w) - 1 < 16 && plane(w >> 32) - 1 < 16;
}

// The end of the run of Width-byte sequences that Two accepts, from the boundary p[i]: four per
// step, in two words (the second at 2 x Width); it stops at the first other code point, or
// where the step's second word would reach past n.
template <std::size_t Width, bool (*Two)(std::uint64_t) noexcept>
inline std::size_t utf8_skip_run(const std::byte* p, std::size_t i, std::size_t n) noexcept {
  while (n - i >= 2 * Width + 8 && Two(load_u64(p + i)) && Two(load_u64(p + i + 2 * Width))) i += 4 * Width;
  return i;
}

// The word paths at a boundary: ASCII, then a run of 3-byte, then of 4-byte sequences.
inline std::size_t utf8_skip_words(const std::byte* p, std::size_t i, std::size_t n) noexcept {
  i = utf8_skip_run<3, utf8_two_3byte>(p, utf8_skip_ascii(p, i, n), n);
  return utf8_skip_run<4, utf8_two_4byte>(p, i, n);
}

// The word paths at every boundary, else blocks through the shift DFA: long ones, but 16 bytes
// after a run the words took, doubling while they take none (so a few other code points in
// ASCII, CJK or emoji text cost one short block each). A rejected block is run again through
// the automaton, which stops at the exact first bad byte. Out of line: the two chains need many
// registers, whose saving would slow down the all-ASCII call.
[[gnu::noinline]] inline Utf8Result utf8_shift_run(Utf8State& st, const std::byte* p, std::size_t i, std::size_t n) noexcept {
  constexpr std::size_t first_block = 16, max_block = 1024;
  std::uint64_t s = utf8_state_bits * utf8_state_of(st);
  std::size_t block = max_block;
  while (i < n) {
    if (s == 0) {
      const std::size_t run_end = utf8_skip_words(p, i, n);
      if (run_end - i >= first_block) block = first_block;
      i = run_end;
      if (i == n) break;
    }
    const std::size_t end = n - i > block ? i + block : n;
    const std::uint64_t next = utf8_shift_block(s, p, i, end);
    if (next == utf8_rejected_offset) {
      utf8_state_of(st) = static_cast<std::uint8_t>(s / utf8_state_bits);
      return utf8_run(utf8_state_of(st), p, i, n);
    }
    s = next;
    i = end;
    block = block < max_block ? 2 * block : max_block;
  }
  utf8_state_of(st) = static_cast<std::uint8_t>(s / utf8_state_bits);
  return utf8_result(utf8_state_of(st));
}

// The scalar backend's entry; an all-ASCII text from a boundary returns without the DFA.
inline Utf8Result utf8_feed_scalar(Utf8State& st, const std::byte* p, std::size_t n) noexcept {
  if (utf8_state_of(st) == utf8_rejected) return {Utf8Status::invalid, 0};
  const std::size_t i = utf8_state_of(st) == utf8_boundary ? utf8_skip_ascii(p, 0, n) : 0;
  if (i == n) return utf8_result(utf8_state_of(st));
  return utf8_shift_run(st, p, i, n);
}

#if defined(WSFRAME_SIMD)
// --- the lookup-table algorithm (Keiser & Lemire 2021) -----------------------------------------
// Every error of UTF-8 shows in a pair of adjacent bytes (prev1, cur), except a missing or
// surplus third/fourth byte, which shows in (prev2 or prev3, cur). Three 16-entry tables indexed
// by prev1's high nibble, prev1's low nibble and cur's high nibble give one bit per error kind;
// their AND is nonzero exactly for a bad pair.
inline constexpr std::uint8_t utf8_too_short = 1 << 0;   // lead followed by a non-continuation
inline constexpr std::uint8_t utf8_too_long = 1 << 1;    // ASCII followed by a continuation
inline constexpr std::uint8_t utf8_overlong3 = 1 << 2;   // E0 80..9F
inline constexpr std::uint8_t utf8_too_large = 1 << 3;   // F4 90..BF, F5..FF 90..BF
inline constexpr std::uint8_t utf8_surrogate = 1 << 4;   // ED A0..BF
inline constexpr std::uint8_t utf8_overlong2 = 1 << 5;   // C0, C1 followed by a continuation
inline constexpr std::uint8_t utf8_large_8x = 1 << 6;    // F5..FF 80..8F, and (same bit) F0 80..8F
inline constexpr std::uint8_t utf8_two_conts = 1 << 7;   // continuation after continuation:
                                                         // right only as a 3rd or 4th byte
inline constexpr std::uint8_t utf8_overlong4 = utf8_large_8x;
inline constexpr std::uint8_t utf8_carry = utf8_too_short | utf8_too_long | utf8_two_conts;

// Indexed by prev1 >> 4.
alignas(16) inline constexpr std::uint8_t utf8_prev_high[16] = {
    utf8_too_long, utf8_too_long, utf8_too_long, utf8_too_long,  // 0..7: ASCII
    utf8_too_long, utf8_too_long, utf8_too_long, utf8_too_long,
    utf8_two_conts, utf8_two_conts, utf8_two_conts, utf8_two_conts,  // 8..B: continuation
    utf8_too_short | utf8_overlong2,                                 // C
    utf8_too_short,                                                  // D
    utf8_too_short | utf8_overlong3 | utf8_surrogate,                // E
    utf8_too_short | utf8_too_large | utf8_large_8x | utf8_overlong4,  // F
};
// Indexed by prev1 & 15.
alignas(16) inline constexpr std::uint8_t utf8_prev_low[16] = {
    utf8_carry | utf8_overlong3 | utf8_overlong2 | utf8_overlong4,  // x0: C0 E0 F0
    utf8_carry | utf8_overlong2,                                    // x1: C1
    utf8_carry,
    utf8_carry,
    utf8_carry | utf8_too_large,  // x4: F4
    utf8_carry | utf8_too_large | utf8_large_8x,  // x5..xF: F5..FF
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x | utf8_surrogate,  // xD: ED
    utf8_carry | utf8_too_large | utf8_large_8x,
    utf8_carry | utf8_too_large | utf8_large_8x,
};
// Indexed by cur >> 4.
alignas(16) inline constexpr std::uint8_t utf8_cur_high[16] = {
    utf8_too_short, utf8_too_short, utf8_too_short, utf8_too_short,  // 0..7: ASCII
    utf8_too_short, utf8_too_short, utf8_too_short, utf8_too_short,
    utf8_too_long | utf8_overlong2 | utf8_two_conts | utf8_overlong3 | utf8_large_8x | utf8_overlong4,  // 8
    utf8_too_long | utf8_overlong2 | utf8_two_conts | utf8_overlong3 | utf8_too_large,                  // 9
    utf8_too_long | utf8_overlong2 | utf8_two_conts | utf8_surrogate | utf8_too_large,                  // A
    utf8_too_long | utf8_overlong2 | utf8_two_conts | utf8_surrogate | utf8_too_large,                  // B
    utf8_too_short, utf8_too_short, utf8_too_short, utf8_too_short,  // C..F: lead
};

// The algorithm is written once against the SIMD layer (src/simd/<isa>.hpp).
using simd::u8v;

// The rule check of one block. prev1..prev3: the block's bytes as seen 1..3 positions back.
struct Utf8Rules {
  const u8v prev_high = simd::table(utf8_prev_high), prev_low = simd::table(utf8_prev_low);
  const u8v cur_high = simd::table(utf8_cur_high), low_nibble = simd::splat(0x0f);

  // Nonzero where `cur` breaks a rule.
  u8v errors(u8v cur, u8v prev1, u8v prev2, u8v prev3) const noexcept {
    const u8v pair = simd::bit_and(simd::bit_and(simd::lookup(prev_high, simd::high_nibbles(prev1)),
                                                 simd::lookup(prev_low, simd::bit_and(prev1, low_nibble))),
                                   simd::lookup(cur_high, simd::high_nibbles(cur)));
    // 3rd byte of a 3- or 4-byte sequence (prev2 >= E0) or 4th (prev3 >= F0): there, and only
    // there, a continuation after a continuation is right.
    const u8v third = simd::sub_sat(prev2, simd::splat(0xe0 - 0x80));
    const u8v fourth = simd::sub_sat(prev3, simd::splat(0xf0 - 0x80));
    const u8v must_continue = simd::bit_and(simd::bit_or(third, fourth), simd::splat(0x80));
    return simd::bit_xor(pair, must_continue);
  }
  // A block with nothing before it but a boundary (zeros are ASCII).
  u8v first_block_errors(u8v cur) const noexcept {
    const u8v zero = simd::splat(0);
    return errors(cur, simd::prev<1>(cur, zero), simd::prev<2>(cur, zero), simd::prev<3>(cur, zero));
  }
  // Two blocks in registers, v0 the first of a text and v1 right behind it: v1's views of the
  // bytes 1..3 back shuffled in from v0 (no reloads overlapping v0).
  u8v two_block_errors(u8v v0, u8v v1) const noexcept {
    return simd::bit_or(first_block_errors(v0), errors(v1, simd::prev<1>(v1, v0), simd::prev<2>(v1, v0), simd::prev<3>(v1, v0)));
  }
  // A block at p + i with at least 3 input bytes before it: the shifted views are plain
  // unaligned loads (cheaper than cross-lane shuffles, which compete with the table lookups).
  u8v block_errors(const std::byte* p, std::size_t i) const noexcept {
    return errors(simd::load(p + i), simd::load(p + i - 1), simd::load(p + i - 2), simd::load(p + i - 3));
  }
};

// True when the text before p + i (at least 3 bytes of it) ends inside a sequence.
inline bool utf8_ends_open(const std::byte* p, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(p[i - 1]) >= 0xc0 || static_cast<std::uint8_t>(p[i - 2]) >= 0xe0 ||
         static_cast<std::uint8_t>(p[i - 3]) >= 0xf0;
}

// Errors of the last r < width bytes p[i, i + r), zero-padded: the padding ends any sequence
// left open, so an incomplete end shows as "too short". `context`: a full vector of input
// precedes i (else i is the start, a boundary).
inline u8v utf8_last_block_errors(const Utf8Rules& rules, const std::byte* p, std::size_t i, std::size_t r,
                                  bool context) noexcept {
  if constexpr (simd::masked_memory) {
    const u8v cur = simd::load_first(p + i, r);  // masked-off bytes are not read
    if (!context) return rules.first_block_errors(cur);
    return rules.errors(cur, simd::load_first(p + i - 1, r + 1), simd::load_first(p + i - 2, r + 2),
                        simd::load_first(p + i - 3, r + 3));
  }
  if (context && r >= 3) {
    // A full vector ending at the end, overlapping bytes already checked (their verdict does not
    // change); i >= begin + width, so its 3 bytes of context are input too. Then whether the
    // text ends inside a sequence.
    const std::size_t end = i + r;
    const u8v e = rules.block_errors(p, end - simd::width);
    return utf8_ends_open(p, end) ? simd::splat(1) : e;
  }
  // The bytes zero-padded in registers, with their 3 bytes of context, as the masked loads do.
  const u8v cur = simd::load_first(p + i, r);
  if (!context) return simd::ascii(cur) ? simd::splat(0) : rules.first_block_errors(cur);
  return rules.errors(cur, simd::load_first(p + i - 1, r + 1), simd::load_first(p + i - 2, r + 2),
                      simd::load_first(p + i - 3, r + 3));
}

// The OR of the four vectors at p.
inline u8v utf8_group_or(const std::byte* p) noexcept {
  constexpr std::size_t W = simd::width;
  return simd::bit_or(simd::bit_or(simd::load(p), simd::load(p + W)), simd::bit_or(simd::load(p + 2 * W), simd::load(p + 3 * W)));
}
// The four vectors at p are all ASCII.
inline bool utf8_group_ascii(const std::byte* p) noexcept { return simd::ascii(utf8_group_or(p)); }

// Validates p[begin, end) as a complete text starting at a code-point boundary. Returns `end`
// when it is valid, else the start of a block (of up to 4 vectors) that holds the first error.
inline std::size_t utf8_check_blocks(const std::byte* p, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t W = simd::width;
  const Utf8Rules rules;
  std::size_t i = begin;
  if (end - begin >= W) {
    const u8v first = simd::load(p + i);
    if (!simd::ascii(first) && simd::any(rules.first_block_errors(first))) return i;
    for (i += W; i + 4 * W <= end; i += 4 * W) {
      // Four blocks: all ASCII (the common text) needs only "nothing open before them", and
      // then so does every all-ASCII group after them: a tight loop over the ASCII run.
      if (utf8_group_ascii(p + i)) {
        if (utf8_ends_open(p, i)) return i;
        while (i + 8 * W <= end && utf8_group_ascii(p + i + 4 * W)) i += 4 * W;
        continue;
      }
      const u8v e = simd::bit_or(simd::bit_or(rules.block_errors(p, i), rules.block_errors(p, i + W)),
                         simd::bit_or(rules.block_errors(p, i + 2 * W), rules.block_errors(p, i + 3 * W)));
      if (simd::any(e)) return i;
    }
    for (; i + W <= end; i += W)
      if (simd::any(rules.block_errors(p, i))) return i;
  }
  if (i < end) {
    if (simd::any(utf8_last_block_errors(rules, p, i, end - i, i != begin))) return i;
  } else if (i != begin && utf8_ends_open(p, i)) {
    return i - W;  // the last block ends inside a sequence (i == end would read as "valid")
  }
  return end;
}

// Start of the sequence left open at the end of p[begin, n) (n when none).
inline std::size_t utf8_open_tail(const std::byte* p, std::size_t begin, std::size_t n) noexcept {
  return n - ::wsframe::detail::utf8_open_bytes([p, n](std::size_t k) { return static_cast<std::uint8_t>(p[n - k]); }, n - begin);
}

inline Utf8Result utf8_feed(Utf8State& st, const std::byte* p, std::size_t n) noexcept {
  if (utf8_state_of(st) == utf8_rejected) return {Utf8Status::invalid, 0};
  // Finish the sequence the previous call left open (at most 3 bytes).
  std::size_t i = 0;
  std::uint8_t s = utf8_state_of(st);
  for (; s != utf8_boundary && i < n; ++i) {
    s = utf8_step(s, p[i]);
    if (s == utf8_rejected) {
      utf8_state_of(st) = s;
      return {Utf8Status::invalid, i};
    }
  }
  // The middle, from a boundary to the sequence left open at the end, in vector blocks.
  const std::size_t tail = utf8_open_tail(p, i, n);
  if (i < tail) {
    const std::size_t bad_block = utf8_check_blocks(p, i, tail);
    if (bad_block != tail) {
      // Everything before bad_block is valid (but may end inside a sequence): restart the
      // automaton at the last boundary before it, which is at most 3 bytes back, to find the
      // exact first bad byte.
      std::size_t restart = bad_block - i >= 3 ? bad_block - 3 : i;
      while (restart < bad_block && (static_cast<std::uint8_t>(p[restart]) & 0xc0) == 0x80) ++restart;
      utf8_state_of(st) = utf8_boundary;
      return utf8_run(utf8_state_of(st), p, restart, n);
    }
  }
  utf8_state_of(st) = s;
  return utf8_run(utf8_state_of(st), p, tail, n);  // at most 3 bytes
}

// Out of line, so that the ASCII passes in front of it stay leaf code with no registers to save.
[[gnu::noinline]] inline bool utf8_validate_from(const std::byte* p, std::size_t begin, std::size_t n) noexcept {
  return utf8_check_blocks(p, begin, n) == n;
}

// Up to this many bytes, the whole text is OR-reduced before a single test, as the read-once
// limit does (a test per group would cost a fifth of the time here); a text that fails is read
// again from L1 by the group loop to find where its ASCII ends.
inline constexpr std::size_t utf8_one_test_bytes = 1024;

// The one-shot ASCII pass for n > 16 (n > 2 * width with masked loads): an OR-reduce over the
// bytes (the read-once limit), none of the rule tables. Returns n when all of p[0, n) is ASCII, else an
// offset i with p[0, i) ASCII, so a code-point boundary to validate the rest from. Up to four
// vectors are loaded from both ends (overlapping, inside the input) and decide with two tests.
inline std::size_t utf8_ascii_prefix(const std::byte* p, std::size_t n) noexcept {
  constexpr std::size_t W = simd::width;
  if (n < W)  // 17..31 bytes on 32-byte vectors: four words
    return ((load_u64(p) | load_u64(p + 8) | load_u64(p + n - 16) | load_u64(p + n - 8)) & utf8_word_high_bits) == 0 ? n : 0;
  // The first vector alone first: multi-byte text seldom starts with a vector of ASCII.
  if (!simd::ascii(simd::load(p))) return 0;
  if (n <= 4 * W) {
    u8v v = simd::load(p + n - W);
    if (n > 2 * W) v = simd::bit_or(v, simd::bit_or(simd::load(p + W), simd::load(p + n - 2 * W)));
    return simd::ascii(v) ? n : W;
  }
  if (n <= utf8_one_test_bytes) {
    u8v acc = simd::splat(0);
    std::size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) acc = simd::bit_or(acc, utf8_group_or(p + i));
    if (i != n) acc = simd::bit_or(acc, utf8_group_or(p + n - 4 * W));
    if (simd::ascii(acc)) return n;
  }
  // Two groups per test: the test and its branch, not the loads, would otherwise bound the loop.
  std::size_t i = 0;
  for (; i + 8 * W <= n; i += 8 * W)
    if (!simd::ascii(simd::bit_or(utf8_group_or(p + i), utf8_group_or(p + i + 4 * W))))
      return utf8_group_ascii(p + i) ? i + 4 * W : i;
  if (i + 4 * W <= n) {
    if (!utf8_group_ascii(p + i)) return i;
    i += 4 * W;
  }
  return i == n || utf8_group_ascii(p + n - 4 * W) ? n : i;  // the rest, in a group overlapping the last
}

// One shot, with masked loads, a text of up to two vectors (AVX-512: 128 bytes) without leaving
// registers: the ASCII test of one masked load (or two), then, if a byte is not ASCII, the rules
// on the same registers, the second block's views of bytes 1..3 back shuffled in from the first
// (no reloads overlapping the first block). The zero padding past n ends a sequence left open,
// as a complete text requires; at exactly width or 2 * width there is no padding, so whether
// the last bytes leave a sequence open is asked apart.
inline bool utf8_validate_two_blocks(const std::byte* p, std::size_t n) noexcept {
  constexpr std::size_t W = simd::width;
  const u8v v0 = simd::load_first(p, n);  // masked-off bytes are not read
  if (n <= W) {
    if (simd::ascii(v0)) return true;
    return !simd::any(Utf8Rules{}.first_block_errors(v0)) && !(n == W && utf8_ends_open(p, n));
  }
  const u8v v1 = simd::load_first(p + W, n - W);
  if (simd::ascii(simd::bit_or(v0, v1))) return true;
  return !simd::any(Utf8Rules{}.two_block_errors(v0, v1)) && !(n == 2 * W && utf8_ends_open(p, n));
}

// One shot: the blocks alone decide, no automaton at the edges. The last block's zero padding
// (or the end check) turns a sequence left open at the end into an error, as a complete text
// requires; the exact offset is not needed here. An ASCII pass goes first (most texts are ASCII,
// and the rule check of a short text costs several times its bytes): up to 16 bytes are words
// (with masked loads too: the mask and the vector test of one cost more), then with masked loads
// a text of up to two vectors is one or two loads.
inline bool utf8_validate(const std::byte* p, std::size_t n) noexcept {
  if constexpr (simd::masked_memory) {
    if (utf8_short_ascii(p, n)) return true;  // false past 16 bytes
    if (n <= 2 * simd::width) return utf8_validate_two_blocks(p, n);
  } else {
    if (n <= 16) return utf8_short_ascii(p, n) || utf8_validate_from(p, 0, n);
  }
  const std::size_t ascii_end = utf8_ascii_prefix(p, n);
  return ascii_end == n || utf8_validate_from(p, ascii_end, n);
}

// The width bytes at p + j unmasked in registers: the key word rotated into the phase of offset j.
inline u8v utf8_load_unmasked(const std::byte* p, std::size_t j, std::uint32_t key_word) noexcept {
  return simd::bit_xor(simd::load(p + j), simd::splat32(std::rotr(key_word, static_cast<int>(8 * (j % 4)))));
}

// Without masked memory, a text of width or width + 3..4 * width bytes: its blocks (the last one
// ending at n, overlapping the one before it) loaded, unmasked and checked in registers, each
// with its own 3 bytes of context loaded and unmasked the same way, and stored only then.
// Unmasking in place first would have the check read back bytes just stored, at -1..-3 bytes
// from the stores' alignment: loads that the stores in flight cannot forward, and wait.
inline bool unmask_utf8_validate_blocks(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  constexpr std::size_t W = simd::width;
  const Utf8Rules rules;
  const std::size_t last = n - W;
  u8v block[4];
  block[0] = utf8_load_unmasked(src, 0, key_word);
  u8v e = rules.first_block_errors(block[0]);
  std::size_t count = 1;
  for (std::size_t i = W; i < n; i += W, ++count) {
    const std::size_t j = std::min(i, last);
    block[count] = utf8_load_unmasked(src, j, key_word);
    e = simd::bit_or(e, rules.errors(block[count], utf8_load_unmasked(src, j - 1, key_word),
                                     utf8_load_unmasked(src, j - 2, key_word), utf8_load_unmasked(src, j - 3, key_word)));
  }
  for (std::size_t k = 0; k < count; ++k) simd::store(dst + std::min(k * W, last), block[k]);
  return !simd::any(e) && !utf8_ends_open(dst, n);  // no padding ends a sequence left open
}

// Unmasks n bytes from src into dst (RFC 6455 5.3, key already in phase; src may be dst) and
// validates them as one complete text: the receive path's text frames, a single-frame message in
// place, a fragment into the message being reassembled. With masked memory (AVX-512: two 64-byte
// blocks) and n < 2 * width the check runs on the unmasked registers instead of reading the bytes
// back right after storing them (loads overlapping stores in flight at -1..-3 bytes cannot be
// forwarded and wait), and without a branch on the data: both blocks are always checked, the zero
// padding beyond n ending any sequence left open (as a complete text requires). That padding needs
// at least one byte past n inside the two blocks, so n = 2 * width exactly takes the general path:
// with no padding, a sequence left open by the last bytes would pass.
inline bool unmask_utf8_validate(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  constexpr std::size_t W = simd::width;
  if constexpr (!simd::masked_memory) {
    // The last block, when it is not the first, needs 3 bytes of input before it.
    if (n >= W && n <= 4 * W && (n == W || n >= W + 3)) return unmask_utf8_validate_blocks(src, dst, n, key_word);
  } else {
    if (n < 2 * W) {
      const std::size_t rest = n > W ? n - W : 0;
      const u8v key = simd::splat32(key_word);  // the width is a multiple of 4: same key
      const u8v v0 = simd::keep_first(simd::bit_xor(simd::load_first(src, n), key), n);
      const u8v v1 = simd::keep_first(simd::bit_xor(simd::load_first(src + W, rest), key), rest);
      simd::store_first(dst, n, v0);
      simd::store_first(dst + W, rest, v1);
      return !simd::any(Utf8Rules{}.two_block_errors(v0, v1));
    }
  }
  mask_copy(src, dst, n, key_word);
  return utf8_validate(dst, n);
}
#else
inline Utf8Result utf8_feed(Utf8State& st, const std::byte* p, std::size_t n) noexcept {
  return utf8_feed_scalar(st, p, n);
}

inline bool utf8_validate(const std::byte* p, std::size_t n) noexcept {
  if (utf8_short_ascii(p, n)) return true;
  Utf8State st{};
  return utf8_feed_scalar(st, p, n).status == Utf8Status::valid;
}

inline bool unmask_utf8_validate(const std::byte* src, std::byte* dst, std::size_t n, std::uint32_t key_word) noexcept {
  mask_copy(src, dst, n, key_word);
  return utf8_validate(dst, n);
}
#endif
