// permessage-deflate's handshake part (RFC 7692 sections 5 and 7.1): the client's offer, the
// server's choice of an offer and its answer, the agreement both sides then hold, and the
// client's check of the answer. The connection side is permessage_deflate.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "wsframe/deflate.hpp"
#include "wsframe/error.hpp"
#include "wsframe/handshake.hpp"

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

// A window parameter's value, or the 15 that its absence means (RFC 7692 7.1.2).
inline std::uint8_t bits_or_15(std::uint8_t bits) noexcept { return bits >= 8 ? bits : 15; }

inline constexpr std::string_view deflate_name = "permessage-deflate";
inline constexpr std::string_view server_no_context_takeover = "server_no_context_takeover";
inline constexpr std::string_view client_no_context_takeover = "client_no_context_takeover";
inline constexpr std::string_view server_max_window_bits = "server_max_window_bits";
inline constexpr std::string_view client_max_window_bits = "client_max_window_bits";
// The longest element write_deflate_element produces.
inline constexpr std::size_t max_deflate_element_size = deflate_name.size() + 2 + server_no_context_takeover.size() + 2 +
                                                 client_no_context_takeover.size() + 2 +
                                                 server_max_window_bits.size() + 3 + 2 +
                                                 client_max_window_bits.size() + 3;

// The name of a Sec-WebSocket-Extensions element (RFC 6455 9.1): what precedes its parameters.
std::string_view extension_name(std::string_view element) noexcept;

enum class ElementKind : std::uint8_t { other_extension, malformed, deflate };
// A Sec-WebSocket-Extensions element read as permessage-deflate (malformed per RFC 7692 5).
ElementKind parse_deflate_element(std::string_view element, DeflateElement& out) noexcept;
// Writes `e` as "permessage-deflate; param; param=value" at `out`, which has room for
// max_deflate_element_size characters; returns the end.
char* write_deflate_element(char* out, const DeflateElement& e) noexcept;

// Client: the element offered for `offer`.
DeflateElement offer_element(const DeflateParameters& offer) noexcept;
// Server: the first valid offer (false: none), its answer under `wishes`, and the agreement.
bool first_valid_deflate_offer(const FieldList& offers, DeflateElement& offer) noexcept;
DeflateElement answer_to(const DeflateElement& offer, const DeflateParameters& wishes) noexcept;
DeflateParameters agreement(const DeflateElement& offer, const DeflateElement& answer) noexcept;
// Client: the server's answer checked against `offers` (the list as we sent it); sets `agreed`.
Error check_deflate_answer(const FieldList& answers, std::string_view offers,
                           std::optional<DeflateParameters>& agreed) noexcept;

}  // namespace wsframe::detail
