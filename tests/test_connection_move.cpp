// Moving a Connection: the connection moved to carries on exactly where the moved-from one
// was (received bytes, a message in progress, queued output, a client's masking keys), and
// what a move leaves behind is a closed connection on which every call is valid: sends are
// refused with Error::connection_closed, nothing is received, nothing is pending.
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "connection_support.hpp"
#include "support.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

constexpr std::uint64_t seed = 0x5eed;

Connection client() { return Connection(Role::client, {}, {.mask_seed = seed}); }

std::vector<std::byte> pending(const Connection& c) {
  const std::span<const std::byte> out = c.pending_output();
  return {out.begin(), out.end()};
}

// Every observable of a connection that a move left behind.
void check_moved_from(Connection& c, Role role) {
  CHECK(c.role() == role);
  CHECK(c.state() == ConnectionState::closed);
  CHECK(c.error() == Error::connection_closed);
  CHECK(!c.receiving());
  CHECK(c.buffered_amount() == 0);
  CHECK(c.pending_output().empty());
  CHECK(c.dropped_messages() == 0);

  CHECK(c.send_text("text") == Error::connection_closed);
  CHECK(c.send_binary(bytes("binary")) == Error::connection_closed);
  CHECK(c.begin_message(MessageKind::text, bytes("part")) == Error::connection_closed);
  CHECK(c.send_ping(bytes("ping")) == Error::connection_closed);
  CHECK(c.send_pong() == Error::connection_closed);
  CHECK(c.close(1000, "bye") == Error::connection_closed);
  const PreparedMessage prepared(MessageKind::binary, bytes("prepared"));
  const SendResult sent = c.send(prepared);
  CHECK(sent.status == SendStatus::refused);
  CHECK(sent.error == Error::connection_closed);

  // A valid frame from the peer is not received: no event, no answer queued.
  Bytes ping = role == Role::server ? frame(Opcode::ping, bytes("p")) : server_frame(Opcode::ping, bytes("p"));
  c.receive(ping);
  CHECK(!c.next_event());
  CHECK(!c.receive_eof());
  CHECK(c.pending_output().empty());
  CHECK(c.error() == Error::connection_closed);
}

}  // namespace

TEST_CASE("a moved-from connection is closed", "[connection][move]") {
  SECTION("client, move-constructed") {
    Connection from = client();
    REQUIRE(from.send_text("before") == Error::ok);
    Connection to(std::move(from));
    check_moved_from(from, Role::client);
  }
  SECTION("server, move-constructed") {
    Connection from(Role::server);
    REQUIRE(from.send_text("before") == Error::ok);
    Connection to(std::move(from));
    check_moved_from(from, Role::server);
  }
  SECTION("client, move-assigned") {
    Connection from = client();
    Connection to(Role::client, {}, {.mask_seed = seed + 1});
    to = std::move(from);
    check_moved_from(from, Role::client);
  }
  SECTION("server, move-assigned over a client") {
    Connection from(Role::server);
    Connection to = client();
    to = std::move(from);
    CHECK(to.role() == Role::server);
    check_moved_from(from, Role::server);
  }
  SECTION("in the middle of a frame and of a fragmented message") {
    Connection from(Role::server);
    Bytes stream = cat({frame(Opcode::text, bytes("hel"), {.fin = false}), frame(Opcode::continuation, bytes("lo"))});
    from.receive(std::span(stream).first(stream.size() - 1));
    CHECK(!from.next_event());
    REQUIRE(from.receiving());
    Connection to(std::move(from));
    check_moved_from(from, Role::server);
  }
  SECTION("assigning to a moved-from connection makes it a working one again") {
    Connection from(Role::server);
    Connection to(std::move(from));
    from = Connection(Role::server);
    CHECK(from.state() == ConnectionState::open);
    CHECK(from.error() == Error::ok);
    CHECK(from.send_text("again") == Error::ok);
    CHECK(!from.pending_output().empty());
  }
}

TEST_CASE("the moved-to connection carries on", "[connection][move]") {
  SECTION("a client's masking keys continue the same sequence") {
    Connection reference = client();
    REQUIRE(reference.send_text("one") == Error::ok);
    REQUIRE(reference.send_text("two") == Error::ok);

    Connection from = client();
    REQUIRE(from.send_text("one") == Error::ok);
    Connection to(std::move(from));
    REQUIRE(to.send_text("two") == Error::ok);
    CHECK(pending(to) == pending(reference));  // queued output moved too
  }
  SECTION("a message received in part is completed by the moved-to connection") {
    Connection from(Role::server);
    Bytes stream = cat({frame(Opcode::text, bytes("hel"), {.fin = false}), frame(Opcode::continuation, bytes("lo"))});
    const std::size_t cut = stream.size() - 1;
    from.receive(std::span(stream).first(cut));
    CHECK(!from.next_event());
    Connection to(std::move(from));
    CHECK(to.receiving());
    to.receive(std::span(stream).subspan(cut));
    const Event ev = to.next_event();
    REQUIRE(ev.type == EventType::message);
    CHECK(ev.text() == "hello");
    CHECK(!to.receiving());
  }
  SECTION("a close handshake in progress") {
    Connection from(Role::server);
    REQUIRE(from.close(1000, "bye") == Error::ok);
    Connection to(std::move(from));
    CHECK(to.state() == ConnectionState::closing);
    Bytes close = frame(Opcode::close, close_payload(1000));
    to.receive(close);
    CHECK(to.next_event().type == EventType::close);
    CHECK(to.state() == ConnectionState::closed);
    CHECK(to.error() == Error::ok);
  }
}
