// JSON Web Tokens (RFC 7519) for the HTTP gateway (docs/http-gateway.md,
// "JWT"): verifying tokens issued by the business's own auth server, and
// signing the tokens of the built-in login. The only file of the project
// that calls libjwt; no cryptography of our own.
//
// A verifier accepts exactly one algorithm (HS256 with a shared secret,
// RS256 or ES256 with a PEM public key or a JWKS, jwks.h): a token that names another one
// ("none", or HS256 with the public key as its secret) is refused. The
// token's "exp" and "nbf" are checked (60 s of leeway), "iss" and "aud" when
// configured. The user is the claim `user_claim` (default "sub"); the device
// is the claim `device_claim` (default "deviceId") when the token has it.
// Value type; thread-safe when const.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "node/gateway/jwks.h"

namespace shopsync::gateway {

struct JwtOptions {
  std::string algorithm;  // "HS256", "RS256" or "ES256"
  std::string key;        // HS256: the secret's bytes; RS256/ES256: a PEM public key or a JWKS (JSON)
  std::string user_claim = "sub";
  std::string device_claim = "deviceId";
  std::string issuer;     // required "iss" when not empty
  std::string audience;   // required in "aud" (a string or an array) when not empty
};

// Who a verified token speaks for.
struct JwtIdentity {
  std::string user;
  std::optional<std::string> device;  // the token binds its holder to this deviceId
};

class JwtVerifier {
 public:
  // invalid_argument: unknown algorithm, empty key, a PEM that is not a
  // public key, a JWKS without a usable key of that algorithm's kind.
  static Result<JwtVerifier> create(JwtOptions options);

  // The token's identity; refused (with why) when the signature, algorithm,
  // times, issuer or audience do not hold, or the user claim is missing.
  // With a JWKS, the key is the one whose "kid" is the token's; a token
  // without a "kid", or with one no key has, is tried against each key.
  Result<JwtIdentity> verify(std::string_view token, std::uint64_t now_s) const;

  const JwtOptions& options() const { return options_; }

 private:
  JwtVerifier(JwtOptions options, std::vector<JwtPublicKey> keys)
      : options_(std::move(options)), keys_(std::move(keys)) {}
  JwtOptions options_;
  std::vector<JwtPublicKey> keys_;  // options_.key, or the keys of its JWKS
};

// An HS256 token over these claims (sub = user, iat, exp = now + ttl, and the
// device claim when given). io_error if libjwt fails.
Result<std::string> sign_hs256(std::string_view secret, std::string_view user, std::optional<std::string_view> device,
                               std::uint64_t now_s, std::uint64_t ttl_s);

// Whether text looks like a JWT (three base64url parts), not an sst_ token.
bool looks_like_jwt(std::string_view token);

}  // namespace shopsync::gateway
