// Replica::apply_device_push over a real LMDB store: a device's push is one
// transaction (records, conflict log, what the device has seen, its state),
// and its conflicts are in the conflict log (issue 13, bug 7).
#include <boost/test/unit_test.hpp>

#include "replication/device_push.h"
#include "replication/device_state.h"
#include "storage/lmdb_store.h"
#include "tests/replication/support/counted_node.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

const RecordKey kOld{"customers", "C1"};
const RecordKey kNew{"customers", "C2"};

DeviceChange change_of(const RecordKey& key, const std::string& name, std::uint64_t client_ms) {
  DeviceChange c;
  c.key = key;
  c.fields = {{"name", packed(name)}};
  c.client_ms = client_ms;
  return c;
}

// Everything a push may change: the two records, the device's state and seen
// versions, the conflict log, the node meta.
struct Stored {
  std::optional<RecordState> old_record, new_record;
  std::optional<DeviceState> device;
  std::optional<SeenVersion> seen_new;
  std::vector<ConflictEntry> log;
  std::optional<NodeMeta> meta;
};

Stored read_all(Store& store, const std::string& device) {
  Stored s;
  BOOST_REQUIRE(store.read([&](StoreReader& r) -> Status {
    s.old_record = r.record(kOld).value();
    s.new_record = r.record(kNew).value();
    s.device = load_device(r, device).value();
    s.seen_new = load_seen(r, device, kNew).value();
    s.meta = r.node_meta().value();
    return r.for_each_conflict(0, [&](const ConflictEntry& e) {
      s.log.push_back(e);
      return Scan::next;
    });
  }));
  return s;
}

