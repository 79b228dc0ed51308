#include "output_queue.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "prepared_block.hpp"

namespace wsframe::detail {

namespace {

constexpr std::size_t min_block_bytes = 256;

void free_blocks(auto* block) noexcept {
  while (block != nullptr) ::operator delete(std::exchange(block, block->next));
}

}  // namespace

OutputQueue::OutputQueue(OutputQueue&& other) noexcept
    : ring_(std::exchange(other.ring_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      head_(std::exchange(other.head_, 0)),
      count_(std::exchange(other.count_, 0)),
      spare_bytes_(std::exchange(other.spare_bytes_, 0)),
      first_(std::exchange(other.first_, nullptr)),
      last_(std::exchange(other.last_, nullptr)),
      spare_(std::exchange(other.spare_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

OutputQueue& OutputQueue::operator=(OutputQueue&& other) noexcept {
  if (this != &other) {
    release_all();
    new (this) OutputQueue(std::move(other));
  }
  return *this;
}

OutputQueue::~OutputQueue() { release_all(); }

void OutputQueue::release_all() noexcept {
  for (std::uint32_t i = 0; i < count_; ++i)
    if (run_at(i).prepared != nullptr) run_at(i).prepared->drop_reference();
  ::operator delete(ring_);
  free_blocks(first_);
  free_blocks(spare_);
  ring_ = nullptr;
  capacity_ = head_ = count_ = 0;
  first_ = last_ = spare_ = nullptr;
  spare_bytes_ = size_ = 0;
}

// The ring is full: it doubles, the runs kept in order.
bool OutputQueue::grow_ring() noexcept {
  const std::uint32_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
  auto* ring = static_cast<Run*>(::operator new(capacity * sizeof(Run), std::nothrow));
  if (ring == nullptr) return false;
  for (std::uint32_t i = 0; i < count_; ++i) ring[i] = run_at(i);
  ::operator delete(ring_);
  ring_ = ring;
  capacity_ = capacity;
  head_ = 0;
  return true;
}

// An empty block of at least n bytes: the smallest spare one that fits, or a new one (twice
// the last block, at least min_block_bytes, at most cap unless n needs more).
OutputQueue::Block* OutputQueue::take_block(std::size_t n, std::size_t cap) noexcept {
  for (Block** at = &spare_; *at != nullptr; at = &(*at)->next) {  // smallest first
    if ((*at)->capacity < n) continue;
    Block* block = std::exchange(*at, (*at)->next);
    spare_bytes_ -= static_cast<std::uint32_t>(block->capacity);
    block->next = nullptr;
    return block;
  }
  const std::size_t grown = std::min(std::max(last_ != nullptr ? last_->capacity * 2 : 0, min_block_bytes), cap);
  const std::size_t capacity = std::max(n, grown);
  void* memory = ::operator new(sizeof(Block) + capacity, std::nothrow);
  if (memory == nullptr) return nullptr;
  return new (memory) Block{nullptr, capacity, 0, 0};
}

// Links a fresh block with room for n after the others.
bool OutputQueue::add_block(std::size_t n, std::size_t cap) noexcept {
  Block* block = take_block(n, cap);
  if (block == nullptr) return false;
  (last_ != nullptr ? last_->next : first_) = block;
  last_ = block;
  return true;
}

bool OutputQueue::reserve(std::size_t n, std::size_t cap) noexcept {
  if (!make_room_for_run()) return false;
  return (last_ != nullptr && last_->capacity - last_->used >= n) || add_block(n, cap);
}

std::byte* OutputQueue::append(std::size_t n, std::size_t cap) noexcept {
  if (extends_last_run(n)) {  // frames written one after another in a block are one run
    std::byte* at = last_->data() + last_->used;
    last_->used += n;
    last_->pending += n;
    run_at(count_ - 1).size += n;
    size_ += n;
    return at;
  }
  if (!reserve(n, cap)) return nullptr;
  std::byte* at = last_->data() + last_->used;
  last_->used += n;
  last_->pending += n;
  push({at, n, last_, nullptr});
  return at;
}

// n more bytes fit right after the last run, in its block: they extend it, needing no new run
// (so appends after one reserve() never allocate).
bool OutputQueue::extends_last_run(std::size_t n) const noexcept {
  if (count_ == 0 || last_ == nullptr || last_->capacity - last_->used < n) return false;
  const Run& back = run_at(count_ - 1);
  return back.owned == last_ && back.data + back.size == last_->data() + last_->used;
}

std::span<const std::byte> OutputQueue::join(std::size_t cap, std::size_t keep) noexcept {
  if (count_ == 0) return {};
  if (count_ > 1) {
    // Twice the room, so that frames queued next extend the joined run: joining a growing
    // backlog again and again copies each byte O(1) times, as a growing vector does.
    Block* joined = take_block(std::max(size_, std::min(2 * size_, cap)), cap);
    if (joined != nullptr) {
      joined->used = joined->pending = size_;
      std::byte* at = joined->data();
      for (std::uint32_t i = 0; i < count_; ++i) {
        std::memcpy(at, run_at(i).data, run_at(i).size);
        at += run_at(i).size;
      }
      const std::size_t total = size_;
      consume(total, keep);  // every run and block released; the ring stays allocated
      first_ = last_ = joined;
      push({joined->data(), total, joined, nullptr});
    }
  }
  return {run_at(0).data, run_at(0).size};
}

// An emptied block joins the spares, kept in order of size, the largest ones while they total
// at most `keep` bytes: a connection's output reuses its memory in steady state.
void OutputQueue::retire(Block* block, std::size_t keep) noexcept {
  block->used = block->pending = 0;
  block->next = nullptr;
  if (block->capacity > keep) {
    ::operator delete(block);
    return;
  }
  Block** at = &spare_;
  while (*at != nullptr && (*at)->capacity < block->capacity) at = &(*at)->next;
  block->next = *at;
  *at = block;
  spare_bytes_ += static_cast<std::uint32_t>(block->capacity);  // capacity <= keep
  while (spare_bytes_ > keep) {  // the smallest go first
    Block* smallest = spare_;
    spare_ = smallest->next;
    spare_bytes_ -= static_cast<std::uint32_t>(smallest->capacity);
    ::operator delete(smallest);
  }
}

// Blocks empty in the order they were filled.
void OutputQueue::retire_consumed(std::size_t keep) noexcept {
  while (first_ != nullptr && first_->pending == 0) {
    Block* block = first_;
    first_ = block->next;
    if (block == last_) last_ = nullptr;
    retire(block, keep);
  }
}

void OutputQueue::release_ring() noexcept {
  ::operator delete(ring_);
  ring_ = nullptr;
  capacity_ = head_ = 0;
}

}  // namespace wsframe::detail
