// SHA-1 block compression with the ARMv8 cryptography extension's SHA1 instructions. Included
// by src/backends/arm_sha1.cpp only, compiled with -march=armv8-a+crypto; dispatch uses it when
// getauxval(AT_HWCAP) has HWCAP_SHA1.
//
// Schedule as in FIPS 180-4, four words at a time: W[4g..4g+3] for g >= 4 is
// sha1su1(sha1su0(W[g-4], W[g-3], W[g-2]), W[g-1]). Round group g uses function g / 5
// (choose, parity, majority, parity) and sha1h gives the E of the next group (A rotated by 30).

inline void sha1_compress_arm(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept {
  uint32x4_t abcd = vld1q_u32(state);
  std::uint32_t e = state[4];
  for (; blocks > 0; --blocks, data += 64) {
    uint32x4_t w[4];
    for (int j = 0; j < 4; ++j)
      w[j] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(reinterpret_cast<const std::uint8_t*>(data + 16 * j))));
    const uint32x4_t saved_abcd = abcd;
    const std::uint32_t saved_e = e;
    const auto group = [&]<int G>() __attribute__((always_inline)) {
      if constexpr (G >= 4) w[G & 3] = vsha1su1q_u32(vsha1su0q_u32(w[G & 3], w[(G + 1) & 3], w[(G + 2) & 3]), w[(G + 3) & 3]);
      const uint32x4_t wk = vaddq_u32(w[G & 3], vdupq_n_u32(sha1_round_constant[G / 5]));
      const std::uint32_t next_e = vsha1h_u32(vgetq_lane_u32(abcd, 0));
      if constexpr (G / 5 == 0)
        abcd = vsha1cq_u32(abcd, e, wk);
      else if constexpr (G / 5 == 2)
        abcd = vsha1mq_u32(abcd, e, wk);
      else
        abcd = vsha1pq_u32(abcd, e, wk);
      e = next_e;
    };
    [&]<int... G>(std::integer_sequence<int, G...>) __attribute__((always_inline)) { (group.template operator()<G>(), ...); }(
        std::make_integer_sequence<int, 20>{});
    abcd = vaddq_u32(abcd, saved_abcd);
    e += saved_e;
  }
  vst1q_u32(state, abcd);
  state[4] = e;
}

// The entries dispatch puts into the neon backend.
inline void sha1_arm(const std::byte* p, std::size_t n, std::byte* out) noexcept {
  sha1_with<&sha1_compress_arm>(p, n, out);
}
inline void accept_key_arm(const char* key, std::size_t n, char* out) noexcept {
  accept_key_with<&sha1_compress_arm>(key, n, out);
}
inline void accept_keys_arm(const std::string_view* keys, std::size_t count, char* out) noexcept {
  accept_keys_with<&sha1_compress_arm>(keys, count, out);
}
