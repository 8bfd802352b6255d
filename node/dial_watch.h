// Why an outbound connection does not come up, in words an operator acts on:
// the ZeroMQ socket monitor of one DEALER, read by the node's loop.
//
// ZeroMQ retries a failed TCP connect by itself and never says why; the
// monitor tells a connect that failed (nothing listens, or the host is out of
// reach) from a handshake the peer refused (its ZAP handler did not accept
// our key) and from a connection that came up but stayed silent.
//
// Thread-safety: the node's loop thread only. Lifetime: destroy (or stop) it
// before the monitored socket closes. libzmq sends each event from its I/O
// thread with a blocking send: an event for a monitor whose reader has gone
// would hang that thread, and with it every connection of the node. So the
// watch stops the monitor before it closes its reader, and stops it as soon
// as the connection is up (nothing reads it after that; a full queue would
// block the same way).
#pragma once

#include <cstdint>
#include <string>

#include "node/api/zmq_frames.h"
#include "node/zmq_socket.h"
#include "storage/status.h"

namespace shopsync {

class DialWatch {
 public:
  // Monitors `dealer`; call before dealer.connect(). `link_id` makes the
  // monitor's inproc endpoint unique within the context.
  static Result<DialWatch> attach(zmq::Context& ctx, zmq::Socket& dealer, std::uint64_t link_id);
  DialWatch() = default;
  DialWatch(DialWatch&& o) noexcept;
  DialWatch& operator=(DialWatch&& o) noexcept;
  DialWatch(const DialWatch&) = delete;
  DialWatch& operator=(const DialWatch&) = delete;
  ~DialWatch() { stop(); }

  // Stops the monitor and closes the reader; failure() keeps what was seen.
  void stop();

  // Reads the events waiting and returns the failure seen so far ("" when
  // none, or once a connection came up and nothing failed after).
  const std::string& failure();

 private:
  void* dealer_ = nullptr;  // the monitored socket, while monitored
  api::zmqf::SocketHandle events_;
  bool reached_ = false;  // a TCP connection came up
  std::string failure_;
};

}  // namespace shopsync
