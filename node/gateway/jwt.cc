#include "node/gateway/jwt.h"

#include <jwt.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <nlohmann/json.hpp>

namespace shopsync::gateway {

namespace {

constexpr long kLeewaySeconds = 60;

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

jwt_alg_t algorithm_of(std::string_view name) {
  if (name == "HS256") return JWT_ALG_HS256;
  if (name == "RS256") return JWT_ALG_RS256;
  if (name == "ES256") return JWT_ALG_ES256;
  return JWT_ALG_INVAL;
}

// A numeric claim, or nullopt when absent.
std::optional<long> int_claim(jwt_t* j, const char* name) {
  errno = 0;
  const long v = jwt_get_grant_int(j, name);
  if (errno != 0) return std::nullopt;
  return v;
}

bool audience_matches(jwt_t* j, const std::string& audience) {
  if (const char* aud = jwt_get_grant(j, "aud")) return audience == aud;
  char* text = jwt_get_grants_json(j, "aud");
  if (!text) return false;
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  free(text);
  return doc.is_array() && std::any_of(doc.begin(), doc.end(), [&](const nlohmann::json& a) {
           return a.is_string() && a.get<std::string>() == audience;
         });
}

// The "kid" of the token's header (not yet verified: it only picks the key),
// empty when it has none or the header does not decode.
std::string key_id_of(std::string_view token) {
  const auto bytes = base64url_decode(token.substr(0, token.find('.')));
  if (!bytes) return {};
  const auto doc = nlohmann::json::parse(*bytes, nullptr, false);
  if (!doc.is_object() || !doc.contains("kid") || !doc["kid"].is_string()) return {};
  return doc["kid"].get<std::string>();
}

}  // namespace

bool looks_like_jwt(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2 && !token.starts_with("sst_");
}

Result<JwtVerifier> JwtVerifier::create(JwtOptions options) {
  const jwt_alg_t alg = algorithm_of(options.algorithm);
  if (alg == JWT_ALG_INVAL) {
    return Status::invalid("JWT algorithm '" + options.algorithm + "' is not HS256, RS256 or ES256");
  }
  if (options.key.empty()) return Status::invalid("the JWT key is empty");
  if (options.user_claim.empty()) return Status::invalid("the JWT user claim is empty");
  if (alg != JWT_ALG_HS256 && looks_like_jwks(options.key)) {
    auto keys = jwks_public_keys(options.key, options.algorithm);
    if (!keys) return keys.status();
    return JwtVerifier(std::move(options), std::move(*keys));
  }
  if (alg != JWT_ALG_HS256 && options.key.find("-----BEGIN PUBLIC KEY-----") == std::string::npos) {
    return Status::invalid("the JWT key of " + options.algorithm +
                           " must be a PEM public key (-----BEGIN PUBLIC KEY-----) or a JWKS");
  }
  std::vector<JwtPublicKey> keys{{"", options.key}};
  return JwtVerifier(std::move(options), std::move(keys));
}

Result<JwtIdentity> JwtVerifier::verify(std::string_view token, std::uint64_t now_s) const {
  const std::string text(token);
  const std::string kid = key_id_of(token);
  const bool kid_known = !kid.empty() && std::any_of(keys_.begin(), keys_.end(), [&](const auto& k) { return k.kid == kid; });
  JwtPtr j;
  for (const auto& key : keys_) {
    if (kid_known && key.kid != kid) continue;
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.pem.data()),
                              static_cast<int>(key.pem.size()));
    j.reset(raw);
    if (rc == 0 && j) break;
    j.reset();
  }
  if (!j) return Status::refused("the JWT does not verify (signature, key or format)");
  // libjwt verifies with whatever algorithm the token names: refuse any
  // other than the configured one (HS256 forged with a public key as secret).
  if (jwt_get_alg(j.get()) != algorithm_of(options_.algorithm)) {
    return Status::refused(std::string("the JWT is signed with ") + jwt_alg_str(jwt_get_alg(j.get())) + ", not " +
                           options_.algorithm);
  }
  const long now = static_cast<long>(now_s);
  if (auto exp = int_claim(j.get(), "exp"); exp && now > *exp + kLeewaySeconds) return Status::refused("the JWT has expired");
  if (auto nbf = int_claim(j.get(), "nbf"); nbf && now + kLeewaySeconds < *nbf) return Status::refused("the JWT is not valid yet");
  if (!options_.issuer.empty()) {
    const char* iss = jwt_get_grant(j.get(), "iss");
    if (!iss || options_.issuer != iss) return Status::refused("the JWT's issuer is not " + options_.issuer);
  }
  if (!options_.audience.empty() && !audience_matches(j.get(), options_.audience)) {
    return Status::refused("the JWT's audience does not include " + options_.audience);
  }
  JwtIdentity id;
  const char* user = jwt_get_grant(j.get(), options_.user_claim.c_str());
  if (!user || !*user) return Status::refused("the JWT has no string claim '" + options_.user_claim + "' (the user)");
  id.user = user;
  if (!options_.device_claim.empty()) {
    if (const char* device = jwt_get_grant(j.get(), options_.device_claim.c_str())) id.device = std::string(device);
  }
  return id;
}

Result<std::string> sign_hs256(std::string_view secret, std::string_view user, std::optional<std::string_view> device,
                               std::uint64_t now_s, std::uint64_t ttl_s) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Status::io_error("libjwt: jwt_new failed");
  JwtPtr j(raw);
  const std::string user_s(user);
  bool ok = jwt_add_grant(j.get(), "sub", user_s.c_str()) == 0 &&
            jwt_add_grant_int(j.get(), "iat", static_cast<long>(now_s)) == 0 &&
            jwt_add_grant_int(j.get(), "exp", static_cast<long>(now_s + ttl_s)) == 0;
  if (ok && device) ok = jwt_add_grant(j.get(), "deviceId", std::string(*device).c_str()) == 0;
  ok = ok && jwt_set_alg(j.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                         static_cast<int>(secret.size())) == 0;
  if (!ok) return Status::io_error("libjwt: cannot build the token");
  char* out = jwt_encode_str(j.get());
  if (!out) return Status::io_error("libjwt: cannot sign the token");
  std::string token(out);
  free(out);
  return token;
}

}  // namespace shopsync::gateway
