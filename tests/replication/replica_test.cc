// The Replica's local API and its protocol between two or three replicas on
// a perfect network (tests/replication/support/loopback.h).
#include "replication/replica.h"

#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "storage/faulty_store.h"
#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kStart = 1'700'000'000'000;

struct Node {
  explicit Node(NodeId id, ReplicaOptions options = {}) : clock(kStart) {
    options.node_id = id;
    options.cluster = "shop";
    auto r = Replica::open(store, clock, options);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
  }
  MemoryStore store;
  ManualClock clock;
  std::unique_ptr<Replica> replica;
  VectorOutbox out;
  Replica& operator*() { return *replica; }
  Replica* operator->() { return replica.get(); }
};

std::vector<ConflictEntry> conflicts_of(Store& store) {
  std::vector<ConflictEntry> out;
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    return r.for_each_conflict(0, [&](const ConflictEntry& e) {
      out.push_back(e);
      return Scan::next;
    });
  }));
  return out;
}

const RecordKey kCust{"customers", "CUST_001"};

BOOST_AUTO_TEST_SUITE(replica)

BOOST_AUTO_TEST_CASE(put_get_patch_remove) {
  Node a(1);
  auto r = a->put(kCust, fields({{"name", packed("Ana")}, {"city", packed("Lyon")}}), a.out);
  BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  BOOST_TEST(r->visible.winner.origin == a->writer());
  BOOST_TEST(r->visible.winner.counter == 1u);
  BOOST_TEST(visible_value(*r, "name") == packed("Ana"));

  auto p = a->put(kCust, fields({{"city", packed("Paris")}}, /*replace=*/false), a.out);
  BOOST_REQUIRE(p);
  BOOST_TEST(visible_value(*p, "name") == packed("Ana"));
  BOOST_TEST(visible_value(*p, "city") == packed("Paris"));
  BOOST_TEST(p->siblings.size() == 1u);
  // An unchanged field keeps its stamp; a changed one gets the new write's.
  BOOST_TEST(p->visible.fields.at("name").stamp == r->visible.fields.at("name").stamp);
  BOOST_TEST(p->visible.fields.at("city").stamp == p->visible.updated_at);

  auto g = a->get(kCust);
  BOOST_REQUIRE(g);
  BOOST_REQUIRE(g->has_value());
  BOOST_TEST((**g == *p));

  auto d = a->remove(kCust, a.out);
  BOOST_REQUIRE(d);
  BOOST_TEST(d->visible.deleted);
  BOOST_TEST(a->remove(kCust, a.out).status().code() == Errc::not_found);
  BOOST_TEST(a->remove({"customers", "nobody"}, a.out).status().code() == Errc::not_found);
  BOOST_TEST(a->knowledge().get(a->writer()) == 3u);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_and_changes_nothing) {
  Node a(1);
  BOOST_TEST(a->put({"Bad Name", "x"}, fields({{"a", packed(1)}}), a.out).status().code() == Errc::invalid_argument);
  BOOST_TEST(a->put({"c", ""}, fields({{"a", packed(1)}}), a.out).status().code() == Errc::invalid_argument);
  BOOST_TEST(a->put({"c", "x"}, fields({{"a", std::string()}}), a.out).status().code() == Errc::invalid_argument);
  BOOST_TEST(a->put({"c", "x"}, fields({{"a", std::string("\xc1")}}), a.out).status().code() ==
             Errc::invalid_argument);
  BOOST_TEST(a->put({"c", "x"}, fields({{"a", packed(1) + packed(2)}}), a.out).status().code() ==
             Errc::invalid_argument);
  BOOST_TEST(a->put({"c", "x"}, fields({{"", packed(1)}}), a.out).status().code() == Errc::invalid_argument);
  BOOST_TEST(a->knowledge().empty());
  BOOST_TEST(a.out.messages.empty());
}

BOOST_AUTO_TEST_CASE(too_large_record_is_refused) {
  Node a(1);
  const std::string big = packed(std::string(kDefaultMaxRecordBytes + 10, 'x'));
  auto r = a->put(kCust, fields({{"blob", big}}), a.out);
  BOOST_TEST(r.status().code() == Errc::too_large);
  BOOST_TEST(a->knowledge().empty());
}

BOOST_AUTO_TEST_CASE(open_checks_identity_and_cluster) {
  MemoryStore store;
  ManualClock clock(kStart);
  BOOST_TEST(Replica::open(store, clock, {}).status().code() == Errc::invalid_argument);
  ReplicaOptions o;
  o.node_id = 7;
  o.cluster = "shop";
  BOOST_REQUIRE(Replica::open(store, clock, o));
  o.node_id = 8;
  BOOST_TEST(Replica::open(store, clock, o).status().code() == Errc::refused);
  o.node_id = 0;
  o.cluster = "other";
  BOOST_TEST(Replica::open(store, clock, o).status().code() == Errc::refused);
  o.cluster = "";
  auto r = Replica::open(store, clock, o);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)->id() == 7u);
  BOOST_TEST((*r)->cluster() == "shop");
}

