// Real shopsyncd processes on loopback, talking CURVE to each other through
// static peers: records cross, conflicts converge, a stopped node catches up,
// a node killed in the middle of a large initial sync resumes where it was, and
// a node restored from an old backup converges with its peer.
#include <thread>

#include <msgpack.hpp>

#include <boost/test/unit_test.hpp>

#include "node/bulk_seed.h"
#include "replication/messages.h"
#include "storage/lmdb_store.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

// The visible "name" of a record, or nullopt when the node does not have it.
std::optional<std::string> name_of(NodeProcess& node, const std::string& collection, const std::string& id) {
  auto r = node.api().get({collection, id});
  if (!r) return std::nullopt;
  auto it = r->fields.find("name");
  if (it == r->fields.end()) return std::string();
  auto h = msgpack::unpack(it->second.data(), it->second.size());
  return h.get().as<std::string>();
}

bool has_name(NodeProcess& node, const std::string& collection, const std::string& id, const std::string& name) {
  auto n = name_of(node, collection, id);
  return n && *n == name;
}

// Every live record of a collection, id -> visible fields.
std::map<std::string, api::FieldValues> all_records(NodeProcess& node, const std::string& collection) {
  std::map<std::string, api::FieldValues> out;
  api::ListRequest req;
  req.collection = collection;
  req.limit = 1000;
  for (int pages = 0; pages < 10000; ++pages) {
    auto page = node.api().list(req);
    BOOST_REQUIRE_MESSAGE(page.is_ok(), page.status().to_string());
    for (auto& r : page->records) out[r.key.id] = r.fields;
    if (!page->next_after) break;
    req.after = *page->next_after;
  }
  return out;
}

struct Cluster {
  TempDir dir{"shopsync-node"};
  std::vector<std::unique_ptr<NodeProcess>> nodes;

  NodeProcess& add(const std::string& name, std::vector<std::string> extra = {}) {
    NodeProcess::Options o;
    o.data_dir = dir / name;
    o.name = name;
    o.extra = std::move(extra);
    nodes.push_back(std::make_unique<NodeProcess>(o));
    return *nodes.back();
  }
  // Every node gets every other as a static peer (with its key: trusted too).
  void mesh() {
    for (auto& a : nodes) {
      a->options().peers.clear();
      for (auto& b : nodes) {
        if (a != b) a->options().peers.push_back(b->peer_spec());
      }
    }
  }
  void start_all() {
    for (auto& n : nodes) n->start();
  }
  // Writes `records` records into the data directory of node `name` (to add
  // next), as a node that already holds a data set.
  void seed(const std::string& name, std::size_t records) {
    SeedOptions options;
    options.cluster = "test";
    options.count = records;
    BOOST_REQUIRE(seed_records(dir / name, options).is_ok());
  }
};

BOOST_AUTO_TEST_SUITE(node_sync)

BOOST_AUTO_TEST_CASE(two_nodes_replicate_both_ways) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  c.mesh();
  c.start_all();
  put_name(a, "customers", "CUST_001", "Alice");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return has_name(b, "customers", "CUST_001", "Alice"); }, 15s), b.log());
  put_name(b, "orders", "ORD_1", "two chairs");
  BOOST_REQUIRE(wait_until([&] { return has_name(a, "orders", "ORD_1", "two chairs"); }, 15s));
  put_name(b, "customers", "CUST_001", "Alice Martin");
  BOOST_REQUIRE(wait_until([&] { return has_name(a, "customers", "CUST_001", "Alice Martin"); }, 15s));
  BOOST_REQUIRE(a.api().remove({"orders", "ORD_1"}).is_ok());
  BOOST_REQUIRE(wait_until([&] { return !b.api().get({"orders", "ORD_1"}).is_ok(); }, 15s));
  // One connection per pair, whichever way it was dialed.
  auto peers = a.api().peers();
  BOOST_REQUIRE(peers.is_ok());
  BOOST_REQUIRE(peers->peers.size() == 1u);
  BOOST_TEST(peers->peers[0].state == "connected");
  BOOST_TEST(peers->peers[0].name == "b");
  BOOST_TEST(peers->peers[0].public_key == b.public_key());
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_dead_peer_is_noticed_and_the_pair_reconnects) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  c.mesh();
  c.start_all();
  auto state_at_a = [&] {
    auto peers = a.api().peers();
    return peers && peers->peers.size() == 1 ? peers->peers[0].state : std::string("none");
  };
  BOOST_REQUIRE(wait_until([&] { return state_at_a() == "connected"; }, 15s));
  b.kill9();
  // Heartbeats stop: a notices within the peer timeout (2 s in these tests).
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return state_at_a() != "connected"; }, 10s), a.log());
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return state_at_a() == "connected"; }, 15s), a.log());
  put_name(a, "customers", "AFTER_RESTART", "reconnected");
  BOOST_TEST(wait_until([&] { return has_name(b, "customers", "AFTER_RESTART", "reconnected"); }, 15s),
             "a:\n" << a.log() << "\nb:\n" << b.log());
}

