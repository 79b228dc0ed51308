// Peers built with the project's default flags.
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/detail/mask.hpp>
#include <cstring>

#include "peers.hpp"

namespace wsframe::bench {

void beast_mask_inplace(std::byte* p, std::size_t n, MaskKey key) noexcept {
  namespace detail = boost::beast::websocket::detail;
  std::uint32_t word;
  std::memcpy(&word, key.data(), 4);
  detail::prepared_key prepared;
  detail::prepare_key(prepared, word);
  detail::mask_inplace(boost::asio::mutable_buffer(p, n), prepared);
}

}  // namespace wsframe::bench
