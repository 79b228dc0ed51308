// The receive path's plain case (a whole final text or binary frame, delivered in place straight
// from its header) at its edges: every split point of a stream mixing plain frames with
// fragmented messages and control frames, a header ending exactly at the end of an input, a
// frame breaking a rule right after a plain one, and each condition of the plain case failed on
// its own (the general path must then give its own result). Then the sweeps: every header form
// (first byte, MASK bit, 7/16/64-bit lengths, minimal or not), every small length and the
// 16-bit boundary at and over the limits, and invalid UTF-8, each split at every point, on every
// backend and in both roles, against a reference decoder written here. The whole-frame cases
// for fragmented messages and Pings/Pongs are swept the same way: code points straddling every
// fragment cut, invalid UTF-8 at every position of every fragment, every small fragment length
// at and over both limits, control frames of every length between fragments (events and output).
#include <optional>
#include <ostream>
#include <span>
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

// After a whole frame, the next 8 bytes are read ahead (before the payload is unmasked in
// place). A new input at the same address, lent while those bytes were not drained, must be
// read anew: the read-ahead is of the input that was dropped.
TEST_CASE("an input lent again at the same address, with the previous one undrained", "[connection][fast]") {
  for (const Bytes& taken : {frame(Opcode::text, bytes("one")), frame(Opcode::ping, bytes("p"))}) {
    const Bytes dropped = frame(Opcode::binary, filled(2, 'b'));  // 8 bytes, shorter than `next`
    const Bytes next = frame(Opcode::text, bytes("two, read anew"));
    Bytes buffer = cat({taken, dropped});
    buffer.resize(std::max(buffer.size(), next.size()));
    Connection c(Role::server);
    c.receive(std::span(buffer).first(taken.size() + dropped.size()));
    CHECK(c.next_event());  // the message or the ping; the binary frame is left undrained
    std::copy(next.begin(), next.end(), buffer.begin());
    c.receive(std::span(buffer).first(next.size()));
    std::vector<Seen> events;
    while (Event e = c.next_event()) events.push_back(seen(e));
    CHECK(events == std::vector{text_event("two, read anew")});
  }
}

// The read-ahead is of the input between frames only: once a header is kept (here a 64-bit
// length's, 10 of its 14 bytes in the input), asking again gives nothing until more comes.
TEST_CASE("a header kept after a whole frame, asked for events twice", "[connection][fast]") {
  const Bytes taken = frame(Opcode::text, bytes("one"));
  const Bytes big = frame(Opcode::binary, filled(70000, 'x'));
  const Bytes stream = cat({taken, big});
  const std::size_t cut = taken.size() + 10;
  Connection c(Role::server);
  Bytes first(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut));
  c.receive(first);
  const Event one = c.next_event();
  CHECK(seen(one) == text_event("one"));
  CHECK(!c.next_event());
  CHECK(!c.next_event());
  CHECK(c.receiving());
  Bytes rest(stream.begin() + static_cast<std::ptrdiff_t>(cut), stream.end());
  c.receive(rest);
  const Event e = c.next_event();
  CHECK(seen(e) == message_event(MessageKind::binary, filled(70000, 'x')));
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

TEST_CASE("a control frame inside a fragmented message has only its own fields", "[connection][fast]") {
  // The general path fills one event across its steps: a first fragment's kind and RSV bits
  // must not leak into the ping or pong that follows it.
  ConnectionOptions options;
  options.extension_rsv = rsv1;
  const Bytes stream = cat({frame(Opcode::text, bytes("ab"), {.fin = false, .rsv = rsv1}), frame(Opcode::ping, bytes("p")),
                            frame(Opcode::continuation, bytes("cd"), {.fin = false}), frame(Opcode::pong, {}),
                            frame(Opcode::continuation, bytes("ef"))});
  check_every_split({.options = options}, stream,
                    {control_event(EventType::ping, bytes("p")), control_event(EventType::pong, {}),
                     message_event(MessageKind::text, bytes("abcdef"), rsv1)});
}

// ---- sweeps: every header form and every small length, against a reference decoder ------------

