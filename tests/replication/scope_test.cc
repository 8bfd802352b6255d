// Grants and scopes (replication/grant.h), and a scoped replica beside a full
// one on a perfect network: what it holds, what it may write, what a full node
// accepts from it (docs/replication.md, "Partial replication").
#include "replication/grant.h"

#include <boost/test/unit_test.hpp>

#include "replication/access_policy.h"
#include "storage/memory_store.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kStart = 1'700'000'000'000;

Version version_with(const std::string& field, const std::string& value, bool deleted = false) {
  Version v;
  v.dot = Dot{9, 1};
  v.deleted = deleted;
  if (!deleted) v.fields[field] = Field{packed(value), 1};
  return v;
}

struct Node {
  Node(NodeId id, const AccessPolicy& access) : clock(kStart) {
    ReplicaOptions options;
    options.node_id = id;
    options.cluster = "shop";
    options.access = &access;
    auto r = Replica::open(store, clock, options);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
  }
  MemoryStore store;
  ManualClock clock;
  std::unique_ptr<Replica> replica;
  Replica* operator->() { return replica.get(); }
  bool holds(const RecordKey& key) {
    auto r = replica->get(key);
    return r && r->has_value();
  }
};

const RecordKey kNorth{"orders", "O1"};
const RecordKey kSouth{"orders", "O2"};

BOOST_AUTO_TEST_SUITE(scope)

BOOST_AUTO_TEST_CASE(a_grant_reads_back_from_its_text) {
  auto g = parse_grant("orders:rw:branch=north|south, customers:r");
  BOOST_REQUIRE_MESSAGE(g, g.status().to_string());
  BOOST_TEST(to_text(*g) == "customers:r orders:rw:branch=north|south");
  auto back = parse_grant(to_text(*g));
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == *g));
  BOOST_TEST(parse_grant("admin")->admin);
  for (const char* bad : {"orders", "orders:x", "orders:r:branch", "orders:r:=north", "Orders:r", "orders:r orders:rw",
                          "shopsync_grants:rw", "orders:r:branch="}) {
    auto r = parse_grant(bad);
    BOOST_TEST(!r, bad);
    if (!r) BOOST_TEST(r.status().code() == Errc::invalid_argument);
  }
}

BOOST_AUTO_TEST_CASE(a_scope_holds_the_records_its_filter_matches) {
  const Grant g = *parse_grant("orders:rw:branch=north customers:r");
  const Scope read = Scope::read_scope(g);
  const Scope write = Scope::write_scope(g);
  BOOST_TEST(read.contains(kNorth, version_with("branch", "north")));
  BOOST_TEST(!read.contains(kNorth, version_with("branch", "south")));
  BOOST_TEST(!read.contains(kNorth, version_with("city", "north")));
  BOOST_TEST(!read.contains(kNorth, version_with("", "", /*deleted=*/true)));  // a deleted order leaves the scope
  BOOST_TEST(read.contains(RecordKey{"customers", "C"}, version_with("x", "y", true)));
  BOOST_TEST(!read.contains(RecordKey{"payments", "P"}, version_with("branch", "north")));
  BOOST_TEST(read.has_collection(kGrantsCollection));
  BOOST_TEST(!write.has_collection(kGrantsCollection));
  BOOST_TEST(!write.has_collection("customers"));
  BOOST_TEST(write.contains(kNorth, version_with("branch", "north")));
  // A record is in a scope when one of its siblings is.
  RecordState both;
  both.siblings = {version_with("branch", "south"), version_with("branch", "north")};
  BOOST_TEST(read.contains(kNorth, both));
  BOOST_TEST(Scope::read_scope(*parse_grant("admin")).unrestricted());
}

