// wsframe — error codes shared by every layer.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsframe {

// Every failure the library reports. Protocol errors map to the close code RFC 6455 section 7.4.1
// asks for (close_code); API misuse and configuration errors map to 0 (no close frame implied).
enum class Error : std::uint8_t {
  ok = 0,

  // Backend selection (DESIGN.md section 2).
  unknown_backend,      // no backend of that name is compiled in
  unsupported_backend,  // compiled in, but this CPU or OS cannot run it
};

// Human-readable one-line description; never empty.
std::string_view message(Error e) noexcept;

// The close code (RFC 6455 7.4.1) an endpoint sends when it fails the connection for `e`;
// 0 when `e` is not a protocol error.
std::uint16_t close_code(Error e) noexcept;

}  // namespace wsframe
