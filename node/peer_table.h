// What a node remembers of how to reach each peer, in the store's
// Table::peers, so that `shopsync peers` and the inspector can show it and a
// restart keeps it. What the peer knows and the counters of what crossed are
// the replica's, persisted once, in settings (replication/peer_progress.h).
//
// Key: the peer's node id as 16 lower-case hex digits. Value: the MessagePack
// array described in docs/storage-format.md ("Peers table"), format 2. New
// fields are appended; a decoder ignores trailing fields it does not know.
// Format 1 rows (data directories written before format 2) also held the
// peer's knowledge and counters: migrate_peers_table() moves those to the
// replica's settings key and rewrites the row.
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
#include "replication/peer_progress.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

// One peer as the node shows it (`shopsync peers`, the API, the inspector).
struct PeerRecord {
  // The row of Table::peers.
  NodeId node_id = 0;
  std::string name;
  std::string public_key;  // the CURVE key it authenticated with (empty in --insecure mode)
  std::string address;     // HOST:PORT it is reached at (or connected from)
  Role role = Role::peer;
  PeerSource source = PeerSource::static_peer;
  std::uint64_t last_seen_ms = 0;  // last frame received, wall clock
  std::string last_error;          // the last failure with it, "" when none
  std::int64_t clock_offset_ms = 0;  // its clock minus ours, measured at HELLO
  // Not in the row: the replica's facts of the peer (its PeerStats, filled by
  // the views), and the changes we have that its knowledge lacks (an upper
  // bound), computed from them. A format 1 row decodes with the progress it held.
  PeerProgress sync;
  std::uint64_t lag_changes = 0;
  bool operator==(const PeerRecord&) const = default;
};

inline constexpr std::uint32_t kPeerRecordFormat = 2;

std::string peer_table_key(NodeId node);
std::string encode_peer_record(const PeerRecord& peer);
// corrupt when the bytes are not a peer record of a known format.
Result<PeerRecord> decode_peer_record(std::string_view key, std::string_view value);

// Every stored peer, by node id. Undecodable rows are skipped (and named in
// `skipped` when given).
Result<std::vector<PeerRecord>> load_peers(StoreReader& reader, std::vector<std::string>* skipped = nullptr);

// The forward migration of format 1 rows, in one transaction: the progress a
// row held goes to the replica's settings key (the replica's own knowledge of
// the peer kept when it has one, the counters taken from the row, which was
// the only place they were kept), and the row is rewritten in format 2. Run
// before the Replica opens. Rows that do not decode are left as they are.
// Returns how many rows it migrated (0 on a store already migrated).
Result<std::size_t> migrate_peers_table(Store& store);

// Sum over origins of how far `behind` is below `ahead`: the number of changes
// (an upper bound: superseded writes count too) that `behind` lacks.
std::uint64_t changes_behind(const VersionVector& ahead, const VersionVector& behind);

}  // namespace shopsync
