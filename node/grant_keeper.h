// The node's side of grants (docs/operations.md, "Grants"): the GrantPolicy
// the replica asks, read at start and again after a commit changed a grant
// record; this node's own read scope then and now (a change reaches the
// records it holds at the next restart); the records refused from peers.
//
// Thread-safety: none; the node's loop thread only. `store` outlives it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "node/grant_policy.h"
#include "replication/strategy_table.h"
#include "storage/store.h"

namespace shopsync {

class GrantKeeper {
 public:
  // `own_id`: this node's id, known before its replica opens.
  GrantKeeper(Store& store, NodeId own_id, GrantPolicy::SubjectOf subject_of)
      : store_(store), own_id_(own_id), policy_(std::move(subject_of)) {}

  // Reads every grant; `strategies` decides between a grant record's
  // siblings. The first call fixes the scope this node started with.
  Status load(const StrategyTable& strategies);
  // A commit changed a grant record: refresh() reads them again.
  void changed() { stale_ = true; }
  // Reads again if a grant changed since; a read that fails is logged, the
  // grants read before stay in effect and the next call tries again.
  void refresh(const StrategyTable& strategies);

  // The replica's AccessPolicy.
  GrantPolicy& policy() { return policy_; }
  const GrantPolicy& policy() const { return policy_; }
  // This node's grant changed since it started: it still holds the records
  // of the scope it started with until a restart.
  bool own_grant_changed() const { return scope_now_ != scope_at_start_; }

  // A record of a peer's batch was refused as outside its grant: logged and counted.
  void refused(NodeId from, const std::string& from_name, const RecordKey& key, const std::string& why);
  std::uint64_t records_refused() const { return records_refused_; }

 private:
  Store& store_;
  NodeId own_id_;
  GrantPolicy policy_;
  bool loaded_ = false;
  bool stale_ = false;
  std::string scope_at_start_;  // fingerprints of this node's read scope
  std::string scope_now_;
  std::uint64_t records_refused_ = 0;
};

}  // namespace shopsync
