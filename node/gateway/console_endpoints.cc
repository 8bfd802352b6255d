// The web console's endpoints (docs/web-console.md), all under /api/console/
// and behind the gateway's Bearer tokens. Reads and writes go through the
// node's local API backend (app/record_service.h), and answers are the
// JSON of `shopsync ... --json` (api/api_json.h), so the console shows
// exactly what the CLI shows.
//
//   GET    /api/console/overview                       this node's status and its peers
//   GET    /api/console/conflicts?collection=&log_after=&limit=
//   POST   /api/console/resolve                        {collection, id, pick: DOT} or {collection, id, fields: {...}}
//   GET    /api/console/records                        collections and their counts
//   GET    /api/console/records/{collection}?after=&limit=
//   GET    /api/console/records/{collection}/{id}      the record, its versions and its conflict history
//   GET    /api/console/tokens                         names and creation times
//   POST   /api/console/tokens                         {name[, scope]}: the new token, shown once
//
// A scoped token (token_scope.cc) sees the records of its read scope only,
// resolves within its write scope, and cannot manage tokens.
//   DELETE /api/console/tokens/{name}
#include "api/api_json.h"
#include "node/gateway/gateway.h"
#include "node/gateway/json_answers.h"
#include "node/gateway/reserved_collection.h"

