// The receive path's plain case (a whole final text or binary frame, delivered in place straight
// from its header) at its edges: every split point of a stream mixing plain frames with
// fragmented messages and control frames, a header ending exactly at the end of an input, a
// frame breaking a rule right after a plain one, and each condition of the plain case failed on
// its own (the general path must then give its own result).
#include <string>
#include <vector>

#include "connection_support.hpp"
#include "support.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

// What a connection under test is made with: each run starts a fresh one.
struct Setup {
  Role role = Role::server;
  Limits limits = {};
  ConnectionOptions options = {};
  Connection make() const { return Connection(role, limits, options); }
};

struct Piece {
  std::size_t from, to;  // bytes of the stream in one receive()
};

// The events of `stream` fed in the given pieces (each a copy: receive() unmasks in place).
// `in_place` counts the message events whose payload lay in the input they came from.
std::vector<Seen> feed_pieces(Connection& c, const Bytes& stream, const std::vector<Piece>& pieces,
                              std::size_t* in_place = nullptr) {
  std::vector<Seen> events;
  for (const Piece& p : pieces) {
    Bytes input(stream.begin() + static_cast<std::ptrdiff_t>(p.from), stream.begin() + static_cast<std::ptrdiff_t>(p.to));
    c.receive(input);
    while (Event e = c.next_event()) {
      const bool inside = !e.payload.empty() && e.payload.data() >= input.data() &&
                          e.payload.data() + e.payload.size() <= input.data() + input.size();
      if (in_place != nullptr && e.type == EventType::message && inside) ++*in_place;
      events.push_back(seen(e));
    }
  }
  return events;
}

// The stream in two inputs split at every point (the first or the second may be empty), and
// byte by byte: each must give `expected`.
void check_every_split(const Setup& setup, const Bytes& stream, const std::vector<Seen>& expected) {
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    INFO("split at " << at << " of " << stream.size());
    Connection c = setup.make();
    CHECK(feed_pieces(c, stream, {{0, at}, {at, stream.size()}}) == expected);
  }
  Connection bytewise = setup.make();
  CHECK(joined(feed(bytewise, stream, Split::byte_by_byte)) == expected);
}

Seen message_event(MessageKind kind, const Bytes& payload, std::uint8_t rsv = 0) {
  return {EventType::message, kind, false, false, rsv, 0, Error::ok, payload};
}
Seen text_event(std::string_view s) { return message_event(MessageKind::text, bytes(s)); }
Seen control_event(EventType type, const Bytes& payload) {
  return {type, MessageKind::binary, false, false, 0, 0, Error::ok, payload};
}
Seen error_event(Error e) { return {EventType::error, MessageKind::binary, false, false, 0, close_code(e), e, {}}; }
bool same_error(const Seen& got, Error e) {
  return got.type == EventType::error && got.error == e && got.close_code == close_code(e);
}

Bytes filled(std::size_t n, char c) { return Bytes(n, static_cast<std::byte>(c)); }

}  // namespace

TEST_CASE("plain frames among fragmented messages and control frames, split at every point", "[connection][fast]") {
  const Bytes long_text = bytes(std::string(200, 'x') + "\xe2\x82\xac");  // a 16-bit length
  const Bytes stream = cat({frame(Opcode::text, bytes("caf\xc3\xa9")), frame(Opcode::ping, bytes("p")),
                            frame(Opcode::binary, filled(125, 'b')), frame(Opcode::text, bytes("fr"), {.fin = false}),
                            frame(Opcode::pong, {}), frame(Opcode::continuation, bytes("ag"), {.fin = false}),
                            frame(Opcode::continuation, bytes("ment")), frame(Opcode::binary, {}), frame(Opcode::text, long_text),
                            frame(Opcode::binary, filled(126, 'c'))});
  const std::vector<Seen> expected = {text_event("caf\xc3\xa9"),
                                      control_event(EventType::ping, bytes("p")),
                                      message_event(MessageKind::binary, filled(125, 'b')),
                                      control_event(EventType::pong, {}),
                                      text_event("fragment"),
                                      message_event(MessageKind::binary, {}),
                                      message_event(MessageKind::text, long_text),
                                      message_event(MessageKind::binary, filled(126, 'c'))};
  check_every_split({}, stream, expected);

  SECTION("fed whole, every non-empty single-frame message is delivered in place") {
    Connection c(Role::server);
    std::size_t in_place = 0;
    CHECK(feed_pieces(c, stream, {{0, stream.size()}}, &in_place) == expected);
    CHECK(in_place == 4);  // the four non-empty single-frame messages; "fragment" is reassembled
  }
}

