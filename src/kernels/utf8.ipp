// UTF-8 validation, RFC 3629 (RFC 6455 section 8.1), one-shot and streaming, fail-fast.
//
// The scalar form is a deterministic automaton over the byte ranges of Unicode Table 3-7
// (well-formed UTF-8 byte sequences), with an ASCII fast path on 64-bit words. It is the oracle
// and it is what every backend runs at the edges of an input: to finish a sequence left open by
// the previous call, on the last open sequence of this call, and to find the exact first bad byte
// after a vector block reported an error. The SIMD form (further down) is the lookup-table
// algorithm of Keiser & Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte" (2021).

// --- the automaton ----------------------------------------------------------------------------
// States: what the next byte must be. Utf8State::dfa holds one; 0 (value-initialised) is the
// start of a text and every code-point boundary.
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

// Runs the automaton over p[i, n) from `state` (not rejected). Offsets are relative to p.
inline Utf8Result utf8_run(std::uint8_t& state, const std::byte* p, std::size_t i, std::size_t n) noexcept {
  constexpr std::uint64_t high_bits = 0x8080808080808080ull;
  std::uint8_t s = state;
  while (i < n) {
    if (s == utf8_boundary) {  // ASCII fast path: 16, then 8 bytes at a time
      while (i + 16 <= n && ((load_u64(p + i) | load_u64(p + i + 8)) & high_bits) == 0) i += 16;
      if (i + 8 <= n) {
        const std::uint64_t high = load_u64(p + i) & high_bits;
        if (high == 0) {
          i += 8;
          continue;
        }
        i += static_cast<std::size_t>(__builtin_ctzll(high)) / 8;  // skip to the first non-ASCII byte
      }
    }
    // A few bytes one at a time, up to the end of the current code point and beyond it while
    // the bytes are not ASCII (multi-byte text stays here).
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

// The scalar backend's entry.
inline Utf8Result utf8_feed_scalar(Utf8State& st, const std::byte* p, std::size_t n) noexcept {
  if (st.dfa == utf8_rejected) return {Utf8Status::invalid, 0};
  return utf8_run(st.dfa, p, 0, n);
}

// TODO(step 2): the SIMD kernels; every backend runs the automaton for now.
inline Utf8Result utf8_feed(Utf8State& st, const std::byte* p, std::size_t n) noexcept {
  return utf8_feed_scalar(st, p, n);
}