namespace shopsync::gateway {

namespace {

HttpResponse not_allowed(const HttpRequest& request, const char* allow) {
  HttpResponse r = json_error(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
  r.headers.emplace_back("Allow", allow);
  return r;
}

Result<json> json_body(const HttpRequest& request) {
  auto doc = parse_json(request.body);
  if (!doc) return doc.status();
  if (!doc->is_object()) return Status::invalid("the body must be a JSON object");
  return doc;
}

// {collection, id, pick: "<dot>"} or {collection, id, fields: {...}}.
Result<api::ResolveRequest> resolve_request(const json& doc) {
  api::ResolveRequest out;
  out.key = {string_member(doc, "collection"), string_member(doc, "id")};
  SHOPSYNC_TRY(validate_device_collection(out.key.collection));
  SHOPSYNC_TRY(validate_record_id(out.key.id));
  const auto pick = doc.find("pick");
  const auto fields = doc.find("fields");
  if ((pick == doc.end()) == (fields == doc.end())) {
    return Status::invalid("give exactly one of 'pick' (a version's dot) and 'fields' (the merged record)");
  }
  if (pick != doc.end()) {
    auto dot = pick->is_string() ? parse_dot(pick->get<std::string>()) : Result<Dot>(Status::invalid("not a string"));
    if (!dot) return Status::invalid("'pick' must be a version's dot, as listed (\"<node>:<counter>\")");
    out.pick = *dot;
    return out;
  }
  if (!fields->is_object()) return Status::invalid("'fields' must be a JSON object of the merged record's fields");
  api::FieldValues values;
  for (auto it = fields->begin(); it != fields->end(); ++it) {
    if (it.key().empty()) return Status::invalid("field names must not be empty");
    values.emplace(it.key(), json_values::json_to_packed(it.value(), json_values::BinaryForm::tagged_object));
  }
  out.fields = std::move(values);
  return out;
}

}  // namespace

// Marks each version of `view` ("siblings", or the record itself) with
// "written_here": whether this node wrote it (a dot's origin is a writer id,
// which only its own node can name).
void Gateway::mark_writers(json& view) const {
  auto mark = [&](json& version) {
    const auto dot = version.contains("dot") ? parse_dot(version["dot"].get<std::string>()) : Result<Dot>(Status::not_found("no dot"));
    version["written_here"] = dot && service_.is_own_origin(dot->origin);
  };
  mark(view);
  if (view.contains("siblings")) {
    for (auto& sibling : view["siblings"]) mark(sibling);
  }
}

HttpResponse Gateway::console(const HttpRequest& request) {
  const auto& seg = request.segments;
  const std::string what = seg.size() > 2 ? seg[2] : "";
  const bool get = request.method == "GET";

  if (what == "overview" && seg.size() == 3) {
    if (!get) return not_allowed(request, "GET");
    auto status = service_.status();
    if (!status) return from_status(status.status());
    auto peers = service_.peers();
    if (!peers) return from_status(peers.status());
    if (status->name.empty()) status->name = options_.node_name;
    if (status->role.empty()) status->role = options_.role;
    return ok_json({{"success", true},
                    {"now_ms", now_ms()},
                    {"status", api::status_json(*status)},
                    {"peers", api::peers_json(*peers)["peers"]}});
  }

  if (what == "conflicts" && seg.size() == 3) {
    if (!get) return not_allowed(request, "GET");
    api::ConflictsRequest q;
    if (auto it = request.query.find("collection"); it != request.query.end()) q.collection = it->second;
    const auto limit = query_count(request, "limit", api::kDefaultPageLimit, api::kMaxPageLimit);
    if (!limit) return json_error(400, "bad_limit", "limit must be an integer from 1 to 1000");
    q.limit = static_cast<std::uint32_t>(*limit);
    if (request.query.contains("log_after")) {
      const auto after = query_count(request, "log_after", 0, UINT64_MAX);
      if (!after) return json_error(400, "bad_log_after", "log_after must be a conflict log sequence number");
      q.log_after = *after;
    }
    if (!q.collection.empty()) {
      if (auto refused = refuse_collection(q.collection)) return *refused;
    }
    auto page = service_.conflicts(q);
    if (!page) return from_status(page.status());
    if (scoped()) {
      Status s = Status::ok();
      auto hidden = [&](const RecordKey& key) {
        auto shown = readable(key);
        if (!shown) s = shown.status();
        return !shown || !*shown;
      };
      std::erase_if(page->open, [&](const api::RecordView& r) { return hidden(r.key); });
      std::erase_if(page->log, [&](const api::ConflictLogEntry& e) { return hidden(e.key); });
      if (!s) return from_status(s);
    }
    json out = api::conflicts_json(*page);
    for (auto& record : out["open"]) mark_writers(record);
    for (auto& entry : out["log"]) mark_writers(entry);
    out["success"] = true;
    return ok_json(out);
  }

  if (what == "resolve" && seg.size() == 3) {
    if (request.method != "POST") return not_allowed(request, "POST");
    auto doc = json_body(request);
    if (!doc) return json_error(400, "invalid_argument", doc.status().message());
    auto resolve = resolve_request(*doc);
    if (!resolve) return json_error(400, "invalid_argument", resolve.status().message());
    if (!writes_.unrestricted()) {
      auto current = service_.find(resolve->key);
      if (!current) return from_status(current.status());
      const auto siblings = current->has_value() ? (*current)->siblings : std::vector<Version>{};
      Version next;  // the picked version, or the merged fields
      if (resolve->pick) {
        for (const Version& v : siblings) {
          if (v.dot == *resolve->pick) next = v;
        }
      } else {
        for (const auto& [name, packed] : *resolve->fields) next.fields[name] = Field{packed, 0};
      }
      if (auto refused = refuse_write(resolve->key, siblings, next)) return *refused;
    }
    auto written = service_.resolve(*resolve);
    if (!written) return from_status(written.status());
    auto record = service_.get(resolve->key);
    json out{{"success", true}, {"write", api::write_json(*written)}};
    if (record) out["record"] = api::record_json(*record);
    return ok_json(out);
  }

  if (what == "records" && seg.size() <= 5) {
    if (!get) return not_allowed(request, "GET");
    if (seg.size() == 3) {
      auto list = service_.collections();
      if (!list) return from_status(list.status());
      std::erase_if(list->collections, [&](const api::CollectionCount& c) {
        return is_reserved_collection(c.name) || !reads_.has_collection(c.name);
      });
      for (auto& c : list->collections) {
        auto live = readable_count(c.name, c.records);
        if (!live) return from_status(live.status());
        c.records = *live;
      }
      json out = api::collections_json(*list);
      for (auto& c : out["collections"]) c["strategy"] = std::string(to_string(service_.strategy_for(c["name"].get<std::string>())));
      out["success"] = true;
      return ok_json(out);
    }
    const std::string& collection = seg[3];
    if (Status s = validate_device_collection(collection); !s) return json_error(400, "bad_collection", s.message());
    if (auto refused = refuse_collection(collection)) return *refused;
    if (seg.size() == 4) {
      api::ListRequest q{collection, "", api::kDefaultPageLimit};
      if (auto it = request.query.find("after"); it != request.query.end()) q.after = it->second;
      const auto limit = query_count(request, "limit", api::kDefaultPageLimit, api::kMaxPageLimit);
      if (!limit) return json_error(400, "bad_limit", "limit must be an integer from 1 to 1000");
      q.limit = static_cast<std::uint32_t>(*limit);
      auto page = service_.list(q);
      if (!page) return from_status(page.status());
      if (scoped()) {
        Status s = Status::ok();
        std::erase_if(page->records, [&](const api::RecordView& r) {
          auto shown = readable(r.key);
          if (!shown) s = shown.status();
          return !shown || !*shown;
        });
        if (!s) return from_status(s);
      }
      json out = api::list_json(*page);
      out["success"] = true;
      return ok_json(out);
    }
    const RecordKey key{collection, seg[4]};
    if (Status s = validate_record_id(key.id); !s) return json_error(400, "bad_id", s.message());
    auto shown = readable(key);
    if (!shown) return from_status(shown.status());
    if (!*shown) return json_error(404, "not_found", collection + "/" + key.id + ": no such record");
    auto record = service_.get(key);
    if (!record) return from_status(record.status());
    auto history = service_.history(key);
    if (!history) return from_status(history.status());
    json entries = api::conflicts_json(api::ConflictsPage{{}, std::move(*history), 0})["log"];
    for (auto& entry : entries) mark_writers(entry);
    json view = api::record_json(*record);
    mark_writers(view);
    view["strategy"] = std::string(to_string(service_.strategy_for(collection)));
    return ok_json({{"success", true}, {"record", std::move(view)}, {"history", std::move(entries)}});
  }

  if (what == "tokens") {
    if (auto refused = refuse_scoped("managing tokens")) return *refused;
  }
  if (what == "tokens" && seg.size() == 3) {
    if (get) {
      auto tokens = service_.list_tokens();
      if (!tokens) return from_status(tokens.status());
      json out = json::array();
      for (const auto& t : tokens->entries) {
        out.push_back({{"name", t.name}, {"created_ms", t.created_ms}, {"scope", t.scope.empty() ? json(nullptr) : json(t.scope)}});
      }
      return ok_json({{"success", true}, {"tokens", std::move(out)}});
    }
    if (request.method != "POST") return not_allowed(request, "GET, POST");
    auto doc = json_body(request);
    if (!doc) return json_error(400, "invalid_argument", doc.status().message());
    const std::string name = string_member(*doc, "name");
    auto secret = service_.create_token({name, string_member(*doc, "scope")});
    if (!secret) return from_status(secret.status());
    return ok_json({{"success", true}, {"name", name}, {"token", secret->token}}, 201);
  }
  if (what == "tokens" && seg.size() == 4) {
    if (request.method != "DELETE") return not_allowed(request, "DELETE");
    if (Status s = service_.revoke_token(seg[3]); !s) return from_status(s);
    return ok_json({{"success", true}, {"revoked", seg[3]}});
  }

  return json_error(404, "no_route", "no such console endpoint: " + request.path);
}

}  // namespace shopsync::gateway
