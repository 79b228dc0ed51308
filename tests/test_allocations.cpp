// Zero heap allocations per frame in steady state, counted with a replaced global operator new.
// A program of its own, so that the replacement affects nothing else.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "counting_new.hpp"
#include "support.hpp"

using namespace wsframe;
using wsframe::test::allocations;
using wsframe::test::live_bytes;

namespace {

// `count` masked client frames: unfragmented text and binary messages of 0..300 bytes and pings.
std::vector<std::byte> client_stream(int count) {
  Connection sender(Role::client, {}, {.mask_seed = 3});
  std::vector<std::byte> stream;
  for (int i = 0; i < count; ++i) {
    const std::size_t n = test::rng()() % 301;
    std::vector<std::byte> payload(n, std::byte{'a'});
    const Error e = i % 10 == 9 ? sender.send_ping(std::span(payload).first(std::min<std::size_t>(n, 125)))
                    : i % 2    ? sender.send_binary(payload)
                               : sender.send_text({reinterpret_cast<const char*>(payload.data()), n});
    REQUIRE(e == Error::ok);
  }
  stream.assign(sender.pending_output().begin(), sender.pending_output().end());
  return stream;
}

// Feeds the stream in reads of `read_size` (frames straddle reads), writing out the pongs.
std::size_t feed(Connection& c, std::vector<std::byte>& stream, std::size_t read_size) {
  std::size_t events = 0;
  for (std::size_t at = 0; at < stream.size(); at += read_size) {
    c.receive({stream.data() + at, std::min(read_size, stream.size() - at)});
    while (Event e = c.next_event()) events += e.type == EventType::error ? 1000000 : 1;
    c.consume_output(c.pending_output().size());
  }
  return events;
}

// What a gather-writing server does when the socket takes everything: the first runs.size()
// runs written as writev would take them, and consumed.
void write_runs(Connection& c, std::span<OutputSpan> runs) {
  const std::size_t n = c.output_spans(runs);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += runs[i].size;
  c.consume_output(bytes);
}

}  // namespace

TEST_CASE("steady state allocates nothing per frame", "[allocations]") {
  const int frames = 2000;
  const std::vector<std::byte> pristine = client_stream(frames);
  for (std::size_t read_size : {std::size_t{1} << 16, std::size_t{1000}, std::size_t{7}}) {
    INFO("reads of " << read_size << " bytes");
    Connection server(Role::server);
    std::vector<std::byte> stream = pristine;
    REQUIRE(feed(server, stream, read_size) == frames);  // warm-up: buffers reach their size
    stream = pristine;
    const std::size_t before = allocations.load();
    const std::size_t events = feed(server, stream, read_size);
    const std::size_t during = allocations.load() - before;
    CHECK(events == frames);
    CHECK(during == 0);
  }
  SECTION("sending, client and server") {
    for (Role role : {Role::client, Role::server}) {
      Connection c(role, {}, {.mask_seed = 1});
      std::vector<std::byte> payload(300, std::byte{'b'});
      bool sent_all = true;
      const auto round = [&] {  // no Catch2 assertion inside: only the connection's allocations count
        for (int i = 0; i < 500; ++i) {
          sent_all &= c.send_binary(std::span(payload).first(static_cast<std::size_t>(i) % 301)) == Error::ok;
          if (i % 3 == 0) c.consume_output(c.pending_output().size() / 2);
          if (i % 7 == 0) c.consume_output(c.pending_output().size());
        }
        c.consume_output(c.pending_output().size());
      };
      round();
      const std::size_t before = allocations.load();
      round();
      CHECK(allocations.load() - before == 0);
      CHECK(sent_all);
    }
  }
}

