// wsframe — the HTTP/1.1 upgrade (RFC 6455 section 4), server and client, sans-I/O.
//
// Both sides are incremental parsers: feed() takes the bytes as they arrive, in any split, and
// answers need_more, accept or reject. Nothing is allocated per byte or sized by the peer: each
// handshake object owns one buffer of `HandshakeLimits::max_head_bytes` and a table of
// `max_fields` header fields, both allocated at construction (a server reuses them with
// reset()), and every accessor returns a view into that buffer. A head that does not fit is
// rejected. Bytes that follow the head (a pipelined first frame) are handed back as `leftover`.
// The server refuses HTTP/1.0 and older with 400: RFC 6455 4.2.1 asks for HTTP/1.1 or higher,
// and 505 is meant for an unsupported major version. It also answers 400 to a request with a
// body (RFC 9112 6.3: any Transfer-Encoding, or a Content-Length other than one "0" line, which
// is the same as none), and to a Host that is not host [ ":" port ] (RFC 9112 3.2, RFC 3986
// 3.2.2: a reg-name without commas, an IPv4 address or a bracketed IPv6 or IPvFuture literal;
// a port of 1-5 digits up to 65535; no userinfo, path, space or list).
// An absolute-form target ("GET ws://a.example/chat HTTP/1.1") is accepted: its authority
// wins over Host (RFC 9112 3.2.2), which must still be present once and valid, host() is that
// authority and path() the origin-form rest ("/chat", "/" for an empty path; an empty path
// followed by a query is refused as a malformed request line).
//
// The client refuses a 101 that claims HTTP/1.0 (RFC 9110 7.8 and 15.2), and ClientOptions
// whose extra_headers name a field it writes itself (Error::handshake_reserved_extra_header).
//
//   wsframe::ServerHandshake hs(options);
//   auto r = hs.feed(bytes);                  // a std::span<std::byte>; again while need_more
//   write(fd, hs.response());                 // 101 on accept, a "Connection: close" error otherwise
//   if (r.status == wsframe::HandshakeStatus::accept) connection.receive(r.leftover);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "wsframe/deflate.hpp"
#include "wsframe/error.hpp"

namespace wsframe {

struct Backend;

// One header field line, as received: the name keeps its case; the value has no leading or
// trailing whitespace (RFC 9112 section 5). Both are views into the handshake's buffer.
struct HttpField {
  std::string_view name;
  std::string_view value;
};

struct HandshakeLimits {
  std::size_t max_head_bytes = 8 * 1024;  // start line + header fields + the empty line
  std::size_t max_fields = 64;            // header field lines
};

enum class HandshakeStatus : std::uint8_t {
  need_more,  // the head is not complete: feed more bytes
  accept,     // the handshake succeeded
  reject,     // it failed: error() says why (the server also has a response to send)
};

template <class Byte>
struct BasicHandshakeResult {
  HandshakeStatus status;
  // On accept: the bytes of the last input that follow the head (a view into that input), for
  // Connection::receive. Empty otherwise.
  std::span<Byte> leftover;

  // A result from writable input reads as one from read-only input.
  operator BasicHandshakeResult<const Byte>() const noexcept
    requires(!std::is_const_v<Byte>)
  {
    return {status, leftover};
  }
};
// What feed() returns for read-only input (a string_view, a span<const std::byte>).
using HandshakeResult = BasicHandshakeResult<const std::byte>;
// What feed() returns for writable input (a socket's read buffer, span<std::byte>): the
// leftover can go straight to Connection::receive, which unmasks in place.
using WritableHandshakeResult = BasicHandshakeResult<std::byte>;

// The elements of a comma-separated list header (RFC 9110 section 5.6.1) across every field line
// with that name, in order: whitespace around elements trimmed, empty elements skipped, commas
// inside quoted strings kept (extension parameters may quote). A forward range of string_view.
class FieldList {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = const std::string_view&;

    iterator() = default;
    reference operator*() const noexcept { return element_; }
    pointer operator->() const noexcept { return &element_; }
    iterator& operator++() noexcept { advance(); return *this; }
    iterator operator++(int) noexcept { iterator old = *this; advance(); return old; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.field_ == b.field_ && a.pos_ == b.pos_;
    }

   private:
    friend class FieldList;
    iterator(const FieldList* list, std::size_t field) noexcept : list_(list), field_(field) { advance(); }
    void advance() noexcept;

