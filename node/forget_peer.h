// Retiring a peer gone for good (`shopsync forget`; docs/operations.md,
// "Retiring a node"): what the replica keeps of it (its knowledge stops
// holding back tombstone removal), its row of the peers table, and what the
// session rules know of it all go. A configured --peer stays a target; it is
// identified again if it answers.
#pragma once

#include "node/peering/peering.h"
#include "replication/replica.h"
#include "storage/store.h"

namespace shopsync {

// refused while the peer is connected (stop that node or revoke its key
// first), not_found when it was never known here; the store's errors.
Status forget_peer(Store& store, Replica& replica, Peering& peering, NodeId peer);

}  // namespace shopsync
