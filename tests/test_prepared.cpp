// Prepared messages (fan-out) and the gather form of the output: the wire bytes, the
// message's lifetime, the runs' stable addresses and consume_output across runs.
#include <algorithm>
#include <array>
#include <string>
#include <thread>
#include <vector>

#include <sys/uio.h>

#include "output_support.hpp"

using namespace wsframe;
using test::as_text;
using test::gathered;
using test::send_plain;
using test::take_all;
using test::text_payload;

TEST_CASE("a prepared message puts the same bytes on the wire as send_text / send_binary", "[prepared]") {
  for (const MessageKind kind : {MessageKind::text, MessageKind::binary}) {
    for (const std::size_t n : test::frame_lengths) {
      INFO("kind " << (kind == MessageKind::text ? "text" : "binary") << ", " << n << " bytes");
      const std::vector<std::byte> payload = text_payload(n);
      const PreparedMessage m(kind, payload);
      REQUIRE(m.error() == Error::ok);
      CHECK(m.kind() == kind);
      CHECK(std::ranges::equal(m.payload(), payload));
      // A section per kind and length: a plain SECTION in a loop would run for the first only.
      DYNAMIC_SECTION("server: the prepared frame itself, queued by reference (" << static_cast<int>(kind) << ", " << n
                                                                                     << " bytes)") {
        Connection plain(Role::server), shared(Role::server);
        REQUIRE(send_plain(plain, kind, payload) == Error::ok);
        REQUIRE(shared.send(m).error == Error::ok);
        const std::vector<std::byte> expected = take_all(plain);
        CHECK(std::ranges::equal(m.wire(), expected));
        OutputSpan run{};
        REQUIRE(shared.output_spans({&run, 1}) == 1);
        CHECK(run.data == m.wire().data());  // no copy
        CHECK(take_all(shared) == expected);
      }
      DYNAMIC_SECTION("client: a masked copy, with the key the client would use anyway (" << static_cast<int>(kind)
                                                                                         << ", " << n << " bytes)") {
        Connection plain(Role::client, {}, {.mask_seed = 9}), prepared(Role::client, {}, {.mask_seed = 9});
        REQUIRE(send_plain(plain, kind, payload) == Error::ok);
        REQUIRE(prepared.send(m).error == Error::ok);
        CHECK(take_all(prepared) == take_all(plain));
      }
    }
  }
  SECTION("permessage-deflate: compressed by each connection's own compressor, window in sync") {
    if (!deflate_available()) return;
    for (const bool no_context_takeover : {false, true}) {
      INFO("no context takeover " << no_context_takeover);
      const DeflateParameters agreed{.server_no_context_takeover = no_context_takeover};
      const ConnectionOptions options{.deflate = agreed, .compression = {.threshold = 0}};
      Connection plain(Role::server, {}, options), prepared(Role::server, {}, options);
      Connection reader(Role::client, {}, {.deflate = agreed, .mask_seed = 1});
      for (int i = 0; i < 4; ++i) {  // the same text again: with takeover it refers to the window
        const std::vector<std::byte> payload = text_payload(1000);
        const PreparedMessage m(MessageKind::text, payload);
        REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
        REQUIRE(prepared.send(m).error == Error::ok);
        std::vector<std::byte> wire = take_all(prepared);
        CHECK(wire == take_all(plain));
        CHECK(std::to_integer<int>(wire[0]) == 0xC1);  // FIN, RSV1, text
        reader.receive(wire);
        const Event ev = reader.next_event();
        REQUIRE(ev.type == EventType::message);
        CHECK(std::ranges::equal(ev.payload, payload));
      }
    }
  }
}