TEST_CASE("a header ending exactly at the end of an input", "[connection][fast]") {
  const Bytes first = frame(Opcode::text, bytes("one"));
  for (const Bytes& payload : {bytes("two"), filled(300, 't')}) {
    const Bytes second = frame(Opcode::binary, payload);
    const std::size_t header = header_size(payload.size(), true);
    const Bytes stream = cat({first, second});
    Connection c(Role::server);
    std::size_t in_place = 0;
    // The first input ends with the second frame's header; its payload is all of the next.
    const auto events = feed_pieces(c, stream, {{0, first.size() + header}, {first.size() + header, stream.size()}}, &in_place);
    CHECK(events == std::vector{text_event("one"), message_event(MessageKind::binary, payload)});
    CHECK(in_place == 1);
    CHECK(!c.receiving());
    // And an input that is exactly one header and nothing else, between two whole frames.
    Connection d(Role::server);
    CHECK(feed_pieces(d, cat({first, second, first}),
                      {{0, first.size()}, {first.size(), first.size() + header}, {first.size() + header, stream.size() + first.size()}}) ==
          std::vector{text_event("one"), message_event(MessageKind::binary, payload), text_event("one")});
  }
}

TEST_CASE("a frame breaking a rule right after a plain frame", "[connection][fast]") {
  struct Case {
    const char* rule;
    Bytes bad;
    Error error;
    Limits limits = {};
  };
  Bytes huge_length = frame(Opcode::binary, {}, {.declared_length = 0});
  huge_length[1] = std::byte{0x80 | 127};  // a 64-bit length with its top bit set, then a key
  huge_length.insert(huge_length.begin() + 2, {std::byte{0x80}, {}, {}, {}, {}, {}, {}, {}});
  const std::vector<Case> cases = {
      {"unmasked", frame(Opcode::text, bytes("a"), {.masked = false}), Error::frame_not_masked},
      {"RSV1 without an extension", frame(Opcode::binary, bytes("a"), {.rsv = rsv1}), Error::reserved_bits_set},
      {"reserved opcode", frame(static_cast<Opcode>(3), bytes("a")), Error::reserved_opcode},
      {"continuation without a message", frame(Opcode::continuation, bytes("a")), Error::unexpected_continuation},
      {"invalid UTF-8", frame(Opcode::text, bytes("\xc3\x28")), Error::invalid_utf8},
      {"over max_frame_size", frame(Opcode::text, filled(11, 'a')), Error::frame_too_large,
       {.max_frame_size = 10, .max_message_size = 100}},
      {"over max_message_size", frame(Opcode::text, filled(11, 'a')), Error::message_too_large,
       {.max_frame_size = 100, .max_message_size = 10}},
      {"fragmented ping", frame(Opcode::ping, {}, {.fin = false}), Error::control_frame_fragmented},
      {"ping of 126 bytes", frame(Opcode::ping, filled(126, 'p')), Error::control_frame_too_large},
      {"64-bit length with the top bit set", huge_length, Error::length_too_large},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    const Bytes stream = cat({frame(Opcode::text, bytes("ok")), c.bad});
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      INFO("split at " << at);
      Connection conn(Role::server, c.limits);
      const auto events = feed_pieces(conn, stream, {{0, at}, {at, stream.size()}});
      REQUIRE(events.size() == 2);
      CHECK(events[0] == text_event("ok"));
      CHECK(same_error(events[1], c.error));
      CHECK(conn.error() == c.error);
    }
  }
  SECTION("a plain frame after the peer's Close is data after close") {
    const Bytes stream = cat({frame(Opcode::text, bytes("ok")), frame(Opcode::close, close_payload(1000)), frame(Opcode::text, bytes("late"))});
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      Connection conn(Role::server);
      const auto events = feed_pieces(conn, stream, {{0, at}, {at, stream.size()}});
      REQUIRE(events.size() == 3);
      CHECK(events[0] == text_event("ok"));
      CHECK(events[1].type == EventType::close);
      CHECK(same_error(events[2], Error::data_after_close));
    }
  }
}

