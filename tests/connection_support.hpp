// Helpers for tests that drive a Connection with hand-made frames: frame building, events copied
// out of their spans, feeding a stream whole / byte by byte / at random splits.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <optional>
#include <ostream>
#include <vector>

#include "support.hpp"

namespace wsframe::test {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

constexpr MaskKey test_key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

struct FrameSpec {
  bool fin = true;
  bool masked = true;  // a client's frame unless said otherwise
  std::uint8_t rsv = 0;
  std::optional<std::uint64_t> declared_length{};  // a length other than the payload's
};

// One frame on the wire: header, then the payload masked with test_key when masked.
inline Bytes frame(Opcode op, const Bytes& payload, FrameSpec spec = {}) {
  FrameHeader h;
  h.opcode = op;
  h.fin = spec.fin;
  h.rsv = spec.rsv;
  h.masked = spec.masked;
  h.mask_key = spec.masked ? test_key : MaskKey{};
  h.payload_length = spec.declared_length.value_or(payload.size());
  std::array<std::byte, max_header_size> header{};
  const std::size_t n = encode_header(h, header);
  Bytes wire(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
  Bytes body = payload;
  if (spec.masked) mask(body, test_key);
  wire.insert(wire.end(), body.begin(), body.end());
  return wire;
}
inline Bytes server_frame(Opcode op, const Bytes& payload, bool fin = true) {
  return frame(op, payload, {.fin = fin, .masked = false});
}

inline Bytes close_payload(std::uint16_t code, std::string_view reason = {}) {
  return cat({Bytes{static_cast<std::byte>(code >> 8), static_cast<std::byte>(code & 0xff)}, bytes(reason)});
}

// An event with its payload copied out (event spans die at the next call).
struct Seen {
  EventType type;
  MessageKind kind;
  bool first, last;
  std::uint8_t rsv;
  std::uint16_t close_code;
  Error error;
  Bytes payload;
  bool operator==(const Seen&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{type " << int(s.type) << " kind " << int(s.kind) << " first " << s.first << " last " << s.last
            << " code " << s.close_code << " error " << message(s.error) << " " << s.payload.size() << " bytes}";
}

inline Seen seen(const Event& e) {
  return {e.type, e.kind, e.first, e.last, e.rsv, e.close_code, e.error, {e.payload.begin(), e.payload.end()}};
}

inline void drain(Connection& c, std::vector<Seen>& out) {
  while (Event e = c.next_event()) out.push_back(seen(e));
}

enum class Split { whole, byte_by_byte, random };

// Feeds a copy of `stream` (receive() unmasks in place) in pieces, draining after each.
inline std::vector<Seen> feed(Connection& c, Bytes stream, Split split) {
  std::vector<Seen> events;
  std::size_t at = 0;
  while (at < stream.size()) {
    std::size_t n = stream.size() - at;
    if (split == Split::byte_by_byte) n = 1;
    if (split == Split::random) n = std::min<std::size_t>(n, 1 + test::rng()() % (test::rng()() % 2 ? 7 : 300));
    c.receive({stream.data() + at, n});
    drain(c, events);
    at += n;
  }
  return events;
}

// Fragment events joined into the message they make, so runs with different splits compare.
// A message cut short by an error is dropped: how much of it was delivered depends on the split.
inline std::vector<Seen> joined(const std::vector<Seen>& events) {
  std::vector<Seen> out;
  constexpr std::size_t none = SIZE_MAX;
  std::size_t open = none;  // index of the message being joined
  for (const Seen& e : events) {
    if (e.type != EventType::fragment) {
      if (e.type == EventType::error && open != none) out.erase(out.begin() + static_cast<std::ptrdiff_t>(open));
      out.push_back(e);
      continue;
    }
    if (e.first) {
      open = out.size();
      out.push_back({EventType::message, e.kind, false, false, e.rsv, 0, Error::ok, {}});
    }
    out[open].payload.insert(out[open].payload.end(), e.payload.begin(), e.payload.end());
    if (e.last) open = none;
  }
  return out;
}

}  // namespace wsframe::test
