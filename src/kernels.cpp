// The span-based kernel API (include/wsframe/kernels.hpp) on the active backend. Baseline flags.
#include "wsframe/kernels.hpp"

#include "utf8_state.hpp"

namespace wsframe {

std::size_t mask(std::span<std::byte> data, MaskKey key, std::size_t phase) noexcept {
  return mask(active(), data, key, phase);
}

std::size_t mask_copy(std::span<const std::byte> src, std::span<std::byte> dst, MaskKey key,
                      std::size_t phase) noexcept {
  return mask_copy(active(), src, dst, key, phase);
}

Utf8Result utf8_feed(const Backend& b, Utf8State& state, std::span<const std::byte> bytes) noexcept {
  return b.utf8_feed(state, bytes.data(), bytes.size());
}

Utf8Result utf8_feed(Utf8State& state, std::span<const std::byte> bytes) noexcept {
  return utf8_feed(active(), state, bytes);
}

bool utf8_finish(const Utf8State& state) noexcept {
  return detail::Utf8StateAccess::automaton(state) == 0;  // 0: between code points
}

bool is_valid_utf8(const Backend& b, std::span<const std::byte> bytes) noexcept {
  return b.utf8_validate(bytes.data(), bytes.size());
}

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept { return is_valid_utf8(active(), bytes); }

}  // namespace wsframe

// ---------------------------------------------------------------------------------------------
// Base64, SHA-1, accept keys.
namespace wsframe {

static_assert(sizeof(AcceptKey) == 28, "accept_keys passes AcceptKey arrays as 28-char strides");

std::size_t base64_encoded_size(std::size_t n) noexcept { return (n / 3 + (n % 3 != 0)) * 4; }
std::size_t base64_decoded_max_size(std::size_t n) noexcept { return n / 4 * 3; }

std::size_t base64_encode(const Backend& b, std::span<const std::byte> in, std::span<char> out) noexcept {
  // out holds 4 * ceil(n / 3) chars iff n <= 3 * floor(size / 4): a shift instead of the
  // division by 3, which costs as much as encoding a third of a digest.
  if (in.size() > out.size() / 4 * 3) return 0;
  return b.base64_encode(in.data(), in.size(), out.data());
}
std::size_t base64_encode(std::span<const std::byte> in, std::span<char> out) noexcept {
  return base64_encode(active(), in, out);
}

Base64Status base64_decode(const Backend& b, std::string_view in, std::span<std::byte> out,
                           std::size_t& written) noexcept {
  written = 0;
  if (in.size() % 4 != 0) return Base64Status::invalid_length;
  // The decoded size if the input is valid: the kernel may write all of it.
  std::size_t padding = 0;
  if (!in.empty() && in.back() == '=') padding = in[in.size() - 2] == '=' ? 2 : 1;
  if (out.size() < in.size() / 4 * 3 - padding) return Base64Status::invalid_length;
  return b.base64_decode(in.data(), in.size(), out.data(), &written);
}
Base64Status base64_decode(std::string_view in, std::span<std::byte> out, std::size_t& written) noexcept {
  return base64_decode(active(), in, out, written);
}

Sha1Digest sha1(const Backend& b, std::span<const std::byte> data) noexcept {
  Sha1Digest digest;
  b.sha1(data.data(), data.size(), digest.data());
  return digest;
}
Sha1Digest sha1(std::span<const std::byte> data) noexcept { return sha1(active(), data); }

AcceptKey accept_key(const Backend& b, std::string_view sec_websocket_key) noexcept {
  AcceptKey accept;
  b.accept_key(sec_websocket_key.data(), sec_websocket_key.size(), accept.data());
  return accept;
}
AcceptKey accept_key(std::string_view sec_websocket_key) noexcept { return accept_key(active(), sec_websocket_key); }

void accept_keys(const Backend& b, std::span<const std::string_view> keys, std::span<AcceptKey> out) noexcept {
  const std::size_t count = std::min(keys.size(), out.size());
  if (count > 0) b.accept_keys(keys.data(), count, out.data()->data());
}
void accept_keys(std::span<const std::string_view> keys, std::span<AcceptKey> out) noexcept {
  accept_keys(active(), keys, out);
}

}  // namespace wsframe
