// Frame header decoding (RFC 6455 5.2) on arbitrary bytes: every backend against scalar, every
// prefix of a complete header asks for more (never reads past what it is given: the input sits
// at the end of an exact allocation), and a decoded header re-encodes to one that decodes the same.
#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::ExactBuffer;
using wsframe::fuzz::fail;

namespace {

bool same(const FrameHeader& a, const FrameHeader& b) {
  return a.payload_length == b.payload_length && a.mask_key == b.mask_key && a.opcode == b.opcode && a.fin == b.fin &&
         a.masked == b.masked && a.rsv == b.rsv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size < 16 ? size : 16);
  const Backend& scalar = *find_backend("scalar");
  ExactBuffer exact(0, input);
  FrameHeader expected;
  const HeaderResult want = decode_header(scalar, exact.span(), expected);
  if (want.status == HeaderStatus::complete &&
      (want.size < 2 || want.size > max_header_size || want.size > input.size() ||
       want.size != expected.size))
    fail("complete header with an impossible size", "scalar");
  if (want.status == HeaderStatus::need_more && (want.size <= input.size() || want.size > max_header_size))
    fail("need_more without needing more", "scalar");

  for (const Backend* b : wsframe::fuzz::runnable_backends()) {
    for (std::size_t offset : {0u, 1u, 7u, 63u}) {  // alignment of the header bytes
      ExactBuffer at(offset, input);
      FrameHeader h;
      const HeaderResult got = decode_header(*b, at.span(), h);
      if (got.status != want.status || got.size != want.size) fail("status or size differs from scalar", b->name);
      if (got.status == HeaderStatus::complete && !same(h, expected))
        fail("decoded header differs from scalar", b->name);
    }
    if (want.status == HeaderStatus::complete)
      for (std::size_t k = 0; k < want.size; ++k) {  // every proper prefix needs more, within bounds
        ExactBuffer prefix(0, input.first(k));
        FrameHeader h;
        const HeaderResult got = decode_header(*b, prefix.span(), h);
        if (got.status != HeaderStatus::need_more || got.size <= k || got.size > want.size)
          fail("a prefix of a complete header is not need_more", b->name);
      }
  }

  if (want.status == HeaderStatus::complete) {  // minimal re-encoding decodes to the same header
    std::array<std::byte, max_header_size> out;
    const std::size_t n = encode_header(expected, out);
    if (n != header_size(expected.payload_length, expected.masked)) fail("encode_header size", "-");
    FrameHeader again;
    const HeaderResult r = decode_header(scalar, std::span<const std::byte>(out.data(), n), again);
    if (r.status != HeaderStatus::complete || r.size != n || !same(again, expected)) fail("re-encoded header differs", "-");
  }
  return 0;
}
