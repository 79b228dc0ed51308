// Frame header codec: decode_header on every backend (the scalar backend is the oracle),
// encode_header, check_header.
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "support.hpp"

using namespace wsframe;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> v;
  for (unsigned x : values) v.push_back(static_cast<std::byte>(x));
  return v;
}

// Decodes from a heap block of exactly n bytes, so ASan catches any read past the end.
HeaderResult decode_exact(const Backend& b, const std::byte* p, std::size_t n, FrameHeader& h) {
  auto copy = std::make_unique<std::byte[]>(n == 0 ? 1 : n);
  if (n != 0) std::memcpy(copy.get(), p, n);
  return decode_header(b, {copy.get(), n}, h);
}

bool same(const FrameHeader& a, const FrameHeader& b) {
  return a.payload_length == b.payload_length && a.mask_key == b.mask_key && a.opcode == b.opcode &&
         a.fin == b.fin && a.masked == b.masked && a.rsv == b.rsv && a.size == b.size;
}

// Every backend this CPU runs, scalar included.
std::vector<const Backend*> runnable_backends() {
  std::vector<const Backend*> all;
  for (const BackendInfo& info : backends())
    if (info.supported) all.push_back(info.backend);
  return all;
}

std::vector<std::byte> encoded(const FrameHeader& h) {
  std::array<std::byte, max_header_size> out{};
  const std::size_t n = encode_header(h, out);
  return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace

TEST_CASE("RFC 6455 5.7 examples, byte for byte", "[frame]") {
  const MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  struct Example {
    const char* name;
    std::vector<std::byte> wire;  // header and payload as on the wire
    Opcode opcode;
    bool fin, masked;
    std::uint64_t length;
    std::size_t header;
    const char* text;  // the payload after unmasking, or nullptr (not checked)
  };
  const std::vector<Example> examples = {
      {"single-frame unmasked text", bytes_of({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Opcode::text, true, false, 5, 2, "Hello"},
      {"single-frame masked text", bytes_of({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), Opcode::text, true, true, 5, 6, "Hello"},
      {"fragmented unmasked text, first", bytes_of({0x01, 0x03, 0x48, 0x65, 0x6c}), Opcode::text, false, false, 3, 2, "Hel"},
      {"fragmented unmasked text, last", bytes_of({0x80, 0x02, 0x6c, 0x6f}), Opcode::continuation, true, false, 2, 2, "lo"},
      {"unmasked ping", bytes_of({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Opcode::ping, true, false, 5, 2, "Hello"},
      {"unmasked pong", bytes_of({0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), Opcode::pong, true, false, 5, 2, "Hello"},
      {"masked pong", bytes_of({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), Opcode::pong, true, true, 5, 6, "Hello"},
      {"256-byte binary, unmasked", bytes_of({0x82, 0x7e, 0x01, 0x00}), Opcode::binary, true, false, 256, 4, nullptr},
      {"64 KiB binary, unmasked", bytes_of({0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}), Opcode::binary, true, false, 65536, 10, nullptr},
  };
  for (const Example& ex : examples) {
    INFO(ex.name);
    for (const Backend* b : runnable_backends()) {
      INFO("backend " << b->name);
      FrameHeader h;
      const HeaderResult r = decode_exact(*b, ex.wire.data(), ex.wire.size(), h);
      REQUIRE(r.status == HeaderStatus::complete);
      CHECK(r.size == ex.header);
      CHECK(h.size == ex.header);
      CHECK(h.opcode == ex.opcode);
      CHECK(h.fin == ex.fin);
      CHECK(h.masked == ex.masked);
      CHECK(h.rsv == 0);
      CHECK(h.payload_length == ex.length);
      if (ex.masked) CHECK(h.mask_key == key);
      if (ex.text != nullptr) {
        std::vector<std::byte> payload(ex.wire.begin() + static_cast<std::ptrdiff_t>(ex.header), ex.wire.end());
        if (h.masked) mask(*b, payload, h.mask_key);
        CHECK(std::string(reinterpret_cast<const char*>(payload.data()), payload.size()) == ex.text);
      }
    }
    // Encoding the decoded header gives the same bytes back (all examples are minimal).
    FrameHeader h;
    REQUIRE(decode_header(ex.wire, h).status == HeaderStatus::complete);
    const std::vector<std::byte> header(ex.wire.begin(), ex.wire.begin() + static_cast<std::ptrdiff_t>(ex.header));
    CHECK(encoded(h) == header);
  }
}

TEST_CASE("decode_header", "[frame]") {
  SECTION("fewer bytes than the header: need_more with the total size, for every prefix") {
    FrameHeader full;
    for (std::uint64_t length : {0ull, 125ull, 126ull, 65535ull, 65536ull, (1ull << 63) - 1}) {
      for (bool masked : {false, true}) {
        full.payload_length = length;
        full.masked = masked;
        full.mask_key = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
        const std::vector<std::byte> wire = encoded(full);
        REQUIRE(wire.size() == header_size(length, masked));
        for (const Backend* b : runnable_backends()) {
          INFO("backend " << b->name << " length " << length << " masked " << masked);
          for (std::size_t n = 0; n < wire.size(); ++n) {
            FrameHeader h;
            const HeaderResult r = decode_exact(*b, wire.data(), n, h);
            CHECK(r.status == HeaderStatus::need_more);
            CHECK(r.size == (n < 2 ? 2 : wire.size()));
          }
          FrameHeader h;
          REQUIRE(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::complete);
          CHECK(h.payload_length == length);
        }
      }
    }
  }

  SECTION("a 64-bit length with the top bit set is an error (RFC 6455 5.2)") {
    for (const Backend* b : runnable_backends()) {
      for (unsigned top : {0x80u, 0xffu}) {
        const auto wire = bytes_of({0x82, 0xff, top, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
        FrameHeader h;
        CHECK(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::length_too_large);
        CHECK(decode_exact(*b, wire.data(), 10, h).status == HeaderStatus::need_more);  // key still missing
      }
    }
  }

  SECTION("non-minimal length encodings are accepted") {
    for (const Backend* b : runnable_backends()) {
      FrameHeader h;
      const auto in16 = bytes_of({0x82, 0x7e, 0x00, 0x05});
      REQUIRE(decode_exact(*b, in16.data(), in16.size(), h).status == HeaderStatus::complete);
      CHECK(h.payload_length == 5);
      CHECK(h.size == 4);
      const auto in64 = bytes_of({0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 200});
      REQUIRE(decode_exact(*b, in64.data(), in64.size(), h).status == HeaderStatus::complete);
      CHECK(h.payload_length == 200);
      CHECK(h.size == 10);
    }
  }

  SECTION("every backend agrees with scalar on random bytes, at every length given") {
    const Backend& scalar = test::scalar_backend();
    const int rounds = test::quick() ? 2000 : 50000;
    for (int i = 0; i < rounds; ++i) {
      std::vector<std::byte> wire = test::random_bytes(16);
      // Favour the interesting length classes in the second byte.
      const unsigned pick = static_cast<unsigned>(test::rng()() % 4);
      if (pick < 3) wire[1] = (wire[1] & std::byte{0x80}) | static_cast<std::byte>(pick == 0 ? 5 : 125 + pick);
      if (pick == 2 && (test::rng()() & 1)) wire[2] &= std::byte{0x7f};
      const std::size_t n = test::rng()() % 17;
      FrameHeader expected;
      const HeaderResult want = decode_exact(scalar, wire.data(), n, expected);
      test::for_each_simd_backend([&](const Backend& b) {
        FrameHeader got;
        const HeaderResult r = decode_exact(b, wire.data(), n, got);
        REQUIRE(r.status == want.status);
        REQUIRE(r.size == want.size);
        if (r.status == HeaderStatus::complete) REQUIRE(same(got, expected));
      });
    }
  }

  SECTION("FIN, RSV1..3, every opcode, mask flag and key are read") {
    for (const Backend* b : runnable_backends()) {
      for (unsigned b0 = 0; b0 < 256; ++b0) {
        const auto wire = bytes_of({b0, 0x80 | 7, 9, 8, 7, 6});
        FrameHeader h;
        REQUIRE(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::complete);
        CHECK(h.fin == ((b0 & 0x80) != 0));
        CHECK(h.rsv == ((b0 >> 4) & 7));
        CHECK(static_cast<unsigned>(h.opcode) == (b0 & 15));
        CHECK(h.masked);
        CHECK(h.mask_key == MaskKey{std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}});
        CHECK(h.payload_length == 7);
      }
    }
  }
}

TEST_CASE("encode_header", "[frame]") {
  SECTION("minimal encoding for every length class, and it decodes back") {
    const std::uint64_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 1ull << 32, (1ull << 63) - 1};
    for (std::uint64_t length : lengths) {
      for (bool masked : {false, true}) {
        FrameHeader h;
        h.payload_length = length;
        h.masked = masked;
        h.opcode = Opcode::binary;
        h.fin = (length & 1) != 0;
        h.rsv = rsv1 | rsv3;
        if (masked) h.mask_key = {std::byte{0xa1}, std::byte{0xb2}, std::byte{0xc3}, std::byte{0xd4}};
        const auto wire = encoded(h);
        const std::size_t expected = 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + (masked ? 4 : 0);
        CHECK(wire.size() == expected);
        CHECK(header_size(length, masked) == expected);
        FrameHeader back;
        REQUIRE(decode_header(wire, back).status == HeaderStatus::complete);
        h.size = static_cast<std::uint8_t>(expected);
        CHECK(same(back, h));
      }
    }
  }
  SECTION("a length of 2^63 or more is refused") {
    FrameHeader h;
    h.payload_length = 1ull << 63;
    std::array<std::byte, max_header_size> out{};
    CHECK(encode_header(h, out) == 0);
  }
}

TEST_CASE("check_header", "[frame]") {
  const HeaderRules server{.expect_masked = true, .allowed_rsv = 0};
  FrameHeader h;
  h.masked = true;
  h.opcode = Opcode::text;
  SECTION("a plain masked text frame is fine for a server") { CHECK(check_header(h, server) == Error::ok); }
  SECTION("RSV1..3 without an extension") {
    for (std::uint8_t r : {rsv1, rsv2, rsv3}) {
      h.rsv = r;
      CHECK(check_header(h, server) == Error::reserved_bits_set);
    }
    h.rsv = rsv1;
    CHECK(check_header(h, {.expect_masked = true, .allowed_rsv = rsv1}) == Error::ok);
  }
  SECTION("reserved opcodes 3-7 and 11-15") {
    for (unsigned op = 0; op < 16; ++op) {
      h.opcode = static_cast<Opcode>(op);
      const bool reserved = (op >= 3 && op <= 7) || op >= 11;
      CHECK((check_header(h, server) == Error::reserved_opcode) == reserved);
    }
  }
  SECTION("control frames: fragmented, or over 125 bytes") {
    h.opcode = Opcode::ping;
    h.fin = false;
    CHECK(check_header(h, server) == Error::control_frame_fragmented);
    h.fin = true;
    h.payload_length = 126;
    CHECK(check_header(h, server) == Error::control_frame_too_large);
    h.payload_length = 125;
    CHECK(check_header(h, server) == Error::ok);
  }
  SECTION("the mask flag: required from clients, forbidden from servers") {
    h.masked = false;
    CHECK(check_header(h, server) == Error::frame_not_masked);
    CHECK(check_header(h, {.expect_masked = false}) == Error::ok);
    h.masked = true;
    CHECK(check_header(h, {.expect_masked = false}) == Error::frame_masked);
  }
}

TEST_CASE("decode_header at every length-class boundary (RFC 6455 5.2)", "[frame][boundaries]") {
  // The wire bytes of a binary frame header with the given length code and extended length.
  const auto header = [](unsigned code, std::uint64_t extended, bool masked) {
    std::vector<std::byte> wire = bytes_of({0x82, (masked ? 0x80u : 0u) | code});
    const unsigned extended_bytes = code == 126 ? 2 : code == 127 ? 8 : 0;
    for (unsigned i = extended_bytes; i-- > 0;) wire.push_back(static_cast<std::byte>(extended >> (8 * i)));
    if (masked) wire.insert(wire.end(), {std::byte{0xa1}, std::byte{0xb2}, std::byte{0xc3}, std::byte{0xd4}});
    return wire;
  };
  SECTION("the 64-bit length: 2^63 - 1 is a length, 2^63 and above are errors (the top bit must be 0)") {
    const std::pair<std::uint64_t, bool> cases[] = {
        {(1ull << 63) - 1, true}, {1ull << 63, false}, {(1ull << 63) + 1, false}, {~0ull, false}};
    for (const Backend* b : runnable_backends()) {
      for (const auto& [length, valid] : cases) {
        for (bool masked : {false, true}) {
          INFO("backend " << b->name << " length " << length << " masked " << masked);
          const std::vector<std::byte> wire = header(127, length, masked);
          FrameHeader h;
          const HeaderResult r = decode_exact(*b, wire.data(), wire.size(), h);
          CHECK(r.status == (valid ? HeaderStatus::complete : HeaderStatus::length_too_large));
          if (valid) CHECK(h.payload_length == length);
        }
      }
    }
  }
  SECTION("every length code 0..127 and the extended lengths at their class edges") {
    for (const Backend* b : runnable_backends()) {
      for (unsigned code = 0; code < 126; ++code) {
        FrameHeader h;
        const std::vector<std::byte> wire = header(code, 0, true);
        REQUIRE(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::complete);
        CHECK(h.payload_length == code);
        CHECK(h.size == 6);
      }
      for (std::uint64_t length : {0ull, 125ull, 126ull, 65535ull}) {
        FrameHeader h;
        const std::vector<std::byte> wire = header(126, length, true);
        REQUIRE(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::complete);
        CHECK(h.payload_length == length);
        CHECK(h.size == 8);
      }
      for (std::uint64_t length : {0ull, 65535ull, 65536ull, 1ull << 32, (1ull << 63) - 1}) {
        FrameHeader h;
        const std::vector<std::byte> wire = header(127, length, true);
        REQUIRE(decode_exact(*b, wire.data(), wire.size(), h).status == HeaderStatus::complete);
        CHECK(h.payload_length == length);
        CHECK(h.size == 14);
        CHECK(h.mask_key == MaskKey{std::byte{0xa1}, std::byte{0xb2}, std::byte{0xc3}, std::byte{0xd4}});
      }
    }
  }
  SECTION("MASK 0: the key is zero, whatever bytes follow the header") {
    for (const Backend* b : runnable_backends()) {
      for (unsigned code : {5u, 126u, 127u}) {
        std::vector<std::byte> wire = header(code, 300, false);
        const std::size_t size = wire.size();
        wire.insert(wire.end(), 16, std::byte{0xee});  // payload bytes, not a key
        INFO("backend " << b->name << " length code " << code);
        for (std::size_t n = size; n <= wire.size(); ++n) {
          FrameHeader h;
          h.mask_key = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
          REQUIRE(decode_exact(*b, wire.data(), n, h).status == HeaderStatus::complete);
          CHECK(!h.masked);
          CHECK(h.mask_key == MaskKey{});
          CHECK(h.size == size);
        }
      }
    }
  }
}
