// Calls Boost.Beast's mask_inplace. Included by peers_default.cpp and peers_native.cpp, each
// compiled with its own flags; internal linkage keeps the two copies apart.
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/detail/mask.hpp>
#include <cstring>

#include "wsframe/kernels.hpp"

namespace {
void beast_mask(std::byte* p, std::size_t n, wsframe::MaskKey key) noexcept {
  namespace detail = boost::beast::websocket::detail;
  std::uint32_t word;
  std::memcpy(&word, key.data(), 4);
  detail::prepared_key prepared;
  detail::prepare_key(prepared, word);
  detail::mask_inplace(boost::asio::mutable_buffer(p, n), prepared);
}
}  // namespace
