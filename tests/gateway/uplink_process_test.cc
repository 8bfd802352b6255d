// The uplink topology with real shopsyncd processes on loopback: an uplink
// (--role uplink, with the HTTP gateway) and two branches that reach it with
// --uplink and never connect to each other. Records and conflicts flow
// branch -> uplink -> branch; each strategy shows the documented winner on
// all three (docs/uplink.md); status shows what is pending toward the uplink
// per collection and when the last uplink sync was; a browser client's push
// to the uplink's gateway reaches both branches.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "node/gateway/json_values.h"
#include "app/tokens.h"
#include "storage/lmdb_store.h"
#include "tests/gateway/gateway_harness.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using gateway::json;

const std::vector<std::string> kStrategies = {"--strategy", "c_newest=newest_wins", "--strategy", "c_server=server_wins",
                                              "--strategy", "c_client=client_wins", "--strategy", "c_merge=merge"};

void put(NodeProcess& node, const std::string& collection, const std::string& id, const json& fields,
         bool patch = false) {
  api::PutRequest r;
  r.key = {collection, id};
  r.mode = patch ? api::PutMode::patch : api::PutMode::replace;
  for (auto it = fields.begin(); it != fields.end(); ++it) r.fields[it.key()] = gateway::pack_value(it.value());
  auto w = node.api().put(r);
  BOOST_REQUIRE_MESSAGE(w, node.options().name << ": put " << collection << "/" << id << ": " << w.status().to_string());
}

// The visible fields, or null when the record is not there (yet).
json fields_of(NodeProcess& node, const std::string& collection, const std::string& id) {
  auto g = node.api().get({collection, id});
  if (!g) return nullptr;
  json out = json::object();
  for (const auto& [name, packed] : g->fields) out[name] = gateway::unpack_value(packed);
  return out;
}

bool all_show(std::vector<NodeProcess*> nodes, const std::string& collection, const std::string& id, const json& want) {
  for (auto* n : nodes) {
    if (fields_of(*n, collection, id) != want) return false;
  }
  return true;
}

BOOST_AUTO_TEST_SUITE(uplink_processes)

