// The conflicts view: open conflicts (is_open_conflict: several siblings left
// for a person to choose from), and conflict-log entries whose record is not
// an open conflict (resolved: by hand, or by its strategy), each with the losing values and the strategy that chose.
#include <deque>
#include <map>

#include "replication/strategy.h"
#include "tools/inspect/view_support.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

json losers_json(const std::vector<Version>& siblings, const Dot& winner) {
  json out = json::array();
  for (const Version& v : siblings) {
    if (v.dot != winner) out.push_back(version_json(v, nullptr));
  }
  return out;
}

json winner_json(const std::vector<Version>& siblings, const Dot& winner) {
  for (const Version& v : siblings) {
    if (v.dot == winner) return version_json(v, nullptr);
  }
  return nullptr;
}

// One resolved log entry. `current`: the record's one version now (nullptr
// when the record is gone).
json resolved_json(std::uint64_t seq, const RecordKey& key, const std::string& strategy, const Dot& winner,
                   bool near_simultaneous, Hlc detected_at, NodeId detected_by, const std::vector<Version>& siblings,
                   json current) {
  return json{{"seq", seq},
              {"collection", key.collection},
              {"id", key.id},
              {"strategy", strategy},
              {"near_simultaneous", near_simultaneous},
              {"detected_at", hlc_json(detected_at)},
              {"detected_by", node_id_text(detected_by)},
              {"winner", winner_json(siblings, winner)},
              {"losers", losers_json(siblings, winner)},
              {"current", std::move(current)}};
}

json open_json(const RecordKey& key, const StrategyBook& book, const std::vector<Version>& siblings, const Dot& winner,
               json visible_fields, json near_simultaneous, const std::vector<std::uint64_t>& seqs) {
  json sibs = json::array();
  for (const Version& v : siblings) sibs.push_back(version_json(v, &winner));
  return json{{"collection", key.collection},
              {"id", key.id},
              {"strategy", to_string(book.kind(key.collection))},
              {"strategy_source", book.source(key.collection)},
              {"winner", dot_text(winner)},
              {"near_simultaneous", std::move(near_simultaneous)},
              {"visible_fields", std::move(visible_fields)},
              {"siblings", sibs},
              {"losers", losers_json(siblings, winner)},
              {"log_seqs", seqs}};
}

json current_json(const std::optional<RecordState>& state) {
  if (!state || state->siblings.empty()) return nullptr;
  const Version& v = state->siblings.front();
  return json{{"dot", dot_text(v.dot)}, {"deleted", v.deleted}, {"updated_at", hlc_json(v.updated_at)}};
}

Result<json> from_dir(DataDir& dir, const ViewContext& ctx) {
  StrategyBook book = ctx.strategies;
  json open = json::array();
  std::deque<json> resolved;  // the newest `limit` ones
  std::uint64_t open_count = 0, resolved_count = 0, log_count = 0;
  Status s = dir.store().read([&](StoreReader& r) -> Status {
    std::map<RecordKey, std::vector<std::uint64_t>> seqs;
    std::map<RecordKey, std::optional<RecordState>> current;
    Status failure;
    SHOPSYNC_TRY(detail::for_each_logged(r, [&](const ConflictEntry& e) {
      if (!failure) return;
      ++log_count;
      book.learn(e.key.collection, e.strategy);
      seqs[e.key].push_back(e.seq);
      auto it = current.find(e.key);
      if (it == current.end()) {
        auto got = r.record(e.key);
        if (!got) {
          failure = got.status();
          return;
        }
        it = current.emplace(e.key, std::move(*got)).first;
      }
      if (it->second && is_open_conflict(book.kind(e.key.collection), it->second->siblings.size())) return;  // listed below
      ++resolved_count;
      resolved.push_back(resolved_json(e.seq, e.key, e.strategy, e.winner, e.near_simultaneous, e.detected_at,
                                       e.detected_by, e.siblings, current_json(it->second)));
      if (resolved.size() > ctx.limit) resolved.pop_front();
    }));
    SHOPSYNC_TRY(failure);
    auto names = r.collections();
    if (!names) return names.status();
    for (const std::string& name : *names) {
      SHOPSYNC_TRY(r.for_each_record(name, "", [&](const RecordKey& key, const RecordState& state) {
        if (!is_open_conflict(book.kind(key.collection), state.siblings.size())) return Scan::next;
        ++open_count;
        if (open.size() >= ctx.limit) return Scan::next;
        const Outcome o = choose_visible(state.siblings, book.kind(key.collection), ctx.tolerance_ms);
        auto it = seqs.find(key);
        open.push_back(open_json(key, book, state.siblings, o.winner, fields_to_json(o.fields), o.near_simultaneous,
                                 it == seqs.end() ? std::vector<std::uint64_t>{} : it->second));
        return Scan::next;
      }));
    }
    return Status::ok();
  });
  if (!s) return s.context("reading " + dir.path().string());
  json res = json::array();
  for (auto it = resolved.rbegin(); it != resolved.rend(); ++it) res.push_back(std::move(*it));
  return json{{"open", open},
              {"resolved", res},
              {"counts", {{"open", open_count}, {"resolved", resolved_count}, {"log_entries", log_count}}},
              {"open_truncated", open_count > open.size()},
              {"resolved_truncated", resolved_count > res.size()}};
}