// A node holding C1 written at the node (the device never saw it), and a
// push of C1 (a conflict: newest_wins, the device's edit older) and C2 (new).
struct PushFixture {
  PushFixture() {
    auto opened = LmdbStore::open(dir.path());
    BOOST_REQUIRE_MESSAGE(opened, opened.status().to_string());
    lmdb = std::move(*opened);
    node = std::make_unique<CountedNode>(*lmdb);
    BOOST_REQUIRE((*node)->put(kOld, fields({{"name", packed("node")}}), node->out));
    push.device = "device_1";
    push.now_ms = CountedNode::kStartMs;
    push.changes = {change_of(kOld, "device", CountedNode::kStartMs - 60'000),
                    change_of(kNew, "new", CountedNode::kStartMs)};
  }
  TempDir dir{"shopsync-device-push"};
  std::unique_ptr<LmdbStore> lmdb;
  std::unique_ptr<CountedNode> node;
  DevicePush push;
};

BOOST_AUTO_TEST_SUITE(device_push)

BOOST_AUTO_TEST_CASE(a_push_is_one_commit_of_records_conflicts_and_device_state) {
  PushFixture f;
  CountedNode& a = *f.node;
  const auto writes_before = a.store.writes();
  auto outcomes = a->apply_device_push(f.push, a.out);
  BOOST_REQUIRE_MESSAGE(outcomes, outcomes.status().to_string());
  BOOST_TEST(a.store.writes() - writes_before == 1u);
  BOOST_REQUIRE(outcomes->size() == 2u);

  const DeviceChangeOutcome& conflicted = (*outcomes)[0];
  BOOST_REQUIRE(conflicted.conflict.has_value());
  BOOST_TEST((conflicted.conflict->winner == DeviceWinner::server));
  BOOST_TEST(!conflicted.applied.has_value());
  const DeviceChangeOutcome& created = (*outcomes)[1];
  BOOST_TEST(created.error.is_ok());
  BOOST_TEST((created.applied == DeviceAction::create));

  const Stored s = read_all(*f.lmdb, f.push.device);
  BOOST_REQUIRE(s.new_record.has_value());
  BOOST_REQUIRE(s.seen_new.has_value());
  BOOST_TEST((s.seen_new->context == s.new_record->context));  // the device holds what it pushed
  BOOST_REQUIRE(s.device.has_value());
  BOOST_TEST(s.device->pushes == 1u);
  BOOST_TEST((s.device->resend == std::vector<RecordKey>{kOld}));  // it holds the losing version

  // The conflict is in the durable log: the node's version and the device's.
  BOOST_REQUIRE(s.log.size() == 1u);
  const ConflictEntry& entry = s.log.front();
  BOOST_TEST(entry.seq == conflicted.conflict->log_seq);
  BOOST_TEST((entry.key == kOld));
  BOOST_TEST(entry.strategy == "newest_wins");
  BOOST_TEST(entry.detected_by == a->id());
  BOOST_REQUIRE(entry.siblings.size() == 2u);
  BOOST_TEST(entry.siblings[0].fields.at("name").packed == packed("node"));
  BOOST_TEST((entry.winner == entry.siblings[0].dot));
  BOOST_TEST(entry.siblings[1].fields.at("name").packed == packed("device"));
  BOOST_TEST((entry.siblings[1].dot == Dot{}));  // never stored
}

// A commit that fails after its body ran (the store's own failure) leaves
// neither the records nor the device's state nor the log changed; the same
// push then applies as if the first had never been made.
BOOST_AUTO_TEST_CASE(a_failed_commit_leaves_nothing_of_the_push) {
  PushFixture f;
  CountedNode& a = *f.node;
  const Stored before = read_all(*f.lmdb, f.push.device);
  const auto knowledge_before = a->knowledge();
  a.store.fail_write(a.store.writes() + 1);
  auto failed = a->apply_device_push(f.push, a.out);
  BOOST_REQUIRE(!failed);
  BOOST_TEST(failed.status().code() == Errc::io_error);
  const Stored after = read_all(*f.lmdb, f.push.device);
  BOOST_TEST(!after.new_record.has_value());
  BOOST_TEST(!after.device.has_value());
  BOOST_TEST(!after.seen_new.has_value());
  BOOST_TEST(after.log.empty());
  BOOST_TEST((after.old_record == before.old_record));
  BOOST_TEST((after.meta == before.meta));
  BOOST_TEST((a->knowledge() == knowledge_before));

  a.store.heal();
  auto again = a->apply_device_push(f.push, a.out);
  BOOST_REQUIRE_MESSAGE(again, again.status().to_string());
  const Stored done = read_all(*f.lmdb, f.push.device);
  BOOST_REQUIRE(done.new_record.has_value());
  BOOST_REQUIRE(done.device.has_value());
  BOOST_TEST(done.device->pushes == 1u);
  BOOST_TEST(done.log.size() == 1u);
  BOOST_TEST(a->knowledge().get(a->writer()) == 2u);  // C1's write, then C2's: no dot lost
}

// A body the store runs twice (a map growth) commits the push once: one log
// entry, one write counted.
BOOST_AUTO_TEST_CASE(a_replayed_body_commits_the_push_once) {
  PushFixture f;
  CountedNode& a = *f.node;
  a.store.replay_bodies(true);
  auto outcomes = a->apply_device_push(f.push, a.out);
  BOOST_REQUIRE_MESSAGE(outcomes, outcomes.status().to_string());
  const Stored s = read_all(*f.lmdb, f.push.device);
  BOOST_TEST(s.log.size() == 1u);
  BOOST_REQUIRE(s.device.has_value());
  BOOST_TEST(s.device->pushes == 1u);
  BOOST_TEST(s.meta->counter == 2u);
}

// The device's version wins (newest_wins, its edit the newer): the log's
// device sibling is the version written for it, and it is the winner.
BOOST_AUTO_TEST_CASE(a_device_winner_is_logged_with_the_dot_it_was_written_under) {
  TempDir dir("shopsync-device-push");
  auto lmdb = LmdbStore::open(dir.path());
  BOOST_REQUIRE_MESSAGE(lmdb, lmdb.status().to_string());
  CountedNode a(**lmdb);
  BOOST_REQUIRE(a->put(kOld, fields({{"name", packed("node")}}), a.out));
  DevicePush push;
  push.device = "device_1";
  push.now_ms = CountedNode::kStartMs;
  push.changes = {change_of(kOld, "device", CountedNode::kStartMs + 60'000)};
  auto outcomes = a->apply_device_push(push, a.out);
  BOOST_REQUIRE_MESSAGE(outcomes, outcomes.status().to_string());
  BOOST_REQUIRE((*outcomes)[0].conflict.has_value());
  BOOST_TEST(((*outcomes)[0].conflict->winner == DeviceWinner::client));
  auto now = a->get(kOld);
  BOOST_REQUIRE(now && now->has_value());
  BOOST_TEST(visible_value(**now, "name") == packed("device"));
  std::vector<ConflictEntry> log;
  BOOST_REQUIRE((*lmdb)->read([&](StoreReader& r) {
    return r.for_each_conflict(0, [&](const ConflictEntry& e) {
      log.push_back(e);
      return Scan::next;
    });
  }));
  BOOST_REQUIRE(log.size() == 1u);
  BOOST_REQUIRE(log[0].siblings.size() == 2u);
  BOOST_TEST((log[0].siblings[1].dot == (*now)->visible.winner));
  BOOST_TEST((log[0].winner == (*now)->visible.winner));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
