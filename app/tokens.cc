#include "app/tokens.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "app/sodium.h"

namespace shopsync::app {

namespace {

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return hex(digest.data(), digest.size());
}

struct StoredToken {
  std::string hash;
  std::uint64_t created_ms = 0;
  std::optional<Grant> scope;
};

std::string encode(std::string_view hash, std::uint64_t created_ms, const std::optional<Grant>& scope) {
  const std::string common = std::string(hash) + " " + std::to_string(created_ms);
  return scope ? "v2 " + common + " " + to_text(*scope) : "v1 " + common;
}

std::optional<StoredToken> decode(std::string_view value) {
  // "v1 <64 hex> <ms>" or "v2 <64 hex> <ms> <grant>"
  const bool scoped = value.starts_with("v2 ");
  if (!(scoped || value.starts_with("v1 ")) || value.size() < 3 + 64 + 2 || value[3 + 64] != ' ') return std::nullopt;
  StoredToken t;
  t.hash = std::string(value.substr(3, 64));
  std::string_view ms = value.substr(3 + 64 + 1);
  if (scoped) {
    const std::size_t space = ms.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto grant = parse_grant(ms.substr(space + 1));
    if (!grant) return std::nullopt;  // never read as unrestricted
    t.scope = std::move(*grant);
    ms = ms.substr(0, space);
  }
  const auto [ptr, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), t.created_ms);
  if (ec != std::errc() || ptr != ms.data() + ms.size()) return std::nullopt;
  return t;
}

}  // namespace

Status validate_token_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (!ok) return Status::invalid("token name '" + std::string(name) + "' must be 1 to 64 of [A-Za-z0-9._-]");
  return Status::ok();
}

Result<std::string> create_token(Store& store, std::string_view name, std::uint64_t now_ms,
                                 const std::optional<Grant>& scope) {
  SHOPSYNC_TRY(validate_token_name(name));
  // An admin grant restricts nothing: stored as an unrestricted token.
  const std::optional<Grant> kept = scope && !scope->admin ? scope : std::nullopt;
  SHOPSYNC_TRY(ensure_sodium());
  std::array<unsigned char, 32> random{};
  randombytes_buf(random.data(), random.size());
  std::string secret = "sst_" + hex(random.data(), random.size());
  sodium_memzero(random.data(), random.size());
  const std::string key = std::string(kTokenKeyPrefix) + std::string(name);
  const std::string value = encode(sha256_hex(secret), now_ms, kept);
  Status written = store.write([&](StoreWriter& w) -> Status {
    auto existing = w.get(Table::settings, key);
    if (!existing) return existing.status();
    if (existing->has_value()) {
      return Status::invalid("a token named '" + std::string(name) + "' exists; revoke it first");
    }
    SHOPSYNC_TRY(w.put(Table::settings, std::string(kTokenHashPrefix) + sha256_hex(secret), name));
    return w.put(Table::settings, key, value);
  });
  if (!written) return written;
  return secret;
}

Result<std::vector<TokenInfo>> list_tokens(Store& store) {
  std::vector<TokenInfo> tokens;
  SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
    return r.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
      if (key.starts_with(kTokenKeyPrefix)) {
        TokenInfo info{std::string(key.substr(kTokenKeyPrefix.size())), 0, std::nullopt};
        if (auto t = decode(value)) {
          info.created_ms = t->created_ms;
          info.scope = std::move(t->scope);
        }
        tokens.push_back(std::move(info));
      }
      return Scan::next;
    });
  }));
  std::sort(tokens.begin(), tokens.end(), [](const TokenInfo& a, const TokenInfo& b) { return a.name < b.name; });
  return tokens;
}

api::CredentialList credential_list(const std::vector<TokenInfo>& tokens) {
  api::CredentialList list;
  for (const auto& t : tokens) list.entries.push_back({t.name, t.created_ms, t.scope ? to_text(*t.scope) : ""});
  return list;
}

Status revoke_token(Store& store, std::string_view name) {
  SHOPSYNC_TRY(validate_token_name(name));
  const std::string key = std::string(kTokenKeyPrefix) + std::string(name);
  return store.write([&](StoreWriter& w) -> Status {
    auto existing = w.get(Table::settings, key);
    if (!existing) return existing.status();
    if (!existing->has_value()) return Status::not_found("no token named '" + std::string(name) + "'");
    if (auto t = decode(**existing)) {
      const std::string hash_key = std::string(kTokenHashPrefix) + t->hash;
      auto indexed = w.get(Table::settings, hash_key);
      if (!indexed) return indexed.status();
      if (indexed->has_value()) SHOPSYNC_TRY(w.erase(Table::settings, hash_key));
    }
    return w.erase(Table::settings, key);
  });
}

Result<std::optional<VerifiedToken>> find_token(Store& store, std::string_view secret) {
  if (secret.size() != 4 + 64 || !secret.starts_with("sst_")) return std::optional<VerifiedToken>();
  SHOPSYNC_TRY(ensure_sodium());
  const std::string presented = sha256_hex(secret);
  std::optional<VerifiedToken> match;
  // One point lookup by hash (the index), confirmed against the named entry
  // (what revoke removes first), so a half-revoked token never passes.
  SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
    auto name = r.get(Table::settings, std::string(kTokenHashPrefix) + presented);
    if (!name) return name.status();
    if (!name->has_value()) return Status::ok();
    auto entry = r.get(Table::settings, std::string(kTokenKeyPrefix) + **name);
    if (!entry) return entry.status();
    if (!entry->has_value()) return Status::ok();
    auto t = decode(**entry);
    if (t && t->hash.size() == presented.size() &&
        sodium_memcmp(t->hash.data(), presented.data(), presented.size()) == 0) {
      match = VerifiedToken{**name, std::move(t->scope)};
    }
    return Status::ok();
  }));
  return match;
}

Result<std::optional<std::string>> verify_token(Store& store, std::string_view secret) {
  auto found = find_token(store, secret);
  if (!found) return found.status();
  if (!found->has_value()) return std::optional<std::string>();
  return std::optional<std::string>((*found)->name);
}

}  // namespace shopsync::app
