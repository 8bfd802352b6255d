// One connection to a peer as the session rules see it: an outbound dial of
// ours or an inbound connection to our sync port. Peering (peering.h) owns
// them by link id; the transport behind peering::Io holds the socket.
#pragma once

#include <cstdint>
#include <string>

#include "node/wire_codec.h"
#include "storage/record.h"

namespace shopsync::peering {

struct Link {
  std::uint64_t id = 0;
  bool outbound = false;
  std::string key;           // outbound: the server key we pinned; inbound: the key it authenticated with
  std::string address;       // outbound: "HOST:PORT" dialed (its target's may have changed since)
  std::string ip;            // inbound: the peer's address
  std::uint64_t target = 0;  // outbound: the target dialed
  NodeId peer = 0;           // known after its HELLO
  bool established = false;  // HELLO exchanged both ways
  // Known accepted on both sides: ours, when the peer's answer to our HELLO
  // came; its, when a frame followed its HELLO and our answer. Only a
  // confirmed link carries a session.
  bool confirmed = false;
  VersionVector heard;            // the knowledge the peer's HELLO on it gave
  std::uint64_t incarnation = 0;  // the peer's process, from its HELLO (0: not said)
  std::string strategies_digest;  // the strategy table its HELLO named ("" from an older node)
  std::string strategies;
  std::uint32_t version = wire::kProtocolMin;  // negotiated protocol version
  // Monotonic times (Peering's clock, never the wall clock).
  std::uint64_t created_ms = 0;
  std::uint64_t last_recv_ms = 0;
  std::uint64_t last_send_ms = 0;
  std::uint64_t hello_sent_ms = 0;
  VersionVector told;  // the knowledge our last HELLO on it gave the peer
  std::string describe() const;
};

}  // namespace shopsync::peering
