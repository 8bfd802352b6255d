// The deterministic simulator of the replication core (docs/replication.md,
// "Simulator").
//
// N replicas (3 to 8) run the real Replica code on MemoryStore or LmdbStore,
// connected by a simulated network that drops, duplicates, delays (hence
// reorders) and partitions messages; nodes crash (in-flight messages lost) and
// restart by reopening their store; each node's clock is skewed and may jump
// back. A random workload of puts, field updates, deletes and manual
// resolutions on a few hot keys of five collections (one per strategy) makes
// conflicts frequent. Then the network heals and the cluster quiesces, and
// the invariants are checked (check_invariants in simulator.cc).
//
// Everything is a function of the seed: one std::mt19937_64, ordered
// containers, simulated time only, no threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace shopsync::sim {

struct SimConfig {
  std::uint64_t seed = 1;
  int nodes = 4;         // 3..8
  int hot_keys = 3;      // per collection
  int operations = 40;   // workload steps before healing
  double drop = 0.05;
  double duplicate = 0.05;
  std::uint64_t max_delay_ms = 300;  // random delivery delay: reordering
  double fault_rate = 0.15;          // share of steps that are a crash, restart, partition, heal, clock jump
  std::int64_t max_skew_ms = 3000;
  // Node 1's clock runs this much further ahead, beyond the max clock offset
  // (ReplicaOptions::max_clock_offset_ms, 2 x max_skew_ms + 1 s here): the
  // other nodes must not adopt its readings (issue #13, bug 2).
  std::int64_t fast_clock_ms = 0;
  bool late_joiner = false;   // the last node joins only at the heal, after others removed tombstones
  bool forget_down_peers = false;  // nodes forget a crashed peer (operator), letting tombstones go
  // Nodes back up their store (a copy of the data directory) and are later
  // restored from that older copy, isolated from every peer, and write there
  // before the heal. In-memory stores only.
  bool restored_backups = false;
  // Wrap each store in a FaultyStore that runs every write body twice (as a
  // map growth does) and fails this share of commits.
  double store_faults = 0;
  // Partial replication: nodes from this index on are scoped (node 1 and,
  // with 5 nodes or more, node 2 stay full). A scoped node holds the
  // collection "or" (orders) filtered to its branch, north or south in turn,
  // read-write, and "nw" read-only; the workload moves orders between
  // branches and the invariant is that its store is the projection of the
  // full state onto its scope. 0: no scoped node.
  int scoped_from = 0;
  // Store each node on LMDB in this directory (MemoryStore when empty).
  std::optional<std::filesystem::path> lmdb_dir;
};

struct SimStats {
  std::uint64_t writes = 0;
  std::uint64_t resolutions = 0;
  std::uint64_t deletes = 0;
  std::uint64_t conflict_entries = 0;    // conflict log entries, all nodes
  std::uint64_t distinct_conflicts = 0;  // distinct (record, sibling set) logged
  std::uint64_t near_simultaneous = 0;   // distinct conflicts flagged so
  std::uint64_t conflicted_at_end = 0;   // records left with several siblings
  std::uint64_t messages = 0;
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t records_sent = 0;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t restores = 0;            // stores replaced by an older backup of themselves
  std::uint64_t writes_discarded = 0;    // writes only the discarded part of a restored store held
  std::uint64_t snapshots = 0;           // SnapshotRequired answers
  std::uint64_t records_erased = 0;      // by tombstone removal or snapshot purge, all nodes
  std::uint64_t store_faults = 0;         // commits failed on purpose
  std::uint64_t invariants_checked = 0;
  std::uint64_t refused_locally = 0;    // local writes outside the node's grant
  std::uint64_t refused_on_arrival = 0; // records of batches outside the sender's write scope
  std::uint64_t leaves = 0;             // leave entries delivered

  void add(const SimStats& o);
};

struct SimResult {
  bool ok = true;
  std::string failure;  // the first invariant broken, with details
  SimStats stats;
};

SimResult run_simulation(const SimConfig& config);

}  // namespace shopsync::sim