TEST_CASE("a large message does not pin its buffers: capacity above retained_buffer_bytes is returned", "[allocations]") {
  constexpr std::size_t big = 1u << 20;
  for (const bool trim : {true, false}) {
    INFO("retained_buffer_bytes " << (trim ? "64 KiB (default)" : "SIZE_MAX"));
    Limits limits;
    if (!trim) limits.retained_buffer_bytes = SIZE_MAX;
    Connection server(Role::server, limits, {});
    Connection client(Role::client, {}, {.mask_seed = 5});
    // A fragmented 1 MiB message (reassembled by the server), then a small one; the server
    // echoes both, so its output buffer grows to 1 MiB too.
    std::vector<std::byte> payload(big / 2, std::byte{'x'});
    REQUIRE(client.begin_message(MessageKind::binary, payload) == Error::ok);
    REQUIRE(client.finish_message(payload) == Error::ok);
    std::vector<std::byte> wire(client.pending_output().begin(), client.pending_output().end());
    client.consume_output(wire.size());
    const std::size_t before = live_bytes.load();
    server.receive(wire);
    std::size_t delivered = 0;
    while (Event e = server.next_event()) {
      REQUIRE(e.type == EventType::message);
      delivered = e.payload.size();
      REQUIRE(server.send_binary(e.payload) == Error::ok);
    }
    REQUIRE(delivered == big);
    CHECK(live_bytes.load() >= before + 2 * big);  // reassembly and output, both 1 MiB
    server.consume_output(server.pending_output().size());

    REQUIRE(client.send_binary(std::span(payload).first(10)) == Error::ok);
    wire.assign(client.pending_output().begin(), client.pending_output().end());
    server.receive(wire);
    while (Event e = server.next_event()) REQUIRE(e.payload.size() == 10);
    if (trim)
      CHECK(live_bytes.load() < before + 2 * (64u << 10));
    else
      CHECK(live_bytes.load() >= before + 2 * big);
  }
}

TEST_CASE("steady state allocates nothing per compressed message either", "[allocations][deflate]") {
  if (!deflate_available()) {
    WARN("skipped: this wsframe was built without zlib, so it has no permessage-deflate");
    return;
  }
  for (bool no_context_takeover : {false, true}) {
    INFO("no context takeover " << no_context_takeover);
    const DeflateParameters agreed{.server_no_context_takeover = no_context_takeover,
                                   .client_no_context_takeover = no_context_takeover};
    const CompressionOptions tuning{.threshold = 0};
    Connection client(Role::client, {}, {.deflate = agreed, .compression = tuning, .mask_seed = 5});
    Connection server(Role::server, {}, {.deflate = agreed, .compression = tuning});
    std::vector<std::string> texts;
    for (int i = 0; i < 64; ++i) texts.push_back(std::string(static_cast<std::size_t>(i) * 97, 'x') + std::to_string(i));
    std::vector<std::byte> wire;
    // Echo every text through both Connections; returns the messages that came back whole.
    const auto round = [&] {
      std::size_t echoed = 0;
      for (const std::string& t : texts) {
        REQUIRE(client.send_text(t) == Error::ok);
        wire.assign(client.pending_output().begin(), client.pending_output().end());
        client.consume_output(wire.size());
        server.receive(wire);
        const Event got = server.next_event();
        REQUIRE(got.type == EventType::message);
        REQUIRE(server.send_text(got.text()) == Error::ok);
        wire.assign(server.pending_output().begin(), server.pending_output().end());
        server.consume_output(wire.size());
        client.receive(wire);
        echoed += client.next_event().text() == t;
      }
      return echoed;
    };
    wire.reserve(1 << 16);
    REQUIRE(round() == texts.size());  // warm-up: zlib's streams and the buffers are created
    const std::size_t before = allocations.load();
    CHECK(round() == texts.size());
    CHECK(allocations.load() - before == 0);
  }
}

