// An address this node dials: a static peer, the uplink, one found by mDNS,
// or one learned from an inbound HELLO. Peering (peering.h) owns them.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "node/config.h"
#include "storage/record.h"

namespace shopsync::peering {

struct Target {
  std::uint64_t id = 0;
  PeerAddress address;
  PeerSource source = PeerSource::static_peer;
  NodeId peer = 0;            // learned from its HELLO
  std::string key;            // given (KEY@HOST:PORT) or learned
  unsigned failures = 0;
  std::uint64_t next_dial_ms = 0;
  std::set<std::uint64_t> links;  // dials open now (one per candidate key)
  std::string last_error;
  bool refused = false;       // it refused us or we it (cluster, protocol): long backoff
  bool warned_no_key = false;
  bool untrusted = false;     // its given key is not trusted (revoked): not dialed until `trust add`
  std::uint64_t forget_at_ms = 0;  // mdns: gone from the LAN; inbound: not in session; dropped then unless found again
  std::uint64_t created_ms = 0;
};

// Where an identified peer that dialed us listens (from its HELLO), dialed
// back once due.
struct Learned {
  PeerAddress address;
  std::uint64_t due_ms = 0;
};

}  // namespace shopsync::peering
