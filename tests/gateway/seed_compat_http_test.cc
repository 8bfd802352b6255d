// The seed's browser app against the gateway with only its base URL changed
// (issue 16): login, CORS, integer entityIds, zone-less timestamps, paging a
// client that ignores hasMore, newest_wins by the edit's time, gzip, JWTs of
// the business's auth server. Real sockets to a gateway over a real Replica
// and LMDB store (gateway_harness.h).
#include <jwt.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <thread>
#include <set>

#include "api/json_values.h"
#include "app/users.h"
#include "node/gateway/gzip.h"
#include "node/gateway/jwt.h"
#include "tests/gateway/gateway_harness.h"

namespace shopsync::test {
namespace {

using gateway::json;

HttpAnswer send(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body,
                const std::string& token, const std::vector<std::string>& headers = {}) {
  std::string raw = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  for (const auto& h : headers) raw += h + "\r\n";
  if (!body.empty() || method == "POST") {
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return raw_http(port, raw + "\r\n" + body);
}

HttpAnswer post(std::uint16_t port, const std::string& path, const json& body, const std::string& token,
                const std::vector<std::string>& headers = {}) {
  return send(port, "POST", path, body.dump(), token, headers);
}

json body_of(const HttpAnswer& a) {
  auto doc = gateway::parse_json(a.body);
  BOOST_REQUIRE_MESSAGE(doc, "JSON answer expected, got " << a.status << ": " << a.body.substr(0, 300));
  return *doc;
}

bool has_header(const HttpAnswer& a, const std::string& line) { return a.head.find("\r\n" + line + "\r\n") != std::string::npos; }

json push_of(const std::string& device, const json& records, const std::string& collection = "customers") {
  return {{"deviceId", device}, {"changes", {{collection, records}}}};
}

// A user of the built-in login, written as `shopsync user add` does: a
// record of the cluster's users collection holding the password's hash.
void add_login_user(GatewayHarness& h, const std::string& name, const std::string& password) {
  auto hash = app::hash_password(password);
  BOOST_REQUIRE_MESSAGE(hash, hash.status().to_string());
  FieldUpdate update;
  update.fields[std::string(app::kPasswordField)] = app::packed_password(*hash);
  auto written = h.replica->put({std::string(app::kUsersCollection), name}, update, h.outbox);
  BOOST_REQUIRE_MESSAGE(written, written.status().to_string());
}

BOOST_AUTO_TEST_SUITE(seed_compat_http)

// A browser app on another origin: the preflight is answered without a token,
// and every answer (a 401 too) carries Access-Control-Allow-Origin for it.
BOOST_AUTO_TEST_CASE(cors_preflight_needs_no_token_and_answers_name_the_origin) {
  gateway::GatewayOptions gw;
  gw.cors_origins = {"http://shop.local:3000"};
  GatewayHarness h({}, gw);
  h.start();
  const std::vector<std::string> preflight = {"Origin: http://shop.local:3000", "Access-Control-Request-Method: POST",
                                              "Access-Control-Request-Headers: authorization,content-type"};
  const auto pre = send(h.port, "OPTIONS", "/api/sync/pull", "", "", preflight);
  BOOST_TEST(pre.status == 204);
  BOOST_TEST(has_header(pre, "Access-Control-Allow-Origin: http://shop.local:3000"));
  BOOST_TEST(pre.head.find("Access-Control-Allow-Headers: Authorization, Content-Type") != std::string::npos);
  BOOST_TEST(pre.head.find("Access-Control-Allow-Methods: GET, HEAD, POST") != std::string::npos);

  const auto pulled = post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, h.token, {"Origin: http://shop.local:3000"});
  BOOST_TEST(pulled.status == 200);
  BOOST_TEST(has_header(pulled, "Access-Control-Allow-Origin: http://shop.local:3000"));
  const auto denied = post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, "", {"Origin: http://shop.local:3000"});
  BOOST_TEST(denied.status == 401);
  BOOST_TEST(has_header(denied, "Access-Control-Allow-Origin: http://shop.local:3000"));

