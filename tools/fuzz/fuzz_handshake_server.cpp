// The server's opening-handshake parser (RFC 6455 4.2.1) on arbitrary bytes fed whole and in
// random pieces: both must reach the same outcome (status, error, HTTP status, leftover, answer),
// a rejection must carry a status of http_status() and "Connection: close", an acceptance the 101 with
// accept_key(Sec-WebSocket-Key), and the leftover must be the input's tail. permessage-deflate is
// enabled: an agreement exists exactly when the 101 answers an offer, and respects the wishes
// (RFC 7692 7.1). ASan/UBSan watch the bounded buffer.
#include <algorithm>
#include <string>

#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::fail;

namespace {

constexpr std::string_view offered[] = {"chat", "superchat"};
constexpr DeflateParameters wishes{.server_max_window_bits = 12, .client_max_window_bits = 10};

struct Outcome {
  HandshakeStatus status;
  Error error;
  int status_code;
  std::string response;
  std::size_t leftover_size;
  std::optional<DeflateParameters> deflate;
  bool operator==(const Outcome&) const = default;
};

Outcome feed(std::span<const std::byte> stream, const std::vector<std::size_t>& pieces) {
  ServerHandshake hs(ServerOptions{.limits = {.max_head_bytes = 1024, .max_fields = 16},
                                   .subprotocols = offered, .deflate = wishes});
  HandshakeResult r{HandshakeStatus::need_more, {}};
  std::size_t at = 0;
  for (const std::size_t n : pieces) {
    const auto piece = stream.subspan(at, n);
    r = hs.feed(piece);
    at += n;
    if (r.status != HandshakeStatus::need_more) {
      // The leftover is what follows the head in this piece: a suffix of it.
      if (r.status == HandshakeStatus::accept &&
          (r.leftover.size() > n || (!r.leftover.empty() && r.leftover.data() + r.leftover.size() != piece.data() + n)))
        fail("leftover is not the tail of the last input", "-");
      // On accept the whole rest of the stream is the connection's: count it with the leftover.
      return {r.status, hs.error(), hs.status_code(), std::string(hs.response()), r.status == HandshakeStatus::accept ? r.leftover.size() + (stream.size() - at) : 0, hs.deflate()};
    }
    if (!hs.response().empty()) fail("a response before the head is complete", "-");
  }
  if (hs.status_code() != 0) fail("status code while need_more", "-");
  return {r.status, hs.error(), 0, {}, 0, hs.deflate()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [stream, whole] = wsframe::fuzz::same_whole_and_split(data, size, feed);

  if (whole.status != HandshakeStatus::accept && whole.deflate) fail("an agreement without accepting", "-");
  if (whole.status == HandshakeStatus::reject) {
    static constexpr int allowed[] = {400, 405, 414, 426, 431};
    if (std::find(std::begin(allowed), std::end(allowed), whole.status_code) == std::end(allowed))
      fail("rejection status outside 400/405/414/426/431", "-");
    if (http_status(whole.error) != whole.status_code) fail("status_code != http_status(error)", "-");
    const std::size_t connection = whole.response.find("\r\nConnection: ");
    const std::size_t line_end = whole.response.find("\r\n", connection + 2);
    if (connection == std::string::npos || whole.response.substr(connection, line_end - connection).find("close") == std::string::npos)
      fail("rejection without Connection: close", "-");
    if (whole.status_code == 426 && whole.response.find("Sec-WebSocket-Version: 13\r\n") == std::string::npos)
      fail("426 without Sec-WebSocket-Version: 13", "-");
  }
  if (whole.status == HandshakeStatus::accept) {
    if (whole.status_code != 101 || !whole.response.starts_with("HTTP/1.1 101 ")) fail("accept without 101", "-");
    // Parse it again to read the key, then check the answer carries its accept value.
    ServerHandshake hs;
    if (hs.feed(stream).status != HandshakeStatus::accept) fail("default options disagree on acceptance", "-");
    const AcceptKey accept = accept_key(hs.key());
    const std::string expected = "Sec-WebSocket-Accept: " + std::string(accept.data(), accept.size()) + "\r\n";
    if (whole.response.find(expected) == std::string::npos) fail("101 without the right Sec-WebSocket-Accept", "-");
    // RFC 9112 3.2 and 6.3: an accepted request has a host, an origin-form path and no body.
    if (hs.host().empty() || !hs.path().starts_with('/')) fail("accepted without a host or an origin-form path", "-");
    for (const HttpField& f : hs.headers())
      if (iequals(f.name, "transfer-encoding") ||
          (iequals(f.name, "content-length") && f.value.find_first_not_of('0') != std::string_view::npos))
        fail("accepted a request with a body", "-");
    // RFC 7692 7.1: the answer, if any, is one permessage-deflate element; the agreement keeps
    // the server's window within its wish and every window within 8..15.
    const bool answered = whole.response.find("\r\nSec-WebSocket-Extensions: permessage-deflate") != std::string::npos;
    if (answered != whole.deflate.has_value()) fail("an agreement without an answer, or an answer without one", "-");
    if (whole.response.find("Sec-WebSocket-Extensions") != whole.response.rfind("Sec-WebSocket-Extensions"))
      fail("more than one Sec-WebSocket-Extensions line", "-");
    if (const auto& d = whole.deflate;
        d && (d->server_max_window_bits < 8 || d->server_max_window_bits > wishes.server_max_window_bits ||
              d->client_max_window_bits < 8 || d->client_max_window_bits > 15))
      fail("agreed window bits outside the wishes or 8..15", "-");
  }
  return 0;
}