namespace {

enum class LengthForm { bits7, bits16, bits64 };

// One frame as the sweeps build it: any first byte (FIN, RSV, opcode), either MASK bit, the
// length in any of its three encodings (also non-minimal ones), payload masked with test_key
// when the MASK bit is set.
struct Form {
  std::uint8_t b0;
  bool masked;
  LengthForm length_form;
  std::uint64_t length;  // declared; the payload has this many bytes unless it is huge
};

Bytes header_of(const Form& f) {
  Bytes h{std::byte{f.b0}};
  const auto mask_bit = static_cast<std::uint8_t>(f.masked ? 0x80 : 0);
  if (f.length_form == LengthForm::bits7) {
    h.push_back(std::byte(mask_bit | f.length));
  } else if (f.length_form == LengthForm::bits16) {
    h.push_back(std::byte(mask_bit | 126));
    for (int shift : {8, 0}) h.push_back(std::byte((f.length >> shift) & 0xff));
  } else {
    h.push_back(std::byte(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) h.push_back(std::byte((f.length >> shift) & 0xff));
  }
  if (f.masked) h.insert(h.end(), test_key.begin(), test_key.end());
  return h;
}

Bytes wire_of(const Form& f, const Bytes& payload) {
  Bytes body = payload;
  if (f.masked) mask(body, test_key);
  return cat({header_of(f), body});
}

// A payload of n bytes for this opcode: valid UTF-8 text (ASCII and 2-byte characters), a Close
// payload with code 1000 and a reason, or bytes of every value.
Bytes payload_for(std::uint8_t opcode, std::size_t n) {
  Bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte(opcode == 1 ? 'a' + i % 26 : (i * 37 + 11) & 0xff);
  if (opcode == 1)
    for (std::size_t i = 0; i + 2 <= n; i += 7) p[i] = std::byte{0xc3}, p[i + 1] = std::byte{0xa9};  // é
  if (opcode == 8 && n >= 2) p[0] = std::byte{0x03}, p[1] = std::byte{0xe8};                        // 1000
  if (opcode == 8)
    for (std::size_t i = 2; i < n; ++i) p[i] = std::byte{'r'};
  return p;
}

bool valid_utf8_reference(const Bytes& p) { return is_valid_utf8(scalar_backend(), p); }

// What RFC 6455 says a receiver (role `role`, limits `limits`) makes of: a plain text frame
// "ok", the frame `f` with `payload`, a plain binary frame "end"; in the order the library
// checks the rules (decode, RSV, opcode, control rules, MASK, continuation, limits, UTF-8).
std::vector<Seen> reference_events(Role role, const Limits& limits, const Form& f, const Bytes& payload) {
  std::vector<Seen> ev;
  const auto fail = [&ev](Error e) {
    ev.push_back(error_event(e));
    return ev;
  };
  const auto over_limit = [&limits](std::uint64_t n) {
    return n > limits.max_frame_size ? Error::frame_too_large : n > limits.max_message_size ? Error::message_too_large : Error::ok;
  };
  if (const Error e = over_limit(2); e != Error::ok) return fail(e);
  ev.push_back(text_event("ok"));
  if (f.length_form == LengthForm::bits64 && (f.length >> 63) != 0) return fail(Error::length_too_large);
  const bool fin = (f.b0 & 0x80) != 0;
  const unsigned rsv = (f.b0 >> 4) & 7, op = f.b0 & 15;
  if (rsv != 0) return fail(Error::reserved_bits_set);
  if ((op >= 3 && op <= 7) || op >= 11) return fail(Error::reserved_opcode);
  const bool control = op >= 8;
  if (control && !fin) return fail(Error::control_frame_fragmented);
  if (control && f.length > 125) return fail(Error::control_frame_too_large);
  if (f.masked != (role == Role::server)) return fail(role == Role::server ? Error::frame_not_masked : Error::frame_masked);
  if (op == 0) return fail(Error::unexpected_continuation);
  if (!control) {
    if (const Error e = over_limit(f.length); e != Error::ok) return fail(e);
    if (!fin) return fail(Error::expected_continuation);  // "end" is not a continuation
    if (op == 1 && !valid_utf8_reference(payload)) return fail(Error::invalid_utf8);
    ev.push_back(message_event(op == 1 ? MessageKind::text : MessageKind::binary, payload));
  } else if (op == 8) {
    if (payload.size() == 1) return fail(Error::close_payload_too_short);
    const std::uint16_t code = payload.empty() ? 1005 : 1000;
    const Bytes reason = payload.empty() ? Bytes{} : Bytes(payload.begin() + 2, payload.end());
    ev.push_back({EventType::close, MessageKind::binary, false, false, 0, code, Error::ok, reason});
    return fail(Error::data_after_close);  // "end"
  } else {
    ev.push_back(control_event(op == 9 ? EventType::ping : EventType::pong, payload));
  }
  if (const Error e = over_limit(3); e != Error::ok) return fail(e);
  ev.push_back(message_event(MessageKind::binary, bytes("end")));
  return ev;
}

// Split points of a stream of n bytes: all of them, or for a long stream those near its ends
// and near the case frame's header (`header_end`), where the receive path changes course.
std::vector<std::size_t> split_points(std::size_t n, std::size_t header_end) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i <= n; ++i)
    if (n <= 400 || i < 40 || i + 40 > n || (i + 20 > header_end && i < header_end + 20)) at.push_back(i);
  return at;
}

