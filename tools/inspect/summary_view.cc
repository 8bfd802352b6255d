// The summary view: who the node is and what it holds.
#include <map>

#include "core/version_vector.h"
#include "net/public_key_text.h"
#include "node/config.h"
#include "node/peer_table.h"
#include "node/grant_policy.h"
#include "replication/strategy.h"
#include "tools/inspect/view_support.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

struct CollectionCounts {
  std::uint64_t records = 0;
  std::uint64_t tombstones = 0;
  std::uint64_t conflicted = 0;
};

json store_json(const StoreStats& st) {
  json tables = json::array();
  for (const auto& t : st.tables) tables.push_back({{"name", t.name}, {"entries", t.entries}, {"pages", t.pages}});
  // The map grows on demand: how full it is now says nothing; how close the
  // store is to the most it may grow to does.
  const double use =
      st.max_map_size ? 100.0 * static_cast<double>(st.used_bytes) / static_cast<double>(st.max_map_size) : 0.0;
  return json{{"schema_version", st.schema_version},
              {"map_size", st.map_size},
              {"max_map_size", st.max_map_size},
              {"used_bytes", st.used_bytes},
              {"map_use_percent", static_cast<double>(static_cast<long long>(use * 10 + 0.5)) / 10},
              {"page_size", st.page_size},
              {"readers_in_use", st.readers_in_use},
              {"max_readers", st.max_readers},
              {"tables", tables}};
}

Result<json> from_dir(DataDir& dir, const ViewContext& ctx) {
  StrategyBook book = ctx.strategies;
  json doc;
  Status s = dir.store().read([&](StoreReader& r) -> Status {
    auto meta = r.node_meta();
    if (!meta) return meta.status();
    SHOPSYNC_TRY(detail::learn_strategies(r, book));
    std::uint64_t log_entries = 0;
    SHOPSYNC_TRY(detail::for_each_logged(r, [&](const ConflictEntry&) { ++log_entries; }));
    auto names = r.collections();
    if (!names) return names.status();
    const NodeId self = meta->has_value() ? (*meta)->node_id : 0;
    auto own = detail::own_origins(r, self);
    if (!own) return own.status();
    bool own_write = false, own_uplink = false;
    std::map<std::string, CollectionCounts> counts;
    for (const std::string& name : *names) {
      CollectionCounts& c = counts[name];
      SHOPSYNC_TRY(r.for_each_record(name, "", [&](const RecordKey&, const RecordState& state) {
        if (state.siblings.empty()) return Scan::next;
        if (detail::is_tombstone(state)) {
          ++c.tombstones;
        } else {
          ++c.records;
        }
        if (is_open_conflict(book.kind(name), state.siblings.size())) ++c.conflicted;
        for (const Version& v : state.siblings) {
          if (own->count(v.dot.origin) != 0) {
            own_write = true;
            own_uplink = own_uplink || v.uplink_origin;
          }
        }
        return Scan::next;
      }));
    }
    auto horizon = detail::tombstone_horizon(r);
    if (!horizon) return horizon.status();
    auto known = detail::peer_progress(r);
    if (!known) return known.status();
    auto rows = load_peers(r);
    if (!rows) return rows.status();
    std::set<NodeId> peers;
    for (const auto& [id, vv] : *known) peers.insert(id);
    for (const auto& row : *rows) peers.insert(row.node_id);

    json node = json::object();
    if (meta->has_value()) {
      const NodeMeta& m = **meta;
      node["id"] = node_id_text(m.node_id);
      node["cluster"] = m.cluster;
      node["counter"] = m.counter;
      node["clock"] = hlc_json(m.clock);
      doc["knowledge"] = vv_json(m.knowledge);
    } else {
      node["id"] = nullptr;
      node["cluster"] = nullptr;
      node["counter"] = 0;
      node["clock"] = nullptr;
      doc["knowledge"] = json::object();
    }
    node["name"] = nullptr;
    if (ctx.facts.name) {
      node["name"] = *ctx.facts.name;
    } else {
      auto stored = r.get(Table::settings, kNodeNameSetting);  // written by the node at every start
      if (!stored) return stored.status();
      if (*stored) node["name"] = **stored;
    }
    if (ctx.facts.role) {
      node["role"] = *ctx.facts.role;
      node["role_source"] = "configured";
    } else if (own_write) {
      node["role"] = own_uplink ? "uplink" : "peer";
      node["role_source"] = "own_writes";
    } else {
      node["role"] = nullptr;
      node["role_source"] = "unknown";
    }
    node["public_key"] = dir.public_key() ? json(format_public_key(*dir.public_key())) : json(nullptr);
    // The grants as the node reads them (node/grant_policy.h): this node's own, by its key.
    const std::string own_subject = dir.public_key() ? format_public_key(*dir.public_key()) : std::string();
    GrantPolicy grants([&](NodeId) { return own_subject; });
    SHOPSYNC_TRY(grants.load(r, book.kind(kGrantsCollection), kDefaultToleranceMs));
    node["grants"] = grants.grants().size();
    const SubjectGrant* own_grant = grants.grant_of(self);
    node["grant"] = own_grant ? json(own_grant->text) : json(nullptr);
    node["admin_named"] = grants.admin_named();
    doc["node"] = node;
    doc["tombstone_horizon"] = vv_json(*horizon);

    json cols = json::array();
    CollectionCounts total;
    for (const auto& [name, c] : counts) {
      cols.push_back({{"name", name},
                      {"records", c.records},
                      {"tombstones", c.tombstones},
                      {"conflicted", c.conflicted},
                      {"strategy", to_string(book.kind(name))},
                      {"strategy_source", book.source(name)}});
      total.records += c.records;
      total.tombstones += c.tombstones;
      total.conflicted += c.conflicted;
    }
    doc["collections"] = cols;
    doc["totals"] = {{"records", total.records},
                     {"tombstones", total.tombstones},
                     {"conflicts_open", total.conflicted},
                     {"conflict_log_entries", log_entries},
                     {"peers", peers.size()}};
    return Status::ok();
  });
  if (!s) return s.context("reading " + dir.path().string());
  // The scans above skipped records that do not decode; the store noted them.
  json unreadable = json::array();
  for (const auto& e : dir.store().unreadable().list()) {
    json origins = json::array();
    for (NodeId o : e.origins) origins.push_back(node_id_text(o));
    unreadable.push_back({{"collection", e.key.collection}, {"id", e.key.id}, {"reason", e.reason},
                          {"written_by", origins}});
  }
  doc["unreadable"] = unreadable;
  auto stats = dir.store().stats();
  if (!stats) return stats.status().context("reading store statistics");
  doc["store"] = store_json(*stats);
  doc["pending"] = nullptr;  // the peers view shows each peer's lag from a data dir
  return doc;
}

