// Borrowing sends (send_text / send_binary with wsframe::borrowed): the wire bytes, the runs
// that point into the caller's buffer, consume_output across them, own_output(), and where the
// connection copies anyway (a client masks, permessage-deflate compresses).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "output_support.hpp"

using namespace wsframe;
using test::as_text;
using test::gathered;
using test::output_runs;
using test::send_plain;
using test::take_all;
using test::text_payload;

namespace {

Error send_lent(Connection& c, MessageKind kind, std::span<const std::byte> payload) {
  return kind == MessageKind::text ? c.send_text(as_text(payload), borrowed) : c.send_binary(payload, borrowed);
}

// Whether a run lies in `buffer` (compared as addresses: they may be unrelated objects).
bool points_into(const OutputSpan& run, std::span<const std::byte> buffer) {
  const auto at = reinterpret_cast<std::uintptr_t>(run.data);
  const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
  return run.size != 0 && at >= begin && at + run.size <= begin + buffer.size();
}

bool any_points_into(const Connection& c, std::span<const std::byte> buffer) {
  return std::ranges::any_of(output_runs(c), [&](const OutputSpan& r) { return points_into(r, buffer); });
}

void overwrite(std::vector<std::byte>& buffer) { std::ranges::fill(buffer, std::byte{'#'}); }

using Messages = std::vector<std::vector<std::byte>>;

// The data messages a peer reads from `wire`, in order (pings and the like skipped).
Messages messages_read(Role reader_role, std::vector<std::byte> wire,
                                                  const ConnectionOptions& options = {}) {
  Connection reader(reader_role, {}, options);
  reader.receive(wire);
  Messages messages;
  while (const Event ev = reader.next_event()) {
    REQUIRE(ev.type != EventType::error);
    if (ev.type == EventType::message) messages.emplace_back(ev.payload.begin(), ev.payload.end());
  }
  return messages;
}

const char* kind_name(MessageKind kind) { return kind == MessageKind::text ? "text" : "binary"; }

}  // namespace

TEST_CASE("a borrowed send puts the same bytes on the wire as send_text / send_binary", "[borrowed]") {
  SECTION("a server queues its header and a run pointing into the caller's bytes") {
    for (const MessageKind kind : {MessageKind::text, MessageKind::binary}) {
      for (const std::size_t n : test::frame_lengths) {
        INFO(kind_name(kind) << ", " << n << " bytes");
        const std::vector<std::byte> payload = text_payload(n);
        Connection plain(Role::server), lent(Role::server);
        REQUIRE(send_plain(plain, kind, payload) == Error::ok);
        REQUIRE(send_lent(lent, kind, payload) == Error::ok);
        const std::vector<OutputSpan> runs = output_runs(lent);
        if (n == 0) {
          CHECK(runs.size() == 1);  // the header alone: nothing to refer to
        } else {
          REQUIRE(runs.size() == 2);
          CHECK(runs[1].data == payload.data());  // not copied
          CHECK(runs[1].size == n);
        }
        CHECK(lent.buffered_amount() == plain.buffered_amount());
        CHECK(take_all(lent) == take_all(plain));
      }
    }
  }
  SECTION("interleaved with copied and prepared sends, the same stream as copying everything") {
    Connection copying(Role::server), mixed(Role::server);
    Messages buffers, expected;
    std::vector<PreparedMessage> prepared;
    buffers.reserve(std::size(test::frame_lengths) * 2);  // the lent bytes never move
    for (const std::size_t n : test::frame_lengths) {
      for (const MessageKind kind : {MessageKind::text, MessageKind::binary}) {
        buffers.push_back(text_payload(n));
        const std::vector<std::byte>& payload = buffers.back();
        prepared.emplace_back(kind, std::span(payload).first(n / 2));
        const std::span<const std::byte> head = std::span(payload).first(std::min<std::size_t>(n, 3));
        for (Connection* c : {&copying, &mixed}) {
          REQUIRE(send_plain(*c, kind, head) == Error::ok);
          REQUIRE(c->send_ping() == Error::ok);
        }
        REQUIRE(send_plain(copying, kind, payload) == Error::ok);
        REQUIRE(send_lent(mixed, kind, payload) == Error::ok);
        REQUIRE(send_plain(copying, kind, prepared.back().payload()) == Error::ok);
        REQUIRE(mixed.send(prepared.back()).error == Error::ok);
        REQUIRE(send_lent(mixed, kind, head) == Error::ok);
        REQUIRE(send_plain(copying, kind, head) == Error::ok);
        expected.insert(expected.end(), {{head.begin(), head.end()}, payload,
                                         {prepared.back().payload().begin(), prepared.back().payload().end()},
                                         {head.begin(), head.end()}});
      }
    }
    const std::vector<std::byte> wire = take_all(mixed);
    CHECK(wire == take_all(copying));
    CHECK(messages_read(Role::client, wire) == expected);  // a peer reads every message back
  }
}

