// The original system's sync endpoints (docs/http-gateway.md, "Sync").
#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <set>

#include "core/version_vector.h"
#include "node/gateway/gateway.h"
#include "node/gateway/gateway_metrics.h"
#include "node/gateway/json_answers.h"
#include "node/gateway/reserved_collection.h"
#include "replication/device_push.h"
#include "replication/hlc.h"

namespace shopsync::gateway {

namespace {

// Fields of the original client's own bookkeeping: never stored, never
// replicated (docs/http-gateway.md, "Records").
bool is_bookkeeping(std::string_view name) { return is_device_bookkeeping(name); }

std::uint64_t wall_ms(Hlc hlc) { return HybridClock::wall_ms(hlc); }

Hlc newest_hlc(const std::vector<Version>& siblings) {
  Hlc newest = 0;
  for (const auto& v : siblings) newest = std::max(newest, v.updated_at);
  return newest;
}

int http_status_for(const Status& s) {
  switch (s.code()) {
    case Errc::invalid_argument: return 400;
    case Errc::not_found: return 404;
    case Errc::too_large: return 413;
    case Errc::refused: return 409;
    default: return 500;
  }
}

// "invalid_argument", "not_found", ...: the Errc name as an identifier.
std::string code_name(Errc code) {
  std::string name(to_string(code));
  for (char& c : name) {
    if (c == ' ' || c == '-') c = '_';
  }
  return name;
}

HttpResponse error_response(const Status& s) { return json_error(http_status_for(s), code_name(s.code()), s.message()); }

Result<json> body_object(const HttpRequest& request) {
  if (request.body.empty()) return Status::invalid("the request body must be a JSON object (it is empty)");
  auto doc = parse_json(request.body);
  if (!doc) return doc.status();
  if (!doc->is_object()) return Status::invalid("the request body must be a JSON object");
  return doc;
}

Result<std::string> device_of(const json& req) {
  auto it = req.find("deviceId");
  if (it == req.end()) return Status::invalid("deviceId is required");
  if (!it->is_string()) return Status::invalid("deviceId must be a string");
  std::string device = it->get<std::string>();
  SHOPSYNC_TRY(validate_device_id(device));
  return device;
}

// A record id given as a string or an integer.
Result<std::string> id_value(const json& v, std::string_view what) {
  std::string id;
  if (v.is_string()) {
    id = v.get<std::string>();
  } else if (v.is_number_unsigned()) {
    id = std::to_string(v.get<std::uint64_t>());
  } else if (v.is_number_integer()) {
    id = std::to_string(v.get<std::int64_t>());
  } else {
    return Status::invalid(std::string(what) + " must be a string or an integer");
  }
  if (Status s = validate_record_id(id); !s) return Status::invalid(std::string(what) + ": " + s.message());
  return id;
}

// A timestamp given as ISO-8601 text or as Unix milliseconds.
Result<std::uint64_t> time_value(const json& v, std::string_view what) {
  if (v.is_string()) {
    if (auto ms = parse_iso8601(v.get<std::string>())) return *ms;
    return Status::invalid(std::string(what) + " '" + v.get<std::string>() + "' is not an ISO-8601 date-time");
  }
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  return Status::invalid(std::string(what) + " must be an ISO-8601 string");
}

// The seed's entityId was its database's integer key. Here a record id that
// is a decimal integer JavaScript holds exactly (up to 2^52 - 1, no leading
// zero) is shown as that integer; any other id as a stable integer derived
// from it: 2^52 + the low 52 bits of FNV-1a 64 of "collection/id", the same
// on every node. uniqueId is always the id itself (docs/http-gateway.md).
constexpr std::uint64_t kDerivedIdBase = std::uint64_t{1} << 52;

json entity_id(const RecordKey& key) {
  const std::string& id = key.id;
  const bool canonical = !id.empty() && id.size() <= 16 && (id == "0" || id.front() != '0') &&
                         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (canonical) {
    const std::uint64_t n = std::stoull(id);
    if (n < kDerivedIdBase) return n;
  }
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  mix(key.collection);
  mix("/");
  mix(id);
  return kDerivedIdBase + (h & (kDerivedIdBase - 1));
}

struct PullCursor {
  std::uint64_t start_ms = 0;
  RecordKey after;
};

std::string format_cursor(const PullCursor& c) {
  return std::to_string(c.start_ms) + ":" + c.after.collection + ":" + c.after.id;
}

std::optional<PullCursor> parse_cursor(std::string_view text) {
  PullCursor c;
  const auto a = text.find(':');
  if (a == std::string_view::npos) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + a, c.start_ms);
  if (ec != std::errc() || ptr != text.data() + a) return std::nullopt;
  const auto b = text.find(':', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  c.after.collection = std::string(text.substr(a + 1, b - a - 1));
  c.after.id = std::string(text.substr(b + 1));
  if (!validate_key(c.after)) return std::nullopt;
  return c;
}

}  // namespace

json Gateway::record_json(const VisibleRecord& record) const {
  json out = fields_to_json(record.visible.fields);
  out.erase(std::string(kEditedAtField));  // the device's edit time: the node's own bookkeeping
  const std::string idf = id_field(record.key.collection);
  if (!out.contains(idf)) out[idf] = record.key.id;
  out["updated_at"] = format_iso8601(wall_ms(record.visible.updated_at));
  if (record.visible.deleted) out["_deleted"] = true;
  if (record.siblings.size() > 1 && record.visible.conflicted) out["_conflicted"] = true;
  return out;
}

// ---- pull -----------------------------------------------------------------

Result<json> Gateway::do_pull(std::string_view device, const json& req) {
  std::uint64_t since_ms = 0;
  bool everything = true;  // no lastSyncTimestamp: the device wants every live record
  if (auto it = req.find("lastSyncTimestamp"); it != req.end() && !it->is_null()) {
    auto t = time_value(*it, "lastSyncTimestamp");
    if (!t) return t.status();
    since_ms = *t;
    everything = false;
  }
  std::optional<PullCursor> cursor;
  if (auto it = req.find("cursor"); it != req.end() && !it->is_null()) {
    if (!it->is_string()) return Status::invalid("cursor must be the string a previous pull returned");
    cursor = parse_cursor(it->get<std::string>());
    if (!cursor) return Status::invalid("cursor is not one a pull returned");
  }
  std::size_t limit = options_.max_pull_records;
  if (auto it = req.find("limit"); it != req.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0) return Status::invalid("limit must be a positive integer");
    limit = std::min<std::size_t>(limit, it->get<std::uint64_t>());
  }
  const std::uint64_t now = now_ms();
  const std::uint64_t start_ms = cursor ? cursor->start_ms : now;

