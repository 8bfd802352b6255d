// shopsync-inspect, the real binary, against real data directories built with
// LmdbStore + Replica (cluster_fixture.h): the JSON of every view, the text
// output, and the error cases with their exit codes.
#include <fstream>

#include "storage/key_codec.h"
#include "storage/lmdb.h"
#include "storage/lmdb_store.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/inspect/cluster_fixture.h"
#include "tests/tools/inspect/inspect_support.h"
#include "tools/inspect/exit_codes.h"

namespace shopsync::test {
namespace {

using namespace shopsync::inspect;

const json* find_by(const json& array, const std::string& key, const std::string& value) {
  for (const auto& e : array) {
    if (e.contains(key) && e[key].is_string() && e[key].get<std::string>() == value) return &e;
  }
  return nullptr;
}

BOOST_AUTO_TEST_SUITE(inspect_views)

BOOST_AUTO_TEST_CASE(summary_shows_identity_counts_conflicts_tombstones_and_store) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json doc = inspect_json({f.dir_a.string(), "summary"});
  BOOST_TEST(doc["view"] == "summary");
  BOOST_TEST(doc["source"]["kind"] == "data_dir");
  BOOST_TEST(doc["node"]["id"] == node_id_text(kNodeA));
  BOOST_TEST(doc["node"]["cluster"] == "shop");
  BOOST_TEST(doc["node"]["role"] == "peer");
  BOOST_TEST(doc["node"]["role_source"] == "own_writes");
  BOOST_TEST(doc["knowledge"][node_id_text((*f.a)->writer())] == (*f.a)->knowledge().get((*f.a)->writer()));
  BOOST_TEST(doc["knowledge"][node_id_text((*f.b)->writer())] == (*f.a)->knowledge().get((*f.b)->writer()));
  const json* customers = find_by(doc["collections"], "name", "customers");
  BOOST_REQUIRE(customers);
  BOOST_TEST((*customers)["records"] == 2);     // C1, C2 (C3 is a tombstone)
  BOOST_TEST((*customers)["tombstones"] == 1);  // C3
  BOOST_TEST((*customers)["conflicted"] == 1);  // C1
  BOOST_TEST((*customers)["strategy"] == "manual");
  BOOST_TEST((*customers)["strategy_source"] == "conflict_log");
  const json* orders = find_by(doc["collections"], "name", "orders");
  BOOST_REQUIRE(orders);
  BOOST_TEST((*orders)["records"] == 2);  // O1, O2
  BOOST_TEST(doc["totals"]["conflicts_open"] == 1);
  BOOST_TEST(doc["totals"]["conflict_log_entries"] == 2);  // C1 and C2, each logged once
  BOOST_TEST(doc["totals"]["tombstones"] == 1);
  BOOST_TEST(doc["totals"]["peers"] == 2);  // B and C
  BOOST_TEST(doc["store"]["schema_version"] == kSchemaVersion);
  BOOST_TEST(doc["store"]["map_size"].get<std::uint64_t>() > 0u);
  BOOST_TEST(doc["store"]["used_bytes"].get<std::uint64_t>() > 0u);
  // The map grows on demand: its use is measured against the most it may
  // grow to, never the "100% used" of a map about to grow.
  BOOST_TEST(doc["store"]["max_map_size"].get<std::uint64_t>() >= doc["store"]["map_size"].get<std::uint64_t>());
  BOOST_TEST(doc["store"]["map_use_percent"].get<double>() < 1.0);
  BOOST_TEST(doc["store"]["tables"].size() >= 7u);

