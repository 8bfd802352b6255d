// The uplink topology with the real replication core and real LMDB stores:
// two branches that never connect to each other, each linked only to an
// uplink (the cloud node). Records and conflicts flow branch -> uplink ->
// branch, and every strategy shows the documented winner on all three nodes
// (docs/uplink.md). The same scenarios with real shopsyncd processes are in
// uplink_process_test.cc.
#include <boost/test/unit_test.hpp>
#include <deque>
#include <map>
#include <set>
#include <tuple>

#include "node/gateway/json_values.h"
#include "replication/replica.h"
#include "storage/lmdb_store.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kT = 1'760'000'000'000;  // some wall-clock ms

// The Replica's perfect network (tests/replication/support/loopback.h, in miniature).
struct Net {
  struct Port final : Outbox {
    Port(Net& n, NodeId f) : net(n), from(f) {}
    void send(NodeId to, Message m) override { net.queue.emplace_back(from, to, std::move(m)); }
    Net& net;
    NodeId from;
  };
  std::map<NodeId, Replica*> nodes;
  std::set<std::pair<NodeId, NodeId>> links;
  std::deque<std::tuple<NodeId, NodeId, Message>> queue;
  void link(Replica& a, Replica& b) {
    links.insert({a.id(), b.id()});
    links.insert({b.id(), a.id()});
    Port pa(*this, a.id()), pb(*this, b.id());
    a.peer_connected(b.id(), b.knowledge(), pa);
    b.peer_connected(a.id(), a.knowledge(), pb);
  }
  void pump() {
    for (int i = 0; i < 100000 && !queue.empty(); ++i) {
      auto [from, to, m] = std::move(queue.front());
      queue.pop_front();
      BOOST_REQUIRE_MESSAGE(links.count({from, to}), "a message between nodes that are not linked");
      Port p(*this, to);
      Status s = nodes.at(to)->receive(from, m, p);
      BOOST_REQUIRE_MESSAGE(s, s.to_string());
    }
    BOOST_REQUIRE(queue.empty());
  }
};

struct SyncNode {
  SyncNode(TempDir& dir, const std::string& name, NodeId id, bool uplink) : clock(kT) {
    auto s = LmdbStore::open(dir / name);
    BOOST_REQUIRE(s);
    store = std::move(*s);
    ReplicaOptions o;
    o.node_id = id;
    o.cluster = "timber-mart";
    o.uplink = uplink;
    o.strategies = {{"c_newest", StrategyKind::newest_wins},
                    {"c_server", StrategyKind::server_wins},
                    {"c_client", StrategyKind::client_wins},
                    {"c_merge", StrategyKind::merge}};
    auto r = Replica::open(*store, clock, o);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
  }
  void put(Net& net, const std::string& collection, const std::string& id, const gateway::json& fields, bool replace = true) {
    FieldUpdate u;
    u.replace = replace;
    for (auto it = fields.begin(); it != fields.end(); ++it) u.fields[it.key()] = gateway::pack_value(it.value());
    Net::Port port(net, replica->id());
    auto w = replica->put({collection, id}, u, port);
    BOOST_REQUIRE_MESSAGE(w, w.status().to_string());
  }
  VisibleRecord get(const std::string& collection, const std::string& id) {
    auto g = replica->get({collection, id});
    BOOST_REQUIRE(g);
    BOOST_REQUIRE_MESSAGE(g->has_value(), collection << "/" << id << " missing");
    return **g;
  }
  gateway::json fields(const std::string& collection, const std::string& id) {
    return gateway::fields_to_json(get(collection, id).visible.fields);
  }
  std::size_t conflicts_logged() {
    std::size_t n = 0;
    BOOST_REQUIRE(store->read([&](StoreReader& r) {
      return r.for_each_conflict(0, [&](const ConflictEntry&) {
        ++n;
        return Scan::next;
      });
    }));
    return n;
  }
  std::unique_ptr<LmdbStore> store;
  ManualClock clock;
  std::unique_ptr<Replica> replica;
};

struct Topology {
  TempDir dir{"shopsync-uplink"};
  SyncNode a{dir, "branch-a", 0xA, false};
  SyncNode b{dir, "branch-b", 0xB, false};
  SyncNode u{dir, "uplink", 0xC, true};
  Net net;
  Topology() {
    for (auto* n : {&a, &b, &u}) net.nodes[n->replica->id()] = n->replica.get();
    net.link(*a.replica, *u.replica);
    net.link(*b.replica, *u.replica);
    net.pump();
  }
  // The visible value on all three, which must agree.
  gateway::json agreed(const std::string& collection, const std::string& id) {
    const auto fa = a.fields(collection, id), fb = b.fields(collection, id), fu = u.fields(collection, id);
    BOOST_TEST(fa == fu, "branch A and the uplink disagree: " << fa.dump() << " vs " << fu.dump());
    BOOST_TEST(fb == fu, "branch B and the uplink disagree: " << fb.dump() << " vs " << fu.dump());
    return fu;
  }
};

BOOST_AUTO_TEST_SUITE(uplink)

