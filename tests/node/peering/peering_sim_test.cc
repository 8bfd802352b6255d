// The simulator of the session rules (tests/node/peering/peering_sim.h), one
// test case per profile. SHOPSYNC_SIM_SEEDS=N runs N seeds per profile;
// SHOPSYNC_SEED=S replays seed S: SHOPSYNC_SEED=S ctest -R <profile> -V.
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/node/peering/peering_sim.h"
#include "tests/support/seeds.h"

namespace shopsync::peering_sim {
namespace {

// Runs the seeds of a profile (tests/support/seeds.h); SHOPSYNC_SIM_SEEDS=N
// runs N of each.
template <class Make>
void run_profile(const std::string& profile, std::uint64_t seeds, Make make) {
  SimStats total;
  const std::uint64_t ran = test::run_seeds(profile, test::env_u64("SHOPSYNC_SIM_SEEDS", seeds), [&](std::uint64_t seed) {
    SimConfig config = make(seed);
    config.seed = seed;
    SimResult r = run_simulation(config);
    total.add(r.stats);
    return r.ok ? std::string() : "(" + std::to_string(config.nodes) + " nodes) " + r.failure;
  });
  BOOST_TEST_MESSAGE(profile << ": " << ran << " seeds; frames " << total.frames << " (dropped " << total.dropped
                             << ", duplicated " << total.duplicated << "), dials " << total.dials << ", restarts "
                             << total.restarts << ", partitions " << total.partitions << ", revocations "
                             << total.revocations << ", clock steps " << total.clock_steps << ", restores "
                             << total.restores << " (writes discarded " << total.writes_discarded
                             << "), strategy changes " << total.strategy_changes << ", leaves " << total.leaves
                             << ", address changes " << total.address_changes << ", records sent " << total.records_sent);
}

int nodes_for(std::uint64_t seed) { return 3 + static_cast<int>(seed % 3); }

}  // namespace

BOOST_AUTO_TEST_SUITE(peering_sim)

// Lost, doubled and late frames, partitions and restarts, small clock steps
// both ways: all nodes end connected and show the same winners.
BOOST_AUTO_TEST_CASE(lossy_network_with_restarts_and_partitions_converges) {
  run_profile("lossy_network", 600, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.drop = 0.03;
    c.duplicate = 0.03;
    c.max_delay_ms = 60;
    c.partition_rate = 0.05;
    c.restart_rate = 0.05;
    c.clock_step_rate = 0.1;
    c.max_clock_step_ms = 2000;
    c.writes = 12;
    c.fault_ms = 10'000;
    return c;
  });
}

// Keys revoked and given back: a revoked key never delivers a record, the
// node never dials with it, and all converge once it is trusted again.
BOOST_AUTO_TEST_CASE(revoked_keys_deliver_nothing_and_trust_given_back_converges) {
  run_profile("revocations", 600, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.revoke_rate = 0.3;
    c.drop = 0.01;
    c.writes = 12;
    c.fault_ms = 10'000;
    return c;
  });
}

// Wall clocks step by up to a minute either way: no session ends or moves
// (timers are monotonic), and writes still cross.
BOOST_AUTO_TEST_CASE(wall_clock_steps_drop_no_link) {
  run_profile("clock_steps", 400, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.clock_step_rate = 0.5;
    c.max_clock_step_ms = 60'000;
    c.writes = 10;
    c.fault_ms = 10'000;
    c.settle_ms = 3'000;
    return c;
  });
}

// Both sides dial at once: the pair settles on one connection and each
// record crosses once.
BOOST_AUTO_TEST_CASE(both_sides_dial_and_each_record_is_sent_once) {
  run_profile("both_dial", 400, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = 2;
    c.writes = 0;
    c.upfront_records = 50;
    c.max_delay_ms = 50 + seed % 200;  // HELLOs cross: both dial before hearing the other
    c.fault_ms = 1'000;
    c.settle_ms = 20'000;
    return c;
  });
}

// Nodes restart on an older copy of their data directory, under loss and
// restarts, writing and deleting: their HELLO tells less than before. All
// converge; every write another store had seen at a restore is there, no
// version a kept write superseded (a deleted one) shows again, and no node
// believes a peer knows more than it holds.
BOOST_AUTO_TEST_CASE(backup_restores_lose_only_what_no_other_node_saw) {
  run_profile("backup_restores", 300, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.restore_rate = 0.15;
    c.partition_rate = 0.1;
    c.restart_rate = 0.05;
    c.drop = 0.02;
    c.writes = 20;
    c.delete_share = 0.3;
    c.fault_ms = 10'000;
    return c;
  });
}

// Nodes switch strategy tables while running (SIGHUP): no two nodes whose
// tables differ keep a session, and once all apply the same table again all
// connect and show the same winners.
BOOST_AUTO_TEST_CASE(strategy_changes_end_sessions_and_agreement_converges) {
  run_profile("strategy_changes", 300, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.strategy_change_rate = 0.3;
    c.drop = 0.01;
    c.writes = 12;
    c.fault_ms = 10'000;
    return c;
  });
}

// Peers found by mDNS only: found after a delay, lost with and without a
// goodbye and found again, at a new address half the time; a node that hears
// no mDNS; a node that leaves for good. All that stay end connected and
// converged, and nobody dials the one that left once its 10 minutes are over.
BOOST_AUTO_TEST_CASE(mdns_discovery_lost_and_found_peers_end_connected) {
  run_profile("mdns_discovery", 300, [](std::uint64_t seed) {
    SimConfig c;
    c.nodes = nodes_for(seed);
    c.discovery = true;
    c.leave_rate = 0.2;
    c.restart_rate = 0.03;
    c.drop = 0.01;
    c.writes = 12;
    c.fault_ms = 10'000;
    return c;
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::peering_sim