BOOST_AUTO_TEST_CASE(branches_sync_through_the_uplink_with_every_strategy) {
  TempDir dir("shopsync-uplinkp");
  const std::uint16_t http_port = free_port();
  NodeProcess u({dir / "uplink", "uplink", "timber-mart", {}, {}, {}, {}, false});
  NodeProcess a({dir / "branch-a", "branch-a", "timber-mart", {}, {}, {}, {}, false});
  NodeProcess b({dir / "branch-b", "branch-b", "timber-mart", {}, {}, {}, {}, false});
  u.options().trust = {a.public_key(), b.public_key()};
  u.options().extra = {"--role", "uplink", "--http", "127.0.0.1:" + std::to_string(http_port)};
  u.options().extra.insert(u.options().extra.end(), kStrategies.begin(), kStrategies.end());
  for (auto* branch : {&a, &b}) {
    branch->options().extra = {"--uplink", u.peer_spec(), "--pull-interval-ms", "1000"};
    branch->options().extra.insert(branch->options().extra.end(), kStrategies.begin(), kStrategies.end());
  }
  std::string token;
  {
    auto store = LmdbStore::open(dir / "uplink");
    BOOST_REQUIRE(store);
    auto t = app::create_token(**store, "browser", 1);
    BOOST_REQUIRE(t);
    token = *t;
  }
  u.start();
  a.start();
  b.start();

  // A record flows A -> uplink -> B.
  const json base = {{"name", "ABC"}, {"phone", "555-0000"}};
  put(a, "c_merge", "M", base);
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return all_show({&a, &b, &u}, "c_merge", "M", base); }, std::chrono::seconds(30)),
                        "the record did not reach branch B\n" << b.log());
  for (auto* branch : {&a, &b}) {  // the branches know the uplink only
    auto peers = branch->api().peers();
    BOOST_REQUIRE(peers);
    for (const auto& p : peers->peers) {
      BOOST_TEST((p.node_id == 0 || p.role == "uplink"), branch->options().name << " knows " << p.name);
    }
    BOOST_TEST(peers->peers.size() == 1u);
  }
  for (auto* branch : {&a, &b}) {  // status shows the last successful uplink sync (the periodic pull at the latest)
    const bool synced = wait_until([&] {
      auto peers = branch->api().peers();
      return peers && peers->peers.size() == 1u && peers->peers[0].last_sync_ms > 0u;
    }, std::chrono::seconds(15));
    BOOST_TEST(synced, branch->options().name << ": last successful uplink sync shown");
  }

  // Partition: the uplink is down. The branches write; status shows what is
  // pending toward the uplink, per collection.
  u.stop();
  put(a, "c_client", "Y", {{"v", "branch A"}});
  put(a, "c_newest", "N", {{"v", "A"}});
  put(a, "c_merge", "M", {{"phone", "555-1234"}}, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  put(b, "c_newest", "N", {{"v", "B, later"}});
  put(b, "c_merge", "M", {{"name", "ABC Corporation"}}, true);
  {
    auto st = a.api().status();
    BOOST_REQUIRE(st);
    bool found = false;
    for (const auto& p : st->pending) {
      if (p.per_collection.count("c_client") && p.per_collection.count("c_newest") && p.per_collection.count("c_merge")) {
        found = true;
        BOOST_TEST(p.per_collection.at("c_client") == 1u);
        BOOST_TEST(p.total >= 3u);
      }
    }
    BOOST_TEST(found, "branch A's status shows its pending changes toward the uplink per collection");
  }

  // The uplink writes while branch A is away (concurrent with A's writes).
  a.stop();
  u.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  put(u, "c_client", "Y", {{"v", "uplink, later"}});
  put(u, "c_server", "S", {{"v", "uplink"}});
  u.stop();
  a.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  put(a, "c_server", "S", {{"v", "branch A, later"}});
  u.start();

  const auto converge = [&](const std::string& c, const std::string& id, const json& want) {
    const bool ok = wait_until([&] { return all_show({&a, &b, &u}, c, id, want); }, std::chrono::seconds(30));
    BOOST_TEST(ok, c << "/" << id << " should be " << want.dump() << " everywhere; A " << fields_of(a, c, id).dump()
                     << ", B " << fields_of(b, c, id).dump() << ", uplink " << fields_of(u, c, id).dump());
    if (!ok) {
      for (auto* n : {&a, &b, &u}) {
        const std::string log = n->log();
        BOOST_TEST_MESSAGE("---- " << n->options().name << " log (tail)\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
      }
    }
  };
  converge("c_newest", "N", {{"v", "B, later"}});
  converge("c_server", "S", {{"v", "uplink"}});
  converge("c_client", "Y", {{"v", "branch A"}});
  converge("c_merge", "M", {{"name", "ABC Corporation"}, {"phone", "555-1234"}});
  // The conflicts travelled: each node shows the newest_wins record's two siblings.
  for (auto* n : {&a, &b, &u}) {
    auto g = n->api().get({"c_newest", "N"});
    BOOST_REQUIRE(g);
    BOOST_TEST(g->sibling_count == 2u, n->options().name);
  }

  // A browser client of the uplink (HTTP gateway) reaches both branches.
  const std::string body =
      R"({"deviceId":"browser_1","changes":{"customers":[{"customer_id":"CUST_WEB","name":"Web","updated_at":"2025-10-18T12:00:00Z"}]}})";
  const auto answer = raw_http(http_port, "POST /api/sync/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
                                              token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n\r\n" + body);
  BOOST_TEST(answer.status == 200, answer.body);
  // The device's edit time (_edited_at, docs/http-gateway.md) replicates
  // with the record, so every node decides later device conflicts alike.
  converge("customers", "CUST_WEB", {{"_edited_at", 1760788800000ULL}, {"customer_id", "CUST_WEB"}, {"name", "Web"}});

  // Nothing left pending toward the uplink once synced.
  BOOST_TEST(wait_until([&] {
    auto st = b.api().status();
    if (!st) return false;
    for (const auto& p : st->pending) {
      if (p.total != 0) return false;
    }
    return true;
  }, std::chrono::seconds(30)));
  a.stop();
  b.stop();
  u.stop();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
