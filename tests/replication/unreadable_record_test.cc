// A stored record that does not decode (written by an older build beyond the
// decoder's limits, or damaged on disk) never stops anything else: peers
// still get every other record, and a local write or a peer's version
// replaces it. Real LMDB files; the bad bytes are put there as an older build
// would have.
#include <boost/test/unit_test.hpp>

#include "replication/replica.h"
#include "storage/key_codec.h"
#include "storage/lmdb.h"
#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "storage/record_codec.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kStart = 1'700'000'000'000;
const RecordKey kPoison{"customers", "X"};

ReplicaOptions options_for(NodeId id) {
  ReplicaOptions o;
  o.node_id = id;
  o.cluster = "shop";
  return o;
}

// Node 1 on LMDB holding customers/A, customers/X and customers/Z, where X's
// stored bytes are the 65,537-field record that an older build accepted.
struct PoisonedNode {
  PoisonedNode() : dir("shopsync-unreadable"), clock(kStart) {
    {
      auto s = LmdbStore::open(dir.path());
      BOOST_REQUIRE_MESSAGE(s, s.status().to_string());
      auto r = Replica::open(**s, clock, options_for(1));
      BOOST_REQUIRE(r);
      for (const char* id : {"A", "X", "Z"}) {
        BOOST_REQUIRE((*r)->put({"customers", id}, fields({{"name", packed(std::string(id))}}), out));
      }
    }
    RecordState poison;
    Version v;
    v.dot = Dot{1, 2};
    v.updated_at = kStart << 16;
    for (int i = 0; i < 65537; ++i) v.fields["f" + std::to_string(i)] = Field{packed(i), v.updated_at};
    poison.siblings.push_back(std::move(v));
    poison.context.advance(Dot{1, 2});
    {
      auto env = lmdb::Env::open(dir.path(), {});
      BOOST_REQUIRE(env);
      auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
      BOOST_REQUIRE(txn);
      auto records = txn->open_db("records", false);
      BOOST_REQUIRE(records);
      BOOST_REQUIRE(txn->put(*records, keys::record(kPoison), encode_record_state(poison)));
      BOOST_REQUIRE(txn->commit());
    }

    auto s = LmdbStore::open(dir.path());
    BOOST_REQUIRE(s);
    store = std::move(*s);
    auto r = Replica::open(*store, clock, options_for(1));
    BOOST_REQUIRE(r);
    replica = std::move(*r);
  }
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<LmdbStore> store;
  std::unique_ptr<Replica> replica;
  VectorOutbox out;
};

struct MemoryNode {
  explicit MemoryNode(NodeId id) : clock(kStart + 1000) {
    auto r = Replica::open(store, clock, options_for(id));
    BOOST_REQUIRE(r);
    replica = std::move(*r);
  }
  MemoryStore store;
  ManualClock clock;
  std::unique_ptr<Replica> replica;
  VectorOutbox out;
};

// Connects the two and delivers until both are idle.
void sync(Replica& a, Replica& b) {
  Loopback net;
  net.add(a);
  net.add(b);
  net.connect(a, b);
  BOOST_REQUIRE_MESSAGE(net.pump(), net.last_status.to_string());
}

std::string visible_name(Replica& r, const RecordKey& key) {
  auto g = r.get(key);
  BOOST_REQUIRE_MESSAGE(g, g.status().to_string());
  if (!g->has_value() || (*g)->visible.deleted) return "";
  return visible_value(**g, "name");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unreadable_record)

BOOST_AUTO_TEST_CASE(replication_passes_it_by_and_names_it) {
  PoisonedNode a;
  MemoryNode b(2);
  sync(*a.replica, *b.replica);
  BOOST_TEST(visible_name(*b.replica, {"customers", "A"}) == packed(std::string("A")));
  BOOST_TEST(visible_name(*b.replica, {"customers", "Z"}) == packed(std::string("Z")));
  BOOST_TEST(visible_name(*b.replica, kPoison).empty());  // its content never leaves node 1
  BOOST_TEST((b.replica->knowledge() == a.replica->knowledge()));
  const auto noted = a.store->unreadable().list();
  BOOST_REQUIRE_EQUAL(noted.size(), 1u);
  BOOST_TEST((noted[0].key == kPoison));
  BOOST_TEST((noted[0].origins == std::vector<NodeId>{1}));
}

BOOST_AUTO_TEST_CASE(a_local_delete_or_overwrite_replaces_it_and_replicates) {
  {
    PoisonedNode a;
    auto removed = a.replica->remove(kPoison, a.out);
    BOOST_REQUIRE_MESSAGE(removed, removed.status().to_string());
    BOOST_TEST(removed->visible.deleted);
    BOOST_TEST(removed->siblings.size() == 1u);
    BOOST_TEST(static_cast<bool>(a.replica->get(kPoison)));
    BOOST_TEST(a.store->unreadable().count() == 0u);
  }
  PoisonedNode a;
  auto put = a.replica->put(kPoison, fields({{"name", packed(std::string("fixed"))}}), a.out);
  BOOST_REQUIRE_MESSAGE(put, put.status().to_string());
  BOOST_TEST(put->visible.fields.size() == 1u);  // nothing of the unreadable fields survives
  BOOST_TEST(visible_name(*a.replica, kPoison) == packed(std::string("fixed")));
  MemoryNode b(2);
  sync(*a.replica, *b.replica);
  BOOST_TEST(visible_name(*b.replica, kPoison) == packed(std::string("fixed")));
}

BOOST_AUTO_TEST_CASE(a_peers_version_replaces_it) {
  PoisonedNode a;
  MemoryNode b(2);
  BOOST_REQUIRE(b.replica->put(kPoison, fields({{"name", packed(std::string("from b"))}}), b.out));
  sync(*a.replica, *b.replica);
  BOOST_TEST(visible_name(*a.replica, kPoison) == packed(std::string("from b")));
  BOOST_TEST(visible_name(*b.replica, kPoison) == packed(std::string("from b")));
  auto ga = a.replica->get(kPoison);
  BOOST_REQUIRE(ga && ga->has_value());
  BOOST_TEST((*ga)->siblings.size() == 1u);  // no empty stand-in competes with it
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::test
