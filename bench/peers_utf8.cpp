// Beast's UTF-8 validator, built with the project's default flags (like peers_default.cpp, in a
// TU of its own so that bench_mask does not pull it in).
#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include "peers.hpp"

namespace wsframe::bench {

bool beast_check_utf8(const std::byte* p, std::size_t n) noexcept {
  return boost::beast::websocket::detail::check_utf8(reinterpret_cast<const char*>(p), n);
}

}  // namespace wsframe::bench
