// The poison record through the HTTP doors: a record with one field more than
// the store can read back is refused by a push (its own `errors` entry) and by
// REST PUT (413), the store is unchanged, and every read that used to fail on
// it (/metrics, /api/sync/status, GET) still answers.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "tests/gateway/gateway_harness.h"

namespace shopsync::test {
namespace {

using nlohmann::json;

// A customer with `n` fields besides its id.
json customer_with_fields(std::size_t n) {
  json c = {{"customer_id", "X"}};
  for (std::size_t i = 0; i < n; ++i) c["f" + std::to_string(i)] = static_cast<int>(i % 100);
  return c;
}

HttpAnswer request(std::uint16_t port, const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body) {
  return raw_http(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\nConnection: close\r\n\r\n" + body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_limits_http)

BOOST_AUTO_TEST_CASE(a_record_the_store_could_not_read_back_is_refused_by_push_and_put) {
  GatewayHarness h;
  BOOST_REQUIRE(h.replica->put({"customers", "KEEP"}, FieldUpdate{{{"name", std::string("\xa3" "Ana")}}, true},
                               h.outbox));
  const StoreSnapshot before = snapshot(*h.store);
  h.start();

  const json push = {{"deviceId", "till-1"},
                     {"changes", {{"customers", json::array({customer_with_fields(65537)})}}}};
  const auto pushed = request(h.port, "POST", "/api/sync/push", h.token, push.dump());
  BOOST_REQUIRE_EQUAL(pushed.status, 200);
  const json answer = json::parse(pushed.body);
  BOOST_TEST(answer["success"] == false);
  BOOST_TEST(answer["applied"].empty());
  BOOST_REQUIRE_EQUAL(answer["errors"].size(), 1u);
  BOOST_TEST(answer["errors"][0]["code"] == "too_large");
  BOOST_TEST(answer["errors"][0]["error"].get<std::string>().find("over the limit of 65536") != std::string::npos,
             answer["errors"][0].dump());

  const auto put = request(h.port, "PUT", "/v1/customers/X", h.token, customer_with_fields(65537).dump());
  BOOST_TEST(put.status == 413, put.body);

  // The largest record that reads back is accepted and reads back.
  json largest = customer_with_fields(65535);  // + customer_id = 65,536 fields
  const auto ok = request(h.port, "PUT", "/v1/customers/Y", h.token, largest.dump());
  BOOST_TEST((ok.status == 201 || ok.status == 200), ok.body.substr(0, 300));
  const auto got = http_get(h.port, "/v1/customers/Y", h.token);
  BOOST_REQUIRE_EQUAL(got.status, 200);
  BOOST_TEST(json::parse(got.body)["record"]["fields"].size() == 65536u);

  BOOST_TEST(http_get(h.port, "/metrics").status == 200);
  BOOST_TEST(http_get(h.port, "/api/sync/status/till-1", h.token).status == 200);
  BOOST_TEST(http_get(h.port, "/v1/customers/KEEP", h.token).status == 200);
  h.stop();
  StoreSnapshot after = snapshot(*h.store);
  after.records.erase({"customers", "Y"});
  after.settings.clear();  // device bookkeeping of the push
  StoreSnapshot expected = before;
  expected.settings.clear();
  BOOST_TEST((after == expected), "a refused record changed the store");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::test