TEST_CASE("output that is never fully drained stays bounded: consumed space is reused", "[allocations]") {
  // The peer reads a frame's worth at a time and is always 5 frames behind: the output never
  // empties, so only reusing the consumed front keeps the buffer (and the allocations) bounded.
  Connection c(Role::server, {.max_output_bytes = 1000});
  const std::vector<std::byte> payload(48, std::byte{'o'});  // 50-byte frames
  bool sent_all = true;
  const auto round = [&](int frames) {  // no Catch2 assertion inside: only the connection's allocations count
    for (int i = 0; i < frames; ++i) {
      sent_all &= c.send_binary(payload) == Error::ok;
      if (c.pending_output().size() > 250) c.consume_output(50);
    }
  };
  round(100);
  const std::size_t before = allocations.load();
  round(2000);
  CHECK(allocations.load() - before == 0);
  CHECK(sent_all);
  CHECK(c.pending_output().size() == 250);
}

TEST_CASE("a buffer of exactly retained_buffer_bytes is kept, not returned", "[allocations]") {
  // Limits::retained_buffer_bytes: the capacity a connection keeps once a buffer is empty. With
  // the limits below both buffers grow to exactly 4096 bytes.
  const Limits limits{.max_frame_size = 4096, .max_message_size = 4096, .max_output_bytes = 4096,
                      .retained_buffer_bytes = 4096};
  Connection server(Role::server, limits, {});
  Connection client(Role::client, {}, {.mask_seed = 9});
  const std::vector<std::byte> half(2048, std::byte{'k'});
  REQUIRE(client.begin_message(MessageKind::binary, half) == Error::ok);  // reassembled: 2048, then 4096
  REQUIRE(client.finish_message(half) == Error::ok);
  const std::vector<std::byte> message(client.pending_output().begin(), client.pending_output().end());
  const std::vector<std::byte> echo(4092, std::byte{'e'});  // a 4096-byte frame (4-byte header)
  std::vector<std::byte> wire(message.size());
  bool ok = true;
  const auto round = [&] {  // no Catch2 assertion inside
    std::copy(message.begin(), message.end(), wire.begin());  // receive() unmasks in place
    server.receive(wire);
    while (Event e = server.next_event()) ok &= e.type == EventType::message && e.payload.size() == 4096;
    ok &= server.send_binary(echo) == Error::ok;
    server.consume_output(server.pending_output().size());
    std::byte nothing{};
    server.receive({&nothing, 0});  // no message in progress: the reassembly buffer is trimmed here
  };
  round();
  const std::size_t before = allocations.load();
  round();
  round();
  CHECK(allocations.load() - before == 0);
  CHECK(ok);
}

TEST_CASE("fan-out: queuing a prepared message allocates nothing and copies no payload", "[allocations][prepared]") {
  std::vector<std::byte> payload(16384, std::byte{'p'});
  std::vector<Connection> servers;
  for (int i = 0; i < 100; ++i) servers.emplace_back(Role::server);
  std::array<OutputSpan, 8> runs{};
  bool all_ok = true;
  const auto round = [&] {  // no Catch2 assertion inside: only the library's allocations count
    for (int message = 0; message < 20; ++message) {
      const PreparedMessage m(MessageKind::text, payload);  // one allocation per message
      for (Connection& c : servers) all_ok &= c.send(m).error == Error::ok;
      if (message % 4 == 3)
        for (Connection& c : servers) all_ok &= c.send_ping() == Error::ok;  // owned bytes between
      if (message % 2 == 1) continue;  // drained every other message: two or more queued
      for (Connection& c : servers) write_runs(c, runs);
    }
  };
  round();
  const std::size_t before = allocations.load();
  round();
  CHECK(allocations.load() - before == 20);  // the 20 prepared messages themselves, nothing per recipient
  CHECK(all_ok);
  for (Connection& c : servers) {
    c.consume_output(c.buffered_amount());
    const PreparedMessage m(MessageKind::text, payload);
    REQUIRE(c.send(m).error == Error::ok);
    OutputSpan run{};
    REQUIRE(c.output_spans({&run, 1}) == 1);
    CHECK(run.data == m.wire().data());  // the payload was not copied
    c.consume_output(run.size);
  }
}