TEST_CASE("a borrowed run keeps its address until consumed, however much is queued after it", "[borrowed][spans]") {
  const std::vector<std::byte> payload = text_payload(200);
  const PreparedMessage m(MessageKind::binary, payload);
  Connection c(Role::server);
  REQUIRE(c.send_binary(payload, borrowed) == Error::ok);
  REQUIRE(c.send_text("after") == Error::ok);
  const std::vector<OutputSpan> before = output_runs(c);
  REQUIRE(before.size() == 3);  // header, the caller's bytes, the next frame
  // Far more than any block or the run ring holds: new blocks, the ring grown.
  for (int i = 0; i < 2000; ++i) {
    const Error e = i % 3 == 0   ? c.send(m).error
                    : i % 3 == 1 ? c.send_binary(payload, borrowed)
                                 : c.send_binary(payload);
    REQUIRE(e == Error::ok);
  }
  const std::vector<OutputSpan> after = output_runs(c);
  CHECK(after[1].data == payload.data());
  CHECK(after[1].size == payload.size());
  CHECK(after[0].data == before[0].data);
  CHECK(after[2].data == before[2].data);
  SECTION("consuming part of it moves only its start") {
    c.consume_output(before[0].size + 7);
    const OutputSpan run = output_runs(c).front();
    CHECK(run.data == payload.data() + 7);
    CHECK(run.size == payload.size() - 7);
  }
}

