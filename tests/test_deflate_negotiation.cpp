// permessage-deflate negotiation (RFC 7692 sections 5 and 7.1) in both handshakes: the server's
// choice among the offers and its answer, the client's offers and its checks of the answer, our
// client against our server, and the offers and answers of real peers.
#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "counting_new.hpp"
#include "support.hpp"

// Options are set with designated initializers, leaving the rest at their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace wsframe;
using namespace std::string_view_literals;

using wsframe::test::allocations;  // counting_new.hpp: feeding bytes must never allocate

namespace Catch {
template <>
struct StringMaker<DeflateParameters> {
  static std::string convert(const DeflateParameters& p) {
    return "{snct " + std::to_string(p.server_no_context_takeover) + ", cnct " +
           std::to_string(p.client_no_context_takeover) + ", smwb " + std::to_string(p.server_max_window_bits) +
           ", cmwb " + std::to_string(p.client_max_window_bits) + "}";
  }
};
}  // namespace Catch

namespace {

// Without zlib nothing is negotiated (deflate.hpp): the tests of what is negotiated then only
// check that (see "built without zlib").
bool negotiation_available() {
  if (!deflate_available()) WARN("built without zlib: permessage-deflate is never negotiated");
  return deflate_available();
}

// `head` (a start line and fields, each ending in CRLF) with each of `lines` as one more
// Sec-WebSocket-Extensions field line, and the empty line.
std::string with_extension_lines(std::string_view head, std::initializer_list<std::string_view> lines) {
  std::string r(head);
  for (std::string_view line : lines) r.append("Sec-WebSocket-Extensions: ").append(line).append("\r\n");
  return r + "\r\n";
}

// The value of the Sec-WebSocket-Extensions line of a head we wrote (there is at most one),
// "" when it has none.
std::string extensions_value(std::string_view head) {
  constexpr std::string_view field = "\r\nSec-WebSocket-Extensions: ";
  const std::size_t at = head.find(field);
  if (at == std::string_view::npos) return "";
  CHECK(head.find(field, at + 1) == std::string_view::npos);
  const std::size_t value = at + field.size();
  return std::string(head.substr(value, head.find("\r\n", value) - value));
}

// --- server side ---

// A valid request carrying each of `lines` as one Sec-WebSocket-Extensions field line.
std::string request_offering(std::initializer_list<std::string_view> lines) {
  return with_extension_lines("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
                              lines);
}

// What a server answered: the value of its Sec-WebSocket-Extensions line ("" when there is
// none) and its deflate().
struct Served {
  std::string answer;
  std::optional<DeflateParameters> agreed;
  bool operator==(const Served&) const = default;
};

Served served_by(const ServerHandshake& hs) { return {extensions_value(hs.response()), hs.deflate()}; }

// Serves `request` (whole, then byte by byte: the same answer) with these wishes; feeding
// allocates nothing.
Served serve(std::string_view request, std::optional<DeflateParameters> wishes) {
  ServerHandshake hs(ServerOptions{.deflate = wishes});
  const std::size_t before = allocations.load();
  const HandshakeStatus status = hs.feed(request).status;
  const std::size_t allocated = allocations.load() - before;
  REQUIRE(status == HandshakeStatus::accept);
  CHECK(allocated == 0);
  const Served whole = served_by(hs);
  ServerHandshake bytewise(ServerOptions{.deflate = wishes});
  for (char c : request) bytewise.feed(std::string_view(&c, 1));
  CHECK(served_by(bytewise) == whole);
  return whole;
}

Served serve_offer(std::string_view offer, std::optional<DeflateParameters> wishes = DeflateParameters{}) {
  return serve(request_offering({offer}), wishes);
}

const Served declined{"", std::nullopt};

// One row of a server table: the client's Sec-WebSocket-Extensions value, the server's wishes,
// the expected answer and agreement.
struct ServerRow {
  std::string_view offer;
  DeflateParameters wishes;
  std::string_view answer;
  DeflateParameters agreed;
};

void check_rows(std::initializer_list<ServerRow> rows) {
  for (const ServerRow& row : rows) {
    INFO("offer: " << row.offer << "; wishes: " << Catch::StringMaker<DeflateParameters>::convert(row.wishes));
    CHECK(serve_offer(row.offer, row.wishes) == Served{std::string(row.answer), row.agreed});
  }
}

void check_declined(std::initializer_list<std::string_view> offers) {
  for (std::string_view offer : offers) {
    INFO("offer: " << offer);
    CHECK(serve_offer(offer) == declined);
  }
}

// An offer of the grid: each parameter absent or present, window values 8..15.
struct GridOffer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  // 0: absent
  int client_max_window_bits = 0;  // 0: absent, -1: present without a value
};

