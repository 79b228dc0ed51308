// The HTTP upgrade (RFC 6455 section 4): the server's parser, checks and answers, the client's
// request and its checks of the answer. Every request is fed whole, byte by byte and at random
// splits, and all three must give the same outcome.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "counting_new.hpp"
#include "support.hpp"

// Options are set with designated initializers, leaving the rest at their defaults, which is
// what -Wmissing-field-initializers (GCC 12) complains about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace wsframe;
using namespace std::string_view_literals;

using wsframe::test::allocations;  // counting_new.hpp: feeding bytes must never allocate

namespace {

// The example of RFC 6455 sections 1.2 and 1.3.
constexpr std::string_view rfc_request =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";
constexpr std::string_view rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// What a browser sends (Firefox; bench_handshake has Chrome's).
constexpr std::string_view browser_request =
    "GET /socket?room=42 HTTP/1.1\r\n"
    "Host: example.com:8443\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Origin: https://example.com\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Sec-Fetch-Mode: websocket\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "Upgrade: websocket\r\n"
    "\r\n";

// A minimal valid request with `fields` in place of the usual ones (for the rule sections).
std::string request_with(std::string_view fields, std::string_view request_line = "GET / HTTP/1.1") {
  return std::string(request_line) + "\r\n" + std::string(fields) + "\r\n";
}
constexpr std::string_view host = "Host: h\r\n";
constexpr std::string_view upgrade = "Upgrade: websocket\r\n";
constexpr std::string_view connection = "Connection: Upgrade\r\n";
constexpr std::string_view key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
constexpr std::string_view version = "Sec-WebSocket-Version: 13\r\n";
std::string fields_except(std::string_view skip) {
  std::string s;
  for (std::string_view f : {host, upgrade, connection, key, version})
    if (f != skip) s += f;
  return s;
}

enum class Split { whole, byte_by_byte, random };

struct Outcome {
  HandshakeStatus status;
  Error error;
  int status_code;
  std::string response;
  std::string leftover;  // leftover of the accepting feed + everything not fed yet
  bool operator==(const Outcome&) const = default;
};

template <class Handshake>
Outcome feed_split(Handshake& hs, std::string_view bytes, Split split) {
  Outcome out{HandshakeStatus::need_more, Error::ok, 0, {}, {}};
  std::size_t i = 0;
  while (i < bytes.size() && out.status == HandshakeStatus::need_more) {
    std::size_t n = split == Split::whole ? bytes.size() : split == Split::byte_by_byte ? 1 : 1 + test::rng()() % 40;
    n = std::min(n, bytes.size() - i);
    const HandshakeResult r = hs.feed(bytes.substr(i, n));
    out.status = r.status;
    if (r.status == HandshakeStatus::accept) {
      out.leftover.assign(reinterpret_cast<const char*>(r.leftover.data()), r.leftover.size());
      out.leftover += bytes.substr(i + n);
    }
    i += n;
  }
  out.error = hs.error();
  out.status_code = hs.status_code();
  if constexpr (requires { hs.response(); }) out.response = std::string(hs.response());
  return out;
}

// The outcome of serving `request`, checked to be the same whole, byte by byte and at splits.
Outcome serve(std::string_view request, const ServerOptions& options = {}) {
  ServerHandshake whole(options);
  const Outcome expected = feed_split(whole, request, Split::whole);
  for (Split split : {Split::byte_by_byte, Split::random, Split::random}) {
    ServerHandshake hs(options);
    INFO("split " << static_cast<int>(split));
    CHECK(feed_split(hs, request, split) == expected);
  }
  return expected;
}

void check_rejected(std::string_view request, Error error, int status) {
  INFO(request);
  const Outcome o = serve(request);
  CHECK(o.status == HandshakeStatus::reject);
  CHECK(message(o.error) == message(error));
  CHECK(o.status_code == status);
  CHECK(close_code(o.error) == 0);
  CHECK(o.response.starts_with("HTTP/1.1 " + std::to_string(status) + " "));
}

void check_accepted(std::string_view request, const ServerOptions& options = {}) {
  INFO(request);
  const Outcome o = serve(request, options);
  CHECK(message(o.error) == message(Error::ok));
  CHECK(o.status == HandshakeStatus::accept);
  CHECK(o.status_code == 101);
}

// The server's 101 for `request`, parsed (whole) by a fresh ServerHandshake.
std::string answer_of(std::string_view request, const ServerOptions& options = {}) {
  ServerHandshake hs(options);
  REQUIRE(hs.feed(request).status == HandshakeStatus::accept);
  return std::string(hs.response());
}

std::vector<std::string_view> to_vector(const FieldList& list) { return {list.begin(), list.end()}; }

}  // namespace