BOOST_AUTO_TEST_CASE(three_nodes_replicate) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  auto& d = c.add("c");
  c.mesh();
  c.start_all();
  put_name(a, "customers", "A1", "from a");
  put_name(b, "customers", "B1", "from b");
  put_name(d, "customers", "C1", "from c");
  for (auto* n : {&a, &b, &d}) {
    for (auto [id, name] : {std::pair{"A1", "from a"}, {"B1", "from b"}, {"C1", "from c"}}) {
      BOOST_REQUIRE_MESSAGE(wait_until([&] { return has_name(*n, "customers", id, name); }, 15s),
                            n->options().name << " lacks " << id);
    }
  }
}

BOOST_AUTO_TEST_CASE(concurrent_edits_end_identical_with_the_conflict_logged) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  // Apart first: each edits the same record without seeing the other.
  c.start_all();
  put_name(a, "customers", "CUST_7", "edited at a");
  std::this_thread::sleep_for(1200ms);  // beyond the 1 s tolerance: b's write is clearly newer
  put_name(b, "customers", "CUST_7", "edited at b");
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
  c.mesh();
  c.start_all();
  // newest_wins: b's later write is visible everywhere, a's kept as a sibling.
  for (auto* n : {&a, &b}) {
    BOOST_REQUIRE_MESSAGE(wait_until([&] {
      auto r = n->api().get({"customers", "CUST_7"});
      return r && r->sibling_count == 2 && has_name(*n, "customers", "CUST_7", "edited at b");
    }, 15s), n->log());
  }
  auto ra = a.api().get({"customers", "CUST_7"});
  auto rb = b.api().get({"customers", "CUST_7"});
  BOOST_REQUIRE(ra.is_ok() && rb.is_ok());
  BOOST_TEST((ra->fields == rb->fields));
  BOOST_TEST((ra->dot == rb->dot));
  BOOST_TEST((ra->siblings == rb->siblings));
  // The conflict is in the log of the node(s) that detected it, and in their logs.
  std::size_t logged = 0;
  for (auto* n : {&a, &b}) {
    auto page = n->api().conflicts({});
    BOOST_REQUIRE(page.is_ok());
    for (const auto& e : page->log) {
      BOOST_TEST(e.key.id == "CUST_7");
      BOOST_TEST(e.strategy == "newest_wins");
      BOOST_TEST((e.winner == ra->dot));
      ++logged;
    }
  }
  BOOST_TEST(logged >= 1u);
}

BOOST_AUTO_TEST_CASE(stopped_node_catches_up) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  auto& d = c.add("c");
  c.mesh();
  c.start_all();
  for (int i = 0; i < 20; ++i) put_name(a, "customers", "EARLY_" + std::to_string(i), "early");
  BOOST_REQUIRE(wait_until([&] { return has_name(d, "customers", "EARLY_19", "early"); }, 15s));
  BOOST_TEST(d.stop() == 0);
  for (int i = 0; i < 100; ++i) put_name(a, "customers", "A_" + std::to_string(i), "while c was away");
  for (int i = 0; i < 100; ++i) put_name(b, "orders", "B_" + std::to_string(i), "while c was away");
  BOOST_REQUIRE(a.api().remove({"customers", "EARLY_3"}).is_ok());
  put_name(b, "customers", "EARLY_4", "changed while c was away");
  BOOST_REQUIRE(wait_until([&] { return has_name(b, "customers", "A_99", "while c was away"); }, 15s));
  d.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    return has_name(d, "customers", "A_99", "while c was away") && has_name(d, "orders", "B_99", "while c was away") &&
           has_name(d, "customers", "EARLY_4", "changed while c was away") &&
           !d.api().get({"customers", "EARLY_3"}).is_ok();
  }, 20s), d.log());
  for (const char* collection : {"customers", "orders"}) {
    BOOST_TEST((all_records(d, collection) == all_records(a, collection)));
    BOOST_TEST((all_records(d, collection) == all_records(b, collection)));
  }
}

