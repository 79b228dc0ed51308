// The HTTP/1.1 upgrade (include/wsframe/handshake.hpp): the server's and the client's checks of
// RFC 6455 section 4, on the head parsing of http_head.hpp, the list grammar of http_lists.hpp
// and the extensions' negotiations (extension.hpp). Baseline flags; base64 and SHA-1 run
// through a Backend.
#include "wsframe/handshake.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "deflate_negotiation.hpp"
#include "extension.hpp"
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
// Each extension checks its own options.
Error check_client_options(const ClientOptions& o, std::span<ExtensionNegotiation* const> negotiations) noexcept {
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
      std::all_of(negotiations.begin(), negotiations.end(),
                  [&o](const ExtensionNegotiation* n) { return n->options_valid(o.extensions); }) &&
      std::all_of(o.extra_headers.begin(), o.extra_headers.end(), [](const HttpField& f) {
        return is_token(f.name) && all_of_class(f.value, value_char) && trim_ows(f.value) == f.value;
      });
  return valid ? Error::ok : Error::handshake_invalid_option;
}

}  // namespace

// --- ServerHandshake ---------------------------------------------------------------------------

struct ServerHandshake::State {
  explicit State(ServerOptions o)
      : options(std::move(o)), head(options.limits), deflate(DeflateNegotiation::server(options.deflate)) {}

  // The extensions this server can accept, in the order it answers them.
  std::array<ExtensionNegotiation*, 1> negotiations() noexcept { return {&deflate}; }

  void reset() noexcept;
  Error check_request_line() noexcept;
  Error check_fields() noexcept;
  void select(const ServerHandshake& owner) noexcept;
  void answer() noexcept;
  FieldList offered(std::string_view name) const noexcept { return {head.fields(), name}; }

  ServerOptions options;
  HttpHead head;
  DeflateNegotiation deflate;
  HandshakeStatus status = HandshakeStatus::need_more;
  Error error = Error::ok;
  std::string_view path;
  std::string_view host;
  std::string_view origin;
  std::string_view key;
  std::string_view selected;
  std::size_t response_size = 0;
  // The 101: its fixed fields, a subprotocol and the extensions' answers (answer() checks).
  std::array<char, 320 + max_subprotocol_size> response{};
};

ServerHandshake::ServerHandshake(ServerOptions options) : state_(std::make_unique<State>(std::move(options))) {}
ServerHandshake::~ServerHandshake() = default;
ServerHandshake::ServerHandshake(ServerHandshake&&) noexcept = default;
ServerHandshake& ServerHandshake::operator=(ServerHandshake&&) noexcept = default;

void ServerHandshake::reset() noexcept { state_->reset(); }

void ServerHandshake::State::reset() noexcept {
  head.reset();
  status = HandshakeStatus::need_more;
  error = Error::ok;
  path = host = origin = key = selected = {};
  response_size = 0;
}

HandshakeResult ServerHandshake::feed(std::span<const std::byte> in) noexcept {
  State& st = *state_;
  return feed_head(st.head, st.status, st.error, in, [&st] { return st.check_request_line(); },
                   [this, &st] {
                     const Error e = st.check_fields();
                     if (e == Error::ok) st.select(*this), st.answer();
                     return e;
                   });
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 section 3).
Error ServerHandshake::State::check_request_line() noexcept {
  const std::string_view line = head.start_line();
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
    path = target;
    return Error::ok;
  }
  // absolute-form: RFC 9112 3.2.2, its authority is the host and the rest the origin-form path.
  const std::string_view after_scheme = target.substr(target.find("://") + 3);
  const std::size_t path_start = std::min(after_scheme.find_first_of("/?"), after_scheme.size());
  if (!is_host_and_port(after_scheme.substr(0, path_start))) return Error::handshake_invalid_host;
  const std::string_view origin_form = after_scheme.substr(path_start);
  // RFC 9112 3.2.1: an empty path is "/"; one followed by a query has no view ("/?q") to give.
  if (origin_form.starts_with('?')) return Error::handshake_malformed_request_line;
  path = origin_form.empty() ? std::string_view("/") : origin_form;
  host = after_scheme.substr(0, path_start);
  return Error::ok;
}

