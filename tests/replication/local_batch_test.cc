// Replica::apply_local_writes: many local writes in one commit, with one
// result per record, and exactly what put()/remove() would have done.
#include <boost/test/unit_test.hpp>

#include "replication/replica.h"
#include "storage/faulty_store.h"
#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "tests/replication/support/counted_node.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

LocalWrite put_of(const std::string& id, FieldUpdate update) { return LocalWrite{{"c", id}, std::move(update), false}; }
LocalWrite remove_of(const std::string& id) { return LocalWrite{{"c", id}, {}, true}; }

std::size_t notifies(const VectorOutbox& out) {
  std::size_t n = 0;
  for (const auto& [to, m] : out.messages) n += std::holds_alternative<Notify>(m) ? 1 : 0;
  return n;
}

std::optional<std::string> setting(Store& store, std::string_view key) {
  std::optional<std::string> value;
  BOOST_REQUIRE(store.read([&](StoreReader& r) -> Status {
    auto v = r.get(Table::settings, key);
    if (!v) return v.status();
    value = *v;
    return Status::ok();
  }));
  return value;
}

BOOST_AUTO_TEST_SUITE(local_batch)

// What the PostgreSQL link relies on (node/postgres/pg_uplink.h): the LSN a
// batch came from commits with the batch, or neither does.
BOOST_AUTO_TEST_CASE(settings_given_with_a_batch_commit_with_it_or_not_at_all) {
  MemoryStore inner;
  CountedNode a(inner);
  std::vector<LocalWrite> writes{put_of("r1", fields({{"n", packed(1)}})), remove_of("nobody")};
  a.store.fail_write(a.store.writes() + 1);
  BOOST_TEST(!a->apply_local_writes(writes, a.out, {{"postgres/lsn", "0/10"}}));
  BOOST_TEST(!setting(inner, "postgres/lsn").has_value());
  BOOST_TEST(!(*a->get({"c", "r1"})).has_value());
  const auto before = a.store.writes();
  auto results = a->apply_local_writes(writes, a.out, {{"postgres/lsn", "0/10"}});
  BOOST_REQUIRE(results);
  BOOST_TEST(a.store.writes() - before == 1u);
  BOOST_TEST((*results)[0].is_ok());
  BOOST_TEST(setting(inner, "postgres/lsn").value_or("none") == "0/10");
  // With nothing to write, the settings still commit.
  BOOST_REQUIRE(a->apply_local_writes({remove_of("nobody")}, a.out, {{"postgres/lsn", "0/20"}}));
  BOOST_TEST(setting(inner, "postgres/lsn").value_or("none") == "0/20");
}

BOOST_AUTO_TEST_CASE(many_records_are_one_commit_and_one_notify) {
  TempDir dir("shopsync-batch");
  auto lmdb = LmdbStore::open(dir.path());
  BOOST_REQUIRE_MESSAGE(lmdb, lmdb.status().to_string());
  CountedNode a(**lmdb);
  a->peer_connected(2, VersionVector{}, a.out);
  a.out.messages.clear();
  std::vector<LocalWrite> writes;
  for (int i = 0; i < 200; ++i) writes.push_back(put_of("r" + std::to_string(i), fields({{"n", packed(i)}})));
  const auto before = a.store.writes();
  auto results = a->apply_local_writes(writes, a.out);
  BOOST_REQUIRE_MESSAGE(results, results.status().to_string());
  BOOST_TEST(a.store.writes() - before == 1u);
  BOOST_REQUIRE(results->size() == writes.size());
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    BOOST_TEST(r->key.id == writes[i].key.id);
    BOOST_TEST(r->visible.winner.counter == i + 1);  // dots in order
    BOOST_TEST(visible_value(*r, "n") == packed(static_cast<int>(i)));
  }
  BOOST_TEST(a->knowledge().get(a->writer()) == 200u);
  BOOST_TEST(notifies(a.out) == 1u);
  auto g = a->get({"c", "r199"});
  BOOST_REQUIRE(g && g->has_value());
  BOOST_TEST(visible_value(**g, "n") == packed(199));
}

BOOST_AUTO_TEST_CASE(bad_records_get_their_own_error_and_the_others_apply) {
  MemoryStore inner;
  CountedNode a(inner);
  BOOST_REQUIRE(a->put({"c", "old"}, fields({{"n", packed(0)}}), a.out));
  std::vector<LocalWrite> writes{
      put_of("good1", fields({{"n", packed(1)}})),
      LocalWrite{{"Bad Name", "x"}, fields({{"n", packed(1)}}), false},    // bad collection
      put_of("emptyvalue", fields({{"n", std::string()}})),                 // not MessagePack
      remove_of("nobody"),                                                  // nothing to remove
      put_of("big", fields({{"b", packed(std::string(kDefaultMaxRecordBytes + 10, 'x'))}})),
      remove_of("old"),
      put_of("good1", fields({{"m", packed(2)}}, /*replace=*/false)),     // sees good1 above
  };
  const auto before = a.store.writes();
  auto results = a->apply_local_writes(writes, a.out);
  BOOST_REQUIRE_MESSAGE(results, results.status().to_string());
  BOOST_TEST(a.store.writes() - before == 1u);
  BOOST_REQUIRE(results->size() == writes.size());
  BOOST_TEST((*results)[0].is_ok());
  BOOST_TEST((*results)[1].status().code() == Errc::invalid_argument);
  BOOST_TEST((*results)[2].status().code() == Errc::invalid_argument);
  BOOST_TEST((*results)[3].status().code() == Errc::not_found);
  BOOST_TEST((*results)[4].status().code() == Errc::too_large);
  BOOST_REQUIRE((*results)[5]);
  BOOST_TEST((*results)[5]->visible.deleted);
  BOOST_REQUIRE((*results)[6]);
  BOOST_TEST(visible_value(*(*results)[6], "n") == packed(1));
  BOOST_TEST(visible_value(*(*results)[6], "m") == packed(2));
  // 1 earlier put + 3 applied here, with no gap in the counters.
  BOOST_TEST(a->knowledge().get(a->writer()) == 4u);
  BOOST_TEST((*results)[6]->visible.winner.counter == 4u);
  auto big = a->get({"c", "big"});
  BOOST_REQUIRE(big);
  BOOST_TEST(!big->has_value());
}

