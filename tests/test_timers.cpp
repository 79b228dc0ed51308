// Timers on a simulated clock (keepalive, idle and close timeouts: Connection::on_time and
// next_deadline) and automatic fragmentation (ConnectionOptions::fragment_size).
#include <chrono>
#include <string>
#include <vector>

#include "connection_support.hpp"

using namespace wsframe;
using namespace wsframe::test;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = TimePoint{} + 1000h;  // any time: the connection never reads a clock

Connection server_with(Timeouts timeouts) { return Connection(Role::server, {}, {.timeouts = timeouts}); }

Bytes take_output(Connection& c) {
  const std::span<const std::byte> out = c.pending_output();
  Bytes copy(out.begin(), out.end());
  c.consume_output(copy.size());
  return copy;
}

// The frames of a wire stream, parsed with decode_header; payloads unmasked.
struct WireFrame {
  FrameHeader header;
  Bytes payload;
};

std::vector<WireFrame> parse_frames(const Bytes& wire) {
  std::vector<WireFrame> frames;
  std::size_t at = 0;
  while (at < wire.size()) {
    FrameHeader h;
    const HeaderResult r = decode_header(std::span(wire).subspan(at), h);
    REQUIRE(r.status == HeaderStatus::complete);
    at += r.size;
    REQUIRE(h.payload_length <= wire.size() - at);
    Bytes payload(wire.begin() + static_cast<std::ptrdiff_t>(at),
                  wire.begin() + static_cast<std::ptrdiff_t>(at + h.payload_length));
    if (h.masked) mask(payload, h.mask_key);
    at += payload.size();
    frames.push_back({h, payload});
  }
  return frames;
}

void receive_bytes(Connection& c, Bytes stream) {  // a copy: receive() unmasks in place
  c.receive(stream);
  while (c.next_event()) {
  }
}

const Bytes client_pong = frame(Opcode::pong, {});

// An expiry is one error event from on_time(); the connection is then closed with that error.
void check_expiry(const Event& ev, const Connection& c, Error expected, std::uint16_t close_code) {
  CHECK(ev.type == EventType::error);
  CHECK(ev.error == expected);
  CHECK(ev.close_code == close_code);
  CHECK(c.error() == expected);
  CHECK(c.state() == ConnectionState::closed);
}

}  // namespace

TEST_CASE("timers are off by default: no deadline, on_time does nothing", "[timers]") {
  for (Role role : {Role::server, Role::client}) {
    Connection c(role, {}, {.mask_seed = 1});
    CHECK_FALSE(c.next_deadline());
    CHECK_FALSE(c.on_time(t0));
    CHECK_FALSE(c.on_time(t0 + 1000h));
    CHECK(c.buffered_amount() == 0);
    CHECK(c.state() == ConnectionState::open);
  }
}

