// The seeds of a seeded suite (the simulators: tests/replication/sim,
// tests/node/peering): SHOPSYNC_SEED=S replays seed S alone, and a failure
// names its seed with the line that replays it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/test/unit_test.hpp>

namespace shopsync::test {

inline std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

// Runs `run(seed)` on seeds 1..`seeds` of `profile` (or on SHOPSYNC_SEED's
// alone); `run` returns "" or what failed. Stops at the first failure,
// reported as a test error with its replay line. Returns how many ran.
// SHOPSYNC_SIM_SHARE=P runs the first P percent of the seeds (at least one):
// CI's sanitizer stage runs a quarter of them, since a memory fault shows on
// the code paths, which a quarter of the histories already takes, and the
// sanitized simulators would otherwise take a third of CI's budget.
template <class Run>
std::uint64_t run_seeds(const std::string& profile, std::uint64_t seeds, Run run) {
  if (const std::uint64_t share = env_u64("SHOPSYNC_SIM_SHARE", 100); share < 100) {
    seeds = std::max<std::uint64_t>(1, seeds * share / 100);
  }
  std::uint64_t first = 1;
  if (const char* s = std::getenv("SHOPSYNC_SEED"); s && *s) {
    first = std::strtoull(s, nullptr, 0);
    seeds = 1;
  }
  std::uint64_t ran = 0;
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    const std::string failure = run(seed);
    ++ran;
    if (!failure.empty()) {
      BOOST_ERROR(profile << ": seed " << seed << " failed: " << failure << "\n  replay: SHOPSYNC_SEED=" << seed
                          << " ctest -R " << profile << " -V");
      break;
    }
  }
  BOOST_TEST(ran > 0);
  return ran;
}

}  // namespace shopsync::test