BOOST_AUTO_TEST_CASE(a_scoped_till_holds_and_writes_its_branch_only) {
  FixedAccess access;
  access.set(2, *parse_grant("orders:rw:branch=north"));
  Node office(1, access), till(2, access);
  Loopback net;
  net.add(*office.replica);
  net.add(*till.replica);
  auto po = net.port(1), pt = net.port(2);
  BOOST_REQUIRE(office->put(kNorth, fields({{"branch", packed("north")}, {"total", packed(10)}}), po));
  BOOST_REQUIRE(office->put(kSouth, fields({{"branch", packed("south")}, {"total", packed(20)}}), po));
  net.connect(*office.replica, *till.replica);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(till->scoped());
  BOOST_TEST(till.holds(kNorth));
  BOOST_TEST(!till.holds(kSouth));

  // Its write to a south order, or moving a north order to south, is refused where it is made.
  auto south = till->put(kSouth, fields({{"branch", packed("south")}}), pt);
  BOOST_TEST(!south);
  if (!south) BOOST_TEST(south.status().code() == Errc::refused);
  auto moved = till->put(kNorth, fields({{"branch", packed("south")}}, false), pt);
  BOOST_TEST(!moved);
  BOOST_REQUIRE(till->put(kNorth, fields({{"total", packed(11)}}, false), pt));
  BOOST_REQUIRE(net.pump());
  auto at_office = office->get(kNorth);
  BOOST_REQUIRE(at_office && at_office->has_value());
  BOOST_TEST(visible_value(**at_office, "total") == packed(11));

  // The office moves the order to south: it leaves the till; back to north: it returns.
  BOOST_REQUIRE(office->put(kNorth, fields({{"branch", packed("south")}}, false), po));
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(!till.holds(kNorth));
  BOOST_REQUIRE(office->put(kNorth, fields({{"branch", packed("north")}}, false), po));
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(till.holds(kNorth));
}

BOOST_AUTO_TEST_CASE(a_batch_outside_the_senders_grant_is_refused_on_arrival) {
  FixedAccess access;
  access.set(2, *parse_grant("orders:rw:branch=north"));
  Node office(1, access);
  Loopback net;
  net.add(*office.replica);
  auto po = net.port(1);
  BOOST_REQUIRE(office->put(kSouth, fields({{"branch", packed("south")}, {"total", packed(20)}}), po));
  office->peer_connected(2, VersionVector{}, po);
  // A till that does not apply its grant (an old or altered build) sends a
  // version of a south order: a new record, and one over the office's.
  RecordState forged;
  Version v = version_with("branch", "south");
  v.dot = Dot{77, 1};
  forged.siblings = {v};
  forged.context.advance(v.dot);
  RecordState over = forged;
  over.context.join(office->get(kSouth).value()->context);
  Batch batch;
  batch.records.emplace_back(RecordKey{"orders", "O3"}, PackedRecord(forged));
  batch.records.emplace_back(kSouth, PackedRecord(over));
  batch.complete.advance(v.dot);
  Outbox& out = po;
  BOOST_REQUIRE(office->receive(2, Message{batch}, out));
  BOOST_TEST(!office.holds(RecordKey{"orders", "O3"}));
  auto south = office->get(kSouth);
  BOOST_REQUIRE(south && south->has_value());
  BOOST_TEST(visible_value(**south, "total") == packed(20));
  BOOST_TEST(!office->knowledge().covers(v.dot));
  BOOST_TEST(office->peers().front().records_refused == 2u);
}

// Node 2 has no grant in a cluster that names an admin (node/grant_policy.h):
// it writes everything but the grants.
struct AdminNamed final : AccessPolicy {
  Scope read_scope(NodeId) const override { return Scope::everything(); }
  Scope write_scope(NodeId node) const override {
    return node == 2 ? Scope::everything_but_grants() : Scope::everything();
  }
};

BOOST_AUTO_TEST_CASE(a_node_without_a_grant_changes_no_grant_once_an_admin_is_named) {
  AdminNamed access;
  Node office(1, access);
  Node branch(2, access);
  Loopback net;
  net.add(*office.replica);
  auto po = net.port(1);
  office->peer_connected(2, VersionVector{}, po);
  // The branch node may not write a grant itself...
  auto pb = net.port(2);
  const RecordKey grant_record{std::string(kGrantsCollection), "till-key"};
  BOOST_TEST(branch->put(grant_record, fields({{std::string(kGrantField), packed("admin")}}), pb).status().code() ==
             Errc::refused);
  // ...and one it sends anyway (an older build) beside an order is refused
  // where it arrives; the order is taken.
  auto forged = [](const std::string& field, const std::string& value, std::uint64_t counter) {
    RecordState state;
    Version v = version_with(field, value);
    v.dot = Dot{77, counter};
    state.siblings = {v};
    state.context.advance(v.dot);
    return PackedRecord(state);
  };
  Batch batch;
  batch.records.emplace_back(kSouth, forged("branch", "south", 1));
  batch.records.emplace_back(grant_record, forged(std::string(kGrantField), "admin", 2));
  Outbox& out = po;
  BOOST_REQUIRE(office->receive(2, Message{batch}, out));
  BOOST_TEST(office.holds(kSouth));
  BOOST_TEST(!office.holds(grant_record));
  BOOST_TEST(office->peers().front().records_refused == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
