// kill -9 at random instants loses nothing committed and leaves no half batch.
#include <chrono>
#include <random>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "storage/lmdb_store.h"
#include "tests/storage/batches.h"
#include "tests/storage/child_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync {

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE(sigkill_at_random_points_keeps_exactly_the_committed_batches) {
  const auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  test::TempDir dir;
  const std::string path = (dir / "s").string();
  std::uint64_t next_batch = 0;
  constexpr int kRounds = 24;
  int kills_mid_batch = 0;
  for (int round = 0; round < kRounds; ++round) {
    // A small map on the first open makes early rounds die while growing too.
    test::ChildProcess child({SHOPSYNC_STORAGE_HELPER, "write", path, std::to_string(next_batch), "65536"});
    // Let it commit a random number of batches (sometimes none), then kill it
    // a random number of microseconds later: before, during or after a commit.
    const int wait_batches = static_cast<int>(rng() % 6);
    const auto extra = std::chrono::microseconds(rng() % 3000);
    std::optional<std::uint64_t> reported;
    for (int i = 0; i < wait_batches; ++i) {
      auto line = child.read_line(std::chrono::seconds(10));
      BOOST_REQUIRE_MESSAGE(line && line->rfind("committed ", 0) == 0, "child said: " << line.value_or("(nothing)"));
      reported = std::stoull(line->substr(10));
    }
    std::this_thread::sleep_for(extra);
    child.kill_now();
    BOOST_REQUIRE_EQUAL(child.wait(), 128 + 9);
    // Lines still in the pipe were written after their commit returned.
    for (const auto& line : child.drain()) {
      if (line.rfind("committed ", 0) == 0) reported = std::stoull(line.substr(10));
    }

    auto store = LmdbStore::open(path);
    BOOST_REQUIRE_MESSAGE(store, "round " << round << ": " << store.status().to_string());
    std::optional<std::uint64_t> last;
    Status st = (*store)->read([&](StoreReader& r) {
      auto got = test::check_batches(r);
      if (!got) return got.status();
      last = *got;
      return Status::ok();
    });
    BOOST_REQUIRE_MESSAGE(st, "round " << round << ": " << st.to_string());
    if (reported) {
      BOOST_REQUIRE_MESSAGE(last && *last >= *reported,
                            "round " << round << ": batch " << *reported << " was reported committed but is missing");
    }
    if (last && (!reported || *last > *reported)) ++kills_mid_batch;  // committed, not yet reported
    const std::uint64_t before = next_batch;
    next_batch = last ? *last + 1 : 0;
    BOOST_REQUIRE(next_batch >= before);
    BOOST_TEST_MESSAGE("round " << round << ": " << next_batch << " batches stored, "
                                << test::records_before(next_batch) << " records");
  }
  BOOST_TEST_MESSAGE("rounds where the kill came between commit and report: " << kills_mid_batch);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
