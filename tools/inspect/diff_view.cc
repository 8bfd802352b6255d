// The diff view: what two nodes hold differently.
//
// Each node's live versions are read from its change index (one entry per
// live sibling: dot -> record key), or from its changes feed through the API.
// A dot that one node holds live and the other's knowledge does not cover is
// a dot the other LACKS (it will get it by pulling). A record whose live dots
// differ while neither lacks anything has settled differently for now (a
// tombstone already removed on one side, a version superseded on one side
// and not yet on the other).
//
// The strategy tables the two nodes run with are compared too: with different
// tables the same versions show different values, so the nodes are not
// identical whatever they hold.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "replication/strategy_table.h"
#include "tools/inspect/view_support.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

struct NodeDots {
  NodeId id = 0;
  VersionVector knowledge;
  std::map<RecordKey, std::vector<Dot>> live;  // dots sorted
  std::uint64_t versions = 0;
  std::optional<std::string> strategies;  // the table's text; nullopt when the node does not say (older)
};

void report(const ViewContext& ctx, std::string_view phase, std::uint64_t done, std::uint64_t total) {
  if (ctx.progress) ctx.progress(phase, done, total);
}

Result<NodeDots> read_dir(DataDir& dir, const ViewContext& ctx, std::string_view phase) {
  NodeDots out;
  std::uint64_t total = 0;
  if (auto st = dir.store().stats()) {
    for (const auto& t : st->tables) {
      if (t.name == "changes") total = t.entries;
    }
  }
  Status s = dir.store().read([&](StoreReader& r) -> Status {
    auto meta = r.node_meta();
    if (!meta) return meta.status();
    if (!meta->has_value()) return Status(Errc::not_shopsync, "the store has no node identity yet");
    out.id = (*meta)->node_id;
    out.knowledge = (*meta)->knowledge;
    auto strategies = r.get(Table::settings, kStrategiesSetting);
    if (!strategies) return strategies.status();
    out.strategies = *strategies;
    for (const auto& [origin, counter] : out.knowledge.entries()) {
      SHOPSYNC_TRY(r.for_each_change(origin, 0, [&](std::uint64_t c, const RecordKey& key) {
        out.live[key].push_back(Dot{origin, c});
        if (++out.versions % 4096 == 0) report(ctx, phase, out.versions, total);
        return Scan::next;
      }));
    }
    return Status::ok();
  });
  if (!s) return s.context("reading " + dir.path().string());
  report(ctx, phase, out.versions, std::max(total, out.versions));
  return out;
}

Result<NodeDots> read_api(api::ApiClient& client, const ViewContext& ctx, std::string_view phase) {
  NodeDots out;
  auto st = client.status();
  if (!st) return st.status();
  out.id = st->node_id;
  out.knowledge = st->knowledge;
  if (!st->strategies.empty()) out.strategies = st->strategies;
  std::uint64_t total = 0;
  for (const auto& [node, counter] : out.knowledge.entries()) total += counter;  // an upper bound
  api::ChangesRequest req;
  req.limit = api::kMaxPageLimit;
  // Bounded: ten million changes at most.
  for (int page = 0; page < 10'000; ++page) {
    auto got = client.changes(req);
    if (!got) return got.status();
    for (const auto& c : got->changes) {
      out.live[c.key].push_back(c.dot);
      ++out.versions;
    }
    report(ctx, phase, out.versions, std::max(total, out.versions));
    if (!got->more || got->changes.empty()) break;
    req.since = got->cursor;
  }
  for (auto& [key, dots] : out.live) {
    std::sort(dots.begin(), dots.end());
    dots.erase(std::unique(dots.begin(), dots.end()), dots.end());
  }
  return out;
}

Result<NodeDots> read_node(NodeRef node, const ViewContext& ctx, std::string_view phase) {
  return node.dir ? read_dir(*node.dir, ctx, phase) : read_api(*node.api, ctx, phase);
}

json dots_json(const std::vector<Dot>& dots) {
  json out = json::array();
  for (const Dot& d : dots) out.push_back(dot_text(d));
  return out;
}

// The dots of `have` that `other` lacks (its knowledge does not cover them).
std::vector<Dot> lacking(const std::vector<Dot>& have, const VersionVector& other) {
  std::vector<Dot> out;
  for (const Dot& d : have) {
    if (!other.covers(d)) out.push_back(d);
  }
  return out;
}

struct Lacks {
  json list = json::array();
  std::map<std::string, std::uint64_t> per_origin;
  std::uint64_t count = 0;
};

void add_lacks(Lacks& lacks, const RecordKey& key, const std::vector<Dot>& dots, std::uint32_t limit) {
  for (const Dot& d : dots) {
    ++lacks.count;
    ++lacks.per_origin[node_id_text(d.origin)];
    if (lacks.list.size() < limit) lacks.list.push_back({{"dot", dot_text(d)}, {"collection", key.collection}, {"id", key.id}});
  }
}

json lacks_json(const Lacks& l) {
  return json{{"count", l.count}, {"per_origin", l.per_origin}, {"dots", l.list}, {"truncated", l.count > l.list.size()}};
}

