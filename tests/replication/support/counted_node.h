// A replica over a FaultyStore, which counts the commits and injects their
// failures, with a manual wall clock: for tests of what one local call
// commits (tests/replication/local_batch_test.cc, device_push_test.cc,
// group_commit_test.cc).
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <memory>

#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/faulty_store.h"

namespace shopsync::test {

struct CountedNode {
  static constexpr std::uint64_t kStartMs = 1'700'000'000'000;

  explicit CountedNode(Store& inner, NodeId id = 1, ReplicaOptions o = {}) : store(inner), clock(kStartMs) {
    o.node_id = id;
    o.cluster = "shop";
    // The same writer id for replicas of the same id, so that two of them
    // given the same writes can be compared dot for dot.
    if (!o.draw_writer_id) o.draw_writer_id = [id] { return NodeId{0x1000 + id}; };
    auto r = Replica::open(store, clock, o);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
  }
  FaultyStore store;
  ManualClock clock;
  std::unique_ptr<Replica> replica;
  VectorOutbox out;
  Replica* operator->() { return replica.get(); }
};

}  // namespace shopsync::test