  const auto other = send(h.port, "OPTIONS", "/api/sync/pull", "", "", {"Origin: http://evil.example"});
  BOOST_TEST(other.status == 403);
  const auto other_post = post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, h.token, {"Origin: http://evil.example"});
  BOOST_TEST(other_post.head.find("Access-Control-Allow-Origin") == std::string::npos);
}

// entityId is an integer as in the seed: the id itself when it is one, a
// stable number for a text id; uniqueId is the id.
BOOST_AUTO_TEST_CASE(entity_ids_are_integers) {
  GatewayHarness h;
  h.start();
  const json records = json::array({{{"customer_id", 42}, {"name", "A"}}, {{"customer_id", "CUST_001"}, {"name", "B"}}});
  const json out = body_of(post(h.port, "/api/sync/push", push_of("d1", records), h.token));
  BOOST_REQUIRE(out["applied"].size() == 2u);
  BOOST_TEST(out["applied"][0]["entityId"] == 42);
  BOOST_TEST(out["applied"][0]["uniqueId"] == "42");
  BOOST_TEST(out["applied"][1]["entityId"].is_number_unsigned());
  BOOST_TEST(out["applied"][1]["uniqueId"] == "CUST_001");
  const json again = body_of(post(h.port, "/api/sync/push", push_of("d2", json::array({records[1]})), h.token));
  BOOST_TEST(again["applied"][0]["entityId"] == out["applied"][1]["entityId"]);
}

// "2025-01-15T10:00:00" (no zone) is UTC, on push and pull; a record that is
// refused anyway is reported in errors with its id, never dropped quietly.
BOOST_AUTO_TEST_CASE(zone_less_timestamps_are_utc_and_refused_records_are_reported) {
  GatewayHarness h;
  h.start();
  const json records = json::array({{{"customer_id", "C1"}, {"name", "A"}, {"updated_at", "2025-01-15T10:00:00"}},
                                    {{"customer_id", "C2"}, {"name", "B"}, {"updated_at", "yesterday"}}});
  const auto answer = post(h.port, "/api/sync/push", push_of("d1", records), h.token);
  BOOST_TEST(answer.status == 200);
  const json out = body_of(answer);
  BOOST_TEST(out["success"] == false);
  BOOST_REQUIRE(out["applied"].size() == 1u);
  BOOST_TEST(out["applied"][0]["uniqueId"] == "C1");
  BOOST_REQUIRE(out["errors"].size() == 1u);
  BOOST_TEST(out["errors"][0]["uniqueId"] == "C2");
  BOOST_TEST(out["errors"][0]["index"] == 1);
  const auto pulled = post(h.port, "/api/sync/pull", {{"deviceId", "d2"}, {"lastSyncTimestamp", "2025-01-15T10:00:00"}}, h.token);
  BOOST_TEST(pulled.status == 200);
  BOOST_TEST(body_of(pulled)["changes"]["customers"].size() == 1u);
}

// A client that pulls by timestamp and ignores hasMore and cursor, as the
// seed's does, still gets every record (before: one page, then nothing).
BOOST_AUTO_TEST_CASE(a_timestamp_only_client_gets_every_page) {
  gateway::GatewayOptions gw;
  gw.max_pull_records = 40;
  GatewayHarness h({}, gw);
  constexpr int kRecords = 97;  // three pages
  for (int i = 0; i < kRecords; ++i) {
    auto put = h.replica->put({"customers", "C" + std::to_string(1000 + i)},
                              FieldUpdate{{{"n", std::string("\x01", 1)}}, true}, h.outbox);
    BOOST_REQUIRE(put);
  }
  h.outbox.messages.clear();
  h.start();
  for (const json& first : {json("2025-01-01T00:00:00Z"), json(nullptr)}) {
    const std::string device = first.is_null() ? "fresh" : "seed_app";
    std::set<std::string> got;
    json since = first;
    for (int round = 0; round < 10; ++round) {
      const json out = body_of(post(h.port, "/api/sync/pull", {{"deviceId", device}, {"lastSyncTimestamp", since}}, h.token));
      for (const auto& r : out["changes"]["customers"]) got.insert(r["customer_id"].get<std::string>());
      if (out["count"] == 0) break;
      since = out["timestamp"];
    }
    BOOST_TEST(got.size() == static_cast<std::size_t>(kRecords), device << " got " << got.size());
    const json status = body_of(http_get(h.port, "/api/sync/status/" + device, h.token));
    BOOST_TEST(status["pendingCount"] == 0);
  }
}

