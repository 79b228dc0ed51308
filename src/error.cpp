#include "wsframe/error.hpp"

namespace wsframe {

std::string_view message(Error e) noexcept {
  switch (e) {
    case Error::ok: return "no error";
    case Error::unknown_backend: return "no backend of that name is compiled in";
    case Error::unsupported_backend: return "this CPU or OS cannot run that backend";
  }
  return "unknown error";
}

std::uint16_t close_code(Error e) noexcept {
  switch (e) {
    case Error::ok:
    case Error::unknown_backend:
    case Error::unsupported_backend: return 0;
  }
  return 0;
}

}  // namespace wsframe