  json changes = json::object();
  for (const auto& c : kSeedCollections) {
    if (reads_.has_collection(c)) changes[c] = json::array();
  }
  json conflicts = json::array();
  std::vector<app::SentToDevice> sent;
  bool has_more = false;
  RecordKey last;
  std::optional<DeviceState> device_state;
  VersionVector knowledge_now;

  Status scanned = service_.read_for_device([&](StoreReader& r) -> Status {
    auto d = load_device(r, device);
    if (!d) return d.status();
    device_state = std::move(*d);
    auto meta = r.node_meta();
    if (!meta) return meta.status();
    if (meta->has_value()) knowledge_now = (*meta)->knowledge;
    const std::optional<VersionVector> known =
        device_state && !everything ? device_state->pulled_knowledge : std::nullopt;
    std::set<RecordKey> resend;
    if (device_state) resend.insert(device_state->resend.begin(), device_state->resend.end());
    auto all_names = r.collections();
    if (!all_names) return all_names.status();
    auto names = device_collections(std::move(*all_names));
    std::erase_if(names, [&](const std::string& name) { return !reads_.has_collection(name); });
    for (const auto& name : names) changes.emplace(name, json::array());
    for (const auto& name : names) {
      if (has_more) break;
      if (cursor && name < cursor->after.collection) continue;
      const std::string after = cursor && name == cursor->after.collection ? cursor->after.id : std::string();
      Status inner = Status::ok();
      SHOPSYNC_TRY(r.for_each_record(name, after, [&](const RecordKey& key, const RecordState& state) {
        const Hlc newest = newest_hlc(state.siblings);
        const bool forced = resend.count(key) > 0;
        const bool by_time = everything || wall_ms(newest) > since_ms;
        bool by_knowledge = false;
        if (known) {
          for (const auto& v : state.siblings) by_knowledge |= !known->covers(v.dot);
        }
        if (!forced && !by_time && !by_knowledge) return Scan::next;
        if (!readable(key, state.siblings)) {
          // Outside the token's read scope: never sent; a record the device
          // holds that left the scope (deleted, or its filter field changed)
          // is sent as removed.
          if (everything) return Scan::next;
          auto seen = load_seen(r, device, key);
          if (!seen) {
            inner = seen.status();
            return Scan::stop;
          }
          if (!seen->has_value() || (*seen)->context.covers(state.context)) return Scan::next;
          if (sent.size() >= limit) {
            has_more = true;
            return Scan::stop;
          }
          changes[key.collection].push_back({{id_field(key.collection), key.id},
                                             {"updated_at", format_iso8601(wall_ms(newest))},
                                             {"_deleted", true}});
          sent.push_back({key, SeenVersion{state.context, newest}});
          last = key;
          return Scan::next;
        }
        VisibleRecord visible = service_.make_visible(key, state);
        if (everything && visible.visible.deleted && !forced) return Scan::next;
        if (!everything && !forced) {
          auto seen = load_seen(r, device, key);
          if (!seen) {
            inner = seen.status();
            return Scan::stop;
          }
          if (seen->has_value() && (*seen)->context.covers(state.context)) return Scan::next;  // it has this one
          // From the epoch (the continuation of a first pull, below): like a
          // first pull, no tombstone of a record the device never had.
          if (since_ms == 0 && visible.visible.deleted && !seen->has_value()) return Scan::next;
        }
        if (sent.size() >= limit) {
          has_more = true;
          return Scan::stop;
        }
        changes[key.collection].push_back(record_json(visible));
        if (visible.siblings.size() > 1) {
          conflicts.push_back({{"entityType", key.collection},
                               {"entityId", entity_id(key)},
                               {"uniqueId", key.id},
                               {"resolution", std::string(to_string(visible.strategy))},
                               {"siblings", visible.siblings.size()},
                               {"pendingResolution", visible.visible.conflicted}});
        }
        sent.push_back({key, SeenVersion{state.context, newest}});
        last = key;
        return Scan::next;
      }));
      SHOPSYNC_TRY(inner);
    }
    return Status::ok();
  });
  if (!scanned) return scanned;