// newest_wins between devices compares when each edited the record, not
// when each synced: A edits at 10:00 and syncs, B edited at 11:00 and syncs
// later: B wins (before: A, whose write had the later clock).
BOOST_AUTO_TEST_CASE(newest_wins_compares_edit_times_bounded_by_the_max_clock_offset) {
  ReplicaOptions options;
  options.max_clock_offset_ms = 5000;
  GatewayHarness h(options);
  h.start();
  auto edit = [&](const std::string& device, const std::string& id, const std::string& name, const std::string& at) {
    return body_of(post(h.port, "/api/sync/push",
                        push_of(device, json::array({{{"customer_id", id}, {"name", name}, {"updated_at", at}}})), h.token));
  };
  BOOST_REQUIRE(edit("shop", "C1", "original", "2025-01-15T09:00:00Z")["success"] == true);
  BOOST_REQUIRE(edit("shop", "C2", "original", "2025-01-15T09:00:00Z")["success"] == true);
  for (const char* d : {"a", "b"}) post(h.port, "/api/sync/pull", {{"deviceId", d}}, h.token);

  BOOST_TEST(edit("a", "C1", "by A", "2025-01-15T10:00:00Z")["conflicts"].empty());
  const json b = edit("b", "C1", "by B", "2025-01-15T11:00:00Z");
  BOOST_REQUIRE(b["conflicts"].size() == 1u);
  BOOST_TEST(b["conflicts"][0]["winner"] == "client");
  BOOST_TEST(b["conflicts"][0]["serverUpdatedAt"] == "2025-01-15T10:00:00.000Z");
  BOOST_TEST(body_of(http_get(h.port, "/v1/customers/C1", h.token))["record"]["fields"]["name"] == "by B");

  // A device whose clock is decades ahead: its edit counts as no later than
  // the node's clock plus the max offset, so a later real edit still wins.
  BOOST_TEST(edit("a", "C2", "fast clock", "2099-01-01T00:00:00Z")["conflicts"].empty());
  // Both edits below count at the node's clock plus the max offset: they are
  // ordered only if the node's clock moved on between them (in the same
  // millisecond they tie, and a tie keeps the node's version).
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const json late = edit("b", "C2", "real edit", "2098-01-01T00:00:00Z");
  BOOST_REQUIRE(late["conflicts"].size() == 1u);
  BOOST_TEST(late["conflicts"][0]["winner"] == "client");
  const std::string fast_edit = late["conflicts"][0]["serverUpdatedAt"];
  BOOST_TEST(fast_edit.compare(0, 4, "2098") < 0, "the fast clock's edit counted at " << fast_edit);
}