    const FieldList* list_ = nullptr;
    std::size_t field_ = 0;  // index into the fields; fields.size() at the end
    std::size_t pos_ = 0;    // where the next element starts in that field's value
    std::string_view element_;
  };

  FieldList() = default;
  // `name` is matched ASCII case-insensitively.
  FieldList(std::span<const HttpField> fields, std::string_view name) noexcept : fields_(fields), name_(name) {}

  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, fields_.size()}; }
  bool empty() const noexcept { return begin() == end(); }
  // An element equal to `token`, ASCII case-insensitively (Upgrade, Connection tokens).
  bool contains_token(std::string_view token) const noexcept;
  // An element equal to `value`, byte for byte (subprotocol names).
  bool contains(std::string_view value) const noexcept;

 private:
  std::span<const HttpField> fields_;
  std::string_view name_;
};

// ASCII case-insensitive equality, no allocation (field names, tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

// ---------------------------------------------------------------------------------------------
// Server: parse, validate and answer the client's opening handshake (RFC 6455 section 4.2).

class ServerHandshake;

struct ServerOptions {
  HandshakeLimits limits = {};
  // Subprotocols this server speaks, in its order of preference: the first one the client
  // offered is selected. Not copied: the strings must outlive the handshake.
  std::span<const std::string_view> subprotocols = {};
  // When set, called instead (on a valid request, before the answer is built) to pick one of
  // hs.subprotocols(); returning "" or anything the client did not offer selects none.
  // It must not throw (feed() is noexcept).
  std::function<std::string_view(const ServerHandshake& hs)> select_subprotocol = {};
  // permessage-deflate (RFC 7692): nullopt declines every offer; set, the first valid offer is
  // accepted under these wishes (see deflate.hpp; window bits outside 8..15 are taken as the
  // nearest of them) and deflate() returns the agreement. Declined too without zlib. A
  // client_max_window_bits wish of 8 fails Python websockets 10 clients (their zlib cannot
  // compress with 8): 9 is the smallest that every peer takes.
  std::optional<DeflateParameters> deflate = std::nullopt;
  // The kernels (base64, SHA-1) run on this backend; nullptr: active().
  const Backend* backend = nullptr;
};

class ServerHandshake {
 public:
  // Selected subprotocols longer than this are not echoed (they would not fit the answer
  // buffer); real ones are short tokens.
  static constexpr std::size_t max_subprotocol_size = 256;

  explicit ServerHandshake(ServerOptions options = {});
  ~ServerHandshake();
  // A moved-from handshake may only be destroyed or assigned to.
  ServerHandshake(ServerHandshake&&) noexcept;
  ServerHandshake& operator=(ServerHandshake&&) noexcept;

  // Back to the initial state, keeping the buffers (one object can serve many connections).
  void reset() noexcept;

  // Consumes bytes of the request. Once accepted or rejected, further calls change nothing
  // and return the same status (accept hands the whole input back as leftover).
  HandshakeResult feed(std::span<const std::byte> in) noexcept;
  HandshakeResult feed(std::string_view in) noexcept {
    return feed(std::as_bytes(std::span<const char>(in.data(), in.size())));
  }
  WritableHandshakeResult feed(std::span<std::byte> in) noexcept {
    const HandshakeResult r = feed(std::span<const std::byte>(in));
    return {r.status, in.last(r.leftover.size())};  // the leftover is the input's tail
  }

  HandshakeStatus status() const noexcept;
  Error error() const noexcept;
  // 101 on accept, the rejection's status (400, 405, 414, 426, 431) on reject, 0 before.
  int status_code() const noexcept;
  // The bytes to send: the 101 answer, or a rejection carrying "Connection: close" and a short
  // text body (the connection must then be closed). Empty while need_more.
  std::string_view response() const noexcept;

  // The request, valid once the head is complete (path as soon as the request line is).
  // The request-target in origin form ("/chat?x=1"), also for an absolute-form target.
  std::string_view path() const noexcept;
  // Host, or the authority of an absolute-form target.
  std::string_view host() const noexcept;
  std::string_view origin() const noexcept;  // "" when absent
  std::string_view key() const noexcept;     // Sec-WebSocket-Key
  FieldList subprotocols() const noexcept;   // offered Sec-WebSocket-Protocol
  // Offered Sec-WebSocket-Extensions elements ("permessage-deflate; client_max_window_bits").
  // Only permessage-deflate is ever accepted, and only when ServerOptions::deflate is set.
  FieldList extensions() const noexcept;
  // The permessage-deflate agreement answered in the 101 (for ConnectionOptions::deflate);
  // nullopt when none (not enabled, nothing valid offered, or not accepted).
  std::optional<DeflateParameters> deflate() const noexcept;
  std::span<const HttpField> headers() const noexcept;
  std::string_view header(std::string_view name) const noexcept;  // first match, "" if none
  std::string_view selected_subprotocol() const noexcept;

