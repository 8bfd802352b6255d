#include "tools/inspect/view_support.h"

#include <algorithm>

#include "core/version_vector.h"

namespace shopsync::inspect {

json NodeRef::source_json() const {
  if (dir) return json{{"kind", "data_dir"}, {"path", dir->path().string()}};
  if (api) return json{{"kind", "api"}, {"address", api->address()}};
  return nullptr;
}

json version_json(const Version& v, const Dot* winner) {
  json out = {{"dot", dot_text(v.dot)},
              {"origin", node_id_text(v.dot.origin)},
              {"counter", v.dot.counter},
              {"updated_at", hlc_json(v.updated_at)},
              {"deleted", v.deleted},
              {"uplink_origin", v.uplink_origin},
              {"fields", fields_to_json(v.fields)}};
  if (winner) out["winner"] = v.dot == *winner;
  return out;
}

namespace detail {

Result<std::map<NodeId, VersionVector>> peer_knowledge(StoreReader& r) {
  std::map<NodeId, VersionVector> out;
  Status failure;
  Status s = r.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
    if (key.substr(0, kPeerKnowledgePrefix.size()) != kPeerKnowledgePrefix) return Scan::next;
    const auto id = parse_node_id(key.substr(kPeerKnowledgePrefix.size()));
    auto vv = parse_version_vector(value);
    if (!id || !vv) {
      failure = Status::corrupt("settings entry '" + std::string(key) + "' is not a peer's knowledge");
      return Scan::stop;
    }
    out[*id] = std::move(*vv);
    return Scan::next;
  });
  if (!s) return s;
  if (!failure) return failure;
  return out;
}

Result<VersionVector> tombstone_horizon(StoreReader& r) {
  auto h = r.get(Table::settings, kHorizonKey);
  if (!h) return h.status();
  if (!h->has_value()) return VersionVector{};
  auto vv = parse_version_vector(**h);
  if (!vv) return Status::corrupt(vv.status().message()).context("the tombstone horizon");
  return *vv;
}

Result<std::set<NodeId>> own_origins(StoreReader& r, NodeId self) {
  std::set<NodeId> out{self};
  auto text = r.get(Table::settings, kWritersKey);
  if (!text) return text.status();
  if (!text->has_value()) return out;
  auto vv = parse_version_vector(**text);
  if (!vv) return Status::corrupt(vv.status().message()).context("the writer ids");
  for (const auto& [origin, counter] : vv->entries()) out.insert(origin);
  return out;
}

Status for_each_logged(StoreReader& r, const std::function<void(const ConflictEntry&)>& visit) {
  return r.for_each_conflict(0, [&](const ConflictEntry& e) {
    visit(e);
    return Scan::next;
  });
}

Status learn_strategies(StoreReader& r, StrategyBook& book) {
  return for_each_logged(r, [&](const ConflictEntry& e) { book.learn(e.key.collection, e.strategy); });
}

bool is_tombstone(const RecordState& state) {
  return !state.siblings.empty() &&
         std::all_of(state.siblings.begin(), state.siblings.end(), [](const Version& v) { return v.deleted; });
}

Version to_version(const api::SiblingView& s) {
  Version v;
  v.dot = s.dot;
  v.updated_at = s.updated_at;
  v.deleted = s.deleted;
  v.uplink_origin = s.uplink_origin;
  for (const auto& [name, packed] : s.fields) v.fields[name] = Field{packed, 0};
  return v;
}

json api_fields_json(const api::FieldValues& fields) {
  json out = json::object();
  for (const auto& [name, packed] : fields) out[name] = packed_to_json(packed);
  return out;
}

Result<std::vector<api::ConflictLogEntry>> api_conflict_log(api::ApiClient& client) {
  std::vector<api::ConflictLogEntry> out;
  api::ConflictsRequest req;
  req.limit = api::kMaxPageLimit;
  // Bounded: a log of a million entries is read in at most 1000 pages.
  for (int page = 0; page < 1000; ++page) {
    auto got = client.conflicts(req);
    if (!got) return got.status();
    for (auto& e : got->log) out.push_back(std::move(e));
    if (got->last_seq <= req.log_after) break;
    req.log_after = got->last_seq;
  }
  return out;
}

Result<LoggedRecords> api_logged_records(api::ApiClient& client, const std::vector<api::ConflictLogEntry>& log) {
  LoggedRecords out;
  for (const auto& e : log) {
    if (out.count(e.key)) continue;
    auto r = client.get(e.key);
    if (!r && r.status().code() != Errc::not_found) return r.status();
    out[e.key] = r ? std::optional<api::RecordView>(std::move(*r)) : std::nullopt;
  }
  return out;
}

}  // namespace detail
}  // namespace shopsync::inspect
