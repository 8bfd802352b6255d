// REST access to records for applications (docs/http-gateway.md, "REST").
#include "core/version_vector.h"
#include "node/gateway/gateway.h"
#include "node/gateway/json_answers.h"
#include "node/gateway/reserved_collection.h"
#include "replication/hlc.h"

namespace shopsync::gateway {

namespace {


json view(const VisibleRecord& r) {
  json out = {{"collection", r.key.collection},
              {"id", r.key.id},
              {"fields", fields_to_json(r.visible.fields)},
              {"updated_at", format_iso8601(HybridClock::wall_ms(r.visible.updated_at))},
              {"hlc", std::to_string(r.visible.updated_at)},
              {"dot", dot_text(r.visible.winner)},
              {"deleted", r.visible.deleted},
              {"conflicted", r.visible.conflicted},
              {"strategy", std::string(to_string(r.strategy))},
              {"siblingCount", r.siblings.size()}};
  if (r.siblings.size() > 1) {
    json siblings = json::array();
    for (const auto& v : r.siblings) {
      siblings.push_back({{"dot", dot_text(v.dot)},
                          {"updated_at", format_iso8601(HybridClock::wall_ms(v.updated_at))},
                          {"deleted", v.deleted},
                          {"uplinkOrigin", v.uplink_origin},
                          {"fields", fields_to_json(v.fields)}});
    }
    out["siblings"] = std::move(siblings);
  }
  return out;
}

}  // namespace

HttpResponse Gateway::rest(const HttpRequest& request) {
  const auto& seg = request.segments;
  auto not_allowed = [&](const char* allow) {
    HttpResponse r = json_error(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  // Which collections hold records (a GET of another is 404).
  auto known_collection = [&](const std::string& name) -> Result<bool> { return service_.counts().contains(name); };

  if (seg.size() == 1) {  // GET /v1
    if (request.method != "GET") return not_allowed("GET");
    json collections = json::array();
    for (const auto& [name, counts] : service_.counts()) {
      if (is_reserved_collection(name) || !reads_.has_collection(name)) continue;
      auto live = readable_count(name, counts.live);
      if (!live) return from_status(live.status());
      collections.push_back({{"name", name}, {"records", *live},
                             {"strategy", std::string(to_string(service_.strategy_for(name)))}});
    }
    return ok_json({{"success", true}, {"collections", std::move(collections)}});
  }

  const std::string& collection = seg[1];
  if (Status s = validate_device_collection(collection); !s) return json_error(400, "bad_collection", s.message());
  if (request.method == "GET") {
    if (auto refused = refuse_collection(collection)) return *refused;
  }

  if (seg.size() == 2) {  // GET /v1/{collection}?after=ID&limit=N
    if (request.method != "GET") return not_allowed("GET");
    auto known = known_collection(collection);
    if (!known) return from_status(known.status());
    if (!*known) return json_error(404, "unknown_collection", "no collection named '" + collection + "'");
    const auto limit = query_count(request, "limit", 100, 1000);
    if (!limit) return json_error(400, "bad_limit", "limit must be an integer from 1 to 1000");
    std::string after;
    if (auto it = request.query.find("after"); it != request.query.end()) {
      after = it->second;
      if (Status s = validate_record_id(after); !s) return json_error(400, "bad_id", "after: " + s.message());
    }
    json records = json::array();
    std::optional<std::string> next;
    std::string last;
    Status s = service_.for_each_visible(collection, after, [&](const VisibleRecord& v) {
      if ((v.visible.deleted && !v.visible.conflicted) || !readable(v.key, v.siblings)) return Scan::next;
      if (records.size() == *limit) {
        next = last;
        return Scan::stop;
      }
      records.push_back(view(v));
      last = v.key.id;
      return Scan::next;
    });
    if (!s) return from_status(s);
    return ok_json({{"success", true},
                    {"collection", collection},
                    {"records", std::move(records)},
                    {"next", next ? json(*next) : json(nullptr)}});
  }

  if (seg.size() != 3) return json_error(404, "no_route", "no such endpoint: " + request.path);
  RecordKey key{collection, seg[2]};
  if (Status s = validate_record_id(key.id); !s) return json_error(400, "bad_id", s.message());

  if (request.method == "GET") {
    auto known = known_collection(collection);
    if (!known) return from_status(known.status());
    if (!*known) return json_error(404, "unknown_collection", "no collection named '" + collection + "'");
    auto got = service_.find(key);
    if (!got) return from_status(got.status());
    if (!got->has_value() || ((*got)->visible.deleted && !(*got)->visible.conflicted) ||
        !readable(key, (*got)->siblings)) {
      return json_error(404, "not_found", collection + "/" + key.id + ": no such record");
    }
    return ok_json({{"success", true}, {"record", view(**got)}});
  }
  if (request.method == "PUT") {
    if (request.body.empty()) return json_error(400, "bad_body", "the body must be a JSON object of fields");
    auto doc = parse_json(request.body);
    if (!doc) return json_error(400, "malformed_json", doc.status().message());
    if (!doc->is_object()) return json_error(400, "bad_body", "the body must be a JSON object of fields");
    FieldUpdate update;
    auto patch = request.query.find("patch");
    update.replace = patch == request.query.end() || patch->second == "0" || patch->second == "false";
    for (auto it = doc->begin(); it != doc->end(); ++it) {
      if (it.key().empty()) return json_error(400, "bad_field", "field names must not be empty");
      // In a patch, null removes the field.
      if (!update.replace && it->is_null()) {
        update.fields[it.key()] = std::nullopt;
      } else {
        update.fields[it.key()] = pack_value(it.value());
      }
    }
    auto existed = service_.find(key);
    if (!existed) return from_status(existed.status());
    const bool created = !existed->has_value() || (*existed)->visible.deleted;
    if (scoped()) {
      Version next;  // the record's value after the write
      if (!update.replace && !created) next.fields = (*existed)->visible.fields;
      for (const auto& [name, packed] : update.fields) {
        if (packed) {
          next.fields[name] = Field{*packed, 0};
        } else {
          next.fields.erase(name);
        }
      }
      const auto current = existed->has_value() ? (*existed)->siblings : std::vector<Version>{};
      if (auto refused = refuse_write(key, current, next)) return *refused;
    }
    auto written = service_.write(key, update);
    if (!written) return from_status(written.status());
    return ok_json({{"success", true}, {"created", created}, {"record", view(*written)}}, created ? 201 : 200);
  }
  if (request.method == "DELETE") {
    Version tombstone;
    tombstone.deleted = true;
    if (auto refused = refuse_write(key, tombstone)) return *refused;
    auto removed = service_.erase(key);
    if (!removed) return from_status(removed.status());
    return ok_json({{"success", true}, {"deleted", true}, {"collection", collection}, {"id", key.id}});
  }
  return not_allowed("GET, PUT, DELETE");
}

}  // namespace shopsync::gateway
