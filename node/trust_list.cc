#include "node/trust_list.h"

#include "node/log.h"

namespace shopsync {

bool TrustList::contains(std::string_view key) const {
  bool trusted = false;
  Status s = store_.read([&](StoreReader& r) -> Status {
    auto t = is_trusted_key(r, key);
    if (!t) return t.status();
    trusted = *t;
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "reading the trusted keys: " << s.to_string());
  return trusted;
}

std::vector<std::string> TrustList::keys() const {
  std::vector<std::string> keys;
  Status s = store_.read([&](StoreReader& r) -> Status {
    auto rows = list_trusted_keys(r);
    if (!rows) return rows.status();
    for (const auto& row : *rows) keys.push_back(row.key);
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "reading the trusted keys: " << s.to_string());
  return keys;
}

Status TrustList::add(const std::string& key, const std::string& name) {
  const std::uint64_t now = clock_.now_ms();
  return store_.write([&](StoreWriter& w) { return trust_key_again(w, {key, name, now}); });
}

Result<bool> TrustList::revoke(const std::string& key) {
  bool removed = false;
  const std::uint64_t now = clock_.now_ms();
  Status s = store_.write([&](StoreWriter& w) -> Status {
    auto r = revoke_trusted_key(w, key, now);
    if (!r) return r.status();
    removed = *r;
    return Status::ok();
  });
  if (!s) return s;
  return removed;
}

Result<std::vector<std::string>> TrustList::add_configured(const std::vector<TrustedKeyRow>& rows) {
  std::vector<std::string> added;
  Status s = store_.write([&](StoreWriter& w) -> Status {
    added.clear();
    for (const auto& row : rows) {
      auto revoked = is_revoked_key(w, row.key);
      if (!revoked) return revoked.status();
      if (*revoked) {
        SHOPSYNC_LOG(warn, row.name << ": key " << row.key << " was revoked (shopsync trust rm) and stays "
                                    << "untrusted; to trust it again: shopsync trust add '" << row.key << "'");
        continue;
      }
      auto trusted = is_trusted_key(w, row.key);
      if (!trusted) return trusted.status();
      SHOPSYNC_TRY(add_trusted_key(w, row));
      if (!*trusted) added.push_back(row.key);
    }
    return Status::ok();
  });
  if (!s) return s;
  return added;
}

}  // namespace shopsync
