#include "node/grant_keeper.h"

#include "core/node_id.h"
#include "node/log.h"

namespace shopsync {

Status GrantKeeper::load(const StrategyTable& strategies) {
  const auto it = strategies.collections.find(kGrantsCollection);
  const StrategyKind kind = it == strategies.collections.end() ? strategies.default_kind : it->second;
  SHOPSYNC_TRY(store_.read([&](StoreReader& r) { return policy_.load(r, kind, strategies.tolerance_ms); }));
  for (const auto& [subject, g] : policy_.grants()) {
    if (!g.problem.empty()) {
      SHOPSYNC_LOG(warn, "the grant of '" << subject << "' does not parse, so it may read the grants only and write "
                                          "nothing: " << g.problem);
    }
  }
  scope_now_ = policy_.read_scope(own_id_).fingerprint();
  if (!loaded_) scope_at_start_ = scope_now_;
  loaded_ = true;
  return Status::ok();
}

void GrantKeeper::refresh(const StrategyTable& strategies) {
  if (!stale_) return;
  stale_ = false;
  const bool changed_before = own_grant_changed();
  if (Status s = load(strategies); !s) {
    SHOPSYNC_LOG(error, "reading the grants: " << s.to_string() << " (the grants read before stay in effect)");
    stale_ = true;  // try again next turn
    return;
  }
  if (own_grant_changed() && !changed_before) {
    SHOPSYNC_LOG(warn, "the grant of this node changed: it writes under the new grant now, but holds the records of "
                       "the grant it started with until shopsyncd is restarted");
  }
}

void GrantKeeper::refused(NodeId from, const std::string& from_name, const RecordKey& key, const std::string& why) {
  ++records_refused_;
  SHOPSYNC_LOG(warn, "refused " << key.collection << "/" << key.id << " from node '" << from_name << "' ("
                                << node_id_text(from) << ", key " << policy_.subject_of(from)
                                << "): " << why << "; not applied (its grant does not allow it)");
}

}  // namespace shopsync