TEST_CASE("keepalive: a Ping after ping_interval of silence, and a pong timeout", "[timers]") {
  Connection c = server_with({.ping_interval = 1000ms, .pong_timeout = 300ms});
  SECTION("the timers start at the first on_time") {
    CHECK(c.next_deadline() == TimePoint::min());
    CHECK_FALSE(c.on_time(t0));
    CHECK(c.next_deadline() == t0 + 1000ms);
  }
  REQUIRE_FALSE(c.on_time(t0));

  SECTION("no Ping before the interval, an empty Ping at it") {
    CHECK_FALSE(c.on_time(t0 + 999ms));
    CHECK(c.buffered_amount() == 0);
    CHECK_FALSE(c.on_time(t0 + 1000ms));
    CHECK(take_output(c) == server_frame(Opcode::ping, {}));
    CHECK(c.next_deadline() == t0 + 1300ms);  // the pong timeout
  }
  SECTION("traffic restarts the interval, from the on_time that notes it") {
    receive_bytes(c, frame(Opcode::binary, bytes("hi")));
    CHECK_FALSE(c.on_time(t0 + 600ms));
    CHECK(c.next_deadline() == t0 + 1600ms);
    CHECK_FALSE(c.on_time(t0 + 1599ms));
    CHECK(c.buffered_amount() == 0);
    CHECK_FALSE(c.on_time(t0 + 1600ms));
    CHECK(take_output(c) == server_frame(Opcode::ping, {}));
  }
  SECTION("a Pong clears the pong timeout") {
    REQUIRE_FALSE(c.on_time(t0 + 1000ms));
    (void)take_output(c);
    receive_bytes(c, client_pong);
    CHECK_FALSE(c.on_time(t0 + 1200ms));
    CHECK(c.next_deadline() == t0 + 2200ms);  // the next keepalive, no pong timeout
    CHECK_FALSE(c.on_time(t0 + 1300ms));
    CHECK(c.state() == ConnectionState::open);
  }
  SECTION("no traffic within pong_timeout: the connection fails, 1006, nothing sent") {
    REQUIRE_FALSE(c.on_time(t0 + 1000ms));
    (void)take_output(c);
    CHECK_FALSE(c.on_time(t0 + 1299ms));
    const Event ev = c.on_time(t0 + 1300ms);
    check_expiry(ev, c, Error::pong_timeout, 1006);
    CHECK(c.buffered_amount() == 0);  // no Close: the peer is presumed gone
    CHECK(c.should_close_transport());
    CHECK(c.send_text("late") == Error::connection_closed);
    CHECK_FALSE(c.next_deadline());
    CHECK_FALSE(c.on_time(t0 + 10h));
  }
}

TEST_CASE("keepalive without a pong timeout pings once per interval of silence", "[timers]") {
  Connection c = server_with({.ping_interval = 100ms});
  REQUIRE_FALSE(c.on_time(t0));
  for (int i = 1; i <= 5; ++i) {
    INFO("interval " << i);
    CHECK_FALSE(c.on_time(t0 + i * 100ms - 1ms));
    CHECK(c.buffered_amount() == 0);
    CHECK_FALSE(c.on_time(t0 + i * 100ms));
    CHECK(take_output(c) == server_frame(Opcode::ping, {}));
    CHECK(c.next_deadline() == t0 + (i + 1) * 100ms);
  }
  CHECK(c.state() == ConnectionState::open);
}

TEST_CASE("idle timeout: nothing received for idle_timeout sends Close 1001 and fails", "[timers]") {
  Connection c = server_with({.idle_timeout = 2000ms});
  REQUIRE_FALSE(c.on_time(t0));
  CHECK(c.next_deadline() == t0 + 2000ms);
  receive_bytes(c, frame(Opcode::text, bytes("still here")));
  REQUIRE_FALSE(c.on_time(t0 + 1000ms));
  CHECK(c.next_deadline() == t0 + 3000ms);
  CHECK_FALSE(c.on_time(t0 + 2999ms));
  const Event ev = c.on_time(t0 + 3000ms);
  check_expiry(ev, c, Error::idle_timeout, 1001);
  CHECK_FALSE(c.should_close_transport());  // the Close is still to be written
  CHECK(take_output(c) == server_frame(Opcode::close, close_payload(1001)));
  CHECK(c.should_close_transport());
}