// The stream "ok" + f + "end" on every backend, fed whole, in two pieces split at every point
// (split_points), and byte by byte (which never has 8 bytes of a header in one input): each
// must give the reference's events.
void check_form(Role role, const Limits& limits, const Form& f) {
  const bool huge = f.length > 70000;  // a declared length with no payload behind it
  const Bytes payload = huge ? Bytes{} : payload_for(f.b0 & 15, f.length);
  const Bytes case_frame = wire_of(f, payload);
  const Bytes ok = frame(Opcode::text, bytes("ok"), {.masked = role == Role::server});
  const Bytes end = frame(Opcode::binary, bytes("end"), {.masked = role == Role::server});
  const Bytes stream = cat({ok, case_frame, end});
  const std::vector<Seen> expected = reference_events(role, limits, f, payload);
  INFO("role " << (role == Role::server ? "server" : "client") << ", first byte " << int(f.b0) << ", masked "
               << f.masked << ", length form " << int(f.length_form) << ", length " << f.length);
  const auto split = split_points(stream.size(), ok.size() + header_of(f).size());
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    INFO("backend " << info.backend->name);
    ConnectionOptions options;
    options.backend = info.backend;
    options.mask_seed = 7;
    for (const std::size_t at : split) {
      INFO("split at " << at << " of " << stream.size());
      Connection c(role, limits, options);
      const auto events = feed_pieces(c, stream, {{0, at}, {at, stream.size()}});
      REQUIRE(events == expected);
    }
    if (stream.size() <= 400) {
      Connection bytewise(role, limits, options);
      REQUIRE(feed(bytewise, stream, Split::byte_by_byte) == expected);
    }
  }
}

}  // namespace

TEST_CASE("every header form, split at every point, on every backend", "[connection][fast][sweep]") {
  // Lengths at the edges of each encoding's range; 16- and 64-bit encodings of small lengths
  // are not minimal (the library accepts them, RFC 6455 5.2 asks minimal encoding of senders).
  const std::vector<std::pair<LengthForm, std::vector<std::uint64_t>>> lengths = {
      {LengthForm::bits7, {0, 1, 2, 125}},
      {LengthForm::bits16, {0, 1, 125, 126, 300}},
      {LengthForm::bits64, {0, 126, 300, std::uint64_t{1} << 63, ~std::uint64_t{0}}},
  };
  const unsigned step = quick() ? 7 : 1;
  for (const Role role : {Role::server, Role::client})
    for (unsigned b0 = 0; b0 < 256; b0 += step)
      for (const bool masked : {true, false})
        for (const auto& [form, values] : lengths)
          for (const std::uint64_t length : values) check_form(role, {}, {static_cast<std::uint8_t>(b0), masked, form, length});
}

TEST_CASE("every small length and the 16-bit boundary, at and over the limits, split at every point",
          "[connection][fast][sweep]") {
  std::vector<std::uint64_t> lengths;
  for (std::uint64_t n = 0; n <= 130; n += quick() ? 9 : 1) lengths.push_back(n);
  for (std::uint64_t n : {65535, 65536}) lengths.push_back(n);
  for (const Role role : {Role::server, Role::client})
    for (const std::uint8_t b0 : {0x81, 0x82})
      for (const std::uint64_t n : lengths) {
        const LengthForm form = n < 126 ? LengthForm::bits7 : n < 65536 ? LengthForm::bits16 : LengthForm::bits64;
        const Form f{b0, role == Role::server, form, n};
        check_form(role, {}, f);
        if (n == 0) continue;
        for (const std::uint64_t limit : {n - 1, n}) {
          check_form(role, {.max_frame_size = limit, .max_message_size = limit + 1}, f);
          check_form(role, {.max_frame_size = limit + 1, .max_message_size = limit}, f);
        }
      }
}