Result<json> from_api(api::ApiClient& client, const ViewContext& ctx) {
  auto log = detail::api_conflict_log(client);
  if (!log) return log.status();
  auto logged = detail::api_logged_records(client, *log);
  if (!logged) return logged.status();
  StrategyBook book = ctx.strategies;
  std::map<RecordKey, std::vector<std::uint64_t>> seqs;
  for (const auto& e : *log) {
    book.learn(e.key.collection, e.strategy);
    seqs[e.key].push_back(e.seq);
  }
  json open = json::array();
  std::uint64_t open_count = 0;
  for (const auto& [key, rec] : *logged) {
    if (!rec || !rec->conflicted) continue;
    ++open_count;
    if (open.size() >= ctx.limit) continue;
    std::vector<Version> sibs;
    for (const auto& sv : rec->siblings) sibs.push_back(detail::to_version(sv));
    open.push_back(open_json(key, book, sibs, rec->dot, detail::api_fields_json(rec->fields), nullptr, seqs[key]));
  }
  std::deque<json> resolved;
  std::uint64_t resolved_count = 0;
  for (const auto& e : *log) {
    const auto& rec = logged->at(e.key);
    if (rec && rec->conflicted) continue;
    ++resolved_count;
    std::vector<Version> sibs;
    for (const auto& sv : e.siblings) sibs.push_back(detail::to_version(sv));
    json current = rec ? json{{"dot", dot_text(rec->dot)}, {"deleted", rec->deleted}, {"updated_at", hlc_json(rec->updated_at)}}
                       : json(nullptr);
    resolved.push_back(resolved_json(e.seq, e.key, e.strategy, e.winner, e.near_simultaneous, e.detected_at, e.detected_by,
                                     sibs, std::move(current)));
    if (resolved.size() > ctx.limit) resolved.pop_front();
  }
  json res = json::array();
  for (auto it = resolved.rbegin(); it != resolved.rend(); ++it) res.push_back(std::move(*it));
  return json{{"open", open},
              {"resolved", res},
              {"counts", {{"open", open_count}, {"resolved", resolved_count}, {"log_entries", log->size()}}},
              {"open_truncated", open_count > open.size()},
              {"resolved_truncated", resolved_count > res.size()}};
}

}  // namespace

Result<json> conflicts_view(NodeRef node, const ViewContext& ctx) {
  auto got = node.dir ? from_dir(*node.dir, ctx) : from_api(*node.api, ctx);
  if (!got) return got;
  json out = {{"view", "conflicts"}, {"source", node.source_json()}, {"generated_at", time_json(ctx.now_ms)}};
  out.update(*got);
  return out;
}

}  // namespace shopsync::inspect
