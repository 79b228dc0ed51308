// A connection's pending output as runs of bytes, oldest first: bytes it owns (headers, control
// frames, copied and masked payloads) in blocks that never move, and references to prepared
// messages' frames. Queuing never moves a pending byte, so the runs handed out for a gather
// write stay valid until consumed; join() makes them one run on request (the copying default).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wsframe/connection.hpp"

namespace wsframe::detail {

struct PreparedBlock;

class OutputQueue {
 public:
  OutputQueue() = default;
  OutputQueue(OutputQueue&& other) noexcept;
  OutputQueue& operator=(OutputQueue&& other) noexcept;
  ~OutputQueue();

  std::size_t size() const noexcept { return size_; }  // pending bytes
  std::size_t run_count() const noexcept { return ring_->count; }

  // Appends n owned bytes, contiguous, and returns them to be written; nullptr when memory runs
  // out. A new block is at most `cap` bytes unless n itself is larger.
  std::byte* append(std::size_t n, std::size_t cap) noexcept;
  // Makes sure the next append(n) cannot run out of memory; false when it would.
  bool reserve(std::size_t n, std::size_t cap) noexcept;
  // Queues `bytes` of a prepared message's frame, holding a reference; false when memory runs
  // out (nothing queued).
  bool append_shared(PreparedBlock& block, std::span<const std::byte> bytes) noexcept;

  // Writes up to out.size() runs, oldest first; returns how many.
  std::size_t runs(std::span<OutputSpan> out) const noexcept;
  // The first run after joining every run into one owned block (unless memory runs out: then
  // the first run as it is). `cap` and `keep` as for append() and consume().
  std::span<const std::byte> join(std::size_t cap, std::size_t keep) noexcept;
  // Drops the first n pending bytes (all of them when n is larger). Owned memory beyond `keep`
  // bytes is returned once unused.
  void consume(std::size_t n, std::size_t keep) noexcept;
  // With nothing pending, the run ring is returned too unless `keep` bytes hold it (and with it
  // the spare blocks: they are kept in the ring's bookkeeping).
  void trim(std::size_t keep) noexcept;

 private:
  struct Block;  // owned bytes: a header, then the bytes
  struct Run {
    const std::byte* data;
    std::size_t size;
    Block* owned;              // the block holding the bytes, or nullptr
    PreparedBlock* prepared;   // the prepared message holding them, or nullptr
  };
  // The queue's bookkeeping, allocated with its runs and returned with them: an idle queue is
  // a pointer to empty_ and a size, which is what each idle connection pays.
  struct Ring {
    std::uint32_t capacity;     // runs (a power of two), count of them from head
    std::uint32_t head, count;
    std::uint32_t spare_bytes;  // <= keep, which is 32 bits
    Block* first;               // the oldest block with pending bytes
    Block* last;                // the block appended to
    Block* spare;               // emptied blocks kept for reuse (at most `keep` bytes)
    Run* runs() noexcept { return reinterpret_cast<Run*>(this + 1); }
    const Run* runs() const noexcept { return reinterpret_cast<const Run*>(this + 1); }
  };

  Run& run_at(std::uint32_t i) const noexcept { return ring_->runs()[(ring_->head + i) & (ring_->capacity - 1)]; }
  bool make_room_for_run() noexcept;
  bool extends_last_run(std::size_t n) const noexcept;
  void push(const Run& run) noexcept;
  Block* take_block(std::size_t n, std::size_t cap) noexcept;
  bool add_block(std::size_t n, std::size_t cap) noexcept;
  void retire(Block* block, std::size_t keep) noexcept;
  void release_all() noexcept;

  // No runs and no room for any (so the first run allocates a ring); shared by every idle
  // queue and never written, so the hot paths need no null check.
  static constinit Ring empty_;
  bool idle() const noexcept { return ring_ == &empty_; }

  Ring* ring_ = &empty_;  // empty_ until something is queued, and again once trim() returns it
  std::size_t size_ = 0;
};

}  // namespace wsframe::detail