TEST_CASE("text of every small length with invalid UTF-8 at its start, middle and end", "[connection][fast][sweep]") {
  for (const Role role : {Role::server, Role::client})
    for (std::size_t n = 1; n <= 130; ++n)
      for (const std::size_t bad_at : {std::size_t{0}, n / 2, n - 1})
        for (const std::uint8_t bad : {0xff, 0xc3, 0x80}) {
          Bytes payload = payload_for(1, n);
          payload[bad_at] = std::byte{bad};
          const Form f{0x81, role == Role::server, n < 126 ? LengthForm::bits7 : LengthForm::bits16, n};
          const Bytes stream = cat({frame(Opcode::text, bytes("ok"), {.masked = f.masked}), wire_of(f, payload)});
          const bool valid = valid_utf8_reference(payload);
          INFO("length " << n << ", byte " << int(bad) << " at " << bad_at);
          for (const BackendInfo& info : backends()) {
            if (!info.supported) continue;
            INFO("backend " << info.backend->name);
            ConnectionOptions options;
            options.backend = info.backend;
            options.mask_seed = 7;
            for (std::size_t at = 0; at <= stream.size(); ++at) {
              Connection c(role, {}, options);
              const auto events = feed_pieces(c, stream, {{0, at}, {at, stream.size()}});
              REQUIRE(events.size() == 2);
              CHECK(events[0] == text_event("ok"));
              if (valid)
                CHECK(events[1] == message_event(MessageKind::text, payload));
              else
                CHECK(same_error(events[1], Error::invalid_utf8));
            }
          }
        }
}

// ---- fragmented messages and control frames: the whole-frame cases against a reference --------

