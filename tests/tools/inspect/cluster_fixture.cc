#include "tests/tools/inspect/cluster_fixture.h"

#include <boost/test/unit_test.hpp>
#include <chrono>

#include "core/version_vector.h"
#include "node/peer_table.h"
#include "tests/replication/support/values.h"

namespace shopsync::test {

namespace {

constexpr std::uint64_t kDay = 24ull * 3600 * 1000;

std::uint64_t wall_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

Dot sibling_from(Replica& r, const RecordKey& key, NodeId origin) {  // origin: a writer id
  auto got = r.get(key);
  BOOST_REQUIRE(got && got->has_value());
  for (const auto& v : (*got)->siblings) {
    if (v.dot.origin == origin) return v.dot;
  }
  BOOST_FAIL("no sibling of " << key.collection << "/" << key.id << " from that origin");
  return {};
}

}  // namespace

std::string packed_string(const std::string& s) { return packed(s); }

TestReplica::TestReplica(const std::filesystem::path& dir, NodeId id, Clock& clock, StoreOptions options) {
  auto store = LmdbStore::open(dir, options);
  BOOST_REQUIRE_MESSAGE(store, store.status().to_string());
  store_ = std::move(*store);
  ReplicaOptions o;
  o.node_id = id;
  o.strategies.emplace("customers", StrategyKind::manual);
  o.cluster = "shop";
  counted_ = std::make_unique<app::CountingStore>(*store_);
  auto replica = Replica::open(*counted_, clock, o);
  BOOST_REQUIRE_MESSAGE(replica, replica.status().to_string());
  replica_ = std::move(*replica);
}

TestReplica::~TestReplica() { close(); }

void TestReplica::close() {
  replica_.reset();
  counted_.reset();
  store_.reset();
}

ClusterFixture::ClusterFixture(const std::filesystem::path& root)
    : dir_a(root / "a"), dir_b(root / "b"), now_ms(wall_now()), clock_a(now_ms - 10 * kDay), clock_b(now_ms - 10 * kDay) {
  a = std::make_unique<TestReplica>(dir_a, kNodeA, clock_a);
  b = std::make_unique<TestReplica>(dir_b, kNodeB, clock_b);
  net.add(**a);
  net.add(**b);

  put(*a, "customers", "C1", "name", "Ana");
  put(*a, "customers", "C2", "name", "Bo");
  put(*a, "customers", "C3", "name", "Cy");
  put(*a, "orders", "O1", "total", "12.50");
  sync();
  clock_a.advance(60'000);
  {
    auto port = net.port(kNodeA);
    auto d = (*a)->remove({"customers", "C3"}, port);
    BOOST_REQUIRE_MESSAGE(d, d.status().to_string());
    c3_tombstone = d->visible.winner;
  }
  BOOST_REQUIRE(net.pump());
  disconnect();

  // Concurrent writes, five seconds apart (beyond the 1 s tolerance).
  clock_a.set(now_ms - 3600'000);
  clock_b.set(now_ms - 3600'000 + 5000);
  put(*a, "customers", "C1", "name", "Ana from A");
  put(*b, "customers", "C1", "name", "Ana from B");
  put(*a, "customers", "C2", "name", "Bo from A");
  put(*b, "customers", "C2", "name", "Bo from B");
  sync();
  c1_a = sibling_from(**a, {"customers", "C1"}, (*a)->writer());
  c1_b = sibling_from(**a, {"customers", "C1"}, (*b)->writer());
  c2_winner = sibling_from(**a, {"customers", "C2"}, (*b)->writer());
  c2_loser = sibling_from(**a, {"customers", "C2"}, (*a)->writer());

  // A resolves C2 by hand, choosing B's value.
  clock_a.advance(60'000);
  {
    auto port = net.port(kNodeA);
    Resolution res;
    res.choose = c2_winner;
    auto r = (*a)->resolve({"customers", "C2"}, res, port);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  }
  BOOST_REQUIRE(net.pump());
  disconnect();

  // One write on each side that the other has not seen.
  clock_a.set(now_ms - 60'000);
  clock_b.set(now_ms - 60'000);
  put(*a, "orders", "O2", "total", "99.00");
  put(*b, "orders", "O3", "total", "7.00");
  o2 = sibling_from(**a, {"orders", "O2"}, (*a)->writer());
  o3 = sibling_from(**b, {"orders", "O3"}, (*b)->writer());

  // What shopsyncd would have persisted about its peers.
  PeerRecord peer_b;
  peer_b.node_id = kNodeB;
  peer_b.name = "shop-b";
  peer_b.address = "127.0.0.1:7470";
  peer_b.role = Role::peer;
  peer_b.source = PeerSource::static_peer;
  peer_b.last_seen_ms = now_ms - 6 * kDay;
  peer_b.last_sync_ms = now_ms - 6 * kDay;
  peer_b.knowledge = (*b)->knowledge();
  peer_b.records_in = 4;
  peer_b.records_out = 9;
  peer_b.clock_offset_ms = 12;
  PeerRecord peer_c;
  peer_c.node_id = kNodeC;
  peer_c.name = "shop-c";
  peer_c.address = "10.0.0.3:7460";
  peer_c.source = PeerSource::mdns;
  peer_c.last_seen_ms = now_ms - 20 * kDay;
  peer_c.last_error = "connection refused";
  peer_c.clock_offset_ms = -7200;
  Status s = a->store().write([&](StoreWriter& w) -> Status {
    SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(kNodeB), encode_peer_record(peer_b)));
    SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(kNodeC), encode_peer_record(peer_c)));
    // The replica's persisted knowledge of C (it never told us anything).
    return w.put(Table::settings, "replication/peer/" + node_id_text(kNodeC), "");
  });
  BOOST_REQUIRE_MESSAGE(s, s.to_string());
}

void ClusterFixture::sync() {
  net.connect(**a, **b);
  BOOST_REQUIRE_MESSAGE(net.pump(), net.last_status.to_string());
}

void ClusterFixture::disconnect() {
  (*a)->peer_disconnected(kNodeB);
  (*b)->peer_disconnected(kNodeA);
}

void ClusterFixture::put(TestReplica& r, const std::string& collection, const std::string& id, const std::string& field,
                         const std::string& value) {
  auto port = net.port(r->id());
  auto w = r->put({collection, id}, fields({{field, packed(value)}}), port);
  BOOST_REQUIRE_MESSAGE(w, w.status().to_string());
}

}  // namespace shopsync::test
