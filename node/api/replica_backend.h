// The record half of an ApiBackend, over the node's Replica and Store.
//
// put / delete / resolve are local writes through the Replica (one store
// transaction each; the Replica queues NOTIFY for connected peers in the
// Outbox). get / list / changes / conflicts / collections read the Store in
// one read transaction each and show records exactly as the Replica would
// (Replica::make_visible). status() and peers() fill what the Replica knows
// (node id, cluster, knowledge, record counts, pending changes per peer and
// collection, per-peer counters); the daemon derives from this class, calls
// them and adds what only it knows (name, role, key, addresses, states), and
// implements trust and key.
//
// The changes feed: a cursor is a version vector; the changes after it are
// the change-index entries (live versions) above it, per origin in counter
// order, merged oldest first by HLC. A record changed several times between
// two reads shows once, as its latest version. Delivery is at least once
// across restarts of the reader (keep the last cursor), and a change is never
// skipped while the origins' writes arrive in counter order (DESIGN.md).
//
// Costs: status() and collections() count records by scanning the store
// (O(records)) the first time after the knowledge moved; conflicts() and
// status() scan the conflict log for open ones.
//
// Thread-safety: like the Replica, one thread (the node's loop).
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>
#include <string>

#include "node/api/api_backend.h"
#include "replication/outbox.h"
#include "replication/replica.h"
#include "storage/store.h"

namespace shopsync::api {

// Bound on the field bytes of one list or conflicts page (a page always holds
// at least one record).
inline constexpr std::size_t kMaxPageBytes = 4 << 20;
// Bound on the conflict log entries ReplicaBackend::history() returns.
inline constexpr std::size_t kMaxHistoryEntries = 1000;

class ReplicaBackend : public ApiBackend {
 public:
  // All three must outlive the backend. `outbox` receives what the Replica
  // sends to peers because of a write made through the API.
  ReplicaBackend(Replica& replica, Store& store, Outbox& outbox);

  Result<WriteResult> put(const PutRequest& request) override;
  Result<RecordView> get(const RecordKey& key) override;
  Result<WriteResult> remove(const RecordKey& key) override;
  Result<ListPage> list(const ListRequest& request) override;
  Result<CollectionList> collections() override;
  Result<ChangesPage> changes(const ChangesRequest& request) override;
  Result<ConflictsPage> conflicts(const ConflictsRequest& request) override;
  Result<WriteResult> resolve(const ResolveRequest& request) override;
  // The conflict log entries of one record, oldest first (at most
  // kMaxHistoryEntries): its history for the web console. Scans the whole
  // log (O(entries)).
  Result<std::vector<ConflictLogEntry>> history(const RecordKey& key);

  // What the Replica knows; name, role, public_key, version and uptime are left
  // empty for the daemon to fill.
  Result<NodeStatus> status() override;
  // One entry per peer the Replica knows: node id, "connected" or
  // "disconnected", records in/out, last sync, lag in changes.
  Result<PeerList> peers() override;
  // unavailable: discovery belongs to the daemon, which overrides this.
  Result<DiscoveryReport> discovery() override;
  Status forget_peer(NodeId peer) override;

 protected:
  Replica& replica() { return replica_; }
  Store& store() { return store_; }

 private:
  Result<std::vector<CollectionCount>> record_counts();
  Result<std::uint64_t> count_open_conflicts();
  Status for_each_open_conflict(StoreReader& reader, std::string_view collection,
                                const std::function<bool(const VisibleRecord&)>& visit);
  // The HLC of the oldest live version that `known` does not cover (0: none).
  Result<Hlc> oldest_change_after(const VersionVector& known);

  Replica& replica_;
  Store& store_;
  Outbox& outbox_;
  std::optional<std::pair<VersionVector, std::vector<CollectionCount>>> counts_cache_;
};

// A record as the API shows it. Siblings are listed when there are several.
RecordView to_record_view(const VisibleRecord& record);

}  // namespace shopsync::api
