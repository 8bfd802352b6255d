// The deterministic simulator's suites (tests/replication/sim/simulator.h).
//
// Default: 3,000 seeds over six in-memory profiles, 2,000 of scoped replicas,
// plus 250 on real LMDB stores. SHOPSYNC_SIM_SEEDS=N runs N seeds per in-memory profile group
// (the long mode: SHOPSYNC_SIM_SEEDS=100000). SHOPSYNC_SEED=S replays seed S
// of a profile: SHOPSYNC_SEED=S ctest -R <profile> -V.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/replication/sim/simulator.h"
#include "tests/support/seeds.h"
#include "tests/support/temp_dir.h"

namespace shopsync::sim {
namespace {

constexpr std::uint64_t kDefaultTotalSeeds = 3000;
constexpr std::uint64_t kMemoryProfiles = 6;

using test::env_u64;

// Runs `seeds` seeds (or the one in SHOPSYNC_SEED) of a profile; `make`
// builds the config of one seed. Stops at the first failure, naming the seed.
template <class Make>
void run_profile(const std::string& profile, std::uint64_t seeds, Make make) {
  SimStats total;
  const std::uint64_t ran = test::run_seeds(profile, seeds, [&](std::uint64_t seed) -> std::string {
    SimConfig config = make(seed);
    config.seed = seed;
    SimResult r = run_simulation(config);
    total.add(r.stats);
    return r.ok ? std::string() : "(" + std::to_string(config.nodes) + " nodes) " + r.failure;
  });
  BOOST_TEST_MESSAGE(profile << ": " << ran << " seeds; writes " << total.writes << ", resolutions "
                             << total.resolutions << ", deletes " << total.deletes << "; conflict log entries "
                             << total.conflict_entries << ", distinct conflicts " << total.distinct_conflicts
                             << " (near-simultaneous " << total.near_simultaneous << "), left conflicted "
                             << total.conflicted_at_end << "; messages " << total.messages << " (dropped "
                             << total.dropped << ", duplicated " << total.duplicated << "), records sent "
                             << total.records_sent << "; crashes " << total.crashes << ", partitions "
                             << total.partitions << ", restores " << total.restores << " (writes discarded "
                             << total.writes_discarded << "), snapshots " << total.snapshots << ", records erased "
                             << total.records_erased << ", failed commits " << total.store_faults << "; refused locally " << total.refused_locally << ", on arrival " << total.refused_on_arrival << ", leaves " << total.leaves << "; invariant checks " << total.invariants_checked);
}

std::uint64_t per_profile() { return env_u64("SHOPSYNC_SIM_SEEDS", kDefaultTotalSeeds) / kMemoryProfiles; }

BOOST_AUTO_TEST_SUITE(simulator)

BOOST_AUTO_TEST_CASE(small_clusters) {
  run_profile("small_clusters", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3;
    c.operations = 30 + static_cast<int>(seed % 20);
    return c;
  });
}

BOOST_AUTO_TEST_CASE(mixed_sizes_lossy_network) {
  run_profile("mixed_sizes_lossy_network", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 6);  // 3..8
    c.drop = 0.15;
    c.duplicate = 0.10;
    c.operations = 40;
    return c;
  });
}

BOOST_AUTO_TEST_CASE(crashes_and_forgotten_peers) {
  run_profile("crashes_and_forgotten_peers", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 4 + static_cast<int>(seed % 3);
    c.fault_rate = 0.3;
    c.forget_down_peers = true;
    c.store_faults = 0.05;
    c.operations = 50;
    return c;
  });
}

BOOST_AUTO_TEST_CASE(late_joiner_behind_tombstone_horizon) {
  run_profile("late_joiner_behind_tombstone_horizon", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 4);
    c.late_joiner = true;
    c.forget_down_peers = true;
    c.hot_keys = 2;
    c.operations = 40;
    return c;
  });
}

BOOST_AUTO_TEST_CASE(restored_backups) {
  run_profile("restored_backups", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 3);
    c.fault_rate = 0.3;
    c.restored_backups = true;
    c.operations = 50;
    return c;
  });
}

// Node 1's clock runs a minute fast (beyond the max offset of 7 s): it wins
// its newest_wins conflicts, but no other node's clock follows it (invariant 7).
BOOST_AUTO_TEST_CASE(one_fast_clock) {
  run_profile("one_fast_clock", per_profile(), [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 4);
    c.fast_clock_ms = 60'000;
    c.operations = 40;
    return c;
  });
}

// Partial replication (issue #18): scoped replicas (one branch of orders,
// one collection read-only) beside full ones, under the usual faults. Every
// scoped node's store must equal the projection of the full state onto its
// scope; the full nodes must satisfy every other invariant.
BOOST_AUTO_TEST_CASE(scoped_replicas) {
  run_profile("scoped_replicas", 4 * per_profile(), [](std::uint64_t seed) {  // 2,000 by default
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 4);  // 3..6
    c.scoped_from = c.nodes >= 5 ? 2 : 1;
    c.operations = 50;
    c.fault_rate = seed % 3 == 0 ? 0.3 : 0.15;
    c.drop = 0.10;
    c.duplicate = 0.08;
    return c;
  });
}

BOOST_AUTO_TEST_CASE(lmdb_stores) {
  const std::uint64_t seeds = std::max<std::uint64_t>(20, env_u64("SHOPSYNC_SIM_SEEDS", kDefaultTotalSeeds) / 10);
  // On tmpfs when there is one: the same LMDB code and files, without an
  // fsync to a real disk per simulated write (thousands per seed).
  std::unique_ptr<test::TempDir> holder;
  if (std::filesystem::is_directory("/dev/shm") && !std::getenv("SHOPSYNC_SIM_ON_DISK")) {
    const char* old_tmp = std::getenv("TMPDIR");
    const std::string saved = old_tmp ? old_tmp : "";
    ::setenv("TMPDIR", "/dev/shm", 1);
    holder = std::make_unique<test::TempDir>("shopsync-sim");
    if (old_tmp) {
      ::setenv("TMPDIR", saved.c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  } else {
    holder = std::make_unique<test::TempDir>("shopsync-sim");
  }
  test::TempDir& dir = *holder;
  run_profile("lmdb_stores", seeds, [&](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 3 + static_cast<int>(seed % 3);
    c.fault_rate = 0.25;
    c.operations = 30;
    c.lmdb_dir = dir / ("seed" + std::to_string(seed));
    return c;
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::sim