  DeviceState d = device_state.value_or(DeviceState{});
  if (d.first_seen_ms == 0) d.first_seen_ms = now;
  // What the node knew when this pull's first page was served: a pull that
  // continues by timestamp (no cursor) keeps the first page's, so records
  // that arrive from other branches meanwhile, older than the timestamp, are
  // still caught by the next complete pull's knowledge test.
  if (!d.paging_knowledge) d.paging_knowledge = knowledge_now;
  if (!has_more) {
    d.pulled_knowledge = d.paging_knowledge;
    d.paging_knowledge.reset();
    d.last_pull_ms = now;
    d.last_sync_ms = now;
    ++d.pulls;
    d.resend.clear();
  }
  Status saved = service_.record_device_pull(device, sent, d);
  if (!saved) return saved;
  metrics_->pulled_records += sent.size();

  // A page cut short says, as its timestamp, where to continue from: the
  // same lastSyncTimestamp (or the epoch for a first pull); the records it
  // sent are then left out as seen. So a client that pulls by timestamp and
  // ignores hasMore and cursor still gets every record (docs/http-gateway.md,
  // "Paging"); the last page gives the time the pull started.
  const std::uint64_t timestamp = !has_more ? start_ms : everything ? 0 : since_ms;
  json out = {{"success", true},
              {"changes", std::move(changes)},
              {"timestamp", format_iso8601(timestamp)},
              {"conflicts", std::move(conflicts)},
              {"deviceId", std::string(device)},
              {"count", sent.size()},
              {"hasMore", has_more},
              {"cursor", has_more ? json(format_cursor({start_ms, last})) : json(nullptr)}};
  return out;
}

