// Unmasks the RFC 6455 5.7 "Hello" payload through the installed library; exit 0 on success.
#include <wsframe/wsframe.hpp>

#include <cstdio>
#include <cstring>

int main() {
  std::byte payload[] = {std::byte{0x7f}, std::byte{0x9f}, std::byte{0x4d}, std::byte{0x51}, std::byte{0x58}};
  const wsframe::MaskKey key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  wsframe::mask(payload, key);
  const bool ok = std::memcmp(payload, "Hello", 5) == 0;
  std::printf("consumer: %s on backend %.*s\n", ok ? "ok" : "WRONG", static_cast<int>(wsframe::active().name.size()),
              wsframe::active().name.data());
  return ok ? 0 : 1;
}
