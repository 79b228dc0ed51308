// Connection::receive in the server role on random byte streams cut at random points; see
// fuzz_connection.hpp for what is checked.
#include "fuzz_connection.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return wsframe::fuzz::fuzz_connection(wsframe::Role::server, data, size);
}
