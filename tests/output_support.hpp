// Helpers for tests of the output side: payloads at the frame length boundaries, the copying
// sends by kind, and the pending output read through output_spans() without joining it.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "support.hpp"

namespace wsframe::test {

// Every length class of RFC 6455 5.2 at its boundaries.
constexpr std::size_t frame_lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 65537};

// n bytes of ASCII letters: valid as text and as binary.
inline std::vector<std::byte> text_payload(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>('a' + i % 26);
  return v;
}

inline std::string_view as_text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// send_text or send_binary, by kind: the copying sends.
inline Error send_plain(Connection& c, MessageKind kind, std::span<const std::byte> payload) {
  return kind == MessageKind::text ? c.send_text(as_text(payload)) : c.send_binary(payload);
}

inline std::vector<OutputSpan> output_runs(const Connection& c) {
  std::vector<OutputSpan> runs(c.output_span_count());
  REQUIRE(c.output_spans(runs) == runs.size());
  return runs;
}

// The pending output read through output_spans(), without joining it.
inline std::vector<std::byte> gathered(const Connection& c) {
  std::vector<std::byte> bytes;
  for (const OutputSpan& r : output_runs(c)) bytes.insert(bytes.end(), r.data, r.data + r.size);
  REQUIRE(bytes.size() == c.buffered_amount());
  return bytes;
}

inline std::vector<std::byte> take_all(Connection& c) {
  const std::vector<std::byte> bytes = gathered(c);
  c.consume_output(bytes.size());
  return bytes;
}

}  // namespace wsframe::test
