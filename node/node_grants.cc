// The node's side of grants (docs/operations.md, "Grants"): the GrantPolicy
// the replica asks, kept in step with the grants collection, and the log
// line of a record refused from a peer.
#include "node/log.h"
#include "node/node.h"
#include "node/node_parts.h"
#include "net/public_key_text.h"

namespace shopsync {

std::string Node::subject_of(NodeId node) const {
  if (node == own_id_) return format_public_key(config_.insecure ? std::string() : identity_.public_key);
  if (!peering_) return "";
  const auto it = peering_->known().find(node);
  return it == peering_->known().end() ? std::string() : format_public_key(it->second.public_key);
}

Status Node::load_grants() {
  if (!grants_) grants_ = std::make_unique<GrantPolicy>([this](NodeId node) { return subject_of(node); });
  auto table = peering_ ? Result<StrategyTable>(peering_->strategies()) : strategy_table_of(config_);
  if (!table) return table.status();
  const auto it = table->collections.find(kGrantsCollection);
  const StrategyKind kind = it == table->collections.end() ? table->default_kind : it->second;
  SHOPSYNC_TRY(store_->read([&](StoreReader& r) { return grants_->load(r, kind, table->tolerance_ms); }));
  for (const auto& [subject, g] : grants_->grants()) {
    if (!g.problem.empty()) {
      SHOPSYNC_LOG(warn, "the grant of '" << subject << "' does not parse, so it may read the grants only and write "
                                          "nothing: " << g.problem);
    }
  }
  own_scope_now_ = grants_->read_scope(own_id_).fingerprint();
  return Status::ok();
}

void Node::reload_grants() {
  grants_changed_ = false;
  const bool changed_before = own_grant_changed();
  if (Status s = load_grants(); !s) {
    SHOPSYNC_LOG(error, "reading the grants: " << s.to_string() << " (the grants read before stay in effect)");
    grants_changed_ = true;  // try again next turn
    return;
  }
  if (own_grant_changed() && !changed_before) {
    SHOPSYNC_LOG(warn, "the grant of this node changed: it writes under the new grant now, but holds the records of "
                       "the grant it started with until shopsyncd is restarted");
  }
}

void Node::NodeOutbox::refused(NodeId from, const RecordKey& key, const std::string& why) {
  ++node_.records_refused_;
  const auto it = node_.peering_->known().find(from);
  const std::string name = it == node_.peering_->known().end() ? std::string() : it->second.name;
  SHOPSYNC_LOG(warn, "refused " << key.collection << "/" << key.id << " from node '" << name << "' ("
                                << node_id_text(from) << ", key " << node_.subject_of(from)
                                << "): " << why << "; not applied (its grant does not allow it)");
}

}  // namespace shopsync
