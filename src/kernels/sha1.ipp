// SHA-1 (FIPS 180-4 section 6.1) and the WebSocket accept key (RFC 6455 section 4.2.2).
//
// The hashing driver (padding, the specialised accept-key blocks) is written once over a
// block compression function; this file has the portable one, sha1_x86.ipp (SHA-NI) and
// sha1_arm.ipp (ARMv8 SHA1 instructions) the hardware ones. Needs base64.ipp.

// Compresses `blocks` 64-byte blocks into state[0..4] (FIPS 180-4 6.1.2).
using Sha1Compress = void (*)(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept;

inline constexpr std::uint32_t sha1_initial_state[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};

inline std::uint32_t rotl32(std::uint32_t x, unsigned r) noexcept { return (x << r) | (x >> (32 - r)); }
inline std::uint32_t load_be32(const std::byte* p) noexcept { return __builtin_bswap32(load_u32(p)); }
inline void store_be32(std::byte* p, std::uint32_t v) noexcept { store_u32(p, __builtin_bswap32(v)); }

inline void sha1_compress_portable(std::uint32_t* state, const std::byte* data, std::size_t blocks) noexcept {
  for (; blocks > 0; --blocks, data += 64) {
    std::uint32_t w[16];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(data + 4 * t);
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    // W[t] for t >= 16 lives in w[t % 16] (a rolling 16-word schedule).
    const auto schedule = [&w](int t) {
      const std::uint32_t v = rotl32(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1);
      w[t & 15] = v;
      return v;
    };
    const auto round = [&](std::uint32_t f, std::uint32_t k, std::uint32_t wt) {
      const std::uint32_t temp = rotl32(a, 5) + f + e + k + wt;
      e = d;
      d = c;
      c = rotl32(b, 30);
      b = a;
      a = temp;
    };
    for (int t = 0; t < 16; ++t) round((b & c) | (~b & d), 0x5A827999, w[t]);
    for (int t = 16; t < 20; ++t) round((b & c) | (~b & d), 0x5A827999, schedule(t));
    for (int t = 20; t < 40; ++t) round(b ^ c ^ d, 0x6ED9EBA1, schedule(t));
    for (int t = 40; t < 60; ++t) round((b & c) | (b & d) | (c & d), 0x8F1BBCDC, schedule(t));
    for (int t = 60; t < 80; ++t) round(b ^ c ^ d, 0xCA62C1D6, schedule(t));
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
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

// The portable Backend entries.
inline void sha1(const std::byte* p, std::size_t n, std::byte* out) noexcept {
  sha1_with<&sha1_compress_portable>(p, n, out);
}
inline void accept_key(const char* key, std::size_t n, char* out) noexcept {
  accept_key_with<&sha1_compress_portable>(key, n, out);
}
inline void accept_keys(const std::string_view* keys, std::size_t count, char* out) noexcept {
  accept_keys_with<&sha1_compress_portable>(keys, count, out);
}
