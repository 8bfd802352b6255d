// Group commit (Replica::queue_batch): batches taken off the socket together
// are committed in one transaction, their credit goes back at once, and
// nothing of them is told before their commit.
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "storage/memory_store.h"
#include "tests/replication/support/counted_node.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"

namespace shopsync::test {
namespace {

// Counts the messages of each kind and the change notices.
struct TellingOutbox final : Outbox {
  void send(NodeId, Message m) override { messages.push_back(std::move(m)); }
  void changed(const RecordKey&, const VisibleRecord*) override { ++changes; }
  template <typename T>
  std::size_t count() const {
    return static_cast<std::size_t>(
        std::count_if(messages.begin(), messages.end(), [](const Message& m) { return std::holds_alternative<T>(m); }));
  }
  std::vector<Batch> batches() const {
    std::vector<Batch> out;
    for (const Message& m : messages) {
      if (auto* b = std::get_if<Batch>(&m)) out.push_back(*b);
    }
    return out;
  }
  std::vector<Message> messages;
  std::size_t changes = 0;
};

ReplicaOptions small_batches() {
  ReplicaOptions o;
  o.max_batch_records = 10;
  o.initial_credit = 3;
  return o;
}

// Node 1 holds 50 records, node 2 none; node 2 pulls. Returns the first
// three batches of the answer (credit 3), every one with more to come.
std::vector<Batch> first_batches(CountedNode& a, CountedNode& b) {
  for (int i = 0; i < 50; ++i) {
    BOOST_REQUIRE(a->put({"items", "I" + std::to_string(i)}, fields({{"n", packed(i)}}), a.out));
  }
  TellingOutbox ignored, pull;
  a->peer_connected(2, b->knowledge(), ignored);
  b->peer_connected(1, a->knowledge(), pull);
  BOOST_REQUIRE(pull.count<Pull>() == 1u);
  TellingOutbox answer;
  BOOST_REQUIRE(a->receive(2, pull.messages.front(), answer));
  std::vector<Batch> batches = answer.batches();
  BOOST_REQUIRE(batches.size() == 3u);
  for (const Batch& batch : batches) BOOST_REQUIRE(batch.more);
  return batches;
}

bool holds(CountedNode& n, int i) {
  auto r = n->get({"items", "I" + std::to_string(i)});
  return r && r->has_value();
}

// Node 2 reopened on b's store, with a writer id of its own (a new run).
std::unique_ptr<CountedNode> reopen(MemoryStore& store_b) {
  ReplicaOptions reopened = small_batches();
  reopened.draw_writer_id = [] { return NodeId{0x2002}; };
  return std::make_unique<CountedNode>(store_b, 2, reopened);
}

// A pair for the restart cases: b has the first three batches of a's
// answer in hand (first_batches) and is stopped by resetting it.
struct PairToRestart {
  MemoryStore store_a, store_b;
  CountedNode a{store_a, 1, small_batches()};
  std::unique_ptr<CountedNode> b = std::make_unique<CountedNode>(store_b, 2, small_batches());
  std::vector<Batch> batches = first_batches(a, *b);
};

// a meets the reopened node on a perfect network until both are idle;
// returns the records the batches carried.
std::uint64_t sync_after_restart(CountedNode& a, CountedNode& again) {
  a->peer_disconnected(2);
  Loopback net;
  net.add(*a.replica);
  net.add(*again.replica);
  net.connect(*a.replica, *again.replica);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(again->knowledge().get(a->writer()) == 50u);
  for (int i = 0; i < 50; ++i) BOOST_TEST(holds(again, i));
  return net.counts.records;
}

BOOST_AUTO_TEST_SUITE(group_commit)

BOOST_AUTO_TEST_CASE(queued_batches_land_in_one_transaction_and_nothing_is_told_before_it) {
  MemoryStore store_a, store_b;
  CountedNode a(store_a, 1, small_batches()), b(store_b, 2, small_batches());
  const std::vector<Batch> batches = first_batches(a, b);
  const std::uint64_t writes_before = b.store.writes();

  TellingOutbox queued;
  for (const Batch& batch : batches) BOOST_REQUIRE(b->queue_batch(1, batch, queued));
  // Each batch's credit went back at once; nothing else was told, nothing stored.
  BOOST_TEST(queued.count<Credit>() == 3u);
  BOOST_TEST(queued.messages.size() == 3u);
  BOOST_TEST(queued.changes == 0u);
  BOOST_TEST(b.store.writes() == writes_before);
  BOOST_TEST(!holds(b, 0));
  BOOST_TEST(b->knowledge().get(a->writer()) == 0u);
  BOOST_TEST(b->peers().at(0).records_in == 0u);

  TellingOutbox committed;
  BOOST_REQUIRE(b->commit_queued(committed));
  BOOST_TEST(b.store.writes() == writes_before + 1);  // the three batches, one commit
  for (int i = 0; i < 30; ++i) BOOST_TEST(holds(b, i));
  BOOST_TEST(committed.changes == 30u);
  BOOST_TEST(committed.count<Credit>() == 0u);  // already granted
  BOOST_TEST(b->peers().at(0).records_in == 30u);
  BOOST_TEST(b->knowledge().get(a->writer()) == 30u);  // every dot up to 30 held

  // The rest of the answer: its last batch commits its group at once, and
  // only then is the new knowledge told.
  TellingOutbox rest;
  BOOST_REQUIRE(a->receive(2, Credit{3}, rest));
  BOOST_REQUIRE(rest.batches().size() == 2u);
  TellingOutbox first_of_rest;
  BOOST_REQUIRE(b->queue_batch(1, rest.batches()[0], first_of_rest));
  BOOST_TEST(first_of_rest.count<Notify>() == 0u);
  BOOST_TEST(first_of_rest.changes == 0u);
  BOOST_TEST(b->knowledge().get(a->writer()) == 30u);
  TellingOutbox last;
  BOOST_REQUIRE(b->queue_batch(1, rest.batches()[1], last));
  BOOST_TEST(b.store.writes() == writes_before + 2);
  BOOST_TEST(b->knowledge().get(a->writer()) == 50u);
  BOOST_TEST(last.count<Notify>() == 1u);
  BOOST_TEST(last.changes == 20u);
}

BOOST_FIXTURE_TEST_CASE(batches_queued_when_the_node_stops_are_pulled_again, PairToRestart) {
  TellingOutbox queued;
  BOOST_REQUIRE((*b)->queue_batch(1, batches[0], queued));
  BOOST_REQUIRE((*b)->queue_batch(1, batches[1], queued));
  b.reset();  // stops with two batches queued: nothing of them was committed

  auto again = reopen(store_b);
  BOOST_TEST((*again)->knowledge().get(a->writer()) == 0u);
  BOOST_TEST(!holds(*again, 0));
  sync_after_restart(a, *again);
}

// A node killed mid-answer and started again: the batches the sender had
// already sent to it (in flight) arrive in its new session. They answer a
// Pull of its earlier run: dropped unapplied, no credit given back for them,
// and the answer to its new Pull brings everything it lacks, once.
BOOST_FIXTURE_TEST_CASE(batches_in_flight_to_a_restarted_node_are_dropped_and_the_new_answer_brings_the_rest, PairToRestart) {
  TellingOutbox before_kill;
  BOOST_REQUIRE((*b)->queue_batch(1, batches[0], before_kill));
  BOOST_REQUIRE((*b)->commit_queued(before_kill));
  b.reset();  // killed with batches 1 and 2 on their way

  auto again = reopen(store_b);
  TellingOutbox new_pull;
  (*again)->peer_connected(1, a->knowledge(), new_pull);
  BOOST_REQUIRE(new_pull.count<Pull>() == 1u);
  const std::uint64_t writes_before = again->store.writes();
  TellingOutbox late;
  BOOST_REQUIRE((*again)->queue_batch(1, batches[1], late));
  BOOST_REQUIRE((*again)->queue_batch(1, batches[2], late));
  BOOST_REQUIRE((*again)->commit_queued(late));
  BOOST_TEST(late.messages.empty());  // no credit for an answer nobody waits for
  BOOST_TEST(late.changes == 0u);
  BOOST_TEST(again->store.writes() == writes_before);
  BOOST_TEST(!holds(*again, 10));

  // The 10 records committed before the kill are not sent again.
  BOOST_TEST(sync_after_restart(a, *again) == 40u);
  BOOST_TEST((*again)->peers().at(0).records_in == 40u);
}

// A batch lost between two that arrived (the session moved to the other
// link mid-answer and a batch of the new link overtook the last of the old):
// the node holds records above a gap. Its knowledge stays below the gap, its
// next Pull lists what it holds above it, and only what it lacks is sent.
BOOST_FIXTURE_TEST_CASE(records_held_above_a_gap_are_not_sent_again_after_a_restart, PairToRestart) {
  TellingOutbox received;
  BOOST_REQUIRE((*b)->queue_batch(1, batches[0], received));
  BOOST_REQUIRE((*b)->queue_batch(1, batches[2], received));  // batches[1] lost
  BOOST_REQUIRE((*b)->commit_queued(received));
  BOOST_TEST((*b)->knowledge().get(a->writer()) == 10u);
  BOOST_TEST(holds(*b, 25));
  b.reset();

  auto again = reopen(store_b);
  BOOST_TEST(sync_after_restart(a, *again) == 30u);  // 10-19 and 30-49
}

BOOST_AUTO_TEST_CASE(a_batch_that_breaks_the_rules_is_refused_before_it_is_queued) {
  MemoryStore store_a, store_b;
  CountedNode a(store_a, 1, small_batches()), b(store_b, 2, small_batches());
  std::vector<Batch> batches = first_batches(a, b);
  Batch bad = batches[1];
  bad.records.front().first.collection = "Not A Collection";
  TellingOutbox out;
  BOOST_REQUIRE(b->queue_batch(1, batches[0], out));
  BOOST_TEST(b->queue_batch(1, bad, out).code() == Errc::protocol);
  BOOST_TEST(out.count<Credit>() == 1u);  // none for the refused batch
  BOOST_REQUIRE(b->commit_queued(out));
  BOOST_TEST(holds(b, 0));
  BOOST_TEST(!holds(b, 10));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