BOOST_AUTO_TEST_CASE(clock_never_goes_back_across_restart) {
  MemoryStore store;
  ManualClock clock(kStart);
  ReplicaOptions o;
  o.node_id = 1;
  VectorOutbox out;
  Hlc last = 0;
  {
    auto r = Replica::open(store, clock, o);
    BOOST_REQUIRE(r);
    auto w = (*r)->put(kCust, fields({{"n", packed(1)}}), out);
    BOOST_REQUIRE(w);
    last = w->visible.updated_at;
  }
  clock.set(kStart - 3'600'000);  // the machine's clock was set an hour back
  auto r = Replica::open(store, clock, o);
  BOOST_REQUIRE(r);
  auto w = (*r)->put(kCust, fields({{"n", packed(2)}}), out);
  BOOST_REQUIRE(w);
  BOOST_TEST(w->visible.updated_at > last);
}

BOOST_AUTO_TEST_CASE(local_write_survives_replayed_bodies) {
  MemoryStore inner;
  FaultyStore store(inner);
  store.replay_bodies(true);
  ManualClock clock(kStart);
  ReplicaOptions o;
  o.node_id = 1;
  auto r = Replica::open(store, clock, o);
  BOOST_REQUIRE(r);
  VectorOutbox out;
  BOOST_REQUIRE((*r)->put(kCust, fields({{"n", packed(1)}}), out));
  BOOST_REQUIRE((*r)->put(kCust, fields({{"n", packed(2)}}), out));
  BOOST_TEST((*r)->knowledge().get((*r)->writer()) == 2u);
  auto g = (*r)->get(kCust);
  BOOST_REQUIRE(g);
  BOOST_TEST((*g)->siblings.size() == 1u);
  BOOST_TEST((*g)->siblings[0].dot.counter == 2u);
}

BOOST_AUTO_TEST_CASE(failed_commit_changes_nothing) {
  MemoryStore inner;
  FaultyStore store(inner);
  ManualClock clock(kStart);
  ReplicaOptions o;
  o.node_id = 1;
  auto r = Replica::open(store, clock, o);
  BOOST_REQUIRE(r);
  VectorOutbox out;
  store.fail_write(store.writes() + 1);
  BOOST_TEST(!(*r)->put(kCust, fields({{"n", packed(1)}}), out));
  BOOST_TEST((*r)->knowledge().empty());
  BOOST_TEST(out.messages.empty());
  auto w = (*r)->put(kCust, fields({{"n", packed(1)}}), out);
  BOOST_REQUIRE(w);
  BOOST_TEST(w->visible.winner.counter == 1u);
}