namespace {

// One frame of a sweep's stream, before it is put on the wire.
struct Part {
  Opcode op;
  bool fin;
  Bytes payload;
};

// What a connection made of a stream: its events and its output (the pongs, the Close).
struct Outcome {
  std::vector<Seen> events;
  Bytes output;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << o.events.size() << " events:";
  for (const Seen& e : o.events) os << " " << e;
  return os << ", " << o.output.size() << " output bytes";
}

Bytes wire(Role role, const std::vector<Part>& parts) {
  Bytes all;
  for (const Part& p : parts) {
    const Bytes f = frame(p.op, p.payload, {.fin = p.fin, .masked = role == Role::server});
    all.insert(all.end(), f.begin(), f.end());
  }
  return all;
}

// What RFC 6455 says a receiver with `limits` makes of data frames and Pings/Pongs (the rules
// in the order the library checks them: continuation, max_frame_size, max_message_size, UTF-8
// failing at the first byte that no valid text can continue, 5.6 and 8.1). The output is a
// server's (unmasked): a client's masks with keys of its own and is compared run to run.
Outcome reference_outcome(const Limits& limits, const std::vector<Part>& parts) {
  Outcome out;
  const auto fail = [&out](Error e) {
    out.events.push_back(error_event(e));
    const Bytes close = server_frame(Opcode::close, close_payload(close_code(e)));
    out.output.insert(out.output.end(), close.begin(), close.end());
    return out;
  };
  bool in_message = false;
  MessageKind kind = MessageKind::binary;
  Bytes message;
  Utf8State utf8{};
  std::uint64_t size = 0;
  for (const Part& p : parts) {
    if (p.op == Opcode::ping || p.op == Opcode::pong) {
      out.events.push_back(control_event(p.op == Opcode::ping ? EventType::ping : EventType::pong, p.payload));
      if (p.op == Opcode::ping) {
        const Bytes pong = server_frame(Opcode::pong, p.payload);
        out.output.insert(out.output.end(), pong.begin(), pong.end());
      }
      continue;
    }
    const bool continuation = p.op == Opcode::continuation;
    if (continuation && !in_message) return fail(Error::unexpected_continuation);
    if (!continuation && in_message) return fail(Error::expected_continuation);
    if (p.payload.size() > limits.max_frame_size) return fail(Error::frame_too_large);
    if (!continuation) {
      kind = p.op == Opcode::text ? MessageKind::text : MessageKind::binary;
      message.clear();
      utf8 = {};
      size = 0;
    }
    if (p.payload.size() > limits.max_message_size - size) return fail(Error::message_too_large);
    size += p.payload.size();
    in_message = !p.fin;
    if (kind == MessageKind::text) {
      for (const std::byte b : p.payload)  // byte by byte on the scalar automaton
        if (utf8_feed(scalar_backend(), utf8, {&b, 1}).status == Utf8Status::invalid) return fail(Error::invalid_utf8);
      if (p.fin && !utf8_finish(utf8)) return fail(Error::invalid_utf8);
    }
    message.insert(message.end(), p.payload.begin(), p.payload.end());
    if (p.fin) out.events.push_back(message_event(kind, message));
  }
  return out;
}

Outcome run(Role role, const Limits& limits, const Backend& backend, const Bytes& stream, const std::vector<Piece>& pieces) {
  ConnectionOptions options;
  options.backend = &backend;
  options.mask_seed = 7;
  Connection c(role, limits, options);
  Outcome out;
  out.events = feed_pieces(c, stream, pieces);
  const std::span<const std::byte> output = c.pending_output();
  out.output.assign(output.begin(), output.end());
  return out;
}

// The parts on the role's wire, on every backend, fed whole, in two pieces split at every point
// and byte by byte (which never has a whole header in one input: the general path): a server
// must give the reference's events and output, a client the reference's events and the output
// of its byte-by-byte run on the scalar backend.
void check_parts(Role role, const Limits& limits, const std::vector<Part>& parts) {
  const Bytes stream = wire(role, parts);
  Outcome expected = reference_outcome(limits, parts);
  std::vector<Piece> bytewise;
  for (std::size_t i = 0; i < stream.size(); ++i) bytewise.push_back({i, i + 1});
  if (role == Role::client) expected.output = run(role, limits, scalar_backend(), stream, bytewise).output;
  INFO("role " << (role == Role::server ? "server" : "client") << ", " << parts.size() << " frames, "
               << stream.size() << " bytes, limits " << limits.max_frame_size << "/" << limits.max_message_size);
  for (const BackendInfo& info : backends()) {
    if (!info.supported) continue;
    INFO("backend " << info.backend->name);
    for (std::size_t at = 0; at <= stream.size(); ++at) {
      INFO("split at " << at);
      REQUIRE(run(role, limits, *info.backend, stream, {{0, at}, {at, stream.size()}}) == expected);
    }
    REQUIRE(run(role, limits, *info.backend, stream, bytewise) == expected);
  }
}

// `text` as a message of three frames cut at `cut1` <= `cut2`, with `between` (a Ping or Pong,
// or nothing) after each of its first two frames.
std::vector<Part> three_frames(Opcode op, const Bytes& text, std::size_t cut1, std::size_t cut2,
                               const std::optional<Part>& between) {
  const auto slice = [&text](std::size_t from, std::size_t to) {
    return Bytes(text.begin() + static_cast<std::ptrdiff_t>(from), text.begin() + static_cast<std::ptrdiff_t>(to));
  };
  std::vector<Part> parts{{op, false, slice(0, cut1)}};
  if (between) parts.push_back(*between);
  parts.push_back({Opcode::continuation, false, slice(cut1, cut2)});
  if (between) parts.push_back(*between);
  parts.push_back({Opcode::continuation, true, slice(cut2, text.size())});
  return parts;
}

// Cut points of a text of n bytes near the bytes [from, to) (and at its ends).
std::vector<std::size_t> cuts_near(std::size_t n, std::size_t from, std::size_t to) {
  std::vector<std::size_t> at{0};
  for (std::size_t i = from == 0 ? 1 : from - 1; i <= std::min(n, to + 1); ++i)
    if (i != 0 && i != n) at.push_back(i);
  at.push_back(n);
  return at;
}

const std::vector<std::optional<Part>> betweens = {std::nullopt, Part{Opcode::ping, true, bytes("p")},
                                                   Part{Opcode::pong, true, {}}};

}  // namespace