TEST_CASE("consume_output(n) works across owned, prepared and borrowed runs, at every byte", "[borrowed][spans]") {
  const std::vector<std::byte> payload = text_payload(130);
  const PreparedMessage m(MessageKind::text, std::span(payload).first(40));
  // Its own copy of the lent bytes for each connection, so that one can overwrite them.
  struct Lent {
    std::vector<std::byte> large = text_payload(130), small = text_payload(5), empty;
  };
  const auto fill = [&](Connection& c, const Lent& lent) {
    REQUIRE(c.send_text("owned") == Error::ok);
    REQUIRE(c.send_binary(lent.large, borrowed) == Error::ok);
    REQUIRE(c.send(m).error == Error::ok);
    REQUIRE(c.send_binary(lent.small, borrowed) == Error::ok);
    REQUIRE(c.send_binary(lent.small, borrowed) == Error::ok);  // two borrowed runs in a row
    REQUIRE(c.send(m).error == Error::ok);
    REQUIRE(c.send_binary(lent.empty, borrowed) == Error::ok);
    REQUIRE(c.send_ping() == Error::ok);
    REQUIRE(c.send_binary(lent.large, borrowed) == Error::ok);  // the last run borrowed
  };
  Connection reference(Role::server);
  const Lent reference_lent;
  fill(reference, reference_lent);
  const std::vector<std::byte> all = gathered(reference);
  const auto rest = [&](std::size_t done) {
    return std::vector<std::byte>(all.begin() + static_cast<std::ptrdiff_t>(done), all.end());
  };

  SECTION("consume_output(k) for every k leaves the bytes from k on") {
    for (std::size_t k = 0; k <= all.size() + 1; ++k) {
      INFO("consumed " << k);
      Connection c(Role::server);
      const Lent lent;
      fill(c, lent);
      c.consume_output(k);
      CHECK(gathered(c) == rest(std::min(k, all.size())));
    }
  }
  SECTION("in steps of every size") {
    for (std::size_t step = 1; step <= all.size() + 1; ++step) {
      INFO("consumed " << step << " bytes at a time");
      Connection c(Role::server);
      const Lent lent;
      fill(c, lent);
      for (std::size_t done = 0; done < all.size();) {
        c.consume_output(step);
        done = std::min(all.size(), done + step);
        REQUIRE(gathered(c) == rest(done));
      }
      CHECK(c.output_span_count() == 0);
    }
  }
  SECTION("own_output() after consuming k: the lent bytes may be overwritten, the output is the same") {
    for (std::size_t k = 0; k <= all.size(); ++k) {
      INFO("consumed " << k << " before own_output()");
      Connection c(Role::server);
      Lent lent;
      fill(c, lent);
      c.consume_output(k);
      REQUIRE(c.own_output() == Error::ok);
      CHECK_FALSE(any_points_into(c, lent.large));
      CHECK_FALSE(any_points_into(c, lent.small));
      overwrite(lent.large);
      overwrite(lent.small);
      // The copies sit in blocks that empty out of order: consume the rest 3 bytes at a time.
      for (std::size_t done = k; done < all.size();) {
        REQUIRE(gathered(c) == rest(done));
        c.consume_output(3);
        done = std::min(all.size(), done + 3);
      }
      CHECK(c.buffered_amount() == 0);
      CHECK(c.output_span_count() == 0);
    }
  }
}

TEST_CASE("own_output() makes the connection own every pending byte", "[borrowed]") {
  const std::vector<std::byte> original = text_payload(1000);
  SECTION("the caller may overwrite or free its buffer afterwards: the wire bytes stay") {
    for (const std::size_t n : test::frame_lengths) {
      INFO(n << " bytes");
      Connection plain(Role::server), lent(Role::server);
      REQUIRE(plain.send_text("before") == Error::ok);
      REQUIRE(lent.send_text("before") == Error::ok);
      {
        std::vector<std::byte> buffer = text_payload(n);
        REQUIRE(plain.send_binary(buffer) == Error::ok);
        REQUIRE(lent.send_binary(buffer, borrowed) == Error::ok);
        REQUIRE(lent.own_output() == Error::ok);
        CHECK_FALSE(any_points_into(lent, buffer));
        overwrite(buffer);
      }  // freed: a read of it would be a use after free (ASan)
      REQUIRE(plain.send_text("after") == Error::ok);
      REQUIRE(lent.send_text("after") == Error::ok);
      CHECK(take_all(lent) == take_all(plain));
    }
  }
  SECTION("with nothing borrowed it changes nothing") {
    const PreparedMessage m(MessageKind::binary, original);
    Connection c(Role::server);
    CHECK(c.own_output() == Error::ok);  // idle
    REQUIRE(c.send_text("owned") == Error::ok);
    REQUIRE(c.send(m).error == Error::ok);
    const std::vector<OutputSpan> before = output_runs(c);
    const std::vector<std::byte> bytes = gathered(c);
    CHECK(c.own_output() == Error::ok);
    const std::vector<OutputSpan> after = output_runs(c);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i].data == before[i].data);
    CHECK(after[1].data == m.wire().data());  // the prepared frame is still shared
    CHECK(gathered(c) == bytes);
  }
  SECTION("sends after it borrow again, and it owns those too") {
    std::vector<std::byte> first = original, second = original;
    Connection c(Role::server);
    REQUIRE(c.send_binary(first, borrowed) == Error::ok);
    REQUIRE(c.own_output() == Error::ok);
    REQUIRE(c.send_binary(second, borrowed) == Error::ok);
    CHECK(any_points_into(c, second));
    REQUIRE(c.own_output() == Error::ok);
    CHECK_FALSE(any_points_into(c, second));
    overwrite(first);
    overwrite(second);
    CHECK(messages_read(Role::client, take_all(c)) == Messages{original, original});
  }
  SECTION("pending_output() copies the lent bytes too, joining the runs") {
    std::vector<std::byte> buffer = original;
    Connection plain(Role::server), lent(Role::server);
    REQUIRE(plain.send_binary(buffer) == Error::ok);
    REQUIRE(lent.send_binary(buffer, borrowed) == Error::ok);
    const std::span<const std::byte> joined = lent.pending_output();
    CHECK(lent.output_span_count() == 1);
    CHECK_FALSE(any_points_into(lent, buffer));
    overwrite(buffer);
    CHECK(std::ranges::equal(joined, plain.pending_output()));
  }
}

