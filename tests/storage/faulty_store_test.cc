// The failure-injecting wrapper other layers use in their tests.
#include "storage/faulty_store.h"

#include <boost/test/unit_test.hpp>

#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "tests/storage/samples.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

Status put(Store& s, const std::string& id, std::uint64_t counter) {
  return s.write([&](StoreWriter& w) { return w.put_record({"c", id}, test::simple_state({1, counter}, id)); });
}

bool has(Store& s, const std::string& id) {
  bool found = false;
  BOOST_REQUIRE(s.read([&](StoreReader& r) {
    auto got = r.record({"c", id});
    if (!got) return got.status();
    found = got->has_value();
    return Status::ok();
  }));
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(faulty_store)

BOOST_AUTO_TEST_CASE(fails_the_nth_write_and_rolls_it_back) {
  test::TempDir dir;
  auto lmdb = LmdbStore::open(dir / "s");
  BOOST_REQUIRE(lmdb);
  FaultyStore store(**lmdb);
  store.fail_write(2);
  BOOST_TEST(put(store, "one", 1).is_ok());
  Status st = put(store, "two", 2);
  BOOST_TEST((st.code() == Errc::io_error));
  BOOST_TEST(put(store, "three", 3).is_ok());
  BOOST_TEST(has(store, "one"));
  BOOST_TEST(!has(store, "two"));
  BOOST_TEST(has(store, "three"));
  BOOST_TEST(store.writes() == 3u);
  BOOST_TEST(store.injected_failures() == 1u);
}

BOOST_AUTO_TEST_CASE(reports_disk_full_until_healed) {
  MemoryStore mem;
  FaultyStore store(mem);
  store.disk_full_from(2);
  BOOST_TEST(put(store, "a", 1).is_ok());
  BOOST_TEST((put(store, "b", 2).code() == Errc::disk_full));
  BOOST_TEST((put(store, "c", 3).code() == Errc::disk_full));
  store.heal();
  BOOST_TEST(put(store, "d", 4).is_ok());
  BOOST_TEST(has(store, "a"));
  BOOST_TEST(!has(store, "b"));
  BOOST_TEST(!has(store, "c"));
  BOOST_TEST(has(store, "d"));
}

BOOST_AUTO_TEST_CASE(replays_bodies_like_a_growing_map) {
  MemoryStore mem;
  FaultyStore store(mem);
  store.replay_bodies(true);
  int runs = 0;
  std::uint64_t seq = 0;
  BOOST_REQUIRE(store.write([&](StoreWriter& w) {
    ++runs;
    auto got = w.append_conflict(ConflictEntry{});
    if (!got) return got.status();
    seq = *got;
    return Status::ok();
  }));
  BOOST_TEST(runs == 2);
  BOOST_TEST(seq == 1u);  // the first run left nothing
  // A body that fails is not run twice and its error comes back.
  runs = 0;
  Status st = store.write([&](StoreWriter&) {
    ++runs;
    return Status::invalid("no");
  });
  BOOST_TEST((st.code() == Errc::invalid_argument));
  BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