TEST_CASE("each condition of the plain case failed alone", "[connection][fast]") {
  SECTION("a final text frame while a fragmented message is in progress") {
    const Bytes stream = cat({frame(Opcode::binary, bytes("a"), {.fin = false}), frame(Opcode::text, bytes("b"))});
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      Connection conn(Role::server);
      const auto events = feed_pieces(conn, stream, {{0, at}, {at, stream.size()}});
      REQUIRE(events.size() == 1);
      CHECK(same_error(events[0], Error::expected_continuation));
    }
  }
  SECTION("deliver_fragments: a whole message is one fragment, first and last") {
    ConnectionOptions streaming;
    streaming.deliver_fragments = true;
    Connection conn(Role::server, {}, streaming);
    const auto events = feed_pieces(conn, frame(Opcode::text, bytes("hi")), {{0, 8}});
    CHECK(events == std::vector{Seen{EventType::fragment, MessageKind::text, true, true, 0, 0, Error::ok, bytes("hi")}});
  }
  SECTION("RSV bits an application extension owns are reported, the text not checked as UTF-8") {
    ConnectionOptions options;
    options.extension_rsv = rsv1;
    const Bytes stream = cat({frame(Opcode::text, bytes("\xff"), {.rsv = rsv1}), frame(Opcode::text, bytes("\xff"))});
    check_every_split({.options = options}, stream,
                      {message_event(MessageKind::text, bytes("\xff"), rsv1), error_event(Error::invalid_utf8)});
  }
  SECTION("fed whole, a message with RSV bits an extension owns is delivered in place, also ending the input") {
    ConnectionOptions options;
    options.extension_rsv = rsv1;
    const Bytes owned = frame(Opcode::binary, bytes("rsv"), {.rsv = rsv1});
    for (const Bytes& stream : {cat({owned, frame(Opcode::ping, {})}), owned}) {
      INFO("stream of " << stream.size() << " bytes");
      Connection c(Role::server, {}, options);
      std::size_t in_place = 0;
      const auto events = feed_pieces(c, stream, {{0, stream.size()}}, &in_place);
      REQUIRE(!events.empty());
      CHECK(events[0] == message_event(MessageKind::binary, bytes("rsv"), rsv1));
      CHECK(in_place == 1);
    }
  }
  SECTION("a client receives unmasked frames, and fails on a masked one") {
    const Bytes stream = cat({server_frame(Opcode::text, bytes("to client")), frame(Opcode::binary, bytes("x"))});
    ConnectionOptions options;
    options.mask_seed = 7;
    check_every_split({.role = Role::client, .options = options}, stream, {text_event("to client"), error_event(Error::frame_masked)});
  }
  SECTION("a payload exactly at both limits, and one byte over either") {
    const Limits limits{.max_frame_size = 64, .max_message_size = 64};
    check_every_split({.limits = limits}, frame(Opcode::text, filled(64, 'l')), {message_event(MessageKind::text, filled(64, 'l'))});
    check_every_split({.limits = limits}, frame(Opcode::text, filled(65, 'l')), {error_event(Error::frame_too_large)});
    const Limits message_first{.max_frame_size = 100, .max_message_size = 64};
    check_every_split({.limits = message_first}, frame(Opcode::binary, filled(65, 'l')), {error_event(Error::message_too_large)});
  }
}
