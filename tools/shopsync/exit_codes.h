// What the shopsync CLI's exit status means (docs/cli.md). Scripts rely on
// these numbers: never renumber, only add.
#pragma once

#include "core/status.h"

namespace shopsync::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitNotFound = 1,     // the record (or key, or sibling) does not exist
  kExitUsage = 2,        // the command line is wrong; nothing was sent
  kExitUnreachable = 3,  // no answer from the node (not running, wrong --api, timeout)
  kExitRejected = 4,     // the node refused the input (invalid, too large, not allowed)
  kExitConflict = 5,     // the record is conflicted (get shows it; resolve it)
  kExitNodeError = 6,    // the node failed (storage error, disk full, corrupt data)
  kExitProtocol = 7,     // the node's answer was not understood (version mismatch?)
  kExitAdvice = 8,       // doctor: the node works, but found something to fix
};

// The exit status for a failed call.
inline int exit_code_for(const Status& s) {
  switch (s.code()) {
    case Errc::ok: return kExitOk;
    case Errc::not_found: return kExitNotFound;
    case Errc::unavailable: return kExitUnreachable;
    case Errc::invalid_argument:
    case Errc::too_large:
    case Errc::refused: return kExitRejected;
    case Errc::protocol: return kExitProtocol;
    case Errc::corrupt:
    case Errc::newer_schema:
    case Errc::not_shopsync:
    case Errc::disk_full:
    case Errc::io_error: return kExitNodeError;
  }
  return kExitNodeError;
}

}  // namespace shopsync::cli
