#include "node/grant_policy.h"

#include <algorithm>

#include <msgpack.hpp>

namespace shopsync {

namespace {

// The text of a packed string field value; nullopt for any other value.
std::optional<std::string> unpacked_text(const std::string& packed) {
  try {
    const msgpack::unpack_limit limit(0, 0, 1 << 16, 0, 0, 1);
    std::size_t offset = 0;
    auto handle = msgpack::unpack(packed.data(), packed.size(), offset, nullptr, nullptr, limit);
    if (handle.get().type != msgpack::type::STR) return std::nullopt;
    return std::string(handle.get().via.str.ptr, handle.get().via.str.size);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

SubjectGrant read_grant(const Fields& fields) {
  SubjectGrant out;
  const auto it = fields.find(kGrantField);
  std::optional<std::string> text;
  if (it != fields.end() && !it->second.removed()) text = unpacked_text(it->second.packed);
  if (!text) {
    out.problem = "its field '" + std::string(kGrantField) + "' is missing or not a string";
    return out;
  }
  out.text = *text;
  auto grant = parse_grant(*text);
  if (grant) {
    out.grant = std::move(*grant);
  } else {
    out.problem = grant.status().message();
  }
  return out;
}

}  // namespace

Status GrantPolicy::load(StoreReader& reader, StrategyKind kind, std::uint64_t tolerance_ms) {
  std::map<std::string, SubjectGrant, std::less<>> grants;
  SHOPSYNC_TRY(reader.for_each_record(kGrantsCollection, "", [&](const RecordKey& key, const RecordState& state) {
    if (state.siblings.empty()) return Scan::next;
    const Outcome visible = choose_visible(state.siblings, kind, tolerance_ms);
    if (!visible.deleted) grants.emplace(key.id, read_grant(visible.fields));
    return Scan::next;
  }));
  grants_ = std::move(grants);
  admin_named_ = std::any_of(grants_.begin(), grants_.end(),
                             [](const auto& entry) { return entry.second.problem.empty() && entry.second.grant.admin; });
  return Status::ok();
}

const SubjectGrant* GrantPolicy::grant_of(NodeId node) const {
  if (grants_.empty()) return nullptr;
  const std::string subject = subject_of_(node);
  if (subject.empty()) return nullptr;
  const auto it = grants_.find(subject);
  return it == grants_.end() ? nullptr : &it->second;
}

Scope GrantPolicy::read_scope(NodeId node) const {
  const SubjectGrant* g = grant_of(node);
  return g ? Scope::read_scope(g->grant) : Scope::everything();
}

Scope GrantPolicy::write_scope(NodeId node) const {
  const SubjectGrant* g = grant_of(node);
  if (g) return Scope::write_scope(g->grant);
  return admin_named_ ? Scope::everything_but_grants() : Scope::everything();
}

}  // namespace shopsync
