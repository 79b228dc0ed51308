// The shared part of a PreparedMessage: its reference count and its frame, header and payload
// in one allocation. Output queues hold references while the bytes are pending.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/connection.hpp"

namespace wsframe::detail {

struct PreparedBlock {
  std::atomic<std::size_t> references;
  std::size_t payload_size;
  std::uint8_t header_size;
  MessageKind kind;

  // The frame follows the block in the same allocation.
  std::byte* wire() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
  std::span<const std::byte> wire_span() noexcept { return {wire(), header_size + payload_size}; }

  // Adding needs no ordering: the new holder already sees the block through its source.
  void add_reference() noexcept { references.fetch_add(1, std::memory_order_relaxed); }
  // The last holder frees it; acquire-release so that every other holder's reads happen before.
  void drop_reference() noexcept;
  // A block for this frame, with one reference; nullptr when memory runs out.
  static PreparedBlock* create(MessageKind kind, std::span<const std::byte> payload) noexcept;
};

}  // namespace wsframe::detail
