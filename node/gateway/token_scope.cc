// What a scoped token may read and write (docs/http-gateway.md, "Token
// scopes"): its grant's read and write scopes (replication/grant.h), asked by
// every route. Writes follow the rule of a scoped node's own local writes
// (local_write_violation): the new version and every version it supersedes
// must be in the write scope.
#include "node/gateway/gateway.h"
#include "node/gateway/gateway_metrics.h"
#include "node/gateway/json_answers.h"

namespace shopsync::gateway {

namespace {

HttpResponse outside_scope(std::string message, const std::string& collection, const std::string* id) {
  HttpResponse r = json_error(403, "outside_scope", message);
  json body = {{"success", false}, {"error", std::move(message)}, {"code", "outside_scope"}, {"collection", collection}};
  if (id) body["id"] = *id;
  r.body = dump_json(body);
  return r;
}

}  // namespace

void Gateway::set_scope(const std::optional<Grant>& grant) {
  grant_ = grant && !grant->admin ? grant : std::nullopt;
  reads_ = grant_ ? Scope::read_scope(*grant_) : Scope::everything();
  writes_ = grant_ ? Scope::write_scope(*grant_) : Scope::everything();
}

bool Gateway::readable(const RecordKey& key, const std::vector<Version>& siblings) const {
  if (reads_.unrestricted()) return true;
  if (!reads_.has_collection(key.collection)) return false;
  for (const Version& v : siblings) {
    if (reads_.contains(key, v)) return true;
  }
  return false;
}

Result<bool> Gateway::readable(const RecordKey& key) {
  if (reads_.unrestricted()) return true;
  auto found = service_.find(key);
  if (!found) return found.status();
  return found->has_value() && readable(key, (*found)->siblings);
}

Result<std::uint64_t> Gateway::readable_count(const std::string& collection, std::uint64_t all) {
  if (!grant_) return all;
  auto it = grant_->collections.find(collection);
  if (it == grant_->collections.end()) return std::uint64_t{0};
  if (!it->second.filter) return all;
  std::uint64_t n = 0;
  SHOPSYNC_TRY(service_.for_each_visible(collection, "", [&](const VisibleRecord& v) {
    if ((!v.visible.deleted || v.visible.conflicted) && readable(v.key, v.siblings)) ++n;
    return Scan::next;
  }));
  return n;
}

std::optional<HttpResponse> Gateway::refuse_collection(const std::string& collection) {
  if (reads_.has_collection(collection)) return std::nullopt;
  return outside_scope("collection '" + collection + "' is outside the token's read scope", collection, nullptr);
}

std::optional<HttpResponse> Gateway::refuse_write(const RecordKey& key, const std::vector<Version>& current,
                                                  const Version& next) {
  const std::string why = local_write_violation(writes_, key, current, next);
  if (why.empty()) return std::nullopt;
  ++metrics_->outside_scope;
  return outside_scope(why + " of the token (nothing was written)", key.collection, &key.id);
}

std::optional<HttpResponse> Gateway::refuse_write(const RecordKey& key, const Version& next) {
  if (writes_.unrestricted()) return std::nullopt;
  auto current = service_.find(key);
  if (!current) return from_status(current.status());
  return refuse_write(key, current->has_value() ? (*current)->siblings : std::vector<Version>{}, next);
}

std::optional<HttpResponse> Gateway::refuse_scoped(std::string_view what) const {
  if (!scoped()) return std::nullopt;
  return json_error(403, "outside_scope", std::string(what) + " needs a token without a scope");
}

}  // namespace shopsync::gateway
