// wsframe — everything.
#pragma once

#include "wsframe/backend.hpp"
#include "wsframe/error.hpp"
#include "wsframe/connection.hpp"
#include "wsframe/frame.hpp"
#include "wsframe/handshake.hpp"
#include "wsframe/kernels.hpp"
