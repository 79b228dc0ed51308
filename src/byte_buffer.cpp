#include "byte_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace wsframe::detail {

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this != &other) {
    ::operator delete(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

ByteBuffer::~ByteBuffer() { ::operator delete(data_); }

std::byte* ByteBuffer::grow_and_extend(std::size_t n, std::size_t cap) noexcept {
  const std::size_t needed = size_ + n;
  const std::size_t grown = std::min(std::max<std::size_t>(capacity_ * 2, 256), cap);
  const std::size_t capacity = std::max(needed, grown);
  auto* fresh = static_cast<std::byte*>(::operator new(capacity, std::nothrow));
  if (fresh == nullptr) return nullptr;
  if (size_ != 0) std::memcpy(fresh, data_, size_);
  ::operator delete(data_);
  data_ = fresh;
  capacity_ = capacity;
  std::byte* p = data_ + size_;
  size_ = needed;
  return p;
}

bool ByteBuffer::reserve(std::size_t n, std::size_t cap) noexcept {
  if (extend(n, cap) == nullptr) return false;
  size_ -= n;
  return true;
}

void ByteBuffer::clear_and_trim(std::size_t keep) noexcept {
  size_ = 0;
  if (capacity_ > keep) {
    ::operator delete(data_);
    data_ = nullptr;
    capacity_ = 0;
  }
}

void ByteBuffer::erase_front(std::size_t n) noexcept {
  n = std::min(n, size_);
  if (n != size_) std::memmove(data_, data_ + n, size_ - n);
  size_ -= n;
}

}  // namespace wsframe::detail
