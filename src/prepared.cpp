// PreparedMessage (include/wsframe/connection.hpp): one frame, built once, shared by reference.
#include <cstring>
#include <new>
#include <utility>

#include "prepared_block.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/kernels.hpp"

namespace wsframe {
namespace detail {

void PreparedBlock::drop_reference() noexcept {
  if (references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  this->~PreparedBlock();
  ::operator delete(this);
}

PreparedBlock* PreparedBlock::create(MessageKind kind, std::span<const std::byte> payload) noexcept {
  FrameHeader h;
  h.opcode = kind == MessageKind::text ? Opcode::text : Opcode::binary;
  h.payload_length = payload.size();
  std::array<std::byte, max_header_size> header;
  const std::size_t header_bytes = encode_header(h, header);  // a server's: unmasked
  void* memory = ::operator new(sizeof(PreparedBlock) + header_bytes + payload.size(), std::nothrow);
  if (memory == nullptr || header_bytes == 0) {
    ::operator delete(memory);
    return nullptr;
  }
  auto* block = new (memory) PreparedBlock{{1}, payload.size(), static_cast<std::uint8_t>(header_bytes), kind};
  std::memcpy(block->wire(), header.data(), header_bytes);
  if (!payload.empty()) std::memcpy(block->wire() + header_bytes, payload.data(), payload.size());
  return block;
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
