// The HTTP/1.1 upgrade (include/wsframe/handshake.hpp): the server's and the client's checks of
// RFC 6455 section 4, on the head parsing of http_head.hpp, the list grammar of http_lists.hpp
// and the negotiation of deflate_negotiation.hpp. Baseline flags; base64 and SHA-1 run through
// a Backend.
#include "wsframe/handshake.hpp"

#include <algorithm>
#include <cstring>

#include "deflate_negotiation.hpp"
#include "http_head.hpp"
#include "http_lists.hpp"
#include "os_random.hpp"
#include "wsframe/backend.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {
using namespace detail;
namespace {

const Backend& kernels_of(const Backend* b) noexcept { return b != nullptr ? *b : active(); }

std::string_view first_field(std::span<const HttpField> fields, std::string_view name) noexcept {
  for (const HttpField& f : fields)
    if (iequals(f.name, name)) return f.value;
  return {};
}

// The rejections (RFC 6455 4.2.1, 4.4; RFC 9110 15.5): each closes the connection.
constexpr std::string_view response_400 =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"
    "Bad Request\n";
constexpr std::string_view response_405 =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "Content-Length: 19\r\n\r\nMethod Not Allowed\n";
constexpr std::string_view response_414 =
    "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
    "URI Too Long\n";
// RFC 9110 15.5.22 and 7.8: a 426 carries Upgrade, which must be listed in Connection.
constexpr std::string_view response_426 =
    "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade, close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nUpgrade Required\n";
constexpr std::string_view response_431 =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "Content-Length: 32\r\n\r\nRequest Header Fields Too Large\n";

// Every piece of the client's options is checked so that no option can inject a
// line or produce a request a strict server (ours) would refuse: the Host is host [ ":" port ],
// and extra_headers may not name a field written from another option or one announcing a body.
Error check_client_options(const ClientOptions& o) noexcept {
  constexpr std::string_view reserved[] = {"host", "upgrade", "connection", "sec-websocket-key",
                                           "sec-websocket-version", "sec-websocket-protocol",
                                           "sec-websocket-extensions", "origin", "content-length",
                                           "transfer-encoding"};
  for (const HttpField& f : o.extra_headers)
    if (std::any_of(std::begin(reserved), std::end(reserved), [&f](std::string_view r) { return iequals(f.name, r); }))
      return Error::handshake_reserved_extra_header;
  const bool valid =
      is_host_and_port(o.host) && !o.path.empty() && o.path.front() == '/' &&
      all_of_class(o.path, visible_char) && all_of_class(o.origin, visible_char) &&
      std::all_of(o.subprotocols.begin(), o.subprotocols.end(), is_token) &&
      std::all_of(o.extensions.begin(), o.extensions.end(),
                  [](std::string_view e) { return is_token(extension_name(e)) && all_of_class(e, value_char); }) &&
      std::all_of(o.deflate_offers.begin(), o.deflate_offers.end(),
                  [](const DeflateParameters& p) {
                    const auto valid_bits = [](std::uint8_t bits) { return bits >= 8 && bits <= 15; };
                    return valid_bits(p.server_max_window_bits) && valid_bits(p.client_max_window_bits);
                  }) &&
      // Offers from both places would make the answer ambiguous (which one to check it against).
      (o.deflate_offers.empty() || std::none_of(o.extensions.begin(), o.extensions.end(), [](std::string_view e) {
         return iequals(extension_name(e), deflate_name);
       })) &&
      std::all_of(o.extra_headers.begin(), o.extra_headers.end(), [](const HttpField& f) {
        return is_token(f.name) && all_of_class(f.value, value_char) && trim_ows(f.value) == f.value;
      });
  return valid ? Error::ok : Error::handshake_invalid_option;
}

}  // namespace

// --- ServerHandshake ---------------------------------------------------------------------------

ServerHandshake::ServerHandshake(ServerOptions options) : options_(std::move(options)), head_(options_.limits) {}