// Answers are gzip for clients that accept it; request bodies may be gzip.
BOOST_AUTO_TEST_CASE(gzip_both_ways) {
  GatewayHarness h;
  h.start();
  json records = json::array();
  for (int i = 0; i < 50; ++i) records.push_back({{"customer_id", "C" + std::to_string(i)}, {"name", "Customer"}});
  auto packed = gateway::gzip_compress(push_of("d1", records).dump());
  BOOST_REQUIRE(packed);
  const auto pushed = send(h.port, "POST", "/api/sync/push", *packed, h.token, {"Content-Encoding: gzip"});
  BOOST_TEST(pushed.status == 200);
  BOOST_TEST(body_of(pushed)["applied"].size() == 50u);

  const auto pulled = post(h.port, "/api/sync/pull", {{"deviceId", "d2"}}, h.token, {"Accept-Encoding: gzip, deflate, br"});
  BOOST_TEST(pulled.status == 200);
  BOOST_REQUIRE(has_header(pulled, "Content-Encoding: gzip"));
  BOOST_REQUIRE(pulled.body.size() > 2u);
  BOOST_TEST((pulled.body[0] == '\x1f' && pulled.body[1] == '\x8b'));
  auto text = gateway::gzip_decompress(pulled.body, 1 << 20);
  BOOST_REQUIRE(text);
  BOOST_TEST(gateway::parse_json(*text)->at("changes").at("customers").size() == 50u);
  const auto plain = post(h.port, "/api/sync/pull", {{"deviceId", "d3"}}, h.token);
  BOOST_TEST(plain.head.find("Content-Encoding") == std::string::npos);
  BOOST_TEST(send(h.port, "POST", "/api/sync/push", "not gzip", h.token, {"Content-Encoding: gzip"}).status == 400);
}

// The device's IndexedDB key ("id" beside customer_id) is its own: not
// stored, not sent to other devices.
BOOST_AUTO_TEST_CASE(the_devices_local_id_is_not_replicated) {
  GatewayHarness h;
  h.start();
  post(h.port, "/api/sync/push", push_of("d1", json::array({{{"id", 7}, {"customer_id", "CUST_9"}, {"name", "A"}}})), h.token);
  const json rec = body_of(http_get(h.port, "/v1/customers/CUST_9", h.token))["record"]["fields"];
  BOOST_TEST(!rec.contains("id"));
  const json pulled = body_of(post(h.port, "/api/sync/pull", {{"deviceId", "d2"}}, h.token));
  BOOST_REQUIRE(pulled["changes"]["customers"].size() == 1u);
  BOOST_TEST(!pulled["changes"]["customers"][0].contains("id"));
}

// The built-in login: the seed's POST /api/auth/login, a token the gateway
// accepts, wrong passwords refused and rate-limited.
BOOST_AUTO_TEST_CASE(built_in_login_gives_a_token_and_is_rate_limited) {
  gateway::GatewayOptions gw;
  gw.login = true;
  gw.login_failures_per_user = 2;  // each check costs an Argon2id hash: few of them
  GatewayHarness h({}, gw);
  add_login_user(h, "admin", "admin123");
  h.start();
  const auto ok = post(h.port, "/api/auth/login", {{"username", "admin"}, {"password", "admin123"}}, "");
  BOOST_REQUIRE(ok.status == 200);
  const json login = body_of(ok);
  BOOST_TEST(login["success"] == true);
  BOOST_TEST(login["user"]["username"] == "admin");
  const std::string token = login["token"];
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, token).status == 200);
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, token + "x").status == 401);

  for (int i = 0; i < 2; ++i) {
    BOOST_TEST(post(h.port, "/api/auth/login", {{"username", "admin"}, {"password", "wrong-one"}}, "").status == 401);
  }
  const auto limited = post(h.port, "/api/auth/login", {{"username", "admin"}, {"password", "admin123"}}, "");
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(limited.head.find("Retry-After: ") != std::string::npos);
}

