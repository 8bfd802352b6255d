// The node's tables (peers, trusted keys), the ZAP decision, reconnect backoff.
#include <random>

#include <boost/test/unit_test.hpp>

#include "node/backoff.h"
#include "node/peer_table.h"
#include "node/trusted_keys.h"
#include "node/zap_handler.h"
#include "node/zmq_socket.h"
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
  p.last_sync_ms = 1700000000001;
  p.knowledge.set(1, 5);
  p.records_in = 10;
  p.records_out = 20;
  p.lag_changes = 3;
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