TEST_CASE("fragmented text: every code point straddling every fragment boundary", "[connection][fast][sweep]") {
  // The edges of each sequence length and of the ranges with a restricted second byte.
  const std::vector<std::string> code_points = {"\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac",
                                                "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
                                                "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
  for (const Role role : {Role::server, Role::client})
    for (const std::string& cp : code_points)
      for (const std::size_t pad : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{30}}) {
        const Bytes text = bytes(std::string(pad, 'a') + cp + "b");
        const auto cuts = cuts_near(text.size(), pad, pad + cp.size());
        for (const std::size_t cut1 : cuts)
          for (const std::size_t cut2 : cuts)
            if (cut1 <= cut2)
              for (const auto& between : betweens) check_parts(role, {}, three_frames(Opcode::text, text, cut1, cut2, between));
      }
}

TEST_CASE("fragmented text: invalid UTF-8 at every position of every fragment", "[connection][fast][sweep]") {
  // Bad bytes, overlong forms, a surrogate, beyond U+10FFFF, and truncated sequences (before an
  // ASCII byte, and at the message's end).
  const std::vector<std::string> bad = {"\xff", "\x80", "\xf5", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                        "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xc3x", "\xe2\x82x", "\xf0\x9f\x98x"};
  for (const Role role : {Role::server, Role::client})
    for (const std::string& b : bad)
      for (const bool at_end : {false, true}) {
        const Bytes text = bytes("ab" + b + (at_end ? "" : "cd"));
        const std::size_t n = at_end && b.back() == 'x' ? text.size() - 1 : text.size();  // truncated at the end
        const Bytes t(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
        INFO("text of " << t.size() << " bytes");
        for (std::size_t cut1 = 0; cut1 <= t.size(); ++cut1)
          for (std::size_t cut2 = cut1; cut2 <= t.size(); ++cut2)
            for (const auto& between : betweens) check_parts(role, {}, three_frames(Opcode::text, t, cut1, cut2, between));
      }
}

TEST_CASE("fragment frames of every small length, at and over the limits", "[connection][fast][sweep]") {
  // Three frames of n, 1 and n bytes (7- and 16-bit lengths around 125/126), with limits that
  // stop it at each frame: max_frame_size at and below n, max_message_size crossed inside the
  // first, the second and the last frame, and exactly met.
  const std::size_t step = quick() ? 9 : 1;
  for (const Role role : {Role::server, Role::client})
    for (std::size_t n = 0; n <= 130; n += step)
      for (const Opcode op : {Opcode::text, Opcode::binary}) {
        const Bytes text = payload_for(1, 2 * n + 1);  // valid UTF-8 wherever it is cut (ASCII at the cuts)
        const Bytes data = op == Opcode::text ? Bytes(text) : payload_for(2, 2 * n + 1);
        const std::vector<Part> parts = three_frames(op, data, n, n + 1, std::nullopt);
        const std::uint64_t total = 2 * n + 1;
        std::vector<Limits> limits = {{}, {.max_frame_size = n + 1, .max_message_size = total},
                                      {.max_frame_size = 1000, .max_message_size = n + 1}};
        if (n != 0)
          for (const std::uint64_t m : {n - 1, n, total - 1})
            limits.push_back({.max_frame_size = m == total - 1 ? 1000 : m, .max_message_size = m == total - 1 ? m : 1000});
        for (const Limits& l : limits) check_parts(role, l, parts);
      }
}

TEST_CASE("Pings and Pongs of every length, alone and between a message's frames", "[connection][fast][sweep]") {
  for (const Role role : {Role::server, Role::client})
    for (std::size_t n = 0; n <= max_control_payload; n += quick() ? 9 : 1)
      for (const Opcode op : {Opcode::ping, Opcode::pong}) {
        const Part control{op, true, payload_for(9, n)};
        check_parts(role, {}, {control, {Opcode::binary, true, bytes("x")}, control});
        check_parts(role, {}, three_frames(Opcode::text, bytes("fragmented"), 3, 5, control));
      }
}

TEST_CASE("frames breaking the continuation rules in the middle of a stream", "[connection][fast]") {
  for (const Role role : {Role::server, Role::client}) {
    check_parts(role, {}, {{Opcode::binary, true, bytes("a")}, {Opcode::continuation, true, bytes("b")}});
    check_parts(role, {}, {{Opcode::text, false, bytes("a")}, {Opcode::binary, false, bytes("b")}});
    check_parts(role, {}, {{Opcode::text, false, bytes("a")}, {Opcode::text, true, bytes("b")}});
    check_parts(role, {}, {{Opcode::binary, false, bytes("a")}, {Opcode::continuation, true, bytes("b")},
                           {Opcode::continuation, false, bytes("c")}});
  }
}
