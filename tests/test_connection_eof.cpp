// Connection::receive_eof(): the transport ending before the peer's Close frame is an abnormal
// closure (RFC 6455 7.1.5, close code 1006), reported once and never sent; after the close
// handshake, or after a failure, the end of the transport says nothing.
#include <vector>

#include "connection_support.hpp"
#include "support.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

void check_abnormal(Connection& c, const Event& ev) {
  CHECK(ev.type == EventType::error);
  CHECK(ev.error == Error::abnormal_closure);
  CHECK(ev.close_code == 1006);
  CHECK(c.error() == Error::abnormal_closure);
  CHECK(c.state() == ConnectionState::closed);
}

// A client's stream: a text message, a ping, a fragmented binary message, then a Close.
Bytes client_stream() {
  return cat({frame(Opcode::text, bytes("hello")), frame(Opcode::ping, bytes("p")),
              frame(Opcode::binary, bytes("ab"), {.fin = false}), frame(Opcode::continuation, bytes("cd")),
              frame(Opcode::close, close_payload(1000, "bye"))});
}

}  // namespace

TEST_CASE("receive_eof before the peer's Close is an abnormal closure (1006)", "[connection][eof]") {
  SECTION("an open connection with nothing in progress, either role") {
    for (Role role : {Role::server, Role::client}) {
      Connection c(role, {}, {.mask_seed = 7});
      const Event ev = c.receive_eof();
      check_abnormal(c, ev);
      CHECK(c.pending_output().empty());  // no Close: nobody would read it
      CHECK(c.should_close_transport());
    }
  }

  SECTION("nothing can be sent afterwards, and it is reported once") {
    Connection c(Role::server);
    check_abnormal(c, c.receive_eof());
    CHECK(c.send_text("late") == Error::connection_closed);
    CHECK(c.send_ping() == Error::connection_closed);
    CHECK(c.close() == Error::connection_closed);
    CHECK(c.pending_output().empty());
    CHECK(!c.receive_eof());
    CHECK(!c.next_event());
    CHECK(c.error() == Error::abnormal_closure);
  }

  SECTION("the stream cut at every byte before its Close frame: the events before the cut, then 1006") {
    const Bytes stream = client_stream();
    const std::size_t close_starts = stream.size() - frame(Opcode::close, close_payload(1000, "bye")).size();
    Connection whole(Role::server);
    const std::vector<Seen> all = feed(whole, stream, Split::whole);
    for (std::size_t cut = 0; cut <= close_starts + 7; ++cut) {
      INFO("cut at " << cut << " of " << stream.size());
      Connection c(Role::server);
      const std::vector<Seen> before = feed(c, Bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut)), Split::whole);
      // Every event seen is one the whole stream gives, in order, and no Close among them.
      REQUIRE(before.size() <= all.size());
      CHECK(std::equal(before.begin(), before.end(), all.begin()));
      for (const Seen& e : before) CHECK(e.type != EventType::close);
      const std::size_t output_before = c.pending_output().size();
      check_abnormal(c, c.receive_eof());
      CHECK(c.pending_output().size() == output_before);  // only the pong queued before, if any
    }
  }

  SECTION("after our Close, still waiting for the peer's") {
    Connection c(Role::server);
    REQUIRE(c.close(1001) == Error::ok);
    const std::size_t queued = c.pending_output().size();
    check_abnormal(c, c.receive_eof());
    CHECK(c.pending_output().size() == queued);
  }
}

TEST_CASE("receive_eof after the close handshake or a failure reports nothing", "[connection][eof]") {
  SECTION("after the peer's Close (clean), whoever started the handshake") {
    for (bool we_started : {false, true}) {
      Connection c(Role::server);
      if (we_started) REQUIRE(c.close() == Error::ok);
      Bytes close = frame(Opcode::close, close_payload(1000));
      c.receive(close);
      REQUIRE(c.next_event().type == EventType::close);
      REQUIRE(!c.next_event());
      CHECK(!c.receive_eof());
      CHECK(c.error() == Error::ok);
      CHECK(c.state() == ConnectionState::closed);
    }
  }

  SECTION("after a protocol error: the first error stays") {
    Connection c(Role::server);
    Bytes unmasked = frame(Opcode::text, bytes("x"), {.masked = false});
    c.receive(unmasked);
    REQUIRE(c.next_event().error == Error::frame_not_masked);
    CHECK(!c.receive_eof());
    CHECK(c.error() == Error::frame_not_masked);
  }
}
