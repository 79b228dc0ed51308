// PreparedMessage (include/wsframe/connection.hpp): one frame, built once, shared by reference.
#include <array>
#include <cstring>
#include <new>
#include <utility>

#include "prepared_block.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {
namespace detail {

namespace {

// A server's frame header for a whole message: unmasked (RFC 6455 5.3); 0 bytes if invalid.
std::size_t server_header(MessageKind kind, std::size_t payload, std::uint8_t rsv,
                          std::array<std::byte, max_header_size>& out) noexcept {
  FrameHeader h;
  h.opcode = kind == MessageKind::text ? Opcode::text : Opcode::binary;
  h.rsv = rsv;
  h.payload_length = payload;
  return encode_header(h, out);
}

// Header and payload in one allocation behind a `Head`, constructed by `make(header_bytes)`.
template <class Head, class Make>
Head* with_frame(MessageKind kind, std::uint8_t rsv, std::span<const std::byte> payload, Make make) noexcept {
  std::array<std::byte, max_header_size> header;
  const std::size_t header_bytes = server_header(kind, payload.size(), rsv, header);
  void* memory = ::operator new(sizeof(Head) + header_bytes + payload.size(), std::nothrow);
  if (memory == nullptr || header_bytes == 0) {
    ::operator delete(memory);
    return nullptr;
  }
  Head* head = new (memory) Head(make(static_cast<std::uint8_t>(header_bytes)));
  auto* wire = reinterpret_cast<std::byte*>(head + 1);
  std::memcpy(wire, header.data(), header_bytes);
  if (!payload.empty()) std::memcpy(wire + header_bytes, payload.data(), payload.size());
  return head;
}

}  // namespace

void PreparedBlock::destroy() noexcept {
  for (auto& slot : variants) ::operator delete(const_cast<PreparedVariant*>(slot.load(std::memory_order_relaxed)));
  this->~PreparedBlock();
  ::operator delete(this);
}

PreparedBlock* PreparedBlock::create(MessageKind kind, std::span<const std::byte> payload) noexcept {
  return with_frame<PreparedBlock>(kind, 0, payload, [&](std::uint8_t header_bytes) {
    return PreparedBlock{{1}, payload.size(), header_bytes, kind};
  });
}

PreparedVariant* PreparedVariant::create(std::uint32_t config, MessageKind kind, std::uint8_t rsv,
                                         std::span<const std::byte> compressed) noexcept {
  return with_frame<PreparedVariant>(kind, rsv, compressed, [&](std::uint8_t header_bytes) {
    return PreparedVariant{config, header_bytes, compressed.size()};
  });
}

bool PreparedBlock::variant_slot_free() const noexcept {
  return variants.back().load(std::memory_order_acquire) == nullptr;
}

const PreparedVariant* PreparedBlock::publish_variant(PreparedVariant* made) noexcept {
  for (auto& slot : variants) {
    const PreparedVariant* seen = nullptr;
    if (slot.compare_exchange_strong(seen, made, std::memory_order_acq_rel, std::memory_order_acquire)) return made;
    if (seen->config == made->config) {  // another thread made the same bytes first
      ::operator delete(made);
      return seen;
    }
  }
  ::operator delete(made);
  return nullptr;
}

}  // namespace detail

PreparedMessage::PreparedMessage(MessageKind kind, std::span<const std::byte> payload) noexcept {
  if (kind == MessageKind::text && !is_valid_utf8(payload)) {  // RFC 6455 8.1
    error_ = Error::payload_invalid_utf8;
    return;
  }
  block_ = detail::PreparedBlock::create(kind, payload);
  error_ = block_ != nullptr ? Error::ok : Error::out_of_memory;
}

PreparedMessage::PreparedMessage(const PreparedMessage& other) noexcept : block_(other.block_), error_(other.error_) {
  if (block_ != nullptr) block_->add_reference();
}

PreparedMessage::PreparedMessage(PreparedMessage&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)), error_(std::exchange(other.error_, Error::not_prepared)) {}

PreparedMessage& PreparedMessage::operator=(const PreparedMessage& other) noexcept {
  if (other.block_ != nullptr) other.block_->add_reference();  // first: other may be *this
  if (block_ != nullptr) block_->drop_reference();
  block_ = other.block_;
  error_ = other.error_;
  return *this;
}

PreparedMessage& PreparedMessage::operator=(PreparedMessage&& other) noexcept {
  if (this != &other) {
    if (block_ != nullptr) block_->drop_reference();
    block_ = std::exchange(other.block_, nullptr);
    error_ = std::exchange(other.error_, Error::not_prepared);
  }
  return *this;
}

PreparedMessage::~PreparedMessage() {
  if (block_ != nullptr) block_->drop_reference();
}

MessageKind PreparedMessage::kind() const noexcept { return block_ != nullptr ? block_->kind : MessageKind::binary; }

std::span<const std::byte> PreparedMessage::payload() const noexcept {
  if (block_ == nullptr) return {};
  return {block_->wire() + block_->header_size, block_->payload_size};
}

std::span<const std::byte> PreparedMessage::wire() const noexcept {
  return block_ != nullptr ? block_->wire_span() : std::span<const std::byte>{};
}

}  // namespace wsframe
