// One descriptor for the owner's poll loop to watch on behalf of Discovery.
#pragma once

namespace shopsync::discovery {

// The flag values equal ZMQ_POLLIN, ZMQ_POLLOUT and ZMQ_POLLERR on purpose, so a
// PollFd copies straight into a zmq_pollitem_t {nullptr, fd, events, revents}.
// (They are NOT poll(2)'s POLLIN/POLLOUT values; see to_poll_events().)
inline constexpr short poll_in = 1;
inline constexpr short poll_out = 2;
inline constexpr short poll_err = 4;

struct PollFd {
  int fd = -1;
  short events = 0;   // what to wait for: poll_in | poll_out
  short revents = 0;  // what happened: set by the owner before dispatch()
};

// Conversions between these flags and poll(2)'s, for owners that use poll(2).
short to_poll_events(short flags);
short from_poll_events(short poll_events);

}  // namespace shopsync::discovery