TEST_CASE("a prepared message checks its text once and reports what it cannot hold", "[prepared]") {
  const std::array bad{std::byte{0xC0}, std::byte{0x80}};
  const PreparedMessage invalid(MessageKind::text, bad);
  CHECK(invalid.error() == Error::payload_invalid_utf8);
  CHECK(invalid.wire().empty());
  CHECK(PreparedMessage(MessageKind::binary, bad).error() == Error::ok);
  Connection c(Role::server);
  CHECK(c.send(invalid).error == Error::payload_invalid_utf8);
  CHECK(c.send(PreparedMessage{}).error == Error::not_prepared);
  CHECK(c.buffered_amount() == 0);

  SECTION("the send rules of a whole message apply") {
    const PreparedMessage m(MessageKind::binary, bad);
    REQUIRE(c.begin_message(MessageKind::binary, bad) == Error::ok);
    CHECK(c.send(m).error == Error::message_in_progress);
    REQUIRE(c.finish_message({}) == Error::ok);
    CHECK(c.send(m).error == Error::ok);
    REQUIRE(c.close() == Error::ok);
    CHECK(c.send(m).error == Error::connection_closed);
  }
  SECTION("max_output_bytes bounds the queued bytes, references included") {
    const std::vector<std::byte> payload = text_payload(100);
    const PreparedMessage m(MessageKind::binary, payload);
    Connection small(Role::server, {.max_output_bytes = 3 * m.wire().size()}, {});
    for (int i = 0; i < 3; ++i) REQUIRE(small.send(m).error == Error::ok);
    CHECK(small.send(m).error == Error::output_full);
    CHECK(small.buffered_amount() == 3 * m.wire().size());
  }
}

TEST_CASE("a prepared message outlives its last handle while connections have it queued", "[prepared]") {
  const std::vector<std::byte> payload = text_payload(300);
  std::vector<Connection> conns;
  for (int i = 0; i < 3; ++i) conns.emplace_back(Role::server);
  std::vector<std::byte> expected;
  {
    PreparedMessage m(MessageKind::text, payload);
    expected.assign(m.wire().begin(), m.wire().end());
    PreparedMessage copy = m;  // copies and moves share the one frame
    PreparedMessage moved = std::move(copy);
    CHECK(copy.error() == Error::not_prepared);
    for (Connection& c : conns) REQUIRE(c.send(moved).error == Error::ok);
    m = moved;  // self-sharing assignment keeps it alive
  }  // every handle gone; the connections still hold it (ASan reports a use after free)
  conns[0].consume_output(10);
  CHECK(gathered(conns[0]) == std::vector<std::byte>(expected.begin() + 10, expected.end()));
  CHECK(take_all(conns[1]) == expected);
  conns.pop_back();  // a connection destroyed with it queued drops its reference
  CHECK(take_all(conns[0]).size() == expected.size() - 10);
}

TEST_CASE("output runs keep their addresses until consumed, however much is queued after them", "[prepared][spans]") {
  const std::vector<std::byte> payload = text_payload(200);
  const PreparedMessage m(MessageKind::binary, payload);
  Connection c(Role::server);
  REQUIRE(c.send_text("first") == Error::ok);
  REQUIRE(c.send(m).error == Error::ok);
  REQUIRE(c.send_ping(std::as_bytes(std::span("ping", 4))) == Error::ok);
  std::vector<OutputSpan> before(c.output_span_count());
  REQUIRE(before.size() == 3);  // owned, the shared frame, owned again
  c.output_spans(before);
  std::vector<std::vector<std::byte>> contents;
  for (const OutputSpan& r : before) contents.emplace_back(r.data, r.data + r.size);
  // Far more than any block or the run ring holds: new blocks, the ring grown.
  for (int i = 0; i < 2000; ++i) REQUIRE((i % 2 ? c.send(m).error : c.send_binary(payload)) == Error::ok);
  std::vector<OutputSpan> after(c.output_span_count());
  c.output_spans(after);
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(after[i].data == before[i].data);
    CHECK(after[i].size >= before[i].size);  // frames written after a run's end extend it
    CHECK(std::ranges::equal(std::span(before[i].data, before[i].size), contents[i]));
  }
  SECTION("consuming part of a run moves only its start") {
    c.consume_output(before[0].size + 3);
    OutputSpan run{};
    c.output_spans({&run, 1});
    CHECK(run.data == before[1].data + 3);
    CHECK(run.size == before[1].size - 3);
  }
  SECTION("an OutputSpan array is an iovec array") {
    static_assert(sizeof(OutputSpan) == sizeof(iovec) && alignof(OutputSpan) == alignof(iovec));
    static_assert(offsetof(OutputSpan, data) == offsetof(iovec, iov_base));
    static_assert(offsetof(OutputSpan, size) == offsetof(iovec, iov_len));
  }
}