// --durability interval: the flush of every second runs beside the loop
// (node/disk_flusher.h). What a node acknowledged or received survives a
// kill -9 (the OS holds it) and a clean stop (the flusher ends, the node
// flushes once more), and no flush failed meanwhile.
BOOST_AUTO_TEST_CASE(with_durability_interval_nothing_acknowledged_or_received_is_lost) {
  Cluster c;
  auto& a = c.add("a", {"--durability", "interval"});
  auto& b = c.add("b", {"--durability", "interval"});
  c.mesh();
  c.start_all();
  constexpr int kRecords = 200;
  for (int i = 0; i < kRecords; ++i) put_name(a, "customers", "C_" + std::to_string(i), "written");
  const std::string last = "C_" + std::to_string(kRecords - 1);
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return has_name(b, "customers", last, "written"); }, 15s), b.log());
  // Past a second: the flusher has run under the writes.
  std::this_thread::sleep_for(1500ms);
  const auto written = all_records(a, "customers");
  BOOST_REQUIRE_EQUAL(written.size(), std::size_t{kRecords});
  b.kill9();
  BOOST_TEST(a.stop() == 0);
  a.start();
  b.start();
  BOOST_TEST((all_records(a, "customers") == written));
  BOOST_TEST((all_records(b, "customers") == written));
  BOOST_TEST(a.log_count("flushing the store to disk") == 0u, a.log());
  BOOST_TEST(b.log_count("flushing the store to disk") == 0u, b.log());
}

std::uint64_t count_records(const std::filesystem::path& data_dir, const std::string& collection) {
  auto store = LmdbStore::open(data_dir);
  BOOST_REQUIRE_MESSAGE(store.is_ok(), store.status().to_string());
  std::uint64_t n = 0;
  BOOST_REQUIRE((*store)->read([&](StoreReader& r) {
    return r.for_each_record(collection, "", [&](const RecordKey&, const RecordState&) {
      ++n;
      return Scan::next;
    });
  }).is_ok());
  return n;
}

// The knowledge committed in `data_dir`'s store.
VersionVector committed_knowledge(const std::filesystem::path& data_dir) {
  auto store = LmdbStore::open(data_dir);
  BOOST_REQUIRE_MESSAGE(store.is_ok(), store.status().to_string());
  VersionVector knowledge;
  BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
    auto meta = r.node_meta();
    if (!meta) return meta.status();
    if (*meta) knowledge = (*meta)->knowledge;
    return Status::ok();
  }).is_ok());
  return knowledge;
}

// The number in the last "records received from it since start: N" line.
std::uint64_t last_received_count(const std::string& log) {
  const std::string needle = "records received from it since start: ";
  const auto pos = log.rfind(needle);
  BOOST_REQUIRE(pos != std::string::npos);
  return std::stoull(log.substr(pos + needle.size()));
}

