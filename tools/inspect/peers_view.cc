// The peers view: every peer this node has seen, how far behind it is, and
// whether it is putting the tombstone horizon at risk.
#include <algorithm>
#include <map>
#include <set>

#include "node/config.h"
#include "node/peer_table.h"
#include "node/public_key_text.h"
#include "replication/hlc.h"
#include "tools/inspect/view_support.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

// A peer seen within this long counts as active in a data-dir view (the node
// persists each peer's row at most once a second while connected).
constexpr std::uint64_t kActiveWithinMs = 15'000;
// Clock offsets beyond this are flagged (shopsyncd's --max-clock-skew-ms default).
constexpr std::int64_t kClockSkewWarnMs = 5000;

struct Lag {
  std::uint64_t changes = 0;
  Hlc oldest = 0;  // HLC of the oldest live version the peer lacks; 0 = none
};

// What the peer lacks of this node's live versions: the change-index entries
// above its knowledge. Per origin, counters grow with HLCs, so the first entry
// above the peer's counter is that origin's oldest missing version.
Result<Lag> lag_of(StoreReader& r, const VersionVector& ours, const VersionVector& theirs) {
  Lag lag;
  for (const auto& [origin, counter] : ours.entries()) {
    const std::uint64_t known = theirs.get(origin);
    if (counter <= known) continue;
    std::optional<std::pair<std::uint64_t, RecordKey>> first;
    SHOPSYNC_TRY(r.for_each_change(origin, known, [&](std::uint64_t c, const RecordKey& key) {
      if (!first) first.emplace(c, key);
      ++lag.changes;
      return Scan::next;
    }));
    if (!first) continue;
    auto state = r.record(first->second);
    if (!state) return state.status();
    if (!state->has_value()) continue;
    for (const Version& v : (*state)->siblings) {
      if (v.dot == Dot{origin, first->first} && (lag.oldest == 0 || v.updated_at < lag.oldest)) lag.oldest = v.updated_at;
    }
  }
  return lag;
}

std::string peer_label(const json& p) {
  const std::string name = p.value("name", std::string());
  const std::string id = p["node_id"].is_string() ? p["node_id"].get<std::string>() : std::string("?");
  return name.empty() ? id : name + " (" + id + ")";
}

// Fills "warnings" and "horizon_at_risk" of one peer row.
void judge(json& p, std::uint64_t now, std::uint64_t retention_ms) {
  json warnings = json::array();
  bool at_risk = false;
  const std::uint64_t last_seen = p["last_seen"].is_object() ? p["last_seen"]["ms"].get<std::uint64_t>() : 0;
  if (p["tombstones_held_back"].is_number() && p["tombstones_held_back"].get<std::uint64_t>() > 0) {
    at_risk = true;
    warnings.push_back("holds back " + std::to_string(p["tombstones_held_back"].get<std::uint64_t>()) +
                       " tombstone(s) older than the retention (" + format_duration(retention_ms) +
                       "): they stay until it syncs or is forgotten");
  }
  if (last_seen != 0 && now > last_seen) {
    const std::uint64_t age = now - last_seen;
    if (age >= retention_ms) {
      at_risk = true;
      warnings.push_back("not seen for " + format_duration(age) + ", longer than the tombstone retention (" +
                         format_duration(retention_ms) + "): tombstone removal waits for it");
    } else if (age >= retention_ms / 2) {
      at_risk = true;
      warnings.push_back("not seen for " + format_duration(age) + ", more than half the tombstone retention (" +
                         format_duration(retention_ms) + ")");
    }
  }
  if (p["behind_horizon"].is_boolean() && p["behind_horizon"].get<bool>()) {
    at_risk = true;
    warnings.push_back("its knowledge is below this node's tombstone horizon: it must take a snapshot when it returns");
  }
  const std::int64_t offset = p.value("clock_offset_ms", std::int64_t{0});
  if (offset > kClockSkewWarnMs || offset < -kClockSkewWarnMs) {
    warnings.push_back("clock offset " + std::to_string(offset) + " ms is beyond " +
                       std::to_string(kClockSkewWarnMs) + " ms");
  }
  p["horizon_at_risk"] = at_risk;
  p["warnings"] = warnings;
}

