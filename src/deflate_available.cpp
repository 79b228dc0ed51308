#include "wsframe/deflate.hpp"

namespace wsframe {

bool deflate_available() noexcept {
#ifdef WSFRAME_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

}  // namespace wsframe
