// permessage-deflate's handshake part (RFC 7692 sections 5 and 7.1): the client's offers, the
// server's choice of an offer and its answer, the agreement both sides then hold, and the
// client's check of the answer. The connection side is permessage_deflate.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "extension.hpp"
#include "wsframe/deflate.hpp"
#include "wsframe/error.hpp"

namespace wsframe::detail {

// Window bits as written in an element: absent, present without a value (client_max_window_bits
// in an offer, RFC 7692 7.1.2.2), or a value 8..15.
inline constexpr std::uint8_t bits_absent = 0, bits_without_value = 1;

// A permessage-deflate element of an offer or an answer: the parameters it carries.
struct DeflateElement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::uint8_t server_max_window_bits = bits_absent;
  std::uint8_t client_max_window_bits = bits_absent;
};

inline constexpr std::string_view deflate_name = "permessage-deflate";
inline constexpr std::string_view server_no_context_takeover = "server_no_context_takeover";
inline constexpr std::string_view client_no_context_takeover = "client_no_context_takeover";
inline constexpr std::string_view server_max_window_bits = "server_max_window_bits";
inline constexpr std::string_view client_max_window_bits = "client_max_window_bits";
// The longest element the negotiation writes (an offer or an answer).
inline constexpr std::size_t max_deflate_element_size = deflate_name.size() + 2 + server_no_context_takeover.size() + 2 +
                                                 client_no_context_takeover.size() + 2 +
                                                 server_max_window_bits.size() + 3 + 2 +
                                                 client_max_window_bits.size() + 3;

class DeflateNegotiation final : public ExtensionNegotiation {
 public:
  static constexpr std::size_t max_answer_size = max_deflate_element_size;

  // A client's: offers these, in order of preference (ClientOptions::deflate_offers; nothing
  // without zlib).
  static DeflateNegotiation client(std::span<const DeflateParameters> offers);
  // A server's: accepts the first valid offer under these wishes (ServerOptions::deflate;
  // nullopt, or no zlib, declines every offer).
  static DeflateNegotiation server(const std::optional<DeflateParameters>& wishes) noexcept;

  // The agreement reached, once accept() or check() found one.
  std::optional<DeflateParameters> agreed() const noexcept { return agreed_; }

  std::string_view name() const noexcept override { return deflate_name; }
  bool options_valid(std::span<const std::string_view> other_elements) const noexcept override;
  void offer(ElementSink& sink) const override;
  Error check(const FieldList& answers) noexcept override;
  bool accept(const FieldList& offers) noexcept override;
  char* answer(char* out) const noexcept override;

 private:
  DeflateNegotiation() = default;

  // Client: the offers as given (options_valid checks their window bits), and whether they
  // are sent (zlib is there).
  std::vector<DeflateParameters> offers_;
  bool offering_ = false;
  // Server: what it accepts, and the answer to the accepted offer.
  std::optional<DeflateParameters> wishes_;
  DeflateElement answer_;
  std::optional<DeflateParameters> agreed_;
};

}  // namespace wsframe::detail
