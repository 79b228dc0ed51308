// wsframe — everything.
#pragma once

#include "wsframe/backend.hpp"
#include "wsframe/error.hpp"
#include "wsframe/handshake.hpp"
#include "wsframe/connection.hpp"
#include "wsframe/deflate.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/kernels.hpp"
#include "wsframe/types.hpp"