Result<json> from_api(api::ApiClient& client, const ViewContext& ctx) {
  auto st = client.status();
  if (!st) return st.status();
  auto log = detail::api_conflict_log(client);
  if (!log) return log.status();
  auto logged = detail::api_logged_records(client, *log);
  if (!logged) return logged.status();
  std::vector<RecordKey> open;
  for (const auto& [key, rec] : *logged) {
    if (rec && rec->conflicted) open.push_back(key);
  }
  auto peers = client.peers();
  if (!peers) return peers.status();
  StrategyBook book = ctx.strategies;
  for (const auto& e : *log) book.learn(e.key.collection, e.strategy);

  json doc;
  doc["node"] = {{"id", node_id_text(st->node_id)},
                 {"cluster", st->cluster},
                 {"counter", st->counter},
                 {"clock", hlc_json(st->clock)},
                 {"name", st->name},
                 {"role", st->role.empty() ? json(nullptr) : json(st->role)},
                 {"role_source", "node"},
                 {"public_key", st->public_key.empty() ? json(nullptr) : json(format_public_key(st->public_key))},
                 {"version", st->version},
                 {"uptime_ms", st->uptime_ms},
                 {"grants", st->grants},
                 {"grant", st->grant.empty() ? json(nullptr) : json(st->grant)},
                 {"admin_named", st->admin_named}};
  doc["knowledge"] = vv_json(st->knowledge);
  doc["tombstone_horizon"] = nullptr;
  std::map<std::string, std::uint64_t> conflicted;
  for (const auto& key : open) ++conflicted[key.collection];
  json cols = json::array();
  std::uint64_t records = 0;
  for (const auto& c : st->collections) {
    cols.push_back({{"name", c.name},
                    {"records", c.records},
                    {"tombstones", nullptr},
                    {"conflicted", conflicted[c.name]},
                    {"strategy", to_string(book.kind(c.name))},
                    {"strategy_source", book.source(c.name)}});
    records += c.records;
  }
  doc["collections"] = cols;
  std::uint64_t identified = 0;
  for (const auto& p : peers->peers) identified += p.node_id != 0 ? 1 : 0;
  doc["totals"] = {{"records", records},
                   {"tombstones", nullptr},
                   {"conflicts_open", open.size()},
                   {"conflict_log_entries", log->size()},
                   {"peers", identified}};
  json pending = json::array();
  for (const auto& p : st->pending) {
    pending.push_back({{"peer", node_id_text(p.peer)}, {"peer_name", p.peer_name}, {"changes", p.total},
                       {"per_collection", p.per_collection}});
  }
  doc["pending"] = pending;
  json unreadable = json::array();
  for (const auto& u : st->unreadable) {
    unreadable.push_back({{"collection", u.key.collection}, {"id", u.key.id}, {"reason", u.reason},
                          {"written_by", u.written_by}});
  }
  doc["unreadable"] = unreadable;
  doc["store"] = nullptr;
  return doc;
}

}  // namespace

Result<json> summary_view(NodeRef node, const ViewContext& ctx) {
  auto doc = node.dir ? from_dir(*node.dir, ctx) : from_api(*node.api, ctx);
  if (!doc) return doc;
  json out = {{"view", "summary"}, {"source", node.source_json()}, {"generated_at", time_json(ctx.now_ms)}};
  out.update(*doc);
  return out;
}

}  // namespace shopsync::inspect
