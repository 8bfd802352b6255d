// Gateway tokens with a scope (docs/http-gateway.md, "Token scopes"; issue
// 18): reads show only the token's read scope, writes outside its write scope
// are refused whole with 403 and change nothing stored. The gateway over a
// real Replica and LMDB store, requests straight into its handler.
#include <boost/test/unit_test.hpp>

#include "app/tokens.h"
#include "tests/gateway/gateway_harness.h"

namespace shopsync::test {
namespace {

using gateway::json;

struct ScopedGateway {
  GatewayHarness h;
  std::string till;  // a token scoped to "customers:r orders:rw:branch=north"

  ScopedGateway() {
    auto grant = parse_grant("customers:read orders:rw:branch=north");
    BOOST_REQUIRE_MESSAGE(grant, grant.status().to_string());
    auto t = app::create_token(*h.store, "till", 1, *grant);
    BOOST_REQUIRE(t);
    till = *t;
    put("customers", "C1", {{"name", "Ada"}});
    put("payments", "P1", {{"amount", 5}});
    put("orders", "N1", {{"branch", "north"}});
    put("orders", "S1", {{"branch", "south"}});
  }

  void put(const std::string& collection, const std::string& id, const json& fields) {
    FieldUpdate update;
    for (auto it = fields.begin(); it != fields.end(); ++it) update.fields[it.key()] = gateway::pack_value(it.value());
    BOOST_REQUIRE(h.service->write({collection, id}, update));
  }

  gateway::HttpResponse call(const std::string& method, const std::string& path, const std::string& token,
                             const std::string& body = "") {
    gateway::HttpRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    for (std::size_t start = 1; start < path.size();) {
      const std::size_t end = std::min(path.find('/', start), path.size());
      req.segments.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    req.headers = {{"host", "x"}, {"authorization", "Bearer " + token}};
    req.body = body;
    return h.gateway->handle(req);
  }

  json answer(const gateway::HttpResponse& r) {
    auto doc = gateway::parse_json(r.body);
    BOOST_REQUIRE_MESSAGE(doc, r.body);
    return *doc;
  }
};

std::vector<std::string> ids(const json& records, const char* field) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r[field].get<std::string>());
  return out;
}

BOOST_AUTO_TEST_SUITE(token_scope_http)

BOOST_AUTO_TEST_CASE(a_scoped_token_reads_only_its_scope) {
  ScopedGateway g;
  auto collections = g.answer(g.call("GET", "/v1", g.till))["collections"];
  std::map<std::string, std::uint64_t> shown;
  for (const auto& c : collections) shown[c["name"].get<std::string>()] = c["records"].get<std::uint64_t>();
  BOOST_TEST((shown == std::map<std::string, std::uint64_t>{{"customers", 1}, {"orders", 1}}));

  BOOST_TEST((ids(g.answer(g.call("GET", "/v1/orders", g.till))["records"], "id") == std::vector<std::string>{"N1"}));
  BOOST_TEST(g.call("GET", "/v1/orders/N1", g.till).status == 200);
  BOOST_TEST(g.call("GET", "/v1/orders/S1", g.till).status == 404);
  auto payments = g.call("GET", "/v1/payments", g.till);
  BOOST_TEST(payments.status == 403);
  BOOST_TEST(g.answer(payments)["code"] == "outside_scope");
  BOOST_TEST(g.call("GET", "/api/console/records/orders/S1", g.till).status == 404);

  // A device's pull: customers and north's orders, nothing of payments.
  auto pulled = g.answer(g.call("POST", "/api/sync/pull", g.till, R"({"deviceId":"till-1"})"));
  BOOST_TEST(ids(pulled["changes"]["customers"], "customer_id") == std::vector<std::string>{"C1"});
  BOOST_TEST(ids(pulled["changes"]["orders"], "order_id") == std::vector<std::string>{"N1"});
  BOOST_TEST(!pulled["changes"].contains("payments"));
  BOOST_TEST(pulled["count"] == 2);

  // A token without a scope sees everything, as before scopes.
  auto all = g.answer(g.call("POST", "/api/sync/pull", g.h.token, R"({"deviceId":"office"})"));
  BOOST_TEST(all["changes"]["payments"].size() == 1u);
  BOOST_TEST(all["changes"]["orders"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(writes_outside_the_write_scope_are_refused_whole) {
  ScopedGateway g;
  const StoreSnapshot before = snapshot(*g.h.store);
  auto refused = [&](const gateway::HttpResponse& r, const std::string& collection, const std::string& id) {
    BOOST_TEST(r.status == 403, r.body);
    const json body = g.answer(r);
    BOOST_TEST(body["code"] == "outside_scope");
    BOOST_TEST(body["collection"] == collection);
    BOOST_TEST(body["id"] == id);
  };
  refused(g.call("PUT", "/v1/customers/C1", g.till, R"({"name":"Bob"})"), "customers", "C1");  // read only
  refused(g.call("PUT", "/v1/orders/S2", g.till, R"({"branch":"south"})"), "orders", "S2");    // outside the filter
  refused(g.call("PUT", "/v1/orders/S1", g.till, R"({"branch":"north"})"), "orders", "S1");    // taking south's record
  refused(g.call("DELETE", "/v1/orders/S1", g.till), "orders", "S1");
  // One record outside the scope refuses the whole push: its north order is not applied either.
  const json push = {{"deviceId", "till-1"},
                     {"changes", {{"orders", json::array({{{"order_id", "N2"}, {"branch", "north"}},
                                                          {{"order_id", "S3"}, {"branch", "south"}}})}}}};
  refused(g.call("POST", "/api/sync/push", g.till, push.dump()), "orders", "S3");
  refused(g.call("POST", "/api/sync/resolve-conflict", g.till,
                 R"({"deviceId":"till-1","entityType":"orders","uniqueId":"S1","resolution":"server"})"),
          "orders", "S1");
  BOOST_TEST((snapshot(*g.h.store) == before), "nothing refused was written");
  BOOST_TEST(g.call("GET", "/metrics", "").body.find("shopsync_http_scope_refused_total 6") != std::string::npos);
  // A scoped token cannot make itself an unscoped one.
  BOOST_TEST(g.call("POST", "/api/console/tokens", g.till, R"({"name":"mine"})").status == 403);

  // Inside the write scope, writes go through.
  BOOST_TEST(g.call("PUT", "/v1/orders/N3", g.till, R"({"branch":"north"})").status == 201);
  const json north = {{"deviceId", "till-1"}, {"changes", {{"orders", json::array({{{"order_id", "N2"}, {"branch", "north"}}})}}}};
  auto pushed = g.call("POST", "/api/sync/push", g.till, north.dump());
  BOOST_TEST(pushed.status == 200, pushed.body);
  BOOST_TEST(g.answer(pushed)["applied"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_bad_scope_is_refused_when_the_token_is_made) {
  ScopedGateway g;
  auto made = g.h.service->create_token({"bad", "customers:write"});
  BOOST_TEST((made.status().code() == Errc::invalid_argument));
  auto listed = g.h.service->list_tokens();
  BOOST_REQUIRE(listed);
  std::map<std::string, std::string> scopes;
  for (const auto& t : listed->entries) scopes[t.name] = t.scope;
  BOOST_TEST((scopes == std::map<std::string, std::string>{{"tests", ""}, {"till", "customers:r orders:rw:branch=north"}}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