HttpResponse Gateway::sync_pull(const HttpRequest& request) {
  auto req = body_object(request);
  if (!req) return error_response(req.status());
  auto device = device_of(*req);
  if (!device) return error_response(device.status());
  if (auto denied = check_device(*device)) return *denied;
  auto out = do_pull(*device, *req);
  if (!out) return error_response(out.status());
  return ok_json(*out);
}

// ---- push -----------------------------------------------------------------

namespace {

// One element of changes[collection]. invalid_argument naming the problem;
// `id` is set as soon as the record's id is known (errors name it).
Result<DeviceChange> read_pushed(const std::string& collection, const json& item, std::uint64_t now, std::string& id_out) {
  if (!item.is_object()) return Status::invalid("each change must be a JSON object");
  DeviceChange p;
  p.key.collection = collection;
  const std::string idf = Gateway::id_field(collection);
  auto id_it = item.find(idf);
  const char* id_name = idf.c_str();
  if (id_it == item.end() || id_it->is_null()) {
    id_it = item.find("id");
    id_name = "id";
  }
  if (id_it == item.end() || id_it->is_null()) return Status::invalid("missing " + idf + " (or id)");
  auto id = id_value(*id_it, id_name);
  if (!id) return id.status();
  p.key.id = *id;
  id_out = *id;
  // With the collection's id field present, "id" is the device's own key
  // (IndexedDB's autoIncrement key): meaningless elsewhere, never stored.
  const bool local_id = id_name != std::string_view("id");
  p.client_ms = now;
  if (auto t = item.find("updated_at"); t != item.end() && !t->is_null()) {
    auto ms = time_value(*t, "updated_at");
    if (!ms) return ms.status();
    p.client_ms = *ms;
  }
  if (auto d = item.find("_deleted"); d != item.end() && !d->is_null()) {
    if (!d->is_boolean()) return Status::invalid("_deleted must be true or false");
    p.deleted = d->get<bool>();
  }
  for (auto it = item.begin(); it != item.end(); ++it) {
    if (is_bookkeeping(it.key()) || (local_id && it.key() == "id")) continue;
    if (it.key().empty()) return Status::invalid("field names must not be empty");
    p.fields[it.key()] = pack_value(it.value());
  }
  return p;
}

FieldUpdate replace_with(const json& fields) {
  FieldUpdate u;
  u.replace = true;
  for (auto it = fields.begin(); it != fields.end(); ++it) u.fields[it.key()] = pack_value(it.value());
  return u;
}

const char* action_name(DeviceAction action) {
  switch (action) {
    case DeviceAction::create: return "CREATE";
    case DeviceAction::update: return "UPDATE";
    case DeviceAction::remove: return "DELETE";
  }
  return "UPDATE";
}

}  // namespace

json Gateway::conflict_json(const RecordKey& key, const DeviceConflict& c) const {
  json out = {{"entityType", key.collection},
              {"entityId", entity_id(key)},
              {"uniqueId", key.id},
              {"resolution", std::string(to_string(c.strategy))},
              {"winner", std::string(to_string(c.winner))},
              {"serverUpdatedAt", format_iso8601(edited_at_ms(c.server->visible))},
              {"clientUpdatedAt", format_iso8601(c.client_ms)},
              {"serverVersion", record_json(*c.server)}};
  if (c.strategy == StrategyKind::newest_wins) out["nearSimultaneous"] = c.near_simultaneous;
  if (c.strategy == StrategyKind::manual) out["requiresResolution"] = true;
  if (c.merged) out["mergedVersion"] = record_json(*c.merged);
  return out;
}