TEST_CASE("server: the RFC 6455 example request", "[handshake][server]") {
  const std::string_view protocols[] = {"chat"};
  ServerOptions options;
  options.subprotocols = protocols;
  const Outcome o = serve(rfc_request, options);
  REQUIRE(o.status == HandshakeStatus::accept);
  CHECK(o.response ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
  CHECK(o.leftover.empty());

  ServerHandshake hs(options);
  REQUIRE(hs.feed(rfc_request).status == HandshakeStatus::accept);
  SECTION("accessors: path, host, origin, key, headers") {
    CHECK(hs.path() == "/chat");
    CHECK(hs.host() == "server.example.com");
    CHECK(hs.origin() == "http://example.com");
    CHECK(hs.key() == "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK(hs.headers().size() == 7);
    CHECK(hs.headers()[0].name == "Host");
    CHECK(hs.headers()[5].value == "chat, superchat");
    CHECK(hs.header("SEC-websocket-VERSION") == "13");
    CHECK(hs.header("x-absent").empty());
    CHECK(to_vector(hs.subprotocols()) == std::vector<std::string_view>{"chat", "superchat"});
    CHECK(hs.selected_subprotocol() == "chat");
  }
  SECTION("feeding after the end changes nothing and hands the bytes back") {
    const HandshakeResult r = hs.feed("more"sv);
    CHECK(r.status == HandshakeStatus::accept);
    CHECK(r.leftover.size() == 4);
  }
  SECTION("reset() makes the object serve another request") {
    hs.reset();
    CHECK(hs.status() == HandshakeStatus::need_more);
    CHECK(hs.response().empty());
    CHECK(hs.feed(browser_request).status == HandshakeStatus::accept);
    CHECK(hs.path() == "/socket?room=42");
    CHECK(hs.response().find("HSmrc0sMlYUkAGmm5OPpG2HaGWk=") != std::string_view::npos);
  }
}

TEST_CASE("server: the rules of RFC 6455 4.2.1", "[handshake][server]") {
  SECTION("a typical browser request is accepted") { check_accepted(browser_request); }

  SECTION("method GET, else 405 with Allow: GET") {
    check_rejected(request_with(fields_except(""), "POST / HTTP/1.1"), Error::handshake_method_not_get, 405);
    check_rejected(request_with(fields_except(""), "get / HTTP/1.1"), Error::handshake_method_not_get, 405);
    ServerHandshake hs;
    hs.feed(request_with(fields_except(""), "HEAD / HTTP/1.1"));
    CHECK(hs.response().find("\r\nAllow: GET\r\n") != std::string_view::npos);
    SECTION("decided by the request line alone") {
      ServerHandshake early;
      CHECK(early.feed("PUT / HTTP/1.1\r\n"sv).status == HandshakeStatus::reject);
      CHECK(early.error() == Error::handshake_method_not_get);
    }
  }

  SECTION("HTTP/1.1 or higher; HTTP/1.0 is refused with 400") {
    check_rejected(request_with(fields_except(""), "GET / HTTP/1.0"), Error::handshake_http_version, 400);
    check_rejected(request_with(fields_except(""), "GET / HTTP/0.9"), Error::handshake_http_version, 400);
    check_accepted(request_with(fields_except(""), "GET / HTTP/1.2"));
    check_accepted(request_with(fields_except(""), "GET / HTTP/2.0"));
  }

  SECTION("Host present exactly once") {
    check_rejected(request_with(fields_except(host)), Error::handshake_missing_host, 400);
    check_rejected(request_with(fields_except("") + "HOST: other\r\n"), Error::handshake_duplicate_host, 400);
    check_accepted(request_with(fields_except(host) + "hOsT: x.example:80\r\n"));
  }

  SECTION("Upgrade lists the token websocket, case-insensitively") {
    const std::string rest = fields_except(upgrade);
    check_rejected(request_with(rest), Error::handshake_upgrade_not_websocket, 400);
    check_rejected(request_with(rest + "Upgrade: websockets\r\n"), Error::handshake_upgrade_not_websocket, 400);
    check_rejected(request_with(rest + "Upgrade: h2c\r\n"), Error::handshake_upgrade_not_websocket, 400);
    check_accepted(request_with(rest + "Upgrade: WebSocket\r\n"));
    check_accepted(request_with(rest + "upgrade:h2c,  websocket ,foo\r\n"));
    check_accepted(request_with(rest + "Upgrade: h2c\r\nUpgrade: websocket\r\n"));
  }

  SECTION("Connection lists the token Upgrade, case-insensitively") {
    const std::string rest = fields_except(connection);
    check_rejected(request_with(rest), Error::handshake_connection_not_upgrade, 400);
    check_rejected(request_with(rest + "Connection: keep-alive\r\n"), Error::handshake_connection_not_upgrade, 400);
    check_rejected(request_with(rest + "Connection: upgrades\r\n"), Error::handshake_connection_not_upgrade, 400);
    check_accepted(request_with(rest + "Connection: keep-alive, Upgrade\r\n"));
    check_accepted(request_with(rest + "connection:keep-alive,upgrade\r\n"));
    check_accepted(request_with(rest + "Connection: \t,UPGRADE,\t\r\n"));
  }

  SECTION("exactly one Sec-WebSocket-Key, strict base64 of 16 bytes") {
    const std::string rest = fields_except(key);
    check_rejected(request_with(rest), Error::handshake_missing_key, 400);
    check_rejected(request_with(rest + std::string(key) + std::string(key)), Error::handshake_duplicate_key, 400);
    for (std::string_view bad : {"dGhlIHNhbXBsZSBub25jZQ"sv,        // no padding
                                 "dGhlIHNhbXBsZSBub25jZR=="sv,      // non-canonical trailing bits
                                 "dGhlIHNhbXBsZSBub25j"sv,          // 15 bytes
                                 "dGhlIHNhbXBsZSBub25jZSE="sv,      // 17 bytes
                                 "dGhlIHNhbXBsZS*ub25jZQ=="sv,      // stray character
                                 "dGhlIHNhbXBs ZSBub25jZQ=="sv,     // inner space
                                 ""sv}) {
      check_rejected(request_with(rest + "Sec-WebSocket-Key: " + std::string(bad) + "\r\n"),
                     Error::handshake_invalid_key, 400);
    }
    check_accepted(request_with(rest + "sec-websocket-key:   AAAAAAAAAAAAAAAAAAAAAA==  \r\n"));
  }

  SECTION("Sec-WebSocket-Version: 13, else 426 with Sec-WebSocket-Version: 13") {
    const std::string rest = fields_except(version);
    check_rejected(request_with(rest), Error::handshake_missing_version, 400);
    for (std::string_view v : {"8"sv, "13, 8"sv, "130"sv, "1 3"sv}) {
      check_rejected(request_with(rest + "Sec-WebSocket-Version: " + std::string(v) + "\r\n"),
                     Error::handshake_unsupported_version, 426);
    }
    check_rejected(request_with(rest + std::string(version) + std::string(version)),
                   Error::handshake_unsupported_version, 426);
    ServerHandshake hs;
    hs.feed(request_with(rest + "Sec-WebSocket-Version: 8\r\n"));
    CHECK(hs.response().find("\r\nSec-WebSocket-Version: 13\r\n") != std::string_view::npos);
  }
}

TEST_CASE("server: HTTP syntax (RFC 9112) is strict", "[handshake][server]") {
  const std::string ok_fields = fields_except("");
  SECTION("malformed request line -> 400") {
    for (std::string_view line : {"GET /"sv, "GET  / HTTP/1.1"sv, "GET / HTTP/1.1 "sv, "GET / HTTP/1"sv,
                                  "GET / http/1.1"sv, "GET / HTTP/11.1"sv, "G(T / HTTP/1.1"sv, "GET chat HTTP/1.1"sv,
                                  "GET * HTTP/1.1"sv, "GET /\x7f HTTP/1.1"sv, "GET /\xc3\xa9 HTTP/1.1"sv, ""sv,
                                  " GET / HTTP/1.1"sv, "GET\t/ HTTP/1.1"sv}) {
      check_rejected(request_with(ok_fields, line), Error::handshake_malformed_request_line, 400);
    }
    check_accepted(request_with(ok_fields, "GET ws://example.com/chat?x=1 HTTP/1.1"));
  }
  SECTION("malformed header fields -> 400") {
    for (std::string_view f : {"NoColon\r\n"sv, ": empty-name\r\n"sv, "Host : space-before-colon\r\n"sv,
                               "Ho@st: invalid-token\r\n"sv, "X-A: nul\0x\r\n"sv, "X-A: ctl\x01\r\n"sv,
                               "X-A: del\x7f\r\n"sv, "X(A): y\r\n"sv}) {
      check_rejected(request_with(ok_fields + std::string(f)), Error::handshake_malformed_field, 400);
    }
    check_accepted(request_with(ok_fields + "X-Empty:\r\nX-Obs-Text: caf\xc3\xa9\r\n"));
  }
  SECTION("an invalid value character is found at every position (values are checked 8 bytes at a time)") {
    for (std::size_t at = 0; at < 40; at += test::quick() ? 3 : 1) {
      std::string value(40, 'v');
      value[at] = '\x1f';
      ServerHandshake ctl;
      ctl.feed(request_with(ok_fields + "X-A: " + value + "\r\n"));
      CHECK(ctl.error() == Error::handshake_malformed_field);
      value[at] = '\x7f';
      ServerHandshake del;
      del.feed(request_with(ok_fields + "X-A: " + value + "\r\n"));
      CHECK(del.error() == Error::handshake_malformed_field);
      value[at] = '\t';  // HTAB is allowed
      ServerHandshake tab;
      CHECK(tab.feed(request_with(ok_fields + "X-A: " + value + "\r\n")).status == HandshakeStatus::accept);
    }
  }
  SECTION("obs-fold -> 400") {
    check_rejected(request_with(ok_fields + "X-A: one\r\n two\r\n"), Error::handshake_obs_fold, 400);
    check_rejected(request_with(ok_fields + "X-A: one\r\n\ttwo\r\n"), Error::handshake_obs_fold, 400);
  }
  SECTION("bare CR, bare LF -> 400") {
    check_rejected(request_with(ok_fields + "X-A: a\rb\r\n"), Error::handshake_bad_line_ending, 400);
    check_rejected(request_with(ok_fields + "X-A: a\n"), Error::handshake_bad_line_ending, 400);
    check_rejected(request_with(ok_fields, "GET /\r HTTP/1.1"), Error::handshake_bad_line_ending, 400);
    check_rejected("GET / HTTP/1.1\n" + ok_fields + "\r\n", Error::handshake_bad_line_ending, 400);
    check_rejected("GET / HTTP/1.1\r\n" + ok_fields + "\n", Error::handshake_bad_line_ending, 400);
  }
}

namespace {
// Host values (RFC 9112 3.2, RFC 3986 3.2.2-3.2.3): reg-names, IPv4, bracketed IPv6 and IPvFuture
// literals, each with and without a port.
constexpr std::string_view valid_hosts[] = {
    "h", "example.com", "EXAMPLE.com.", "xn--bcher-kva.example", "a-b_c~d", "%41b%7e", "!$&'()*+;=",
    "localhost:8080", "h:0", "h:1", "h:65535", "h:00080",
    "127.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.1:9001", "1.2.3.4a",
    "[::1]", "[::1]:443", "[::]", "[2001:db8::1]", "[2001:DB8:0:0:0:0:0:1]", "[1:2:3:4:5:6:7:8]:1",
    "[1::]", "[1:2:3:4:5:6:7::]", "[::2:3:4:5:6:7:8]", "[::ffff:192.0.2.1]", "[1:2:3:4:5:6:1.2.3.4]",
    "[v1.x:y]", "[vF.a,b]:80"};
constexpr std::string_view invalid_hosts[] = {
    "",                                                  // empty: a ws URI always has a host
    "a b", "a\tb", "a, b", "a,b", "a,",                  // spaces and lists
    "user@h", "user:pw@h", "@h",                         // userinfo
    "h/", "h/path", "h?q", "h#f", "h\\x",                // a path, query, fragment
    "h:", ":80", ":", "h:65536", "h:99999", "h:123456", "h:-1", "h:8a", "h:80:80", "h: 80",  // ports
    "[::1", "::1", "[::1]x", "[::1]:", "[]", "[::1]]",  // brackets
    "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7]", "[1::2::3]", "[:::]", "[1:]", "[:1]", "[12345::]", "[g::]",
    "[::1.2.3]", "[::1.2.3.4.5]", "[1.2.3.4::]", "[1:2:3:4:5:6:7:1.2.3.4]", "[fe80::1%25eth0]",  // IPv6
    "[v.x]", "[v1.]", "[v1x]", "[vg.x]",                 // IPvFuture
    "1.2.3.256", "1.2.3", "01.2.3.4", "1.2.3.4.5", "1..2.3", "1.2.3.4:",  // digits and dots: IPv4 or nothing
    "%4", "%zz", "a%", "h\"", "<h>", "h|h", "h^", "h`", "h{}", "h[1]", "\x80h"};
}  // namespace

TEST_CASE("server: Host is host [\":\" port] (RFC 9112 3.2)", "[handshake][server]") {
  const std::string rest = fields_except(host);
  SECTION("valid hosts are accepted and returned as given") {
    for (std::string_view h : valid_hosts) {
      const std::string request = request_with(rest + "Host: " + std::string(h) + "\r\n");
      check_accepted(request);
      ServerHandshake hs;
      hs.feed(request);
      CHECK(hs.host() == h);
    }
  }
  SECTION("invalid hosts -> 400") {
    for (std::string_view h : invalid_hosts)
      check_rejected(request_with(rest + "Host: " + std::string(h) + "\r\n"), Error::handshake_invalid_host, 400);
  }
  SECTION("Host repeated, in every place and case, equal or not -> 400 before its value is judged") {
    for (std::string_view second : {"Host: h\r\n"sv, "HOST: h\r\n"sv, "host: other\r\n"sv, "Host: a b\r\n"sv, "Host:\r\n"sv}) {
      for (std::size_t at = 0; at <= rest.size(); at = rest.find("\r\n", at) + 2) {
        std::string fields = rest;
        fields.insert(at, second);
        check_rejected(request_with("Host: h\r\n" + fields), Error::handshake_duplicate_host, 400);
        check_rejected(request_with(fields + "Host: h\r\n"), Error::handshake_duplicate_host, 400);
        if (at == rest.size()) break;
      }
    }
  }
}

TEST_CASE("server: a request has no body (RFC 9112 6.3)", "[handshake][server]") {
  const std::string ok_fields = fields_except("");
  SECTION("Content-Length other than 0 -> 400") {
    for (std::string_view v : {"1"sv, "5"sv, "10"sv, "01"sv, ""sv, "-0"sv, "+0"sv, "0x0"sv, "0 0"sv, "0, 0"sv, "0,"sv})
      check_rejected(request_with(ok_fields + "Content-Length: " + std::string(v) + "\r\n"), Error::handshake_content_length, 400);
  }
  SECTION("one Content-Length: 0 is an empty body, as if absent; two lines -> 400") {
    check_accepted(request_with(ok_fields + "Content-Length: 0\r\n"));
    check_accepted(request_with("content-length:000\r\n" + ok_fields));
    check_rejected(request_with(ok_fields + "Content-Length: 0\r\nContent-Length: 0\r\n"), Error::handshake_content_length, 400);
    check_rejected(request_with("Content-Length: 7\r\n" + ok_fields + "Content-Length: 0\r\n"), Error::handshake_content_length, 400);
    check_rejected(request_with("Content-Length: 0\r\n" + ok_fields + "Content-Length: 7\r\n"), Error::handshake_content_length, 400);
  }
  SECTION("any Transfer-Encoding -> 400") {
    for (std::string_view v : {"chunked"sv, "identity"sv, "gzip, chunked"sv, ""sv})
      check_rejected(request_with(ok_fields + "Transfer-Encoding: " + std::string(v) + "\r\n"), Error::handshake_transfer_encoding, 400);
    check_rejected(request_with("TRANSFER-ENCODING: chunked\r\n" + ok_fields + "Content-Length: 0\r\n"),
                   Error::handshake_transfer_encoding, 400);
  }
  SECTION("the body's bytes are not handed on as frames") {
    ServerHandshake hs;
    const HandshakeResult r = hs.feed(request_with(ok_fields + "Content-Length: 6\r\n") + "\x81\x80\x01\x02\x03\x04");
    CHECK(r.status == HandshakeStatus::reject);
    CHECK(r.leftover.empty());
  }
}

TEST_CASE("server: an absolute-form target's authority wins over Host (RFC 9112 3.2.2)", "[handshake][server]") {
  const std::string rest = fields_except(host);
  const auto served = [&](std::string_view target, std::string_view host_line = "Host: h\r\n") {
    return request_with(rest + std::string(host_line), "GET " + std::string(target) + " HTTP/1.1");
  };
  SECTION("host() is the authority, path() the origin-form rest") {
    struct Case { std::string_view target, host, path; };
    for (const Case& c : {Case{"ws://a.example/chat", "a.example", "/chat"},
                          Case{"wss://a.example:8443/chat?x=1", "a.example:8443", "/chat?x=1"},
                          Case{"WS://A.example", "A.example", "/"},
                          Case{"http://[::1]:9/", "[::1]:9", "/"},
                          Case{"ws://192.0.2.1/a/b?c=d/e", "192.0.2.1", "/a/b?c=d/e"}}) {
      INFO(c.target);
      check_accepted(served(c.target));
      ServerHandshake hs;
      REQUIRE(hs.feed(served(c.target)).status == HandshakeStatus::accept);
      CHECK(hs.host() == c.host);
      CHECK(hs.path() == c.path);
      CHECK(hs.header("host") == "h");
    }
  }
  SECTION("whitespace or a non-ASCII byte in the target is a malformed request line") {
    check_rejected(served("ws://a b/chat"), Error::handshake_malformed_request_line, 400);
    check_rejected(served("ws://\x80h/chat"), Error::handshake_malformed_request_line, 400);
  }
  SECTION("the authority follows the rules of Host") {
    for (std::string_view h : invalid_hosts) {
      // Characters that end the authority early or the request-target (RFC 9112 3) are
      // checked with the request line.
      if (h.find_first_of("/?# \t\x80") != std::string_view::npos) continue;
      check_rejected(served("ws://" + std::string(h) + "/chat"), Error::handshake_invalid_host, 400);
    }
    check_rejected(served("ws:///chat"), Error::handshake_invalid_host, 400);
    check_rejected(served("ws://u@a.example/chat"), Error::handshake_invalid_host, 400);
  }
  SECTION("an empty path before a query has no origin form -> 400") {
    check_rejected(served("ws://a.example?x=1"), Error::handshake_malformed_request_line, 400);
  }
  SECTION("Host is still required once and valid") {
    check_rejected(served("ws://a.example/", ""), Error::handshake_missing_host, 400);
    check_rejected(served("ws://a.example/", "Host: h\r\nHost: h\r\n"), Error::handshake_duplicate_host, 400);
    check_rejected(served("ws://a.example/", "Host: a b\r\n"), Error::handshake_invalid_host, 400);
  }
}

TEST_CASE("server: limits", "[handshake][server][limits]") {
  SECTION("oversize request line -> 414") {
    check_rejected(request_with(fields_except(""), "GET /" + std::string(9000, 'a') + " HTTP/1.1"),
                   Error::handshake_request_line_too_large, 414);
  }
  SECTION("oversize header section -> 431") {
    check_rejected(request_with(fields_except("") + "X-Big: " + std::string(9000, 'b') + "\r\n"),
                   Error::handshake_head_too_large, 431);
  }
  SECTION("the default limit is 8 KiB, the empty line included") {
    const std::string base = request_with(fields_except("") + "X-Pad: \r\n");
    const std::string exact = request_with(fields_except("") + "X-Pad: " + std::string(8192 - base.size(), 'p') + "\r\n");
    REQUIRE(exact.size() == 8192);
    check_accepted(exact);
    check_rejected(request_with(fields_except("") + "X-Pad: " + std::string(8193 - base.size(), 'p') + "\r\n"),
                   Error::handshake_head_too_large, 431);
  }
  SECTION("header count limit (default 64) -> 431") {
    std::string many = fields_except("");
    for (int i = 5; i < 64; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    check_accepted(request_with(many));
    check_rejected(request_with(many + "X-Last: v\r\n"), Error::handshake_too_many_fields, 431);
  }
  SECTION("both limits are configurable") {
    ServerOptions options;
    options.limits = {.max_head_bytes = 200, .max_fields = 5};
    const std::string ok = request_with(fields_except(""));
    REQUIRE(ok.size() < 200);
    CHECK(serve(ok, options).status == HandshakeStatus::accept);
    CHECK(serve(request_with(fields_except("") + "X: 1\r\n"), options).error == Error::handshake_too_many_fields);
    CHECK(serve(request_with(fields_except(host) + "Host: " + std::string(100, 'h') + "\r\n"), options).error ==
          Error::handshake_head_too_large);
  }
  SECTION("an endless stream is cut at the limit, without allocating") {
    ServerHandshake hs;
    const std::string chunk(1000, 'a');
    const std::size_t before = allocations.load();
    HandshakeResult r{HandshakeStatus::need_more, {}};
    int feeds = 0;
    for (; feeds < 100 && r.status == HandshakeStatus::need_more; ++feeds) r = hs.feed(chunk);
    CHECK(allocations.load() == before);
    CHECK(r.status == HandshakeStatus::reject);
    CHECK(feeds == 9);  // 8192 bytes fit: the 9th chunk overflows
    CHECK(hs.error() == Error::handshake_request_line_too_large);
  }
}

TEST_CASE("server: answers", "[handshake][server]") {
  SECTION("101 carries Upgrade, Connection and the accept key, and nothing else unasked") {
    const std::string answer = answer_of(browser_request);
    CHECK(answer ==
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n");
  }
  SECTION("every rejection closes and has a body matching Content-Length") {
    const std::string ok_fields = fields_except("");
    const std::string rejected[] = {request_with(ok_fields, "GET /"), request_with(ok_fields, "POST / HTTP/1.1"),
                                    request_with(ok_fields, "GET /" + std::string(9000, 'a') + " HTTP/1.1"),
                                    request_with(fields_except(version) + "Sec-WebSocket-Version: 7\r\n"),
                                    request_with(ok_fields + "X: " + std::string(9000, 'b') + "\r\n")};
    std::vector<int> statuses;
    for (const std::string& request : rejected) {
      ServerHandshake hs;
      REQUIRE(hs.feed(request).status == HandshakeStatus::reject);
      statuses.push_back(hs.status_code());
      // Parse the rejection with the client's response parser to check its syntax too.
      ClientHandshake reader(ClientOptions{.host = "h"}, HandshakeNonce{});
      const std::string_view response = hs.response();
      const std::size_t body_at = response.find("\r\n\r\n") + 4;
      CHECK(reader.feed(response).status == HandshakeStatus::reject);
      CHECK(reader.error() == Error::handshake_unexpected_status);
      CHECK(reader.status_code() == hs.status_code());
      CHECK(FieldList(reader.headers(), "connection").contains_token("close"));
      CHECK(reader.header("content-length") == std::to_string(response.size() - body_at));
      CHECK(response.size() > body_at);
    }
    CHECK(statuses == std::vector<int>{400, 405, 414, 426, 431});
  }
}

TEST_CASE("server: subprotocols and extensions", "[handshake][server]") {
  const std::string request = request_with(fields_except("") + "Sec-WebSocket-Protocol: chat, superchat\r\n"
                                                               "Sec-WebSocket-Protocol: v2.json\r\n");
  SECTION("the offered ones, across field lines") {
    ServerHandshake hs;
    REQUIRE(hs.feed(request).status == HandshakeStatus::accept);
    CHECK(to_vector(hs.subprotocols()) == std::vector<std::string_view>{"chat", "superchat", "v2.json"});
    CHECK(hs.subprotocols().contains("v2.json"));
    CHECK(!hs.subprotocols().contains("Chat"));
    CHECK(hs.subprotocols().contains_token("CHAT"));
    CHECK(hs.selected_subprotocol().empty());
    CHECK(hs.response().find("Sec-WebSocket-Protocol") == std::string_view::npos);
  }
  SECTION("a list: the server's first preference the client offered") {
    const std::string_view ours[] = {"mqtt", "v2.json", "chat"};
    const std::string answer = answer_of(request, ServerOptions{.subprotocols = ours});
    CHECK(answer.find("\r\nSec-WebSocket-Protocol: v2.json\r\n") != std::string::npos);
  }
  SECTION("a list without a match selects none") {
    const std::string_view ours[] = {"mqtt", "Chat"};  // names are case-sensitive
    CHECK(answer_of(request, ServerOptions{.subprotocols = ours}).find("Sec-WebSocket-Protocol") == std::string::npos);
  }
  SECTION("a callback over the offered ones") {
    ServerOptions options;
    options.select_subprotocol = [](const ServerHandshake& hs) {
      std::string_view last;
      for (std::string_view p : hs.subprotocols()) last = p;
      return last;
    };
    CHECK(answer_of(request, options).find("\r\nSec-WebSocket-Protocol: v2.json\r\n") != std::string::npos);
    options.select_subprotocol = [](const ServerHandshake&) { return "not-offered"sv; };
    CHECK(answer_of(request, options).find("Sec-WebSocket-Protocol") == std::string::npos);
  }
  SECTION("without ServerOptions::deflate, extensions are exposed, never echoed") {
    const std::string with_ext = request_with(fields_except("") +
                                              "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
                                              "x-foo; a=\"1,2\"\r\nSec-WebSocket-Extensions: x-bar\r\n");
    ServerHandshake hs;
    REQUIRE(hs.feed(with_ext).status == HandshakeStatus::accept);
    CHECK(to_vector(hs.extensions()) ==
          std::vector<std::string_view>{"permessage-deflate; client_max_window_bits", "x-foo; a=\"1,2\"", "x-bar"});
    CHECK(hs.response().find("Extensions") == std::string_view::npos);
  }
}

TEST_CASE("server: bytes after the request are handed back", "[handshake][server]") {
  const std::string frame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";  // masked "Hello" (RFC 6455 5.7)
  const Outcome o = serve(std::string(rfc_request) + frame);
  CHECK(o.status == HandshakeStatus::accept);
  CHECK(o.leftover == frame);
  SECTION("also when the request and the bytes after it overflow the buffer") {
    const Outcome big = serve(std::string(rfc_request) + std::string(20000, 'x'));
    CHECK(big.status == HandshakeStatus::accept);
    CHECK(big.leftover == std::string(20000, 'x'));
  }
}

TEST_CASE("server: garbage never crashes nor allocates", "[handshake][server][fuzz]") {
  const int rounds = test::quick() ? 200 : 2000;
  for (int round = 0; round < rounds; ++round) {
    std::string input;
    if (round % 2 == 0) {  // random bytes
      for (const std::byte b : test::random_bytes(test::rng()() % 600)) input += static_cast<char>(b);
    } else {  // a valid request with a few bytes replaced
      input = browser_request;
      for (int k = 0; k < 3; ++k) input[test::rng()() % input.size()] = static_cast<char>(test::rng()() & 0xff);
    }
    ServerOptions options;
    options.limits = {.max_head_bytes = 512, .max_fields = 8};
    ServerHandshake hs(options);
    const std::size_t before = allocations.load();
    const Outcome o = [&] {
      Outcome r{HandshakeStatus::need_more, Error::ok, 0, {}, {}};
      std::size_t i = 0;
      while (i < input.size() && r.status == HandshakeStatus::need_more) {
        const std::size_t n = std::min<std::size_t>(1 + test::rng()() % 50, input.size() - i);
        r.status = hs.feed(std::string_view(input).substr(i, n)).status;
        i += n;
      }
      return r;
    }();
    CHECK(allocations.load() == before);
    if (o.status == HandshakeStatus::reject) {
      CHECK(hs.error() != Error::ok);
      CHECK(!hs.response().empty());
    }
  }
}

// --- client ------------------------------------------------------------------------------------

namespace {
// The RFC's nonce: "the sample nonce", whose base64 is dGhlIHNhbXBsZSBub25jZQ==.
HandshakeNonce sample_nonce() {
  HandshakeNonce n;
  const std::string_view s = "the sample nonce";
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::byte>(s[i]);
  return n;
}

std::string response_with(std::string_view fields, std::string_view status_line = "HTTP/1.1 101 Switching Protocols") {
  return std::string(status_line) + "\r\n" + std::string(fields) + "\r\n";
}

Outcome validate(const ClientOptions& options, std::string_view response) {
  ClientHandshake whole(options, sample_nonce());
  const Outcome expected = feed_split(whole, response, Split::whole);
  for (Split split : {Split::byte_by_byte, Split::random}) {
    ClientHandshake hs(options, sample_nonce());
    CHECK(feed_split(hs, response, split) == expected);
  }
  return expected;
}

const std::string accept_line = "Sec-WebSocket-Accept: " + std::string(rfc_accept) + "\r\n";
const std::string good_fields = "Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept_line;
}  // namespace

TEST_CASE("client: the request", "[handshake][client]") {
  const std::string_view protocols[] = {"chat", "superchat"};
  const HttpField extra[] = {{"Authorization", "Bearer abc"}};
  ClientOptions options{.host = "server.example.com", .path = "/chat", .origin = "http://example.com",
                        .subprotocols = protocols, .extra_headers = extra};
  SECTION("RFC 6455 4.1: every required field, the key from the nonce") {
    ClientHandshake hs(options, sample_nonce());
    REQUIRE(hs.error() == Error::ok);
    CHECK(hs.key() == "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK(hs.request() ==
          "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
          "Authorization: Bearer abc\r\n\r\n");
  }
  SECTION("the nonce comes from getrandom: 16 fresh bytes per handshake") {
    ClientHandshake a(options), b(options);
    REQUIRE(a.error() == Error::ok);
    CHECK(a.key().size() == 24);
    CHECK(a.key() != b.key());
    HandshakeNonce n1{}, n2{};
    CHECK(random_nonce(n1) == Error::ok);
    CHECK(random_nonce(n2) == Error::ok);
    CHECK(n1 != n2);
  }
  SECTION("options that would inject or break the request are refused") {
    const std::string_view bad_protocol[] = {"a b"};
    const HttpField bad_header[] = {{"X-A", "v\r\nEvil: 1"}};
    const HttpField bad_name[] = {{"X A", "v"}};
    for (ClientOptions o : {ClientOptions{.host = ""}, ClientOptions{.host = "h\r\nEvil: 1"},
                            ClientOptions{.host = "h", .path = "chat"}, ClientOptions{.host = "h", .path = "/a b"},
                            ClientOptions{.host = "h", .origin = "x\ny"},
                            ClientOptions{.host = "h", .subprotocols = bad_protocol},
                            ClientOptions{.host = "h", .extra_headers = bad_header},
                            ClientOptions{.host = "h", .extra_headers = bad_name}}) {
      ClientHandshake hs(o, sample_nonce());
      CHECK(hs.error() == Error::handshake_invalid_option);
      CHECK(hs.request().empty());
      CHECK(hs.status() == HandshakeStatus::reject);
    }
  }
}

TEST_CASE("client: the checks of the server's answer (RFC 6455 4.1)", "[handshake][client]") {
  const std::string_view protocols[] = {"chat", "superchat"};
  const std::string_view extensions[] = {"permessage-deflate; client_max_window_bits"};
  const ClientOptions options{.host = "h", .subprotocols = protocols, .extensions = extensions};
  const auto error_of = [&](std::string_view response) { return validate(options, response).error; };

  SECTION("a valid 101 is accepted") {
    const Outcome o = validate(options, response_with(good_fields));
    CHECK(o.status == HandshakeStatus::accept);
    CHECK(o.status_code == 101);
  }
  SECTION("status 101, else an error carrying the status") {
    const Outcome o = validate(options, response_with("Location: /elsewhere\r\n", "HTTP/1.1 302 Found"));
    CHECK(o.status == HandshakeStatus::reject);
    CHECK(o.error == Error::handshake_unexpected_status);
    CHECK(o.status_code == 302);
    CHECK(error_of(response_with(good_fields, "HTTP/1.1 200 OK")) == Error::handshake_unexpected_status);
    CHECK(error_of(response_with(good_fields, "HTTP/1.1 101")) == Error::ok);
    for (std::string_view line : {"HTTP/1.1 1O1 Switching"sv, "HTTP/1.1  101 x"sv, "HTTP/1.1 1010"sv, "ICY 200 OK"sv,
                                  "HTTP/1.1 101 bad\x01"sv}) {
      CHECK(error_of(response_with(good_fields, line)) == Error::handshake_malformed_status_line);
    }
  }
  SECTION("Upgrade: websocket") {
    CHECK(error_of(response_with("Connection: Upgrade\r\n" + accept_line)) == Error::handshake_response_not_websocket);
    CHECK(error_of(response_with("Upgrade: h2c\r\nConnection: Upgrade\r\n" + accept_line)) ==
          Error::handshake_response_not_websocket);
    CHECK(error_of(response_with("upgrade: WEBSOCKET\r\nConnection: Upgrade\r\n" + accept_line)) == Error::ok);
  }
  SECTION("Connection: Upgrade") {
    CHECK(error_of(response_with("Upgrade: websocket\r\n" + accept_line)) == Error::handshake_response_not_upgrade);
    CHECK(error_of(response_with("Upgrade: websocket\r\nConnection: close\r\n" + accept_line)) ==
          Error::handshake_response_not_upgrade);
    CHECK(error_of(response_with("Upgrade: websocket\r\nConnection: keep-alive, upgrade\r\n" + accept_line)) ==
          Error::ok);
  }
  SECTION("Sec-WebSocket-Accept equals accept_key(our key)") {
    CHECK(error_of(response_with("Upgrade: websocket\r\nConnection: Upgrade\r\n")) == Error::handshake_missing_accept);
    CHECK(error_of(response_with(good_fields + accept_line)) == Error::handshake_missing_accept);
    CHECK(error_of(response_with("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n")) ==
          Error::handshake_accept_mismatch);
    CHECK(error_of(response_with("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n")) ==
          Error::handshake_accept_mismatch);
  }
  SECTION("a subprotocol among those offered, or none") {
    const Outcome o = validate(options, response_with(good_fields + "Sec-WebSocket-Protocol: superchat\r\n"));
    CHECK(o.error == Error::ok);
    ClientHandshake hs(options, sample_nonce());
    hs.feed(response_with(good_fields + "Sec-WebSocket-Protocol: superchat\r\n"));
    CHECK(hs.subprotocol() == "superchat");
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Protocol: mqtt\r\n")) ==
          Error::handshake_unoffered_subprotocol);
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Protocol: chat, superchat\r\n")) ==
          Error::handshake_unoffered_subprotocol);
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n")) ==
          Error::handshake_unoffered_subprotocol);
    CHECK(validate(ClientOptions{.host = "h"}, response_with(good_fields + "Sec-WebSocket-Protocol: chat\r\n")).error ==
          Error::handshake_unoffered_subprotocol);
  }
  SECTION("no extension we did not offer") {
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Extensions: x-foo\r\n")) ==
          Error::handshake_unoffered_extension);
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Extensions: permessage-deflate, x-foo\r\n")) ==
          Error::handshake_unoffered_extension);
    CHECK(error_of(response_with(good_fields + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")) ==
          Error::ok);
    CHECK(validate(ClientOptions{.host = "h"}, response_with(good_fields + "Sec-WebSocket-Extensions: permessage-deflate\r\n"))
              .error == Error::handshake_unoffered_extension);
  }
  SECTION("an answered extension may be any of those offered, each answered or several") {
    const std::string_view offered[] = {"x-first", "x-second; p=1", "x-third"};
    const ClientOptions several{.host = "h", .extensions = offered};
    for (std::string_view answer : {"x-first"sv, "x-second"sv, "x-third"sv, "x-third, x-first"sv}) {
      INFO(answer);
      CHECK(validate(several, response_with(good_fields + "Sec-WebSocket-Extensions: " + std::string(answer) + "\r\n"))
                .error == Error::ok);
    }
  }
  SECTION("malformed response fields and oversize heads are rejected") {
    CHECK(error_of(response_with(good_fields + "X-A: a\rb\r\n")) == Error::handshake_bad_line_ending);
    CHECK(error_of(response_with(good_fields + "X-A b\r\n")) == Error::handshake_malformed_field);
    CHECK(error_of(response_with(good_fields + "X-B: " + std::string(9000, 'b') + "\r\n")) ==
          Error::handshake_head_too_large);
    CHECK(error_of("HTTP/1.1 101 " + std::string(9000, 'r')) == Error::handshake_head_too_large);
  }
  SECTION("bytes after the response are handed back") {
    const std::string frame = "\x81\x05Hello";
    const Outcome o = validate(options, response_with(good_fields) + frame);
    CHECK(o.status == HandshakeStatus::accept);
    CHECK(o.leftover == frame);
  }
}

TEST_CASE("client: Host and extra headers (RFC 9112 3.2)", "[handshake][client]") {
  SECTION("ClientOptions::host must be host [\":\" port]; our server takes every one we send") {
    for (std::string_view h : valid_hosts) {
      INFO(h);
      ClientHandshake client(ClientOptions{.host = h}, sample_nonce());
      REQUIRE(client.error() == Error::ok);
      ServerHandshake server;
      CHECK(server.feed(client.request()).status == HandshakeStatus::accept);
      CHECK(server.host() == h);
    }
    for (std::string_view h : invalid_hosts) {
      INFO(h);
      ClientHandshake client(ClientOptions{.host = h}, sample_nonce());
      CHECK(client.error() == Error::handshake_invalid_option);
      CHECK(client.request().empty());
    }
  }
  SECTION("extra_headers may not name a field the request writes itself, in any case") {
    for (std::string_view name : {"Host"sv, "Upgrade"sv, "Connection"sv, "Origin"sv, "Sec-WebSocket-Key"sv,
                                  "Sec-WebSocket-Version"sv, "Sec-WebSocket-Protocol"sv, "Sec-WebSocket-Extensions"sv,
                                  "Content-Length"sv, "Transfer-Encoding"sv}) {
      std::string lower(name), upper(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (std::string_view spelled : {name, std::string_view(lower), std::string_view(upper)}) {
        INFO(spelled);
        const HttpField extra[] = {{"X-Before", "1"}, {spelled, "13"}};
        ClientHandshake hs(ClientOptions{.host = "h", .extra_headers = extra}, sample_nonce());
        CHECK(hs.error() == Error::handshake_reserved_extra_header);
        CHECK(hs.status() == HandshakeStatus::reject);
        CHECK(hs.request().empty());
      }
    }
  }
  SECTION("names that merely resemble them are sent, and our server accepts the request") {
    const HttpField extra[] = {{"X-Host", "a"}, {"Hostname", "b"}, {"Upgrade-Insecure-Requests", "1"},
                               {"Sec-WebSocket-Keys", "c"}, {"Sec-WebSocket-Accept", "d"}, {"Proxy-Connection", "e"}};
    ClientHandshake client(ClientOptions{.host = "h", .extra_headers = extra}, sample_nonce());
    REQUIRE(client.error() == Error::ok);
    ServerHandshake server;
    CHECK(server.feed(client.request()).status == HandshakeStatus::accept);
    CHECK(server.header("hostname") == "b");
  }
}

TEST_CASE("client: a 101 needs HTTP/1.1 or higher", "[handshake][client]") {
  const ClientOptions options{.host = "h"};
  CHECK(validate(options, response_with(good_fields, "HTTP/1.0 101 Switching Protocols")).error ==
        Error::handshake_response_http_version);
  CHECK(validate(options, response_with(good_fields, "HTTP/1.1 101 Switching Protocols")).error == Error::ok);
  CHECK(validate(options, response_with(good_fields, "HTTP/2.0 101 Switching Protocols")).error == Error::ok);
  SECTION("another status from an HTTP/1.0 server is reported as that status") {
    const Outcome o = validate(options, response_with("Content-Length: 0\r\n", "HTTP/1.0 403 Forbidden"));
    CHECK(o.error == Error::handshake_unexpected_status);
    CHECK(o.status_code == 403);
  }
}

TEST_CASE("round trip: our client against our server", "[handshake][client][server]") {
  const std::string_view client_protocols[] = {"v1.json", "v2.json"};
  const std::string_view server_protocols[] = {"v2.json"};
  const std::string_view client_extensions[] = {"permessage-deflate"};
  ClientHandshake client(ClientOptions{.host = "localhost:9001", .path = "/echo?x=1", .origin = "https://o.example",
                                       .subprotocols = client_protocols, .extensions = client_extensions});
  REQUIRE(client.error() == Error::ok);

  const std::string first_client_frame = "\x81\x80\x01\x02\x03\x04";  // masked empty text frame
  ServerHandshake server(ServerOptions{.subprotocols = server_protocols});
  const Outcome served = feed_split(server, std::string(client.request()) + first_client_frame, Split::random);
  REQUIRE(served.status == HandshakeStatus::accept);
  CHECK(served.leftover == first_client_frame);
  CHECK(server.path() == "/echo?x=1");
  CHECK(server.host() == "localhost:9001");
  CHECK(server.origin() == "https://o.example");
  CHECK(server.key() == client.key());
  CHECK(to_vector(server.extensions()) == std::vector<std::string_view>{"permessage-deflate"});

  const std::string first_server_frame = "\x81\x02hi";
  const Outcome validated = feed_split(client, std::string(server.response()) + first_server_frame, Split::byte_by_byte);
  CHECK(validated.error == Error::ok);
  REQUIRE(validated.status == HandshakeStatus::accept);
  CHECK(validated.leftover == first_server_frame);
  CHECK(client.subprotocol() == "v2.json");
  CHECK(client.extensions().empty());
}

TEST_CASE("every backend computes the same answer", "[handshake]") {
  const std::string expected = answer_of(browser_request, ServerOptions{.backend = &test::scalar_backend()});
  test::for_each_simd_backend([&](const Backend& b) {
    CHECK(answer_of(browser_request, ServerOptions{.backend = &b}) == expected);
    ClientHandshake hs(ClientOptions{.host = "h", .backend = &b}, sample_nonce());
    CHECK(hs.key() == "dGhlIHNhbXBsZSBub25jZQ==");
  });
}

TEST_CASE("handshake errors have messages, a status, and no close code", "[handshake][error]") {
  for (int i = static_cast<int>(Error::handshake_malformed_request_line);
       i <= static_cast<int>(Error::handshake_invalid_deflate_response); ++i) {
    const Error e = static_cast<Error>(i);
    INFO("error " << i);
    CHECK(message(e) != "unknown error");
    CHECK(close_code(e) == 0);
    CHECK((http_status(e) != 0) == (e < Error::handshake_invalid_option));
  }
}

// ---- Repeated field lines, in every order (RFC 9110 5.3: lines of the same name make one list) ----

namespace {
// Every ordering of `lines` (each a complete field line), for the repeated-field sections.
std::vector<std::string> orderings(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> all;
  do {
    std::string joined;
    for (const std::string& l : lines) joined += l;
    all.push_back(joined);
  } while (std::next_permutation(lines.begin(), lines.end()));
  return all;
}
}  // namespace

TEST_CASE("server: a field on two lines counts in every order", "[handshake][server][repeated]") {
  SECTION("Upgrade: websocket on either line is enough") {
    for (const std::string& u : orderings({"Upgrade: websocket\r\n", "Upgrade: h2c\r\n"}))
      check_accepted(request_with(fields_except(upgrade) + u));
    for (const std::string& u : orderings({"Upgrade: h2c\r\n", "Upgrade: websockets\r\n"}))
      check_rejected(request_with(fields_except(upgrade) + u), Error::handshake_upgrade_not_websocket, 400);
  }
  SECTION("Connection: Upgrade on either line is enough") {
    for (const std::string& c : orderings({"Connection: keep-alive\r\n", "Connection: Upgrade\r\n"}))
      check_accepted(request_with(fields_except(connection) + c));
    for (const std::string& c : orderings({"Connection: keep-alive\r\n", "Connection: close\r\n"}))
      check_rejected(request_with(fields_except(connection) + c), Error::handshake_connection_not_upgrade, 400);
  }
  SECTION("Sec-WebSocket-Version on two lines is refused whatever the values (426)") {
    for (const auto& [a, b] : {std::pair{"13", "13"}, {"13", "8"}, {"8", "13"}}) {
      const std::string v = std::string("Sec-WebSocket-Version: ") + a + "\r\nSec-WebSocket-Version: " + b + "\r\n";
      check_rejected(request_with(fields_except(version) + v), Error::handshake_unsupported_version, 426);
    }
  }
  SECTION("Host and Sec-WebSocket-Key on two lines are refused in every order") {
    for (const std::string& h : orderings({"Host: a\r\n", "Host: b\r\n"}))
      check_rejected(request_with(fields_except(host) + h), Error::handshake_duplicate_host, 400);
    for (const std::string& k : orderings({std::string(key), "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"}))
      check_rejected(request_with(fields_except(key) + k), Error::handshake_duplicate_key, 400);
  }
  SECTION("origin() is the first Origin line") {
    ServerHandshake hs;
    REQUIRE(hs.feed(request_with(fields_except("") + "Origin: https://a.example\r\nOrigin: https://b.example\r\n"))
                .status == HandshakeStatus::accept);
    CHECK(hs.origin() == "https://a.example");
  }
}

TEST_CASE("client: a response field on two lines counts in every order", "[handshake][client][repeated]") {
  const std::string_view protocols[] = {"chat", "superchat"};
  const std::string_view extensions[] = {"permessage-deflate"};
  const ClientOptions options{.host = "h", .subprotocols = protocols, .extensions = extensions};
  const auto error_of = [&](const std::string& fields) { return validate(options, response_with(fields)).error; };
  SECTION("Upgrade: websocket on either line is enough") {
    for (const std::string& u : orderings({"Upgrade: websocket\r\n", "Upgrade: h2c\r\n"}))
      CHECK(error_of(u + "Connection: Upgrade\r\n" + accept_line) == Error::ok);
  }
  SECTION("Connection: Upgrade on either line is enough") {
    for (const std::string& c : orderings({"Connection: keep-alive\r\n", "Connection: Upgrade\r\n"}))
      CHECK(error_of("Upgrade: websocket\r\n" + c + accept_line) == Error::ok);
  }
  SECTION("Sec-WebSocket-Accept on two lines is refused, even with the right value twice") {
    CHECK(error_of(good_fields + accept_line) == Error::handshake_missing_accept);
  }
  SECTION("a subprotocol on two lines is refused in every order") {
    for (const std::string& p : orderings({"Sec-WebSocket-Protocol: chat\r\n", "Sec-WebSocket-Protocol: superchat\r\n"}))
      CHECK(error_of(good_fields + p) == Error::handshake_unoffered_subprotocol);
    for (const std::string& p : orderings({"Sec-WebSocket-Protocol: chat\r\n", "Sec-WebSocket-Protocol: mqtt\r\n"}))
      CHECK(error_of(good_fields + p) == Error::handshake_unoffered_subprotocol);
  }
  SECTION("an extension we did not offer is noticed on either line and at either place in a list") {
    for (const std::string& e : orderings({"Sec-WebSocket-Extensions: permessage-deflate\r\n",
                                           "Sec-WebSocket-Extensions: x-foo\r\n"}))
      CHECK(error_of(good_fields + e) == Error::handshake_unoffered_extension);
    for (std::string_view list : {"x-foo, permessage-deflate"sv, "permessage-deflate, x-foo"sv})
      CHECK(error_of(good_fields + "Sec-WebSocket-Extensions: " + std::string(list) + "\r\n") ==
            Error::handshake_unoffered_extension);
  }
}

// ---- Every limit at value - 1, value and value + 1 ----

TEST_CASE("server: every limit at its value, one below and one above", "[handshake][server][limits]") {
  SECTION("max_head_bytes: a head of exactly the limit fits, one more byte does not") {
    const std::string base = request_with(fields_except("") + "X-Pad: \r\n");
    for (std::size_t limit : {std::size_t{200}, std::size_t{8192}}) {
      for (std::size_t size : {limit - 1, limit, limit + 1}) {
        const std::string request = request_with(fields_except("") + "X-Pad: " + std::string(size - base.size(), 'p') + "\r\n");
        REQUIRE(request.size() == size);
        INFO("limit " << limit << ", head of " << size << " bytes");
        const Outcome o = serve(request, ServerOptions{.limits = {.max_head_bytes = limit}});
        CHECK(o.error == (size <= limit ? Error::ok : Error::handshake_head_too_large));
      }
    }
  }
  SECTION("max_head_bytes: a request line that does not end inside the buffer is 414, one that does is not") {
    // The line with its CRLF: 199 bytes leave room for more, 200 fill the buffer with a head that
    // cannot end (431), 201 do not fit (414).
    const std::pair<std::size_t, Error> cases[] = {
        {199, Error::ok}, {200, Error::handshake_head_too_large}, {201, Error::handshake_request_line_too_large}};
    for (const auto& [size, error] : cases) {
      const std::string line = "GET /" + std::string(size - 16, 'a') + " HTTP/1.1\r\n";
      REQUIRE(line.size() == size);
      INFO("request line of " << size << " bytes with its CRLF");
      const Outcome o = serve(line, ServerOptions{.limits = {.max_head_bytes = 200}});
      CHECK(o.status == (size < 200 ? HandshakeStatus::need_more : HandshakeStatus::reject));
      CHECK(o.error == error);
    }
  }
  SECTION("max_fields: exactly the limit fits, one more line does not") {
    for (std::size_t limit : {std::size_t{6}, std::size_t{64}}) {
      for (std::size_t count : {limit - 1, limit, limit + 1}) {
        std::string fields = fields_except("");  // 5 lines
        for (std::size_t i = 5; i < count; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
        INFO("limit " << limit << ", " << count << " field lines");
        const Outcome o = serve(request_with(fields), ServerOptions{.limits = {.max_fields = limit}});
        CHECK(o.error == (count <= limit ? Error::ok : Error::handshake_too_many_fields));
      }
    }
  }
  SECTION("a subprotocol of max_subprotocol_size characters is selected, one longer is not") {
    for (std::size_t size : {ServerHandshake::max_subprotocol_size - 1, ServerHandshake::max_subprotocol_size,
                             ServerHandshake::max_subprotocol_size + 1}) {
      const std::string name(size, 'p');
      const std::string_view ours[] = {name};
      INFO("subprotocol of " << size << " characters");
      ServerHandshake hs(ServerOptions{.subprotocols = ours});
      REQUIRE(hs.feed(request_with(fields_except("") + "Sec-WebSocket-Protocol: " + name + "\r\n")).status ==
              HandshakeStatus::accept);
      CHECK(hs.selected_subprotocol() == (size <= ServerHandshake::max_subprotocol_size ? name : ""));
    }
  }
}

TEST_CASE("client: the head limit at its value, one below and one above", "[handshake][client][limits]") {
  const ClientOptions base{.host = "h"};
  const std::string fields = good_fields + "X-Pad: \r\n";
  const std::size_t bare = response_with(fields).size();
  SECTION("a head of exactly max_head_bytes fits, one more byte does not") {
    for (std::size_t size : {std::size_t{299}, std::size_t{300}, std::size_t{301}}) {
      ClientOptions options = base;
      options.limits = {.max_head_bytes = 300};
      const std::string response = response_with(good_fields + "X-Pad: " + std::string(size - bare, 'p') + "\r\n");
      REQUIRE(response.size() == size);
      INFO("response head of " << size << " bytes");
      CHECK(validate(options, response).error == (size <= 300 ? Error::ok : Error::handshake_head_too_large));
    }
  }
  SECTION("a status line filling the buffer is a head too large") {
    ClientOptions options = base;
    options.limits = {.max_head_bytes = 100};
    CHECK(validate(options, "HTTP/1.1 101 " + std::string(200, 'r')).error == Error::handshake_head_too_large);
  }
}

// ---- Syntax corners ----

TEST_CASE("server: request-target, method and field value corners", "[handshake][server]") {
  const std::string ok_fields = fields_except("");
  SECTION("an empty method is malformed (400), not a method other than GET (405)") {
    check_rejected(request_with(ok_fields, " / HTTP/1.1"), Error::handshake_malformed_request_line, 400);
  }
  SECTION("absolute-form: the scheme is ALPHA *( ALPHA / DIGIT / + / - / . ), not empty") {
    for (std::string_view line : {"GET ://a.example/ HTTP/1.1"sv, "GET 1ws://a.example/ HTTP/1.1"sv, "GET +ws://a/ HTTP/1.1"sv})
      check_rejected(request_with(ok_fields, line), Error::handshake_malformed_request_line, 400);
    check_accepted(request_with(ok_fields, "GET w1+.-s://a.example/ HTTP/1.1"));
  }
  SECTION("every obs-text byte 80..FF is a value character, short and long values") {
    for (int c = 0x80; c <= 0xff; ++c) {
      for (std::size_t length : {std::size_t{1}, std::size_t{12}}) {
        std::string value(length, 'v');
        value[length / 2] = static_cast<char>(c);
        INFO("byte " << c << " in a value of " << length);
        ServerHandshake hs;
        CHECK(hs.feed(request_with(ok_fields + "X-A: " + value + "\r\n")).status == HandshakeStatus::accept);
      }
    }
  }
  SECTION("every control byte but HTAB, and DEL, is refused at every position of short and long values") {
    for (int c = 0; c < 0x80; ++c) {
      if (c >= 0x20 && c != 0x7f) continue;
      if (c == '\r' || c == '\n') continue;  // line endings: their own rules
      for (std::size_t length : {std::size_t{1}, std::size_t{3}, std::size_t{9}, std::size_t{17}}) {
        for (std::size_t at = 0; at < length; ++at) {
          std::string value(length, 'v');
          value[at] = static_cast<char>(c);
          INFO("byte " << c << " at " << at << " of " << length);
          ServerHandshake hs;
          hs.feed(request_with(ok_fields + "X-A: " + value + "\r\n"));
          CHECK(hs.error() == (c == '\t' ? Error::ok : Error::handshake_malformed_field));
        }
      }
    }
  }
  SECTION("whitespace around a value is not part of it") {
    check_accepted(request_with(fields_except(version) + "Sec-WebSocket-Version:  \t13\t \r\n"));
    ServerHandshake hs;
    REQUIRE(hs.feed(request_with(ok_fields + "X-A: \t v \t\r\n")).status == HandshakeStatus::accept);
    CHECK(hs.header("x-a") == "v");
  }
}

TEST_CASE("client: status line and option corners", "[handshake][client]") {
  const ClientOptions options{.host = "h"};
  SECTION("the status code is followed by a space or the end of the line") {
    for (std::string_view line : {"HTTP/1.1 101X"sv, "HTTP/1.1 101\tSwitching"sv})
      CHECK(validate(options, response_with(good_fields, line)).error == Error::handshake_malformed_status_line);
  }
  SECTION("an empty subprotocol, or an extra header with whitespace around its value, is refused") {
    const std::string_view empty_protocol[] = {""};
    const HttpField padded[] = {{"X-A", " v"}};
    const HttpField trailing[] = {{"X-A", "v\t"}};
    for (const ClientOptions& o : {ClientOptions{.host = "h", .subprotocols = empty_protocol},
                                   ClientOptions{.host = "h", .extra_headers = padded},
                                   ClientOptions{.host = "h", .extra_headers = trailing}}) {
      ClientHandshake hs(o, sample_nonce());
      CHECK(hs.error() == Error::handshake_invalid_option);
    }
  }
}

TEST_CASE("server: field names are compared whole, and quoted-pairs escape in lists", "[handshake][server]") {
  SECTION("a name one character off is another field, at every position") {
    const std::pair<std::string_view, Error> required[] = {
        {host, Error::handshake_missing_host},
        {upgrade, Error::handshake_upgrade_not_websocket},
        {connection, Error::handshake_connection_not_upgrade},
        {version, Error::handshake_missing_version},
        {key, Error::handshake_missing_key}};
    for (const auto& [line, error] : required) {
      const std::size_t name_size = line.find(':');
      for (std::size_t at = 0; at < name_size; ++at) {
        std::string renamed(line);
        renamed[at] = renamed[at] == 'x' ? 'y' : 'x';
        INFO(renamed);
        ServerHandshake hs;
        hs.feed(request_with(fields_except(line) + renamed));
        CHECK(hs.error() == error);
      }
    }
  }
  SECTION("a backslash in a quoted string escapes the next character, a quote or a comma included") {
    ServerHandshake hs;
    REQUIRE(hs.feed(request_with(fields_except("") + "Sec-WebSocket-Extensions: x-a; p=\"q\\\", r\", x-b\r\n")).status ==
            HandshakeStatus::accept);
    CHECK(to_vector(hs.extensions()) == std::vector<std::string_view>{"x-a; p=\"q\\\", r\"", "x-b"});
  }
}
