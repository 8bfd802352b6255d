#include "app/users.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace shopsync::app {

namespace {

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 1024;

Status ensure_sodium() {
  if (sodium_init() < 0) return Status::io_error("initialising libsodium");
  return Status::ok();
}

std::string user_key(std::string_view name) { return std::string(kUserKeyPrefix) + std::string(name); }

struct StoredUser {
  std::uint64_t created_ms = 0;
  std::string hash;  // crypto_pwhash_str output, NUL-free
};

// "v1 <ms> <hash>"
std::optional<StoredUser> decode(std::string_view value) {
  if (!value.starts_with("v1 ")) return std::nullopt;
  value.remove_prefix(3);
  const auto sp = value.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  StoredUser u;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + sp, u.created_ms);
  if (ec != std::errc() || ptr != value.data() + sp) return std::nullopt;
  u.hash = std::string(value.substr(sp + 1));
  if (u.hash.empty() || u.hash.size() >= crypto_pwhash_STRBYTES) return std::nullopt;
  return u;
}

Result<std::string> hash_password(std::string_view password) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::io_error("hashing the password: out of memory");
  }
  return std::string(out.data());
}

}  // namespace

Status validate_user_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@';
  });
  if (!ok) return Status::invalid("user name '" + std::string(name) + "' must be 1 to 64 of [A-Za-z0-9._@-]");
  return Status::ok();
}

Status add_user(Store& store, std::string_view name, std::string_view password, std::uint64_t now_ms, bool replace) {
  SHOPSYNC_TRY(validate_user_name(name));
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    return Status::invalid("a password must be 8 to 1024 bytes");
  }
  SHOPSYNC_TRY(ensure_sodium());
  auto hash = hash_password(password);
  if (!hash) return hash.status();
  return store.write([&](StoreWriter& w) -> Status {
    auto existing = w.get(Table::settings, user_key(name));
    if (!existing) return existing.status();
    if (existing->has_value() && !replace) {
      return Status::invalid("user '" + std::string(name) + "' exists (use passwd to change the password)");
    }
    return w.put(Table::settings, user_key(name), "v1 " + std::to_string(now_ms) + " " + *hash);
  });
}

Result<std::vector<UserInfo>> list_users(Store& store) {
  std::vector<UserInfo> users;
  SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
    return r.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
      if (key.starts_with(kUserKeyPrefix)) {
        UserInfo info{std::string(key.substr(kUserKeyPrefix.size())), 0};
        if (auto u = decode(value)) info.created_ms = u->created_ms;
        users.push_back(std::move(info));
      }
      return Scan::next;
    });
  }));
  std::sort(users.begin(), users.end(), [](const UserInfo& a, const UserInfo& b) { return a.name < b.name; });
  return users;
}

Status remove_user(Store& store, std::string_view name) {
  SHOPSYNC_TRY(validate_user_name(name));
  return store.write([&](StoreWriter& w) -> Status {
    auto existing = w.get(Table::settings, user_key(name));
    if (!existing) return existing.status();
    if (!existing->has_value()) return Status::not_found("no user named '" + std::string(name) + "'");
    return w.erase(Table::settings, user_key(name));
  });
}

Result<bool> check_password(Store& store, std::string_view name, std::string_view password) {
  SHOPSYNC_TRY(ensure_sodium());
  std::optional<StoredUser> user;
  if (validate_user_name(name)) {
    SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
      auto v = r.get(Table::settings, user_key(name));
      if (!v) return v.status();
      if (v->has_value()) user = decode(**v);
      return Status::ok();
    }));
  }
  if (!user || password.size() > kMaxPassword) {
    (void)hash_password(password.substr(0, kMaxPassword));  // the same work as a real check
    return false;
  }
  return crypto_pwhash_str_verify(user->hash.c_str(), password.data(), password.size()) == 0;
}

Result<std::string> login_key(Store& store) {
  SHOPSYNC_TRY(ensure_sodium());
  std::string key;
  SHOPSYNC_TRY(store.write([&](StoreWriter& w) -> Status {
    auto v = w.get(Table::settings, std::string(kLoginKeyName));
    if (!v) return v.status();
    if (v->has_value() && (*v)->size() == 64) {
      key = **v;
      return Status::ok();
    }
    std::array<unsigned char, 32> random{};
    randombytes_buf(random.data(), random.size());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
    sodium_memzero(random.data(), random.size());
    key = std::string(hex.data(), 64);
    return w.put(Table::settings, std::string(kLoginKeyName), key);
  }));
  return key;
}

}  // namespace shopsync::app
