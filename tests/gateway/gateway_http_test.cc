// The HTTP gateway over a real Replica and LmdbStore with real sockets, driven
// by real HTTP clients: python3's http.client replaying the seed document's
// requests, and raw sockets for what a library would not send.
#include <boost/test/unit_test.hpp>
#include <random>

#include "app/tokens.h"
#include "tests/gateway/gateway_harness.h"
#include "tests/gateway/prometheus_text.h"

namespace shopsync::test {
namespace {

const std::string kClient = SHOPSYNC_GATEWAY_TEST_DIR "/seed_client.py";

BOOST_AUTO_TEST_SUITE(gateway_http)

BOOST_AUTO_TEST_CASE(seed_requests_with_a_token) {
  GatewayHarness h;
  h.start();
  std::string output;
  const int rc = run_python(kClient, {std::to_string(h.port), h.token, "seed"}, output);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(rc == 0, "python client failed:\n" << output);
}

// One push of 1000 records (docs/http-gateway.md): all applied, in order, with
// one bad record reported alone. The script prints the push's wall time.
BOOST_AUTO_TEST_CASE(bulk_push_applies_every_good_record) {
  GatewayHarness h;
  h.start();
  std::string output;
  const int rc = run_python(kClient, {std::to_string(h.port), h.token, "bulk"}, output);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(rc == 0, "python client failed:\n" << output);
}

BOOST_AUTO_TEST_CASE(refused_requests_change_nothing) {
  GatewayHarness h;
  // Something stored to protect.
  auto put = h.replica->put({"customers", "CUST_001"}, FieldUpdate{{{"name", std::string("\xa3" "Ana")}}, true}, h.outbox);
  BOOST_REQUIRE(put);
  const StoreSnapshot before = snapshot(*h.store);
  h.start();
  std::string output;
  const int rc = run_python(kClient, {std::to_string(h.port), h.token, "errors"}, output);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(rc == 0, "python client failed:\n" << output);
  h.stop();
  BOOST_TEST((snapshot(*h.store) == before), "a refused request changed the store");
}

BOOST_AUTO_TEST_CASE(revoked_token_is_refused) {
  GatewayHarness h;
  h.start();
  BOOST_TEST(http_get(h.port, "/v1", h.token).status == 200);
  BOOST_REQUIRE(app::revoke_token(*h.store, "tests"));
  const auto after = http_get(h.port, "/v1", h.token);
  BOOST_TEST(after.status == 401);
  BOOST_TEST(after.body.find("revoked") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_parse_as_prometheus_text) {
  GatewayHarness h;
  auto put = h.replica->put({"customers", "C1"}, FieldUpdate{{{"name", std::string("\xa1" "A")}}, true}, h.outbox);
  BOOST_REQUIRE(put);
  h.start();
  // Some traffic first, so that every family has samples.
  BOOST_TEST(http_get(h.port, "/v1/customers/C1", h.token).status == 200);
  BOOST_TEST(http_get(h.port, "/v1/customers/C1").status == 401);
  const auto answer = http_get(h.port, "/metrics");
  BOOST_REQUIRE(answer.status == 200);
  BOOST_TEST(answer.head.find("text/plain; version=0.0.4") != std::string::npos);
  auto parsed = parse_prometheus_text(answer.body);
  BOOST_REQUIRE_MESSAGE(parsed.error.empty(), parsed.error << "\n" << answer.body);
  BOOST_TEST(parsed.value("shopsync_records", {{"collection", "customers"}}) == 1.0);
  BOOST_TEST(parsed.value("shopsync_http_requests_total", {{"route", "rest_record"}, {"code", "200"}}) == 1.0);
  BOOST_TEST(parsed.value("shopsync_http_unauthorized_total", {}) == 1.0);
  BOOST_TEST(parsed.families.count("shopsync_http_request_duration_seconds") == 1u);
  BOOST_TEST(parsed.families.count("shopsync_peers") == 1u);
  BOOST_TEST(parsed.families.count("shopsync_conflicts_total") == 1u);
}

// Sync progress as a scraper sees it (docs/http-gateway.md): one sample of
// each shopsync_peer_sync_* gauge for a peer a sync runs from, in base units
// (the ETA in seconds), and none for a peer that is not syncing.
BOOST_AUTO_TEST_CASE(metrics_show_the_progress_of_a_running_sync) {
  gateway::GatewayHooks hooks;
  hooks.peers = [] {
    gateway::PeerSummary syncing{0xa1a1a1a1a1a1a1a1ull, "till-1", "peer", "connected", 0, 0};
    syncing.syncing = true;
    syncing.sync_records_received = 40'000;
    syncing.sync_records_total = 200'000;
    syncing.sync_bytes_received = 8'000'000;
    syncing.sync_bytes_total = 40'000'000;
    syncing.sync_rate = 5'000;
    syncing.sync_eta_ms = 32'000;
    gateway::PeerSummary idle{0xb2b2b2b2b2b2b2b2ull, "office", "uplink", "connected", 0, 0};
    return std::vector<gateway::PeerSummary>{syncing, idle};
  };
  GatewayHarness h({}, {}, hooks);
  h.start();
  const auto answer = http_get(h.port, "/metrics");
  BOOST_REQUIRE(answer.status == 200);
  auto parsed = parse_prometheus_text(answer.body);
  BOOST_REQUIRE_MESSAGE(parsed.error.empty(), parsed.error << "\n" << answer.body);
  const std::map<std::string, std::string> till = {{"peer", "a1a1a1a1a1a1a1a1"}, {"role", "peer"}};
  BOOST_TEST(parsed.value("shopsync_peer_sync_records_received", till) == 40000.0);
  BOOST_TEST(parsed.value("shopsync_peer_sync_records_total", till) == 200000.0);
  BOOST_TEST(parsed.value("shopsync_peer_sync_bytes_received", till) == 8e6);
  BOOST_TEST(parsed.value("shopsync_peer_sync_bytes_total", till) == 4e7);
  BOOST_TEST(parsed.value("shopsync_peer_sync_records_per_second", till) == 5000.0);
  BOOST_TEST(parsed.value("shopsync_peer_sync_eta_seconds", till) == 32.0);
  for (const char* family : {"shopsync_peer_sync_records_received", "shopsync_peer_sync_records_total",
                             "shopsync_peer_sync_bytes_received", "shopsync_peer_sync_bytes_total",
                             "shopsync_peer_sync_records_per_second", "shopsync_peer_sync_eta_seconds"}) {
    BOOST_TEST(parsed.families[family] == "gauge", family);
    std::size_t samples = 0;
    for (const auto& s : parsed.samples) samples += s.name == family;
    BOOST_TEST(samples == 1u, family << " has a sample for the idle peer");
  }
}

BOOST_AUTO_TEST_CASE(keep_alive_and_pipelining) {
  GatewayHarness h;
  h.start();
  const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto answer = raw_http(h.port, one + one + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(answer.status == 200);
  std::size_t count = 0;
  for (auto pos = answer.body.find("HTTP/1.1 200"); pos != std::string::npos; pos = answer.body.find("HTTP/1.1 200", pos + 1)) ++count;
  BOOST_TEST(count == 2u);  // the first answer's head is in answer.head
}

// Every decoder of untrusted bytes is fuzzed (DESIGN.md): mutated sync
// requests, structurally (a value of another type anywhere) and bytewise,
// straight into the handler. Each gets an answer that is 200 or a 4xx,
// never a crash or a 500, and the store stays readable.
BOOST_AUTO_TEST_CASE(mutated_sync_requests_get_an_answer_never_a_crash) {
  GatewayHarness h;
  const auto seed = test_seed();
  std::mt19937_64 rng(seed);
  using gateway::json;
  const std::vector<std::pair<std::string, json>> templates = {
      {"pull", json::parse(R"({"deviceId":"d1","lastSyncTimestamp":"2025-01-01T00:00:00Z","limit":5,"cursor":null})")},
      {"push", json::parse(R"({"deviceId":"d1","changes":{"customers":[{"customer_id":"C1","name":"A","balance":1.5,
                               "tags":["x",{"y":null}],"updated_at":"2025-10-18T12:00:00Z"}],"orders":[{"order_id":7,"_deleted":false}]}})")},
      {"full", json::parse(R"({"deviceId":"d2","lastSyncTimestamp":"2025-01-01T00:00:00Z","changes":{"projects":[{"id":"P1","n":1}]}})")},
      {"resolve-conflict", json::parse(R"({"deviceId":"d1","entityType":"customers","entityId":"C1","resolution":"client","data":{"name":"B"}})")},
  };
  const std::vector<json> replacements = {nullptr, 42, -1, 1e308, "x", json::array(), json::object(), true,
                                          std::string(300, 'z'), json::parse("[[[[[]]]]]"), "2025-13-45T99:00:00Z"};
  std::function<void(json&)> mutate = [&](json& j) {
    if ((j.is_object() || j.is_array()) && !j.empty() && rng() % 3 != 0) {
      auto it = j.begin();
      std::advance(it, static_cast<long>(rng() % j.size()));
      mutate(*it);
    } else {
      j = replacements[rng() % replacements.size()];
    }
  };
  std::map<int, int> statuses;
  for (int i = 0; i < 600; ++i) {
    const auto& [op, tmpl] = templates[rng() % templates.size()];
    json doc = tmpl;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) mutate(doc);
    std::string body = doc.dump();
    if (rng() % 4 == 0 && !body.empty()) {  // bytewise damage too
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
        body[rng() % body.size()] = static_cast<char>(rng() % 256);
      }
      if (rng() % 2) body.resize(rng() % body.size());
    }
    const auto answer = h.post_sync(op, body);
    ++statuses[answer.status];
    BOOST_REQUIRE_MESSAGE(answer.status == 200 || (answer.status >= 400 && answer.status < 500),
                          "status " << answer.status << " for " << body << ": " << answer.body);
    BOOST_REQUIRE_MESSAGE(gateway::parse_json(answer.body).is_ok(), "the answer is JSON");
  }
  for (const auto& [status, n] : statuses) BOOST_TEST_MESSAGE("status " << status << ": " << n);
  BOOST_TEST(statuses[200] > 0);
  BOOST_TEST(statuses[400] > 0);
  snapshot(*h.store);  // still readable
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
