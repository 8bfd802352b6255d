#include "app/users.h"

#include <algorithm>
#include <array>

#include "api/json_values.h"
#include "app/sodium.h"

namespace shopsync::app {

namespace {

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 1024;

// The hash, whatever the password's length (the dummy work of an unknown user).
Result<std::string> argon2id(std::string_view password) {
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

Result<std::string> hash_password(std::string_view password) {
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    return Status::invalid("a password must be 8 to 1024 bytes");
  }
  SHOPSYNC_TRY(ensure_sodium());
  return argon2id(password);
}

Result<bool> password_matches(const std::optional<std::string>& stored_hash, std::string_view password) {
  SHOPSYNC_TRY(ensure_sodium());
  const bool usable = stored_hash && !stored_hash->empty() && stored_hash->size() < crypto_pwhash_STRBYTES &&
                      stored_hash->find('\0') == std::string::npos;
  if (!usable || password.size() > kMaxPassword) {
    (void)argon2id(password.substr(0, kMaxPassword));  // the same work as a real check
    return false;
  }
  return crypto_pwhash_str_verify(stored_hash->c_str(), password.data(), password.size()) == 0;
}

std::string packed_password(std::string_view hash) {
  return json_values::json_to_packed(json_values::json(std::string(hash)), json_values::BinaryForm::base64_string);
}

std::optional<std::string> password_hash_of(const Fields& fields) {
  const auto it = fields.find(kPasswordField);
  if (it == fields.end() || it->second.removed()) return std::nullopt;
  auto value = json_values::decode_packed(it->second.packed, json_values::BinaryForm::base64_string);
  if (!value || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
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
