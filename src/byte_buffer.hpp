// A growable byte buffer for the connection's reassembly, output and compression: it never
// value-initialises, keeps its capacity, and reports running out of memory instead of throwing.
#pragma once

#include <cstddef>
#include <utility>

namespace wsframe::detail {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept;
  ~ByteBuffer();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // Appends n uninitialised bytes and returns them; nullptr when memory runs out. The
  // capacity grows geometrically but never past `cap` (when the new size fits under it).
  // Inline: the receive path appends every fragment; growing is the rare case.
  std::byte* extend(std::size_t n, std::size_t cap) noexcept {
    if (n > capacity_ - size_) [[unlikely]]
      return grow_and_extend(n, cap);
    std::byte* p = data_ + size_;
    size_ += n;
    return p;
  }
  // Makes room for n more bytes without changing the size; false when memory runs out.
  bool reserve(std::size_t n, std::size_t cap) noexcept;
  std::size_t spare() const noexcept { return capacity_ - size_; }
  void shrink_by(std::size_t n) noexcept { size_ -= n; }  // n <= size()
  void clear() noexcept { size_ = 0; }
  // Empties the buffer and frees its memory if it holds more than `keep` bytes.
  void clear_and_trim(std::size_t keep) noexcept;
  void erase_front(std::size_t n) noexcept;

 private:
  std::byte* grow_and_extend(std::size_t n, std::size_t cap) noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace wsframe::detail