// The users live in a collection of the cluster's own: no device pull,
// pending count, REST or console listing shows them, and no device writes them.
BOOST_AUTO_TEST_CASE(the_login_users_never_reach_devices) {
  gateway::GatewayOptions gw;
  gw.login = true;
  GatewayHarness h({}, gw);
  add_login_user(h, "admin", "admin123");
  h.start();
  BOOST_REQUIRE(post(h.port, "/api/sync/push", push_of("d1", json::array({{{"id", 1}, {"name", "Ada"}}})), h.token).status == 200);
  const auto users = std::string(app::kUsersCollection);
  for (const auto& body : {post(h.port, "/api/sync/pull", {{"deviceId", "d2"}}, h.token).body,
                           post(h.port, "/api/sync/full", {{"deviceId", "d3"}}, h.token).body,
                           http_get(h.port, "/api/sync/status/d4", h.token).body, http_get(h.port, "/v1", h.token).body,
                           http_get(h.port, "/api/console/records", h.token).body}) {
    BOOST_TEST(body.find("customers") != std::string::npos, body);  // the answer lists what devices see
    BOOST_TEST(body.find(users) == std::string::npos, body);
    BOOST_TEST(body.find("argon2id") == std::string::npos, body);
  }
  const auto listed = http_get(h.port, "/v1/" + users, h.token);
  BOOST_TEST(listed.status == 400);
  BOOST_TEST(listed.body.find("argon2id") == std::string::npos);
  BOOST_TEST(http_get(h.port, "/v1/" + users + "/admin", h.token).body.find("argon2id") == std::string::npos);
  const auto pushed = post(h.port, "/api/sync/push", push_of("d1", json::array({{{"id", "eve"}, {"password", "x"}}}), users), h.token);
  BOOST_TEST(pushed.body.find("reserved") != std::string::npos, pushed.body);
  // The record is untouched: the login still works.
  BOOST_TEST(post(h.port, "/api/auth/login", {{"username", "admin"}, {"password", "admin123"}}, "").status == 200);
}

// Without --http-login the route says how to turn it on.
BOOST_AUTO_TEST_CASE(login_is_off_unless_enabled) {
  GatewayHarness h;
  h.start();
  const auto off = post(h.port, "/api/auth/login", {{"username", "admin"}, {"password", "admin123"}}, "");
  BOOST_TEST(off.status == 404);
  BOOST_TEST(off.body.find("--http-login") != std::string::npos);
}

// Every example request of the seed document, sent with only the base URL
// changed (login included), each answer checked field by field against the
// shape the document shows (seed_client.py replay).
BOOST_AUTO_TEST_CASE(the_seed_documents_examples_replayed) {
  gateway::GatewayOptions gw;
  gw.login = true;
  GatewayHarness h({}, gw);
  add_login_user(h, "admin", "admin123");
  h.start();
  std::string output;
  const int rc = run_python(SHOPSYNC_GATEWAY_TEST_DIR "/seed_client.py", {std::to_string(h.port), "-", "replay"}, output);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(rc == 0, "replay failed:\n" << output);
}

// ---- JWTs of the business's auth server --------------------------------

// A JWT over `claims` signed with `key`, naming the key `kid` when given.
std::string sign(jwt_alg_t alg, const std::string& key, const json& claims, const std::string& kid = "") {
  jwt_t* j = nullptr;
  BOOST_REQUIRE(jwt_new(&j) == 0);
  BOOST_REQUIRE(jwt_add_grants_json(j, claims.dump().c_str()) == 0);
  if (!kid.empty()) BOOST_REQUIRE(jwt_add_header(j, "kid", kid.c_str()) == 0);
  BOOST_REQUIRE(jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())) == 0);
  char* out = jwt_encode_str(j);
  jwt_free(j);
  BOOST_REQUIRE(out);
  std::string token(out);
  free(out);
  return token;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();  // not istreambuf_iterator: -Wnull-dereference trips over it
  return text.str();
}

json claims(const std::string& user, long exp_offset, const std::string& device = "") {
  const long now = static_cast<long>(std::time(nullptr));
  json c = {{"sub", user}, {"iat", now}, {"exp", now + exp_offset}};
  if (!device.empty()) c["deviceId"] = device;
  return c;
}