void ServerHandshake::reset() noexcept {
  head_.reset();
  status_ = HandshakeStatus::need_more;
  error_ = Error::ok;
  request_line_checked_ = false;
  path_ = host_ = origin_ = key_ = selected_ = {};
  deflate_.reset();
  response_size_ = 0;
}

HandshakeResult ServerHandshake::feed(std::span<const std::byte> in) noexcept {
  return feed_head(head_, status_, error_, in, [this] { return check_request_line(); },
                   [this] {
                     const Error e = check_fields();
                     if (e == Error::ok) select(), answer();
                     return e;
                   });
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 section 3).
Error ServerHandshake::check_request_line() noexcept {
  const std::string_view line = head_.start_line();
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Error::handshake_malformed_request_line;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const int version = parse_http_version(line.substr(sp2 + 1));
  if (!is_token(method) || !is_request_target(target) || version < 0) return Error::handshake_malformed_request_line;
  if (method != "GET") return Error::handshake_method_not_get;  // methods are case-sensitive
  if (version < 11) return Error::handshake_http_version;
  if (target.front() == '/') {
    path_ = target;
    return Error::ok;
  }
  // absolute-form: RFC 9112 3.2.2, its authority is the host and the rest the origin-form path.
  const std::string_view after_scheme = target.substr(target.find("://") + 3);
  const std::size_t path_start = std::min(after_scheme.find_first_of("/?"), after_scheme.size());
  if (!is_host_and_port(after_scheme.substr(0, path_start))) return Error::handshake_invalid_host;
  const std::string_view path = after_scheme.substr(path_start);
  // RFC 9112 3.2.1: an empty path is "/"; one followed by a query has no view ("/?q") to give.
  if (path.starts_with('?')) return Error::handshake_malformed_request_line;
  path_ = path.empty() ? std::string_view("/") : path;
  host_ = after_scheme.substr(0, path_start);
  return Error::ok;
}

// RFC 6455 4.2.1 items 2-6, Host first (RFC 9112 3.2: exactly one, valid, even when an
// absolute-form target overrides it), then the message framing (RFC 9112 6.3: Content-Length
// or Transfer-Encoding announce a body, whose bytes would be taken for frames; a lone
// "Content-Length: 0" announces none, which is what its absence means), the version before the
// key (4.4: a client speaking another version learns ours from the 426).
Error ServerHandshake::check_fields() noexcept {
  std::size_t hosts = 0, keys = 0, versions = 0, content_lengths = 0;
  bool upgrade_websocket = false, connection_upgrade = false, transfer_encoding = false, zero_length = true;
  std::string_view host, version;
  for (const HttpField& f : head_.fields()) {
    switch (f.name.size()) {  // the length first: most fields are none of these
      case 4:
        if (name_is(f.name, "host")) ++hosts, host = f.value;
        break;
      case 14:
        if (name_is(f.name, "content-length"))
          ++content_lengths, zero_length = !f.value.empty() && f.value.find_first_not_of('0') == std::string_view::npos;
        break;
      case 6:
        if (origin_.data() == nullptr && name_is(f.name, "origin")) origin_ = f.value;
        break;
      case 7:
        if (name_is(f.name, "upgrade")) upgrade_websocket = upgrade_websocket || list_has_token(f.value, "websocket");
        break;
      case 10:
        if (name_is(f.name, "connection")) connection_upgrade = connection_upgrade || list_has_token(f.value, "upgrade");
        break;
      case 17:
        if (name_is(f.name, "sec-websocket-key")) ++keys, key_ = f.value;
        else if (name_is(f.name, "transfer-encoding")) transfer_encoding = true;
        break;
      case 21:
        if (name_is(f.name, "sec-websocket-version")) ++versions, version = f.value;
        break;
      default: break;
    }
  }
  if (hosts == 0) return Error::handshake_missing_host;
  if (hosts > 1) return Error::handshake_duplicate_host;
  if (!is_host_and_port(host)) return Error::handshake_invalid_host;
  if (host_.empty()) host_ = host;  // not set by an absolute-form target
  if (content_lengths > 1 || !zero_length) return Error::handshake_content_length;
  if (transfer_encoding) return Error::handshake_transfer_encoding;
  if (!upgrade_websocket) return Error::handshake_upgrade_not_websocket;
  if (!connection_upgrade) return Error::handshake_connection_not_upgrade;
  if (versions == 0) return Error::handshake_missing_version;
  if (versions > 1 || version != "13") return Error::handshake_unsupported_version;
  if (keys == 0) return Error::handshake_missing_key;
  if (keys > 1) return Error::handshake_duplicate_key;
  // RFC 6455 4.1: base64 of 16 bytes is exactly 24 characters.
  std::array<std::byte, 18> nonce;
  std::size_t written = 0;
  if (key_.size() != 24 || base64_decode(kernels_of(options_.backend), key_, nonce, written) != Base64Status::ok ||
      written != 16)
    return Error::handshake_invalid_key;
  return Error::ok;
}

