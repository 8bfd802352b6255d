// The node's application service: the one door through which everything that
// serves applications reaches the replica, its store and the record counts.
// The local API (api/api_server.h) calls it as its ApiBackend; the HTTP
// gateway's REST routes, device sync protocol (/api/sync/*), web console and
// /metrics call it for records, conflicts, device state, counts, tokens and
// users; the PostgreSQL link reads its changes feed. None of them holds the
// Replica, the Store or the Outbox.
//
// put / delete / resolve are local writes through the Replica (one store
// transaction each; the Replica queues NOTIFY for connected peers in the
// Outbox). get / list / changes / conflicts read the Store in one read
// transaction each and show records exactly as the Replica would
// (Replica::make_visible). status() and peers() fill what the Replica knows
// (node id, cluster, knowledge, record counts, pending changes per peer and
// collection, per-peer counters); the daemon derives from this class
// (node/daemon_backend.h), calls them and adds what only it knows (name,
// role, key, addresses, states), and implements trust and key.
//
// Record counts: the Replica writes through a CountingStore
// (app/record_counts.h), which keeps live and conflicted records per
// collection current on every commit. counts() is that, and it is the only
// count of records: collections(), status(), the gateway's GET /v1 and
// /metrics all show it. start_counting() sets it up at start (one scan).
//
// The changes feed: a cursor is a version vector; the changes after it are
// the change-index entries (live versions) above it, per origin in counter
// order, merged oldest first by HLC. A record changed several times between
// two reads shows once, as its latest version. Delivery is at least once
// across restarts of the reader (keep the last cursor), and a change is never
// skipped while the origins' writes arrive in counter order (DESIGN.md).
//
// Costs: counts() is O(collections); conflicts() and status() scan the
// conflict log for open ones.
//
// Thread-safety: like the Replica, one thread (the node's loop); counts()
// from any thread.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>
#include <string>

#include "api/api_backend.h"
#include "app/record_counts.h"
#include "app/tokens.h"
#include "app/users.h"
#include "replication/device_push.h"
#include "replication/device_state.h"
#include "replication/outbox.h"
#include "replication/replica.h"
#include "storage/store.h"

namespace shopsync::app {

// Bound on the field bytes of one list or conflicts page (a page always holds
// at least one record).
inline constexpr std::size_t kMaxPageBytes = 4 << 20;
// Bound on the conflict log entries RecordService::history() returns.
inline constexpr std::size_t kMaxHistoryEntries = 1000;

// Makes `counted` count as `replica` shows records (live: the visible
// version is not a delete) and counts every record once. The Replica must
// write through `counted`.
Status start_counting(CountingStore& counted, const Replica& replica);

// One record the device protocol sent to a device, and the version it sent.
struct SentToDevice {
  RecordKey key;
  SeenVersion seen;
};

class RecordService : public api::ApiBackend {
 public:
  // All three must outlive the service; `replica` writes through `store`
  // (start_counting). `outbox` receives what the Replica sends to peers
  // because of a write made through the service.
  RecordService(Replica& replica, CountingStore& store, Outbox& outbox);

  // ---- the local API's record operations (api_backend.h)
  Result<api::WriteResult> put(const api::PutRequest& request) override;
  Result<api::RecordView> get(const RecordKey& key) override;
  Result<api::WriteResult> remove(const RecordKey& key) override;
  Result<api::ListPage> list(const api::ListRequest& request) override;
  Result<api::CollectionList> collections() override;
  Result<api::ChangesPage> changes(const api::ChangesRequest& request) override;
  Result<api::ConflictsPage> conflicts(const api::ConflictsRequest& request) override;
  Result<api::WriteResult> resolve(const api::ResolveRequest& request) override;
  // The conflict log entries of one record, oldest first (at most
  // kMaxHistoryEntries): its history for the web console. Scans the whole
  // log (O(entries)).
  Result<std::vector<api::ConflictLogEntry>> history(const RecordKey& key);

