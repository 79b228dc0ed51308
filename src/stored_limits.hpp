// Limits as a connection keeps them: the output-side sizes in 32 bits, so that every connection
// stores 16 bytes less (an idle connection's footprint is most of what a server with many of
// them pays). Clamped, not wrapped: more than 4 GiB - 1 of output per connection acts as that.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "wsframe/connection.hpp"

namespace wsframe::detail {

struct StoredLimits {
  // The send side's first (a connection lays them out right after its send state).
  std::uint32_t max_output_bytes;
  std::uint32_t high_water_bytes;
  std::uint32_t retained_buffer_bytes;
  OutputFullPolicy on_output_full;
  std::uint64_t max_frame_size;
  std::uint64_t max_message_size;

  static std::uint32_t clamp32(std::size_t n) noexcept {
    return static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX));
  }
  explicit StoredLimits(const Limits& l) noexcept
      : max_output_bytes(clamp32(l.max_output_bytes)),
        high_water_bytes(clamp32(l.high_water_bytes)),
        retained_buffer_bytes(clamp32(l.retained_buffer_bytes)),
        on_output_full(l.on_output_full),
        max_frame_size(l.max_frame_size),
        max_message_size(l.max_message_size) {}
};

}  // namespace wsframe::detail
