// What the replica keeps of one peer across restarts: the peer's knowledge as
// it last told us and the all-time counters of what crossed between us. It
// is the only persisted copy of these facts (the node's peers table holds how
// to reach the peer, not what it knows): the tombstone rule, `shopsync
// peers`, the inspector and /metrics all read it (docs/storage-format.md,
// "Settings keys").
//
// Settings key "replication/peer/<16 hex digits>". Value, format 2: the
// fields below joined by one space, knowledge first in the text form of
// core/version_vector.h (which holds no space):
//   "<knowledge> <records_in> <records_out> <last_sync_ms>"
// Format 1 (stores written before it) is the knowledge alone; it reads with
// the counters 0. Later formats append fields; a reader ignores those it does
// not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/version_vector.h"

namespace shopsync {

struct PeerProgress {
  VersionVector knowledge;         // latest the peer told us (HELLO, Pull, Notify)
  std::uint64_t records_in = 0;    // records received from it in batches, all time
  std::uint64_t records_out = 0;   // records sent to it in batches, all time
  std::uint64_t last_sync_ms = 0;  // wall ms of the last batch committed from it
  bool operator==(const PeerProgress&) const = default;
};

inline constexpr std::string_view kPeerProgressPrefix = "replication/peer/";

std::string peer_progress_key(NodeId peer);
// The peer a key of that prefix names; nullopt for any other key.
std::optional<NodeId> peer_of_progress_key(std::string_view key);
std::string encode_peer_progress(const PeerProgress& progress);
// corrupt (naming the bad field) when `value` is in neither format.
Result<PeerProgress> decode_peer_progress(std::string_view value);

}  // namespace shopsync
