// The receive path's UTF-8 verdict at every block boundary (RFC 6455 8.1: invalid text fails
// the connection with 1007): the texts of tests/utf8_sweep.hpp, on every backend, in a single
// frame (the server's fused unmask+validate fast path, the client's unmasked one), straddling two
// receive() calls, and fragmented, with deliver_fragments on and off.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "connection_support.hpp"
#include "utf8_sweep.hpp"

using namespace wsframe;
using namespace wsframe::test;

namespace {

// How the text reaches the connection.
enum class Shape { single_frame, straddling, fragmented };

struct Delivery {
  Shape shape;
  std::size_t cut;  // straddling: receive() boundary in the frame; fragmented: payload bytes in the first frame
};

std::string describe(const Delivery& d) {
  const char* names[] = {"single frame", "frame straddling two receive() calls, cut at ", "two fragments, the first of "};
  return names[static_cast<int>(d.shape)] + (d.shape == Shape::single_frame ? std::string() : std::to_string(d.cut));
}

// The deliveries of an n-byte text: whole; straddling with the cut inside the header, right
// after it, in the middle and before the last byte; fragmented with an empty, a half and an
// all-but-one first fragment.
std::vector<Delivery> deliveries(std::size_t n, std::size_t header_size, bool all_shapes) {
  std::vector<Delivery> out{{Shape::single_frame, 0}};
  if (!all_shapes) return out;
  for (std::size_t cut : {header_size - 1, header_size, header_size + n / 2, header_size + n - 1})
    if (cut > 0 && cut < header_size + n) out.push_back({Shape::straddling, cut});
  for (std::size_t first : {std::size_t{0}, n / 2, n - 1})
    if (first < n) out.push_back({Shape::fragmented, first});
  return out;
}

// Appends one frame to `out`: client frames (masked with test_key) to a server, server frames
// (unmasked) to a client.
void append_frame(Bytes& out, Opcode op, bool fin, std::span<const std::byte> payload, Role receiver) {
  FrameHeader h;
  h.opcode = op;
  h.fin = fin;
  h.masked = receiver == Role::server;
  h.mask_key = h.masked ? test_key : MaskKey{};
  h.payload_length = payload.size();
  std::array<std::byte, max_header_size> header{};
  const std::size_t size = encode_header(h, header);
  const std::size_t at = out.size();
  out.resize(at + size + payload.size());
  copy_bytes(out.data() + at, header.data(), size);
  const std::span<std::byte> body(out.data() + at + size, payload.size());
  if (h.masked) mask_copy(scalar_backend(), payload, body, test_key);
  else copy_bytes(body.data(), payload.data(), payload.size());
}

// The wire bytes of the text delivered as `d`, into `out`.
void wire(Bytes& out, std::span<const std::byte> text, const Delivery& d, Role receiver) {
  out.clear();
  if (d.shape != Shape::fragmented) return append_frame(out, Opcode::text, true, text, receiver);
  append_frame(out, Opcode::text, false, text.first(d.cut), receiver);
  append_frame(out, Opcode::continuation, true, text.subspan(d.cut), receiver);
}

// What arrived: whether the message's bytes (joined from its fragments) matched the text, and
// how it ended.
struct Received {
  std::span<const std::byte> text;  // expected
  std::size_t bytes = 0;            // message bytes seen
  bool matching = true;             // they equal the text's first `bytes` bytes
  int messages = 0;                 // message events, and fragment events with last set
  int errors = 0, others = 0;       // error events, any other event
  Error error = Error::ok;
  std::uint16_t close_code = 0;
};

void drain_into(Connection& c, Received& r) {
  while (Event e = c.next_event()) {
    if (e.type == EventType::message || e.type == EventType::fragment) {
      if (e.kind != MessageKind::text) ++r.others;
      r.matching = r.matching && r.bytes + e.payload.size() <= r.text.size() &&
                   same_bytes(r.text.data() + r.bytes, e.payload.data(), e.payload.size());
      r.bytes += e.payload.size();
      r.messages += e.type == EventType::message || e.last;
    } else if (e.type == EventType::error) {
      ++r.errors;
      r.error = e.error;
      r.close_code = e.close_code;
    } else {
      ++r.others;
    }
  }
}

// Feeds the bytes (in two receive() calls when straddling; receive() unmasks in place).
Received receive_all(Connection& c, std::span<std::byte> stream, std::span<const std::byte> text, const Delivery& d) {
  Received r{.text = text};
  const std::size_t cut = d.shape == Shape::straddling ? d.cut : stream.size();
  c.receive(stream.first(cut));
  drain_into(c, r);
  if (cut < stream.size()) {
    c.receive(stream.subspan(cut));
    drain_into(c, r);
  }
  return r;
}

// Valid text: exactly one text message with the text. Invalid: exactly one 1007 failure, and
// the message never complete (with deliver_fragments, fragments before the error may arrive).
bool as_expected(const Received& r, std::span<const std::byte> text, bool valid) {
  if (r.others != 0) return false;
  if (valid)
    return r.errors == 0 && r.messages == 1 && r.matching && r.bytes == text.size();
  return r.errors == 1 && r.error == Error::invalid_utf8 && r.close_code == 1007 && r.messages == 0;
}

}  // namespace

