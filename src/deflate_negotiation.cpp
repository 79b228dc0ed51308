// permessage-deflate's negotiation (deflate_negotiation.hpp).
#include "deflate_negotiation.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include "http_lists.hpp"
#include "wsframe/handshake.hpp"

namespace wsframe::detail {
namespace {

// A window parameter's value, or the 15 that its absence means (RFC 7692 7.1.2).
std::uint8_t bits_or_15(std::uint8_t bits) noexcept { return bits >= 8 ? bits : 15; }

// One extension parameter (RFC 6455 9.1): token [ "=" ( token / quoted-string ) ], with OWS.
struct ExtensionParam {
  std::string_view name;
  std::string_view value;  // as written: a token, or a quoted-string with its quotes
  bool has_value = false;
};

enum class ParamStep : std::uint8_t { end, param, malformed };

// Takes `OWS ";" OWS param` off the front of `rest` (what follows the extension name or the
// previous parameter).
ParamStep next_extension_param(std::string_view& rest, ExtensionParam& param) noexcept {
  rest = trim_ows(rest);
  if (rest.empty()) return ParamStep::end;
  if (rest.front() != ';') return ParamStep::malformed;
  rest = trim_ows(rest.substr(1));
  param.name = rest.substr(0, token_size(rest));
  rest = trim_ows(rest.substr(param.name.size()));
  param.has_value = !rest.empty() && rest.front() == '=';
  param.value = {};
  if (param.has_value) {
    rest = trim_ows(rest.substr(1));
    param.value = rest.substr(0, !rest.empty() && rest.front() == '"' ? quoted_string_size(rest) : token_size(rest));
    rest.remove_prefix(param.value.size());
  }
  return param.name.empty() || (param.has_value && param.value.empty()) ? ParamStep::malformed : ParamStep::param;
}

// A window size 8..15 written in decimal without a leading zero; a quoted-string is unquoted
// first and must then be the same (RFC 7692 7.1: 10 or "10"). 0 when invalid.
std::uint8_t parse_window_bits(std::string_view value) noexcept {
  std::array<char, 2> digits{};
  std::size_t n = 0;
  if (value.front() == '"') {  // a whole quoted-string (next_extension_param found its end)
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
      if (value[i] == '\\') ++i;
      if (n == digits.size()) return 0;
      digits[n++] = value[i];
    }
  } else {
    if (value.size() > digits.size()) return 0;
    n = value.copy(digits.data(), digits.size());
  }
  if (n == 1 && digits[0] >= '8' && digits[0] <= '9') return static_cast<std::uint8_t>(digits[0] - '0');
  if (n == 2 && digits[0] == '1' && digits[1] >= '0' && digits[1] <= '5') return static_cast<std::uint8_t>(10 + digits[1] - '0');
  return 0;
}

enum class ElementKind : std::uint8_t { other_extension, malformed, deflate };

// A Sec-WebSocket-Extensions element read as permessage-deflate, names compared ASCII
// case-insensitively. RFC 7692 5: an unknown or repeated parameter or an invalid value makes it
// malformed (a server declines such an offer, a client fails on such an answer); 7.1.1: the
// no_context_takeover parameters have no value; 7.1.2.1: server_max_window_bits has one.
ElementKind parse_deflate_element(std::string_view element, DeflateElement& out) noexcept {
  if (!iequals(extension_name(element), deflate_name)) return ElementKind::other_extension;
  constexpr std::string_view names[] = {server_no_context_takeover, client_no_context_takeover,
                                        server_max_window_bits, client_max_window_bits};
  out = {};
  std::string_view rest = element.substr(std::min(element.find(';'), element.size()));
  bool seen[std::size(names)] = {};
  ExtensionParam p;
  ParamStep step;
  while ((step = next_extension_param(rest, p)) == ParamStep::param) {
    std::size_t which = 0;
    while (which < std::size(names) && !iequals(p.name, names[which])) ++which;
    if (which == std::size(names) || seen[which]) return ElementKind::malformed;
    seen[which] = true;
    if (which < 2) {
      if (p.has_value) return ElementKind::malformed;
      (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    const std::uint8_t bits = p.has_value ? parse_window_bits(p.value) : which == 3 ? bits_without_value : 0;
    if (bits == 0) return ElementKind::malformed;
    (which == 2 ? out.server_max_window_bits : out.client_max_window_bits) = bits;
  }
  return step == ParamStep::end ? ElementKind::deflate : ElementKind::malformed;
}

// Writes `e` as "permessage-deflate; param; param=value" (parameters in RFC 7692 7.1 order) at
// `out`, which has room for max_deflate_element_size characters; returns the end.
char* write_deflate_element(char* out, const DeflateElement& e) noexcept {
  const auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  const auto put_bits = [&](std::string_view name, std::uint8_t bits) {
    if (bits == bits_absent) return;
    put("; ");
    put(name);
    if (bits == bits_without_value) return;
    put(bits < 10 ? "=" : "=1");
    *out++ = static_cast<char>('0' + bits % 10);
  };
  put(deflate_name);
  if (e.server_no_context_takeover) put("; "), put(server_no_context_takeover);
  if (e.client_no_context_takeover) put("; "), put(client_no_context_takeover);
  put_bits(server_max_window_bits, e.server_max_window_bits);
  put_bits(client_max_window_bits, e.client_max_window_bits);
  return out;
}

// RFC 7692 7.1: the server's answer to a valid offer under its wishes (see deflate.hpp).
DeflateElement answer_to(const DeflateElement& offer, const DeflateParameters& wishes) noexcept {
  const auto clamp_bits = [](std::uint8_t bits) { return std::clamp<std::uint8_t>(bits, 8, 15); };
  DeflateElement answer{.server_no_context_takeover = offer.server_no_context_takeover || wishes.server_no_context_takeover,
                        .client_no_context_takeover = offer.client_no_context_takeover || wishes.client_no_context_takeover};
  // 7.1.2.1: a requested server window is answered with one no larger; a smaller one may be
  // announced unasked.
  const std::uint8_t server_bits = std::min(bits_or_15(offer.server_max_window_bits), clamp_bits(wishes.server_max_window_bits));
  if (offer.server_max_window_bits != bits_absent || server_bits < 15) answer.server_max_window_bits = server_bits;
  // 7.1.2.2: the client's window may be limited only when its offer has the parameter, and
  // never above the value it gave.
  const std::uint8_t client_bits = std::min(bits_or_15(offer.client_max_window_bits), clamp_bits(wishes.client_max_window_bits));
  if (offer.client_max_window_bits >= 8 || (offer.client_max_window_bits == bits_without_value && client_bits < 15))
    answer.client_max_window_bits = client_bits;
  return answer;
}

// RFC 7692 7.1: the parameters both endpoints use after `answer` to `offer`. A client that
// offered client_no_context_takeover has promised to drop its context (7.1.1.2).
DeflateParameters agreement(const DeflateElement& offer, const DeflateElement& answer) noexcept {
  return {.server_no_context_takeover = answer.server_no_context_takeover,
          .client_no_context_takeover = answer.client_no_context_takeover || offer.client_no_context_takeover,
          .server_max_window_bits = bits_or_15(answer.server_max_window_bits),
          .client_max_window_bits = std::min(bits_or_15(answer.client_max_window_bits), bits_or_15(offer.client_max_window_bits))};
}

// RFC 7692 7.1: whether a server's answer is one it may give to `offer`.
bool answer_fits(const DeflateElement& offer, const DeflateElement& answer) noexcept {
  if (offer.server_no_context_takeover && !answer.server_no_context_takeover) return false;  // 7.1.1.1
  if (offer.server_max_window_bits != bits_absent &&  // 7.1.2.1
      (answer.server_max_window_bits == bits_absent || answer.server_max_window_bits > offer.server_max_window_bits))
    return false;
  return answer.client_max_window_bits == bits_absent ||  // 7.1.2.2
         (offer.client_max_window_bits != bits_absent && answer.client_max_window_bits <= bits_or_15(offer.client_max_window_bits));
}

// RFC 7692 5: the first permessage-deflate offer that is valid, in the client's order; other
// extensions and malformed offers are skipped (declined).
bool first_valid_deflate_offer(const FieldList& offers, DeflateElement& offer) noexcept {
  for (std::string_view e : offers)
    if (parse_deflate_element(e, offer) == ElementKind::deflate) return true;
  return false;
}

// The element a client offers for `offer` (RFC 7692 7.1): client_max_window_bits always, as we
// honour any limit the server sets (7.1.2.2), with a value only when it asks for one.
DeflateElement offer_element(const DeflateParameters& offer) noexcept {
  return {.server_no_context_takeover = offer.server_no_context_takeover,
          .client_no_context_takeover = offer.client_no_context_takeover,
          .server_max_window_bits = offer.server_max_window_bits < 15 ? offer.server_max_window_bits : bits_absent,
          .client_max_window_bits = offer.client_max_window_bits < 15 ? offer.client_max_window_bits : bits_without_value};
}

// RFC 7692 5 and 7.1: the server's permessage-deflate answer, if any, is well formed, alone, and
// fits one of our `offers`; the first it fits, in our order, gives the agreement. No answer: no
// agreement, and no error.
Error check_deflate_answer(const FieldList& answers, std::span<const DeflateParameters> offers,
                           std::optional<DeflateParameters>& agreed) noexcept {
  DeflateElement answer;
  std::size_t count = 0;
  for (std::string_view e : answers) {
    DeflateElement parsed;
    const ElementKind kind = parse_deflate_element(e, parsed);
    if (kind == ElementKind::other_extension) continue;
    // 7.1.2.2: in an answer, client_max_window_bits has a value.
    if (kind == ElementKind::malformed || parsed.client_max_window_bits == bits_without_value || ++count > 1)
      return Error::handshake_invalid_deflate_response;
    answer = parsed;
  }
  if (count == 0) return Error::ok;
  for (const DeflateParameters& o : offers) {
    const DeflateElement offer = offer_element(o);
    if (answer_fits(offer, answer)) {
      agreed = agreement(offer, answer);
      return Error::ok;
    }
  }
  return Error::handshake_invalid_deflate_response;
}

bool valid_window_bits(std::uint8_t bits) noexcept { return bits >= 8 && bits <= 15; }

}  // namespace

// ---- DeflateNegotiation -------------------------------------------------------------------------

DeflateNegotiation DeflateNegotiation::client(std::span<const DeflateParameters> offers) {
  DeflateNegotiation n;
  n.offers_.assign(offers.begin(), offers.end());
  n.offering_ = !offers.empty() && deflate_available();
  return n;
}

DeflateNegotiation DeflateNegotiation::server(const std::optional<DeflateParameters>& wishes) noexcept {
  DeflateNegotiation n;
  if (deflate_available()) n.wishes_ = wishes;
  return n;
}

// Window bits 8..15; and offers from both places would make the answer ambiguous (which one
// to check it against).
bool DeflateNegotiation::options_valid(std::span<const std::string_view> other_elements) const noexcept {
  const bool bits_valid = std::all_of(offers_.begin(), offers_.end(), [](const DeflateParameters& p) {
    return valid_window_bits(p.server_max_window_bits) && valid_window_bits(p.client_max_window_bits);
  });
  return bits_valid && (offers_.empty() || std::none_of(other_elements.begin(), other_elements.end(), [](std::string_view e) {
                          return iequals(extension_name(e), deflate_name);
                        }));
}

void DeflateNegotiation::offer(ElementSink& sink) const {
  if (!offering_) return;
  for (const DeflateParameters& o : offers_) {
    std::array<char, max_deflate_element_size> element;
    const char* const end = write_deflate_element(element.data(), offer_element(o));
    sink.add({element.data(), end});
  }
}

Error DeflateNegotiation::check(const FieldList& answers) noexcept {
  return offering_ ? check_deflate_answer(answers, offers_, agreed_) : Error::ok;
}

bool DeflateNegotiation::accept(const FieldList& offers) noexcept {
  agreed_.reset();
  DeflateElement offer;
  if (!wishes_ || !first_valid_deflate_offer(offers, offer)) return false;
  answer_ = answer_to(offer, *wishes_);
  agreed_ = agreement(offer, answer_);
  return true;
}

char* DeflateNegotiation::answer(char* out) const noexcept { return write_deflate_element(out, answer_); }

}  // namespace wsframe::detail
