// Differential receive fast path: one whole text or binary frame in one receive() call (the
// server's in-place unmask + validate, the client's unmasked frame), on every backend against a
// Connection on the scalar backend, and against the scalar UTF-8 verdict: a valid text is one
// message event with the payload, an invalid one a 1007 failure.
//
// Input: a flags byte (bit 0: server role, receiving masked frames; bit 1: deliver_fragments;
// bit 2: binary), 4 mask key bytes, then the payload.
#include <array>

#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::fail;

namespace {

struct Outcome {
  EventType type = EventType::none;
  Error error = Error::ok;
  std::uint16_t close_code = 0;
  std::vector<std::byte> payload;
  int events = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome receive_frame(const Backend& b, Role role, bool fragments, std::vector<std::byte> wire) {
  ConnectionOptions options;
  options.backend = &b;
  options.deliver_fragments = fragments;
  options.mask_seed = 1;
  Connection c(role, {}, options);
  c.receive(wire);  // unmasks in place: a copy
  Outcome o;
  while (Event e = c.next_event()) {
    ++o.events;
    o.type = e.type;
    o.error = e.error;
    o.close_code = e.close_code;
    o.payload.insert(o.payload.end(), e.payload.begin(), e.payload.end());
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const Role role = (data[0] & 1) != 0 ? Role::server : Role::client;
  const bool fragments = (data[0] & 2) != 0, binary = (data[0] & 4) != 0;
  const MaskKey key{std::byte{data[1]}, std::byte{data[2]}, std::byte{data[3]}, std::byte{data[4]}};
  const std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data + 5), size - 5);

  FrameHeader h;
  h.opcode = binary ? Opcode::binary : Opcode::text;
  h.masked = role == Role::server;
  h.mask_key = h.masked ? key : MaskKey{};
  h.payload_length = payload.size();
  std::array<std::byte, max_header_size> header{};
  const std::size_t header_size = encode_header(h, header);
  std::vector<std::byte> wire(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(header_size));
  wire.insert(wire.end(), payload.begin(), payload.end());
  if (h.masked)
    for (std::size_t i = 0; i < payload.size(); ++i) wire[header_size + i] ^= key[i % 4];

  const Backend& scalar = *wsframe::fuzz::runnable_backends().front();
  const Outcome want = receive_frame(scalar, role, fragments, wire);
  const bool valid = binary || scalar.utf8_validate(payload.data(), payload.size());
  const bool as_specified = valid ? want.events == 1 && want.error == Error::ok && want.payload.size() == payload.size() &&
                                        (payload.empty() || std::memcmp(want.payload.data(), payload.data(), payload.size()) == 0)
                                  : want.type == EventType::error && want.error == Error::invalid_utf8 && want.close_code == 1007;
  if (!as_specified) fail("the scalar connection's events do not match the payload's UTF-8 verdict", scalar.name);
  for (const Backend* b : wsframe::fuzz::runnable_backends())
    if (!(receive_frame(*b, role, fragments, wire) == want)) fail("events differ from the scalar backend's", b->name);
  return 0;
}