TEST_CASE("connection sweep: every length near a block multiple, every ending, every way it arrives", "[connection][sweep]") {
  // Single frames at every swept length. Straddling and fragmented deliveries (whose UTF-8 is
  // the streaming kernel's, swept split everywhere in test_utf8_sweep) at the lengths up to
  // four 64-byte blocks and one byte more and those next to a multiple of 64 (under emulation,
  // of those only the ones next to a multiple of 16).
  const auto lengths = sweep_lengths();
  const auto endings = all_endings();
  const Filler filler = make_filler("mixed", true);
  std::vector<std::byte> buffer(65536 + 8);
  Bytes stream;
  // The backends whose receive-path kernels differ.
  for (const Backend* b : distinct_backends(&Backend::utf8_feed, &Backend::utf8_validate, &Backend::unmask_utf8_validate,
                                            &Backend::mask, &Backend::mask_copy, &Backend::decode_header)) {
    for (Role role : {Role::server, Role::client})
      for (bool fragments : {false, true}) {
        INFO("backend " << b->name << (role == Role::server ? ", server" : ", client") << ", deliver_fragments " << fragments);
        Tally tally;
        for (std::size_t n : lengths) {
          const bool all_shapes = (n <= 4 * 64 + 1 || (n + 1) % 64 <= 2) && (!quick() || (n + 1) % 16 <= 2);
          const std::size_t header_size = (n < 126 ? 2 : n < 65536 ? 4 : 10) + (role == Role::server ? 4 : 0);
          for (const Ending& e : endings) {
            if (e.bytes.size() + e.after > n) continue;
            const std::span<std::byte> text = build(buffer, filler, n, e);
            Bytes tail = e.bytes;
            tail.resize(tail.size() + e.after, std::byte{'a'});
            const bool valid = expected_result(n - tail.size(), tail).status == Utf8Status::valid;
            for (const Delivery& d : deliveries(n, header_size, all_shapes)) {
              ConnectionOptions options;
              options.deliver_fragments = fragments;
              options.backend = b;
              options.mask_seed = 1;
              Connection c(role, {}, options);
              wire(stream, text, d, role);
              const Received r = receive_all(c, stream, text, d);
              tally.check(as_expected(r, text, valid), [&] {
                return describe(d) + ": " + hex_tail(text) + (valid ? ", valid" : ", invalid") + ", " + std::to_string(r.messages) +
                       " messages, " + std::to_string(r.errors) + " errors";
              });
            }
          }
        }
        tally.require_none();
      }
  }
}
