// The receive path's plain case (a whole final text or binary frame, delivered in place straight
// from its header) at its edges: every split point of a stream mixing plain frames with
// fragmented messages and control frames, a header ending exactly at the end of an input, a
// frame breaking a rule right after a plain one, and each condition of the plain case failed on
// its own (the general path must then give its own result). Then the sweeps: every header form
// (first byte, MASK bit, 7/16/64-bit lengths, minimal or not), every small length and the
// 16-bit boundary at and over the limits, and invalid UTF-8, each split at every point, on every
// backend and in both roles, against a reference decoder written here.
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