BOOST_AUTO_TEST_CASE(two_replicas_converge_and_log_a_conflict_once) {
  Node a(1), b(2);
  Loopback net;
  net.add(*a);
  net.add(*b);
  BOOST_REQUIRE(a->put(kCust, fields({{"name", packed("Ana")}}), a.out));
  b.clock.advance(5000);
  BOOST_REQUIRE(b->put(kCust, fields({{"name", packed("Bea")}}), b.out));
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  auto ga = a->get(kCust);
  auto gb = b->get(kCust);
  BOOST_REQUIRE(ga && gb && ga->has_value() && gb->has_value());
  BOOST_TEST(((*ga)->siblings == (*gb)->siblings));
  BOOST_TEST((*ga)->siblings.size() == 2u);
  BOOST_TEST(visible_value(**ga, "name") == packed("Bea"));  // newest wins
  BOOST_TEST(!(*ga)->visible.near_simultaneous);
  BOOST_TEST((a->knowledge() == b->knowledge()));
  auto ca = conflicts_of(a.store);
  auto cb = conflicts_of(b.store);
  BOOST_REQUIRE(ca.size() == 1u);
  BOOST_REQUIRE(cb.size() == 1u);
  BOOST_TEST(ca[0].siblings.size() == 2u);
  BOOST_TEST(ca[0].strategy == "newest_wins");
  BOOST_TEST(ca[0].winner.origin == b->writer());
  BOOST_TEST(ca[0].detected_by == 1u);
  BOOST_TEST(cb[0].detected_by == 2u);

  // Re-delivery and periodic pulls log nothing new.
  a.clock.advance(60'000);
  b.clock.advance(60'000);
  auto pa = net.port(1);
  auto pb = net.port(2);
  BOOST_REQUIRE(a->tick(pa));
  BOOST_REQUIRE(b->tick(pb));
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(conflicts_of(a.store).size() == 1u);

  // Manual resolution: a write covering both siblings, seen by both.
  Resolution res;
  for (const Version& s : (*ga)->siblings) {
    if (s.dot.origin == a->writer()) res.choose = s.dot;  // a's "Ana"
  }
  res.seen = (*ga)->context;
  auto resolved = a->resolve(kCust, res, pa);
  BOOST_REQUIRE(resolved);
  BOOST_TEST(resolved->siblings.size() == 1u);
  BOOST_TEST(visible_value(*resolved, "name") == packed("Ana"));
  BOOST_REQUIRE(net.pump());
  auto after = b->get(kCust);
  BOOST_REQUIRE(after && after->has_value());
  BOOST_TEST((*after)->siblings.size() == 1u);
  BOOST_TEST(visible_value(**after, "name") == packed("Ana"));
  BOOST_TEST(conflicts_of(b.store).size() == 1u);
}

BOOST_AUTO_TEST_CASE(resolve_refuses_a_version_the_user_has_not_seen) {
  Node a(1), b(2);
  Loopback net;
  net.add(*a);
  net.add(*b);
  BOOST_REQUIRE(a->put(kCust, fields({{"n", packed(1)}}), a.out));
  auto seen = a->get(kCust);
  BOOST_REQUIRE(b->put(kCust, fields({{"n", packed(2)}}), b.out));
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  Resolution res;
  res.fields = fields({{"n", packed(3)}});
  res.seen = (**seen).context;
  auto pa = net.port(1);
  BOOST_TEST(a->resolve(kCust, res, pa).status().code() == Errc::refused);
  res.seen.reset();
  auto ok = a->resolve(kCust, res, pa);
  BOOST_REQUIRE(ok);
  BOOST_TEST(ok->siblings.size() == 1u);
  Resolution none;
  BOOST_TEST(a->resolve(kCust, none, pa).status().code() == Errc::invalid_argument);
  Resolution missing;
  missing.choose = Dot{9, 9};
  BOOST_TEST(a->resolve(kCust, missing, pa).status().code() == Errc::not_found);
}

BOOST_AUTO_TEST_CASE(manual_strategy_marks_conflicted_until_resolved) {
  ReplicaOptions o;
  o.strategies["orders"] = StrategyKind::manual;
  Node a(1, o), b(2, o);
  Loopback net;
  net.add(*a);
  net.add(*b);
  const RecordKey key{"orders", "O1"};
  BOOST_REQUIRE(a->put(key, fields({{"qty", packed(1)}}), a.out));
  BOOST_REQUIRE(b->put(key, fields({{"qty", packed(2)}}), b.out));
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  auto g = b->get(key);
  BOOST_REQUIRE(g && g->has_value());
  BOOST_TEST((*g)->visible.conflicted);
  BOOST_TEST((*g)->visible.near_simultaneous);  // same millisecond on both
  Resolution res;
  res.fields = fields({{"qty", packed(3)}});
  auto pb = net.port(2);
  auto r = b->resolve(key, res, pb);
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->visible.conflicted);
  BOOST_REQUIRE(net.pump());
  auto ga = a->get(key);
  BOOST_TEST(!(*ga)->visible.conflicted);
  BOOST_TEST(visible_value(**ga, "qty") == packed(3));
}

BOOST_AUTO_TEST_CASE(merge_strategy_keeps_both_sides_changes) {
  ReplicaOptions o;
  o.default_strategy = StrategyKind::merge;
  Node a(1, o), b(2, o);
  Loopback net;
  net.add(*a);
  net.add(*b);
  net.connect(*a, *b);
  auto pa = net.port(1);
  auto pb = net.port(2);
  BOOST_REQUIRE(a->put(kCust, fields({{"name", packed("Ana")}, {"city", packed("Lyon")}, {"tier", packed(1)}}), pa));
  BOOST_REQUIRE(net.pump());
  net.connect(*a, *b);  // (idempotent re-HELLO)
  BOOST_REQUIRE(net.pump());
  // Offline from each other: both change, one field each plus one both.
  auto pa2 = a.out;  // unused outboxes: nobody hears of these writes yet
  a.clock.advance(10);
  BOOST_REQUIRE(a->put(kCust, fields({{"city", packed("Paris")}, {"tier", packed(2)}}, false), a.out));
  b.clock.advance(20);
  BOOST_REQUIRE(b->put(kCust, fields({{"name", packed("Anna")}, {"tier", packed(3)}}, false), b.out));
  BOOST_REQUIRE(b->put(kCust, fields({{"city", std::nullopt}}, false), b.out).is_ok() || true);
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  auto ga = a->get(kCust);
  auto gb = b->get(kCust);
  BOOST_REQUIRE(ga && gb);
  BOOST_TEST(((*ga)->visible == (*gb)->visible));
  BOOST_TEST(visible_value(**ga, "name") == packed("Anna"));
  BOOST_TEST(visible_value(**ga, "tier") == packed(3));  // both changed: newest (b)
  // city: a set Paris at +10, b removed it at +20 (newest): removed.
  BOOST_TEST((*ga)->visible.fields.count("city") == 0u);
}

BOOST_AUTO_TEST_CASE(server_and_client_wins_follow_the_writer_role) {
  for (StrategyKind kind : {StrategyKind::server_wins, StrategyKind::client_wins}) {
    ReplicaOptions up;
    up.uplink = true;
    up.default_strategy = kind;
    ReplicaOptions branch;
    branch.default_strategy = kind;
    Node server(1, up), shop(2, branch);
    Loopback net;
    net.add(*server);
    net.add(*shop);
    BOOST_REQUIRE(server->put(kCust, fields({{"n", packed("server")}}), server.out));
    shop.clock.advance(60'000);  // the branch writes later: newest_wins would pick it
    BOOST_REQUIRE(shop->put(kCust, fields({{"n", packed("shop")}}), shop.out));
    net.connect(*server, *shop);
    BOOST_REQUIRE(net.pump());
    for (Node* n : {&server, &shop}) {
      auto g = (*n)->get(kCust);
      BOOST_REQUIRE(g && g->has_value());
      BOOST_TEST(visible_value(**g, "n") == packed(kind == StrategyKind::server_wins ? "server" : "shop"));
    }
  }
}

BOOST_AUTO_TEST_CASE(notify_makes_a_peer_pull_at_once) {
  Node a(1), b(2), c(3);
  Loopback net;
  for (Node* n : {&a, &b, &c}) net.add(**n);
  net.connect(*a, *b);
  net.connect(*b, *c);
  BOOST_REQUIRE(net.pump());
  auto pa = net.port(1);
  BOOST_REQUIRE(a->put(kCust, fields({{"n", packed(1)}}), pa));
  BOOST_REQUIRE(net.pump());
  // a -> b by Notify + pull; b -> c the same, after b's commit.
  auto gc = c->get(kCust);
  BOOST_REQUIRE(gc && gc->has_value());
  BOOST_TEST((a->knowledge() == c->knowledge()));
  BOOST_TEST(b->peers().size() == 2u);
  auto pending = a->pending_changes(3);
  BOOST_REQUIRE(pending);
  BOOST_TEST(pending->at("customers") == 1u);  // a never heard c's knowledge
  auto none = a->pending_changes(2);
  BOOST_REQUIRE(none);
  BOOST_TEST(none->empty());
}

std::size_t pulls_in(const VectorOutbox& out) {
  return static_cast<std::size_t>(std::count_if(out.messages.begin(), out.messages.end(),
                                                 [](const auto& m) { return std::holds_alternative<Pull>(m.second); }));
}

// Issue #13, bug 1: the pull timers run on the monotonic clock, so a step of
// the wall clock (NTP, a user fixing the date) neither stalls nor fires them.
BOOST_AUTO_TEST_CASE(wall_clock_steps_do_not_move_pull_timers) {
  ManualClock timers(500);
  ReplicaOptions o;
  o.timers = &timers;
  Node a(1, o), b(2);
  BOOST_REQUIRE(b->put(kCust, fields({{"n", packed(1)}}), b.out));
  a->peer_connected(2, b->knowledge(), a.out);
  BOOST_REQUIRE(pulls_in(a.out) == 1u);  // b knows more: a pulls at once...
  a.out.messages.clear();                // ...and the answer is lost

  // The wall clock steps back a minute; the pull timeout passes (monotonic):
  // the stalled pull is asked again.
  a.clock.set(kStart - 60'000);
  timers.advance(o.pull_timeout_ms);
  BOOST_REQUIRE(a->tick(a.out));
  BOOST_TEST(pulls_in(a.out) == 1u);
  a.out.messages.clear();

  // The wall clock steps forward two minutes, one second passes: the pull
  // just sent is still waiting for its answer, not asked again.
  a.clock.set(kStart + 120'000);
  timers.advance(1000);
  BOOST_REQUIRE(a->tick(a.out));
  BOOST_TEST(pulls_in(a.out) == 0u);
}

BOOST_AUTO_TEST_CASE(credit_bounds_batches_in_flight) {
  ReplicaOptions o;
  o.max_batch_records = 10;
  o.initial_credit = 2;
  Node a(1, o), b(2, o);
  for (int i = 0; i < 95; ++i) {
    BOOST_REQUIRE(a->put({"items", "I" + std::to_string(i)}, fields({{"n", packed(i)}}), a.out));
  }
  VectorOutbox to_a, to_b;
  a->peer_connected(2, b->knowledge(), to_b);
  b->peer_connected(1, a->knowledge(), to_a);  // b pulls
  BOOST_REQUIRE(to_a.messages.size() == 1u);
  VectorOutbox from_a;
  BOOST_REQUIRE(a->receive(2, to_a.messages[0].second, from_a));
  BOOST_TEST(from_a.messages.size() == 2u);  // two batches, then wait for credit
  std::uint64_t delivered = 0;
  std::deque<Message> pending;
  for (auto& [to, m] : from_a.messages) pending.push_back(m);
  while (!pending.empty()) {
    Message m = pending.front();
    pending.pop_front();
    VectorOutbox back;
    BOOST_REQUIRE(b->receive(1, m, back));
    if (auto* batch = std::get_if<Batch>(&m)) delivered += batch->records.size();
    for (auto& [to, reply] : back.messages) {
      if (std::holds_alternative<Credit>(reply)) {
        VectorOutbox more;
        BOOST_REQUIRE(a->receive(2, reply, more));
        BOOST_TEST(more.messages.size() <= 1u);
        for (auto& [t2, m2] : more.messages) pending.push_back(m2);
      }
    }
  }
  BOOST_TEST(delivered == 95u);
  BOOST_TEST(b->knowledge().get(a->writer()) == 95u);
}

BOOST_AUTO_TEST_CASE(interrupted_sync_resumes_without_resending) {
  ReplicaOptions o;
  o.max_batch_records = 10;
  o.initial_credit = 1;
  Node a(1, o), b(2, o);
  for (int i = 0; i < 50; ++i) {
    BOOST_REQUIRE(a->put({"items", "I" + std::to_string(i)}, fields({{"n", packed(i)}}), a.out));
  }
  VectorOutbox to_a, ignored;
  a->peer_connected(2, b->knowledge(), ignored);
  b->peer_connected(1, a->knowledge(), to_a);
  VectorOutbox from_a;
  BOOST_REQUIRE(a->receive(2, to_a.messages.at(0).second, from_a));
  VectorOutbox back;
  BOOST_REQUIRE(b->receive(1, from_a.messages.at(0).second, back));  // one batch committed
  BOOST_TEST(b->knowledge().get(a->writer()) == 10u);
  // The connection drops; later it comes back: b asks from counter 10.
  a->peer_disconnected(2);
  b->peer_disconnected(1);
  Loopback net;
  net.add(*a);
  net.add(*b);
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(net.counts.records == 40u);
  BOOST_TEST(b->knowledge().get(a->writer()) == 50u);
}

BOOST_AUTO_TEST_CASE(tombstones_go_only_when_every_peer_covers_them) {
  ReplicaOptions o;
  o.tombstone_retention_ms = 1000;
  o.tombstone_scan_interval_ms = 1000;
  Node a(1, o), b(2, o), c(3, o);
  Loopback net;
  for (Node* n : {&a, &b, &c}) net.add(**n);
  auto pa = net.port(1);
  net.connect(*a, *b);
  BOOST_REQUIRE(a->put(kCust, fields({{"n", packed(1)}}), pa));
  BOOST_REQUIRE(net.pump());
  // c learned the record and then went away before the delete.
  net.connect(*a, *c);
  BOOST_REQUIRE(net.pump());
  a->peer_disconnected(3);
  c->peer_disconnected(1);
  BOOST_REQUIRE(a->remove(kCust, pa));
  BOOST_REQUIRE(net.pump());
  a.clock.advance(5000);
  BOOST_REQUIRE(a->tick(pa));
  BOOST_REQUIRE(net.pump());
  auto still = a->get(kCust);
  BOOST_TEST(still->has_value());  // c has not seen the delete: kept
  BOOST_TEST(a->tombstone_horizon().empty());

  // The operator removes c; the tombstone may go.
  BOOST_REQUIRE(a->forget_peer(3));
  a.clock.advance(5000);
  BOOST_REQUIRE(a->tick(pa));
  BOOST_REQUIRE(net.pump());
  auto gone = a->get(kCust);
  BOOST_TEST(!gone->has_value());
  BOOST_TEST(a->tombstone_horizon().get(a->writer()) == 2u);

  // c comes back with the old record: it must take a snapshot, not revive it.
  net.connect(*a, *c);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(net.counts.snapshot_required >= 1u);
  auto on_c = c->get(kCust);
  BOOST_TEST(!on_c->has_value());
  auto on_a = a->get(kCust);
  BOOST_TEST(!on_a->has_value());
  BOOST_TEST(c->knowledge().covers(a->knowledge()));
}

// A large store is scanned for tombstones a slice of records per tick, so
// that a node never stops syncing and writing for the whole scan (at start
// it used to hold a peer's first batch back for seconds).
BOOST_AUTO_TEST_CASE(tombstones_are_collected_a_slice_of_records_per_tick) {
  ReplicaOptions o;
  o.tombstone_retention_ms = 1000;
  o.tombstone_scan_interval_ms = 1'000'000;
  o.tombstone_scan_slice = 2;
  Node a(1, o);
  // Five records in two collections, three of them deleted.
  const std::vector<RecordKey> keys = {{"customers", "C1"}, {"customers", "C2"}, {"customers", "C3"},
                                       {"orders", "O1"}, {"orders", "O2"}};
  for (const auto& k : keys) BOOST_REQUIRE(a->put(k, fields({{"n", packed(1)}}), a.out));
  for (const auto& k : {keys[0], keys[2], keys[4]}) BOOST_REQUIRE(a->remove(k, a.out));
  a.clock.advance(5000);
  auto tombstones_left = [&] {
    int n = 0;
    for (const auto& k : {keys[0], keys[2], keys[4]}) n += a->get(k)->has_value() ? 1 : 0;
    return n;
  };
  BOOST_REQUIRE(a->tick(a.out));  // C1, C2
  BOOST_TEST(tombstones_left() == 2);
  BOOST_REQUIRE(a->tick(a.out));  // C3, O1
  BOOST_TEST(tombstones_left() == 1);
  BOOST_REQUIRE(a->tick(a.out));  // O2: the scan is over
  BOOST_TEST(tombstones_left() == 0);
  for (const auto& k : {keys[1], keys[3]}) BOOST_TEST(a->get(k)->has_value());  // live records stay
  // The next scan waits for the interval: a new tombstone stays until then.
  BOOST_REQUIRE(a->remove(keys[1], a.out));
  a.clock.advance(5000);
  BOOST_REQUIRE(a->tick(a.out));
  BOOST_TEST(a->get(keys[1])->has_value());
}

BOOST_AUTO_TEST_CASE(snapshot_keeps_what_the_sender_has_not_seen) {
  ReplicaOptions o;
  o.tombstone_retention_ms = 1000;
  o.tombstone_scan_interval_ms = 1000;
  Node a(1, o), c(3, o);
  Loopback net;
  net.add(*a);
  net.add(*c);
  auto pa = net.port(1);
  BOOST_REQUIRE(a->put(kCust, fields({{"n", packed(1)}}), pa));
  BOOST_REQUIRE(a->remove(kCust, pa));
  a.clock.advance(5000);
  BOOST_REQUIRE(a->tick(pa));
  BOOST_TEST(a->tombstone_horizon().get(a->writer()) == 2u);
  const RecordKey mine{"customers", "C_ONLY"};
  BOOST_REQUIRE(c->put(mine, fields({{"n", packed(7)}}), c.out));
  net.connect(*a, *c);
  BOOST_REQUIRE(net.pump());
  auto on_a = a->get(mine);
  BOOST_REQUIRE(on_a && on_a->has_value());
  BOOST_TEST((a->knowledge() == c->knowledge()));
}

BOOST_AUTO_TEST_CASE(a_snapshot_passes_the_horizon_on) {
  ReplicaOptions o;
  o.tombstone_retention_ms = 1000;
  o.tombstone_scan_interval_ms = 1000;
  Node a(1, o), b(2, o), c(3, o);
  // b and c both hold the record; then a deletes it and removes the tombstone
  // (it knows neither of them).
  {
    Loopback net;
    for (Node* n : {&a, &b, &c}) net.add(**n);
    auto pa = net.port(1);
    BOOST_REQUIRE(a->put(kCust, fields({{"n", packed(1)}}), pa));
    net.connect(*a, *b);
    net.connect(*a, *c);
    BOOST_REQUIRE(net.pump());
    for (Node* n : {&b, &c}) {
      a->peer_disconnected((*n)->id());
      (*n)->peer_disconnected(1);
      BOOST_REQUIRE(a->forget_peer((*n)->id()));
    }
  }
  BOOST_REQUIRE(a->remove(kCust, a.out));
  a.clock.advance(5000);
  BOOST_REQUIRE(a->tick(a.out));
  BOOST_TEST(!a->tombstone_horizon().empty());
  // b meets a: snapshot, the record goes, and b takes a's horizon.
  Loopback net;
  for (Node* n : {&a, &b, &c}) net.add(**n);
  net.connect(*a, *b);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(!(*b->get(kCust)).has_value());
  BOOST_TEST((b->tombstone_horizon() == a->tombstone_horizon()));
  // c, still holding the record, only meets b: b sends it to a snapshot too.
  a->peer_disconnected(2);
  b->peer_disconnected(1);
  net.counts = {};
  net.connect(*b, *c);
  BOOST_REQUIRE(net.pump());
  BOOST_TEST(net.counts.snapshot_required >= 1u);
  BOOST_TEST(!(*c->get(kCust)).has_value());
  BOOST_TEST(!(*b->get(kCust)).has_value());
}

BOOST_AUTO_TEST_CASE(state_survives_reopen_on_lmdb) {
  TempDir dir("shopsync-replica");
  ManualClock clock(kStart);
  ReplicaOptions o;
  o.node_id = 42;
  o.cluster = "shop";
  VectorOutbox out;
  NodeId first_writer = 0;
  {
    auto store = LmdbStore::open(dir.path());
    BOOST_REQUIRE_MESSAGE(store, store.status().to_string());
    auto r = Replica::open(**store, clock, o);
    BOOST_REQUIRE(r);
    first_writer = (*r)->writer();
    BOOST_REQUIRE((*r)->put(kCust, fields({{"n", packed(1)}}), out));
    VectorOutbox ignored;
    (*r)->peer_connected(7, VersionVector{}, ignored);
    clock.advance(60'000);
    BOOST_REQUIRE((*r)->tick(ignored));
  }
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE(store);
  auto r = Replica::open(**store, clock, o);
  BOOST_REQUIRE(r);
  BOOST_TEST((*r)->knowledge().get(first_writer) == 1u);
  BOOST_TEST((*r)->local_writes() == 1u);
  BOOST_TEST((*r)->writer() != first_writer);  // a new writer id at every open
  auto peers = (*r)->peers();
  BOOST_REQUIRE(peers.size() == 1u);
  BOOST_TEST(peers[0].id == 7u);
  BOOST_TEST(!peers[0].connected);
  auto g = (*r)->get(kCust);
  BOOST_REQUIRE(g && g->has_value());
}

BOOST_AUTO_TEST_CASE(malformed_batch_is_a_protocol_error_and_changes_nothing) {
  Node a(1);
  Batch bad;
  RecordState s;
  Version v;
  v.dot = Dot{2, 1};
  s.siblings.push_back(v);  // context does not cover the sibling
  bad.records.emplace_back(kCust, s);
  bad.complete.set(2, 1);
  VectorOutbox out;
  Status st = a->receive(2, bad, out);
  BOOST_TEST(st.code() == Errc::protocol);
  BOOST_TEST(a->knowledge().empty());
  Batch bad_key;
  s.context.set(2, 1);
  bad_key.records.emplace_back(RecordKey{"No", "x"}, s);
  BOOST_TEST(a->receive(2, bad_key, out).code() == Errc::protocol);
  BOOST_TEST(a->receive(1, Notify{}, out).code() == Errc::protocol);
  auto g = a->get(kCust);
  BOOST_TEST(!g->has_value());
}

// A node restored from an older copy of its store writes while its peer is
// out of reach: its new writes cannot take the dots of the writes the copy
// lacks (docs/replication.md, "Writer ids"), so once reconnected each side
// gets what the other has and nothing is lost.
BOOST_AUTO_TEST_CASE(a_node_restored_from_an_old_backup_never_reuses_a_dot) {
  Node a(1), b(2);
  Loopback net;
  net.add(*a);
  net.add(*b);
  net.connect(*a, *b);
  auto pa = net.port(1);
  BOOST_REQUIRE(a->put({"c", "r0"}, fields({{"n", packed(0)}}), pa));
  BOOST_REQUIRE(net.pump());
  MemoryStore backup;  // a copy of a's store now
  BOOST_REQUIRE(backup.write([&](StoreWriter& w) -> Status {
    return a.store.read([&](StoreReader& r) -> Status {
      auto meta = r.node_meta();
      if (!meta) return meta.status();
      SHOPSYNC_TRY(w.put_node_meta(**meta));
      auto state = r.record({"c", "r0"});
      if (!state) return state.status();
      return w.put_record({"c", "r0"}, **state);
    });
  }));
  for (int i = 1; i < 3; ++i) BOOST_REQUIRE(a->put({"c", "r" + std::to_string(i)}, fields({{"n", packed(i)}}), pa));
  BOOST_REQUIRE(net.pump());
  b->peer_disconnected(1);
  // a restarts on the copy, b out of reach, and writes.
  ReplicaOptions o;
  o.node_id = 1;
  auto restored = Replica::open(backup, a.clock, o);
  BOOST_REQUIRE(restored);
  BOOST_TEST((*restored)->writer() != a->writer());
  VectorOutbox none;
  auto w = (*restored)->put({"c", "new"}, fields({{"n", packed(9)}}), none);
  BOOST_REQUIRE_MESSAGE(w, w.status().to_string());
  BOOST_TEST(!b->knowledge().covers(w->siblings[0].dot));  // a dot nobody has seen
  Loopback net2;
  net2.add(**restored);
  net2.add(*b);
  net2.connect(**restored, *b);
  BOOST_REQUIRE(net2.pump());
  BOOST_TEST(((*restored)->knowledge() == b->knowledge()));
  for (const char* id : {"r0", "r1", "r2", "new"}) {
    auto here = (*restored)->get({"c", id});
    auto there = b->get({"c", id});
    BOOST_REQUIRE_MESSAGE(here && here->has_value(), id);
    BOOST_REQUIRE_MESSAGE(there && there->has_value(), id);
    BOOST_TEST(((*here)->siblings == (*there)->siblings));
  }
}

// Three replicas for the tests of an answer's claims: q (writer 10) wrote
// r0..r3 and s (writer 20) took them; p (writer 30) is to pull from s, one
// record per batch and one batch of credit at a time.
struct Relay {
  static ReplicaOptions options(NodeId writer) {
    ReplicaOptions o;
    o.max_batch_records = 1;
    o.initial_credit = 1;
    o.draw_writer_id = [writer] { return writer; };
    return o;
  }
  Relay() : s(1, options(20)), p(2, options(30)), q(3, options(10)) {
    for (int i = 0; i < 4; ++i) BOOST_REQUIRE(q->put({"c", "r" + std::to_string(i)}, fields({{"n", packed(i)}}), q.out));
    Loopback qs;
    qs.add(*q);
    qs.add(*s);
    qs.connect(*q, *s);
    BOOST_REQUIRE(qs.pump());
    q->peer_disconnected(1);
    s->peer_disconnected(3);
    sp.add(*s);
    sp.add(*p);
  }
  // s is gone for good (restored from an older copy); p syncs with q.
  void without_s() {
    s->peer_disconnected(2);
    p->peer_disconnected(1);
    Loopback pq;
    pq.add(*p);
    pq.add(*q);
    pq.connect(*p, *q);
    BOOST_REQUIRE(pq.pump());
  }
  // p holds `id` just as q does.
  void expect_p_as_q(const std::string& id) {
    auto at_p = p->get({"c", id});
    auto at_q = q->get({"c", id});
    BOOST_REQUIRE(at_p && at_p->has_value());
    BOOST_REQUIRE(at_q && at_q->has_value());
    BOOST_TEST(((*at_p)->siblings == (*at_q)->siblings));
  }
  Node s, p, q;
  Loopback sp;
};

// An answer's claims reach the puller's knowledge only with its last batch.
// Here q's dot 2 was superseded at s by s's own write, which s sends after
// q's origin: the second batch claims q's dots up to 3 without carrying dot
// 2. The answer is cut there and s never comes back (restored from an older
// copy, its write lost): p must not know dot 2 without holding it, or q's
// version would be dropped at p as "superseded here" for good.
BOOST_AUTO_TEST_CASE(a_cut_answer_leaves_no_dot_known_but_missing) {
  Relay n;
  BOOST_REQUIRE(n.s->put({"c", "r1"}, fields({{"n", packed(10)}}), n.s.out));
  n.sp.connect(*n.s, *n.p);
  n.sp.pump(6);  // Pull, batch r0, Credit, batch r2 (claims q:3), Credit, batch r3
  BOOST_TEST(n.p->get({"c", "r2"})->has_value());
  BOOST_TEST(!n.p->knowledge().covers(Dot{10, 2}));
  n.without_s();
  n.expect_p_as_q("r1");
}

// A record rewritten at the sender while its answer is in progress, over a
// dot the answer had still to send: no batch of the answer brings the new
// write (it is above what the answer sends), so the answer must not claim
// the old dot. s is never heard from again; p still gets q's version.
BOOST_AUTO_TEST_CASE(a_record_rewritten_during_an_answer_is_not_claimed) {
  Relay n;
  n.sp.connect(*n.s, *n.p);
  n.sp.pump(2);  // Pull, batch r0
  auto from_s = n.sp.port(1);
  BOOST_REQUIRE(n.s->put({"c", "r2"}, fields({{"n", packed(20)}}), from_s));
  auto holds = [&](Node& node, const char* id) {
    auto r = node->get({"c", id});
    return r && r->has_value();
  };
  for (int step = 0; step < 100 && !holds(n.p, "r3"); ++step) n.sp.pump(1);  // to the last batch
  BOOST_REQUIRE(holds(n.p, "r3"));
  BOOST_TEST(!n.p->knowledge().covers(Dot{10, 3}));
  n.without_s();
  n.expect_p_as_q("r2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
