// Real data directories for the inspector tests: two nodes A and B (LmdbStore
// + Replica each, exchanging messages over tests/replication's Loopback) with
// records in two collections (customers under `manual`, orders under the
// default `newest_wins`), an open conflict (customers/C1), a resolved one
// (customers/C2), an old tombstone (customers/C3), rows in A's peers table
// (B last seen 6 days ago; C, an mDNS peer last seen 20 days ago that never
// synced) and one unsynced write on each side (orders/O2 on A, orders/O3 on B).
//
// Times: the first writes are 10 days old (so C3's tombstone is past the
// default 7-day retention), the conflicting writes one hour old.
#pragma once

#include <filesystem>
#include <memory>

#include "app/record_counts.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/lmdb_store.h"
#include "tests/replication/support/loopback.h"

namespace shopsync::test {

inline constexpr NodeId kNodeA = 0xa1a1a1a1a1a1a1a1ull;
inline constexpr NodeId kNodeB = 0xb2b2b2b2b2b2b2b2ull;
inline constexpr NodeId kNodeC = 0xc3c3c3c3c3c3c3c3ull;

class TestReplica {
 public:
  TestReplica(const std::filesystem::path& dir, NodeId id, Clock& clock, StoreOptions options = {});
  ~TestReplica();
  Replica& operator*() { return *replica_; }
  Replica* operator->() { return replica_.get(); }
  LmdbStore& store() { return *store_; }
  // The store the replica writes through (app/record_counts.h); counting once
  // app::start_counting() was called.
  app::CountingStore& counted() { return *counted_; }
  // Closes the store (the directory stays).
  void close();

 private:
  std::unique_ptr<LmdbStore> store_;
  std::unique_ptr<app::CountingStore> counted_;
  std::unique_ptr<Replica> replica_;
};

struct ClusterFixture {
  explicit ClusterFixture(const std::filesystem::path& root);

  // Connects A and B and delivers until both are level.
  void sync();
  // Ends the connection on both sides (as the daemon does on a lost link).
  void disconnect();
  // A put of one string field on `r`, REQUIREd to succeed.
  void put(TestReplica& r, const std::string& collection, const std::string& id, const std::string& field,
           const std::string& value);

  std::filesystem::path dir_a, dir_b;
  std::uint64_t now_ms = 0;  // the real time when the fixture was built
  ManualClock clock_a, clock_b;
  Loopback net;
  std::unique_ptr<TestReplica> a, b;
  Dot c1_a, c1_b, c2_loser, c2_winner, c3_tombstone, o2, o3;
};

// The JSON of a record's field value packed by the tests: a MessagePack string.
std::string packed_string(const std::string& s);

}  // namespace shopsync::test