BOOST_AUTO_TEST_CASE(killed_mid_initial_sync_resumes_without_resending) {
  constexpr std::size_t kRecords = 200'000;
  Cluster c;
  c.seed("a", kRecords);
  auto& a = c.add("a");
  auto& b = c.add("b", {"--log-level", "debug"});
  c.mesh();
  const std::string first = "R000000000";
  const std::string early = "R000010000";
  const std::string last = "R000199999";
  a.start();
  b.start();
  // Kill b as soon as the first batches are in, well before the end: poll
  // without pausing (a get is well under a millisecond).
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!b.api().get({"bench", early}).is_ok() && std::chrono::steady_clock::now() < deadline) {
  }
  b.kill9();
  const std::uint64_t committed = count_records(c.dir / "b", "bench");
  const VersionVector knowledge = committed_knowledge(c.dir / "b");
  BOOST_TEST_MESSAGE("records committed at b when it was killed: " << committed);
  BOOST_REQUIRE_MESSAGE(committed > 0u, "a:\n" << a.log() << "b:\n" << b.log());
  BOOST_REQUIRE(committed < kRecords);

  const std::size_t log_before_restart = b.log().size();
  auto restarted_log = [&] { return b.log().substr(log_before_restart); };
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return b.api().get({"bench", last}).is_ok(); }, 120s),
                        "b:\n" << b.log() << "a:\n" << a.log());
  // Wait for the log line of the end of the sync.
  BOOST_REQUIRE(wait_until([&] {
    const auto log = restarted_log();
    return log.find("records received from it since start") != std::string::npos &&
           last_received_count(log) >= kRecords - committed;
  }, 30s));
  const std::uint64_t resent_run = last_received_count(restarted_log());
  BOOST_TEST_MESSAGE("records received by b after its restart: " << resent_run);
  // Everything missing arrived...
  BOOST_TEST(resent_run >= kRecords - committed);
  // ...and nothing committed before the kill was sent again: a's records have
  // counters 1..N in id order, and every batch b received after its restart
  // continues from a counter at or above b's committed knowledge.
  const NodeId a_origin = [&] {  // the origin of the seeded records: a writer id of a
    auto r = a.api().get({"bench", first});
    BOOST_REQUIRE(r.is_ok());
    return r->dot.origin;
  }();
  const std::string a_hex = node_id_text(a_origin);
  // What b's restarted Pull keeps from being sent again: its knowledge of
  // a's writes, and the records above it it lists as held, at most
  // kMaxPullHeld (docs/replication.md, "Writer ids"). Its knowledge can lie
  // below records it holds: when both nodes dial, the session may move to the
  // other link mid-answer, and a batch of the new link can overtake the last
  // ones of the old, which may then be lost with it (a gap).
  const std::uint64_t known = knowledge.get(a_origin);
  const std::uint64_t kept = std::min<std::uint64_t>(committed, known + kMaxPullHeld);
  // The batches b logged after its restart: base, answer. Those of another
  // answer than the one that ended the sync were in flight when b was killed
  // (sent before a knew): b drops them unapplied.
  struct Logged {
    std::uint64_t base = 0;  // an origin absent from base means 0
    std::string answer;
  };
  std::vector<Logged> logged;
  const std::string log = restarted_log();
  for (auto pos = log.find("base {"); pos != std::string::npos; pos = log.find("base {", pos + 1)) {
    const auto end = log.find('}', pos);
    const std::string vv = log.substr(pos + 6, end - pos - 6);
    Logged batch;
    if (auto at = vv.find(a_hex + ":"); at != std::string::npos) batch.base = std::stoull(vv.substr(at + a_hex.size() + 1));
    const auto answer_at = log.find(" answer ", end);
    BOOST_REQUIRE(answer_at != std::string::npos);
    batch.answer = log.substr(answer_at + 8, log.find_first_of(",\n", answer_at + 8) - answer_at - 8);
    logged.push_back(batch);
  }
  BOOST_REQUIRE(!logged.empty());
  std::uint64_t lowest_base = UINT64_MAX;
  std::size_t batches = 0;
  for (const Logged& batch : logged) {
    if (batch.answer != logged.back().answer) continue;
    lowest_base = std::min(lowest_base, batch.base);
    ++batches;
  }
  BOOST_TEST_MESSAGE(batches << " batches of the answer after the restart, the lowest continuing from counter "
                             << lowest_base << "; " << logged.size() - batches
                             << " batches of the answer before the kill, dropped");
  // Nothing was applied twice: what b counts as received is what its Pull
  // did not keep.
  BOOST_TEST(resent_run == kRecords - kept);
  BOOST_TEST(batches > 0u);
  BOOST_TEST(lowest_base >= known);

  // status counts every record (200,000 here): under a sanitizer on a busy
  // machine that can take longer than the client's 2 s timeout, so ask again.
  auto status_of = [](NodeProcess& n) {
    Result<api::NodeStatus> s = n.api().status();
    for (int i = 0; i < 15 && !s.is_ok() && s.status().code() == Errc::unavailable; ++i) s = n.api().status();
    return s;
  };
  auto sa = status_of(a);
  auto sb = status_of(b);
  BOOST_REQUIRE_MESSAGE(sa.is_ok() && sb.is_ok(), (sa.is_ok() ? sb.status() : sa.status()).to_string());
  BOOST_TEST((sa->knowledge == sb->knowledge));
  BOOST_TEST((sa->collections == sb->collections));
  for (const auto& id : {first, early, last, std::string("R000123456")}) {
    auto ra = a.api().get({"bench", id});
    auto rb = b.api().get({"bench", id});
    BOOST_REQUIRE(ra.is_ok() && rb.is_ok());
    BOOST_TEST((ra->fields == rb->fields));
    BOOST_TEST((ra->dot == rb->dot));
  }
}