// The answer and agreement for offer `o` under wishes `w`, spelt out from the rules of RFC 7692
// 7.1 as deflate.hpp words them: the oracle of the grid.
Served expected_answer(const GridOffer& o, const DeflateParameters& w) {
  DeflateParameters a;
  std::string answer = "permessage-deflate";
  a.server_no_context_takeover = o.server_no_context_takeover || w.server_no_context_takeover;
  if (a.server_no_context_takeover) answer += "; server_no_context_takeover";
  a.client_no_context_takeover = o.client_no_context_takeover || w.client_no_context_takeover;
  if (a.client_no_context_takeover) answer += "; client_no_context_takeover";
  a.server_max_window_bits = std::min<std::uint8_t>(o.server_max_window_bits != 0 ? o.server_max_window_bits : 15,
                                                    w.server_max_window_bits);
  if (o.server_max_window_bits != 0 || a.server_max_window_bits < 15)
    answer += "; server_max_window_bits=" + std::to_string(a.server_max_window_bits);
  if (o.client_max_window_bits > 0) a.client_max_window_bits = std::min<std::uint8_t>(o.client_max_window_bits, w.client_max_window_bits);
  if (o.client_max_window_bits == -1) a.client_max_window_bits = w.client_max_window_bits;
  if (o.client_max_window_bits > 0 || (o.client_max_window_bits == -1 && a.client_max_window_bits < 15))
    answer += "; client_max_window_bits=" + std::to_string(a.client_max_window_bits);
  return {answer, a};
}

