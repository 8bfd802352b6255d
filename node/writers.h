// Who wrote a record, in words: "till-1 (node 0a1b...), this node". For
// what an unreadable record holds (the log, `shopsync status`, `doctor`).
#pragma once

#include <string>
#include <vector>

#include "core/node_id.h"
#include "node/peering/peering.h"
#include "replication/replica.h"

namespace shopsync {

// The writers of `origins` (writer ids): this node, or each peer by its name
// and id as `peering` knows it.
std::string describe_writers(const std::vector<NodeId>& origins, const Replica& replica, const Peering& peering);

}  // namespace shopsync