// What differs between the strategy tables of A and B ("" when they agree or
// one is unknown).
std::string strategy_gap(const NodeDots& a, const NodeDots& b) {
  if (!a.strategies || !b.strategies) return {};
  auto ta = parse_strategy_table(*a.strategies);
  auto tb = parse_strategy_table(*b.strategies);
  if (ta && tb) return strategy_difference(*ta, *tb, "A", "B");
  return *a.strategies == *b.strategies ? std::string() : "'" + *a.strategies + "' on A, '" + *b.strategies + "' on B";
}

json strategies_json(const NodeDots& a, const NodeDots& b, const std::string& gap) {
  auto side = [](const NodeDots& n) { return n.strategies ? json(*n.strategies) : json(nullptr); };
  const json equal = a.strategies && b.strategies ? json(gap.empty()) : json(nullptr);
  return json{{"a", side(a)}, {"b", side(b)}, {"equal", equal}, {"difference", gap}};
}

}  // namespace

Result<json> diff_view(NodeRef a_ref, NodeRef b_ref, const ViewContext& ctx) {
  auto a = read_node(a_ref, ctx, "reading A");
  if (!a) return a.status().context("node A");
  auto b = read_node(b_ref, ctx, "reading B");
  if (!b) return b.status().context("node B");

  json knowledge = json::array();
  std::set<NodeId> origins;
  for (const auto& [n, c] : a->knowledge.entries()) origins.insert(n);
  for (const auto& [n, c] : b->knowledge.entries()) origins.insert(n);
  for (NodeId n : origins) {
    const std::uint64_t ca = a->knowledge.get(n), cb = b->knowledge.get(n);
    knowledge.push_back({{"origin", node_id_text(n)}, {"a", ca}, {"b", cb}, {"equal", ca == cb}});
  }

  Lacks a_lacks, b_lacks;
  json records = json::array();
  std::uint64_t differing = 0;
  std::map<std::string, std::uint64_t> by_status;
  std::set<RecordKey> keys;
  for (const auto& [k, d] : a->live) keys.insert(k);
  for (const auto& [k, d] : b->live) keys.insert(k);
  static const std::vector<Dot> kNone;
  std::uint64_t done = 0;
  for (const RecordKey& key : keys) {
    if (++done % 4096 == 0) report(ctx, "comparing", done, keys.size());
    auto ia = a->live.find(key);
    auto ib = b->live.find(key);
    const std::vector<Dot>& da = ia == a->live.end() ? kNone : ia->second;
    const std::vector<Dot>& db = ib == b->live.end() ? kNone : ib->second;
    if (da == db) continue;
    ++differing;
    const std::vector<Dot> missing_in_a = lacking(db, a->knowledge);
    const std::vector<Dot> missing_in_b = lacking(da, b->knowledge);
    add_lacks(a_lacks, key, missing_in_a, ctx.limit);
    add_lacks(b_lacks, key, missing_in_b, ctx.limit);
    const char* status = !missing_in_a.empty() && !missing_in_b.empty() ? "both_lack"
                         : !missing_in_a.empty()                        ? "a_lacks"
                         : !missing_in_b.empty()                        ? "b_lacks"
                                                                        : "settled_differently";
    ++by_status[status];
    if (records.size() >= ctx.limit) continue;
    records.push_back({{"collection", key.collection},
                       {"id", key.id},
                       {"status", status},
                       {"in_a", !da.empty()},
                       {"in_b", !db.empty()},
                       {"a_dots", dots_json(da)},
                       {"b_dots", dots_json(db)},
                       {"a_lacks", dots_json(missing_in_a)},
                       {"b_lacks", dots_json(missing_in_b)}});
  }
  report(ctx, "comparing", keys.size(), keys.size());

  const bool knowledge_equal = a->knowledge == b->knowledge;
  const std::string gap = strategy_gap(*a, *b);
  json side_a = {{"source", a_ref.source_json()}, {"node_id", node_id_text(a->id)}, {"knowledge", vv_json(a->knowledge)},
                 {"records", a->live.size()}, {"live_versions", a->versions}};
  json side_b = {{"source", b_ref.source_json()}, {"node_id", node_id_text(b->id)}, {"knowledge", vv_json(b->knowledge)},
                 {"records", b->live.size()}, {"live_versions", b->versions}};
  return json{{"view", "diff"},
              {"generated_at", time_json(ctx.now_ms)},
              {"a", side_a},
              {"b", side_b},
              {"identical", differing == 0 && knowledge_equal && gap.empty()},
              {"strategies", strategies_json(*a, *b, gap)},
              {"knowledge_equal", knowledge_equal},
              {"knowledge", knowledge},
              {"a_lacks", lacks_json(a_lacks)},
              {"b_lacks", lacks_json(b_lacks)},
              {"counts", {{"differing_records", differing}, {"by_status", by_status}}},
              {"records", records},
              {"records_truncated", differing > records.size()}};
}

}  // namespace shopsync::inspect