// `o` as some client might write it: parameters in any order, names in any case, optional
// whitespace around ";" and "=", values quoted or not.
std::string write_offer(const GridOffer& o, std::mt19937_64& rng) {
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto any_case = [&](std::string_view s) {
    std::string out(s);
    const int style = pick(3);  // as written, upper case, mixed
    for (char& c : out)
      if (style == 1 || (style == 2 && pick(2) == 0)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  };
  const auto ows = [&] { return std::string_view(" \t  "sv).substr(0, static_cast<std::size_t>(pick(4))); };
  const auto with_value = [&](std::string_view name, int bits) {
    std::string value = std::to_string(bits);
    if (pick(3) == 0) value = '"' + value + '"';
    return any_case(name) + std::string(ows()) + "=" + std::string(ows()) + value;
  };
  std::vector<std::string> params;
  if (o.server_no_context_takeover) params.push_back(any_case("server_no_context_takeover"));
  if (o.client_no_context_takeover) params.push_back(any_case("client_no_context_takeover"));
  if (o.server_max_window_bits != 0) params.push_back(with_value("server_max_window_bits", o.server_max_window_bits));
  if (o.client_max_window_bits == -1) params.push_back(any_case("client_max_window_bits"));
  if (o.client_max_window_bits > 0) params.push_back(with_value("client_max_window_bits", o.client_max_window_bits));
  std::shuffle(params.begin(), params.end(), rng);
  std::string offer = any_case("permessage-deflate");
  for (const std::string& p : params) offer.append(ows()).append(";").append(ows()).append(p);
  return offer;
}

// --- client side ---

// The RFC's nonce: "the sample nonce", whose base64 is dGhlIHNhbXBsZSBub25jZQ==.
HandshakeNonce sample_nonce() {
  HandshakeNonce n;
  const std::string_view s = "the sample nonce";
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::byte>(s[i]);
  return n;
}

// A valid 101 to the sample nonce carrying each of `lines` as a Sec-WebSocket-Extensions line.
std::string response_answering(std::initializer_list<std::string_view> lines) {
  return with_extension_lines("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
                              lines);
}

// What the client made of an answer: its error (ok on accept) and deflate().
struct Validated {
  Error error;
  std::optional<DeflateParameters> agreed;
  bool operator==(const Validated&) const = default;
};

Validated validate(const ClientOptions& options, std::string_view response) {
  ClientHandshake hs(options, sample_nonce());
  REQUIRE(hs.error() == Error::ok);
  const HandshakeStatus status = hs.feed(response).status;
  CHECK(status != HandshakeStatus::need_more);
  CHECK((status == HandshakeStatus::accept) == (hs.error() == Error::ok));
  ClientHandshake bytewise(options, sample_nonce());
  for (char c : response) bytewise.feed(std::string_view(&c, 1));
  CHECK(bytewise.error() == hs.error());
  CHECK(bytewise.deflate() == hs.deflate());
  return {hs.error(), hs.deflate()};
}

Validated validate_offers(std::span<const DeflateParameters> offers, std::initializer_list<std::string_view> answer_lines) {
  return validate(ClientOptions{.host = "h", .deflate_offers = offers}, response_answering(answer_lines));
}

// The Sec-WebSocket-Extensions value of the request for these options ("" when it has none).
std::string offered_for(std::span<const DeflateParameters> offers, std::span<const std::string_view> extensions = {}) {
  ClientHandshake hs(ClientOptions{.host = "h", .extensions = extensions, .deflate_offers = offers}, sample_nonce());
  REQUIRE(hs.error() == Error::ok);
  return extensions_value(hs.request());
}

const Validated invalid_answer{Error::handshake_invalid_deflate_response, std::nullopt};

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("server: the answer to one valid offer (RFC 7692 7.1)", "[deflate_negotiation][server]") {
  if (!negotiation_available()) return;
  using P = DeflateParameters;
  SECTION("an offer without parameters is accepted as it is under default wishes") {
    check_rows({{"permessage-deflate", P{}, "permessage-deflate", P{}}});
  }
  SECTION("server_no_context_takeover is answered when offered or wished (7.1.1.1)") {
    check_rows({
        {"permessage-deflate; server_no_context_takeover", P{}, "permessage-deflate; server_no_context_takeover",
         P{.server_no_context_takeover = true}},
        {"permessage-deflate", P{.server_no_context_takeover = true}, "permessage-deflate; server_no_context_takeover",
         P{.server_no_context_takeover = true}},
    });
  }
  SECTION("client_no_context_takeover is answered and agreed when offered or wished (7.1.1.2)") {
    check_rows({
        {"permessage-deflate; client_no_context_takeover", P{}, "permessage-deflate; client_no_context_takeover",
         P{.client_no_context_takeover = true}},
        {"permessage-deflate", P{.client_no_context_takeover = true}, "permessage-deflate; client_no_context_takeover",
         P{.client_no_context_takeover = true}},
    });
  }
  SECTION("server_max_window_bits: the smaller of request and wish, answered when requested or below 15 (7.1.2.1)") {
    check_rows({
        {"permessage-deflate; server_max_window_bits=10", P{}, "permessage-deflate; server_max_window_bits=10",
         P{.server_max_window_bits = 10}},
        {"permessage-deflate; server_max_window_bits=10", P{.server_max_window_bits = 9},
         "permessage-deflate; server_max_window_bits=9", P{.server_max_window_bits = 9}},
        {"permessage-deflate; server_max_window_bits=10", P{.server_max_window_bits = 12},
         "permessage-deflate; server_max_window_bits=10", P{.server_max_window_bits = 10}},
        {"permessage-deflate; server_max_window_bits=15", P{}, "permessage-deflate; server_max_window_bits=15", P{}},
        {"permessage-deflate", P{.server_max_window_bits = 11}, "permessage-deflate; server_max_window_bits=11",
         P{.server_max_window_bits = 11}},
    });
  }
  SECTION("client_max_window_bits: limited only when offered, never above the offered value (7.1.2.2)") {
    check_rows({
        {"permessage-deflate; client_max_window_bits", P{}, "permessage-deflate", P{}},
        {"permessage-deflate; client_max_window_bits", P{.client_max_window_bits = 10},
         "permessage-deflate; client_max_window_bits=10", P{.client_max_window_bits = 10}},
        {"permessage-deflate; client_max_window_bits=12", P{}, "permessage-deflate; client_max_window_bits=12",
         P{.client_max_window_bits = 12}},
        {"permessage-deflate; client_max_window_bits=12", P{.client_max_window_bits = 9},
         "permessage-deflate; client_max_window_bits=9", P{.client_max_window_bits = 9}},
        {"permessage-deflate; client_max_window_bits=12", P{.client_max_window_bits = 13},
         "permessage-deflate; client_max_window_bits=12", P{.client_max_window_bits = 12}},
        {"permessage-deflate; client_max_window_bits=15", P{}, "permessage-deflate; client_max_window_bits=15", P{}},
        {"permessage-deflate", P{.client_max_window_bits = 10}, "permessage-deflate", P{}},
    });
  }
  SECTION("every window value 8..15, for both windows") {
    for (std::uint8_t bits = 8; bits <= 15; ++bits) {
      const std::string n = std::to_string(bits);
      const std::string offer = "permessage-deflate; server_max_window_bits=" + n + "; client_max_window_bits=" + n;
      INFO(offer);
      CHECK(serve_offer(offer) == Served{offer, P{.server_max_window_bits = bits, .client_max_window_bits = bits}});
      CHECK(serve_offer("permessage-deflate; client_max_window_bits",
                        P{.server_max_window_bits = bits, .client_max_window_bits = bits}) ==
            Served{bits == 15 ? "permessage-deflate"
                              : "permessage-deflate; server_max_window_bits=" + n + "; client_max_window_bits=" + n,
                   P{.server_max_window_bits = bits, .client_max_window_bits = bits}});
    }
  }
  SECTION("every parameter together, answered in a fixed order") {
    check_rows({{"permessage-deflate; client_max_window_bits=9; server_max_window_bits=10; client_no_context_takeover; "
                 "server_no_context_takeover",
                 P{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                      "server_max_window_bits=10; client_max_window_bits=9",
                 P{true, true, 10, 9}}});
  }
  SECTION("a quoted value is unquoted, escapes included (7.1)") {
    check_rows({
        {"permessage-deflate; server_max_window_bits=\"10\"", P{}, "permessage-deflate; server_max_window_bits=10",
         P{.server_max_window_bits = 10}},
        {"permessage-deflate; client_max_window_bits=\"9\"", P{}, "permessage-deflate; client_max_window_bits=9",
         P{.client_max_window_bits = 9}},
        {"permessage-deflate; client_max_window_bits=\"\\1\\1\"", P{}, "permessage-deflate; client_max_window_bits=11",
         P{.client_max_window_bits = 11}},
    });
  }
  SECTION("names are case-insensitive and whitespace around ; and = is optional") {
    check_rows({
        {"PerMessage-Deflate;Server_No_Context_Takeover;CLIENT_MAX_WINDOW_BITS = 9", P{},
         "permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
         P{.server_no_context_takeover = true, .client_max_window_bits = 9}},
        {"permessage-deflate \t;\tserver_max_window_bits\t=\t\"11\"  ;  client_max_window_bits", P{},
         "permessage-deflate; server_max_window_bits=11", P{.server_max_window_bits = 11}},
    });
  }
  SECTION("wishes outside 8..15 are taken as the nearest bound") {
    check_rows({{"permessage-deflate; client_max_window_bits", P{.server_max_window_bits = 4, .client_max_window_bits = 200},
                 "permessage-deflate; server_max_window_bits=8", P{.server_max_window_bits = 8}}});
  }
}

TEST_CASE("server: the grid of offers and wishes against the rules (RFC 7692 7.1)", "[deflate_negotiation][server]") {
  if (!negotiation_available()) return;
  std::mt19937_64 rng(test::rng()());
  std::vector<int> wish_bits = {8, 9, 10, 11, 12, 13, 14, 15};
  if (test::quick()) wish_bits = {8, 12, 15};
  std::vector<std::pair<GridOffer, DeflateParameters>> cases;
  for (int flags = 0; flags < 4; ++flags)
    for (int smwb : {0, 8, 9, 10, 11, 12, 13, 14, 15})
      for (int cmwb : {0, -1, 8, 9, 10, 11, 12, 13, 14, 15})
        for (int wish_flags = 0; wish_flags < 4; ++wish_flags)
          for (int wish_smwb : wish_bits)
            for (int wish_cmwb : wish_bits)
              cases.push_back({GridOffer{(flags & 1) != 0, (flags & 2) != 0, smwb, cmwb},
                               DeflateParameters{(wish_flags & 1) != 0, (wish_flags & 2) != 0,
                                                 static_cast<std::uint8_t>(wish_smwb), static_cast<std::uint8_t>(wish_cmwb)}});
  // One ServerHandshake per wish, reset between requests (reset() clears the agreement).
  std::size_t mismatches = 0;
  std::optional<DeflateParameters> current_wishes;
  std::optional<ServerHandshake> hs;
  for (const auto& [offer, wishes] : cases) {
    if (current_wishes != wishes) hs.emplace(ServerOptions{.deflate = wishes}), current_wishes = wishes;
    hs->reset();
    const std::string text = write_offer(offer, rng);
    const std::string request = request_offering({text});
    const std::size_t before = allocations.load();
    const HandshakeStatus status = hs->feed(request).status;
    const bool allocated = allocations.load() != before;
    const Served expected = expected_answer(offer, wishes);
    const Served got = served_by(*hs);
    if (status != HandshakeStatus::accept || allocated || got != expected) {
      INFO("offer: " << text << "; wishes: " << Catch::StringMaker<DeflateParameters>::convert(wishes));
      CHECK(status == HandshakeStatus::accept);
      CHECK(!allocated);
      CHECK(got == expected);
      if (++mismatches == 10) FAIL("more than 10 mismatches");
    }
  }
  CHECK(mismatches == 0);
  INFO(cases.size() << " cases");
  CHECK(cases.size() >= 360 * 4 * 9);
}

TEST_CASE("server: malformed offers are declined (RFC 7692 5)", "[deflate_negotiation][server]") {
  if (!negotiation_available()) return;
  SECTION("an unknown parameter") {
    check_declined({"permessage-deflate; x-unknown", "permessage-deflate; mux=1", "permessage-deflate; client_max_window",
                    "permessage-deflate; server_max_window_bits=10; x=\"y\""});
  }
  SECTION("a repeated parameter, whatever its case") {
    check_declined({"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "permessage-deflate; client_no_context_takeover; CLIENT_NO_CONTEXT_TAKEOVER",
                    "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
                    "permessage-deflate; client_max_window_bits; client_max_window_bits=9"});
  }
  SECTION("a window value that is not 8..15 in decimal without a leading zero") {
    for (std::string_view value : {"7", "16", "08", "015", "0", "1a", "-9", "+9", "9.0", "1e1", "\"\"", "\"7\"",
                                   "\"16\"", "\" 9\"", "\"9 \"", "\"9", "9\"", "\"0x9\"", "\"115\"", "१०"}) {
      for (std::string_view name : {"server_max_window_bits", "client_max_window_bits"}) {
        const std::string offer = "permessage-deflate; " + std::string(name) + "=" + std::string(value);
        INFO(offer);
        CHECK(serve_offer(offer) == declined);
      }
    }
  }
  SECTION("an empty value") {
    check_declined({"permessage-deflate; server_max_window_bits=", "permessage-deflate; client_max_window_bits=",
                    "permessage-deflate; client_max_window_bits = ; server_no_context_takeover"});
  }
  SECTION("a value on server_no_context_takeover or client_no_context_takeover (7.1.1)") {
    check_declined({"permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_no_context_takeover=\"\"",
                    "permessage-deflate; client_no_context_takeover=true"});
  }
  SECTION("server_max_window_bits without a value (7.1.2.1)") {
    check_declined({"permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits; client_max_window_bits"});
  }
  SECTION("broken parameter syntax") {
    check_declined({"permessage-deflate;", "permessage-deflate;;server_no_context_takeover", "permessage-deflate; =9",
                    "permessage-deflate; client_max_window_bits=9 10", "permessage-deflate; client_max_window_bits 9",
                    "permessage-deflate; server_max_window_bits==9", "permessage-deflate; \"server_no_context_takeover\"",
                    "permessage-deflate; server_no_context_takeover client_no_context_takeover",
                    "permessage-deflate server_no_context_takeover"});
  }
}

TEST_CASE("server: choosing among offers (RFC 7692 5)", "[deflate_negotiation][server]") {
  if (!negotiation_available()) return;
  const DeflateParameters defaults{};
  SECTION("the first valid offer is accepted, in the client's order") {
    CHECK(serve_offer("permessage-deflate; server_max_window_bits=10, permessage-deflate") ==
          Served{"permessage-deflate; server_max_window_bits=10", DeflateParameters{.server_max_window_bits = 10}});
    CHECK(serve_offer("permessage-deflate, permessage-deflate; server_max_window_bits=10") ==
          Served{"permessage-deflate", defaults});
  }
  SECTION("malformed offers before it are skipped") {
    CHECK(serve_offer("permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=10") ==
          Served{"permessage-deflate; client_max_window_bits=10", DeflateParameters{.client_max_window_bits = 10}});
    CHECK(serve_offer("permessage-deflate; x, permessage-deflate; server_no_context_takeover=1, "
                      "permessage-deflate; server_no_context_takeover") ==
          Served{"permessage-deflate; server_no_context_takeover", DeflateParameters{.server_no_context_takeover = true}});
    CHECK(serve_offer("permessage-deflate; x, permessage-deflate; server_max_window_bits") == declined);
  }
  SECTION("other extensions are skipped and never echoed") {
    CHECK(serve_offer("x-foo, permessage-deflate; client_max_window_bits=10, x-bar; a=\"1,2\"") ==
          Served{"permessage-deflate; client_max_window_bits=10", DeflateParameters{.client_max_window_bits = 10}});
    CHECK(serve_offer("x-webkit-deflate-frame") == declined);
    CHECK(serve_offer("x-foo; permessage-deflate") == declined);                // a parameter of x-foo
    CHECK(serve_offer("x-foo; a=\"permessage-deflate, b\"") == declined);      // inside a quoted string
    CHECK(serve_offer("permessage-deflate-x, deflate-frame") == declined);
  }
  SECTION("offers on several field lines are taken in order") {
    CHECK(serve(request_offering({"x-foo, permessage-deflate; server_max_window_bits=20",
                                  "permessage-deflate; server_max_window_bits=9, permessage-deflate"}),
                defaults) ==
          Served{"permessage-deflate; server_max_window_bits=9", DeflateParameters{.server_max_window_bits = 9}});
    CHECK(serve(request_offering({"permessage-deflate; client_no_context_takeover", "permessage-deflate"}), defaults) ==
          Served{"permessage-deflate; client_no_context_takeover", DeflateParameters{.client_no_context_takeover = true}});
  }
  SECTION("no offer: no answer") {
    CHECK(serve(request_offering({}), defaults) == declined);
    CHECK(serve(request_offering({"x-foo"}), defaults) == declined);
  }
}

TEST_CASE("server: no agreement unless enabled and accepted", "[deflate_negotiation][server]") {
  const std::string request = request_offering({"permessage-deflate; client_max_window_bits"});
  SECTION("without ServerOptions::deflate every offer is declined") {
    CHECK(serve(request, std::nullopt) == declined);
  }
  SECTION("a rejected request has no agreement") {
    std::string bad = request;
    bad.replace(bad.find("Version: 13"), 11, "Version: 12");
    ServerHandshake hs(ServerOptions{.deflate = DeflateParameters{}});
    CHECK(hs.feed(bad).status == HandshakeStatus::reject);
    CHECK(!hs.deflate());
    CHECK(hs.response().find("Extensions") == std::string_view::npos);
  }
  SECTION("nothing before the request is complete") {
    ServerHandshake hs(ServerOptions{.deflate = DeflateParameters{}});
    CHECK(hs.feed(std::string_view(request).substr(0, request.size() - 2)).status == HandshakeStatus::need_more);
    CHECK(!hs.deflate());
  }
  SECTION("reset() clears the agreement") {
    if (!negotiation_available()) return;
    ServerHandshake hs(ServerOptions{.deflate = DeflateParameters{.server_max_window_bits = 10}});
    REQUIRE(hs.feed(request).status == HandshakeStatus::accept);
    CHECK(hs.deflate() == DeflateParameters{.server_max_window_bits = 10});
    hs.reset();
    CHECK(!hs.deflate());
    REQUIRE(hs.feed(request_offering({})).status == HandshakeStatus::accept);
    CHECK(!hs.deflate());
    CHECK(served_by(hs) == declined);
  }
}

TEST_CASE("built without zlib nothing is negotiated", "[deflate_negotiation]") {
  if (deflate_available()) return;
  const DeflateParameters offers[] = {{}};
  CHECK(serve(request_offering({"permessage-deflate"}), DeflateParameters{}) == declined);
  CHECK(offered_for(offers).empty());
  CHECK(validate_offers(offers, {"permessage-deflate"}).error == Error::handshake_unoffered_extension);
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("client: the offers (RFC 7692 7.1)", "[deflate_negotiation][client]") {
  if (!negotiation_available()) return;
  SECTION("one element per offer, in order, before the other extensions, on one line") {
    const DeflateParameters offers[] = {{},
                                        {.client_max_window_bits = 12},
                                        {true, true, 10, 9}};
    const std::string_view extensions[] = {"x-foo; a=1"};
    ClientHandshake hs(ClientOptions{.host = "h", .extensions = extensions, .deflate_offers = offers}, sample_nonce());
    REQUIRE(hs.error() == Error::ok);
    CHECK(hs.request() ==
          "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
          "permessage-deflate; client_max_window_bits=12, "
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
          "client_max_window_bits=9, x-foo; a=1\r\n\r\n");
  }
  SECTION("each parameter alone; window values of 15 are not written, client_max_window_bits always is") {
    using P = DeflateParameters;
    const std::pair<P, std::string_view> rows[] = {
        {P{}, "permessage-deflate; client_max_window_bits"},
        {P{.server_no_context_takeover = true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
        {P{.client_no_context_takeover = true}, "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
        {P{.server_max_window_bits = 8}, "permessage-deflate; server_max_window_bits=8; client_max_window_bits"},
        {P{.server_max_window_bits = 14}, "permessage-deflate; server_max_window_bits=14; client_max_window_bits"},
        {P{.server_max_window_bits = 15}, "permessage-deflate; client_max_window_bits"},
        {P{.client_max_window_bits = 8}, "permessage-deflate; client_max_window_bits=8"},
        {P{.client_max_window_bits = 15}, "permessage-deflate; client_max_window_bits"},
    };
    for (const auto& [offer, text] : rows) {
      const DeflateParameters one[] = {offer};
      CHECK(offered_for(one) == text);
    }
  }
  SECTION("no offers: no permessage-deflate") {
    CHECK(offered_for({}).empty());
    const std::string_view extensions[] = {"x-foo"};
    CHECK(offered_for({}, extensions) == "x-foo");
  }
  SECTION("window bits outside 8..15 are invalid options") {
    for (std::uint8_t bits : {0, 7, 16, 255}) {
      for (const DeflateParameters& offer : {DeflateParameters{.server_max_window_bits = bits},
                                             DeflateParameters{.client_max_window_bits = bits}}) {
        const DeflateParameters offers[] = {{}, offer};
        ClientHandshake hs(ClientOptions{.host = "h", .deflate_offers = offers}, sample_nonce());
        CHECK(hs.error() == Error::handshake_invalid_option);
        CHECK(hs.status() == HandshakeStatus::reject);
        CHECK(hs.request().empty());
      }
    }
  }
  SECTION("offers and a permessage-deflate element in extensions together are an invalid option") {
    const DeflateParameters offers[] = {{}};
    const std::string_view extensions[] = {"x-foo", "PerMessage-Deflate ; client_max_window_bits"};
    ClientHandshake hs(ClientOptions{.host = "h", .extensions = extensions, .deflate_offers = offers}, sample_nonce());
    CHECK(hs.error() == Error::handshake_invalid_option);
  }
}

TEST_CASE("client: the checks of the answer (RFC 7692 5, 7.1)", "[deflate_negotiation][client]") {
  if (!negotiation_available()) return;
  using P = DeflateParameters;
  // "permessage-deflate; client_max_window_bits": what browsers offer.
  const DeflateParameters plain[] = {{}};
  SECTION("no answer: accepted without compression") {
    CHECK(validate_offers(plain, {}) == Validated{Error::ok, std::nullopt});
  }
  SECTION("a valid answer gives the agreement") {
    const std::pair<std::string_view, P> rows[] = {
        {"permessage-deflate", P{}},
        {"permessage-deflate; server_no_context_takeover", P{.server_no_context_takeover = true}},
        {"permessage-deflate; client_no_context_takeover", P{.client_no_context_takeover = true}},
        {"permessage-deflate; server_max_window_bits=9", P{.server_max_window_bits = 9}},  // limited unasked
        {"permessage-deflate; server_max_window_bits=15", P{}},
        {"permessage-deflate; client_max_window_bits=8", P{.client_max_window_bits = 8}},
        {"permessage-deflate; client_max_window_bits=15", P{}},
        {"PERMESSAGE-DEFLATE ;Client_Max_Window_Bits = \"10\"", P{.client_max_window_bits = 10}},
        {"permessage-deflate; client_max_window_bits=9; server_max_window_bits=11; client_no_context_takeover; "
         "server_no_context_takeover",
         P{true, true, 11, 9}},
    };
    for (const auto& [answer, agreed] : rows) {
      INFO(answer);
      CHECK(validate_offers(plain, {answer}) == Validated{Error::ok, agreed});
    }
  }
  SECTION("a malformed answer fails the handshake") {
    for (std::string_view answer :
         {"permessage-deflate; client_max_window_bits",  // an answer gives the value (7.1.2.2)
          "permessage-deflate; server_max_window_bits",  // 7.1.2.1
          "permessage-deflate; x=1", "permessage-deflate; mux",
          "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
          "permessage-deflate; client_max_window_bits=9; Client_Max_Window_Bits=9",
          "permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_no_context_takeover=\"\"",
          "permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=16",
          "permessage-deflate; client_max_window_bits=08", "permessage-deflate; client_max_window_bits=1a",
          "permessage-deflate; client_max_window_bits=\"\"", "permessage-deflate; client_max_window_bits=",
          "permessage-deflate;", "permessage-deflate; client_max_window_bits=9 9"}) {
      INFO(answer);
      CHECK(validate_offers(plain, {answer}) == invalid_answer);
    }
  }
  SECTION("at most one permessage-deflate element") {
    CHECK(validate_offers(plain, {"permessage-deflate, permessage-deflate"}) == invalid_answer);
    CHECK(validate_offers(plain, {"permessage-deflate", "permessage-deflate; server_no_context_takeover"}) == invalid_answer);
  }
  SECTION("other extensions stay unoffered, whatever the deflate answer") {
    CHECK(validate_offers(plain, {"x-foo"}).error == Error::handshake_unoffered_extension);
    CHECK(validate_offers(plain, {"permessage-deflate, x-foo"}).error == Error::handshake_unoffered_extension);
  }
  SECTION("the answer must fit an offer: requested parameters honoured (7.1.1.1, 7.1.2.1, 7.1.2.2)") {
    const DeflateParameters demanding[] = {{true, true, 10, 12}};
    CHECK(validate_offers(demanding, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}) ==
          Validated{Error::ok, P{true, true, 10, 12}});  // cnct and cmwb=12 as offered
    CHECK(validate_offers(demanding, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=8; "
                                      "client_max_window_bits=9"}) == Validated{Error::ok, P{true, true, 8, 9}});
    CHECK(validate_offers(demanding, {"permessage-deflate; server_max_window_bits=10"}) == invalid_answer);  // no snct
    CHECK(validate_offers(demanding, {"permessage-deflate; server_no_context_takeover"}) == invalid_answer);  // no smwb
    CHECK(validate_offers(demanding, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=11"}) ==
          invalid_answer);
    CHECK(validate_offers(demanding, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
                                      "client_max_window_bits=13"}) == invalid_answer);
  }
  SECTION("several offers: the first one the answer fits gives the agreement") {
    const DeflateParameters offers[] = {{.server_no_context_takeover = true, .server_max_window_bits = 9},
                                        {.client_max_window_bits = 10}};
    // Fits only the second (the first asks for server_no_context_takeover).
    CHECK(validate_offers(offers, {"permessage-deflate; client_max_window_bits=10"}) ==
          Validated{Error::ok, P{.client_max_window_bits = 10}});
    CHECK(validate_offers(offers, {"permessage-deflate"}) == Validated{Error::ok, P{.client_max_window_bits = 10}});
    // Fits both: the first wins (its client window was not limited).
    CHECK(validate_offers(offers, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=9"}) ==
          Validated{Error::ok, P{.server_no_context_takeover = true, .server_max_window_bits = 9}});
    // Fits neither.
    CHECK(validate_offers(offers, {"permessage-deflate; client_max_window_bits=11"}) == invalid_answer);
    const DeflateParameters reversed[] = {offers[1], offers[0]};
    CHECK(validate_offers(reversed, {"permessage-deflate; server_no_context_takeover; server_max_window_bits=9"}) ==
          Validated{Error::ok, P{.server_no_context_takeover = true, .server_max_window_bits = 9, .client_max_window_bits = 10}});
  }
  SECTION("a permessage-deflate element in extensions alone is sent as given and not checked") {
    const std::string_view extensions[] = {"permessage-deflate; client_max_window_bits"};
    const ClientOptions options{.host = "h", .extensions = extensions};
    CHECK(validate(options, response_answering({"permessage-deflate; client_max_window_bits=99; x"})) ==
          Validated{Error::ok, std::nullopt});
  }
  SECTION("an answer when nothing was offered is an unoffered extension") {
    CHECK(validate_offers({}, {"permessage-deflate"}).error == Error::handshake_unoffered_extension);
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("round trip: our client against our server agree", "[deflate_negotiation][client][server]") {
  if (!negotiation_available()) return;
  std::vector<DeflateParameters> kinds;
  for (int flags = 0; flags < 4; ++flags)
    for (std::uint8_t smwb : {8, 10, 15})
      for (std::uint8_t cmwb : {8, 12, 15})
        kinds.push_back({(flags & 1) != 0, (flags & 2) != 0, smwb, cmwb});
  std::vector<std::optional<DeflateParameters>> wishes = {std::nullopt};
  for (int flags = 0; flags < 4; ++flags)
    for (std::uint8_t smwb : {8, 11, 15})
      for (std::uint8_t cmwb : {9, 15})
        wishes.push_back(DeflateParameters{(flags & 1) != 0, (flags & 2) != 0, smwb, cmwb});
  std::size_t agreed = 0;
  for (std::size_t first = 0; first < kinds.size(); ++first) {
    for (std::size_t count : {1, 2}) {  // alone, and followed by another offer
      const DeflateParameters both[] = {kinds[first], kinds[(first * 7 + 3) % kinds.size()]};
      const std::span<const DeflateParameters> offers = std::span(both).first(count);
      for (const std::optional<DeflateParameters>& w : wishes) {
        INFO("offers " << offered_for(offers) << "; wishes "
                       << (w ? Catch::StringMaker<DeflateParameters>::convert(*w) : "none"));
        ClientHandshake client(ClientOptions{.host = "h", .deflate_offers = offers}, sample_nonce());
        ServerHandshake server(ServerOptions{.deflate = w});
        REQUIRE(server.feed(client.request()).status == HandshakeStatus::accept);
        REQUIRE(client.feed(server.response()).status == HandshakeStatus::accept);
        CHECK(client.deflate() == server.deflate());
        CHECK(server.deflate().has_value() == w.has_value());
        if (!w) continue;
        // Our offers are always valid, so the server takes the first, as the grid's oracle says.
        const DeflateParameters& o = offers[0];
        const GridOffer as_written{o.server_no_context_takeover, o.client_no_context_takeover,
                                   o.server_max_window_bits < 15 ? o.server_max_window_bits : 0,
                                   o.client_max_window_bits < 15 ? o.client_max_window_bits : -1};
        CHECK(server.deflate() == expected_answer(as_written, *w).agreed);
        ++agreed;
      }
    }
  }
  CHECK(agreed > 0);
}

TEST_CASE("real peers", "[deflate_negotiation][interop]") {
  if (!negotiation_available()) return;
  using P = DeflateParameters;
  SECTION("browsers' offers are accepted") {
    // Chrome; Firefox sends the bare name.
    CHECK(serve_offer("permessage-deflate; client_max_window_bits") == Served{"permessage-deflate", P{}});
    CHECK(serve_offer("permessage-deflate; client_max_window_bits", P{.client_max_window_bits = 12}) ==
          Served{"permessage-deflate; client_max_window_bits=12", P{.client_max_window_bits = 12}});
    CHECK(serve_offer("permessage-deflate") == Served{"permessage-deflate", P{}});
    CHECK(serve_offer("permessage-deflate", P{.client_max_window_bits = 12}) == Served{"permessage-deflate", P{}});
  }
  SECTION("Python websockets 10.4 and Node ws 8.11 clients' offers are accepted") {
    // Both send the same default offer (recorded from their requests).
    CHECK(serve_offer("permessage-deflate; client_max_window_bits",
                      P{.server_no_context_takeover = true, .server_max_window_bits = 12, .client_max_window_bits = 12}) ==
          Served{"permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
                 P{true, false, 12, 12}});
  }
  SECTION("Python websockets 10.4 and Node ws 8.11 servers' answers to our offers are accepted") {
    // Recorded from their servers with default options, for the offers our client writes.
    struct Row {
      std::vector<DeflateParameters> offers;
      std::string_view python, node;
      DeflateParameters python_agreed, node_agreed;
    };
    const Row rows[] = {
        {{P{}},
         "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", "permessage-deflate",
         P{.server_max_window_bits = 12, .client_max_window_bits = 12}, P{}},
        {{P{.server_no_context_takeover = true}},
         "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
         "permessage-deflate; server_no_context_takeover", P{true, false, 12, 12}, P{.server_no_context_takeover = true}},
        {{P{.server_max_window_bits = 10, .client_max_window_bits = 12}},
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
         P{.server_max_window_bits = 10, .client_max_window_bits = 12},
         P{.server_max_window_bits = 10, .client_max_window_bits = 12}},
        {{P{.client_no_context_takeover = true, .client_max_window_bits = 9}},
         "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9",
         "permessage-deflate; client_no_context_takeover; client_max_window_bits=9", P{false, true, 12, 9},
         P{false, true, 15, 9}},
        {{P{.server_max_window_bits = 12}, P{}},
         "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
         "permessage-deflate; server_max_window_bits=12", P{false, false, 12, 12}, P{.server_max_window_bits = 12}},
    };
    for (const Row& row : rows) {
      INFO(offered_for(row.offers));
      CHECK(validate_offers(row.offers, {row.python}) == Validated{Error::ok, row.python_agreed});
      CHECK(validate_offers(row.offers, {row.node}) == Validated{Error::ok, row.node_agreed});
    }
    const DeflateParameters plain[] = {{}};
    CHECK(offered_for(plain) == "permessage-deflate; client_max_window_bits");  // what they were sent
  }
}