TEST_CASE("consume_output(n) works across run boundaries, for every n", "[prepared][spans]") {
  const std::vector<std::byte> payload = text_payload(130);
  const PreparedMessage m(MessageKind::text, payload);
  const auto fill = [&](Connection& c) {
    REQUIRE(c.send(m).error == Error::ok);
    REQUIRE(c.send_binary(std::span(payload).first(5)) == Error::ok);
    REQUIRE(c.send(m).error == Error::ok);
    REQUIRE(c.send(m).error == Error::ok);
    REQUIRE(c.send_ping() == Error::ok);
  };
  Connection reference(Role::server);
  fill(reference);
  const std::vector<std::byte> all = gathered(reference);
  for (std::size_t step = 1; step <= all.size() + 1; ++step) {
    INFO("consumed " << step << " bytes at a time");
    Connection c(Role::server);
    fill(c);
    for (std::size_t done = 0; done < all.size();) {
      c.consume_output(step);
      done = std::min(all.size(), done + step);
      REQUIRE(gathered(c) == std::vector<std::byte>(all.begin() + static_cast<std::ptrdiff_t>(done), all.end()));
    }
    CHECK(c.output_span_count() == 0);
  }
  SECTION("pending_output() joins the runs into one, the same bytes") {
    Connection c(Role::server);
    fill(c);
    c.consume_output(7);
    const std::span<const std::byte> joined = c.pending_output();
    CHECK(c.output_span_count() == 1);
    CHECK(std::ranges::equal(joined, std::span(all).subspan(7)));
    REQUIRE(c.send(m).error == Error::ok);  // queued after a join: still all there
    CHECK(c.pending_output().size() == all.size() - 7 + m.wire().size());
  }
}

TEST_CASE("backpressure: a peer that never reads gets ok, then backpressure, then the policy", "[prepared][backpressure]") {
  const std::vector<std::byte> payload = text_payload(1000);
  const PreparedMessage m(MessageKind::binary, payload);
  const std::size_t frame = m.wire().size();
  Limits limits{.max_output_bytes = 100 * frame, .high_water_bytes = 40 * frame};
  for (const OutputFullPolicy policy : {OutputFullPolicy::refuse, OutputFullPolicy::drop, OutputFullPolicy::close}) {
    INFO("policy " << static_cast<int>(policy));
    limits.on_output_full = policy;
    Connection c(Role::server, limits, {});
    std::vector<SendStatus> statuses;
    std::vector<Error> errors;
    for (int i = 0; i < 300; ++i) {  // nothing is ever consumed
      const SendResult r = i % 3 == 2 ? SendResult{c.above_high_water() ? SendStatus::backpressure : SendStatus::ok,
                                                   c.send_binary(payload)}
                                      : c.send(m);
      statuses.push_back(r.error == Error::ok ? r.status : SendStatus::refused);
      errors.push_back(r.error);
      CHECK(c.buffered_amount() <= limits.max_output_bytes + 2 + 2);  // a Close of code 1008 at most
    }
    // A section per policy: a plain SECTION in the loop would run for the first one only.
    DYNAMIC_SECTION("ok up to the high-water mark, backpressure above it, refused over max_output_bytes (policy "
                    << static_cast<int>(policy) << ")") {
      for (std::size_t i = 0; i < 40; ++i) CHECK(statuses[i] == SendStatus::ok);
      CHECK(statuses[40] == SendStatus::backpressure);
      for (std::size_t i = 41; i < 100; ++i) CHECK(statuses[i] != SendStatus::refused);
      for (std::size_t i = 100; i < 300; ++i) CHECK(statuses[i] == SendStatus::refused);
    }
    DYNAMIC_SECTION("what refused means under the policy (policy " << static_cast<int>(policy) << ")") {
      switch (policy) {
        case OutputFullPolicy::refuse:
          CHECK(errors[100] == Error::output_full);
          CHECK(c.state() == ConnectionState::open);
          CHECK(c.buffered_amount() == 100 * frame);
          break;
        case OutputFullPolicy::drop:
          CHECK(errors[100] == Error::message_dropped);
          CHECK(c.dropped_messages() == 200);
          CHECK(c.state() == ConnectionState::open);
          break;
        case OutputFullPolicy::close: {
          CHECK(errors[100] == Error::output_stalled);
          CHECK(errors[101] == Error::connection_closed);
          CHECK(c.error() == Error::output_stalled);
          CHECK(c.state() == ConnectionState::closed);
          CHECK(c.should_close_transport());
          const std::span<const std::byte> out = c.pending_output();
          const std::array close_1008{std::byte{0x88}, std::byte{2}, std::byte{0x03}, std::byte{0xF0}};
          CHECK(std::ranges::equal(out.last(4), close_1008));  // RFC 6455 7.4.1: 1008
          break;
        }
      }
    }
  }
}

