// The bytes of an incremental sync grow with what changed, not with the size
// of the data set: after a full sync of 100,000 records, changing 10 and
// syncing again sends exactly those 10 records.
#include <boost/test/unit_test.hpp>

#include "replication/replica.h"
#include "storage/memory_store.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"

namespace shopsync::test {
namespace {

BOOST_AUTO_TEST_SUITE(delta_scale)

BOOST_AUTO_TEST_CASE(incremental_sync_of_100k_sends_only_the_changes) {
  constexpr int kRecords = 100'000;
  MemoryStore store_a, store_b;
  ManualClock clock(1'700'000'000'000);
  ReplicaOptions oa, ob;
  oa.node_id = 1;
  ob.node_id = 2;
  auto a = Replica::open(store_a, clock, oa);
  auto b = Replica::open(store_b, clock, ob);
  BOOST_REQUIRE(a && b);
  Loopback net;
  net.add(**a);
  net.add(**b);
  VectorOutbox quiet;  // not connected yet: nobody to notify
  for (int i = 0; i < kRecords; ++i) {
    FieldUpdate u;
    u.fields["name"] = packed("customer " + std::to_string(i));
    u.fields["n"] = packed(i);
    BOOST_REQUIRE((*a)->put({"customers", "C" + std::to_string(i)}, u, quiet));
  }
  net.connect(**a, **b);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(net.counts.records == static_cast<std::uint64_t>(kRecords));
  BOOST_TEST(((*b)->knowledge() == (*a)->knowledge()));
  BOOST_TEST_MESSAGE("full sync: " << net.counts.records << " records in " << net.counts.batches << " batches, "
                                   << net.counts.messages << " messages");

  net.counts = {};
  auto port = net.port(1);
  for (int i = 0; i < 10; ++i) {
    FieldUpdate u;
    u.replace = false;
    u.fields["n"] = packed(-i);
    BOOST_REQUIRE((*a)->put({"customers", "C" + std::to_string(i * 9973)}, u, port));
  }
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(net.counts.records == 10u);
  BOOST_TEST(net.counts.messages <= 60u);  // notices, pulls and answers: bounded, not proportional to the data
  BOOST_TEST(((*b)->knowledge() == (*a)->knowledge()));
  auto g = (*b)->get({"customers", "C9973"});
  BOOST_REQUIRE(g && g->has_value());
  BOOST_TEST(visible_value(**g, "n") == packed(-1));
  BOOST_TEST_MESSAGE("incremental sync: " << net.counts.records << " records in " << net.counts.batches
                                          << " batches, " << net.counts.messages << " messages");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