// How much of what `theirs` knows this node already covers, in percent: the
// progress of pulling from that peer (an initial sync shows it rising).
double sync_progress(const VersionVector& ours, const VersionVector& theirs) {
  std::uint64_t total = 0, covered = 0;
  for (const auto& [node, counter] : theirs.entries()) {
    total += counter;
    covered += std::min(counter, ours.get(node));
  }
  if (total == 0) return 100.0;
  return static_cast<double>(covered * 1000 / total) / 10.0;
}

json ago(std::uint64_t now, std::uint64_t then) {
  if (then == 0) return nullptr;
  return then > now ? std::int64_t{0} : static_cast<std::int64_t>(now - then);
}

Result<json> from_dir(DataDir& dir, const ViewContext& ctx) {
  const std::uint64_t now = ctx.now_ms;
  json rows = json::array();
  json skipped = json::array();
  Status s = dir.store().read([&](StoreReader& r) -> Status {
    auto meta = r.node_meta();
    if (!meta) return meta.status();
    const VersionVector ours = meta->has_value() ? (*meta)->knowledge : VersionVector();
    std::vector<std::string> bad;
    auto table = load_peers(r, &bad);
    if (!table) return table.status();
    for (auto& b : bad) skipped.push_back(b);
    auto known = detail::peer_knowledge(r);
    if (!known) return known.status();
    auto horizon = detail::tombstone_horizon(r);
    if (!horizon) return horizon.status();

    std::map<NodeId, PeerRecord> peers;
    for (const auto& row : *table) peers[row.node_id] = row;
    std::set<NodeId> with_row;
    for (const auto& [id, row] : peers) with_row.insert(id);
    // Knowledge only grows: the freshest view is the join of both records.
    for (const auto& [id, vv] : *known) {
      PeerRecord& p = peers[id];
      p.node_id = id;
      p.knowledge.join(vv);
    }

    // One pass over the records: tombstones older than the retention that
    // this node could remove but for a peer whose knowledge lacks them.
    std::map<NodeId, std::uint64_t> held;
    auto names = r.collections();
    if (!names) return names.status();
    for (const std::string& name : *names) {
      SHOPSYNC_TRY(r.for_each_record(name, "", [&](const RecordKey&, const RecordState& state) {
        if (!detail::is_tombstone(state)) return Scan::next;
        const bool old_enough = std::all_of(state.siblings.begin(), state.siblings.end(), [&](const Version& v) {
          const std::uint64_t written = HybridClock::wall_ms(v.updated_at);
          return written <= now && now - written >= ctx.retention_ms && ours.covers(v.dot);
        });
        if (!old_enough) return Scan::next;
        for (const auto& [id, p] : peers) {
          const bool lacks = std::any_of(state.siblings.begin(), state.siblings.end(),
                                         [&](const Version& v) { return !p.knowledge.covers(v.dot); });
          if (lacks) ++held[id];
        }
        return Scan::next;
      }));
    }

    for (const auto& [id, p] : peers) {
      auto lag = lag_of(r, ours, p.knowledge);
      if (!lag) return lag.status();
      const bool has_row = with_row.count(id) > 0;
      json row = {{"node_id", node_id_text(id)},
                  {"name", p.name},
                  {"address", p.address},
                  {"found_by", has_row ? json(std::string(to_string(p.source))) : json(nullptr)},
                  {"role", has_row ? json(std::string(to_string(p.role))) : json(nullptr)},
                  {"public_key", format_public_key(p.public_key)},
                  {"state", p.last_seen_ms == 0                       ? "never_seen"
                            : now >= p.last_seen_ms && now - p.last_seen_ms <= kActiveWithinMs ? "active"
                                                                                              : "idle"},
                  {"last_seen", time_json(p.last_seen_ms)},
                  {"last_seen_ago_ms", ago(now, p.last_seen_ms)},
                  {"last_sync", time_json(p.last_sync_ms)},
                  {"last_sync_ago_ms", ago(now, p.last_sync_ms)},
                  {"lag_changes", lag->changes},
                  {"lag_ms", lag->oldest == 0 ? std::uint64_t{0}
                                              : (now > HybridClock::wall_ms(lag->oldest) ? now - HybridClock::wall_ms(lag->oldest) : 0)},
                  {"clock_offset_ms", p.clock_offset_ms},
                  {"records_in", p.records_in},
                  {"records_out", p.records_out},
                  {"last_error", p.last_error},
                  {"knowledge", vv_json(p.knowledge)},
                  {"we_lack_changes", changes_behind(p.knowledge, ours)},
                  {"sync_progress_percent", sync_progress(ours, p.knowledge)},
                  {"behind_horizon", !horizon->empty() && !p.knowledge.covers(*horizon)},
                  {"tombstones_held_back", held[id]}};
      rows.push_back(std::move(row));
    }
    return Status::ok();
  });
  if (!s) return s.context("reading " + dir.path().string());
  return json{{"peers", rows}, {"skipped_rows", skipped}};
}