TEST_CASE("borrowed sends allocate nothing and copy no payload in steady state", "[allocations][borrowed]") {
  const std::vector<std::byte> payload(16384, std::byte{'b'});
  std::vector<Connection> servers;
  for (int i = 0; i < 100; ++i) servers.emplace_back(Role::server);
  const std::size_t heap_before = live_bytes.load();
  std::array<OutputSpan, 8> runs{};
  bool all_ok = true, all_referenced = true;
  const auto round = [&] {  // no Catch2 assertion inside: only the library's allocations count
    for (int message = 0; message < 20; ++message) {
      for (Connection& c : servers) {
        all_ok &= c.send_binary(payload, borrowed) == Error::ok;
        const std::size_t n = c.output_spans(runs);  // the newest run: the caller's bytes
        all_referenced &= n == c.output_span_count() && runs[n - 1].data == payload.data();
      }
      if (message % 4 == 3)
        for (Connection& c : servers) all_ok &= c.send_ping() == Error::ok;  // owned bytes between
      if (message % 2 == 1) continue;  // drained every other message: two or more queued
      for (Connection& c : servers) {
        write_runs(c, runs);
        all_ok &= c.own_output() == Error::ok;  // nothing left borrowed: nothing to do
      }
    }
  };
  round();
  const std::size_t before = allocations.load();
  round();
  CHECK(allocations.load() - before == 0);
  CHECK(all_ok);
  CHECK(all_referenced);
  // What the connections keep is their run rings and header blocks: no buffer a payload was
  // copied into (they keep up to 64 KiB each).
  CHECK(live_bytes.load() - heap_before < servers.size() * 1024);
}

TEST_CASE("fan-out with permessage-deflate: one compressed frame per message, nothing per recipient",
          "[allocations][prepared][deflate]") {
  if (!deflate_available()) {
    WARN("skipped: this wsframe was built without zlib, so it has no permessage-deflate");
    return;
  }
  std::string text;
  for (int i = 0; text.size() < 16384; ++i) text += "price " + std::to_string(i * 7919 % 100003) + "; ";
  const std::span<const std::byte> payload = std::as_bytes(std::span(text));
  const ConnectionOptions stateless{.deflate = DeflateParameters{.server_no_context_takeover = true}};
  std::vector<Connection> servers;
  for (int i = 0; i < 100; ++i) servers.emplace_back(Role::server, Limits{}, stateless);
  std::array<OutputSpan, 8> runs{};
  bool all_ok = true;
  bool all_shared = true;
  const auto round = [&] {  // no Catch2 assertion inside: only the library's allocations count
    for (int message = 0; message < 20; ++message) {
      const PreparedMessage m(MessageKind::text, payload);  // one allocation per message
      for (Connection& c : servers) all_ok &= c.send(m).error == Error::ok;  // the first compresses
      const std::size_t n = servers[0].output_spans(runs);
      const std::byte* frame = n != 0 ? runs[n - 1].data : nullptr;
      for (Connection& c : servers) {
        const std::size_t count = c.output_spans(runs);
        all_shared &= count != 0 && runs[count - 1].data == frame;
        if (message % 2 == 1) continue;  // drained every other message: two queued
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < count; ++i) bytes += runs[i].size;
        c.consume_output(bytes);
      }
    }
  };
  round();  // warm-up: the first connection's compressor and buffers are created
  const std::size_t before = allocations.load();
  round();
  // Per message: the prepared message and its one compressed frame; nothing per recipient.
  CHECK(allocations.load() - before == 2 * 20);
  CHECK(all_ok);
  CHECK(all_shared);
}

