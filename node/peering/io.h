// What Peering (peering.h) asks of the transport under it: the node's
// ZeroMQ sockets (node/node.cc), or the simulator's fake network
// (tests/node/peering/). Every call is made on Peering's thread, from inside
// one of its events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/node_id.h"
#include "core/status.h"
#include "node/config.h"

namespace shopsync::peering {

// Times an event happens at, given by the caller: Peering reads no clock.
struct Now {
  std::uint64_t mono_ms = 0;  // monotonic: every timer, deadline and duration
  std::uint64_t wall_ms = 0;  // wall clock: only what is stored or shown (last seen, HELLO clock)
};

// Why an outbound connection got no answer, as the transport saw it.
struct DialState {
  std::string failure;  // "" when nothing failed
  bool reached = true;  // a TCP connection was made
};

class Io {
 public:
  virtual ~Io() = default;
  enum class Sent { ok, dropped, failed };

  // Opens outbound link `link` to `address`, authenticating the server with
  // `key` ("" in insecure mode). `retry`: the target failed before. An error
  // makes the target back off.
  virtual Status dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) = 0;
  // One frame on `link`: dropped when its queue is full, failed when the
  // connection is gone.
  virtual Sent send(std::uint64_t link, std::string_view frame) = 0;
  // `link` is forgotten: its socket closes. `end_connection`: an inbound
  // one's TCP connection is ended too (its key was revoked).
  virtual void close(std::uint64_t link, bool end_connection) = 0;
  // `link` exchanged HELLOs: nothing needs to watch its dial any more.
  virtual void established(std::uint64_t link) { (void)link; }
  // What the transport knows of an outbound link that got no answer.
  virtual DialState dial_state(std::uint64_t link) { (void)link; return {}; }
  // `peer` may have vanished without a goodbye: its session's link died
  // (silence, a lost connection) or a dial to it found nothing. The node asks
  // discovery to reconfirm its mDNS records (discovery/reconfirm.h).
  virtual void vanished(NodeId peer) { (void)peer; }

  // The trusted-key list.
  virtual bool is_trusted(std::string_view key) = 0;
  virtual std::vector<std::string> trusted_keys() = 0;
};

}  // namespace shopsync::peering
