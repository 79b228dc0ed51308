// permessage-deflate in the Connection (RFC 7692 sections 6 and 7.2): the RFC's examples byte for
// byte, round trips for every window size and context-takeover combination, compressed messages
// split at every point, decompression bombs against the limits (peak heap measured), UTF-8 of
// inflated text, and the receive-side rules.
#include <algorithm>
#include <string>
#include <vector>

#include "connection_support.hpp"
#include "counting_new.hpp"
#include "support.hpp"

#ifdef WSFRAME_TEST_ZLIB
#include <zlib.h>
#endif

using namespace wsframe;
using namespace wsframe::test;

namespace {

Bytes hex(std::initializer_list<unsigned> v) {
  Bytes out;
  for (unsigned b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::span<const std::byte> as_span(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

CompressionOptions always_compress(int level = 6) { return {.level = level, .threshold = 0}; }

Connection deflate_server(DeflateParameters p = {}, CompressionOptions c = always_compress(), Limits l = {},
                          bool fragments = false) {
  return Connection(Role::server, l, {.deliver_fragments = fragments, .deflate = p, .compression = c});
}
Connection deflate_client(DeflateParameters p = {}, CompressionOptions c = always_compress(), Limits l = {},
                          bool fragments = false) {
  return Connection(Role::client, l,
                    {.deliver_fragments = fragments, .deflate = p, .compression = c, .mask_seed = 7});
}

Bytes take_output(Connection& c) {
  const auto out = c.pending_output();
  Bytes bytes(out.begin(), out.end());
  c.consume_output(out.size());
  return bytes;
}

// The payload of the single unmasked frame a server just queued (header stripped).
Bytes payload_of(const Bytes& frame_bytes) {
  FrameHeader h;
  const HeaderResult r = decode_header(frame_bytes, h);
  REQUIRE(r.status == HeaderStatus::complete);
  REQUIRE(r.size + h.payload_length == frame_bytes.size());
  return {frame_bytes.begin() + static_cast<std::ptrdiff_t>(r.size), frame_bytes.end()};
}

Seen text_message(std::string_view s, std::uint8_t rsv = rsv1) {
  return {EventType::message, MessageKind::text, false, false, rsv, 0, Error::ok, bytes(s)};
}

Seen error_event(Error e) { return {EventType::error, MessageKind::binary, false, false, 0, close_code(e), e, {}}; }

// JSON-like text with repeats near and far (a distance beyond 2^8 and beyond 2^12), so that a
// compressor using a larger window than agreed fails inflates_within_window().
std::string sample_text(std::size_t n, unsigned seed) {
  std::string block;
  std::mt19937 r(seed);
  while (block.size() < 700) block += "{\"id\":" + std::to_string(r() % 100000) + ",\"px\":" + std::to_string(r() % 997) + "},";
  std::string s;
  while (s.size() < n) s += (r() % 3 == 0) ? block : block.substr(r() % 300, 1 + r() % 200);
  s.resize(n);
  return s;
}

// The payload of every message in a stream of frames (unmasked, fragments joined).
std::vector<Bytes> message_payloads(const Bytes& wire) {
  std::vector<Bytes> messages;
  Bytes current;
  for (std::size_t at = 0; at < wire.size();) {
    FrameHeader h;
    const HeaderResult r = decode_header(std::span(wire).subspan(at), h);
    REQUIRE(r.status == HeaderStatus::complete);
    at += r.size;
    Bytes payload(wire.begin() + static_cast<std::ptrdiff_t>(at),
                  wire.begin() + static_cast<std::ptrdiff_t>(at + h.payload_length));
    at += h.payload_length;
    if (h.masked) mask(payload, h.mask_key);
    current.insert(current.end(), payload.begin(), payload.end());
    if (h.fin) messages.push_back(std::exchange(current, {}));
  }
  return messages;
}

#ifdef WSFRAME_TEST_ZLIB
// An oracle for the window a compressor used: zlib inflating with exactly `window_bits`, one
// output byte per call. zlib checks a match's distance against its window only when the match
// reaches back before the current call; with one byte per call every match does. True when
// every message (its payload plus the 00 00 FF FF tail) inflates to `expected`.
bool inflates_within_window(const std::vector<Bytes>& payloads, const std::vector<std::string>& expected,
                            int window_bits) {
  z_stream z{};
  if (inflateInit2(&z, -window_bits) != Z_OK) return false;
  bool ok = payloads.size() == expected.size();
  for (std::size_t m = 0; ok && m < payloads.size(); ++m) {
    const Bytes in = cat({payloads[m], hex({0x00, 0x00, 0xff, 0xff})});
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      unsigned char byte;
      z.next_out = &byte;
      z.avail_out = 1;
      const int r = inflate(&z, Z_SYNC_FLUSH);
      if (z.avail_out == 0) out += static_cast<char>(byte);
      if (r == Z_BUF_ERROR || (r == Z_OK && z.avail_in == 0 && z.avail_out == 1)) break;
      if (r != Z_OK) {
        ok = false;
        break;
      }
    }
    ok = ok && out == expected[m];
  }
  inflateEnd(&z);
  return ok;
}
#endif

// Bits written least significant first (RFC 1951 3.1.1).
class BitWriter {
 public:
  void put(std::uint32_t value, int bits) {
    for (int i = 0; i < bits; ++i) {
      if (used_ == 0) out_.push_back(std::byte{0});
      if ((value >> i) & 1) out_.back() |= static_cast<std::byte>(1u << used_);
      used_ = (used_ + 1) % 8;
    }
  }
  // A Huffman code: most significant bit first (RFC 1951 3.1.1).
  void code(std::uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) put((value >> i) & 1, 1);
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
  int used_ = 0;
};

// A deflate stream (as sent, without the 00 00 FF FF tail) that inflates to 1 + 258 * matches
// zero bytes: one fixed-Huffman block of a literal 0 and `matches` copies of <length 258,
// distance 1>, 13 bits each (RFC 1951 3.2.6), then the sync flush's empty stored block header.
Bytes zero_bomb(std::size_t matches) {
  BitWriter w;
  w.put(0, 1);             // BFINAL 0
  w.put(1, 2);             // BTYPE 01: fixed Huffman codes
  w.code(0x30 + 0, 8);     // literal 0
  for (std::size_t i = 0; i < matches; ++i) {
    w.code(0xc0 + 5, 8);   // length code 285: 258 bytes, no extra bits
    w.code(0, 5);          // distance code 0: distance 1
  }
  w.code(0, 7);            // end of block (256)
  w.put(0, 3);             // empty stored block: BFINAL 0, BTYPE 00, then byte alignment
  return w.take();         // LEN/NLEN 00 00 FF FF left out, as a sender does
}

}  // namespace

// A build without zlib (the aarch64 cross build) has no permessage-deflate to test.
#define SKIP_WITHOUT_ZLIB()                                                              \
  if (!deflate_available()) {                                                            \
    WARN("skipped: this wsframe was built without zlib, so it has no permessage-deflate"); \
    return;                                                                              \
  }

TEST_CASE("RFC 7692 7.2.3: the examples, byte for byte", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const Bytes hello_frame = hex({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  SECTION("7.2.3.1 a message compressed: sent and received") {
    Connection server = deflate_server();
    REQUIRE(server.send_text("Hello") == Error::ok);
    CHECK(take_output(server) == hello_frame);
    for (Split split : {Split::whole, Split::byte_by_byte}) {
      Connection client = deflate_client();
      CHECK(feed(client, hello_frame, split) == std::vector{text_message("Hello")});
    }
  }
  SECTION("7.2.3.1 the same message in two fragments") {
    const Bytes wire = cat({hex({0x41, 0x03, 0xf2, 0x48, 0xcd}), hex({0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00})});
    Connection client = deflate_client();
    CHECK(feed(client, wire, Split::whole) == std::vector{text_message("Hello")});
  }
  SECTION("7.2.3.2 sharing the LZ77 window: the second Hello refers to the first") {
    const Bytes second = hex({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});
    Connection server = deflate_server();
    REQUIRE(server.send_text("Hello") == Error::ok);
    REQUIRE(server.send_text("Hello") == Error::ok);
    CHECK(take_output(server) == cat({hello_frame, second}));
    Connection client = deflate_client();
    CHECK(feed(client, cat({hello_frame, second}), Split::byte_by_byte) ==
          std::vector{text_message("Hello"), text_message("Hello")});
  }
  SECTION("7.2.3.2 without context takeover both messages compress alike") {
    Connection server = deflate_server({.server_no_context_takeover = true});
    REQUIRE(server.send_text("Hello") == Error::ok);
    REQUIRE(server.send_text("Hello") == Error::ok);
    CHECK(take_output(server) == cat({hello_frame, hello_frame}));
  }
  SECTION("7.2.3.3 a DEFLATE block with no compression (zlib level 0)") {
    const Bytes stored = hex({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});
    Connection server = deflate_server({}, always_compress(0));
    REQUIRE(server.send_text("Hello") == Error::ok);
    CHECK(take_output(server) == stored);
    Connection client = deflate_client();
    CHECK(feed(client, stored, Split::byte_by_byte) == std::vector{text_message("Hello")});
  }
  SECTION("7.2.3.4 a DEFLATE block with BFINAL set, and the window kept after it") {
    const Bytes final_block = hex({0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
    const Bytes refers_back = hex({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00});  // 7.2.3.2's second message
    // Without the RFC's trailing 00 (the header of an empty stored block) the message ends
    // with the final block, and the tail must then not be inflated.
    const Bytes final_block_only = hex({0xc1, 0x07, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
    for (Split split : {Split::whole, Split::byte_by_byte}) {
      Connection client = deflate_client();
      CHECK(feed(client, cat({final_block, refers_back, final_block_only, refers_back}), split) ==
            std::vector{text_message("Hello"), text_message("Hello"), text_message("Hello"), text_message("Hello")});
    }
  }
  SECTION("7.2.3.5 two DEFLATE blocks in one message") {
    const Bytes two_blocks =
        hex({0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00});
    Connection client = deflate_client();
    CHECK(feed(client, two_blocks, Split::byte_by_byte) == std::vector{text_message("Hello")});
  }
  SECTION("7.2.3.6 an empty last fragment: a single 00 byte") {
    const Bytes wire = cat({hex({0x41, 0x0b, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff}),
                            hex({0x80, 0x01, 0x00})});
    Connection server = deflate_server();
    REQUIRE(server.begin_message(MessageKind::text, as_span(std::string("Hello"))) == Error::ok);
    REQUIRE(server.finish_message({}) == Error::ok);
    CHECK(take_output(server) == wire);
    Connection client = deflate_client();
    CHECK(feed(client, wire, Split::whole) == std::vector{text_message("Hello")});
  }
}

TEST_CASE("round trips for every window size and context takeover combination", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const unsigned step = quick() ? 7 : 1;
  std::vector<std::string> messages;
  for (std::size_t n : {0u, 1u, 5u, 100u, 600u, 4096u, 5000u}) messages.push_back(sample_text(n, static_cast<unsigned>(n)));
  messages.push_back(messages[5]);  // an exact repeat, all of it in the window at 15 bits
  for (unsigned server_bits = 8; server_bits <= 15; server_bits += step)
    for (unsigned client_bits = 8; client_bits <= 15; client_bits += step)
      for (int takeover = 0; takeover < 4; ++takeover) {
        const DeflateParameters p{.server_no_context_takeover = (takeover & 1) != 0,
                                  .client_no_context_takeover = (takeover & 2) != 0,
                                  .server_max_window_bits = static_cast<std::uint8_t>(server_bits),
                                  .client_max_window_bits = static_cast<std::uint8_t>(client_bits)};
        INFO("server bits " << server_bits << " client bits " << client_bits << " takeover mask " << takeover);
        Connection server = deflate_server(p);
        Connection client = deflate_client(p);
        std::vector<Seen> expected;
        for (const std::string& m : messages) {
          REQUIRE(client.send_text(m) == Error::ok);
          REQUIRE(server.send_text(m) == Error::ok);
          expected.push_back(text_message(m));
        }
        const Bytes from_client = take_output(client), from_server = take_output(server);
#ifdef WSFRAME_TEST_ZLIB
        // Each compressor stayed within its agreed window: an exact-window inflater reads it.
        CHECK(inflates_within_window(message_payloads(from_client), messages, static_cast<int>(client_bits)));
        CHECK(inflates_within_window(message_payloads(from_server), messages, static_cast<int>(server_bits)));
#endif
        CHECK(feed(server, from_client, Split::random) == expected);
        CHECK(feed(client, from_server, Split::random) == expected);
      }
}

TEST_CASE("compression levels and memory levels all round-trip, binary too", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const Bytes random = random_bytes(3000);  // incompressible: stored blocks within the bound
  const std::string text = sample_text(20000, 3);
  for (int level = 0; level <= 9; level += quick() ? 3 : 1)
    for (int mem_level : {1, 8, 9}) {
      INFO("level " << level << " mem_level " << mem_level);
      Connection client = deflate_client({}, {.level = level, .mem_level = mem_level, .threshold = 0});
      Connection server = deflate_server();
      REQUIRE(client.send_binary(random) == Error::ok);
      REQUIRE(client.send_text(text) == Error::ok);
      const std::vector<Seen> got = feed(server, take_output(client), Split::whole);
      REQUIRE(got.size() == 2);
      CHECK(got[0] == Seen{EventType::message, MessageKind::binary, false, false, rsv1, 0, Error::ok, random});
      CHECK(got[1] == text_message(text));
    }
}

TEST_CASE("what is compressed and what is not", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  SECTION("below the threshold a message goes uncompressed, from it on compressed") {
    Connection server = deflate_server({}, {.threshold = 10});
    REQUIRE(server.send_text("short") == Error::ok);
    CHECK(take_output(server) == cat({hex({0x81, 0x05}), bytes("short")}));
    REQUIRE(server.send_text("0123456789") == Error::ok);
    CHECK((std::to_integer<unsigned>(take_output(server)[0]) & 0x40) != 0);  // RSV1
  }
  SECTION("control frames never are, and RSV1 is on the first frame of a message only") {
    Connection server = deflate_server();
    const std::string ping(100, 'a');
    REQUIRE(server.send_ping(as_span(ping)) == Error::ok);
    CHECK(take_output(server) == cat({hex({0x89, 100}), bytes(ping)}));
    REQUIRE(server.begin_message(MessageKind::binary, as_span(ping)) == Error::ok);
    REQUIRE(server.continue_message(as_span(ping)) == Error::ok);
    REQUIRE(server.send_pong() == Error::ok);
    REQUIRE(server.finish_message(as_span(ping)) == Error::ok);
    REQUIRE(server.close(1000, "bye") == Error::ok);
    Connection client = deflate_client();
    const std::vector<Seen> got = feed(client, take_output(server), Split::whole);
    REQUIRE(got.size() == 3);
    CHECK(got[0].type == EventType::pong);
    CHECK(got[1] == Seen{EventType::message, MessageKind::binary, false, false, rsv1, 0, Error::ok, bytes(ping + ping + ping)});
    CHECK(got[2].type == EventType::close);
    CHECK(got[2].payload == bytes("bye"));
  }
  SECTION("without permessage-deflate nothing is compressed and RSV1 is a protocol error") {
    Connection plain(Role::client, {}, {.mask_seed = 1});
    REQUIRE(plain.send_text(std::string(1000, 'x')) == Error::ok);
    CHECK((std::to_integer<unsigned>(take_output(plain)[0]) & 0x70) == 0);
    Connection server(Role::server);
    CHECK(feed(server, frame(Opcode::text, bytes("x"), {.rsv = rsv1}), Split::whole) ==
          std::vector{error_event(Error::reserved_bits_set)});
  }
}

TEST_CASE("a compressed message split into frames at every point", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const std::string text = sample_text(quick() ? 300 : 1200, 11) + "é€😀";
  Connection sender = deflate_server();
  REQUIRE(sender.send_text(text) == Error::ok);
  const Bytes compressed = payload_of(take_output(sender));
  for (std::size_t cut = 0; cut <= compressed.size(); cut += quick() ? 13 : 1) {
    INFO("cut at " << cut << " of " << compressed.size());
    const Bytes first(compressed.begin(), compressed.begin() + static_cast<std::ptrdiff_t>(cut));
    const Bytes rest(compressed.begin() + static_cast<std::ptrdiff_t>(cut), compressed.end());
    const Bytes wire = cat({frame(Opcode::text, first, {.fin = false, .rsv = rsv1}), frame(Opcode::continuation, rest)});
    Connection server = deflate_server();
    CHECK(feed(server, wire, Split::whole) == std::vector{text_message(text)});
    // The same stream cut into two receive() calls at the same point, delivered as fragments.
    Connection streaming = deflate_server({}, always_compress(), {}, true);
    std::vector<Seen> events;
    Bytes copy = wire;
    streaming.receive({copy.data(), cut});
    drain(streaming, events);
    streaming.receive({copy.data() + cut, copy.size() - cut});
    drain(streaming, events);
    CHECK(joined(events) == std::vector{text_message(text)});
  }
}

TEST_CASE("fragmented sends: every frame inflates as it arrives", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const std::string a = sample_text(3000, 1), b = sample_text(10, 2), c = sample_text(2000, 3);
  for (bool no_takeover : {false, true}) {
    Connection client = deflate_client({.client_no_context_takeover = no_takeover});
    for (int round = 0; round < 3; ++round) {
      REQUIRE(client.begin_message(MessageKind::text, as_span(a)) == Error::ok);
      REQUIRE(client.continue_message({}) == Error::ok);
      REQUIRE(client.continue_message(as_span(b)) == Error::ok);
      REQUIRE(client.finish_message(as_span(c)) == Error::ok);
      REQUIRE(client.send_text(b) == Error::ok);
    }
    Connection server = deflate_server({}, always_compress(), {}, true);
    const std::vector<Seen> events = feed(server, take_output(client), Split::random);
    CHECK(joined(events) == std::vector{text_message(a + b + c), text_message(b), text_message(a + b + c),
                                        text_message(b), text_message(a + b + c), text_message(b)});
  }
}

TEST_CASE("decompression bombs end in 1009 with memory bounded by the limit", "[deflate][bomb]") {
  SKIP_WITHOUT_ZLIB();
  // 4.2M copies: the message inflates to 1 GiB + 1 byte from 6.6 MiB on the wire.
  const std::size_t matches = quick() ? (64u << 20) / 258 : (1u << 30) / 258;
  const Bytes bomb = zero_bomb(matches);
  INFO("bomb of " << bomb.size() << " bytes inflating to " << 1 + 258 * matches);
  for (bool fragments : {false, true}) {
    INFO("deliver_fragments " << fragments);
    const Limits limits{.max_frame_size = 16u << 20, .max_message_size = 16u << 20};
    Connection server = deflate_server({}, always_compress(), limits, fragments);
    Bytes wire = frame(Opcode::binary, bomb, {.rsv = rsv1});
    const std::size_t before = live_bytes.load();
    reset_peak();
    server.receive(wire);
    std::uint64_t delivered = 0;  // counted, not kept: the test's own copies would be the peak
    Event last;
    while (Event e = server.next_event()) {
      delivered += e.type == EventType::fragment ? e.payload.size() : 0;
      last = e;
    }
    const std::size_t peak = peak_bytes.load() - before;
    CHECK(last.type == EventType::error);
    CHECK(last.error == Error::message_too_large);
    CHECK(last.close_code == 1009);
    CHECK(delivered <= limits.max_message_size);
    // The reassembly buffer at its limit, plus the buffer it grew from while copying (half of it,
    // the limit being a power of two), plus zlib's 32 KiB window and ~7 KiB state; with
    // fragments 16 KiB at a time.
    const std::size_t bound = fragments ? (128u << 10) : limits.max_message_size * 3 / 2 + (128u << 10);
    WARN("bomb " << (fragments ? "(fragments)" : "(reassembled)") << ": peak heap " << peak << " bytes, limit "
                 << limits.max_message_size);
    CHECK(peak <= bound);
  }
  SECTION("the same bomb as many 1 KiB frames") {
    const Limits limits{.max_message_size = 1u << 20};
    Connection server = deflate_server({}, always_compress(), limits);
    Bytes wire;
    const std::size_t frames = 200;  // ~162 KB each inflated: the limit falls within frame 7
    for (std::size_t i = 0; i < frames; ++i) {
      const Bytes piece(bomb.begin() + static_cast<std::ptrdiff_t>(i * 1024),
                        bomb.begin() + static_cast<std::ptrdiff_t>((i + 1) * 1024));
      const Bytes f = frame(i == 0 ? Opcode::binary : Opcode::continuation, piece, {.fin = false, .rsv = i == 0 ? rsv1 : std::uint8_t{0}});
      wire.insert(wire.end(), f.begin(), f.end());
    }
    reset_peak();
    const std::size_t before = live_bytes.load();
    CHECK(feed(server, std::move(wire), Split::random) == std::vector{error_event(Error::message_too_large)});
    CHECK(peak_bytes.load() - before <= (3u << 19) + (128u << 10));
  }
}

TEST_CASE("a message of exactly the limit inflates; one byte more does not", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const std::string text = sample_text(5000, 8);
  Connection sender = deflate_server();
  REQUIRE(sender.send_text(text) == Error::ok);
  const Bytes compressed = payload_of(take_output(sender));
  for (bool fragments : {false, true}) {
    Connection exact = deflate_client({}, always_compress(), {.max_message_size = text.size()}, fragments);
    CHECK(joined(feed(exact, frame(Opcode::text, compressed, {.masked = false, .rsv = rsv1}), Split::whole)) ==
          std::vector{text_message(text)});
    Connection short_by_one = deflate_client({}, always_compress(), {.max_message_size = text.size() - 1}, fragments);
    const std::vector<Seen> got =
        joined(feed(short_by_one, frame(Opcode::text, compressed, {.masked = false, .rsv = rsv1}), Split::random));
    CHECK(got == std::vector{error_event(Error::message_too_large)});
  }
}

TEST_CASE("receive-side rules of permessage-deflate", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  SECTION("inflated text must be UTF-8, checked as it comes out (fail fast)") {
    Connection sender = deflate_client();
    const std::string bad = std::string(5000, 'a') + "\xc0\xaf" + std::string(50000, 'b');
    REQUIRE(sender.send_binary(as_span(bad)) == Error::ok);
    Bytes wire = take_output(sender);
    wire[0] = static_cast<std::byte>((std::to_integer<unsigned>(wire[0]) & 0xf0) | 0x1);  // binary -> text
    Connection server = deflate_server({}, always_compress(), {}, true);
    const std::vector<Seen> got = feed(server, wire, Split::whole);
    REQUIRE(!got.empty());
    CHECK(got.back() == error_event(Error::invalid_utf8));
    std::size_t delivered = 0;
    for (const Seen& e : got) delivered += e.payload.size();
    CHECK(delivered < 20000);  // failed within the first inflated fragments, not at the end
    Connection whole = deflate_server();
    CHECK(feed(whole, wire, Split::byte_by_byte) == std::vector{error_event(Error::invalid_utf8)});
  }
  SECTION("invalid UTF-8 before undecodable data is reported first, however the input is cut") {
    Connection sender = deflate_server();
    REQUIRE(sender.send_binary(as_span(std::string("abc\xc0\xaf") + std::string(3000, 'd'))) == Error::ok);
    const Bytes payload = cat({payload_of(take_output(sender)), hex({0xff, 0xff})});  // BTYPE 11 after it
    for (Split split : {Split::whole, Split::byte_by_byte, Split::random}) {
      Connection server = deflate_server();
      CHECK(feed(server, frame(Opcode::text, payload, {.rsv = rsv1}), split) ==
            std::vector{error_event(Error::invalid_utf8)});
    }
  }
  SECTION("an empty compressed message (no bytes at all, not even 00) is an empty message") {
    const Bytes wire = cat({frame(Opcode::text, {}, {.rsv = rsv1}), frame(Opcode::text, {}, {.fin = false, .rsv = rsv1}),
                            frame(Opcode::continuation, {})});
    Connection server = deflate_server();
    CHECK(feed(server, wire, Split::byte_by_byte) == std::vector{text_message(""), text_message("")});
  }
  SECTION("a compressed binary message is not checked for UTF-8") {
    Connection sender = deflate_client();
    REQUIRE(sender.send_binary(as_span(std::string("\xff\xfe"))) == Error::ok);
    Connection server = deflate_server();
    CHECK(feed(server, take_output(sender), Split::whole).at(0).payload == bytes("\xff\xfe"));
  }
  SECTION("data that does not inflate is 1007") {
    Connection server = deflate_server();
    // BTYPE 11 is reserved (RFC 1951 3.2.3).
    CHECK(feed(server, frame(Opcode::text, hex({0xff, 0xff, 0xff}), {.rsv = rsv1}), Split::whole) ==
          std::vector{error_event(Error::invalid_compressed_data)});
    CHECK(close_code(Error::invalid_compressed_data) == 1007);
  }
  SECTION("a message whose data stops inside a block is 1007") {
    Connection server = deflate_server();
    const Bytes cut_short = hex({0xf2, 0x48, 0xcd});  // "Hel" of 7.2.3.1, no end of block
    CHECK(feed(server, frame(Opcode::text, cut_short, {.rsv = rsv1}), Split::whole) ==
          std::vector{error_event(Error::invalid_compressed_data)});
    Connection after_final = deflate_server();  // the same after a final block
    const Bytes payload = hex({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x48, 0xcd});
    CHECK(feed(after_final, frame(Opcode::text, payload, {.rsv = rsv1}), Split::whole) ==
          std::vector{error_event(Error::invalid_compressed_data)});
  }
  SECTION("a peer reaching beyond its agreed window is read alike however its bytes are cut") {
    Connection sender = deflate_server();  // compresses with a 2^15 window
    const std::string text = sample_text(4000, 5);
    REQUIRE(sender.send_text(text) == Error::ok);
    const Bytes wire = take_output(sender);
#ifdef WSFRAME_TEST_ZLIB
    REQUIRE(!inflates_within_window(message_payloads(wire), {text}, 8));  // it does reach beyond 2^8
#endif
    for (Split split : {Split::whole, Split::byte_by_byte, Split::random}) {
      Connection receiver = deflate_client({.server_max_window_bits = 8});
      CHECK(feed(receiver, wire, split) == std::vector{text_message(text)});
    }
  }
  SECTION("RSV1 on a continuation frame, on a control frame, and RSV2/RSV3 are protocol errors") {
    const Bytes start = frame(Opcode::text, hex({0xf2, 0x48}), {.fin = false, .rsv = rsv1});
    Connection a = deflate_server();
    CHECK(feed(a, cat({start, frame(Opcode::continuation, hex({0xcd}), {.rsv = rsv1})}), Split::whole) ==
          std::vector{error_event(Error::reserved_bits_set)});
    Connection b = deflate_server();
    CHECK(feed(b, frame(Opcode::ping, {}, {.rsv = rsv1}), Split::whole) ==
          std::vector{error_event(Error::reserved_bits_set)});
    Connection c = deflate_server();
    CHECK(feed(c, frame(Opcode::text, hex({0x00}), {.rsv = rsv1 | rsv2}), Split::whole) ==
          std::vector{error_event(Error::reserved_bits_set)});
  }
  SECTION("an uncompressed message (RSV1 clear) passes untouched between compressed ones") {
    Connection sender = deflate_client({}, {.threshold = 100});
    REQUIRE(sender.send_text(sample_text(500, 1)) == Error::ok);
    REQUIRE(sender.send_text("tiny") == Error::ok);
    REQUIRE(sender.send_text(sample_text(500, 1)) == Error::ok);
    Connection server = deflate_server();
    CHECK(feed(server, take_output(sender), Split::random) ==
          std::vector{text_message(sample_text(500, 1)), text_message("tiny", 0), text_message(sample_text(500, 1))});
  }
}

TEST_CASE("a send refused for lack of output room leaves the compressor usable", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  const std::string big = sample_text(50000, 4), small = sample_text(3000, 5);
  Connection client = deflate_client({}, always_compress(), {.max_output_bytes = 8000});
  REQUIRE(client.send_text(small) == Error::ok);
  CHECK(client.send_text(big) == Error::output_full);  // the bound does not fit: never compressed
  Bytes wire = take_output(client);
  REQUIRE(client.send_text(small) == Error::ok);
  const Bytes more = take_output(client);
  wire.insert(wire.end(), more.begin(), more.end());
  Connection server = deflate_server();
  CHECK(feed(server, wire, Split::whole) == std::vector{text_message(small), text_message(small)});
}

TEST_CASE("every backend unmasks and checks compressed messages alike", "[deflate]") {
  SKIP_WITHOUT_ZLIB();
  std::vector<std::string> texts;
  for (unsigned i = 0; i < 20; ++i) texts.push_back(sample_text(i * 397, i));
  Connection client = deflate_client();
  for (const std::string& t : texts) REQUIRE(client.send_text(t) == Error::ok);
  const Bytes wire = take_output(client);
  Connection reference(Role::server, {}, {.deflate = DeflateParameters{}, .backend = &scalar_backend()});
  const std::vector<Seen> expected = feed(reference, wire, Split::whole);
  REQUIRE(expected.size() == texts.size());
  for_each_simd_backend([&](const Backend& b) {
    Connection server(Role::server, {}, {.deflate = DeflateParameters{}, .backend = &b});
    CHECK(feed(server, wire, Split::random) == expected);
  });
}

TEST_CASE("handshake to connection: the agreement drives both compressors", "[deflate][handshake]") {
  SKIP_WITHOUT_ZLIB();
  const std::vector<DeflateParameters> offers = {
      {}, {.client_max_window_bits = 9}, {.server_no_context_takeover = true, .server_max_window_bits = 10}};
  const std::vector<DeflateParameters> wishes = {
      {}, {.client_no_context_takeover = true, .client_max_window_bits = 11}, {.server_max_window_bits = 8}};
  for (std::size_t o = 0; o < offers.size(); ++o)
    for (std::size_t w = 0; w < wishes.size(); ++w) {
      INFO("offer " << o << " wishes " << w);
      ClientHandshake client_hs(ClientOptions{.host = "h", .deflate_offers = std::span(&offers[o], 1)});
      ServerHandshake server_hs(ServerOptions{.deflate = wishes[w]});
      REQUIRE(server_hs.feed(client_hs.request()).status == HandshakeStatus::accept);
      REQUIRE(client_hs.feed(server_hs.response()).status == HandshakeStatus::accept);
      REQUIRE(client_hs.deflate().has_value());
      CHECK(client_hs.deflate() == server_hs.deflate());
      Connection client(Role::client, {}, {.deflate = client_hs.deflate(), .compression = always_compress(), .mask_seed = 3});
      Connection server(Role::server, {}, {.deflate = server_hs.deflate(), .compression = always_compress()});
      std::vector<Seen> expected;
      for (unsigned i = 0; i < 6; ++i) {
        const std::string m = sample_text(300 + 700 * i, i);
        REQUIRE(client.send_text(m) == Error::ok);
        REQUIRE(server.send_text(m) == Error::ok);
        expected.push_back(text_message(m));
      }
      std::vector<std::string> texts;
      for (const Seen& e : expected) texts.emplace_back(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
      const Bytes from_client = take_output(client), from_server = take_output(server);
#ifdef WSFRAME_TEST_ZLIB
      const DeflateParameters agreed = *client_hs.deflate();
      CHECK(inflates_within_window(message_payloads(from_client), texts, agreed.client_max_window_bits));
      CHECK(inflates_within_window(message_payloads(from_server), texts, agreed.server_max_window_bits));
#endif
      CHECK(feed(server, from_client, Split::random) == expected);
      CHECK(feed(client, from_server, Split::random) == expected);
    }
}
