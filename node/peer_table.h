// What a node remembers of each peer, in the store's Table::peers, so that
// `shopsync peers` and the inspector can show it and a restart keeps it.
//
// Key: the peer's node id as 16 lower-case hex digits. Value: the MessagePack
// array described in docs/wire-format.md ("Peers table"), format 1. New fields
// are appended; a decoder ignores trailing fields it does not know.
//
// Written by the node's event loop only (on connect, disconnect, after syncs,
// at most once a second per peer, and at stop); read by anyone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/config.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

struct PeerRecord {
  NodeId node_id = 0;
  std::string name;
  std::string public_key;  // the CURVE key it authenticated with (empty in --insecure mode)
  std::string address;     // HOST:PORT it is reached at (or connected from)
  Role role = Role::peer;
  PeerSource source = PeerSource::static_peer;
  std::uint64_t last_seen_ms = 0;  // last frame received, wall clock
  std::uint64_t last_sync_ms = 0;  // last batch received or the last time we were level
  VersionVector knowledge;         // its knowledge as it last told us
  std::uint64_t records_in = 0;    // records received from it, all time
  std::uint64_t records_out = 0;   // records sent to it, all time
  std::uint64_t lag_changes = 0;   // changes we have that its knowledge lacks (upper bound)
  std::string last_error;          // the last failure with it, "" when none
  std::int64_t clock_offset_ms = 0;  // its clock minus ours, measured at HELLO
  bool operator==(const PeerRecord&) const = default;
};

inline constexpr std::uint32_t kPeerRecordFormat = 1;

std::string peer_table_key(NodeId node);
std::string encode_peer_record(const PeerRecord& peer);
// corrupt when the bytes are not a peer record of a known format.
Result<PeerRecord> decode_peer_record(std::string_view key, std::string_view value);

// Every stored peer, by node id. Undecodable rows are skipped (and named in
// `skipped` when given).
Result<std::vector<PeerRecord>> load_peers(StoreReader& reader, std::vector<std::string>* skipped = nullptr);

// Sum over origins of how far `behind` is below `ahead`: the number of changes
// (an upper bound: superseded writes count too) that `behind` lacks.
std::uint64_t changes_behind(const VersionVector& ahead, const VersionVector& behind);

}  // namespace shopsync