Result<json> from_api(api::ApiClient& client, const ViewContext& ctx) {
  auto list = client.peers();
  if (!list) return list.status();
  const std::uint64_t now = ctx.now_ms;
  json rows = json::array();
  for (const auto& p : list->peers) {
    rows.push_back({{"node_id", p.node_id ? json(node_id_text(p.node_id)) : json(nullptr)},
                    {"name", p.name},
                    {"address", p.address},
                    {"found_by", p.found_by.empty() ? json(nullptr) : json(p.found_by)},
                    {"role", p.role.empty() ? json(nullptr) : json(p.role)},
                    {"public_key", format_public_key(p.public_key)},
                    {"state", p.state},
                    {"last_seen", time_json(p.last_seen_ms)},
                    {"last_seen_ago_ms", ago(now, p.last_seen_ms)},
                    {"last_sync", time_json(p.last_sync_ms)},
                    {"last_sync_ago_ms", ago(now, p.last_sync_ms)},
                    {"lag_changes", p.lag_changes},
                    {"lag_ms", p.lag_ms},
                    {"clock_offset_ms", p.clock_offset_ms},
                    {"records_in", p.records_in},
                    {"records_out", p.records_out},
                    {"last_error", p.last_error},
                    {"knowledge", nullptr},
                    {"we_lack_changes", nullptr},
                    {"sync_progress_percent", nullptr},
                    {"behind_horizon", nullptr},
                    {"tombstones_held_back", nullptr}});
  }
  return json{{"peers", rows}, {"skipped_rows", json::array()}};
}

}  // namespace

Result<json> peers_view(NodeRef node, const ViewContext& ctx) {
  auto got = node.dir ? from_dir(*node.dir, ctx) : from_api(*node.api, ctx);
  if (!got) return got;
  json out = {{"view", "peers"},
              {"source", node.source_json()},
              {"generated_at", time_json(ctx.now_ms)},
              {"retention_ms", ctx.retention_ms}};
  json warnings = json::array();
  for (json& p : (*got)["peers"]) {
    judge(p, ctx.now_ms, ctx.retention_ms);
    for (const auto& w : p["warnings"]) warnings.push_back(peer_label(p) + ": " + w.get<std::string>());
  }
  out["peers"] = (*got)["peers"];
  out["warnings"] = warnings;
  out["skipped_rows"] = (*got)["skipped_rows"];
  return out;
}

}  // namespace shopsync::inspect