BOOST_AUTO_TEST_CASE(hs256_tokens_of_the_auth_server) {
  gateway::GatewayOptions gw;
  gw.jwt = gateway::JwtOptions{"HS256", "the business's shared secret", "sub", "deviceId", "", ""};
  GatewayHarness h({}, gw);
  h.start();
  const std::string good = sign(JWT_ALG_HS256, "the business's shared secret", claims("ana", 3600));
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, good).status == 200);
  const auto expired = post(h.port, "/api/sync/pull", {{"deviceId", "d1"}},
                            sign(JWT_ALG_HS256, "the business's shared secret", claims("ana", -3600)), {});
  BOOST_TEST(expired.status == 401);
  BOOST_TEST(expired.body.find("expired") != std::string::npos);
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, sign(JWT_ALG_HS256, "another secret", claims("ana", 3600))).status == 401);
  // A token bound to a device speaks for that device only.
  const std::string bound = sign(JWT_ALG_HS256, "the business's shared secret", claims("ana", 3600, "till_1"));
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "till_1"}}, bound).status == 200);
  BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "till_2"}}, bound).status == 403);
  BOOST_TEST(http_get(h.port, "/api/sync/status/till_2", bound).status == 403);
}

struct KeyCase {
  const char* name;
  jwt_alg_t alg;
  std::vector<std::string> keygen;
};
const std::vector<KeyCase> kKeyCases = {
    {"RS256", JWT_ALG_RS256, {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}},
    {"ES256", JWT_ALG_ES256, {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}}};

// A fresh key pair of the case's kind made by openssl: the private key's
// file, and the public key's.
std::pair<std::filesystem::path, std::filesystem::path> make_key_pair(const TempDir& dir, const KeyCase& c,
                                                                      const std::string& label) {
  const auto priv = dir / (label + ".key"), pub = dir / (label + ".pub");
  std::vector<std::string> gen = {"/usr/bin/openssl"};
  gen.insert(gen.end(), c.keygen.begin(), c.keygen.end());
  gen.insert(gen.end(), {"-out", priv.string()});
  std::string out;
  BOOST_REQUIRE_MESSAGE(run_program(gen, out) == 0, out);
  BOOST_REQUIRE_MESSAGE(run_program({"/usr/bin/openssl", "pkey", "-in", priv.string(), "-pubout", "-out", pub.string()}, out) == 0, out);
  return {priv, pub};
}

BOOST_AUTO_TEST_CASE(rs256_and_es256_tokens_with_a_pem_public_key) {
  TempDir dir("shopsync-jwt");
  for (const auto& c : kKeyCases) {
    const auto [priv, pub] = make_key_pair(dir, c, c.name);
    const std::string public_pem = read_file(pub);

    gateway::GatewayOptions gw;
    gw.jwt = gateway::JwtOptions{c.name, public_pem, "sub", "deviceId", "https://auth.shop", ""};
    GatewayHarness h({}, gw);
    h.start();
    json good_claims = claims("ana", 3600);
    good_claims["iss"] = "https://auth.shop";
    const std::string good = sign(c.alg, read_file(priv), good_claims);
    BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, good).status == 200, c.name);
    json wrong_issuer = good_claims;
    wrong_issuer["iss"] = "https://elsewhere";
    BOOST_TEST(post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, sign(c.alg, read_file(priv), wrong_issuer)).status == 401);
    // HS256 "signed" with the public key as its secret: refused.
    const auto forged = post(h.port, "/api/sync/pull", {{"deviceId", "d1"}}, sign(JWT_ALG_HS256, public_pem, good_claims));
    BOOST_TEST(forged.status == 401, c.name);
  }
}

// ---- JWKS files ---------------------------------------------------------

std::string base64url(const std::string& bytes) {
  std::string text = json_values::base64_encode(bytes);
  while (text.ends_with('=')) text.pop_back();
  for (char& ch : text) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  return text;
}

std::string bytes_of_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