// The decisions and the commit are the Replica's (Replica::apply_device_push:
// records, conflict log, what the device has seen and its state in one
// transaction); here the request is read and the answer written.
Result<json> Gateway::do_push(std::string_view device, const json& req, std::optional<HttpResponse>& refused) {
  json applied = json::array(), conflicts = json::array(), errors = json::array();
  auto changes_it = req.find("changes");
  if (changes_it == req.end() || changes_it->is_null()) return Status::invalid("changes is required");
  const json& changes = *changes_it;
  if (!changes.is_object()) return Status::invalid("changes must be an object of collection -> array of records");
  // The shape of the whole request is checked before anything is written.
  for (auto it = changes.begin(); it != changes.end(); ++it) {
    if (Status s = validate_device_collection(it.key()); !s) return Status::invalid("changes: " + s.message());
    if (!it->is_array()) return Status::invalid("changes." + it.key() + " must be an array");
  }
  DevicePush push;
  push.device = std::string(device);
  push.now_ms = now_ms();
  push.same_value = [](std::string_view stored, std::string_view pushed) {
    return unpack_value(stored) == unpack_value(pushed);
  };
  // Every element in request order: the change it became, or why it is not one.
  struct Element {
    std::string collection;
    std::size_t index = 0;
    std::optional<std::size_t> change;  // into push.changes
    Status refused = Status::ok();
    std::string id;  // of a refused element, when it has a valid one
  };
  std::vector<Element> elements;
  for (auto cit = changes.begin(); cit != changes.end(); ++cit) {
    std::size_t index = 0;
    for (const json& item : *cit) {
      std::string id;
      auto pushed = read_pushed(cit.key(), item, push.now_ms, id);
      if (!pushed) {
        elements.push_back({cit.key(), index++, std::nullopt, pushed.status(), id});
        continue;
      }
      ++metrics_->pushed_records;
      elements.push_back({cit.key(), index++, push.changes.size(), Status::ok(), {}});
      push.changes.push_back(std::move(*pushed));
    }
  }
  // A change outside the token's write scope refuses the whole push.
  for (const DeviceChange& c : push.changes) {
    if (writes_.unrestricted()) break;
    Version next;
    next.deleted = c.deleted;
    for (const auto& [name, packed] : c.fields) next.fields[name] = Field{packed, 0};
    refused = refuse_write(c.key, next);
    if (refused) return json();
  }
  auto outcomes = service_.apply_device_push(push);
  if (!outcomes) return outcomes.status();

  for (const Element& e : elements) {
    auto fail = [&](const std::string& id, const Status& s) {
      ++metrics_->push_errors;
      json entry = {{"entityType", e.collection}, {"index", e.index}, {"error", s.message()}, {"code", code_name(s.code())}};
      if (!id.empty()) {
        entry["entityId"] = entity_id({e.collection, id});
        entry["uniqueId"] = id;
      }
      errors.push_back(std::move(entry));
    };
    if (!e.change) {
      fail(e.id, e.refused);
      continue;
    }
    const RecordKey& key = push.changes[*e.change].key;
    const DeviceChangeOutcome& outcome = (*outcomes)[*e.change];
    if (!outcome.error) {
      fail(key.id, outcome.error);
      continue;
    }
    if (outcome.applied) {
      applied.push_back({{"entityType", key.collection},
                         {"entityId", entity_id(key)},
                         {"action", action_name(*outcome.applied)},
                         {"uniqueId", key.id}});
    }
    if (outcome.conflict) {
      const DeviceConflict& c = *outcome.conflict;
      ++metrics_->push_conflicts[{std::string(to_string(c.strategy)), std::string(to_string(c.winner))}];
      conflicts.push_back(conflict_json(key, c));
    }
  }
  json out = {{"success", errors.empty()},
              {"applied", std::move(applied)},
              {"conflicts", std::move(conflicts)},
              {"errors", std::move(errors)}};
  return out;
}

HttpResponse Gateway::sync_push(const HttpRequest& request) {
  auto req = body_object(request);
  if (!req) return error_response(req.status());
  auto device = device_of(*req);
  if (!device) return error_response(device.status());
  if (auto denied = check_device(*device)) return *denied;
  std::optional<HttpResponse> refused;
  auto out = do_push(*device, *req, refused);
  if (!out) return error_response(out.status());
  if (refused) return *refused;
  (*out)["deviceId"] = *device;
  return ok_json(*out);
}

