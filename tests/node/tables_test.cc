// The node's tables (peers, trusted keys), the ZAP decision, reconnect backoff.
#include <map>
#include <random>

#include <msgpack.hpp>

#include <boost/test/unit_test.hpp>

#include "net/zap_handler.h"
#include "net/zmq_socket.h"
#include "node/backoff.h"
#include "node/peer_table.h"
#include "node/trusted_keys.h"
#include "core/version_vector.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/lmdb_store.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

BOOST_AUTO_TEST_SUITE(node_tables)

BOOST_AUTO_TEST_CASE(peer_record_round_trips_and_survives_reopen) {
  PeerRecord p;
  p.node_id = 0xabcdef0123456789ull;
  p.name = "lyon-1";
  p.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  p.address = "10.0.0.2:7460";
  p.role = Role::uplink;
  p.source = PeerSource::mdns;
  p.last_seen_ms = 1700000000000;
  p.last_error = "silent for 5000 ms";
  p.clock_offset_ms = -1234;
  auto back = decode_peer_record(peer_table_key(p.node_id), encode_peer_record(p));
  BOOST_REQUIRE(back.is_ok());
  BOOST_TEST((*back == p));
  BOOST_TEST(!decode_peer_record(peer_table_key(1), encode_peer_record(p)).is_ok());  // wrong key
  BOOST_TEST(!decode_peer_record("x", "\xc1garbage").is_ok());

  test::TempDir dir;
  {
    auto store = LmdbStore::open(dir.path());
    BOOST_REQUIRE(store.is_ok());
    BOOST_REQUIRE((*store)->write([&](StoreWriter& w) {
      SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(p.node_id), encode_peer_record(p)));
      return w.put(Table::peers, "garbage", "\x01\x02");
    }).is_ok());
  }
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE(store.is_ok());
  std::vector<std::string> skipped;
  std::vector<PeerRecord> loaded;
  BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
    auto peers = load_peers(r, &skipped);
    if (!peers) return peers.status();
    loaded = *peers;
    return Status::ok();
  }).is_ok());
  BOOST_REQUIRE(loaded.size() == 1u);
  BOOST_TEST((loaded[0] == p));
  BOOST_TEST(skipped.size() == 1u);
}

// A peers table row as builds before format 2 wrote it: the peer's
// knowledge and counters inside the row, beside the replica's own copy of
// the knowledge in settings.
std::string format_1_row(NodeId id, const std::string& name, std::uint64_t last_seen, std::uint64_t last_sync,
                         const VersionVector& knowledge, std::uint64_t in, std::uint64_t out) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(15);
  pk.pack(1);
  for (const char* s : {name.c_str(), "KEY", "10.0.0.2:7460", "peer", "static"}) pk.pack(std::string(s));
  pk.pack(last_seen);
  pk.pack(last_sync);
  pk.pack_map(static_cast<std::uint32_t>(knowledge.entries().size()));
  for (const auto& [node, counter] : knowledge.entries()) {
    pk.pack(node);
    pk.pack(counter);
  }
  pk.pack(in);
  pk.pack(out);
  pk.pack(7);  // lag
  pk.pack(std::string("silent for 5000 ms"));
  pk.pack(-40);
  pk.pack(id);
  return std::string(buf.data(), buf.size());
}