namespace {

// One message of `size` bytes in, in one read, and its echo out, the output consumed: what each
// idle connection then keeps on the heap, on average over `idle`.
std::size_t heap_after_echo(std::vector<Connection>& idle, std::size_t size) {
  Connection client(Role::client, {}, {.mask_seed = 2});
  REQUIRE(client.send_text(std::string(size, 'e')) == Error::ok);
  const std::vector<std::byte> message(client.pending_output().begin(), client.pending_output().end());
  const std::size_t before = live_bytes.load();
  for (Connection& c : idle) {
    std::vector<std::byte> wire = message;
    c.receive(wire);
    const Event ev = c.next_event();
    REQUIRE(ev.type == EventType::message);
    REQUIRE(c.send_text(ev.text()) == Error::ok);
    c.consume_output(c.buffered_amount());
    REQUIRE_FALSE(c.next_event());
  }
  return (live_bytes.load() - before) / idle.size();
}

// 1000 server connections; `heap` is set to what they allocated (the vector aside).
std::vector<Connection> idle_servers(const Limits& limits, std::size_t& heap) {
  std::vector<Connection> idle;
  idle.reserve(1000);
  const std::size_t before = live_bytes.load();
  for (int i = 0; i < 1000; ++i) idle.emplace_back(Role::server, limits);
  heap = live_bytes.load() - before;
  return idle;
}

}  // namespace

TEST_CASE("footprint: an idle server Connection costs at most 200 bytes, object and heap", "[allocations][footprint]") {
  std::size_t fresh_heap = 0;
  SECTION("fresh, it allocates nothing") {
    const std::vector<Connection> idle = idle_servers({}, fresh_heap);
    CHECK(fresh_heap == 0);
  }
  SECTION("retained_buffer_bytes 0: after echoing 16 KiB it holds no heap") {
    std::vector<Connection> idle = idle_servers({.retained_buffer_bytes = 0}, fresh_heap);
    const std::size_t heap = heap_after_echo(idle, 16u << 10);
    WARN("sizeof(Connection) = " << sizeof(Connection) << " B; idle heap after a 16 KiB echo: " << heap
                                 << " B (retained_buffer_bytes 0)");
    CHECK(sizeof(Connection) + heap <= 200);
  }
  SECTION("the default keeps its output buffers (up to 64 KiB) for the next message") {
    std::vector<Connection> idle = idle_servers({}, fresh_heap);
    const std::size_t small = heap_after_echo(idle, 5);
    WARN("default limits, idle heap after a 5-byte echo: " << small << " B");
    CHECK(small <= 512);  // the run ring and one small output block
  }
}

TEST_CASE("release_memory: a quiet connection returns what it kept, and nothing in progress", "[allocations][footprint]") {
  std::size_t fresh_heap = 0;
  SECTION("after echoes of 5 B and 16 KiB (default limits), no heap is left") {
    for (const std::size_t size : {std::size_t{5}, std::size_t{16} << 10}) {
      INFO("echo of " << size << " bytes");
      std::vector<Connection> idle = idle_servers({}, fresh_heap);
      const std::size_t before = live_bytes.load();
      CHECK(heap_after_echo(idle, size) > 0);
      for (Connection& c : idle) c.release_memory();
      CHECK(live_bytes.load() == before);
    }
  }
  SECTION("a message arriving in pieces and output not yet written are kept") {
    Connection client(Role::client, {}, {.mask_seed = 4});
    REQUIRE(client.send_text(std::string(3000, 'p')) == Error::ok);
    std::vector<std::byte> wire(client.pending_output().begin(), client.pending_output().end());
    Connection server(Role::server);
    REQUIRE(server.send_binary(std::vector<std::byte>(700, std::byte{7})) == Error::ok);
    const std::size_t queued = server.buffered_amount();
    Event ev;
    for (std::size_t at = 0; at < wire.size(); at += 1000) {
      REQUIRE_FALSE(ev);
      server.release_memory();  // between pieces of the message
      server.receive(std::span(wire).subspan(at, std::min<std::size_t>(1000, wire.size() - at)));
      ev = server.next_event();
      CHECK(server.buffered_amount() == queued);
    }
    REQUIRE(ev.type == EventType::message);
    CHECK(ev.text() == std::string(3000, 'p'));
    CHECK_FALSE(server.next_event());
    const std::span<const std::byte> out = server.pending_output();
    REQUIRE(out.size() == queued);
    CHECK(std::all_of(out.begin() + 4, out.end(), [](std::byte b) { return b == std::byte{7}; }));
  }
}
