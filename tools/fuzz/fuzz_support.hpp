// Shared helpers for the libFuzzer targets in this folder.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "wsframe/wsframe.hpp"

namespace wsframe::fuzz {

// Stops the run with a message naming what differed; libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(std::string_view what, std::string_view backend) {
  std::fprintf(stderr, "fuzz failure: %.*s (backend %.*s)\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(backend.size()), backend.data());
  std::abort();
}

// The backends this machine can run, scalar first (it is the oracle).
inline const std::vector<const Backend*>& runnable_backends() {
  static const std::vector<const Backend*> list = [] {
    std::vector<const Backend*> out;
    for (const BackendInfo& info : backends())
      if (info.supported) out.push_back(info.backend);
    return out;
  }();
  return list;
}

// A heap buffer of exactly `offset + n` bytes whose start is 64-byte aligned, viewed from
// `offset`: any read or write past the view's end leaves the allocation, which ASan reports.
class ExactBuffer {
 public:
  ExactBuffer(std::size_t offset, std::span<const std::byte> content)
      : storage_(static_cast<std::byte*>(::operator new(offset + content.size(), std::align_val_t{64}))),
        offset_(offset), size_(content.size()) {
    if (!content.empty()) std::memcpy(data(), content.data(), size_);
  }
  ExactBuffer(const ExactBuffer&) = delete;
  ExactBuffer& operator=(const ExactBuffer&) = delete;
  ~ExactBuffer() { ::operator delete(storage_, std::align_val_t{64}); }

  std::byte* data() { return storage_ + offset_; }
  std::span<std::byte> span() { return {data(), size_}; }
  bool equals(std::span<const std::byte> other) const {
    return other.size() == size_ && (size_ == 0 || std::memcmp(storage_ + offset_, other.data(), size_) == 0);
  }

 private:
  std::byte* storage_;
  std::size_t offset_, size_;
};

// Random cut points for feeding a stream in pieces. Protocol targets take their first two input
// bytes as its seed and the rest as the stream, so seeds and dictionaries stay readable.
class Splitter {
 public:
  explicit Splitter(std::uint16_t seed) : state_(0x9E3779B97F4A7C15ull ^ seed) {}

  // Splits [0, n) into pieces: mostly small (1..16 bytes, headers split everywhere), some large.
  std::vector<std::size_t> piece_sizes(std::size_t n) {
    std::vector<std::size_t> sizes;
    while (n > 0) {
      const std::uint64_t r = next();
      std::size_t piece = (r & 3) == 0 ? 1 + (r >> 8) % 16 : (r & 3) == 1 ? 1 + (r >> 8) % 4096 : n;
      piece = piece < n ? piece : n;
      sizes.push_back(piece);
      n -= piece;
    }
    return sizes;
  }
  std::uint64_t next() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  std::uint64_t state_;
};

// The input of a protocol target: the splitter seed, then the stream.
struct SplitInput {
  std::uint16_t seed;
  std::span<const std::byte> stream;
};
inline SplitInput split_input(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return {0, {}};
  return {static_cast<std::uint16_t>(data[0] | data[1] << 8),
          {reinterpret_cast<const std::byte*>(data + 2), size - 2}};
}

// Runs feed(stream, piece sizes) on the stream of a protocol target's input, whole and in random
// pieces; stops the run unless both outcomes are equal. Returns the stream and the outcome.
template <class Feed>
auto same_whole_and_split(const std::uint8_t* data, std::size_t size, Feed feed) {
  const auto [seed, stream] = split_input(data, size);
  auto whole = feed(stream, std::vector<std::size_t>{stream.size()});
  if (!(feed(stream, Splitter(seed).piece_sizes(stream.size())) == whole)) fail("whole and split input disagree", "-");
  return std::pair{stream, whole};
}

}  // namespace wsframe::fuzz