// The JWK of a public key as an auth server publishes it, from the numbers
// openssl prints: RSA n (e is openssl's 65537), EC P-256 x and y.
json jwk_of(const std::filesystem::path& pub, const KeyCase& c, const std::string& kid) {
  std::string out;
  if (c.alg == JWT_ALG_RS256) {
    BOOST_REQUIRE_MESSAGE(run_program({"/usr/bin/openssl", "rsa", "-pubin", "-in", pub.string(), "-noout", "-modulus"}, out) == 0, out);
    const auto eq = out.find('=');
    BOOST_REQUIRE(eq != std::string::npos);
    std::string hex = out.substr(eq + 1);
    while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
    return {{"kty", "RSA"}, {"use", "sig"}, {"alg", "RS256"}, {"kid", kid}, {"n", base64url(bytes_of_hex(hex))}, {"e", "AQAB"}};
  }
  BOOST_REQUIRE_MESSAGE(run_program({"/usr/bin/openssl", "pkey", "-pubin", "-in", pub.string(), "-noout", "-text"}, out) == 0, out);
  const auto from = out.find("pub:"), to = out.find("ASN1 OID");
  BOOST_REQUIRE(from != std::string::npos && to != std::string::npos);
  std::string hex;
  for (char ch : out.substr(from + 4, to - from - 4)) {
    if (std::isxdigit(static_cast<unsigned char>(ch))) hex.push_back(ch);
  }
  const std::string point = bytes_of_hex(hex);  // 04 || x || y
  BOOST_REQUIRE(point.size() == 65);
  return {{"kty", "EC"}, {"crv", "P-256"}, {"kid", kid}, {"x", base64url(point.substr(1, 32))}, {"y", base64url(point.substr(33, 32))}};
}

// An auth server that publishes its keys as a JWKS (two keys during a key
// rotation): a token is verified with the key its "kid" names, or with any
// of them when it names none; a key outside the set is refused.
BOOST_AUTO_TEST_CASE(rs256_and_es256_tokens_with_a_jwks_file) {
  TempDir dir("shopsync-jwks");
  const std::uint64_t now = static_cast<std::uint64_t>(std::time(nullptr));
  for (const auto& c : kKeyCases) {
    const auto [old_priv, old_pub] = make_key_pair(dir, c, std::string(c.name) + "-old");
    const auto [new_priv, new_pub] = make_key_pair(dir, c, std::string(c.name) + "-new");
    const auto [other_priv, other_pub] = make_key_pair(dir, c, std::string(c.name) + "-other");
    const json jwks = {{"keys", json::array({jwk_of(old_pub, c, "2025"), jwk_of(new_pub, c, "2026"),
                                             {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}}})}};
    auto verifier = gateway::JwtVerifier::create({c.name, jwks.dump(2), "sub", "deviceId", "", ""});
    BOOST_REQUIRE_MESSAGE(verifier, verifier.status().to_string());

    const auto by_new = verifier->verify(sign(c.alg, read_file(new_priv), claims("ana", 3600), "2026"), now);
    BOOST_TEST(by_new.is_ok(), c.name << ": " << by_new.status().to_string());
    if (by_new) BOOST_TEST(by_new->user == "ana");
    BOOST_TEST(verifier->verify(sign(c.alg, read_file(old_priv), claims("bo", 3600)), now).is_ok(), c.name);
    // Signed by a key not in the set, whatever kid it names: refused.
    BOOST_TEST(!verifier->verify(sign(c.alg, read_file(other_priv), claims("eve", 3600), "2026"), now).is_ok());
    BOOST_TEST(!verifier->verify(sign(c.alg, read_file(other_priv), claims("eve", 3600)), now).is_ok());
    // A token naming the old key's kid but signed by the new one is refused.
    BOOST_TEST(!verifier->verify(sign(c.alg, read_file(new_priv), claims("ana", 3600), "2025"), now).is_ok());
  }
  // A JWKS without a key for the algorithm, or with a broken one, is a clear error.
  const auto none = gateway::JwtVerifier::create({"ES256", R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})", "sub", "", "", ""});
  BOOST_TEST(!none.is_ok());
  BOOST_TEST(none.status().message().find("no signing key for ES256") != std::string::npos);
  const auto broken = gateway::JwtVerifier::create({"RS256", R"({"keys":[{"kty":"RSA","kid":"k1","e":"AQAB"}]})", "sub", "", "", ""});
  BOOST_TEST(broken.status().message().find("'k1' has no string member \"n\"") != std::string::npos, broken.status().to_string());
  BOOST_TEST(!gateway::JwtVerifier::create({"RS256", "{not json", "sub", "", "", ""}).is_ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
