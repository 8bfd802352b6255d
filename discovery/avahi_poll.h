// An AvahiPoll (avahi-common/watch.h) whose watches and timeouts are driven by
// someone else's event loop: the owner asks fds() and timeout_ms(), polls, and
// hands the result to dispatch(), which runs the due callbacks.
//
// Avahi's callbacks may create, update and free watches and timeouts, including
// their own, from inside dispatch(): freed ones are only marked and reclaimed
// when dispatch() returns, so nothing is used after being freed.
//
// Time: avahi states deadlines as absolute gettimeofday() values; so does this.
//
// Thread-safety: none; one thread owns the adapter and everything using it.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "discovery/poll_fd.h"

struct AvahiPoll;  // from avahi-common/watch.h; kept out of this header

namespace shopsync::discovery {

class AvahiPollAdapter {
 public:
  AvahiPollAdapter();
  // REQUIRES: whoever created watches and timeouts (an AvahiServer) is gone.
  ~AvahiPollAdapter();
  AvahiPollAdapter(const AvahiPollAdapter&) = delete;
  AvahiPollAdapter& operator=(const AvahiPollAdapter&) = delete;

  // The vtable to give avahi_server_new(); valid as long as the adapter.
  const AvahiPoll* api() const;

  // One entry per live watch that waits for something.
  std::vector<PollFd> fds() const;
  // Milliseconds until the earliest enabled timeout (0 if one is due, -1 if none).
  int timeout_ms() const;
  // Runs the callbacks of watches whose fd is in `ready` with revents set, then
  // of every timeout that is due (each once; a timeout is disabled before its
  // callback runs, which may re-enable it). Returns how many callbacks ran.
  int dispatch(std::span<const PollFd> ready);

  // For tests and diagnostics.
  std::size_t live_watches() const;
  std::size_t live_timeouts() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace shopsync::discovery
