#include "node/gateway/jwks.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/json_values.h"
#include "node/gateway/json_values.h"

namespace shopsync::gateway {

namespace {

// DER (X.690): a tag, the definite length, the contents.
std::string der(unsigned char tag, std::string_view contents) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = contents.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    std::string len;
    for (std::size_t v = n; v > 0; v >>= 8) len.insert(len.begin(), static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(0x80 | len.size()));
    out += len;
  }
  out += contents;
  return out;
}

// A non-negative INTEGER from big-endian bytes: no leading zero bytes, one
// added when the high bit is set (else it would read as negative).
std::string der_unsigned(std::string_view big_endian) {
  std::size_t skip = 0;
  while (skip + 1 < big_endian.size() && big_endian[skip] == '\0') ++skip;
  std::string bytes(big_endian.substr(skip));
  if (bytes.empty() || (static_cast<unsigned char>(bytes[0]) & 0x80)) bytes.insert(bytes.begin(), '\0');
  return der(0x02, bytes);
}

std::string der_bit_string(std::string_view bytes) { return der(0x03, std::string(1, '\0') + std::string(bytes)); }

// OIDs, encoded: rsaEncryption 1.2.840.113549.1.1.1, id-ecPublicKey
// 1.2.840.10045.2.1, prime256v1 1.2.840.10045.3.1.7.
constexpr std::string_view kRsaEncryption = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";
constexpr std::string_view kEcPublicKey = "\x06\x07\x2a\x86\x48\xce\x3d\x02\x01";
constexpr std::string_view kPrime256v1 = "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";
constexpr std::string_view kDerNull{"\x05\x00", 2};

std::string pem_of(const std::string& spki) {
  const std::string b64 = json_values::base64_encode(spki);
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END PUBLIC KEY-----\n";
}

Result<std::string> member_bytes(const json& key, const char* name, const std::string& which) {
  const auto it = key.find(name);
  if (it == key.end() || !it->is_string()) return Status::invalid(which + " has no string member \"" + name + "\"");
  auto bytes = base64url_decode(it->get<std::string>());
  if (!bytes || bytes->empty()) return Status::invalid(which + "'s \"" + name + "\" is not base64url");
  return std::move(*bytes);
}

Result<std::string> rsa_pem(const json& key, const std::string& which) {
  auto n = member_bytes(key, "n", which);
  if (!n) return n.status();
  auto e = member_bytes(key, "e", which);
  if (!e) return e.status();
  const std::string rsa_key = der(0x30, der_unsigned(*n) + der_unsigned(*e));
  return pem_of(der(0x30, der(0x30, std::string(kRsaEncryption) + std::string(kDerNull)) + der_bit_string(rsa_key)));
}

Result<std::string> ec_pem(const json& key, const std::string& which) {
  auto x = member_bytes(key, "x", which);
  if (!x) return x.status();
  auto y = member_bytes(key, "y", which);
  if (!y) return y.status();
  if (x->size() != 32 || y->size() != 32) return Status::invalid(which + "'s x and y are not 32 bytes each (P-256)");
  const std::string point = "\x04" + *x + *y;  // uncompressed point (SEC 1, 2.3.3)
  return pem_of(der(0x30, der(0x30, std::string(kEcPublicKey) + std::string(kPrime256v1)) + der_bit_string(point)));
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string standard(text);
  if (standard.find_first_of("+/=") != std::string::npos) return std::nullopt;
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  while (standard.size() % 4 != 0) standard.push_back('=');
  return json_values::base64_decode(standard);
}

bool looks_like_jwks(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

Result<std::vector<JwtPublicKey>> jwks_public_keys(std::string_view jwks, std::string_view algorithm) {
  const auto doc = json::parse(jwks, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::invalid("the JWKS is not a JSON object");
  const auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) return Status::invalid("the JWKS has no \"keys\" array");
  const bool rsa = algorithm == "RS256";
  std::vector<JwtPublicKey> out;
  std::size_t i = 0;
  for (const json& key : *keys) {
    ++i;
    if (!key.is_object()) return Status::invalid("the JWKS's key " + std::to_string(i) + " (from 1) is not an object");
    const std::string kty = string_member(key, "kty"), use = string_member(key, "use"), alg = string_member(key, "alg");
    if (kty != (rsa ? "RSA" : "EC") || (!use.empty() && use != "sig") || (!alg.empty() && alg != algorithm)) continue;
    if (!rsa && string_member(key, "crv") != "P-256") continue;
    JwtPublicKey pk;
    pk.kid = string_member(key, "kid");
    const std::string which = "the JWKS's key " + (pk.kid.empty() ? "number " + std::to_string(i) : "'" + pk.kid + "'");
    auto pem = rsa ? rsa_pem(key, which) : ec_pem(key, which);
    if (!pem) return pem.status();
    pk.pem = std::move(*pem);
    out.push_back(std::move(pk));
  }
  if (out.empty()) return Status::invalid("the JWKS has no signing key for " + std::string(algorithm));
  return out;
}

}  // namespace shopsync::gateway