TEST_CASE("close timeout: a close that does not finish in time is reported", "[timers]") {
  SECTION("server: the peer never answers our Close") {
    Connection c = server_with({.close_timeout = 1000ms});
    REQUIRE_FALSE(c.on_time(t0));
    CHECK_FALSE(c.next_deadline());  // nothing to time while open
    REQUIRE(c.close(1000) == Error::ok);
    CHECK(c.next_deadline() == TimePoint::min());  // the close timeout starts at the next call
    REQUIRE_FALSE(c.on_time(t0 + 5s));
    CHECK(c.next_deadline() == t0 + 6s);
    CHECK_FALSE(c.on_time(t0 + 6s - 1ms));
    const Event ev = c.on_time(t0 + 6s);
    check_expiry(ev, c, Error::close_timeout, 1006);
    CHECK(c.buffered_amount() != 0);      // our Close was never written: the peer does not read
    CHECK(c.should_close_transport());    // drop the transport anyway
    CHECK_FALSE(c.next_deadline());
  }
  SECTION("server: a close handshake in time stops the timer") {
    Connection c = server_with({.close_timeout = 1000ms});
    REQUIRE_FALSE(c.on_time(t0));
    REQUIRE(c.close(1000) == Error::ok);
    REQUIRE_FALSE(c.on_time(t0));
    (void)take_output(c);
    receive_bytes(c, frame(Opcode::close, close_payload(1000)));
    CHECK(c.should_close_transport());
    CHECK_FALSE(c.next_deadline());
    CHECK_FALSE(c.on_time(t0 + 1h));
    CHECK(c.error() == Error::ok);
  }
  SECTION("server: the echo of the peer's Close, left unwritten, is timed too") {
    Connection c = server_with({.close_timeout = 1000ms});
    REQUIRE_FALSE(c.on_time(t0));
    receive_bytes(c, frame(Opcode::close, close_payload(1000)));
    CHECK_FALSE(c.should_close_transport());  // the echo is pending
    REQUIRE_FALSE(c.on_time(t0 + 1ms));
    CHECK(c.on_time(t0 + 1001ms).error == Error::close_timeout);
    CHECK(c.should_close_transport());
  }
  SECTION("client: after a clean close it waits for the server's TCP close, but only so long") {
    Connection c(Role::client, {}, {.mask_seed = 5, .timeouts = {.close_timeout = 1000ms}});
    REQUIRE_FALSE(c.on_time(t0));
    REQUIRE(c.close(1000) == Error::ok);
    (void)take_output(c);
    receive_bytes(c, server_frame(Opcode::close, close_payload(1000)));
    CHECK(c.state() == ConnectionState::closed);
    CHECK_FALSE(c.should_close_transport());  // RFC 6455 7.1.1: the server closes first
    REQUIRE_FALSE(c.on_time(t0 + 10ms));
    CHECK(c.next_deadline() == t0 + 1010ms);
    CHECK_FALSE(c.on_time(t0 + 1009ms));
    const Event ev = c.on_time(t0 + 1010ms);
    CHECK(ev.error == Error::close_timeout);
    CHECK(c.error() == Error::close_timeout);
    CHECK(c.should_close_transport());
  }
  SECTION("a failed connection keeps its error; the timeout only lets the transport go") {
    Connection c = server_with({.close_timeout = 1000ms});
    REQUIRE_FALSE(c.on_time(t0));
    receive_bytes(c, frame(Opcode::binary, {}, {.masked = false}));  // RFC 6455 5.1: clients mask
    REQUIRE(c.error() == Error::frame_not_masked);
    CHECK_FALSE(c.should_close_transport());  // our Close 1002 is pending
    REQUIRE_FALSE(c.on_time(t0));
    CHECK(c.on_time(t0 + 1000ms).error == Error::close_timeout);
    CHECK(c.error() == Error::frame_not_masked);
    CHECK(c.should_close_transport());
  }
}

TEST_CASE("next_deadline is the earliest running timer", "[timers]") {
  Connection c = server_with({.ping_interval = 1000ms, .pong_timeout = 300ms, .idle_timeout = 1200ms,
                              .close_timeout = 50ms});
  CHECK(c.next_deadline() == TimePoint::min());
  REQUIRE_FALSE(c.on_time(t0));
  CHECK(c.next_deadline() == t0 + 1000ms);  // keepalive before idle; no close timeout while open
  REQUIRE_FALSE(c.on_time(t0 + 1000ms));
  CHECK(c.next_deadline() == t0 + 1200ms);  // idle (1200) before the pong timeout (1300)
  receive_bytes(c, client_pong);
  REQUIRE_FALSE(c.on_time(t0 + 1100ms));
  CHECK(c.next_deadline() == t0 + 2100ms);
  CHECK(c.on_time(t0 + 2300ms).error == Error::idle_timeout);  // a late call: the first due wins
  CHECK(c.next_deadline() == TimePoint::min());  // its Close 1001 starts the close timeout
  REQUIRE_FALSE(c.on_time(t0 + 2300ms));
  CHECK(c.next_deadline() == t0 + 2350ms);
}