  // --strategy overrides what the log says, and the text output names it.
  doc = inspect_json({f.dir_a.string(), "summary", "--strategy", "customers=merge"});
  BOOST_TEST((*find_by(doc["collections"], "name", "customers"))["strategy"] == "merge");
  BOOST_TEST((*find_by(doc["collections"], "name", "customers"))["strategy_source"] == "configured");
  auto text = inspect({"summary", f.dir_a.string()});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find(node_id_text(kNodeA)) != std::string::npos);
  BOOST_TEST(text.out.find("customers") != std::string::npos);
  BOOST_TEST(text.out.find("1 open, 2 in the log") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(peers_show_lag_and_warn_when_the_tombstone_horizon_is_at_risk) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json doc = inspect_json({f.dir_a.string(), "peers"});
  BOOST_TEST(doc["view"] == "peers");
  BOOST_TEST(doc["retention_ms"] == 7ull * 24 * 3600 * 1000);
  BOOST_REQUIRE(doc["peers"].size() == 2u);
  const json* b = find_by(doc["peers"], "node_id", node_id_text(kNodeB));
  const json* c = find_by(doc["peers"], "node_id", node_id_text(kNodeC));
  BOOST_REQUIRE(b);
  BOOST_REQUIRE(c);
  BOOST_TEST((*b)["name"] == "shop-b");
  BOOST_TEST((*b)["found_by"] == "static");
  BOOST_TEST((*b)["state"] == "idle");
  BOOST_TEST((*b)["records_in"] == 4);
  BOOST_TEST((*b)["records_out"] == 9);
  BOOST_TEST((*b)["clock_offset_ms"] == 12);
  BOOST_TEST((*b)["last_seen"]["ms"] == f.now_ms - 6ull * 24 * 3600 * 1000);
  // B's knowledge (as stored in the row) lacks only A's O2.
  BOOST_TEST((*b)["lag_changes"] == 1);
  BOOST_TEST((*b)["lag_ms"].get<std::uint64_t>() >= 60'000u);
  BOOST_TEST((*b)["tombstones_held_back"] == 0);
  // B knows of its own O3, which A has not pulled yet.
  BOOST_TEST((*b)["we_lack_changes"] == 1);
  BOOST_TEST((*b)["sync_progress_percent"].get<double>() < 100.0);
  BOOST_TEST((*b)["horizon_at_risk"] == true);  // not seen for 6 of the 7 days
  BOOST_TEST((*b)["warnings"].dump().find("more than half the tombstone retention") != std::string::npos);

  BOOST_TEST((*c)["found_by"] == "mdns");
  BOOST_TEST((*c)["last_error"] == "connection refused");
  BOOST_TEST((*c)["tombstones_held_back"] == 1);  // C3's 10-day-old tombstone waits for C
  BOOST_TEST((*c)["we_lack_changes"] == 0);
  BOOST_TEST((*c)["sync_progress_percent"] == 100.0);
  BOOST_TEST((*c)["horizon_at_risk"] == true);
  BOOST_TEST((*c)["lag_changes"].get<std::uint64_t>() >= 6u);  // every live version A holds
  const std::string cw = (*c)["warnings"].dump();
  BOOST_TEST(cw.find("holds back 1 tombstone") != std::string::npos);
  BOOST_TEST(cw.find("longer than the tombstone retention") != std::string::npos);
  BOOST_TEST(cw.find("clock offset -7200 ms") != std::string::npos);
  BOOST_TEST(doc["warnings"].size() >= 3u);

  // With a 30-day retention nothing is held back and B is fine.
  doc = inspect_json({f.dir_a.string(), "peers", "--retention", "30d"});
  b = find_by(doc["peers"], "node_id", node_id_text(kNodeB));
  c = find_by(doc["peers"], "node_id", node_id_text(kNodeC));
  BOOST_TEST((*b)["horizon_at_risk"] == false);
  BOOST_TEST((*c)["tombstones_held_back"] == 0);

  auto text = inspect({f.dir_a.string(), "peers"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find("shop-b") != std::string::npos);
  BOOST_TEST(text.out.find("! shop-c") != std::string::npos);
  BOOST_TEST(text.out.find("pulling [") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(record_shows_visible_value_siblings_vector_and_history) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json doc = inspect_json({f.dir_a.string(), "record", "customers", "C1"});
  BOOST_TEST(doc["view"] == "record");
  BOOST_TEST(doc["collection"] == "customers");
  BOOST_TEST(doc["id"] == "C1");
  BOOST_TEST(doc["strategy"] == "manual");
  BOOST_TEST(doc["sibling_count"] == 2);
  // B wrote five seconds later: its value shows.
  BOOST_TEST(doc["visible"]["fields"]["name"] == "Ana from B");
  BOOST_TEST(doc["visible"]["winner"] == dot_text(f.c1_b));
  BOOST_TEST(doc["visible"]["conflicted"] == true);
  BOOST_TEST(doc["visible"]["updated_at"]["time"].get<std::string>().size() == 24u);  // 2026-11-25T14:31:26.123Z
  BOOST_REQUIRE(doc["siblings"].size() == 2u);
  const json* sa = find_by(doc["siblings"], "dot", dot_text(f.c1_a));
  BOOST_REQUIRE(sa);
  BOOST_TEST((*sa)["fields"]["name"] == "Ana from A");
  BOOST_TEST((*sa)["winner"] == false);
  BOOST_TEST(doc["version_vector"][node_id_text(f.c1_a.origin)] == f.c1_a.counter);
  BOOST_TEST(doc["version_vector"][node_id_text(f.c1_b.origin)] == f.c1_b.counter);
  BOOST_REQUIRE(doc["history"].size() == 1u);
  BOOST_TEST(doc["history"][0]["strategy"] == "manual");
  BOOST_TEST(doc["history"][0]["siblings"].size() == 2u);

  // A tombstone is shown as such.
  doc = inspect_json({f.dir_a.string(), "record", "customers", "C3"});
  BOOST_TEST(doc["visible"]["deleted"] == true);
  BOOST_TEST(doc["visible"]["winner"] == dot_text(f.c3_tombstone));

  auto text = inspect({f.dir_a.string(), "record", "customers", "C1"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find("[conflicted: 2 siblings]") != std::string::npos);
  BOOST_TEST(text.out.find("\"Ana from A\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(conflicts_lists_open_and_resolved_with_losing_values) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json doc = inspect_json({f.dir_a.string(), "conflicts"});
  BOOST_TEST(doc["counts"]["open"] == 1);
  BOOST_TEST(doc["counts"]["resolved"] == 1);
  BOOST_TEST(doc["counts"]["log_entries"] == 2);
  BOOST_REQUIRE(doc["open"].size() == 1u);
  const json& open = doc["open"][0];
  BOOST_TEST(open["id"] == "C1");
  BOOST_TEST(open["strategy"] == "manual");
  BOOST_REQUIRE(open["losers"].size() == 1u);
  BOOST_TEST(open["losers"][0]["fields"]["name"] == "Ana from A");
  BOOST_TEST(open["log_seqs"].size() == 1u);
  BOOST_REQUIRE(doc["resolved"].size() == 1u);
  const json& res = doc["resolved"][0];
  BOOST_TEST(res["id"] == "C2");
  BOOST_TEST(res["strategy"] == "manual");
  BOOST_TEST(res["winner"]["fields"]["name"] == "Bo from B");
  BOOST_REQUIRE(res["losers"].size() == 1u);
  BOOST_TEST(res["losers"][0]["dot"] == dot_text(f.c2_loser));
  BOOST_TEST(res["losers"][0]["fields"]["name"] == "Bo from A");
  // Resolved by A's manual write, which carries B's value.
  BOOST_TEST(res["current"]["dot"].get<std::string>().rfind(node_id_text((*f.a)->writer()), 0) == 0u);
  BOOST_TEST(res["current"]["deleted"] == false);

  auto text = inspect({f.dir_a.string(), "conflicts"});
  BOOST_TEST(text.out.find("lost: " + dot_text(f.c2_loser)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(diff_names_the_records_that_differ_and_the_dots_each_side_lacks) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json doc = inspect_json({"diff", f.dir_a.string(), f.dir_b.string()}, kExitDiffers);
  BOOST_TEST(doc["identical"] == false);
  BOOST_TEST(doc["a"]["node_id"] == node_id_text(kNodeA));
  BOOST_TEST(doc["b"]["node_id"] == node_id_text(kNodeB));
  BOOST_TEST(doc["counts"]["differing_records"] == 2);
  BOOST_REQUIRE(doc["a_lacks"]["count"] == 1);
  BOOST_TEST(doc["a_lacks"]["dots"][0]["dot"] == dot_text(f.o3));
  BOOST_TEST(doc["a_lacks"]["dots"][0]["id"] == "O3");
  BOOST_REQUIRE(doc["b_lacks"]["count"] == 1);
  BOOST_TEST(doc["b_lacks"]["dots"][0]["dot"] == dot_text(f.o2));
  const json* o2 = find_by(doc["records"], "id", "O2");
  BOOST_REQUIRE(o2);
  BOOST_TEST((*o2)["status"] == "b_lacks");
  BOOST_TEST((*o2)["in_b"] == false);
  const json* o3 = find_by(doc["records"], "id", "O3");
  BOOST_REQUIRE(o3);
  BOOST_TEST((*o3)["status"] == "a_lacks");
  BOOST_TEST(doc["knowledge_equal"] == false);

  auto text = inspect({"diff", f.dir_a.string(), f.dir_b.string()});
  BOOST_TEST(text.exit_code == kExitDiffers);
  BOOST_TEST(text.out.find("A lacks 1 dot(s):") != std::string::npos);
  BOOST_TEST(text.err.empty());  // no progress bar when stderr is not a terminal

  // Once they sync, the same two directories are identical.
  f.sync();
  doc = inspect_json({"diff", f.dir_a.string(), f.dir_b.string()}, kExitOk);
  BOOST_TEST(doc["identical"] == true);
  BOOST_TEST(doc["records"].empty());
  BOOST_TEST(doc["a_lacks"]["count"] == 0);
}

BOOST_AUTO_TEST_CASE(errors_are_clear_and_have_documented_exit_codes) {
  TempDir tmp;
  // A missing directory.
  auto r = inspect({(tmp / "nowhere").string(), "summary"});
  BOOST_TEST(r.exit_code == kExitNoDataDir);
  BOOST_TEST(r.err.find("no data directory at") != std::string::npos);
  // A file, not a directory.
  { std::ofstream(tmp / "file") << "x"; }
  r = inspect({(tmp / "file").string(), "summary"});
  BOOST_TEST(r.exit_code == kExitNoDataDir);
  // An empty directory: no store.
  std::filesystem::create_directories(tmp / "empty");
  r = inspect({(tmp / "empty").string(), "peers"});
  BOOST_TEST(r.exit_code == kExitNotShopsync);
  BOOST_TEST(r.err.find("no shopsync store") != std::string::npos);
  // An LMDB environment of someone else.
  {
    auto env = lmdb::Env::open(tmp / "foreign", {});
    BOOST_REQUIRE(env);
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    BOOST_REQUIRE(txn);
    auto db = txn->open_db("invoices", true);
    BOOST_REQUIRE(db);
    BOOST_REQUIRE(txn->put(*db, "k", "v"));
    BOOST_REQUIRE(txn->commit());
  }
  r = inspect({(tmp / "foreign").string(), "summary"});
  BOOST_TEST(r.exit_code == kExitNotShopsync);
  BOOST_TEST(r.err.find("not a shopsync store") != std::string::npos);
  // A store written by a newer schema.
  { BOOST_REQUIRE(LmdbStore::open(tmp / "newer")); }
  {
    auto env = lmdb::Env::open(tmp / "newer", {});
    BOOST_REQUIRE(env);
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    BOOST_REQUIRE(txn);
    auto meta = txn->open_db("meta", false);
    BOOST_REQUIRE(meta);
    BOOST_REQUIRE(txn->put(*meta, "schema_version", keys::view(keys::u64(kSchemaVersion + 1))));
    BOOST_REQUIRE(txn->commit());
  }
  r = inspect({(tmp / "newer").string(), "summary"});
  BOOST_TEST(r.exit_code == kExitNewerSchema);
  BOOST_TEST(r.err.find("newer shopsync") != std::string::npos);
  // No node answers.
  r = inspect({"--api", "tcp://127.0.0.1:9", "summary", "--timeout-ms", "300"});
  BOOST_TEST(r.exit_code == kExitUnreachable);
  BOOST_TEST(r.err.find("tcp://127.0.0.1:9: refused: is shopsyncd running?") != std::string::npos, r.err);
  // Usage errors.
  BOOST_TEST(inspect({"summary", "--bogus"}).exit_code == kExitUsage);
  BOOST_TEST(inspect({"record", "customers"}).exit_code == kExitUsage);
  BOOST_TEST(inspect({"diff", (tmp / "empty").string()}).exit_code == kExitUsage);
  BOOST_TEST(inspect({"--api", "not an address at all", "summary"}).exit_code == kExitUsage);
  BOOST_TEST(inspect({"--help"}).exit_code == kExitOk);

  // An unknown record in a real store.
  ClusterFixture f(tmp / "cluster");
  r = inspect({f.dir_a.string(), "record", "customers", "NOBODY"});
  BOOST_TEST(r.exit_code == kExitNotFound);
  BOOST_TEST(r.err.find("no record customers/NOBODY") != std::string::npos);
  // Diffing a directory with itself is refused (LMDB opens a directory once per process).
  BOOST_TEST(inspect({"diff", f.dir_a.string(), f.dir_a.string()}).exit_code == kExitUsage);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
