// JSON Web Key Sets (RFC 7517) for JwtVerifier: the public keys of a JWKS
// file (what an auth server publishes at its jwks_uri, saved to a file) as
// the PEM public keys libjwt reads. libjwt 1.10 has no JWK support; this
// only re-encodes a key's numbers (RSA n and e, EC P-256 x and y) as a DER
// SubjectPublicKeyInfo (RFC 5480, RFC 8017 A.1.1): no cryptography here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace shopsync::gateway {

// One verification key: its "kid" (empty when it has none) and its PEM.
struct JwtPublicKey {
  std::string kid;
  std::string pem;
};

// base64url without padding (RFC 7515 section 2), strictly; nullopt when
// `text` is not.
std::optional<std::string> base64url_decode(std::string_view text);

// Whether a --jwt-key-file's text is a JWKS (a JSON object) rather than a PEM.
bool looks_like_jwks(std::string_view text);

// The keys of `jwks` usable with `algorithm` ("RS256": kty RSA; "ES256": kty
// EC, crv P-256), skipping those whose "use" is not "sig" or whose "alg" names
// another algorithm. invalid_argument: not JSON, no "keys" array, a usable
// key with a missing or malformed member (named), or no usable key at all.
Result<std::vector<JwtPublicKey>> jwks_public_keys(std::string_view jwks, std::string_view algorithm);

}  // namespace shopsync::gateway
