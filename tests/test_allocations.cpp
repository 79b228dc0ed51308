// Zero heap allocations per frame in steady state, counted with a replaced global operator new.
// A program of its own, so that the replacement affects nothing else.
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "support.hpp"

namespace {
std::atomic<std::size_t> allocations{0};

void* counted(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  return nullptr;
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace wsframe;

namespace {

// `count` masked client frames: unfragmented text and binary messages of 0..300 bytes and pings.
std::vector<std::byte> client_stream(int count) {
  Connection sender(Role::client, {}, {.mask_seed = 3});
  std::vector<std::byte> stream;
  for (int i = 0; i < count; ++i) {
    const std::size_t n = test::rng()() % 301;
    std::vector<std::byte> payload(n, std::byte{'a'});
    const Error e = i % 10 == 9 ? sender.send_ping(std::span(payload).first(std::min<std::size_t>(n, 125)))
                    : i % 2    ? sender.send_binary(payload)
                               : sender.send_text({reinterpret_cast<const char*>(payload.data()), n});
    REQUIRE(e == Error::ok);
  }
  stream.assign(sender.pending_output().begin(), sender.pending_output().end());
  return stream;
}

// Feeds the stream in reads of `read_size` (frames straddle reads), writing out the pongs.
std::size_t feed(Connection& c, std::vector<std::byte>& stream, std::size_t read_size) {
  std::size_t events = 0;
  for (std::size_t at = 0; at < stream.size(); at += read_size) {
    c.receive({stream.data() + at, std::min(read_size, stream.size() - at)});
    while (Event e = c.next_event()) events += e.type == EventType::error ? 1000000 : 1;
    c.consume_output(c.pending_output().size());
  }
  return events;
}

}  // namespace

TEST_CASE("steady state allocates nothing per frame", "[allocations]") {
  const int frames = 2000;
  const std::vector<std::byte> pristine = client_stream(frames);
  for (std::size_t read_size : {std::size_t{1} << 16, std::size_t{1000}, std::size_t{7}}) {
    INFO("reads of " << read_size << " bytes");
    Connection server(Role::server);
    std::vector<std::byte> stream = pristine;
    REQUIRE(feed(server, stream, read_size) == frames);  // warm-up: buffers reach their size
    stream = pristine;
    const std::size_t before = allocations.load();
    const std::size_t events = feed(server, stream, read_size);
    const std::size_t during = allocations.load() - before;
    CHECK(events == frames);
    CHECK(during == 0);
  }
  SECTION("sending, client and server") {
    for (Role role : {Role::client, Role::server}) {
      Connection c(role, {}, {.mask_seed = 1});
      std::vector<std::byte> payload(300, std::byte{'b'});
      bool sent_all = true;
      const auto round = [&] {  // no Catch2 assertion inside: only the connection's allocations count
        for (int i = 0; i < 500; ++i) {
          sent_all &= c.send_binary(std::span(payload).first(static_cast<std::size_t>(i) % 301)) == Error::ok;
          if (i % 3 == 0) c.consume_output(c.pending_output().size() / 2);
          if (i % 7 == 0) c.consume_output(c.pending_output().size());
        }
        c.consume_output(c.pending_output().size());
      };
      round();
      const std::size_t before = allocations.load();
      round();
      CHECK(allocations.load() - before == 0);
      CHECK(sent_all);
    }
  }
}