BOOST_AUTO_TEST_CASE(a_batch_does_what_the_same_puts_and_removes_do) {
  MemoryStore one_store, many_store;
  CountedNode one(one_store), many(many_store);
  std::vector<LocalWrite> writes{
      put_of("a", fields({{"x", packed(1)}, {"y", packed(2)}})),
      put_of("b", fields({{"x", packed(3)}})),
      put_of("a", fields({{"y", std::nullopt}, {"z", packed(4)}}, /*replace=*/false)),
      remove_of("b"),
      put_of("b", fields({{"w", packed(5)}})),
      put_of("c", fields({{"x", packed(6)}})),
      put_of("c", fields({{"x", packed(7)}})),
  };
  for (const LocalWrite& w : writes) {
    auto r = w.remove ? one->remove(w.key, one.out) : one->put(w.key, w.update, one.out);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  }
  auto results = many->apply_local_writes(writes, many.out);
  BOOST_REQUIRE(results);
  for (const auto& r : *results) BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  BOOST_TEST((one->knowledge() == many->knowledge()));
  for (const char* id : {"a", "b", "c"}) {
    auto x = one->get({"c", id});
    auto y = many->get({"c", id});
    BOOST_REQUIRE(x && y && x->has_value() && y->has_value());
    BOOST_TEST((*x)->visible.deleted == (*y)->visible.deleted);
    BOOST_TEST(((*x)->visible.winner == (*y)->visible.winner));
    BOOST_TEST(((*x)->context == (*y)->context));
    BOOST_REQUIRE((*x)->visible.fields.size() == (*y)->visible.fields.size());
    for (const auto& [name, field] : (*x)->visible.fields) {
      BOOST_TEST(field.packed == (*y)->visible.fields.at(name).packed);
    }
  }
  // A key written twice in one batch gets increasing stamps.
  BOOST_TEST((*results)[6]->visible.updated_at > (*results)[5]->visible.updated_at);
}

BOOST_AUTO_TEST_CASE(replayed_bodies_and_failed_commits) {
  MemoryStore inner;
  CountedNode a(inner);
  a.store.replay_bodies(true);
  std::vector<LocalWrite> writes{put_of("a", fields({{"x", packed(1)}})), remove_of("nobody"),
                                 put_of("b", fields({{"x", packed(2)}}))};
  auto results = a->apply_local_writes(writes, a.out);
  BOOST_REQUIRE(results);
  BOOST_TEST((*results)[0].is_ok());
  BOOST_TEST((*results)[1].status().code() == Errc::not_found);
  BOOST_TEST((*results)[2]->visible.winner.counter == 2u);
  BOOST_TEST(a->knowledge().get(a->writer()) == 2u);
  a.store.replay_bodies(false);

  // A commit that fails applies nothing of the batch.
  a.out.messages.clear();
  a.store.fail_write(a.store.writes() + 1);
  auto failed = a->apply_local_writes({put_of("c", fields({{"x", packed(3)}}))}, a.out);
  BOOST_TEST(!failed);
  BOOST_TEST(a->knowledge().get(a->writer()) == 2u);
  BOOST_TEST(a.out.messages.empty());
  auto c = a->get({"c", "c"});
  BOOST_REQUIRE(c);
  BOOST_TEST(!c->has_value());
}

BOOST_AUTO_TEST_CASE(only_bad_records_commit_nothing_and_empty_batch_is_fine) {
  MemoryStore inner;
  CountedNode a(inner);
  a->peer_connected(2, VersionVector{}, a.out);
  a.out.messages.clear();
  const auto before = a.store.writes();
  auto empty = a->apply_local_writes({}, a.out);
  BOOST_REQUIRE(empty);
  BOOST_TEST(empty->empty());
  auto bad = a->apply_local_writes({put_of("", fields({{"x", packed(1)}})), remove_of("nobody")}, a.out);
  BOOST_REQUIRE(bad);
  BOOST_TEST((*bad)[0].status().code() == Errc::invalid_argument);
  BOOST_TEST((*bad)[1].status().code() == Errc::not_found);
  BOOST_TEST(a->knowledge().empty());
  BOOST_TEST(a.out.messages.empty());  // nothing changed: no Notify
  BOOST_TEST(a.store.writes() - before <= 1u);
}

// A peer knows writes of this node that its store lacks (a restored backup):
// the batch still applies, under a writer id no one has seen.
BOOST_AUTO_TEST_CASE(a_node_behind_its_own_writes_still_writes_under_a_fresh_origin) {
  MemoryStore inner;
  CountedNode a(inner);
  VectorOutbox ignored;
  VersionVector theirs;
  theirs.advance(Dot{1, 1});  // writes of ours (from before writer ids) we lack
  a->peer_connected(2, theirs, ignored);
  auto r = a->apply_local_writes({put_of("a", fields({{"x", packed(1)}}))}, a.out);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE((*r)[0]);
  BOOST_TEST((*r)[0]->siblings[0].dot.origin != 1u);
  BOOST_TEST(!theirs.covers((*r)[0]->siblings[0].dot));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
