// The shared part of a PreparedMessage: its reference count and its frame, header and payload
// in one allocation, and the compressed forms of that frame made for connections so far. Output
// queues hold references while the bytes are pending.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/connection.hpp"

namespace wsframe::detail {

// The message's frame as every connection whose compressor's output for a whole message depends
// on nothing but `config` sends it: compressed once, then shared (RFC 7692 7.1.1: a compressor
// without context takeover starts each message from an empty window).
struct PreparedVariant {
  std::uint32_t config;       // Extension::stateless_outbound_config() of the connections it serves
  std::uint8_t header_size;
  std::size_t payload_size;   // compressed bytes

  // The frame follows the variant in the same allocation.
  const std::byte* wire() const noexcept { return reinterpret_cast<const std::byte*>(this + 1); }
  std::span<const std::byte> wire_span() const noexcept { return {wire(), header_size + payload_size}; }
  std::span<const std::byte> payload() const noexcept { return {wire() + header_size, payload_size}; }
  // A variant for `config` whose frame carries `compressed` with the extension's `rsv` bits;
  // nullptr when memory runs out.
  static PreparedVariant* create(std::uint32_t config, MessageKind kind, std::uint8_t rsv,
                                 std::span<const std::byte> compressed) noexcept;
};

struct PreparedBlock {
  // Distinct compression configurations a message keeps a shared variant for; connections with
  // yet another one compress the message themselves.
  static constexpr std::size_t max_variants = PreparedMessage::max_compressed_variants;

  std::atomic<std::size_t> references;
  std::size_t payload_size;
  std::uint8_t header_size;
  MessageKind kind;
  // Published once each (null until then), freed with the block: a slot never changes again
  // once set, so a variant found is valid as long as the block is.
  std::array<std::atomic<const PreparedVariant*>, max_variants> variants{};

  // The frame follows the block in the same allocation.
  std::byte* wire() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
  std::span<const std::byte> wire_span() noexcept { return {wire(), header_size + payload_size}; }
  std::span<const std::byte> payload() noexcept { return {wire() + header_size, payload_size}; }

  // Adding needs no ordering: the new holder already sees the block through its source.
  void add_reference() noexcept { references.fetch_add(1, std::memory_order_relaxed); }
  // The last holder frees it; acquire-release so that every other holder's reads happen before.
  void drop_reference() noexcept {
    if (references.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  // A block for this frame, with one reference; nullptr when memory runs out.
  static PreparedBlock* create(MessageKind kind, std::span<const std::byte> payload) noexcept;

  // The variant made for `config`, or nullptr. Lock-free: acquire loads of the slots.
  const PreparedVariant* find_variant(std::uint32_t config) const noexcept {
    for (const auto& slot : variants) {
      const PreparedVariant* v = slot.load(std::memory_order_acquire);  // its bytes were written before
      if (v == nullptr) return nullptr;                                  // slots fill in order
      if (v->config == config) return v;
    }
    return nullptr;
  }
  // A slot is still free (a variant may yet be published).
  bool variant_slot_free() const noexcept;
  // Publishes `made` in a free slot, unless another thread published one for its config first
  // (then `made` is freed and that one returned). nullptr, `made` freed, when every slot holds
  // another config.
  const PreparedVariant* publish_variant(PreparedVariant* made) noexcept;

 private:
  void destroy() noexcept;
};

}  // namespace wsframe::detail