namespace {

// What the peer gets from `wire`: the payloads of the messages in it, inflated.
std::vector<std::vector<std::byte>> messages_read(Connection& reader, std::vector<std::byte> wire) {
  std::vector<std::vector<std::byte>> got;
  reader.receive(wire);
  while (const Event ev = reader.next_event()) {
    REQUIRE(ev.type == EventType::message);
    got.emplace_back(ev.payload.begin(), ev.payload.end());
  }
  return got;
}

// The first output run of `c` (its address says whose bytes they are).
const std::byte* first_run(const Connection& c) {
  OutputSpan run{};
  REQUIRE(c.output_spans({&run, 1}) == 1);
  return run.data;
}

std::vector<std::byte> random_text(std::size_t n) {  // printable ASCII: compresses, but not much
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(' ' + test::rng()() % 95);
  return v;
}

}  // namespace

TEST_CASE("permessage-deflate without server context takeover: one compressed frame per configuration, shared",
          "[prepared][deflate]") {
  if (!deflate_available()) {
    WARN("skipped: this wsframe was built without zlib, so it has no permessage-deflate");
    return;
  }
  const DeflateParameters stateless{.server_no_context_takeover = true};
  const ConnectionOptions options{.deflate = stateless, .compression = {.threshold = 0}};

  SECTION("the shared frame is what send_text / send_binary write, and the peer inflates it") {
    for (const MessageKind kind : {MessageKind::text, MessageKind::binary}) {
      for (const std::size_t n : test::frame_lengths) {
        for (const int content : {0, 1}) {  // compressible, hardly (text) or not at all (binary)
          const std::vector<std::byte> payload =
              content == 0 ? text_payload(n) : kind == MessageKind::text ? random_text(n) : test::random_bytes(n);
          INFO((kind == MessageKind::text ? "text" : "binary") << ", " << n << " bytes, content " << content);
          const PreparedMessage m(kind, payload);
          Connection plain(Role::server, {}, options), first(Role::server, {}, options);
          Connection second(Role::server, {}, options);
          Connection reader(Role::client, {}, {.deflate = stateless, .mask_seed = 1});
          REQUIRE(send_plain(plain, kind, payload) == Error::ok);
          REQUIRE(first.send(m).error == Error::ok);
          REQUIRE(second.send(m).error == Error::ok);
          CHECK(first_run(first) == first_run(second));  // one frame, two references
          CHECK(first.output_span_count() == 1);
          const std::vector<std::byte> expected = take_all(plain);
          CHECK((std::to_integer<int>(expected[0]) & 0x40) != 0);  // RSV1: compressed (RFC 7692 6)
          CHECK(take_all(first) == expected);
          const std::vector<std::byte> wire = take_all(second);
          CHECK(wire == expected);
          const auto got = messages_read(reader, wire);
          REQUIRE(got.size() == 1);
          CHECK(got[0] == payload);
        }
      }
    }
  }
  SECTION("a message under the compression threshold is the uncompressed shared frame") {
    const std::vector<std::byte> payload = text_payload(31);
    const PreparedMessage m(MessageKind::text, payload);
    Connection c(Role::server, {}, {.deflate = stateless});  // threshold 32
    REQUIRE(c.send(m).error == Error::ok);
    CHECK(first_run(c) == m.wire().data());
  }
  SECTION("equal settings share one frame, different settings get one each") {
    const std::vector<std::byte> payload = random_text(3000);
    const PreparedMessage m(MessageKind::text, payload);
    const std::vector<ConnectionOptions> settings{
        options,
        {.deflate = stateless, .compression = {.level = 1, .threshold = 0}},
        {.deflate = DeflateParameters{.server_no_context_takeover = true, .server_max_window_bits = 9},
         .compression = {.threshold = 0}},
        {.deflate = stateless, .compression = {.mem_level = 2, .threshold = 0}},
    };
    std::vector<const std::byte*> frames;
    for (const ConnectionOptions& o : settings) {
      Connection plain(Role::server, {}, o), a(Role::server, {}, o), b(Role::server, {}, o);
      REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
      REQUIRE(a.send(m).error == Error::ok);
      REQUIRE(b.send(m).error == Error::ok);
      CHECK(first_run(a) == first_run(b));
      frames.push_back(first_run(a));
      const std::vector<std::byte> expected = take_all(plain);
      CHECK(take_all(a) == expected);
      CHECK(take_all(b) == expected);
    }
    std::ranges::sort(frames);
    CHECK(std::ranges::adjacent_find(frames) == frames.end());
  }
  SECTION("beyond max_compressed_variants settings, a connection compresses the message itself: same bytes") {
    const std::vector<std::byte> payload = random_text(2000);
    const PreparedMessage m(MessageKind::text, payload);
    for (int level = 1; level <= static_cast<int>(PreparedMessage::max_compressed_variants) + 2; ++level) {
      INFO("level " << level);
      const ConnectionOptions o{.deflate = stateless, .compression = {.level = level, .threshold = 0}};
      Connection plain(Role::server, {}, o), a(Role::server, {}, o), b(Role::server, {}, o);
      Connection reader(Role::client, {}, {.deflate = stateless, .mask_seed = 1});
      REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
      REQUIRE(a.send(m).error == Error::ok);
      REQUIRE(b.send(m).error == Error::ok);
      const bool shared = level <= static_cast<int>(PreparedMessage::max_compressed_variants);
      CHECK((first_run(a) == first_run(b)) == shared);
      const std::vector<std::byte> expected = take_all(plain);
      CHECK(take_all(a) == expected);
      const std::vector<std::byte> wire = take_all(b);
      CHECK(wire == expected);
      CHECK(messages_read(reader, wire) == std::vector<std::vector<std::byte>>{payload});
    }
  }
  SECTION("with context takeover, each connection compresses through its own window") {
    const DeflateParameters takeover{};
    const std::vector<std::byte> payload = text_payload(1000);
    const PreparedMessage m(MessageKind::text, payload);
    Connection a(Role::server, {}, {.deflate = takeover}), b(Role::server, {}, {.deflate = takeover});
    REQUIRE(a.send(m).error == Error::ok);
    REQUIRE(b.send(m).error == Error::ok);
    CHECK(first_run(a) != first_run(b));
    CHECK(take_all(a) == take_all(b));
  }
  SECTION("a client masks: it compresses and masks its own copy, as send_text does") {
    const DeflateParameters both{.server_no_context_takeover = true, .client_no_context_takeover = true};
    const std::vector<std::byte> payload = text_payload(1000);
    const PreparedMessage m(MessageKind::text, payload);
    Connection plain(Role::client, {}, {.deflate = both, .mask_seed = 4});
    Connection prepared(Role::client, {}, {.deflate = both, .mask_seed = 4});
    for (int i = 0; i < 2; ++i) {
      REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
      REQUIRE(prepared.send(m).error == Error::ok);
    }
    CHECK(take_all(prepared) == take_all(plain));
  }
  SECTION("the shared frame outlives the message's last handle while it is queued") {
    const std::vector<std::byte> payload = text_payload(5000);
    Connection plain(Role::server, {}, options), a(Role::server, {}, options), b(Role::server, {}, options);
    REQUIRE(plain.send_binary(payload) == Error::ok);
    {
      const PreparedMessage m(MessageKind::binary, payload);
      REQUIRE(a.send(m).error == Error::ok);
      REQUIRE(b.send(m).error == Error::ok);
    }  // the variant is freed with the message, once both have consumed it (ASan checks)
    const std::vector<std::byte> expected = take_all(plain);
    a.consume_output(3);
    CHECK(gathered(a) == std::vector<std::byte>(expected.begin() + 3, expected.end()));
    CHECK(take_all(b) == expected);
  }
  SECTION("fragment_size: compressed bytes longer than a fragment are copied into this connection's frames") {
    const std::vector<std::byte> payload = random_text(1000);
    const PreparedMessage m(MessageKind::text, payload);
    for (const std::size_t piece : {std::size_t{100}, std::size_t{4096}}) {
      INFO("fragment_size " << piece);
      const ConnectionOptions o{.deflate = stateless, .compression = {.threshold = 0}, .fragment_size = piece};
      Connection plain(Role::server, {}, o), a(Role::server, {}, o), b(Role::server, {}, o);
      Connection reader(Role::client, {}, {.deflate = stateless, .mask_seed = 1});
      REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
      REQUIRE(a.send(m).error == Error::ok);
      REQUIRE(b.send(m).error == Error::ok);
      const std::vector<std::byte> expected = take_all(plain);
      const bool split = piece == 100;  // the compressed text is several hundred bytes
      CHECK((first_run(a) == first_run(b)) == !split);
      CHECK(take_all(a) == expected);
      const std::vector<std::byte> wire = take_all(b);
      CHECK(wire == expected);
      CHECK((std::to_integer<int>(wire[0]) & 0x80) == (split ? 0 : 0x80));  // FIN on the first frame or not
      CHECK(messages_read(reader, wire) == std::vector<std::vector<std::byte>>{payload});
    }
  }
  SECTION("several threads sending one message make one frame per configuration") {
    constexpr int threads = 4, messages = 50, per_thread = 8;
    for (int round = 0; round < messages; ++round) {
      const std::vector<std::byte> payload = random_text(700);
      const PreparedMessage m(MessageKind::text, payload);
      Connection plain(Role::server, {}, options);
      REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
      const std::vector<std::byte> expected = take_all(plain);
      std::vector<std::vector<Connection>> conns(threads);
      for (auto& group : conns)
        for (int i = 0; i < per_thread; ++i) group.emplace_back(Role::server, Limits{}, options);
      std::vector<int> failures(threads, 0);
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {  // no Catch2 assertion inside: it is not thread-safe
          for (Connection& c : conns[t]) failures[t] += c.send(m).error != Error::ok;
        });
      for (std::thread& w : workers) w.join();
      CHECK(std::ranges::count(failures, 0) == threads);
      const std::byte* frame = first_run(conns[0][0]);
      for (auto& group : conns)
        for (Connection& c : group) {
          CHECK(first_run(c) == frame);
          CHECK(take_all(c) == expected);
        }
    }
  }
}
