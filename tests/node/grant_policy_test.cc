// The daemon's AccessPolicy (node/grant_policy.h): scopes follow the grant
// records of each node's key, a grant that does not parse fails closed, and a
// removed grant frees its subject.
#include <boost/test/unit_test.hpp>
#include <msgpack.hpp>

#include "node/grant_policy.h"
#include "net/public_key_text.h"
#include "net/zmq_socket.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/memory_store.h"

namespace shopsync {
namespace {

std::string packed(const std::string& text) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(text);
  return {b.data(), b.size()};
}

struct Cluster {
  MemoryStore store;
  ManualClock clock{1'700'000'000'000};
  VectorOutbox out;
  std::unique_ptr<Replica> replica;
  // Node 1 is the till, 2 the office, 3 a node with a bad grant, 4 one whose key is unknown.
  GrantPolicy policy{[](NodeId node) {
    switch (node) {
      case 1: return std::string("till-key");
      case 2: return std::string("office-key");
      case 3: return std::string("bad-key");
      default: return std::string();
    }
  }};

  Cluster() {
    ReplicaOptions o;
    o.node_id = 9;
    o.cluster = "test";
    replica = std::move(Replica::open(store, clock, o).value());
  }
  void grant(const std::string& subject, const std::string& text) {
    FieldUpdate u;
    u.fields[std::string(kGrantField)] = packed(text);
    BOOST_REQUIRE(replica->put({std::string(kGrantsCollection), subject}, u, out).is_ok());
  }
  void load() {
    BOOST_REQUIRE(store.read([&](StoreReader& r) { return policy.load(r, StrategyKind::newest_wins, 1000); }).is_ok());
  }
};

Version order_version(const std::string& branch) {
  Version v;
  v.fields.emplace("branch", Field{packed(branch), 1});
  return v;
}

BOOST_AUTO_TEST_SUITE(grant_policy)

BOOST_AUTO_TEST_CASE(a_nodes_scopes_follow_the_grant_of_its_key) {
  Cluster c;
  c.grant("till-key", "orders:rw:branch=north customers:r");
  c.grant("office-key", "admin");
  c.grant("bad-key", "orders:sometimes");
  c.load();
  const RecordKey north_order{"orders", "N1"};
  const Scope till_reads = c.policy.read_scope(1), till_writes = c.policy.write_scope(1);
  BOOST_TEST(!till_reads.unrestricted());
  BOOST_TEST(till_reads.contains(north_order, order_version("north")));
  BOOST_TEST(!till_reads.contains(north_order, order_version("south")));
  BOOST_TEST(till_reads.has_collection("customers"));
  BOOST_TEST(!till_writes.has_collection("customers"));
  BOOST_TEST(!till_writes.has_collection(kGrantsCollection));  // a till cannot change grants
  BOOST_TEST(c.policy.read_scope(2).unrestricted());            // admin
  BOOST_TEST(c.policy.read_scope(4).unrestricted());            // no key, no grant
  BOOST_TEST(c.policy.grant_of(1)->text == "orders:rw:branch=north customers:r");

  // A grant that does not parse: its subject reads the grants only and writes nothing.
  const SubjectGrant* bad = c.policy.grant_of(3);
  BOOST_REQUIRE(bad != nullptr);
  BOOST_TEST(!bad->problem.empty());
  BOOST_TEST(c.policy.read_scope(3).has_collection(kGrantsCollection));
  BOOST_TEST(!c.policy.read_scope(3).has_collection("orders"));
  BOOST_TEST(!c.policy.write_scope(3).has_collection("orders"));

  // Removed: the till reads everything again once the policy reads the grants again.
  BOOST_REQUIRE(c.replica->remove({std::string(kGrantsCollection), "till-key"}, c.out).is_ok());
  BOOST_TEST(!c.policy.read_scope(1).unrestricted());
  c.load();
  BOOST_TEST(c.policy.read_scope(1).unrestricted());
  BOOST_TEST(c.policy.grant_of(1) == nullptr);
}

// Grants are changed by admins only. Until the cluster names one, a node with
// no grant may change them (that is how the first grant is given); from then
// on it writes everything but the grants, and a batch of grant changes from
// it is refused where it arrives.
BOOST_AUTO_TEST_CASE(once_an_admin_is_named_only_admins_change_grants) {
  Cluster c;
  const RecordKey grant_record{std::string(kGrantsCollection), "till-key"};
  const RecordKey order{"orders", "N1"};
  c.grant("till-key", "orders:rw:branch=north");
  c.load();
  BOOST_TEST(!c.policy.admin_named());
  BOOST_TEST(c.policy.write_scope(2).unrestricted());  // the office: no grant, no admin named
  BOOST_TEST(c.policy.write_scope(4).unrestricted());

  c.grant("office-key", "admin");
  c.load();
  BOOST_TEST(c.policy.admin_named());
  BOOST_TEST(c.policy.write_scope(2).unrestricted());  // the admin
  const Scope unnamed = c.policy.write_scope(4);       // no grant
  BOOST_TEST(!unnamed.unrestricted());
  BOOST_TEST(unnamed.whole_collection("orders"));
  BOOST_TEST(unnamed.contains(order, order_version("south")));
  BOOST_TEST(!unnamed.has_collection(kGrantsCollection));
  BOOST_TEST(!local_write_violation(unnamed, grant_record, {}, Version{}).empty());
  BOOST_TEST(local_write_violation(unnamed, order, {order_version("north")}, order_version("south")).empty());
  BOOST_TEST(c.policy.read_scope(4).unrestricted());  // it still holds everything

  // An admin grant that does not parse names no admin.
  c.grant("office-key", "admin:always");
  c.load();
  BOOST_TEST(!c.policy.admin_named());
  BOOST_TEST(c.policy.write_scope(4).unrestricted());
}

BOOST_AUTO_TEST_CASE(a_key_is_one_subject_in_either_form) {
  const std::string z85 = zmq::z85_encode_key(std::string(32, '\x5a'));
  BOOST_REQUIRE(zmq::is_z85_key(z85));
  const std::string spoken = format_public_key(z85);
  BOOST_TEST(grant_subject(z85) == spoken);
  BOOST_TEST(grant_subject("  " + spoken + "\n") == spoken);
  BOOST_TEST(grant_subject("token:front-desk") == "token:front-desk");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
