// POST /api/sync/push commits in one transaction, and its conflicts are in
// the node's conflict log (docs/http-gateway.md; issue 13, bug 7). The
// gateway over a real Replica and LMDB store, with commits failed by the
// harness's FaultyStore.
#include <boost/test/unit_test.hpp>

#include "tests/gateway/gateway_harness.h"

namespace shopsync::test {
namespace {

using gateway::json;

std::string push_body(const std::string& device, const std::string& id, const std::string& name,
                      const std::string& updated_at) {
  json change = {{"customer_id", id}, {"name", name}, {"updated_at", updated_at}};
  return json{{"deviceId", device}, {"changes", {{"customers", json::array({change})}}}}.dump();
}

json answer_json(const gateway::HttpResponse& answer) {
  auto doc = gateway::parse_json(answer.body);
  BOOST_REQUIRE_MESSAGE(doc, "the answer is JSON: " << answer.body);
  return *doc;
}

std::vector<ConflictEntry> conflict_log(Store& store) {
  std::vector<ConflictEntry> log;
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    return r.for_each_conflict(0, [&](const ConflictEntry& e) {
      log.push_back(e);
      return Scan::next;
    });
  }));
  return log;
}

BOOST_AUTO_TEST_SUITE(device_push_http)

// The store fails the push's commit: the answer is an error and nothing is
// stored, the device's state included (before, the records' commit failed
// alone and the device's state was still saved, counting a push that wrote
// nothing).
BOOST_AUTO_TEST_CASE(a_push_whose_commit_fails_changes_nothing_stored) {
  GatewayHarness h;
  BOOST_REQUIRE(h.post_sync("push", push_body("d1", "C1", "A", "2025-10-18T12:00:00Z")).status == 200);
  const StoreSnapshot before = snapshot(*h.store);
  h.faulty->fail_write(h.faulty->writes() + 1);
  const auto failed = h.post_sync("push", push_body("d1", "C1", "B", "2025-10-18T12:01:00Z"));
  BOOST_TEST(failed.status == 500);
  BOOST_TEST(answer_json(failed)["success"] == false);
  BOOST_TEST((snapshot(*h.store) == before));

  h.faulty->heal();
  const json again = answer_json(h.post_sync("push", push_body("d1", "C1", "B", "2025-10-18T12:01:00Z")));
  BOOST_TEST(again["success"] == true);
  BOOST_TEST(again["conflicts"].empty());
  BOOST_REQUIRE(again["applied"].size() == 1u);
  BOOST_TEST(again["applied"][0]["action"] == "UPDATE");
}

// Every commit after the push's first fails (a disk filling up): the push is
// one commit, so the device's record of what it has seen went with its
// records, and its next edit of its own record is no conflict. (Before, the
// records committed and the device's state did not: the device's next edit
// was reported as a conflict with its own write.)
BOOST_AUTO_TEST_CASE(a_push_commits_its_records_and_what_the_device_saw_together) {
  GatewayHarness h;
  BOOST_REQUIRE(h.post_sync("push", push_body("d1", "C1", "A", "2025-10-18T12:00:00Z")).status == 200);
  h.faulty->disk_full_from(h.faulty->writes() + 2);
  const auto pushed = h.post_sync("push", push_body("d1", "C1", "B", "2025-10-18T12:01:00Z"));
  BOOST_TEST_MESSAGE("push while the disk fills: " << pushed.status << " " << pushed.body);
  h.faulty->heal();
  const json next = answer_json(h.post_sync("push", push_body("d1", "C1", "C", "2025-10-18T12:02:00Z")));
  BOOST_TEST(next["success"] == true);
  BOOST_TEST_MESSAGE("next push: " << next.dump());
  BOOST_TEST(next["conflicts"].empty());
  BOOST_TEST(conflict_log(*h.store).empty());
}

// Two devices create the same customer: the second push is a device
// conflict (newest_wins; its edit is the older, so the node's version stays).
// The answer reports it, and the node's conflict log holds it with both
// versions, as `shopsync conflicts`, the inspector, /metrics and the API show.
BOOST_AUTO_TEST_CASE(a_device_conflict_is_in_the_conflict_log) {
  GatewayHarness h;
  BOOST_REQUIRE(h.post_sync("push", push_body("d1", "C1", "first", "2025-10-18T12:00:00Z")).status == 200);
  const json answer = answer_json(h.post_sync("push", push_body("d2", "C1", "second", "2025-10-18T11:00:00Z")));
  BOOST_REQUIRE(answer["conflicts"].size() == 1u);
  BOOST_TEST(answer["conflicts"][0]["winner"] == "server");

  const auto log = conflict_log(*h.store);
  BOOST_REQUIRE(log.size() == 1u);
  const ConflictEntry& entry = log.front();
  BOOST_TEST(entry.key.collection == "customers");
  BOOST_TEST(entry.key.id == "C1");
  BOOST_TEST(entry.strategy == "newest_wins");
  BOOST_TEST(entry.detected_by == h.replica->id());
  BOOST_REQUIRE(entry.siblings.size() == 2u);
  BOOST_TEST(entry.siblings[0].fields.at("name").packed == gateway::pack_value("first"));
  BOOST_TEST(entry.siblings[1].fields.at("name").packed == gateway::pack_value("second"));
  auto record = h.replica->get({"customers", "C1"});
  BOOST_REQUIRE(record && record->has_value());
  BOOST_TEST((entry.winner == (*record)->visible.winner));  // the node's version, still visible
}

// resolve-conflict is one commit too: the resolution the device wrote and its
// record of what it holds go together, so its next edit is no conflict.
BOOST_AUTO_TEST_CASE(a_resolution_commits_with_what_the_device_saw) {
  GatewayHarness h;
  BOOST_REQUIRE(h.post_sync("push", push_body("d1", "C1", "first", "2025-10-18T12:00:00Z")).status == 200);
  const json lost = answer_json(h.post_sync("push", push_body("d2", "C1", "second", "2025-10-18T11:00:00Z")));
  BOOST_REQUIRE(lost["conflicts"].size() == 1u);
  h.faulty->disk_full_from(h.faulty->writes() + 2);
  const json resolve = {{"deviceId", "d2"}, {"entityType", "customers"}, {"entityId", "C1"}, {"resolution", "client"},
                        {"data", {{"customer_id", "C1"}, {"name", "settled"}}}};
  const auto resolved = h.post_sync("resolve-conflict", resolve.dump());
  BOOST_TEST_MESSAGE("resolve while the disk fills: " << resolved.status << " " << resolved.body);
  h.faulty->heal();
  const json next = answer_json(h.post_sync("push", push_body("d2", "C1", "edited", "2025-10-18T12:05:00Z")));
  BOOST_TEST_MESSAGE("next push: " << next.dump());
  BOOST_TEST(next["success"] == true);
  BOOST_TEST(next["conflicts"].empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
