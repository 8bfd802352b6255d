#include "replication/grant.h"

#include <algorithm>
#include <msgpack.hpp>
#include <vector>

#include "core/dot.h"

namespace shopsync {

namespace {

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find_first_of(separators, start);
    const std::string_view part = text.substr(start, end == std::string_view::npos ? text.size() - start : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

Status bad_entry(std::string_view entry, std::string_view why) {
  return Status::invalid("grant entry '" + std::string(entry.substr(0, 80)) + "': " + std::string(why));
}

std::string packed_str(std::string_view s) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  return std::string(buffer.data(), buffer.size());
}

}  // namespace

Result<Grant> parse_grant(std::string_view text) {
  Grant grant;
  for (std::string_view entry : split(text, " ,\t\n")) {
    if (entry == "admin") {
      grant.admin = true;
      continue;
    }
    const std::vector<std::string_view> parts = split(entry, ":");
    if (parts.size() < 2 || parts.size() > 3 || entry.front() == ':' || entry.back() == ':') {
      return bad_entry(entry, "expected COLLECTION:r|rw[:FIELD=VALUE|VALUE...] or admin");
    }
    const std::string collection(parts[0]);
    if (Status s = validate_collection_name(collection); !s) return bad_entry(entry, s.message());
    if (collection == kGrantsCollection) return bad_entry(entry, "grants are changed by admin keys only");
    if (grant.collections.count(collection) != 0) return bad_entry(entry, "collection named twice");
    CollectionGrant cg;
    if (parts[1] == "r" || parts[1] == "read") {
      cg.access = Access::read;
    } else if (parts[1] == "rw" || parts[1] == "read_write") {
      cg.access = Access::read_write;
    } else {
      return bad_entry(entry, "access must be r (read) or rw (read_write)");
    }
    if (parts.size() == 3) {
      const std::size_t eq = parts[2].find('=');
      if (eq == std::string_view::npos || eq == 0) return bad_entry(entry, "a filter is FIELD=VALUE|VALUE...");
      RecordFilter filter;
      filter.field = std::string(parts[2].substr(0, eq));
      for (std::string_view v : split(parts[2].substr(eq + 1), "|")) {
        if (!is_valid_utf8(v)) return bad_entry(entry, "a value is not UTF-8");
        filter.values.insert(std::string(v));
      }
      if (filter.values.empty()) return bad_entry(entry, "a filter needs at least one value");
      cg.filter = std::move(filter);
    }
    grant.collections.emplace(collection, std::move(cg));
  }
  return grant;
}

std::string to_text(const Grant& grant) {
  std::string out = grant.admin ? "admin" : "";
  for (const auto& [name, cg] : grant.collections) {
    if (!out.empty()) out += ' ';
    out += name + (cg.access == Access::read ? ":r" : ":rw");
    if (cg.filter) {
      out += ":" + cg.filter->field + "=";
      bool first = true;
      for (const std::string& v : cg.filter->values) {
        if (!first) out += '|';
        out += v;
        first = false;
      }
    }
  }
  return out;
}

std::string grant_or_none(std::string_view text, bool admin_named) {
  if (!text.empty()) return std::string(text);
  return admin_named ? "none (every record but the grants)" : "none (unrestricted)";
}

bool may_write(const Scope& writer, const RecordKey& key, const Version& version) {
  return version.deleted ? writer.has_collection(key.collection) : writer.contains(key, version);
}

std::string local_write_violation(const Scope& writer, const RecordKey& key, const std::vector<Version>& current,
                                  const Version& version) {
  if (writer.whole_collection(key.collection)) return "";
  const std::string record = key.collection + "/" + key.id;
  if (!writer.has_collection(key.collection)) return record + ": the collection is outside the write scope";
  if (!may_write(writer, key, version)) return record + ": the new version is outside the write scope";
  for (const Version& v : current) {
    if (!may_write(writer, key, v)) {
      return record + ": the record holds version " + dot_text(v.dot) +
             ", outside the write scope";
    }
  }
  return "";
}

Scope Scope::everything() {
  Scope s;
  s.everything_ = true;
  return s;
}

Scope Scope::everything_but_grants() {
  Scope s = everything();
  s.except_.emplace(kGrantsCollection);
  return s;
}

Scope Scope::read_scope(const Grant& grant) {
  if (grant.admin) return everything();
  Scope s;
  for (const auto& [name, cg] : grant.collections) {
    s.collections_.emplace(name, cg.filter);
  }
  s.collections_.emplace(std::string(kGrantsCollection), std::nullopt);
  for (const auto& [name, filter] : s.collections_) {
    if (!filter) continue;
    auto& packed = s.packed_values_[name];
    for (const std::string& v : filter->values) packed.insert(packed_str(v));
  }
  return s;
}

Scope Scope::write_scope(const Grant& grant) {
  if (grant.admin) return everything();
  Grant writable;
  for (const auto& [name, cg] : grant.collections) {
    if (cg.access == Access::read_write) writable.collections.emplace(name, cg);
  }
  Scope s = read_scope(writable);
  s.collections_.erase(std::string(kGrantsCollection));
  return s;
}

bool Scope::has_collection(std::string_view collection) const {
  if (everything_) return except_.find(collection) == except_.end();
  return collections_.find(collection) != collections_.end();
}

bool Scope::whole_collection(std::string_view collection) const {
  if (everything_) return except_.find(collection) == except_.end();
  auto it = collections_.find(collection);
  return it != collections_.end() && !it->second;
}

bool Scope::contains(const RecordKey& key, const Version& version) const {
  if (everything_) return except_.find(key.collection) == except_.end();
  auto it = collections_.find(key.collection);
  if (it == collections_.end()) return false;
  if (!it->second) return true;
  if (version.deleted) return false;
  auto field = version.fields.find(it->second->field);
  if (field == version.fields.end() || field->second.removed()) return false;
  const auto& packed = packed_values_.find(key.collection)->second;
  return packed.count(field->second.packed) != 0;
}

bool Scope::contains(const RecordKey& key, const RecordState& state) const {
  return std::any_of(state.siblings.begin(), state.siblings.end(),
                     [&](const Version& v) { return contains(key, v); });
}

std::string Scope::fingerprint() const {
  if (everything_) {
    std::string out = "*";
    for (const std::string& name : except_) out += " -" + name;
    return out;
  }
  std::string out;
  for (const auto& [name, filter] : collections_) {
    Grant g;
    g.collections.emplace(name, CollectionGrant{Access::read, filter});
    if (!out.empty()) out += ' ';
    out += name == kGrantsCollection ? name : to_text(g);
  }
  return out;
}

}  // namespace shopsync