TEST_CASE("timeouts beyond 32 bits of milliseconds are clamped, not wrapped", "[timers]") {
  Connection c = server_with({.idle_timeout = std::chrono::hours(24 * 365)});
  REQUIRE_FALSE(c.on_time(t0));
  CHECK(c.next_deadline() == t0 + std::chrono::milliseconds(UINT32_MAX));
}

// ---- automatic fragmentation ----------------------------------------------------------------

namespace {

// The frames a connection with fragment_size `piece` writes for one message of `n` bytes.
void check_split(const std::vector<WireFrame>& frames, Opcode op, std::size_t n, std::size_t piece) {
  const std::size_t expected = n <= piece ? 1 : (n + piece - 1) / piece;
  REQUIRE(frames.size() == expected);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    INFO("frame " << i);
    CHECK(frames[i].header.opcode == (i == 0 ? op : Opcode::continuation));
    CHECK(frames[i].header.fin == (i + 1 == frames.size()));
    CHECK(frames[i].payload.size() == (i + 1 < frames.size() ? piece : n - i * piece));
  }
}

// The message the peer receives from `wire`, with the library's own reader.
Seen received(Role peer_role, const Bytes& wire, ConnectionOptions options = {}) {
  Connection peer(peer_role, {}, options);
  const std::vector<Seen> events = feed(peer, wire, Split::whole);
  REQUIRE(events.size() == 1);
  return events[0];
}

// UTF-8 with characters of 1 to 4 bytes, so that frame boundaries cut characters.
std::string mixed_text(std::size_t n) {
  static const std::string_view chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) s += chars[i % 4];
  while (s.size() > n) s.pop_back();
  while (!is_valid_utf8(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()))) s.pop_back();
  return s;
}

// Random letters: compressible, but not to nothing.
std::string random_letters(std::size_t n) {
  std::string s(n, 'a');
  for (char& ch : s) ch = static_cast<char>('a' + rng()() % 26);
  return s;
}

const std::size_t fragment_sizes[] = {1, 2, 7, 125, 126, 1000};

// 0, 1, and every size within 2 of one, two and three fragments.
std::vector<std::size_t> sizes_around(std::size_t piece) {
  std::vector<std::size_t> sizes = {0, 1};
  for (std::size_t k = 1; k <= 3; ++k)
    for (std::size_t n = k * piece - std::min<std::size_t>(2, k * piece); n <= k * piece + 2; ++n) sizes.push_back(n);
  return sizes;
}

}  // namespace

TEST_CASE("automatic fragmentation: frames of at most fragment_size that parse back into the message",
          "[timers][fragmentation]") {
  SECTION("binary, server to client") {
    for (std::size_t piece : fragment_sizes)
      for (std::size_t n : sizes_around(piece)) {
        INFO("fragment_size " << piece << ", " << n << " bytes");
        Connection c(Role::server, {}, {.fragment_size = piece});
        const Bytes payload = random_bytes(n);
        REQUIRE(c.send_binary(payload) == Error::ok);
        const Bytes wire = take_output(c);
        check_split(parse_frames(wire), Opcode::binary, n, piece);
        const Seen got = received(Role::client, wire);
        CHECK(got.type == EventType::message);
        CHECK(got.kind == MessageKind::binary);
        CHECK(got.payload == payload);
      }
  }
  SECTION("text cut inside characters, client to server (masked)") {
    for (std::size_t piece : fragment_sizes)
      for (std::size_t n : sizes_around(piece)) {
        INFO("fragment_size " << piece << ", " << n << " bytes");
        Connection c(Role::client, {}, {.mask_seed = 9, .fragment_size = piece});
        const std::string text = mixed_text(n);
        REQUIRE(c.send_text(text) == Error::ok);
        const Bytes wire = take_output(c);
        const std::vector<WireFrame> frames = parse_frames(wire);
        check_split(frames, Opcode::text, text.size(), piece);
        for (const WireFrame& f : frames) CHECK(f.header.masked);
        const Seen got = received(Role::server, wire);
        CHECK(got.kind == MessageKind::text);
        CHECK(got.payload == bytes(text));
      }
  }
}

