// The client's validation of the server's answer (RFC 6455 4.1) on arbitrary bytes fed whole and
// in random pieces: both must agree; an accepted answer must be a 101 whose subprotocol is one we
// offered, and a permessage-deflate agreement must honour one of our two offers (RFC 7692 7.1).
// The request uses the RFC 6455 1.3 nonce, so the seeds' accept value matches.
#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::fail;

namespace {

constexpr std::string_view offered[] = {"chat", "superchat"};
constexpr std::string_view extensions[] = {"x-test"};
// "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits,
//  permessage-deflate; client_max_window_bits=12"
constexpr DeflateParameters deflate_offers[] = {{.server_no_context_takeover = true, .server_max_window_bits = 10},
                                                {.client_max_window_bits = 12}};

// "the sample nonce" (RFC 6455 1.3) -> dGhlIHNhbXBsZSBub25jZQ==
constexpr HandshakeNonce rfc_nonce = [] {
  HandshakeNonce n{};
  constexpr std::string_view text = "the sample nonce";
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::byte>(text[i]);
  return n;
}();

struct Outcome {
  HandshakeStatus status;
  Error error;
  int status_code;
  std::string subprotocol;
  std::size_t leftover_size;
  std::optional<DeflateParameters> deflate;
  bool operator==(const Outcome&) const = default;
};

Outcome feed(std::span<const std::byte> stream, const std::vector<std::size_t>& pieces) {
  const ClientOptions options{.host = "server.example.com", .path = "/chat", .subprotocols = offered,
                              .extensions = extensions, .deflate_offers = deflate_offers, .limits = {.max_head_bytes = 1024, .max_fields = 16}};
  ClientHandshake hs(options, rfc_nonce);
  if (hs.status() != HandshakeStatus::need_more || hs.key() != "dGhlIHNhbXBsZSBub25jZQ==")
    fail("ClientHandshake did not start", "-");
  std::size_t at = 0;
  for (const std::size_t n : pieces) {
    const HandshakeResult r = hs.feed(stream.subspan(at, n));
    at += n;
    if (r.status != HandshakeStatus::need_more)
      return {r.status, hs.error(), hs.status_code(), std::string(hs.subprotocol()), r.status == HandshakeStatus::accept ? r.leftover.size() + (stream.size() - at) : 0, hs.deflate()};
  }
  return {HandshakeStatus::need_more, hs.error(), 0, {}, 0, hs.deflate()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [stream, whole] = wsframe::fuzz::same_whole_and_split(data, size, feed);
  if (whole.status == HandshakeStatus::accept) {
    if (whole.status_code != 101) fail("accepted a status other than 101", "-");
    if (!whole.subprotocol.empty() && whole.subprotocol != offered[0] && whole.subprotocol != offered[1])
      fail("accepted a subprotocol we did not offer", "-");
    if (const auto& d = whole.deflate) {
      const auto valid_bits = [](int bits) { return bits >= 8 && bits <= 15; };
      if (!valid_bits(d->server_max_window_bits) || !valid_bits(d->client_max_window_bits))
        fail("agreed window bits outside 8..15", "-");
      const bool fits_first = d->server_no_context_takeover && d->server_max_window_bits <= 10;
      const bool fits_second = d->client_max_window_bits <= 12;
      if (!fits_first && !fits_second) fail("an agreement honouring none of our offers", "-");
    }
  } else if (whole.deflate) {
    fail("an agreement without accepting", "-");
  }
  return 0;
}
