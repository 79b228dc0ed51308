// The examples of README.md and of the public headers' comments, compiled (doc_examples.inc is
// extracted from them at build time by tools/doc_examples.py), and the documented handshake to
// connection handoff run.
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <wsframe/wsframe.hpp>

#include "connection_support.hpp"
#include "support.hpp"

namespace doc {

// What the examples take for granted: a socket and its calls, and the names they use.
inline std::span<std::byte> read_some(int) { return {}; }
inline void write(int, std::string_view) {}
inline void write(int, std::span<const std::byte>) {}
inline void close(int) {}
inline void handle(const wsframe::Event&) {}

#define DOC_EXAMPLE_CONTEXT                                                                         \
  [[maybe_unused]] int fd, [[maybe_unused]] std::span<std::byte> bytes,                             \
      [[maybe_unused]] std::span<std::byte> bytes_read, [[maybe_unused]] std::size_t written,         \
      [[maybe_unused]] std::size_t bytes_written, [[maybe_unused]] const wsframe::Limits& limits,     \
      [[maybe_unused]] const wsframe::ServerOptions& options, [[maybe_unused]] wsframe::Connection& conn, \
      [[maybe_unused]] wsframe::Connection& connection

#include "doc_examples.inc"

}  // namespace doc

using namespace wsframe;
using namespace wsframe::test;

TEST_CASE("the documented handoff: a handshake's leftover goes straight to Connection::receive", "[docs]") {
  const std::string request =
      "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const Bytes first_frame = frame(Opcode::text, bytes("hello"));
  Bytes read_buffer = cat({bytes(request), first_frame});  // one read: the head and a pipelined frame

  ServerHandshake hs;
  auto r = hs.feed(std::span<std::byte>(read_buffer));
  static_assert(std::is_same_v<decltype(r.leftover), std::span<std::byte>>, "writable input, writable leftover");
  REQUIRE(r.status == HandshakeStatus::accept);
  CHECK(r.leftover.data() == read_buffer.data() + request.size());  // a view into the input
  CHECK(r.leftover.size() == first_frame.size());

  Connection conn(Role::server);
  conn.receive(r.leftover);
  const Event ev = conn.next_event();
  REQUIRE(ev.type == EventType::message);
  CHECK(ev.text() == "hello");
  CHECK(ev.payload.data() == read_buffer.data() + read_buffer.size() - 5);  // unmasked in place

  SECTION("the same result reads as a HandshakeResult of read-only bytes") {
    const HandshakeResult view = r;
    CHECK(view.status == r.status);
    CHECK(view.leftover.data() == r.leftover.data());
    CHECK(view.leftover.size() == r.leftover.size());
  }
}

TEST_CASE("every documented example was extracted", "[docs]") {
  // One function per example; the README alone has two C++ blocks.
  CHECK(&doc::doc_example_0 != nullptr);
  CHECK(&doc::doc_example_1 != nullptr);
}
