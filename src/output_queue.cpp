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

constinit OutputQueue::Ring OutputQueue::empty_{0, 0, 0, 0, nullptr};

OutputQueue::OutputQueue(OutputQueue&& other) noexcept
    : ring_(std::exchange(other.ring_, &empty_)), size_(std::exchange(other.size_, 0)) {}

OutputQueue& OutputQueue::operator=(OutputQueue&& other) noexcept {
  if (this != &other) {
    release_all();
    ring_ = std::exchange(other.ring_, &empty_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

OutputQueue::~OutputQueue() { release_all(); }

void OutputQueue::release_all() noexcept {
  if (idle()) return;
  for (std::uint32_t i = 0; i < ring_->count; ++i)
    if (run_at(i).prepared != nullptr) run_at(i).prepared->drop_reference();
  free_blocks(ring_->first);
  free_blocks(spare_blocks());
  ::operator delete(std::exchange(ring_, &empty_), ring_alignment);
  size_ = 0;
}

// The ring is full: it doubles, the runs kept in order (the first run allocates it).
bool OutputQueue::grow_ring() noexcept {
  const std::uint32_t capacity = idle() ? 4 : ring_->capacity * 2;
  void* memory = ::operator new(sizeof(Ring) + capacity * sizeof(Run) + sizeof(RingTail), ring_alignment, std::nothrow);
  if (memory == nullptr) return false;
  Ring* ring = new (memory) Ring(*ring_);
  for (std::uint32_t i = 0; i < ring->count; ++i) ring->runs()[i] = run_at(i);
  ring->capacity = capacity;
  ring->head = 0;
  new (ring->runs() + capacity) RingTail(idle() ? RingTail{nullptr, nullptr, 0} : tail());
  if (!idle()) ::operator delete(ring_, ring_alignment);
  ring_ = ring;
  return true;
}

// An empty block of at least n bytes: the smallest spare one that fits, or a new one (twice
// the last block, at least min_block_bytes, at most cap unless n needs more).
OutputQueue::Block* OutputQueue::take_block(std::size_t n, std::size_t cap) noexcept {
  for (Block** at = &spare_blocks(); *at != nullptr; at = &(*at)->next) {  // smallest first
    if ((*at)->capacity < n) continue;
    Block* block = std::exchange(*at, (*at)->next);
    ring_->spare_bytes -= static_cast<std::uint32_t>(block->capacity);
    block->next = nullptr;
    return block;
  }
  const std::size_t grown = std::min(std::max(last_block() != nullptr ? last_block()->capacity * 2 : 0, min_block_bytes), cap);
  const std::size_t capacity = std::max(n, grown);
  void* memory = ::operator new(sizeof(Block) + capacity, std::nothrow);
  if (memory == nullptr) return nullptr;
  return new (memory) Block{nullptr, capacity, 0, 0};
}

// Links a fresh block with room for n after the others (the ring exists).
bool OutputQueue::add_block(std::size_t n, std::size_t cap) noexcept {
  Block* block = take_block(n, cap);
  if (block == nullptr) return false;
  (last_block() != nullptr ? last_block()->next : ring_->first) = block;
  last_block() = block;
  return true;
}

bool OutputQueue::reserve(std::size_t n, std::size_t cap, std::size_t runs) noexcept {
  while (ring_->capacity - ring_->count < runs)
    if (!grow_ring()) return false;
  const Block* last = last_block();
  return (last != nullptr && last->capacity - last->used >= n) || add_block(n, cap);
}

std::byte* OutputQueue::append_run(std::size_t n, std::size_t cap) noexcept {
  if (!reserve(n, cap)) return nullptr;
  Block* last = last_block();
  std::byte* at = last->data() + last->used;
  last->used += n;
  last->pending += n;
  push({at, n, last, nullptr});
  return at;
}

std::span<const std::byte> OutputQueue::join(std::size_t cap, std::size_t keep) noexcept {
  if (run_count() == 0) return {};
  if (ring_->count > 1) {
    // Twice the room, so that frames queued next extend the joined run: joining a growing
    // backlog again and again copies each byte O(1) times, as a growing vector does.
    Block* joined = take_block(std::max(size_, std::min(2 * size_, cap)), cap);
    if (joined != nullptr) {
      joined->used = joined->pending = size_;
      std::byte* at = joined->data();
      for (std::uint32_t i = 0; i < ring_->count; ++i) {
        std::memcpy(at, run_at(i).data, run_at(i).size);
        at += run_at(i).size;
      }
      const std::size_t total = size_;
      consume(total, keep);  // every run and block released; the ring stays allocated
      ring_->first = last_block() = joined;
      push({joined->data(), total, joined, nullptr});
    }
  }
  return {run_at(0).data, run_at(0).size};
}

// The borrowed bytes go after the last block's bytes (a new block when they do not fit), each
// run pointed at its copy. That block then holds bytes of runs queued before others in earlier
// blocks, so it may empty before them: retire_consumed() takes it once they are gone too.
bool OutputQueue::copy_borrowed(std::size_t cap) noexcept {
  std::size_t bytes = 0;
  for (std::uint32_t i = 0; i < ring_->count; ++i)
    if (run_at(i).borrowed()) bytes += run_at(i).size;
  if (!reserve(bytes, cap, 0)) return false;
  Block* last = last_block();
  for (std::uint32_t i = 0; i < ring_->count; ++i) {
    Run& run = run_at(i);
    if (!run.borrowed()) continue;
    std::byte* copy = last->data() + last->used;
    std::memcpy(copy, run.data, run.size);  // a borrowed run is never empty
    last->used += run.size;
    last->pending += run.size;
    run.data = copy;
    run.owned = last;
  }
  tail().borrowed_runs = 0;
  return true;
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
  Block** at = &spare_blocks();
  while (*at != nullptr && (*at)->capacity < block->capacity) at = &(*at)->next;
  block->next = *at;
  *at = block;
  ring_->spare_bytes += static_cast<std::uint32_t>(block->capacity);  // capacity <= keep
  while (ring_->spare_bytes > keep) {  // the smallest go first
    Block* smallest = spare_blocks();
    spare_blocks() = smallest->next;
    ring_->spare_bytes -= static_cast<std::uint32_t>(smallest->capacity);
    ::operator delete(smallest);
  }
}

// Blocks empty in the order they were filled.
void OutputQueue::retire_consumed(std::size_t keep) noexcept {
  while (ring_->first != nullptr && ring_->first->pending == 0) {
    Block* block = ring_->first;
    ring_->first = block->next;
    if (block == last_block()) last_block() = nullptr;
    retire(block, keep);
  }
}

}  // namespace wsframe::detail
