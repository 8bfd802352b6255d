#include "api/api_json.h"

#include "net/public_key_text.h"

namespace shopsync::api {

// A field map as JSON; a value that does not decode shows as an error note
// instead of hiding the rest of the record.
json fields_json(const FieldValues& fields) {
  json out = json::object();
  for (const auto& [name, packed] : fields) {
    auto value = json_values::decode_packed(packed, json_values::BinaryForm::tagged_object);
    out[name] = value ? std::move(value).value() : json("<" + value.status().message() + ">");
  }
  return out;
}

json sibling_json(const SiblingView& s) {
  return json{{"dot", dot_text(s.dot)},
              {"updated_at_ms", hlc_millis(s.updated_at)},
              {"hlc", std::to_string(s.updated_at)},
              {"deleted", s.deleted},
              {"uplink", s.uplink_origin},
              {"fields", fields_json(s.fields)}};
}

json sync_json(const SyncProgress& p) {
  return json{{"records_received", p.records_received}, {"records_total", p.records_total},
              {"bytes_received", p.bytes_received},     {"bytes_total", p.bytes_total},
              {"rate", p.rate},                         {"eta_ms", p.eta_ms}};
}
json write_json(const WriteResult& r) {
  return json{{"dot", dot_text(r.dot)}, {"hlc", std::to_string(r.updated_at)}, {"updated_at_ms", hlc_millis(r.updated_at)}};
}

json record_json(const RecordView& r) {
  json out{{"collection", r.key.collection},
           {"id", r.key.id},
           {"fields", fields_json(r.fields)},
           {"dot", dot_text(r.dot)},
           {"hlc", std::to_string(r.updated_at)},
           {"updated_at_ms", hlc_millis(r.updated_at)},
           {"deleted", r.deleted},
           {"conflicted", r.conflicted},
           {"sibling_count", r.sibling_count}};
  if (!r.siblings.empty()) {
    json siblings = json::array();
    for (const auto& s : r.siblings) siblings.push_back(sibling_json(s));
    out["siblings"] = std::move(siblings);
  }
  if (!r.strategy.empty()) out["strategy"] = r.strategy;
  return out;
}

json list_json(const ListPage& page) {
  json records = json::array();
  for (const auto& r : page.records) records.push_back(record_json(r));
  return json{{"records", std::move(records)}, {"next_after", page.next_after ? json(*page.next_after) : json()}};
}

json collections_json(const CollectionList& list) {
  json out = json::array();
  for (const auto& c : list.collections) out.push_back(json{{"name", c.name}, {"records", c.records}});
  return json{{"collections", std::move(out)}};
}

json change_json(const Change& c) {
  return json{{"collection", c.key.collection}, {"id", c.key.id},           {"dot", dot_text(c.dot)},
              {"hlc", std::to_string(c.updated_at)},            {"updated_at_ms", hlc_millis(c.updated_at)},
              {"deleted", c.deleted}};
}

json conflicts_json(const ConflictsPage& page) {
  json open = json::array();
  for (const auto& r : page.open) open.push_back(record_json(r));
  json log = json::array();
  for (const auto& e : page.log) {
    json siblings = json::array();
    for (const auto& s : e.siblings) siblings.push_back(sibling_json(s));
    log.push_back(json{{"seq", e.seq},
                       {"collection", e.key.collection},
                       {"id", e.key.id},
                       {"strategy", e.strategy},
                       {"winner", dot_text(e.winner)},
                       {"near_simultaneous", e.near_simultaneous},
                       {"detected_at_ms", hlc_millis(e.detected_at)},
                       {"detected_by", node_id_text(e.detected_by)},
                       {"siblings", std::move(siblings)}});
  }
  return json{{"open", std::move(open)}, {"log", std::move(log)}, {"last_seq", page.last_seq}};
}

json status_json(const NodeStatus& s) {
  json knowledge = json::object();
  for (const auto& [node, counter] : s.knowledge.entries()) knowledge[node_id_text(node)] = counter;
  json pending = json::array();
  for (const auto& p : s.pending) {
    pending.push_back(json{{"peer", node_id_text(p.peer)},
                           {"peer_name", p.peer_name},
                           {"total", p.total},
                           {"collections", p.per_collection}});
  }
  json syncing = json::array();
  for (const auto& p : s.syncing) {
    json entry = sync_json(p.progress);
    entry["peer"] = node_id_text(p.peer);
    entry["peer_name"] = p.peer_name;
    syncing.push_back(std::move(entry));
  }
  return json{{"node_id", node_id_text(s.node_id)},
              {"name", s.name},
              {"cluster", s.cluster},
              {"role", s.role},
              {"public_key", format_public_key(s.public_key)},
              {"version", s.version},
              {"knowledge", std::move(knowledge)},
              {"counter", s.counter},
              {"clock_ms", hlc_millis(s.clock)},
              {"collections", collections_json(CollectionList{s.collections})["collections"]},
              {"pending", std::move(pending)},
              {"syncing", std::move(syncing)},
              {"open_conflicts", s.open_conflicts},
              {"uptime_ms", s.uptime_ms},
              {"unreadable_records", s.unreadable_records},
              {"disk_full_since_ms", s.disk_full_since_ms},
              {"refused_writes_disk_full", s.refused_writes_disk_full},
              {"grant", s.grant},
              {"grant_needs_restart", s.grant_needs_restart},
              {"grants", s.grants},
              {"admin_named", s.admin_named},
              {"records_refused", s.records_refused},
              {"config_reloads", s.config_reloads},
              {"config_reload_error", s.config_reload_error}};
}

json peers_json(const PeerList& list) {
  json out = json::array();
  for (const auto& p : list.peers) {
    out.push_back(json{{"node_id", node_id_text(p.node_id)},
                       {"name", p.name},
                       {"address", p.address},
                       {"public_key", format_public_key(p.public_key)},
                       {"role", p.role},
                       {"state", p.state},
                       {"found_by", p.found_by},
                       {"last_seen_ms", p.last_seen_ms},
                       {"last_sync_ms", p.last_sync_ms},
                       {"lag_changes", p.lag_changes},
                       {"lag_ms", p.lag_ms},
                       {"records_in", p.records_in},
                       {"records_out", p.records_out},
                       {"clock_offset_ms", p.clock_offset_ms},
                       {"last_error", p.last_error},
                       {"sessions", p.sessions},
                       {"syncing", p.syncing},
                       {"sync", p.syncing ? sync_json(p.sync) : json()}});
  }
  return json{{"peers", std::move(out)}};
}

json keys_json(const TrustedKeyList& list) {
  json out = json::array();
  for (const auto& k : list.keys) out.push_back(json{{"key", format_public_key(k.key)}, {"name", k.name}, {"added_ms", k.added_ms}});
  json revoked = json::array();
  for (const auto& k : list.revoked) revoked.push_back(json{{"key", format_public_key(k.key)}, {"revoked_ms", k.revoked_ms}});
  return json{{"keys", std::move(out)}, {"revoked", std::move(revoked)}};
}

}  // namespace shopsync::api