// RFC 6455 4.2.2 item 5: at most one of the offered subprotocols, echoed exactly.
void ServerHandshake::select() noexcept {
  const FieldList offered = subprotocols();
  const auto pick = [&](std::string_view wanted) {
    for (std::string_view o : offered)
      if (o == wanted && o.size() <= max_subprotocol_size && is_token(o)) return selected_ = o, true;
    return false;
  };
  if (options_.select_subprotocol) {
    if (const std::string_view wanted = options_.select_subprotocol(*this); !wanted.empty()) pick(wanted);
    return;
  }
  for (std::string_view wanted : options_.subprotocols)
    if (pick(wanted)) return;
}

void ServerHandshake::answer() noexcept {
  constexpr std::string_view head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  constexpr std::string_view protocol = "Sec-WebSocket-Protocol: ";
  constexpr std::string_view extension = "Sec-WebSocket-Extensions: ";
  static_assert(head.size() + 28 + 2 + protocol.size() + max_subprotocol_size + 2 + extension.size() +
                    max_deflate_element_size + 2 + 2 <=
                sizeof(response_));
  char* out = response_.data();
  const auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  put(head);
  const AcceptKey accept = accept_key(kernels_of(options_.backend), key_);
  put({accept.data(), accept.size()});
  put("\r\n");
  if (!selected_.empty()) {
    put(protocol);
    put(selected_);
    put("\r\n");
  }
  // Only permessage-deflate is ever accepted; other extensions are never echoed.
  if (DeflateElement offer; options_.deflate && deflate_available() && first_valid_deflate_offer(extensions(), offer)) {
    const DeflateElement reply = answer_to(offer, *options_.deflate);
    deflate_ = agreement(offer, reply);
    put(extension);
    out = write_deflate_element(out, reply);
    put("\r\n");
  }
  put("\r\n");
  response_size_ = static_cast<std::size_t>(out - response_.data());
}

int ServerHandshake::status_code() const noexcept {
  switch (status_) {
    case HandshakeStatus::accept: return 101;
    case HandshakeStatus::reject: return http_status(error_);
    case HandshakeStatus::need_more: return 0;
  }
  return 0;
}

std::string_view ServerHandshake::response() const noexcept {
  switch (status_code()) {
    case 101: return {response_.data(), response_size_};
    case 400: return response_400;
    case 405: return response_405;
    case 414: return response_414;
    case 426: return response_426;
    case 431: return response_431;
    default: return {};
  }
}

FieldList ServerHandshake::subprotocols() const noexcept { return {head_.fields(), "sec-websocket-protocol"}; }
FieldList ServerHandshake::extensions() const noexcept { return {head_.fields(), "sec-websocket-extensions"}; }
std::optional<DeflateParameters> ServerHandshake::deflate() const noexcept { return deflate_; }
std::string_view ServerHandshake::header(std::string_view name) const noexcept {
  return first_field(head_.fields(), name);
}

