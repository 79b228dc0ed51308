// A connection's pending output as runs of bytes, oldest first: bytes it owns (headers, control
// frames, copied and masked payloads) in blocks that never move, references to prepared
// messages' frames, and the caller's own bytes (borrowed sends) until own_borrowed() copies them.
// Queuing never moves a pending byte, so the runs handed out for a gather write stay valid until
// consumed; join() makes them one run on request (the copying default).
// What a broadcast does on each connection (append_shared, runs, consume, trim) is defined here,
// inline: it runs once per recipient.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>

#include "prepared_block.hpp"
#include "wsframe/connection.hpp"

namespace wsframe::detail {

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
  std::byte* append(std::size_t n, std::size_t cap) noexcept {
    if (!extends_last_run(n)) return append_run(n, cap);
    // Frames written one after another in a block are one run (an automatic Pong per Ping).
    Block* last = last_block();
    std::byte* at = last->data() + last->used;
    last->used += n;
    last->pending += n;
    run_at(ring_->count - 1).size += n;
    size_ += n;
    return at;
  }
  // Makes sure the next append(n) cannot run out of memory, nor `runs` more runs (appended
  // bytes or borrowed ones); false when they could.
  bool reserve(std::size_t n, std::size_t cap, std::size_t runs = 1) noexcept;
  // Queues `bytes` of a prepared message's frame, holding a reference; false when memory runs
  // out (nothing queued).
  bool append_shared(PreparedBlock& block, std::span<const std::byte> bytes) noexcept {
    if (!make_room_for_run()) return false;
    block.add_reference();
    push({bytes.data(), bytes.size(), nullptr, &block});
    return true;
  }
  // Queues a reference to the caller's `bytes` (not empty), after a reserve() for this run.
  void append_borrowed(std::span<const std::byte> bytes) noexcept {
    push({bytes.data(), bytes.size(), nullptr, nullptr});
    ++tail().borrowed_runs;
  }
  // Copies every borrowed run's bytes into owned memory (the runs' addresses change); false,
  // nothing changed, when memory runs out. `cap` as for append(). With nothing borrowed it reads
  // two counters and returns.
  bool own_borrowed(std::size_t cap) noexcept {
    return ring_->count == 0 || tail().borrowed_runs == 0 || copy_borrowed(cap);  // empty_ has no tail
  }

  // Writes up to out.size() runs, oldest first; returns how many.
  std::size_t runs(std::span<OutputSpan> out) const noexcept {
    const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), ring_->count));
    for (std::uint32_t i = 0; i < n; ++i) out[i] = {run_at(i).data, run_at(i).size};
    return n;
  }
  // The first run after joining every run into one owned block (unless memory runs out: then
  // the first run as it is). `cap` and `keep` as for append() and consume().
  std::span<const std::byte> join(std::size_t cap, std::size_t keep) noexcept;
  // Drops the first n pending bytes (all of them when n is larger). Owned memory beyond `keep`
  // bytes is returned once unused.
  void consume(std::size_t n, std::size_t keep) noexcept {
    n = std::min(n, size_);
    size_ -= n;
    while (n != 0) {
      Run& run = run_at(0);
      const std::size_t taken = std::min(n, run.size);
      run.data += taken;
      run.size -= taken;
      n -= taken;
      if (run.owned != nullptr) run.owned->pending -= taken;
      if (run.size != 0) break;
      if (run.prepared != nullptr)
        run.prepared->drop_reference();
      else if (run.borrowed())
        --tail().borrowed_runs;
      // An emptied ring starts again at its first run, in the line with the bookkeeping.
      ring_->head = --ring_->count == 0 ? 0 : (ring_->head + 1) & (ring_->capacity - 1);
    }
    if (ring_->first != nullptr && ring_->first->pending == 0) retire_consumed(keep);
  }
  // With nothing pending, the run ring is returned too unless `keep` bytes hold it (and with it
  // the spare blocks: they are kept in the ring's bookkeeping).
  void trim(std::size_t keep) noexcept {
    if (ring_->count == 0 && ring_->capacity * sizeof(Run) > keep) release_all();  // empty_ has no capacity
  }

 private:
  struct Block {  // owned bytes: this header, then the bytes
    Block* next;
    std::size_t capacity;
    std::size_t used;     // bytes written from the start
    std::size_t pending;  // of those, not yet consumed
    std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
  };
  struct Run {
    const std::byte* data;
    std::size_t size;
    Block* owned;              // the block holding the bytes, or nullptr
    PreparedBlock* prepared;   // the prepared message holding them, or nullptr
    // Neither: the caller's bytes (a borrowed send).
    bool borrowed() const noexcept { return owned == nullptr && prepared == nullptr; }
  };
  // The queue's bookkeeping, allocated with its runs and returned with them: an idle queue is
  // a pointer to empty_ and a size, which is what each idle connection pays. What every send
  // and consume reads comes first, so that it shares the allocation's first cache line with
  // the first run (the one a connection that drains its output in time always uses); what
  // only appends of owned bytes need follows the runs.
  struct Ring {
    std::uint32_t capacity;     // runs (a power of two), count of them from head
    std::uint32_t head, count;
    std::uint32_t spare_bytes;  // <= keep, which is 32 bits
    Block* first;               // the oldest block with pending bytes
    Run* runs() noexcept { return reinterpret_cast<Run*>(this + 1); }
    const Run* runs() const noexcept { return reinterpret_cast<const Run*>(this + 1); }
  };
  struct RingTail {  // after the runs; a ring has it once it has capacity (empty_ has none)
    Block* last;   // the block appended to
    Block* spare;  // emptied blocks kept for reuse (at most `keep` bytes)
    // Pending runs of the caller's bytes. Here, not in Ring: a Ring as large as a Run makes
    // every run_at() an instruction longer (GCC 12 indexes from the next run then).
    std::uint32_t borrowed_runs;
  };
  static constexpr std::align_val_t ring_alignment{64};  // a cache line
  static_assert(sizeof(Ring) + sizeof(Run) <= 64, "the bookkeeping and the first run share a line");

  RingTail& tail() const noexcept { return *reinterpret_cast<RingTail*>(ring_->runs() + ring_->capacity); }
  Block*& last_block() const noexcept { return tail().last; }
  Block*& spare_blocks() const noexcept { return tail().spare; }
  Run& run_at(std::uint32_t i) const noexcept { return ring_->runs()[(ring_->head + i) & (ring_->capacity - 1)]; }
  // Room for one more run in the ring.
  bool make_room_for_run() noexcept { return ring_->count < ring_->capacity || grow_ring(); }
  bool grow_ring() noexcept;
  bool copy_borrowed(std::size_t cap) noexcept;
  // n more bytes fit right after the last run, in its block: they extend it, needing no new run
  // (so appends after one reserve() never allocate).
  bool extends_last_run(std::size_t n) const noexcept {
    if (run_count() == 0) return false;
    Block* last = last_block();
    if (last == nullptr || last->capacity - last->used < n) return false;
    const Run& back = run_at(ring_->count - 1);
    return back.owned == last && back.data + back.size == last->data() + last->used;
  }
  std::byte* append_run(std::size_t n, std::size_t cap) noexcept;  // append() in a new run
  void push(const Run& run) noexcept {  // after make_room_for_run()
    run_at(ring_->count++) = run;
    size_ += run.size;
  }
  void retire_consumed(std::size_t keep) noexcept;
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