 private:
  struct State;  // src/handshake.cpp
  std::unique_ptr<State> state_;
};

// ---------------------------------------------------------------------------------------------
// Client: build the opening handshake and validate the server's answer (RFC 6455 section 4.1).

// The 16 random bytes of Sec-WebSocket-Key.
using HandshakeNonce = std::array<std::byte, 16>;

// Fills `nonce` from the kernel's CSPRNG (getrandom(2)); Error::handshake_no_randomness if
// that fails.
Error random_nonce(HandshakeNonce& nonce) noexcept;

struct ClientOptions {
  std::string_view host = {};  // the Host header: "example.com", "example.com:8080", "[::1]:80" (required)
  std::string_view path = "/";  // origin-form request-target, with the query if any
  std::string_view origin = {};  // the Origin header; "" for none
  std::span<const std::string_view> subprotocols = {};  // offered, in order of preference (tokens)
  std::span<const std::string_view> extensions = {};  // other Sec-WebSocket-Extensions elements, sent as given
  // permessage-deflate offers in order of preference (RFC 7692 5), sent before `extensions`;
  // empty: compression is not offered (nor without zlib). Window bits outside 8..15, or a
  // permessage-deflate element in `extensions` as well, are invalid options. An element in
  // `extensions` alone is sent as given and its answer is not checked (deflate() stays nullopt).
  std::span<const DeflateParameters> deflate_offers = {};
  // Sent as given, after the others. None may be named (ASCII case-insensitively) Host,
  // Upgrade, Connection, Origin, Sec-WebSocket-Key, -Version, -Protocol or -Extensions (each is
  // written from the option above; a second line would fail our server or make the answer's
  // check wrong), Content-Length or Transfer-Encoding (the request has no body):
  // Error::handshake_reserved_extra_header.
  std::span<const HttpField> extra_headers = {};
  HandshakeLimits limits = {};  // for the server's response
  const Backend* backend = nullptr;                // kernels run on it; nullptr: active()
};

class ClientHandshake {
 public:
  // The nonce comes from random_nonce(); the second form injects it (tests, replay).
  // Invalid options (a header injection, a non-token subprotocol, no host) or no randomness
  // leave the handshake rejected, with error() saying why and request() empty.
  explicit ClientHandshake(const ClientOptions& options);
  ClientHandshake(const ClientOptions& options, const HandshakeNonce& nonce);
  ~ClientHandshake();
  // A moved-from handshake may only be destroyed or assigned to.
  ClientHandshake(ClientHandshake&&) noexcept;
  ClientHandshake& operator=(ClientHandshake&&) noexcept;

  // The bytes to send.
  std::string_view request() const noexcept;
  std::string_view key() const noexcept;  // our Sec-WebSocket-Key (24 characters)

  // Consumes bytes of the server's response; as for ServerHandshake::feed.
  HandshakeResult feed(std::span<const std::byte> in) noexcept;
  HandshakeResult feed(std::string_view in) noexcept {
    return feed(std::as_bytes(std::span<const char>(in.data(), in.size())));
  }
  WritableHandshakeResult feed(std::span<std::byte> in) noexcept {
    const HandshakeResult r = feed(std::span<const std::byte>(in));
    return {r.status, in.last(r.leftover.size())};  // the leftover is the input's tail
  }

  HandshakeStatus status() const noexcept;
  Error error() const noexcept;
  // The response's status code once its status line is parsed (e.g. 101, or 403 with
  // Error::handshake_unexpected_status), else 0.
  int status_code() const noexcept;
  std::string_view subprotocol() const noexcept;  // selected by the server; "" for none
  FieldList extensions() const noexcept;          // accepted by the server (all offered by us)
  // The permessage-deflate agreement (for ConnectionOptions::deflate); nullopt when the server
  // accepted none of our offers.
  std::optional<DeflateParameters> deflate() const noexcept;
  std::span<const HttpField> headers() const noexcept;
  std::string_view header(std::string_view name) const noexcept;

 private:
  struct State;  // src/handshake.cpp
  std::unique_ptr<State> state_;
};

}  // namespace wsframe