BOOST_AUTO_TEST_CASE(records_flow_from_branch_to_branch_through_the_uplink) {
  Topology t;
  t.a.put(t.net, "customers", "CUST_001", {{"customer_id", "CUST_001"}, {"name", "ABC Company"}});
  // Pending toward the uplink, per collection, until it has pulled.
  auto pending = t.a.replica->pending_changes(t.u.replica->id());
  BOOST_REQUIRE(pending);
  BOOST_TEST(pending->at("customers") == 1u);
  t.net.pump();
  BOOST_TEST(t.b.fields("customers", "CUST_001")["name"] == "ABC Company");
  pending = t.a.replica->pending_changes(t.u.replica->id());
  BOOST_REQUIRE(pending);
  BOOST_TEST(pending->count("customers") == 0u);
  // And back.
  t.b.put(t.net, "orders", "ORD_1", {{"order_id", "ORD_1"}, {"total", 12.5}});
  t.net.pump();
  BOOST_TEST(t.a.fields("orders", "ORD_1")["total"] == 12.5);
  // The branches never exchanged a message: their peers are the uplink only.
  for (auto* n : {&t.a, &t.b}) {
    const auto peers = n->replica->peers();
    BOOST_REQUIRE(peers.size() == 1u);
    BOOST_TEST(peers[0].id == t.u.replica->id());
  }
}

BOOST_AUTO_TEST_CASE(newest_wins_everywhere) {
  Topology t;
  t.a.put(t.net, "c_newest", "X", {{"v", "from A"}});
  t.b.clock.advance(5000);
  t.b.put(t.net, "c_newest", "X", {{"v", "from B, later"}});
  t.net.pump();
  BOOST_TEST(t.agreed("c_newest", "X")["v"] == "from B, later");
  // The conflict travelled: every node holds both siblings and logged it.
  for (auto* n : {&t.a, &t.b, &t.u}) {
    BOOST_TEST(n->get("c_newest", "X").siblings.size() == 2u);
    BOOST_TEST(n->conflicts_logged() >= 1u);
  }
}

BOOST_AUTO_TEST_CASE(server_wins_means_the_uplink_version) {
  Topology t;
  t.u.put(t.net, "c_server", "X", {{"v", "from uplink"}});
  t.a.clock.advance(5000);
  t.a.put(t.net, "c_server", "X", {{"v", "from branch A, later"}});
  t.net.pump();
  BOOST_TEST(t.agreed("c_server", "X")["v"] == "from uplink");
}

BOOST_AUTO_TEST_CASE(client_wins_means_the_branch_version) {
  Topology t;
  t.b.put(t.net, "c_client", "X", {{"v", "from branch B"}});
  t.u.clock.advance(5000);
  t.u.put(t.net, "c_client", "X", {{"v", "from uplink, later"}});
  t.net.pump();
  BOOST_TEST(t.agreed("c_client", "X")["v"] == "from branch B");
}

BOOST_AUTO_TEST_CASE(merge_takes_each_side_s_field) {
  Topology t;
  t.a.put(t.net, "c_merge", "X", {{"name", "ABC"}, {"phone", "555-0000"}});
  t.net.pump();
  t.a.clock.advance(1000);
  t.b.clock.advance(2000);
  t.a.put(t.net, "c_merge", "X", {{"phone", "555-1234"}}, /*replace=*/false);
  t.b.put(t.net, "c_merge", "X", {{"name", "ABC Corporation"}}, /*replace=*/false);
  t.net.pump();
  const auto v = t.agreed("c_merge", "X");
  BOOST_TEST(v["name"] == "ABC Corporation");
  BOOST_TEST(v["phone"] == "555-1234");
}

// Several uplinks of one cluster peer with each other (multi-master): a
// branch on each, records and conflicts cross both uplinks, and server_wins
// treats a write at either uplink as the server's.
BOOST_AUTO_TEST_CASE(two_uplinks_peered_relay_between_their_branches) {
  TempDir dir{"shopsync-uplinks"};
  SyncNode a{dir, "branch-a", 0xA, false};
  SyncNode b{dir, "branch-b", 0xB, false};
  SyncNode u1{dir, "uplink-1", 0xC1, true};
  SyncNode u2{dir, "uplink-2", 0xC2, true};
  Net net;
  for (auto* n : {&a, &b, &u1, &u2}) net.nodes[n->replica->id()] = n->replica.get();
  net.link(*a.replica, *u1.replica);
  net.link(*u1.replica, *u2.replica);
  net.link(*b.replica, *u2.replica);
  net.pump();

  a.put(net, "customers", "CUST_001", {{"name", "ABC Company"}});
  net.pump();
  BOOST_TEST(b.fields("customers", "CUST_001")["name"] == "ABC Company");

  // server_wins: a branch's later write loses to the write at either uplink.
  u2.put(net, "c_server", "S", {{"v", "uplink 2"}});
  a.clock.advance(5000);
  a.put(net, "c_server", "S", {{"v", "branch A, later"}});
  net.pump();
  for (auto* n : {&a, &b, &u1, &u2}) BOOST_TEST(n->fields("c_server", "S")["v"] == "uplink 2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
