// SHA-1 block compression with the x86 SHA extensions (SHA-NI), one stream or several
// interleaved. Included by src/backends/sha_ni.cpp only, compiled with -msha -msse4.2;
// dispatch uses it when CPUID leaf 7 EBX bit 29 says SHA.
//
// The schedule follows FIPS 180-4 four words at a time: W[4g..4g+3] for g >= 4 is
// sha1msg2(sha1msg1(W[g-4], W[g-3]) ^ W[g-2], W[g-1]); round group g (rounds 4g..4g+3) takes
// E + W (sha1nexte folds the rotated A of four rounds ago into it) and function g / 5.

// Reverses the 16 bytes: big-endian words, and word 0 in the top lane as sha1rnds4 wants.
inline __m128i sha1_load_words(const std::byte* p) noexcept {
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                          _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll));
}

template <int F>
inline __m128i sha1_rounds4(__m128i abcd, __m128i e_plus_w) noexcept {
  return _mm_sha1rnds4_epu32(abcd, e_plus_w, F);
}

// One block for each of K independent states: the K dependency chains interleave, which hides
// the latency of sha1rnds4 (the loops over k are unrolled, K is a constant). The message comes
// from message.template word<G>(k): W[4G..4G+3] of stream k, word 4G in the top lane.
template <int K, class Message>
inline void sha1_rounds_shani(__m128i* abcd, __m128i* e0, Message& message) noexcept {
  __m128i saved_abcd[K], saved_e[K], e[K], previous[K];
  for (int k = 0; k < K; ++k) {
    saved_abcd[k] = abcd[k];
    saved_e[k] = e0[k];
  }
  // Round group G (rounds 4G..4G+3), all K streams; G is a constant, so everything is in registers.
  const auto group = [&]<int G>() __attribute__((always_inline)) {
    for (int k = 0; k < K; ++k) {
      const __m128i w = message.template word<G>(k);
      e[k] = G == 0 ? _mm_add_epi32(e0[k], w) : _mm_sha1nexte_epu32(previous[k], w);
      previous[k] = abcd[k];
      abcd[k] = sha1_rounds4<G / 5>(abcd[k], e[k]);
    }
  };
  [&]<int... G>(std::integer_sequence<int, G...>) __attribute__((always_inline)) { (group.template operator()<G>(), ...); }(
      std::make_integer_sequence<int, 20>{});
  for (int k = 0; k < K; ++k) {
    e0[k] = _mm_sha1nexte_epu32(previous[k], saved_e[k]);
    abcd[k] = _mm_add_epi32(abcd[k], saved_abcd[k]);
  }
}

// A message given by its first 16 words (4 vectors per stream), scheduled on the fly.
template <int K>
struct Sha1Message {
  __m128i w[K][4];
  template <int G>
  __attribute__((always_inline)) __m128i word(int k) noexcept {
    if constexpr (G >= 4)  // W[4G..] from the previous sixteen words
      w[k][G & 3] = _mm_sha1msg2_epu32(
          _mm_xor_si128(_mm_sha1msg1_epu32(w[k][G & 3], w[k][(G + 1) & 3]), w[k][(G + 2) & 3]), w[k][(G + 3) & 3]);
    return w[k][G & 3];
  }
};

// Four words of the accept blocks (accept_block_words) as a vector, the first in the top lane.
inline __m128i sha1_constant_words(const std::uint32_t* words) noexcept {
  return _mm_set_epi32(static_cast<int>(words[0]), static_cast<int>(words[1]), static_cast<int>(words[2]),
                       static_cast<int>(words[3]));
}

// The accept key's second block: the same for every key, so its schedule is a constant table.
struct AcceptSecondBlock {
  template <int G>
  __attribute__((always_inline)) __m128i word(int) noexcept {
    return sha1_constant_words(accept_block_words.second_schedule + 4 * G);
  }
};

template <int K>
inline void sha1_compress_interleaved(__m128i* abcd, __m128i* e0, const std::byte* const* blocks) noexcept {
  Sha1Message<K> message;
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < 4; ++j) message.w[k][j] = sha1_load_words(blocks[k] + 16 * j);
  sha1_rounds_shani<K>(abcd, e0, message);
}

// State as registers: ABCD with A in the top lane, E in the top lane of its own register.
inline void sha1_state_to_registers(const std::uint32_t* state, __m128i& abcd, __m128i& e) noexcept {
  abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0x1B);
  e = _mm_set_epi32(static_cast<int>(state[4]), 0, 0, 0);
}
inline void sha1_registers_to_state(__m128i abcd, __m128i e, std::uint32_t* state) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_shuffle_epi32(abcd, 0x1B));
  state[4] = static_cast<std::uint32_t>(_mm_extract_epi32(e, 3));
}

inline void sha1_compress_shani(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept {
  if (blocks == 0) return;
  __m128i abcd, e;
  sha1_state_to_registers(state, abcd, e);
  for (; blocks > 0; --blocks, data += 64) sha1_compress_interleaved<1>(&abcd, &e, &data);
  sha1_registers_to_state(abcd, e, state);
}

// The 28 accept chars straight from the registers: the digest bytes big-endian (A is the top
// lane of abcd, E the top lane of e), then base64.
inline void accept_from_registers(__m128i abcd, __m128i e, char* out) noexcept {
  const __m128i bytes0_15 = _mm_shuffle_epi8(abcd, _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll));
  const __m128i bytes16_19 = _mm_shuffle_epi8(e, _mm_set_epi64x(-1ll, static_cast<long long>(0xffffffff0c0d0e0full)));
  base64_encode_digest(bytes0_15, bytes16_19, out);
}

// K accept keys of 24 characters at once (see accept_blocks in sha1.ipp), the message built in
// registers: key bytes 0..15, key bytes 16..23 with the first 8 GUID bytes, two constant vectors,
// then the constant second block.
template <int K>
inline void accept_keys_interleaved(const char* const* keys, char* out) noexcept {
  const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll);
  const __m128i guid_start = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(websocket_guid));
  Sha1Message<K> first;
  AcceptSecondBlock second;
  __m128i abcd[K], e[K];
  for (int k = 0; k < K; ++k) {
    first.w[k][0] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(keys[k])), byte_swap);
    first.w[k][1] = _mm_shuffle_epi8(
        _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(keys[k] + 16)), guid_start), byte_swap);
    first.w[k][2] = sha1_constant_words(accept_block_words.word + 8);
    first.w[k][3] = sha1_constant_words(accept_block_words.word + 12);
    sha1_state_to_registers(sha1_initial_state, abcd[k], e[k]);
  }
  sha1_rounds_shani<K>(abcd, e, first);
  sha1_rounds_shani<K>(abcd, e, second);
  for (int k = 0; k < K; ++k) accept_from_registers(abcd[k], e[k], out + 28 * k);
}

// The SHA-NI entries dispatch puts into the x86 backends.
inline void sha1_shani(const std::byte* p, std::size_t n, std::byte* out) noexcept {
  sha1_with<&sha1_compress_shani>(p, n, out);
}
inline void accept_key_shani(const char* key, std::size_t n, char* out) noexcept {
  if (n == usual_key_size) return accept_keys_interleaved<1>(&key, out);
  accept_key_with<&sha1_compress_shani>(key, n, out);
}
inline void accept_keys_shani(const std::string_view* keys, std::size_t count, char* out) noexcept {
  accept_keys_grouped<WSFRAME_SHANI_LANES>(keys, count, out, &accept_keys_interleaved<WSFRAME_SHANI_LANES>,
                                           &accept_key_shani);
}
