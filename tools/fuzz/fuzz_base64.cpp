// Differential base64 (RFC 4648, strict decoding): every backend against scalar, on the input as
// bytes to encode and as characters to decode, at several alignments in exact allocations.
// Encoding then decoding gives the bytes back; whatever decodes re-encodes to the same text
// (strict decoding accepts only the canonical form).
#include "fuzz_support.hpp"

using namespace wsframe;
using wsframe::fuzz::ExactBuffer;
using wsframe::fuzz::fail;

namespace {

std::string_view chars_of(ExactBuffer& b, std::size_t n) { return {reinterpret_cast<const char*>(b.data()), n}; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const Backend& scalar = *find_backend("scalar");
  const std::size_t encoded_size = base64_encoded_size(size);

  // Encode with scalar, the reference for everything below.
  std::vector<char> reference(encoded_size);
  if (base64_encode(scalar, input, reference) != encoded_size) fail("encoded size", "scalar");
  const std::span<const std::byte> reference_bytes = std::as_bytes(std::span(reference));

  // Decode the input as text with scalar.
  std::vector<std::byte> decoded(base64_decoded_max_size(size));
  std::size_t written = 0;
  const Base64Status status = base64_decode(scalar, {reinterpret_cast<const char*>(data), size}, decoded, written);
  if (status == Base64Status::ok) {
    std::vector<char> again(base64_encoded_size(written));
    base64_encode(scalar, std::span(decoded).first(written), again);
    if (std::string_view(again.data(), again.size()) != std::string_view(reinterpret_cast<const char*>(data), size))
      fail("decoded text does not re-encode to itself (non-canonical accepted)", "scalar");
  } else if (written != 0) {
    fail("written != 0 after an error", "scalar");
  }

  for (const Backend* backend : wsframe::fuzz::runnable_backends()) {
    const Backend& b = *backend;
    for (std::size_t offset : {0u, 1u, 13u}) {
      ExactBuffer in(offset, input);
      ExactBuffer out(offset, std::vector<std::byte>(encoded_size));
      const std::span<char> out_chars(reinterpret_cast<char*>(out.data()), encoded_size);
      if (base64_encode(b, in.span(), out_chars) != encoded_size || !out.equals(reference_bytes))
        fail("encoding differs from scalar", b.name);

      // Round trip from the exact-size encoded text into an exact-size output.
      ExactBuffer text(offset, reference_bytes);
      ExactBuffer back(offset, std::vector<std::byte>(size));
      std::size_t n = 0;
      if (base64_decode(b, chars_of(text, encoded_size), back.span(), n) != Base64Status::ok || n != size ||
          !back.equals(input))
        fail("decode(encode(x)) != x", b.name);

      // The input as text.
      ExactBuffer out2(offset, std::vector<std::byte>(decoded.size()));
      std::size_t n2 = 0;
      const Base64Status s2 = base64_decode(b, chars_of(in, size), out2.span(), n2);
      if (s2 != status || n2 != written) fail("decoding status or size differs from scalar", b.name);
      if (s2 == Base64Status::ok && !std::equal(decoded.begin(), decoded.begin() + written, out2.data()))
        fail("decoded bytes differ from scalar", b.name);
    }
  }
  return 0;
}
