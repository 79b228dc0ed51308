// SHA-1 (FIPS 180-4 section 6.1) and the WebSocket accept key (RFC 6455 section 4.2.2).
//
// The hashing driver (padding, the specialised accept-key blocks) is written once over a
// block compression function; this file has the portable one, sha_ni/sha1.ipp (SHA-NI) and
// arm_sha1/sha1.ipp (ARMv8 SHA1 instructions) the hardware ones. Needs base64.ipp.

// Compresses `blocks` 64-byte blocks into state[0..4] (FIPS 180-4 6.1.2).
using Sha1Compress = void (*)(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept;

inline constexpr std::uint32_t sha1_initial_state[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};

inline std::uint32_t load_be32(const std::byte* p) noexcept { return __builtin_bswap32(load_u32(p)); }
inline void store_be32(std::byte* p, std::uint32_t v) noexcept { store_u32(p, __builtin_bswap32(v)); }

inline constexpr std::uint32_t sha1_round_constant[4] = {0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6};

// The 80 rounds on state h[0..4] with message words w[0..15] (overwritten by the rolling
// schedule), written once for V = std::uint32_t (one message) and for vectors of 32-bit lanes
// (one message per lane, see accept_keys_lanes). Fully unrolled: every index is a constant.
template <int R>
inline std::uint32_t sha1_rotl(std::uint32_t x) noexcept {
  return (x << R) | (x >> (32 - R));
}
#if defined(WSFRAME_SIMD_SHA1_LANES)
using Sha1Lanes = simd::u32_lanes;
template <int R>
inline Sha1Lanes sha1_rotl(Sha1Lanes x) noexcept {
  return simd::rotl32<R>(x);
}
#endif
template <class V>
__attribute__((always_inline)) inline void sha1_compress_words(V* h, V* w) noexcept {
  V a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  const auto round = [&]<int T>() __attribute__((always_inline)) {
    if constexpr (T >= 16) w[T & 15] = sha1_rotl<1>(w[(T + 13) & 15] ^ w[(T + 8) & 15] ^ w[(T + 2) & 15] ^ w[T & 15]);
    V f;
    if constexpr (T < 20)
      f = d ^ (b & (c ^ d));  // choose
    else if constexpr (T >= 40 && T < 60)
      f = (b & c) | (d & (b | c));  // majority
    else
      f = b ^ c ^ d;  // parity
    const V temp = sha1_rotl<5>(a) + f + e + V(sha1_round_constant[T / 20]) + w[T & 15];
    e = d;
    d = c;
    c = sha1_rotl<30>(b);
    b = a;
    a = temp;
  };
  [&]<int... T>(std::integer_sequence<int, T...>) __attribute__((always_inline)) { (round.template operator()<T>(), ...); }(
      std::make_integer_sequence<int, 80>{});
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

inline void sha1_compress_portable(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept {
  for (; blocks > 0; --blocks, data += 64) {
    std::uint32_t w[16];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(data + 4 * t);
    sha1_compress_words(state, w);
  }
}

// Incremental hashing over one compression function: the general path (any length, and
// accept keys that are not 24 characters long).
template <Sha1Compress Compress>
struct Sha1Stream {
  std::uint32_t state[5] = {sha1_initial_state[0], sha1_initial_state[1], sha1_initial_state[2],
                            sha1_initial_state[3], sha1_initial_state[4]};
  std::byte buffer[64] = {};
  std::size_t buffered = 0;
  std::uint64_t total = 0;

  void update(const std::byte* p, std::size_t n) noexcept {
    if (n == 0) return;  // p may be null
    total += n;
    if (buffered > 0) {
      const std::size_t take = n < 64 - buffered ? n : 64 - buffered;
      __builtin_memcpy(buffer + buffered, p, take);
      buffered += take, p += take, n -= take;
      if (buffered < 64) return;
      Compress(state, buffer, 1);
      buffered = 0;
    }
    Compress(state, p, n / 64);
    buffered = n % 64;
    if (buffered > 0) __builtin_memcpy(buffer, p + n / 64 * 64, buffered);
  }

  // FIPS 180-4 5.1.1: a 1 bit, zeros, and the 64-bit big-endian message length in bits.
  void finish(std::byte* out) noexcept {
    std::byte tail[128] = {};
    __builtin_memcpy(tail, buffer, buffered);
    tail[buffered] = std::byte{0x80};
    const std::size_t blocks = buffered < 56 ? 1 : 2;
    const std::uint64_t bits = total * 8;
    store_be32(tail + blocks * 64 - 8, static_cast<std::uint32_t>(bits >> 32));
    store_be32(tail + blocks * 64 - 4, static_cast<std::uint32_t>(bits));
    Compress(state, tail, blocks);
    for (int i = 0; i < 5; ++i) store_be32(out + 4 * i, state[i]);
  }
};

template <Sha1Compress Compress>
inline void sha1_with(const std::byte* p, std::size_t n, std::byte* out) noexcept {
  Sha1Stream<Compress> stream;
  stream.update(p, n);
  stream.finish(out);
}

// RFC 6455 4.2.2: the GUID appended to the key before hashing.
inline constexpr char websocket_guid[37] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::size_t usual_key_size = 24;  // base64 of the 16-byte nonce (RFC 6455 4.1)

// The two blocks SHA-1 hashes for a 24-character key: key + GUID is 60 bytes, then the padding
// 0x80, zeros, and the length 480 bits. Only the first 24 bytes change from key to key.
inline void accept_blocks(const char* key, std::byte* blocks) noexcept {
  __builtin_memset(blocks, 0, 128);
  __builtin_memcpy(blocks, key, usual_key_size);
  __builtin_memcpy(blocks + usual_key_size, websocket_guid, 36);
  blocks[60] = std::byte{0x80};
  store_be32(blocks + 124, 480);
}

// The same as words, for the paths that build the message in registers.
struct AcceptBlockWords {
  std::uint32_t word[32];            // the two blocks as big-endian words, the key's six words zero
  std::uint32_t second_schedule[80]; // W[0..79] of the second block, which is the same for every key
};
constexpr AcceptBlockWords make_accept_block_words() noexcept {
  AcceptBlockWords t{};
  const auto byte_at = [](unsigned p) -> std::uint32_t {
    if (p < usual_key_size) return 0;
    if (p < 60) return static_cast<unsigned char>(websocket_guid[p - usual_key_size]);
    if (p == 60) return 0x80;
    if (p == 126) return 480 >> 8;
    if (p == 127) return 480 & 0xFF;
    return 0;
  };
  for (unsigned j = 0; j < 32; ++j)
    t.word[j] = byte_at(4 * j) << 24 | byte_at(4 * j + 1) << 16 | byte_at(4 * j + 2) << 8 | byte_at(4 * j + 3);
  for (unsigned j = 0; j < 80; ++j) {  // FIPS 180-4 6.1.2 step 1
    if (j < 16) {
      t.second_schedule[j] = t.word[16 + j];
    } else {
      const std::uint32_t x = t.second_schedule[j - 3] ^ t.second_schedule[j - 8] ^ t.second_schedule[j - 14] ^ t.second_schedule[j - 16];
      t.second_schedule[j] = (x << 1) | (x >> 31);
    }
  }
  return t;
}
inline constexpr AcceptBlockWords accept_block_words = make_accept_block_words();

inline void accept_from_state(const std::uint32_t* state, char* out) noexcept {
  std::byte digest[20];
  for (int i = 0; i < 5; ++i) store_be32(digest + 4 * i, state[i]);
  base64_encode_scalar(digest, 20, out);
}

template <Sha1Compress Compress>
inline void accept_key_with(const char* key, std::size_t n, char* out) noexcept {
  if (n == usual_key_size) {
    std::byte blocks[128];
    accept_blocks(key, blocks);
    std::uint32_t state[5] = {sha1_initial_state[0], sha1_initial_state[1], sha1_initial_state[2],
                              sha1_initial_state[3], sha1_initial_state[4]};
    Compress(state, blocks, 2);
    return accept_from_state(state, out);
  }
  Sha1Stream<Compress> stream;
  stream.update(reinterpret_cast<const std::byte*>(key), n);
  stream.update(reinterpret_cast<const std::byte*>(websocket_guid), 36);
  std::byte digest[20];
  stream.finish(digest);
  base64_encode_scalar(digest, 20, out);
}

template <Sha1Compress Compress>
inline void accept_keys_with(const std::string_view* keys, std::size_t count, char* out) noexcept {
  for (std::size_t i = 0; i < count; ++i) accept_key_with<Compress>(keys[i].data(), keys[i].size(), out + 28 * i);
}

// Batches: usual (24-char) keys go Lanes at a time to group(starts, out), which writes key k's
// accept at out + 28 * k; any other key goes to single(key, n, out). A last, partial group is
// filled up with copies of its first key, so a batch never falls back to one key at a time.
template <int Lanes, class Group, class Single>
inline void accept_keys_grouped(const std::string_view* keys, std::size_t count, char* out, Group group,
                                Single single) noexcept {
  const char* starts[Lanes];
  std::size_t where[Lanes];  // the index of each grouped key in the batch
  int filled = 0;
  const auto flush = [&] {
    if (filled == Lanes && where[Lanes - 1] - where[0] == static_cast<std::size_t>(Lanes - 1)) {
      group(starts, out + 28 * where[0]);  // a full run of consecutive keys: straight to out
    } else {
      char chars[28 * Lanes];
      for (int k = filled; k < Lanes; ++k) starts[k] = starts[0];
      group(starts, chars);
      for (int k = 0; k < filled; ++k) __builtin_memcpy(out + 28 * where[k], chars + 28 * k, 28);
    }
    filled = 0;
  };
  for (std::size_t i = 0; i < count; ++i) {
    if (keys[i].size() != usual_key_size) {
      single(keys[i].data(), keys[i].size(), out + 28 * i);
      continue;
    }
    starts[filled] = keys[i].data();
    where[filled++] = i;
    if (filled == Lanes) flush();
  }
  if (filled > 0) flush();
}

#if defined(WSFRAME_SIMD_SHA1_LANES)
// ---------------------------------------------------------------------------------------------
// Multi-buffer SHA-1 for accept_keys: one key per 32-bit lane (8 on avx2, 16 on avx512), the
// portable rounds on whole vectors. Of the two blocks (accept_blocks) only the first six words
// differ between keys; the rest are constants the compiler folds.

// Sha1Lanes::size keys of 24 characters; key k's accept goes to out + 28 * k.
inline void accept_keys_lanes(const char* const* keys, char* out) noexcept {
  constexpr std::size_t lanes = Sha1Lanes::size;
  alignas(64) std::uint32_t key_words[6][lanes];
  for (std::size_t k = 0; k < lanes; ++k)
    for (int j = 0; j < 6; ++j) key_words[j][k] = load_be32(reinterpret_cast<const std::byte*>(keys[k]) + 4 * j);
  Sha1Lanes h[5], w[16];
  for (int i = 0; i < 5; ++i) h[i] = Sha1Lanes(sha1_initial_state[i]);
  for (int j = 0; j < 6; ++j) w[j] = Sha1Lanes::load_aligned(key_words[j]);
  for (int j = 6; j < 16; ++j) w[j] = Sha1Lanes(accept_block_words.word[j]);
  sha1_compress_words(h, w);
  for (int j = 0; j < 16; ++j) w[j] = Sha1Lanes(accept_block_words.word[16 + j]);
  sha1_compress_words(h, w);

  alignas(64) std::uint32_t state[5][lanes];
  for (int i = 0; i < 5; ++i) h[i].store_aligned(state[i]);
  const __m128i byte_swap_words = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  for (std::size_t k = 0; k < lanes; ++k) {
    const __m128i first = _mm_set_epi32(static_cast<int>(state[3][k]), static_cast<int>(state[2][k]),
                                         static_cast<int>(state[1][k]), static_cast<int>(state[0][k]));
    base64_encode_digest(_mm_shuffle_epi8(first, byte_swap_words),
                         _mm_cvtsi32_si128(static_cast<int>(__builtin_bswap32(state[4][k]))), out + 28 * k);
  }
}
#endif

// The portable Backend entries.
inline void sha1(const std::byte* p, std::size_t n, std::byte* out) noexcept {
  sha1_with<&sha1_compress_portable>(p, n, out);
}
inline void accept_key(const char* key, std::size_t n, char* out) noexcept {
  accept_key_with<&sha1_compress_portable>(key, n, out);
}
inline void accept_keys(const std::string_view* keys, std::size_t count, char* out) noexcept {
#if defined(WSFRAME_SIMD_SHA1_LANES)
  accept_keys_grouped<static_cast<int>(Sha1Lanes::size)>(keys, count, out, &accept_keys_lanes, &accept_key);
#else
  accept_keys_with<&sha1_compress_portable>(keys, count, out);
#endif
}