// RFC 6455 4.2.1 items 2-6, Host first (RFC 9112 3.2: exactly one, valid, even when an
// absolute-form target overrides it), then the message framing (RFC 9112 6.3: Content-Length
// or Transfer-Encoding announce a body, whose bytes would be taken for frames; a lone
// "Content-Length: 0" announces none, which is what its absence means), the version before the
// key (4.4: a client speaking another version learns ours from the 426).
Error ServerHandshake::State::check_fields() noexcept {
  std::size_t hosts = 0, keys = 0, versions = 0, content_lengths = 0;
  bool upgrade_websocket = false, connection_upgrade = false, transfer_encoding = false, zero_length = true;
  std::string_view host_field, version;
  for (const HttpField& f : head.fields()) {
    switch (f.name.size()) {  // the length first: most fields are none of these
      case 4:
        if (name_is(f.name, "host")) ++hosts, host_field = f.value;
        break;
      case 14:
        if (name_is(f.name, "content-length"))
          ++content_lengths, zero_length = !f.value.empty() && f.value.find_first_not_of('0') == std::string_view::npos;
        break;
      case 6:
        if (origin.data() == nullptr && name_is(f.name, "origin")) origin = f.value;
        break;
      case 7:
        if (name_is(f.name, "upgrade")) upgrade_websocket = upgrade_websocket || list_has_token(f.value, "websocket");
        break;
      case 10:
        if (name_is(f.name, "connection")) connection_upgrade = connection_upgrade || list_has_token(f.value, "upgrade");
        break;
      case 17:
        if (name_is(f.name, "sec-websocket-key")) ++keys, key = f.value;
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
  if (!is_host_and_port(host_field)) return Error::handshake_invalid_host;
  if (host.empty()) host = host_field;  // not set by an absolute-form target
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
  if (key.size() != 24 || base64_decode(kernels_of(options.backend), key, nonce, written) != Base64Status::ok ||
      written != 16)
    return Error::handshake_invalid_key;
  return Error::ok;
}

// RFC 6455 4.2.2 item 5: at most one of the offered subprotocols, echoed exactly.
void ServerHandshake::State::select(const ServerHandshake& owner) noexcept {
  const FieldList subprotocols = offered("sec-websocket-protocol");
  const auto pick = [&](std::string_view wanted) {
    for (std::string_view o : subprotocols)
      if (o == wanted && o.size() <= max_subprotocol_size && is_token(o)) return selected = o, true;
    return false;
  };
  if (options.select_subprotocol) {
    if (const std::string_view wanted = options.select_subprotocol(owner); !wanted.empty()) pick(wanted);
    return;
  }
  for (std::string_view wanted : options.subprotocols)
    if (pick(wanted)) return;
}

void ServerHandshake::State::answer() noexcept {
  constexpr std::string_view head_fields =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  constexpr std::string_view protocol = "Sec-WebSocket-Protocol: ";
  constexpr std::string_view extension = "Sec-WebSocket-Extensions: ";
  static_assert(head_fields.size() + 28 + 2 + protocol.size() + max_subprotocol_size + 2 + extension.size() +
                    DeflateNegotiation::max_answer_size + 2 + 2 <=
                sizeof(response));
  char* out = response.data();
  const auto put = [&out](std::string_view s) { out = std::copy(s.begin(), s.end(), out); };
  put(head_fields);
  const AcceptKey accept = accept_key(kernels_of(options.backend), key);
  put({accept.data(), accept.size()});
  put("\r\n");
  if (!selected.empty()) {
    put(protocol);
    put(selected);
    put("\r\n");
  }
  // Each accepted extension answers on a line of its own; extensions we do not know are
  // never echoed (RFC 6455 9.1).
  for (ExtensionNegotiation* n : negotiations()) {
    if (!n->accept(offered("sec-websocket-extensions"))) continue;
    put(extension);
    out = n->answer(out);
    put("\r\n");
  }
  put("\r\n");
  response_size = static_cast<std::size_t>(out - response.data());
}

HandshakeStatus ServerHandshake::status() const noexcept { return state_->status; }
Error ServerHandshake::error() const noexcept { return state_->error; }

int ServerHandshake::status_code() const noexcept {
  switch (state_->status) {
    case HandshakeStatus::accept: return 101;
    case HandshakeStatus::reject: return http_status(state_->error);
    case HandshakeStatus::need_more: return 0;
  }
  return 0;
}

std::string_view ServerHandshake::response() const noexcept {
  switch (status_code()) {
    case 101: return {state_->response.data(), state_->response_size};
    case 400: return response_400;
    case 405: return response_405;
    case 414: return response_414;
    case 426: return response_426;
    case 431: return response_431;
    default: return {};
  }
}

std::string_view ServerHandshake::path() const noexcept { return state_->path; }
std::string_view ServerHandshake::host() const noexcept { return state_->host; }
std::string_view ServerHandshake::origin() const noexcept { return state_->origin; }
std::string_view ServerHandshake::key() const noexcept { return state_->key; }
FieldList ServerHandshake::subprotocols() const noexcept { return state_->offered("sec-websocket-protocol"); }
FieldList ServerHandshake::extensions() const noexcept { return state_->offered("sec-websocket-extensions"); }
// An agreement is answered only in a 101.
std::optional<DeflateParameters> ServerHandshake::deflate() const noexcept {
  return state_->status == HandshakeStatus::accept ? state_->deflate.agreed() : std::nullopt;
}
std::span<const HttpField> ServerHandshake::headers() const noexcept { return state_->head.fields(); }
std::string_view ServerHandshake::header(std::string_view name) const noexcept {
  return first_field(state_->head.fields(), name);
}
std::string_view ServerHandshake::selected_subprotocol() const noexcept { return state_->selected; }

// --- ClientHandshake ---------------------------------------------------------------------------

Error random_nonce(HandshakeNonce& nonce) noexcept {
  return detail::os_random_bytes(nonce.data(), nonce.size()) ? Error::ok : Error::handshake_no_randomness;
}

struct ClientHandshake::State {
  explicit State(const ClientOptions& options)
      : head(options.limits), deflate(DeflateNegotiation::client(options.deflate_offers)) {}

  // The extensions this client can negotiate, in the order it offers them.
  std::array<ExtensionNegotiation*, 1> negotiations() noexcept { return {&deflate}; }

  // The outcome of the constructor: the request, or why there is none.
  void build(const ClientOptions& options, const HandshakeNonce& nonce);
  Error build_request(const ClientOptions& options, const HandshakeNonce& nonce);
  Error check_status_line() noexcept;
  Error check_fields() noexcept;
  Error check_extensions(std::string_view offered) noexcept;
  FieldList answered_extensions() const noexcept { return {head.fields(), "sec-websocket-extensions"}; }

  HttpHead head;
  DeflateNegotiation deflate;
  std::string request;
  std::size_t key_offset = 0;  // views into request are kept as offsets (it may move)
  std::size_t protocols_offset = 0, protocols_size = 0;
  std::size_t extensions_offset = 0, extensions_size = 0;
  std::array<char, 28> expected_accept{};
  HandshakeStatus status = HandshakeStatus::need_more;
  Error error = Error::ok;
  int status_code = 0;
};

ClientHandshake::ClientHandshake(const ClientOptions& options) : state_(std::make_unique<State>(options)) {
  HandshakeNonce nonce;
  state_->error = random_nonce(nonce);
  if (state_->error == Error::ok) state_->build(options, nonce);
  else state_->status = HandshakeStatus::reject;
}

ClientHandshake::ClientHandshake(const ClientOptions& options, const HandshakeNonce& nonce)
    : state_(std::make_unique<State>(options)) {
  state_->build(options, nonce);
}

ClientHandshake::~ClientHandshake() = default;
ClientHandshake::ClientHandshake(ClientHandshake&&) noexcept = default;
ClientHandshake& ClientHandshake::operator=(ClientHandshake&&) noexcept = default;

void ClientHandshake::State::build(const ClientOptions& options, const HandshakeNonce& nonce) {
  error = build_request(options, nonce);
  if (error != Error::ok) status = HandshakeStatus::reject;
}

// A list field line (RFC 9110 5.6.1) of the request, element by element; its offset stays 0
// until the first.
class ListLine final : public ElementSink {
 public:
  ListLine(std::string& request, std::string_view name, std::size_t& offset) noexcept
      : request_(request), name_(name), offset_(offset) {}
  void add(std::string_view element) override {
    if (offset_ == 0) request_.append(name_).append(": "), offset_ = request_.size();
    else request_.append(", ");
    request_.append(element);
  }
  // Ends the line, if any element was added; `size` is then its value's.
  void end(std::size_t& size) {
    if (offset_ != 0) size = request_.size() - offset_, request_.append("\r\n");
  }

 private:
  std::string& request_;
  std::string_view name_;
  std::size_t& offset_;
};

// RFC 6455 4.1, the opening handshake, from options check_client_options() accepts.
Error ClientHandshake::State::build_request(const ClientOptions& o, const HandshakeNonce& nonce) {
  if (const Error e = check_client_options(o, negotiations()); e != Error::ok) return e;
  const Backend& kernels = kernels_of(o.backend);
  std::array<char, 24> key;
  base64_encode(kernels, nonce, key);
  const std::string_view key_view(key.data(), key.size());
  expected_accept = accept_key(kernels, key_view);

  std::string& r = request;
  r.reserve(160 + o.host.size() + o.path.size() + o.origin.size());
  r.append("GET ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(o.host);
  r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  key_offset = r.size();
  r.append(key_view).append("\r\nSec-WebSocket-Version: 13\r\n");
  if (!o.origin.empty()) r.append("Origin: ").append(o.origin).append("\r\n");
  ListLine protocols(r, "Sec-WebSocket-Protocol", protocols_offset);
  for (std::string_view p : o.subprotocols) protocols.add(p);
  protocols.end(protocols_size);
  // The extensions we negotiate first, in their order, then the others as given.
  ListLine extensions(r, "Sec-WebSocket-Extensions", extensions_offset);
  for (const ExtensionNegotiation* n : negotiations()) n->offer(extensions);
  for (std::string_view e : o.extensions) extensions.add(e);
  extensions.end(extensions_size);
  for (const HttpField& f : o.extra_headers) r.append(f.name).append(": ").append(f.value).append("\r\n");
  r.append("\r\n");
  return Error::ok;
}

std::string_view ClientHandshake::request() const noexcept { return state_->request; }

std::string_view ClientHandshake::key() const noexcept {
  const State& st = *state_;
  return st.request.empty() ? std::string_view() : std::string_view(st.request).substr(st.key_offset, 24);
}

HandshakeResult ClientHandshake::feed(std::span<const std::byte> in) noexcept {
  State& st = *state_;
  const HandshakeResult r = feed_head(st.head, st.status, st.error, in, [&st] { return st.check_status_line(); },
                                      [&st] { return st.check_fields(); });
  // A status line that does not fit is just a head that does not.
  if (st.error == Error::handshake_request_line_too_large) st.error = Error::handshake_head_too_large;
  return r;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4); the SP
// before an empty reason is optional here, as many servers omit it.
Error ClientHandshake::State::check_status_line() noexcept {
  const std::string_view line = head.start_line();
  const int version = parse_http_version(line.substr(0, 8));
  if (line.size() < 12 || version < 10 || line[8] != ' ' || digits_size(line.substr(9), 3) != 3 ||
      (line.size() > 12 && line[12] != ' ') || !all_of_class(line.substr(std::min<std::size_t>(line.size(), 13)), value_char))
    return Error::handshake_malformed_status_line;
  status_code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  // Upgrade is an HTTP/1.1 mechanism (RFC 9110 7.8), and no 1xx may go to HTTP/1.0 (RFC 9110
  // 15.2): an HTTP/1.0 server cannot have switched.
  if (status_code == 101 && version < 11) return Error::handshake_response_http_version;
  return Error::ok;
}

// RFC 6455 4.1, the client's checks of the server's handshake, items 1-6.
Error ClientHandshake::State::check_fields() noexcept {
  if (status_code != 101) return Error::handshake_unexpected_status;
  const std::string_view offered_protocols = std::string_view(request).substr(protocols_offset, protocols_size);
  std::size_t accepts = 0, protocols = 0;
  bool upgrade_websocket = false, connection_upgrade = false, protocol_offered = true;
  std::string_view accept;
  for (const HttpField& f : head.fields()) {
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
    }
  }
  if (!upgrade_websocket) return Error::handshake_response_not_websocket;
  if (!connection_upgrade) return Error::handshake_response_not_upgrade;
  if (accepts != 1) return Error::handshake_missing_accept;
  if (accept != std::string_view(expected_accept.data(), expected_accept.size()))
    return Error::handshake_accept_mismatch;
  if (protocols > 1 || !protocol_offered) return Error::handshake_unoffered_subprotocol;
  return check_extensions(std::string_view(request).substr(extensions_offset, extensions_size));
}

// RFC 6455 4.1 item 5: every extension in the answer is one we offered (`offered`, the list as
// sent); then each extension we negotiate checks its answer.
Error ClientHandshake::State::check_extensions(std::string_view offered) noexcept {
  for (std::string_view e : answered_extensions()) {
    const std::string_view name = extension_name(e);
    bool ours = false;
    std::size_t pos = 0;
    for (std::string_view o; !ours && next_list_element(offered, pos, o);) ours = iequals(extension_name(o), name);
    if (!ours) return Error::handshake_unoffered_extension;
  }
  for (ExtensionNegotiation* n : negotiations())
    if (const Error e = n->check(answered_extensions()); e != Error::ok) return e;
  return Error::ok;
}

HandshakeStatus ClientHandshake::status() const noexcept { return state_->status; }
Error ClientHandshake::error() const noexcept { return state_->error; }
int ClientHandshake::status_code() const noexcept { return state_->status_code; }
std::string_view ClientHandshake::subprotocol() const noexcept {
  return state_->status == HandshakeStatus::accept ? header("sec-websocket-protocol") : std::string_view();
}
FieldList ClientHandshake::extensions() const noexcept { return state_->answered_extensions(); }
// An agreement holds only once the whole answer passed.
std::optional<DeflateParameters> ClientHandshake::deflate() const noexcept {
  return state_->status == HandshakeStatus::accept ? state_->deflate.agreed() : std::nullopt;
}
std::span<const HttpField> ClientHandshake::headers() const noexcept { return state_->head.fields(); }
std::string_view ClientHandshake::header(std::string_view name) const noexcept {
  return first_field(state_->head.fields(), name);
}

}  // namespace wsframe