// --- ClientHandshake ---------------------------------------------------------------------------

Error random_nonce(HandshakeNonce& nonce) noexcept {
  return detail::os_random_bytes(nonce.data(), nonce.size()) ? Error::ok : Error::handshake_no_randomness;
}

ClientHandshake::ClientHandshake(const ClientOptions& options) : head_(options.limits) {
  HandshakeNonce nonce;
  error_ = random_nonce(nonce);
  if (error_ == Error::ok) error_ = build_request(options, nonce);
  if (error_ != Error::ok) status_ = HandshakeStatus::reject;
}

ClientHandshake::ClientHandshake(const ClientOptions& options, const HandshakeNonce& nonce) : head_(options.limits) {
  error_ = build_request(options, nonce);
  if (error_ != Error::ok) status_ = HandshakeStatus::reject;
}

// RFC 6455 4.1, the opening handshake, from options check_client_options() accepts.
Error ClientHandshake::build_request(const ClientOptions& o, const HandshakeNonce& nonce) {
  if (const Error e = check_client_options(o); e != Error::ok) return e;
  const Backend& kernels = kernels_of(o.backend);
  std::array<char, 24> key;
  base64_encode(kernels, nonce, key);
  const std::string_view key_view(key.data(), key.size());
  expected_accept_ = accept_key(kernels, key_view);

  std::string& r = request_;
  r.reserve(160 + o.host.size() + o.path.size() + o.origin.size());
  r.append("GET ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(o.host);
  r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  key_offset_ = r.size();
  r.append(key_view).append("\r\nSec-WebSocket-Version: 13\r\n");
  if (!o.origin.empty()) r.append("Origin: ").append(o.origin).append("\r\n");
  // A list field line (RFC 9110 5.6.1) element by element; its offset stays 0 until the first.
  const auto put_element = [&r](std::string_view name, std::string_view element, std::size_t& offset) {
    if (offset == 0) r.append(name).append(": "), offset = r.size();
    else r.append(", ");
    r.append(element);
  };
  const auto end_list = [&r](std::size_t offset, std::size_t& size) {
    if (offset != 0) size = r.size() - offset, r.append("\r\n");
  };
  for (std::string_view p : o.subprotocols) put_element("Sec-WebSocket-Protocol", p, protocols_offset_);
  end_list(protocols_offset_, protocols_size_);
  deflate_offered_ = !o.deflate_offers.empty() && deflate_available();
  for (const DeflateParameters& offer : deflate_offered_ ? o.deflate_offers : std::span<const DeflateParameters>()) {
    std::array<char, max_deflate_element_size> element;
    const char* const end = write_deflate_element(element.data(), offer_element(offer));
    put_element("Sec-WebSocket-Extensions", {element.data(), end}, extensions_offset_);
  }
  for (std::string_view e : o.extensions) put_element("Sec-WebSocket-Extensions", e, extensions_offset_);
  end_list(extensions_offset_, extensions_size_);
  for (const HttpField& f : o.extra_headers) r.append(f.name).append(": ").append(f.value).append("\r\n");
  r.append("\r\n");
  return Error::ok;
}

std::string_view ClientHandshake::key() const noexcept {
  return request_.empty() ? std::string_view() : std::string_view(request_).substr(key_offset_, 24);
}

HandshakeResult ClientHandshake::feed(std::span<const std::byte> in) noexcept {
  const HandshakeResult r =
      feed_head(head_, status_, error_, in, [this] { return check_status_line(); }, [this] { return check_fields(); });
  // A status line that does not fit is just a head that does not.
  if (error_ == Error::handshake_request_line_too_large) error_ = Error::handshake_head_too_large;
  return r;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4); the SP
// before an empty reason is optional here, as many servers omit it.
Error ClientHandshake::check_status_line() noexcept {
  const std::string_view line = head_.start_line();
  const int version = parse_http_version(line.substr(0, 8));
  if (line.size() < 12 || version < 10 || line[8] != ' ' || digits_size(line.substr(9), 3) != 3 ||
      (line.size() > 12 && line[12] != ' ') || !all_of_class(line.substr(std::min<std::size_t>(line.size(), 13)), value_char))
    return Error::handshake_malformed_status_line;
  status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  // Upgrade is an HTTP/1.1 mechanism (RFC 9110 7.8), and no 1xx may go to HTTP/1.0 (RFC 9110
  // 15.2): an HTTP/1.0 server cannot have switched.
  if (status_code_ == 101 && version < 11) return Error::handshake_response_http_version;
  return Error::ok;
}

// RFC 6455 4.1, the client's checks of the server's handshake, items 1-6.
Error ClientHandshake::check_fields() noexcept {
  if (status_code_ != 101) return Error::handshake_unexpected_status;
  const std::string_view offered_protocols = std::string_view(request_).substr(protocols_offset_, protocols_size_);
  const std::string_view offered_extensions = std::string_view(request_).substr(extensions_offset_, extensions_size_);
  std::size_t accepts = 0, protocols = 0;
  bool upgrade_websocket = false, connection_upgrade = false, protocol_offered = true, extensions_offered = true;
  std::string_view accept;
  for (const HttpField& f : head_.fields()) {
    if (name_is(f.name, "upgrade")) {
      upgrade_websocket = upgrade_websocket || list_has_token(f.value, "websocket");
    } else if (name_is(f.name, "connection")) {
      connection_upgrade = connection_upgrade || list_has_token(f.value, "upgrade");
    } else if (name_is(f.name, "sec-websocket-accept")) {
      ++accepts, accept = f.value;
    } else if (name_is(f.name, "sec-websocket-protocol")) {
      // One value, exactly one of ours (RFC 6455 4.1 item 6).
      ++protocols;
      protocol_offered = protocol_offered && is_token(f.value) && list_has_value(offered_protocols, f.value);
    } else if (name_is(f.name, "sec-websocket-extensions")) {
      std::size_t pos = 0;
      for (std::string_view e; next_list_element(f.value, pos, e);) {  // RFC 6455 4.1 item 5
        const std::string_view name = extension_name(e);
        bool ours = false;
        std::size_t offered_pos = 0;
        for (std::string_view o; !ours && next_list_element(offered_extensions, offered_pos, o);)
          ours = iequals(extension_name(o), name);
        extensions_offered = extensions_offered && ours;
      }
    }
  }
  if (!upgrade_websocket) return Error::handshake_response_not_websocket;
  if (!connection_upgrade) return Error::handshake_response_not_upgrade;
  if (accepts != 1) return Error::handshake_missing_accept;
  if (accept != std::string_view(expected_accept_.data(), expected_accept_.size()))
    return Error::handshake_accept_mismatch;
  if (protocols > 1 || !protocol_offered) return Error::handshake_unoffered_subprotocol;
  if (!extensions_offered) return Error::handshake_unoffered_extension;
  return deflate_offered_ ? check_deflate_answer(extensions(), offered_extensions, deflate_) : Error::ok;
}

std::string_view ClientHandshake::subprotocol() const noexcept {
  return status_ == HandshakeStatus::accept ? header("sec-websocket-protocol") : std::string_view();
}
FieldList ClientHandshake::extensions() const noexcept { return {head_.fields(), "sec-websocket-extensions"}; }
std::optional<DeflateParameters> ClientHandshake::deflate() const noexcept { return deflate_; }
std::string_view ClientHandshake::header(std::string_view name) const noexcept {
  return first_field(head_.fields(), name);
}

}  // namespace wsframe