TEST_CASE("automatic fragmentation applies to every data send", "[timers][fragmentation]") {
  Connection c(Role::server, {}, {.fragment_size = 4});
  SECTION("each begin/continue/finish piece becomes frames; FIN only at the message's end") {
    REQUIRE(c.begin_message(MessageKind::binary, bytes("abcdefgh")) == Error::ok);
    REQUIRE(c.continue_message(bytes("ij")) == Error::ok);
    REQUIRE(c.finish_message(bytes("klmno")) == Error::ok);
    const Bytes wire = take_output(c);
    const std::vector<WireFrame> frames = parse_frames(wire);
    REQUIRE(frames.size() == 5);
    const std::size_t sizes[] = {4, 4, 2, 4, 1};
    for (std::size_t i = 0; i < frames.size(); ++i) {
      CHECK(frames[i].payload.size() == sizes[i]);
      CHECK(frames[i].header.fin == (i == 4));
      CHECK(frames[i].header.opcode == (i == 0 ? Opcode::binary : Opcode::continuation));
    }
    CHECK(received(Role::client, wire).payload == bytes("abcdefghijklmno"));
  }
  SECTION("a prepared message is split too, into the bytes send_text writes") {
    const PreparedMessage m(MessageKind::text, bytes("hello, world"));
    REQUIRE(c.send(m).status == SendStatus::ok);
    const Bytes shared = take_output(c);
    REQUIRE(c.send_text("hello, world") == Error::ok);
    CHECK(shared == take_output(c));
    CHECK(parse_frames(shared).size() == 3);
  }
  SECTION("a control frame is never split") {
    REQUIRE(c.send_ping(bytes("0123456789")) == Error::ok);
    CHECK(parse_frames(take_output(c)).size() == 1);
  }
  SECTION("UTF-8 is checked over the whole text: invalid text queues nothing") {
    CHECK(c.send_text("abcdefg\xff") == Error::payload_invalid_utf8);
    CHECK(c.buffered_amount() == 0);
  }
}

TEST_CASE("automatic fragmentation is all or nothing under max_output_bytes", "[timers][fragmentation]") {
  // 10 bytes in frames of 4: 3 frames, 2 + 2 + 2 header bytes, 16 bytes on the wire.
  for (std::size_t limit : {std::size_t{15}, std::size_t{16}}) {
    INFO("max_output_bytes " << limit);
    Connection c(Role::server, {.max_output_bytes = limit}, {.fragment_size = 4});
    const Error e = c.send_binary(bytes("0123456789"));
    CHECK(e == (limit == 16 ? Error::ok : Error::output_full));
    CHECK(c.buffered_amount() == (limit == 16 ? 16u : 0u));
  }
}

TEST_CASE("automatic fragmentation with permessage-deflate splits the compressed bytes", "[timers][fragmentation][deflate]") {
  if (!deflate_available()) {
    WARN("built without zlib: permessage-deflate not tested");
    return;
  }
  const ConnectionOptions receiver{.deflate = DeflateParameters{}, .mask_seed = 4};
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, std::size_t{64}}) {
    INFO("fragment_size " << piece);
    Connection c(Role::server, {}, {.deflate = DeflateParameters{}, .fragment_size = piece});
    Connection peer(Role::client, {}, receiver);  // fed every message in order: windows in sync
    for (std::size_t message = 0; message < 3; ++message) {
      INFO("message " << message);
      const std::string text = random_letters(500 + 1000 * message);
      REQUIRE(c.send_text(text) == Error::ok);
      const Bytes wire = take_output(c);
      const std::vector<WireFrame> frames = parse_frames(wire);
      REQUIRE(frames.size() > 1);
      CHECK(frames[0].header.rsv == rsv1);  // RFC 7692 6.1: the first frame only
      for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].payload.size() <= piece);
        if (i != 0) CHECK(frames[i].header.rsv == 0);
        CHECK(frames[i].header.fin == (i + 1 == frames.size()));
      }
      const std::vector<Seen> events = feed(peer, wire, Split::whole);
      REQUIRE(events.size() == 1);
      CHECK(events[0].type == EventType::message);
      CHECK(events[0].payload == bytes(text));
    }
  }
}
