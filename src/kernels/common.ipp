// Small helpers shared by the kernels. Included inside wsframe::<isa> (see prelude.hpp): no
// #include here, and nothing from std that the compiler might emit out of line. The unaligned
// loads and stores (load_u64, ...) come from the SIMD layer (src/simd/memory.hpp).

// The masking key word for a position `offset` bytes further on. The word's memory image is
// the key in wire order, so on a little-endian CPU advancing the phase is a right rotation.
inline std::uint32_t advance_key(std::uint32_t key_word, std::size_t offset) noexcept {
  const unsigned shift = static_cast<unsigned>(offset & 3) * 8;
  return shift == 0 ? key_word : (key_word >> shift) | (key_word << (32 - shift));
}

inline std::uint64_t widen_key(std::uint32_t key_word) noexcept {
  return static_cast<std::uint64_t>(key_word) * 0x0000000100000001ull;
}