  // What the Replica knows; name, role, public_key, version and uptime are left
  // empty for the daemon to fill.
  Result<api::NodeStatus> status() override;
  // One entry per peer the Replica knows: node id, "connected" or
  // "disconnected", records in/out, last sync, lag in changes.
  Result<api::PeerList> peers() override;
  // unavailable: discovery and keys belong to the daemon, which overrides these.
  Result<api::DiscoveryReport> discovery() override;
  Result<api::TrustedKeyList> trusted_keys() override;
  Status trust(const api::TrustAddRequest& request) override;
  Status distrust(std::string_view key) override;
  Result<api::PublicKey> public_key() override;
  Status forget_peer(NodeId peer) override;
  Result<api::TokenSecret> create_token(const api::TokenCreateRequest& request) override;
  Result<api::CredentialList> list_tokens() override;
  Status revoke_token(std::string_view name) override { return app::revoke_token(store_, name); }

  // ---- records as the gateway's REST routes see them
  // Live and conflicted records per collection (collections holding records).
  RecordCounts counts() const { return store_.counts(); }
  // nullopt when the record was never stored (a tombstone is returned).
  Result<std::optional<VisibleRecord>> find(const RecordKey& key) { return replica_.get(key); }
  Result<VisibleRecord> write(const RecordKey& key, const FieldUpdate& update) { return replica_.put(key, update, outbox_); }
  Result<VisibleRecord> erase(const RecordKey& key) { return replica_.remove(key, outbox_); }
  // Every stored record of `collection` after the id `after`, in id order, as
  // the Replica shows it, until `visit` returns Scan::stop.
  Status for_each_visible(const std::string& collection, const std::string& after,
                          const std::function<Scan(const VisibleRecord&)>& visit);

  // ---- the node as the gateway shows it
  NodeId node_id() const { return replica_.id(); }
  const std::string& cluster() const { return replica_.cluster(); }
  bool is_own_origin(NodeId origin) const { return replica_.is_own_origin(origin); }
  StrategyKind strategy_for(std::string_view collection) const { return replica_.strategy_for(collection); }
  std::uint64_t local_writes() const { return replica_.local_writes(); }
  std::vector<PeerStats> replica_peers() const { return replica_.peers(); }
  // Changes per collection this node holds that `peer`'s knowledge lacks.
  Result<std::map<std::string, std::uint64_t>> pending_changes(NodeId peer) { return replica_.pending_changes(peer); }
  // Conflict log entries after `seq` (0: all); `seq` becomes the last one's.
  Result<std::uint64_t> count_conflicts_after(std::uint64_t& seq);

  // ---- the device sync protocol (/api/sync/*, replication/device_push.h)
  // A read transaction for a device's pull or status: `body` reads the
  // device's state and the records (show them with make_visible). Writes go
  // through the calls below only.
  Status read_for_device(const std::function<Status(StoreReader&)>& body);
  VisibleRecord make_visible(const RecordKey& key, const RecordState& state) const {
    return replica_.make_visible(key, state);
  }
  // What a pull sent and the device's new state, in one transaction.
  Status record_device_pull(std::string_view device, const std::vector<SentToDevice>& sent, const DeviceState& state);
  Result<std::vector<DeviceChangeOutcome>> apply_device_push(const DevicePush& push) {
    return replica_.apply_device_push(push, outbox_);
  }
  Result<VisibleRecord> apply_device_resolve(const DeviceResolve& resolve) {
    return replica_.apply_device_resolve(resolve, outbox_);
  }

  // ---- the gateway's Bearer tokens (tokens.h) and built-in login's users (users.h)
  Result<std::optional<std::string>> verify_token(std::string_view secret) { return app::verify_token(store_, secret); }
  // With the token's scope.
  Result<std::optional<VerifiedToken>> find_token(std::string_view secret) { return app::find_token(store_, secret); }
  // Whether `password` is `name`'s: the user's record (users.h), whatever node
  // wrote it; false for a user that does not exist, after the same work.
  Result<bool> check_password(std::string_view name, std::string_view password);
  Result<std::string> login_key() { return app::login_key(store_); }

 protected:
  Replica& replica() { return replica_; }
  Store& store() { return store_; }

 private:
  Result<std::uint64_t> count_open_conflicts();
  Status for_each_open_conflict(StoreReader& reader, std::string_view collection,
                                const std::function<bool(const VisibleRecord&)>& visit);
  // The HLC of the oldest live version that `known` does not cover (0: none).
  Result<Hlc> oldest_change_after(const VersionVector& known);

  Replica& replica_;
  CountingStore& store_;
  Outbox& outbox_;
};

// A record as the API shows it. Siblings are listed when there are several.
api::RecordView to_record_view(const VisibleRecord& record);

}  // namespace shopsync::app
