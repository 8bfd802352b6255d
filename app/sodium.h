// libsodium, made ready before the first password hash or random token
// (sodium_init may be called any number of times; it returns at once after
// the first).
#pragma once

#include <sodium.h>

#include "core/status.h"

namespace shopsync::app {

inline Status ensure_sodium() {
  if (sodium_init() < 0) return Status::io_error("initialising libsodium");
  return Status::ok();
}

}  // namespace shopsync::app
