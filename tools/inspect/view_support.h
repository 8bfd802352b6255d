// Internal to tools/inspect: helpers the view files share (not a public header).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "replication/peer_progress.h"
#include "storage/store.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect::detail {

// Settings keys the replication core persists (replication/replica.h).
inline constexpr std::string_view kHorizonKey = "replication/horizon";
inline constexpr std::string_view kWritersKey = "replication/writers";

// The persisted knowledge and counters of each peer the replica knows
// (Table::settings, replication/peer_progress.h).
Result<std::map<NodeId, PeerProgress>> peer_progress(StoreReader& r);
// The tombstone horizon (empty when none was ever persisted).
Result<VersionVector> tombstone_horizon(StoreReader& r);
// The origins the node of this store wrote under: its writer ids and, for
// writes made before writer ids, its node id `self` (docs/replication.md).
Result<std::set<NodeId>> own_origins(StoreReader& r, NodeId self);

// Walks the whole conflict log, oldest first.
Status for_each_logged(StoreReader& r, const std::function<void(const ConflictEntry&)>& visit);
// Teaches `book` the strategy of every collection named in the log.
Status learn_strategies(StoreReader& r, StrategyBook& book);

// A record is a tombstone when every sibling is a delete.
bool is_tombstone(const RecordState& state);

// The API's sibling shape as a storage Version (fields unstamped).
Version to_version(const api::SiblingView& s);
json api_fields_json(const api::FieldValues& fields);

// The whole conflict log of a node through its API, oldest first.
Result<std::vector<api::ConflictLogEntry>> api_conflict_log(api::ApiClient& client);

// The current state of every record named in the log, as the node shows it
// (nullopt: unknown or deleted and settled). A record the node marks
// `conflicted` is an open conflict.
using LoggedRecords = std::map<RecordKey, std::optional<api::RecordView>>;
Result<LoggedRecords> api_logged_records(api::ApiClient& client, const std::vector<api::ConflictLogEntry>& log);

}  // namespace shopsync::inspect::detail
