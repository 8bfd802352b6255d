#include "node/daemon_backend.h"

#include <algorithm>

#include "node/node.h"
#include "node/postgres/pg_uplink.h"
#include "node/trusted_keys.h"
#include "node/writers.h"

namespace shopsync {

DaemonBackend::DaemonBackend(Node& node) : RecordService(node.replica(), node.counted_store(), node.outbox()), node_(node) {}

Result<api::NodeStatus> DaemonBackend::status() {
  const std::uint64_t now_ms = node_.now_ms();
  auto s = RecordService::status();
  if (!s) return s;
  s->name = node_.config().name;
  s->role = std::string(to_string(node_.config().role));
  s->public_key = node_.config().insecure ? std::string() : node_.identity().public_key;
  s->version = PROJECT_VERSION_TEXT;
  s->strategies = to_text(node_.strategies());
  s->uptime_ms = node_.uptime_ms();
  s->max_clock_skew_ms = node_.config().max_clock_skew_ms;
  const FullDiskState full = node_.store().full_disk();
  s->refused_writes_disk_full = full.refused_writes;
  s->disk_full_since_ms = full.full_since_ms;
  s->disk_full_error = full.last_error;
  if (const auto* pg = node_.postgres_stats()) {
    s->postgres = true;
    s->postgres_connected = pg->connected;
    s->postgres_error = pg->last_error;
    s->postgres_slot_retained_bytes = pg->slot_retained_bytes < 0 ? 0 : static_cast<std::uint64_t>(pg->slot_retained_bytes);
    s->postgres_slot_wal_status = pg->slot_wal_status;
  }
  const GrantPolicy& grants = node_.grants();
  if (const SubjectGrant* own = grants.grant_of(node_.replica().id())) s->grant = own->text;
  s->grant_needs_restart = node_.own_grant_changed();
  s->grants = grants.grants().size();
  s->admin_named = grants.admin_named();
  for (const auto& [subject, g] : grants.grants()) {
    if (g.problem.empty()) continue;
    if (!s->grant_problems.empty()) s->grant_problems += "; ";
    s->grant_problems += subject + ": " + g.problem;
  }
  s->records_refused = node_.records_refused();
  s->config_reloads = node_.reloads();
  s->config_reload_error = node_.reload_error();
  const auto unreadable = node_.store().unreadable().list();
  s->unreadable_records = node_.store().unreadable().count();
  for (const auto& e : unreadable) {
    if (s->unreadable.size() == api::kMaxUnreadableListed) break;
    s->unreadable.push_back({e.key, e.reason, describe_writers(e.origins, node_.replica(), node_.peering())});
  }
  const auto view = node_.peering().peer_view();
  for (auto& p : s->pending) {
    for (const auto& rec : view) {
      if (rec.node_id == p.peer) p.peer_name = rec.name;
    }
  }
  for (const auto& rec : view) {
    if (auto progress = node_.peering().sync_progress(rec.node_id, now_ms)) s->syncing.push_back({rec.node_id, rec.name, *progress});
  }
  return s;
}

Result<api::PeerList> DaemonBackend::peers() {
  auto base = RecordService::peers();
  if (!base) return base;
  api::PeerList out;
  const std::uint64_t now_ms = node_.now_ms();
  for (const auto& rec : node_.peering().peer_view()) {
    api::PeerInfo info;
    info.node_id = rec.node_id;
    info.name = rec.name;
    info.address = rec.address;
    info.public_key = rec.public_key;
    info.role = std::string(to_string(rec.role));
    info.state = node_.peering().peer_state(rec.node_id);
    info.found_by = std::string(to_string(rec.source));
    info.last_seen_ms = rec.last_seen_ms;
    info.last_sync_ms = rec.sync.last_sync_ms;
    info.lag_changes = rec.lag_changes;
    info.records_in = rec.sync.records_in;
    info.records_out = rec.sync.records_out;
    info.clock_offset_ms = rec.clock_offset_ms;
    info.last_error = rec.last_error;
    info.sessions = node_.peering().sessions_begun(rec.node_id);
    if (auto progress = node_.peering().sync_progress(rec.node_id, now_ms)) {
      info.syncing = true;
      info.sync = *progress;
    }
    // The replica's exact per-collection count and age, when it knows the peer.
    for (const auto& b : base->peers) {
      if (b.node_id != rec.node_id) continue;
      info.lag_changes = b.lag_changes;
      info.lag_ms = b.lag_ms;
    }
    out.peers.push_back(std::move(info));
  }
  // Targets not identified yet (never connected) show as address-only rows.
  for (auto& pending : node_.peering().unidentified_targets()) out.peers.push_back(std::move(pending));
  return out;
}

Result<api::TrustedKeyList> DaemonBackend::trusted_keys() {
  api::TrustedKeyList out;
  Status s = node_.store().read([&](StoreReader& r) -> Status {
    auto rows = list_trusted_keys(r);
    if (!rows) return rows.status();
    for (auto& row : *rows) out.keys.push_back({row.key, row.name, row.added_ms});
    auto revoked = list_revoked_keys(r);
    if (!revoked) return revoked.status();
    for (auto& row : *revoked) out.revoked.push_back({row.key, row.revoked_ms});
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

Status DaemonBackend::trust(const api::TrustAddRequest& request) { return node_.trust_add(request.key, request.name); }

Status DaemonBackend::distrust(std::string_view key) {
  auto removed = node_.trust_remove(std::string(key));
  if (!removed) return removed.status();
  if (!*removed) return Status::not_found("key " + std::string(key) + " is not trusted");
  return Status::ok();
}

Result<api::PublicKey> DaemonBackend::public_key() {
  if (node_.config().insecure) return Status{Errc::unavailable, "this node runs with --insecure: it has no CURVE key in use"};
  return api::PublicKey{node_.identity().public_key};
}

Result<api::DiscoveryReport> DaemonBackend::discovery() { return node_.discovery_report(); }

Status DaemonBackend::forget_peer(NodeId peer) { return node_.forget_peer(peer); }

}  // namespace shopsync
