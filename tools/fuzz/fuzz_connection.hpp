// Connection::receive on arbitrary byte streams cut at random points (fuzz_connection_server.cpp
// and fuzz_connection_client.cpp, one per role). The event sequence must not depend on the cuts,
// nor on the backend, nor (once fragments are joined) on deliver_fragments; every event must obey
// the RFC (text is valid UTF-8, control payloads <= 125 bytes, an error carries its close code
// and ends the events); echoing every message never lets the output exceed its limit. The top
// bit of the seed turns permessage-deflate on (RSV1 messages are inflated, echoes compressed),
// the next three pick the window bits the peer compresses with.
#pragma once

#include "fuzz_support.hpp"

namespace wsframe::fuzz {

struct Record {
  EventType type;
  MessageKind kind;
  std::uint8_t rsv;
  std::uint16_t close_code;
  Error error;
  std::vector<std::byte> payload;
  bool operator==(const Record&) const = default;
};

inline Limits fuzz_limits() {
  Limits l;
  l.max_frame_size = 2048;
  l.max_message_size = 8192;
  l.max_output_bytes = 64 * 1024;
  return l;
}

// Feeds `stream` in pieces of the given sizes; returns the events, fragments joined into messages.
inline std::vector<Record> run_connection(Role role, std::span<const std::byte> stream,
                                          const std::vector<std::size_t>& pieces, const Backend& backend,
                                          bool deliver_fragments, std::optional<DeflateParameters> deflate) {
  const Limits limits = fuzz_limits();
  Connection conn(role, limits,
                  ConnectionOptions{.deliver_fragments = deliver_fragments, .deflate = deflate,
                                    .compression = {.threshold = 16}, .mask_seed = 1, .backend = &backend});
  std::vector<std::byte> copy(stream.begin(), stream.end());  // receive() unmasks in place
  std::vector<Record> records;
  std::vector<std::byte> joined;  // fragments of the current message
  bool failed = false;
  std::size_t at = 0;
  for (const std::size_t n : pieces) {
    conn.receive(std::span(copy).subspan(at, n));
    at += n;
    while (const Event ev = conn.next_event()) {
      if (failed) fail("an event after an error", backend.name);
      switch (ev.type) {
        case EventType::message:
        case EventType::fragment:
          if (ev.type == EventType::fragment) {
            if (!deliver_fragments) fail("a fragment without deliver_fragments", backend.name);
            if (ev.first) joined.clear();
            joined.insert(joined.end(), ev.payload.begin(), ev.payload.end());
            if (!ev.last) break;
          } else {
            if (deliver_fragments) fail("a whole message with deliver_fragments", backend.name);
            joined.assign(ev.payload.begin(), ev.payload.end());
          }
          if (joined.size() > limits.max_message_size) fail("message over max_message_size", backend.name);
          if (ev.kind == MessageKind::text && !is_valid_utf8(*find_backend("scalar"), joined))
            fail("a text message that is not valid UTF-8", backend.name);
          records.push_back({EventType::message, ev.kind, ev.rsv, 0, Error::ok, joined});
          {  // echo it, exercising the sending side
            const Error e = ev.kind == MessageKind::text
                                ? conn.send_text({reinterpret_cast<const char*>(joined.data()), joined.size()})
                                : conn.send_binary(joined);
            if (e != Error::ok && e != Error::connection_closed && e != Error::output_full)
              fail("echo refused for an unexpected reason", backend.name);
          }
          break;
        case EventType::ping:
        case EventType::pong:
          if (ev.payload.size() > max_control_payload) fail("control payload over 125 bytes", backend.name);
          records.push_back({ev.type, MessageKind::binary, 0, 0, Error::ok, {ev.payload.begin(), ev.payload.end()}});
          break;
        case EventType::close:
          if (ev.close_code != 1005 && (ev.close_code < 1000 || ev.close_code >= 5000)) fail("close code out of range", backend.name);
          records.push_back({ev.type, MessageKind::binary, 0, ev.close_code, Error::ok, {ev.payload.begin(), ev.payload.end()}});
          break;
        case EventType::error:
          if (ev.close_code != close_code(ev.error) || ev.close_code == 0) fail("error without its close code", backend.name);
          records.push_back({ev.type, MessageKind::binary, 0, ev.close_code, ev.error, {}});
          failed = true;
          break;
        case EventType::none: break;
      }
    }
    if (conn.pending_output().size() > limits.max_output_bytes) fail("output over max_output_bytes", backend.name);
    conn.consume_output(conn.pending_output().size());  // the peer reads everything
  }
  if (failed && conn.state() != ConnectionState::closed) fail("not closed after an error", backend.name);
  return records;
}

inline int fuzz_connection(Role role, const std::uint8_t* data, std::size_t size) {
  const auto [seed, stream] = split_input(data, size);
  std::optional<DeflateParameters> deflate;
  if ((seed & 0x8000) != 0) {
    const auto bits = static_cast<std::uint8_t>(8 + ((seed >> 12) & 7));
    deflate = DeflateParameters{.server_max_window_bits = bits, .client_max_window_bits = bits};
  }
  const Backend& scalar = *find_backend("scalar");
  const std::vector<std::size_t> whole{stream.size()};
  const std::vector<Record> expected = run_connection(role, stream, whole, scalar, false, deflate);
  const std::vector<std::size_t> pieces = Splitter(seed).piece_sizes(stream.size());
  if (run_connection(role, stream, pieces, scalar, false, deflate) != expected)
    fail("events depend on the cut points", "scalar");
  if (run_connection(role, stream, pieces, scalar, true, deflate) != expected)
    fail("deliver_fragments gives other messages", "scalar");
  for (const Backend* b : runnable_backends())
    if (b != &scalar && run_connection(role, stream, pieces, *b, false, deflate) != expected)
      fail("events differ from scalar's", b->name);
  return 0;
}

}  // namespace wsframe::fuzz
