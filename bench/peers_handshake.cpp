// Handshake peers built with the project's default flags: Beast (header-only) and OpenSSL.
#include "peers_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <cstring>

namespace wsframe::bench {

namespace {
constexpr char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// key + GUID in a stack buffer (keys longer than 64 are not benchmarked).
std::size_t joined(std::string_view key, unsigned char* buf) noexcept {
  std::memcpy(buf, key.data(), key.size());
  std::memcpy(buf + key.size(), guid, 36);
  return key.size() + 36;
}

AcceptKey encode_digest(const unsigned char* digest) noexcept {
  unsigned char text[29];  // EVP_EncodeBlock writes a terminating NUL
  EVP_EncodeBlock(text, digest, 20);
  AcceptKey accept;
  std::memcpy(accept.data(), text, 28);
  return accept;
}
}  // namespace

AcceptKey beast_accept_key(std::string_view key) noexcept {
  boost::beast::websocket::detail::sec_ws_accept_type accept;
  boost::beast::websocket::detail::make_sec_ws_accept(accept, boost::beast::string_view(key.data(), key.size()));
  AcceptKey out;
  std::memcpy(out.data(), accept.data(), 28);
  return out;
}

std::size_t beast_base64_encode(char* out, const std::byte* in, std::size_t n) noexcept {
  return boost::beast::detail::base64::encode(out, in, n);
}

std::size_t beast_base64_decode(std::byte* out, const char* in, std::size_t n) noexcept {
  return boost::beast::detail::base64::decode(out, in, n).first;
}

AcceptKey openssl_accept_key(std::string_view key) noexcept {
  unsigned char buf[100], digest[20];
  SHA1(buf, joined(key, buf), digest);
  return encode_digest(digest);
}

AcceptKey openssl_evp_accept_key(std::string_view key) noexcept {
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  unsigned char buf[100], digest[20];
  unsigned int size = 0;
  EVP_Digest(buf, joined(key, buf), digest, &size, sha1, nullptr);
  return encode_digest(digest);
}

int openssl_base64_encode(char* out, const std::byte* in, std::size_t n) noexcept {
  return EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), reinterpret_cast<const unsigned char*>(in),
                         static_cast<int>(n));
}

int openssl_base64_decode(std::byte* out, const char* in, std::size_t n) noexcept {
  return EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out), reinterpret_cast<const unsigned char*>(in),
                         static_cast<int>(n));
}

}  // namespace wsframe::bench