BOOST_AUTO_TEST_CASE(a_data_dir_of_the_old_layout_opens_with_its_peers_knowledge_and_counters) {
  test::TempDir dir;
  constexpr NodeId kOurs = 0x1111, kLyon = 0xabcdef0123456789ull, kNantes = 0x2222;
  VersionVector lyon_row, lyon_replica, nantes;
  lyon_row.set(0x1111, 4);
  lyon_replica.set(0x1111, 6);  // the replica's copy, saved at its later tick
  nantes.set(kNantes, 3);
  {
    auto store = LmdbStore::open(dir.path());
    BOOST_REQUIRE(store.is_ok());
    ManualClock clock(1'700'000'000'000);
    ReplicaOptions options;
    options.node_id = kOurs;
    BOOST_REQUIRE(Replica::open(**store, clock, options).is_ok());  // the node meta of a used data directory
    BOOST_REQUIRE((*store)->write([&](StoreWriter& w) {
      SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(kLyon), format_1_row(kLyon, "lyon", 1000, 900, lyon_row, 120, 45)));
      SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(kNantes), format_1_row(kNantes, "nantes", 2000, 1900, nantes, 8, 0)));
      // The replica's knowledge of lyon only: it saves what a peer tells it at
      // its next tick, and nantes spoke in the last second before the stop.
      return w.put(Table::settings, "replication/peer/" + peer_table_key(kLyon), version_vector_text(lyon_replica));
    }).is_ok());
  }
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE(store.is_ok());
  auto migrated = migrate_peers_table(**store);
  BOOST_REQUIRE_MESSAGE(migrated.is_ok(), migrated.status().to_string());
  BOOST_TEST(*migrated == 2u);
  auto again = migrate_peers_table(**store);
  BOOST_REQUIRE(again.is_ok());
  BOOST_TEST(*again == 0u);

  ManualClock clock(1'700'000'000'000);
  auto replica = Replica::open(**store, clock, ReplicaOptions{});
  BOOST_REQUIRE_MESSAGE(replica.is_ok(), replica.status().to_string());
  std::map<NodeId, PeerStats> stats;
  for (const auto& p : (*replica)->peers()) stats[p.id] = p;
  BOOST_REQUIRE(stats.size() == 2u);
  BOOST_TEST((stats[kLyon].knowledge == lyon_replica));
  BOOST_TEST(stats[kLyon].records_in == 120u);
  BOOST_TEST(stats[kLyon].records_out == 45u);
  BOOST_TEST(stats[kLyon].last_sync_ms == 900u);
  BOOST_TEST((stats[kNantes].knowledge == nantes));  // holds back tombstone removal as before
  BOOST_TEST(stats[kNantes].records_in == 8u);

  std::vector<PeerRecord> rows;
  BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
    auto peers = load_peers(r);
    if (!peers) return peers.status();
    rows = *peers;
    return Status::ok();
  }).is_ok());
  BOOST_REQUIRE(rows.size() == 2u);
  const PeerRecord& lyon = rows[0].node_id == kLyon ? rows[0] : rows[1];
  BOOST_TEST(lyon.name == "lyon");
  BOOST_TEST(lyon.address == "10.0.0.2:7460");
  BOOST_TEST(lyon.last_seen_ms == 1000u);
  BOOST_TEST(lyon.last_error == "silent for 5000 ms");
  BOOST_TEST(lyon.clock_offset_ms == -40);
  BOOST_TEST((lyon.sync == PeerProgress{}));  // no longer kept in the row

  // What the replica saves is read back whole at the next open.
  BOOST_REQUIRE((*replica)->save_peers().is_ok());
  replica->reset();
  auto reopened = Replica::open(**store, clock, ReplicaOptions{});
  BOOST_REQUIRE(reopened.is_ok());
  for (const auto& p : (*reopened)->peers()) {
    if (p.id == kLyon) BOOST_TEST(p.records_in == 120u);
  }
}

BOOST_AUTO_TEST_CASE(peer_progress_reads_both_formats_and_refuses_garbage) {
  const PeerProgress p{VersionVector{}, 3, 4, 5};
  auto back = decode_peer_progress(encode_peer_progress(p));
  BOOST_REQUIRE(back.is_ok());
  BOOST_TEST((*back == p));
  auto old = decode_peer_progress("0000000000000001:5");
  BOOST_REQUIRE(old.is_ok());
  BOOST_TEST(old->knowledge.get(1) == 5u);
  BOOST_TEST(old->records_in == 0u);
  BOOST_TEST(!decode_peer_progress("0000000000000001:5 x 1 2").is_ok());
  BOOST_TEST(!decode_peer_progress("zz").is_ok());
  BOOST_TEST(!peer_of_progress_key("replication/peer/12"));
  BOOST_TEST(*peer_of_progress_key(peer_progress_key(0xab)) == 0xabu);
}

BOOST_AUTO_TEST_CASE(changes_behind_counts_what_is_missing) {
  VersionVector mine, theirs;
  mine.set(1, 10);
  mine.set(2, 5);
  theirs.set(1, 4);
  theirs.set(3, 9);
  BOOST_TEST(changes_behind(mine, theirs) == 11u);
  BOOST_TEST(changes_behind(theirs, mine) == 9u);
}

