// Peers for the handshake kernels (bench_accept): Beast with the library's default flags
// (bench/peers_handshake.cpp), OpenSSL's libcrypto.
#pragma once

#include <cstddef>
#include <string_view>

#include "wsframe/kernels.hpp"

namespace wsframe::bench {

// boost::beast::websocket::detail::make_sec_ws_accept.
AcceptKey beast_accept_key(std::string_view key) noexcept;
// boost::beast::detail::base64 encode / decode; return the chars / bytes written.
std::size_t beast_base64_encode(char* out, const std::byte* in, std::size_t n) noexcept;
std::size_t beast_base64_decode(std::byte* out, const char* in, std::size_t n) noexcept;

// OpenSSL: SHA1() and EVP_EncodeBlock, the one-shot way.
AcceptKey openssl_accept_key(std::string_view key) noexcept;
// OpenSSL's fastest way: EVP_Digest with the SHA1 EVP_MD fetched once, and EVP_EncodeBlock.
AcceptKey openssl_evp_accept_key(std::string_view key) noexcept;
// EVP_EncodeBlock / EVP_DecodeBlock; return the chars / bytes written (-1 on a decode error).
int openssl_base64_encode(char* out, const std::byte* in, std::size_t n) noexcept;
int openssl_base64_decode(std::byte* out, const char* in, std::size_t n) noexcept;

}  // namespace wsframe::bench
