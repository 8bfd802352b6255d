// Why an outbound connection does not come up, in words an operator acts on:
// the ZeroMQ socket monitor of one DEALER, read by the node's loop.
//
// ZeroMQ retries a failed TCP connect by itself and never says why; the
// monitor tells a connect that failed from a handshake the peer refused (its
// ZAP handler did not accept our key) and from a connection that came up but
// stayed silent. Why a connect failed (the name does not resolve, the host or
// network is out of reach, nothing listens) a DialProbe finds out.
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

#include "core/status.h"
#include "node/api/zmq_frames.h"
#include "node/dial_probe.h"
#include "node/zmq_socket.h"

namespace shopsync {

class DialWatch {
 public:
  // Monitors `dealer`; call before dealer.connect() to `host`:`port`.
  // `link_id` makes the monitor's inproc endpoint unique within the context.
  // The probe of why a connect fails starts at the first failed connect, or
  // at once with `probe_now` (a redial of a target that failed before, so
  // that its answer is in by the time this dial gives up).
  static Result<DialWatch> attach(zmq::Context& ctx, zmq::Socket& dealer, std::uint64_t link_id,
                                  const std::string& host, std::uint16_t port, bool probe_now = false);
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
  // Whether a TCP connection came up (as of the last failure() or stop()).
  bool reached() const { return reached_; }

 private:
  void* dealer_ = nullptr;  // the monitored socket, while monitored
  api::zmqf::SocketHandle events_;
  bool reached_ = false;  // a TCP connection came up
  std::string failure_;
  std::string host_;
  std::uint16_t port_ = 0;
  DialProbe probe_;
};

}  // namespace shopsync
