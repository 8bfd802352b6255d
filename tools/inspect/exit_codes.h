// What shopsync-inspect's exit status means (docs/inspector.md). Scripts rely
// on these numbers: never renumber, only add.
#pragma once

#include "core/status.h"

namespace shopsync::inspect {

enum ExitCode : int {
  kExitOk = 0,
  kExitDiffers = 1,       // diff: the two nodes differ (like diff(1))
  kExitUsage = 2,         // the command line is wrong; nothing was opened
  kExitNoDataDir = 3,     // DATA_DIR does not exist or cannot be read
  kExitNotShopsync = 4,   // DATA_DIR holds no shopsync store (or a foreign LMDB)
  kExitNewerSchema = 5,   // the store was written by a newer shopsync
  kExitUnreachable = 6,   // --api: no answer from the node
  kExitNotFound = 7,      // record: no such record
  kExitFailed = 8,        // anything else: corrupt data, I/O error, protocol error
};

// The exit status for a failure of opening or reading.
inline int exit_code_for(const Status& s) {
  switch (s.code()) {
    case Errc::ok: return kExitOk;
    case Errc::not_shopsync: return kExitNotShopsync;
    case Errc::newer_schema: return kExitNewerSchema;
    case Errc::unavailable: return kExitUnreachable;
    case Errc::not_found: return kExitNotFound;
    case Errc::invalid_argument: return kExitUsage;
    default: return kExitFailed;
  }
}

}  // namespace shopsync::inspect
