// Waiting for a child process the test started.
#pragma once

#include <sys/types.h>

#include <chrono>

namespace shopsync::test {

// Waits up to `timeout` for `pid` to end. Returns its exit code, 128 + the
// signal that ended it, -1 when it is not our child, or -2 when it still runs
// at `timeout` (it is left running: the caller decides whether to kill it).
int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace shopsync::test
