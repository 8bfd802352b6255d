// The record view: one record as the node shows it, everything behind that
// value (siblings, dots, causal context), and its conflict-log history.
#include "replication/strategy.h"
#include "tools/inspect/view_support.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

json history_entry(std::uint64_t seq, Hlc detected_at, NodeId detected_by, const std::string& strategy, const Dot& winner,
                   bool near_simultaneous, const std::vector<Version>& siblings) {
  json sibs = json::array();
  for (const Version& v : siblings) sibs.push_back(version_json(v, &winner));
  return json{{"seq", seq},
              {"detected_at", hlc_json(detected_at)},
              {"detected_by", node_id_text(detected_by)},
              {"strategy", strategy},
              {"winner", dot_text(winner)},
              {"near_simultaneous", near_simultaneous},
              {"siblings", sibs}};
}

Result<json> from_dir(DataDir& dir, const RecordKey& key, const ViewContext& ctx) {
  StrategyBook book = ctx.strategies;
  std::optional<RecordState> state;
  json history = json::array();
  Status s = dir.store().read([&](StoreReader& r) -> Status {
    auto got = r.record(key);
    if (!got) return got.status();
    state = std::move(*got);
    return detail::for_each_logged(r, [&](const ConflictEntry& e) {
      book.learn(e.key.collection, e.strategy);
      if (e.key != key) return;
      history.push_back(
          history_entry(e.seq, e.detected_at, e.detected_by, e.strategy, e.winner, e.near_simultaneous, e.siblings));
    });
  });
  if (!s) return s.context("reading " + dir.path().string());
  if (!state || state->siblings.empty()) {
    return Status::not_found("no record " + key.collection + "/" + key.id + " in " + dir.path().string());
  }
  const StrategyKind kind = book.kind(key.collection);
  const Outcome visible = choose_visible(state->siblings, kind, ctx.tolerance_ms);
  json sibs = json::array();
  for (const Version& v : state->siblings) sibs.push_back(version_json(v, &visible.winner));
  return json{{"strategy", to_string(kind)},
              {"strategy_source", book.source(key.collection)},
              {"visible",
               {{"deleted", visible.deleted},
                {"conflicted", visible.conflicted},
                {"winner", dot_text(visible.winner)},
                {"updated_at", hlc_json(visible.updated_at)},
                {"near_simultaneous", visible.near_simultaneous},
                {"fields", fields_to_json(visible.fields)}}},
              {"sibling_count", state->siblings.size()},
              {"siblings", sibs},
              {"version_vector", vv_json(state->context)},
              {"history", history}};
}

Result<json> from_api(api::ApiClient& client, const RecordKey& key, const ViewContext& ctx) {
  auto rec = client.get(key);
  if (!rec) return rec.status();
  auto log = detail::api_conflict_log(client);
  if (!log) return log.status();
  StrategyBook book = ctx.strategies;
  json history = json::array();
  for (const auto& e : *log) {
    book.learn(e.key.collection, e.strategy);
    if (e.key != key) continue;
    std::vector<Version> sibs;
    for (const auto& sv : e.siblings) sibs.push_back(detail::to_version(sv));
    history.push_back(history_entry(e.seq, e.detected_at, e.detected_by, e.strategy, e.winner, e.near_simultaneous, sibs));
  }
  json sibs = json::array();
  if (rec->siblings.empty()) {
    api::SiblingView only{rec->dot, rec->updated_at, rec->deleted, false, rec->fields};
    json one = version_json(detail::to_version(only), &rec->dot);
    one.erase("uplink_origin");  // not carried by the API for a single version
    one["uplink_origin"] = nullptr;
    sibs.push_back(one);
  } else {
    for (const auto& sv : rec->siblings) sibs.push_back(version_json(detail::to_version(sv), &rec->dot));
  }
  return json{{"strategy", rec->strategy.empty() ? std::string(to_string(book.kind(key.collection))) : rec->strategy},
              {"strategy_source", rec->strategy.empty() ? std::string(book.source(key.collection)) : std::string("node")},
              {"visible",
               {{"deleted", rec->deleted},
                {"conflicted", rec->conflicted},
                {"winner", dot_text(rec->dot)},
                {"updated_at", hlc_json(rec->updated_at)},
                {"near_simultaneous", nullptr},
                {"fields", detail::api_fields_json(rec->fields)}}},
              {"sibling_count", rec->sibling_count},
              {"siblings", sibs},
              {"version_vector", nullptr},
              {"history", history}};
}

}  // namespace

Result<json> record_view(NodeRef node, const RecordKey& key, const ViewContext& ctx) {
  auto got = node.dir ? from_dir(*node.dir, key, ctx) : from_api(*node.api, key, ctx);
  if (!got) return got;
  json out = {{"view", "record"},
              {"source", node.source_json()},
              {"generated_at", time_json(ctx.now_ms)},
              {"collection", key.collection},
              {"id", key.id}};
  out.update(*got);
  return out;
}

}  // namespace shopsync::inspect