HttpResponse Gateway::sync_full(const HttpRequest& request) {
  auto req = body_object(request);
  if (!req) return error_response(req.status());
  auto device = device_of(*req);
  if (!device) return error_response(device.status());
  if (auto denied = check_device(*device)) return *denied;
  json pushed = {{"success", true}, {"applied", json::array()}, {"conflicts", json::array()}, {"errors", json::array()}};
  if (auto it = req->find("changes"); it != req->end() && !it->is_null()) {
    std::optional<HttpResponse> refused;
    auto out = do_push(*device, *req, refused);
    if (!out) return error_response(out.status());
    if (refused) return *refused;
    pushed = std::move(*out);
  }
  auto pulled = do_pull(*device, *req);
  if (!pulled) return error_response(pulled.status());
  json conflicts = pushed["conflicts"];
  for (auto& c : (*pulled)["conflicts"]) conflicts.push_back(c);
  json out = {{"success", pushed["success"]},
              {"deviceId", *device},
              {"applied", pushed["applied"]},
              {"errors", pushed["errors"]},
              {"conflicts", std::move(conflicts)},
              {"changes", (*pulled)["changes"]},
              {"timestamp", (*pulled)["timestamp"]},
              {"count", (*pulled)["count"]},
              {"hasMore", (*pulled)["hasMore"]},
              {"cursor", (*pulled)["cursor"]}};
  return ok_json(out);
}

// ---- resolve-conflict -----------------------------------------------------

HttpResponse Gateway::sync_resolve(const HttpRequest& request) {
  auto req = body_object(request);
  if (!req) return error_response(req.status());
  auto device = device_of(*req);
  if (!device) return error_response(device.status());
  if (auto denied = check_device(*device)) return *denied;
  auto type = req->find("entityType");
  if (type == req->end() || !type->is_string()) return error_response(Status::invalid("entityType must be a collection name"));
  RecordKey key;
  key.collection = type->get<std::string>();
  if (Status s = validate_device_collection(key.collection); !s) return error_response(Status::invalid("entityType: " + s.message()));
  auto id_it = req->find("uniqueId");
  const char* id_name = "uniqueId";
  if (id_it == req->end()) {
    id_it = req->find("entityId");
    id_name = "entityId";
  }
  if (id_it == req->end()) return error_response(Status::invalid("uniqueId (or entityId) is required"));
  if (id_it->is_number_unsigned() && id_it->get<std::uint64_t>() >= kDerivedIdBase) {
    return error_response(Status::invalid("entityId " + id_it->dump() +
                                          " stands for a text id: send the record's uniqueId instead"));
  }
  auto id = id_value(*id_it, id_name);
  if (!id) return error_response(id.status());
  key.id = *id;
  auto res_it = req->find("resolution");
  if (res_it == req->end() || !res_it->is_string()) {
    return error_response(Status::invalid("resolution must be \"server\" (keep the node's version) or \"client\" (write data)"));
  }
  const std::string resolution = res_it->get<std::string>();
  const bool keep_server = resolution == "server" || resolution == "server_wins" || resolution == "use_server";
  const bool use_data = resolution == "client" || resolution == "client_wins" || resolution == "use_client" ||
                        resolution == "merge" || resolution == "custom";
  if (!keep_server && !use_data) {
    return error_response(Status::invalid("resolution '" + resolution + "' is not one of server, client, merge, custom"));
  }
  DeviceResolve resolve{*device, key, std::nullopt, now_ms()};
  if (use_data) {
    auto data = req->find("data");
    if (data == req->end() || !data->is_object()) return error_response(Status::invalid("data must be the record's fields (an object)"));
    json fields = json::object();
    const std::string idf = id_field(key.collection);
    const bool local_id = idf != "id" && data->contains(idf);  // "id": the device's own key, as in a push
    for (auto it = data->begin(); it != data->end(); ++it) {
      if (!is_bookkeeping(it.key()) && !(local_id && it.key() == "id")) fields[it.key()] = it.value();
    }
    resolve.fields = replace_with(fields);
  }
  if (!writes_.unrestricted()) {
    auto current = service_.find(key);
    if (!current) return error_response(current.status());
    Version next;  // what the resolution writes: the data, or the node's visible value
    if (resolve.fields) {
      for (const auto& [name, packed] : resolve.fields->fields) {
        if (packed) next.fields[name] = Field{*packed, 0};
      }
    } else if (current->has_value()) {
      next.fields = (*current)->visible.fields;
      next.deleted = (*current)->visible.deleted;
    }
    const auto siblings = current->has_value() ? (*current)->siblings : std::vector<Version>{};
    if (auto refused = refuse_write(key, siblings, next)) return *refused;
  }
  // The resolution and what the device now holds, in one transaction.
  auto result = service_.apply_device_resolve(resolve);
  if (!result) return error_response(result.status());
  json out = {{"success", true},
              {"deviceId", *device},
              {"resolved",
               {{"entityType", key.collection},
                {"entityId", entity_id(key)},
                {"uniqueId", key.id},
                {"resolution", keep_server ? "server" : resolution},
                {"record", record_json(*result)}}}};
  return ok_json(out);
}

