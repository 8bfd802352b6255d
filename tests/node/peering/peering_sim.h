// The deterministic simulator of the session rules (docs/replication.md,
// "Simulator of the session rules").
//
// N nodes, each a real Peering (node/peering/peering.h) driving a real
// Replica on a MemoryStore, every node dialing every other (both sides
// dial), over a fake transport: a connection per dial, kept in order like
// TCP, whose frames may be dropped, duplicated or delayed (links overtake
// each other), cut by partitions, and torn by restarts (the restarted
// node's dials die; dials to it reconnect on their own and meet a process
// that never saw their HELLO), or restarted on an older copy of its data
// directory. Each node has its own wall clock, which may step forwards and
// back; the monotonic clock only moves forwards. Trust is removed and given
// back; strategy tables change on running nodes. Peers are configured, or
// found and lost by a fake mDNS. Then the faults stop, and the invariants are
// checked.
//
// Everything is a function of the seed: one std::mt19937_64, ordered
// containers, simulated time only, no threads.
#pragma once

#include <cstdint>
#include <string>

namespace shopsync::peering_sim {

struct SimConfig {
  std::uint64_t seed = 1;
  int nodes = 3;
  int writes = 20;             // random puts on a few keys, spread over the run
  double drop = 0;             // share of frames lost
  double duplicate = 0;        // share of frames delivered twice
  std::uint64_t max_delay_ms = 20;  // random delivery delay (links keep their order)
  double partition_rate = 0;   // per second: a partition starts (healed a few seconds later)
  double restart_rate = 0;     // per second: a node crashes and restarts
  double revoke_rate = 0;      // per second: a node stops trusting a peer's key (given back later)
  // Per second: a node's wall clock steps by up to this much, forwards or
  // back (0: no step). Steps beyond the max clock offset also stop the other
  // faults: the invariant then is that no established link drops.
  double clock_step_rate = 0;
  std::int64_t max_clock_step_ms = 0;
  // Records node 0 holds before anyone connects; checked to cross to each
  // other node exactly once (both sides dial: the pair settles on one
  // connection without sending anything twice). Only without faults.
  int upfront_records = 0;
  // Per second: a node restarts on its data directory as it was at its last
  // backup (each node copies it every few seconds): it forgets what it wrote
  // or received since, and its HELLO tells less than it told before.
  double restore_rate = 0;
  double delete_share = 0;  // of the writes: deletes of the record
  // Per second: a node applies another strategy table (SIGHUP). All take the
  // first table when the faults stop.
  double strategy_change_rate = 0;
  // Peers are not configured: each finds the others through discovery events
  // (the node's mDNS), after a delay.
  bool discovery = false;
  // Per second (with discovery): a node leaves the LAN for 2-6 s, with an
  // mDNS goodbye or without one (its records expire at the others after a
  // TTL unless it is back first), and comes back at the same address or a new
  // one. Per seed: one node may drop inbound mDNS (it is found, never finds),
  // and the last node may leave for good.
  double leave_rate = 0;
  std::uint64_t fault_ms = 20'000;   // faults happen in this span, then heal
  std::uint64_t settle_ms = 40'000;  // then this long without faults before the checks
};

struct SimStats {
  std::uint64_t frames = 0;
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t restarts = 0;
  std::uint64_t partitions = 0;
  std::uint64_t revocations = 0;
  std::uint64_t clock_steps = 0;
  std::uint64_t restores = 0;
  std::uint64_t writes_discarded = 0;  // only the part of a store a restore replaced held them
  std::uint64_t strategy_changes = 0;
  std::uint64_t leaves = 0;            // nodes gone from the LAN for a while
  std::uint64_t address_changes = 0;
  std::uint64_t dials = 0;
  std::uint64_t records_sent = 0;
  void add(const SimStats& o);
};

struct SimResult {
  bool ok = true;
  std::string failure;  // the first invariant broken, with details
  SimStats stats;
};

SimResult run_simulation(const SimConfig& config);

}  // namespace shopsync::peering_sim