BOOST_AUTO_TEST_CASE(trusted_keys_add_list_remove) {
  test::TempDir dir;
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE(store.is_ok());
  auto pair = zmq::make_curve_key_pair();
  BOOST_REQUIRE(pair.is_ok());
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) { return add_trusted_key(w, {pair->public_key, "lyon", 5}); }).is_ok());
  BOOST_TEST(!(*store)->write([&](StoreWriter& w) { return add_trusted_key(w, {"short", "x", 1}); }).is_ok());
  BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
    auto keys = list_trusted_keys(r);
    BOOST_REQUIRE(keys.is_ok());
    BOOST_REQUIRE(keys->size() == 1u);
    BOOST_TEST(((*keys)[0] == TrustedKeyRow{pair->public_key, "lyon", 5}));
    BOOST_TEST(*is_trusted_key(r, pair->public_key));
    return Status::ok();
  }).is_ok());
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) -> Status {
    auto removed = remove_trusted_key(w, pair->public_key);
    BOOST_TEST(*removed);
    return Status::ok();
  }).is_ok());
}

// A revocation is remembered apart from the list, so that the start-up flags
// that name the key do not trust it again; only `trust add` lifts it.
BOOST_AUTO_TEST_CASE(a_revoked_key_is_remembered_until_trusted_again) {
  test::TempDir dir;
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE(store.is_ok());
  auto pair = zmq::make_curve_key_pair();
  BOOST_REQUIRE(pair.is_ok());
  const std::string& key = pair->public_key;
  auto state = [&] {
    std::pair<bool, bool> trusted_revoked;
    BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
      trusted_revoked = {*is_trusted_key(r, key), *is_revoked_key(r, key)};
      return Status::ok();
    }).is_ok());
    return trusted_revoked;
  };
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) { return add_trusted_key(w, {key, "--trust", 5}); }).is_ok());
  BOOST_TEST((state() == std::pair{true, false}));
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) -> Status {
    BOOST_TEST(*revoke_trusted_key(w, key, 6));
    return Status::ok();
  }).is_ok());
  BOOST_TEST((state() == std::pair{false, true}));
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) -> Status {
    BOOST_TEST(!*revoke_trusted_key(w, key, 7));  // revoking again: still revoked, was not trusted
    return Status::ok();
  }).is_ok());
  BOOST_TEST((state() == std::pair{false, true}));
  BOOST_REQUIRE((*store)->write([&](StoreWriter& w) { return trust_key_again(w, {key, "till", 8}); }).is_ok());
  BOOST_TEST((state() == std::pair{true, false}));
}

BOOST_AUTO_TEST_CASE(zap_admits_only_trusted_curve_keys) {
  auto trusted = zmq::make_curve_key_pair();
  auto stranger = zmq::make_curve_key_pair();
  const std::string raw_trusted = *zmq::z85_decode_key(trusted->public_key);
  const std::string raw_stranger = *zmq::z85_decode_key(stranger->public_key);
  auto is_trusted = [&](std::string_view k) { return k == trusted->public_key; };
  auto req = [](const std::string& mech, const std::string& cred) {
    return std::vector<std::string>{"1.0", "7", "shopsync", "127.0.0.1", "", mech, cred};
  };
  auto yes = answer_zap_request(req("CURVE", raw_trusted), is_trusted);
  BOOST_TEST(yes.admitted);
  BOOST_TEST(yes.reply.at(1) == "7");
  BOOST_TEST(yes.reply.at(2) == "200");
  BOOST_TEST(yes.reply.at(4) == trusted->public_key);  // the User-Id of the connection
  auto no = answer_zap_request(req("CURVE", raw_stranger), is_trusted);
  BOOST_TEST(!no.admitted);
  BOOST_TEST(no.reply.at(2) == "400");
  BOOST_TEST(no.client_key == stranger->public_key);
  BOOST_TEST(!answer_zap_request(req("NULL", ""), is_trusted).admitted);
  BOOST_TEST(!answer_zap_request({"1.0"}, is_trusted).admitted);
  BOOST_TEST(!answer_zap_request(req("CURVE", "short"), is_trusted).admitted);
}

BOOST_AUTO_TEST_CASE(backoff_grows_caps_and_jitters) {
  std::mt19937_64 rng(1);
  BackoffPolicy policy;
  for (unsigned failures = 1; failures < 30; ++failures) {
    const double base = std::min<double>(policy.max_ms, policy.initial_ms * std::pow(2.0, std::min(failures - 1, 20u)));
    const auto d = backoff_delay_ms(policy, failures, rng);
    BOOST_TEST(d >= base * 0.75 - 1);
    BOOST_TEST(d <= base * 1.25 + 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