// ---- status ---------------------------------------------------------------

HttpResponse Gateway::sync_status(std::string_view device) {
  if (Status s = validate_device_id(device); !s) return error_response(s);
  if (auto denied = check_device(device)) return *denied;
  std::optional<DeviceState> state;
  std::map<std::string, std::uint64_t> pending;
  std::uint64_t pending_total = 0;
  Status read = service_.read_for_device([&](StoreReader& r) -> Status {
    auto d = load_device(r, device);
    if (!d) return d.status();
    state = std::move(*d);
    const std::optional<VersionVector> known = state ? state->pulled_knowledge : std::nullopt;
    std::set<RecordKey> resend;
    if (state) resend.insert(state->resend.begin(), state->resend.end());
    auto names = r.collections();
    if (!names) return names.status();
    Status inner = Status::ok();
    for (const auto& name : device_collections(std::move(*names))) {
      if (!reads_.has_collection(name)) continue;
      SHOPSYNC_TRY(r.for_each_record(name, "", [&](const RecordKey& key, const RecordState& st) {
        if (!readable(key, st.siblings)) return Scan::next;
        bool wanted = resend.count(key) > 0;
        if (!wanted && !known) {
          wanted = std::any_of(st.siblings.begin(), st.siblings.end(), [](const Version& v) { return !v.deleted; });
        } else if (!wanted) {
          for (const auto& v : st.siblings) wanted |= !known->covers(v.dot);
          if (wanted) {
            auto seen = load_seen(r, device, key);
            if (!seen) {
              inner = seen.status();
              return Scan::stop;
            }
            if (seen->has_value() && (*seen)->context.covers(st.context)) wanted = false;
          }
        }
        if (wanted) {
          ++pending[key.collection];
          ++pending_total;
        }
        return Scan::next;
      }));
      SHOPSYNC_TRY(inner);
    }
    return Status::ok();
  });
  if (!read) return error_response(read);
  auto iso_or_null = [](std::uint64_t ms) { return ms == 0 ? json(nullptr) : json(format_iso8601(ms)); };
  json peers = json::array();
  for (const auto& p : peer_summaries()) {
    json entry = {{"nodeId", node_id_text(p.id)},
                  {"name", p.name},
                  {"role", p.role},
                  {"state", p.state},
                  {"lastSync", iso_or_null(p.last_sync_ms)}};
    auto counts = service_.pending_changes(p.id);
    if (counts) {
      std::erase_if(*counts, [&](const auto& count) { return !reads_.has_collection(count.first); });
      std::uint64_t total = 0;
      for (const auto& [c, n] : *counts) total += n;
      entry["pendingChanges"] = total;
      entry["pendingByCollection"] = *counts;
    }
    peers.push_back(std::move(entry));
  }
  json out = {{"success", true},
              {"deviceId", std::string(device)},
              {"known", state.has_value()},
              {"lastSyncTimestamp", iso_or_null(state ? state->last_sync_ms : 0)},
              {"lastPullTimestamp", iso_or_null(state ? state->last_pull_ms : 0)},
              {"lastPushTimestamp", iso_or_null(state ? state->last_push_ms : 0)},
              {"pulls", state ? state->pulls : 0},
              {"pushes", state ? state->pushes : 0},
              {"pendingCount", pending_total},
              {"pendingByCollection", pending},
              {"unresolvedConflicts", state ? state->resend.size() : 0},
              {"node", {{"nodeId", node_id_text(service_.node_id())}, {"name", options_.node_name}, {"role", options_.role},
                        {"cluster", service_.cluster()}}},
              {"peers", std::move(peers)}};
  return ok_json(out);
}

}  // namespace shopsync::gateway