TEST_CASE("a borrowed send follows the rules and limits of send_text / send_binary", "[borrowed]") {
  const std::vector<std::byte> payload = text_payload(100);
  SECTION("text is checked for UTF-8 when it is sent") {
    const std::vector<std::byte> bad{std::byte{'o'}, std::byte{0xC0}, std::byte{0x80}};
    Connection c(Role::server);
    CHECK(c.send_text(as_text(bad), borrowed) == Error::payload_invalid_utf8);
    CHECK(c.buffered_amount() == 0);
    CHECK(c.send_binary(bad, borrowed) == Error::ok);
  }
  SECTION("no whole message during a fragmented one, nothing after a Close") {
    Connection c(Role::server);
    REQUIRE(c.begin_message(MessageKind::binary, payload) == Error::ok);
    CHECK(c.send_binary(payload, borrowed) == Error::message_in_progress);
    REQUIRE(c.finish_message({}) == Error::ok);
    CHECK(c.send_binary(payload, borrowed) == Error::ok);
    REQUIRE(c.close() == Error::ok);
    CHECK(c.send_text(as_text(payload), borrowed) == Error::connection_closed);
  }
  SECTION("borrowed bytes count as buffered: the same results as copying, under every policy") {
    const std::size_t frame = payload.size() + 2;
    for (const OutputFullPolicy policy : {OutputFullPolicy::refuse, OutputFullPolicy::drop, OutputFullPolicy::close}) {
      INFO("policy " << static_cast<int>(policy));
      const Limits limits{.max_output_bytes = 3 * frame, .high_water_bytes = frame, .on_output_full = policy};
      Connection copying(Role::server, limits, {}), lent(Role::server, limits, {});
      for (int i = 0; i < 5; ++i) {
        INFO("send " << i);
        const Error e = lent.send_binary(payload, borrowed);
        CHECK(e == copying.send_binary(payload));
        CHECK(e == (i < 3 ? Error::ok
                    : policy == OutputFullPolicy::refuse ? Error::output_full
                    : policy == OutputFullPolicy::drop   ? Error::message_dropped
                    : i == 3                             ? Error::output_stalled
                                                         : Error::connection_closed));
        CHECK(lent.buffered_amount() == copying.buffered_amount());
        CHECK(lent.above_high_water() == copying.above_high_water());
        CHECK(lent.above_high_water() == (i >= 1));
        CHECK(lent.dropped_messages() == copying.dropped_messages());
        CHECK(lent.should_close_transport() == copying.should_close_transport());
      }
      CHECK(lent.buffered_amount() <= 3 * frame + 4);  // and one Close under the close policy
      CHECK(take_all(lent) == take_all(copying));
    }
  }
}