// A node restored from an older copy of its data directory and started while
// its peer is down writes under a fresh writer id (docs/replication.md,
// "Writer ids"): its new writes cannot take the dots of the writes the copy
// lacks, so when the peer returns each side gets what the other has.
BOOST_AUTO_TEST_CASE(a_restored_backup_writing_alone_converges_with_nothing_lost) {
  Cluster c;
  auto& a = c.add("a");
  auto& b = c.add("b");
  c.mesh();
  c.start_all();
  const auto names = [](const std::string& prefix) {
    std::vector<std::string> out;
    for (int i = 0; i < 3; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  };
  const auto written = [&](NodeProcess& n, const std::string& prefix) {
    for (const auto& id : names(prefix)) {
      if (!has_name(n, "customers", id, prefix)) return false;
    }
    return true;
  };
  for (const auto& id : names("BEFORE_")) put_name(a, "customers", id, "BEFORE_");
  BOOST_REQUIRE(wait_until([&] { return written(b, "BEFORE_"); }, 15s));
  BOOST_TEST(a.stop() == 0);
  const std::filesystem::path backup = c.dir / "a-backup";
  std::filesystem::copy(a.options().data_dir, backup, std::filesystem::copy_options::recursive);
  a.start();
  for (const auto& id : names("AFTER_BACKUP_")) put_name(a, "customers", id, "AFTER_BACKUP_");
  BOOST_REQUIRE(wait_until([&] { return written(b, "AFTER_BACKUP_"); }, 15s));
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
  std::filesystem::remove_all(a.options().data_dir);
  std::filesystem::copy(backup, a.options().data_dir, std::filesystem::copy_options::recursive);
  a.start();  // alone: b is down
  for (const auto& id : names("WHILE_ALONE_")) put_name(a, "customers", id, "WHILE_ALONE_");
  b.start();
  for (auto* n : {&a, &b}) {
    BOOST_TEST_MESSAGE("waiting for " << n->options().name);
    BOOST_CHECK_MESSAGE(wait_until([&] {
      return written(*n, "BEFORE_") && written(*n, "AFTER_BACKUP_") && written(*n, "WHILE_ALONE_");
    }, 20s), n->options().name << " lacks records; its log:\n" << n->log());
  }
  BOOST_TEST((all_records(a, "customers") == all_records(b, "customers")));
  BOOST_TEST(all_records(a, "customers").size() == 9u);
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
#ifdef SHOPSYNC_INSPECT_BIN  // built with the tools
  const ChildResult diff = run_child({SHOPSYNC_INSPECT_BIN, "diff", a.options().data_dir.string(),
                                      b.options().data_dir.string()}, 30s);
  BOOST_TEST(diff.exit_code == 0, "shopsync-inspect diff:\n" << diff.out << diff.err);
#endif
}

// A node catching up on a large data set shows how far it came: `peers` and
// `status` give records received, an estimated total, rate and ETA while the
// sync runs, the log says it every --progress-log-ms, and it all clears at the end.
BOOST_AUTO_TEST_CASE(catching_up_node_shows_sync_progress) {
  constexpr std::size_t kRecords = 200'000;
  Cluster c;
  c.seed("a", kRecords);
  auto& a = c.add("a");
  auto& b = c.add("b", {"--progress-log-ms", "100"});
  c.mesh();
  a.start();
  b.start();
  // Readings of a's row at b while the sync runs.
  std::vector<api::SyncProgress> readings;
  bool status_showed = false;
  const std::string last = "R000199999";
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    auto peers = b.api().peers();
    BOOST_REQUIRE(peers.is_ok());
    for (const auto& p : peers->peers) {
      if (p.name == "a" && p.syncing) readings.push_back(p.sync);
    }
    if (!status_showed) {
      auto status = b.api().status();
      BOOST_REQUIRE(status.is_ok());
      for (const auto& s : status->syncing) status_showed |= s.peer_name == "a" && s.progress.records_total > 0;
    }
    return b.api().get({"bench", last}).is_ok();
  }, 120s), "b:\n" << b.log());
  BOOST_TEST_MESSAGE(readings.size() << " readings while syncing; first " << readings.front().records_received << " of ~"
                                     << readings.front().records_total << ", last " << readings.back().records_received
                                     << " of ~" << readings.back().records_total << " at " << readings.back().rate
                                     << " rec/s, ETA " << readings.back().eta_ms << " ms");
  BOOST_REQUIRE(readings.size() >= 2u);
  for (const auto& r : readings) {
    BOOST_TEST(r.records_total > 0u);
    BOOST_TEST(r.records_total >= r.records_received);
    BOOST_TEST(r.bytes_received > 0u);
  }
  BOOST_TEST(readings.back().records_received > readings.front().records_received);
  // The estimate counts a's writes b lacks, one per record here: about the data set.
  BOOST_TEST(readings.front().records_total >= kRecords / 2);
  BOOST_TEST(status_showed);
  // The log line, more than once.
  BOOST_TEST(b.log_count("syncing from peer a (") >= 1u, b.log());
  BOOST_TEST(b.log().find(" records (") != std::string::npos);
  // Once in sync, nothing runs any more.
  BOOST_REQUIRE(wait_until([&] {
    auto peers = b.api().peers();
    BOOST_REQUIRE(peers.is_ok());
    for (const auto& p : peers->peers) {
      if (p.name == "a") return !p.syncing && p.sync == api::SyncProgress{};
    }
    return false;
  }, 30s));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