TEST_CASE("automatic fragmentation: the frames of a borrowed payload refer to its slices", "[borrowed]") {
  constexpr std::size_t fragment = 50;
  const ConnectionOptions options{.fragment_size = fragment};
  for (std::size_t n = 0; n <= 3 * fragment + 1; ++n) {
    INFO(n << " bytes in fragments of " << fragment);
    std::vector<std::byte> payload = text_payload(n);
    Connection plain(Role::server, {}, options), lent(Role::server, {}, options);
    REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
    REQUIRE(lent.send_text(as_text(payload), borrowed) == Error::ok);
    // Header, slice, header, slice, ...: each slice where it is in the caller's buffer.
    const std::vector<OutputSpan> runs = output_runs(lent);
    std::size_t at = 0;
    for (std::size_t i = 1; i < runs.size(); i += 2, at += fragment) {
      CHECK(runs[i].data == payload.data() + at);
      CHECK(runs[i].size == std::min(fragment, n - at));
    }
    CHECK(at == (n + fragment - 1) / fragment * fragment);
    const std::vector<std::byte> expected = gathered(plain);
    CHECK(gathered(lent) == expected);
    CHECK(messages_read(Role::client, expected) == Messages{text_payload(n)});
    REQUIRE(lent.own_output() == Error::ok);  // copies every slice
    CHECK_FALSE(any_points_into(lent, payload));
    overwrite(payload);
    CHECK(gathered(lent) == expected);
  }
}

TEST_CASE("where the wire bytes are not the caller's, a borrowed send copies", "[borrowed]") {
  SECTION("a client masks (RFC 6455 5.3): the masked copy send_text / send_binary writes") {
    for (const MessageKind kind : {MessageKind::text, MessageKind::binary}) {
      for (const std::size_t n : test::frame_lengths) {
        INFO(kind_name(kind) << ", " << n << " bytes");
        std::vector<std::byte> payload = text_payload(n);
        Connection plain(Role::client, {}, {.mask_seed = 9}), lent(Role::client, {}, {.mask_seed = 9});
        REQUIRE(send_plain(plain, kind, payload) == Error::ok);
        REQUIRE(send_lent(lent, kind, payload) == Error::ok);
        CHECK_FALSE(any_points_into(lent, payload));
        overwrite(payload);
        const std::vector<std::byte> wire = take_all(lent);
        CHECK(wire == take_all(plain));
        CHECK(messages_read(Role::server, wire) == Messages{text_payload(n)});
      }
    }
  }
  SECTION("permessage-deflate compresses into the connection's buffer: the bytes send_text writes") {
    if (!deflate_available()) return;
    for (const bool no_context_takeover : {false, true}) {
      INFO("no context takeover " << no_context_takeover);
      const DeflateParameters agreed{.server_no_context_takeover = no_context_takeover};
      const ConnectionOptions options{.deflate = agreed, .compression = {.threshold = 64}};
      Connection plain(Role::server, {}, options), lent(Role::server, {}, options);
      Connection reader(Role::client, {}, {.deflate = agreed, .mask_seed = 1});
      for (const std::size_t n : test::frame_lengths) {  // the window carries over with takeover
        INFO(n << " bytes");
        std::vector<std::byte> payload = text_payload(n);
        REQUIRE(plain.send_text(as_text(payload)) == Error::ok);
        REQUIRE(lent.send_text(as_text(payload), borrowed) == Error::ok);
        // Under the compression threshold the frame is the caller's bytes: borrowed.
        CHECK(any_points_into(lent, payload) == (n >= 1 && n < 64));
        REQUIRE(lent.own_output() == Error::ok);
        overwrite(payload);
        std::vector<std::byte> wire = take_all(lent);
        CHECK(wire == take_all(plain));
        reader.receive(wire);
        const Event ev = reader.next_event();
        REQUIRE(ev.type == EventType::message);
        CHECK(std::ranges::equal(ev.payload, text_payload(n)));
      }
    }
  }
}
