// The local API's MessagePack shapes (docs/local-api.md): every request and
// answer survives a round trip, and malformed requests are refused with a
// Status that names the problem — never a crash.
#include "api/api_codec.h"

#include <boost/test/unit_test.hpp>

#include <msgpack.hpp>
#include <random>

#include "tests/support/temp_dir.h"

namespace shopsync::api {
namespace {

std::string packed_str(std::string_view s) {
  std::string out;
  out += static_cast<char>(0xa0 | s.size());  // fixstr; tests use short ones
  out += s;
  return out;
}
std::string packed_int(std::uint8_t v) { return std::string(1, static_cast<char>(v)); }

// Packs any msgpack-c-adaptable value (used to hand-build requests).
template <class T>
std::string pack(const T& value) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, value);
  return std::string(buf.data(), buf.size());
}

Request round_trip(const Request& r) {
  DecodedRequest d = decode_request(encode_request(r));
  BOOST_REQUIRE_MESSAGE(d.status, d.status.to_string());
  return Request{d.req_id, d.body};
}

Response answer_round_trip(Op op, const ResponseBody& body) {
  auto r = decode_response(encode_response(7, op, body));
  BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  BOOST_TEST(r->error.is_ok());
  BOOST_TEST((r->req_id == std::optional<std::uint64_t>(7)));
  BOOST_TEST((r->op == op));
  return std::move(r).value();
}

Status refusal(std::string_view bytes) { return decode_request(bytes).status; }

const RecordKey kKey{"customers", "CUST_001"};

BOOST_AUTO_TEST_SUITE(api_codec)

BOOST_AUTO_TEST_CASE(every_request_round_trips) {
  PutRequest put{kKey, {{"name", packed_str("Ada")}, {"age", packed_int(36)}}, PutMode::replace, {}};
  PutRequest patch{kKey, {{"city", packed_str("Lyon")}}, PutMode::patch, {"phone"}};
  ChangesRequest changes;
  changes.since.set(0xabc, 12);
  changes.since.set(0x1, 3);
  changes.collection = "orders";
  changes.limit = 50;
  changes.wait_ms = 25'000;
  ChangesRequest changes_now;
  changes_now.since_now = true;
  ResolveRequest pick{kKey, Dot{0x1234567890abcdefULL, 9}, std::nullopt};
  ResolveRequest merged{kKey, std::nullopt, FieldValues{{"name", packed_str("Ada L.")}}};
  const std::vector<RequestBody> bodies = {
      put, patch, GetRequest{kKey}, DeleteRequest{kKey}, ListRequest{"customers", "CUST_010", 20},
      CollectionsRequest{}, changes, changes_now, ConflictsRequest{"customers", 4, 10}, pick, merged,
      StatusRequest{}, PeersRequest{}, TrustAddRequest{"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "till 2"},
      TrustListRequest{}, TrustRemoveRequest{"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"}, KeyRequest{},
      DiscoveryRequest{}, ForgetPeerRequest{0x00000000000000a1}, TokenCreateRequest{"till-2"}, TokenListRequest{},
      TokenRevokeRequest{"till-2"}};
  std::uint64_t id = 1;
  for (const auto& body : bodies) {
    Request r{id++, body};
    Request back = round_trip(r);
    BOOST_TEST_INFO("op " << to_string(op_of(body)));
    BOOST_TEST((back == r));
  }
  // Without a req_id the answer has none either.
  Request anonymous{std::nullopt, StatusRequest{}};
  BOOST_TEST((round_trip(anonymous) == anonymous));
}

BOOST_AUTO_TEST_CASE(every_answer_round_trips) {
  SiblingView a{Dot{1, 4}, (1'700'000'000'000ULL << 16) | 2, false, false, {{"name", packed_str("Ada")}}};
  SiblingView b{Dot{2, 7}, (1'700'000'000'500ULL << 16), true, true, {}};
  RecordView record{kKey, a.fields, a.dot, a.updated_at, false, true, 2, {a, b}, "manual"};
  RecordView plain{RecordKey{"orders", "O1"}, {{"total", packed_int(99)}}, Dot{1, 5}, 5, false, false, 1, {}, ""};
  ChangesPage changes{{Change{kKey, Dot{1, 4}, 77, false}, Change{plain.key, Dot{2, 9}, 78, true}}, {}, true};
  changes.cursor.set(1, 4);
  changes.cursor.set(2, 9);
  ConflictsPage conflicts{{record}, {ConflictLogEntry{3, kKey, "manual", Dot{2, 7}, true, 99, 2, {a, b}}}, 3};
  NodeStatus status;
  status.node_id = 0xfeedULL;
  status.name = "till-1";
  status.cluster = "acme";
  status.role = "peer";
  status.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  status.version = "0.1.0";
  status.knowledge.set(0xfeed, 12);
  status.counter = 12;
  status.clock = 1234;
  status.collections = {{"customers", 10}, {"orders", 2}};
  status.pending = {PendingChanges{2, "till-2", 3, {{"customers", 2}, {"orders", 1}}}};
  status.syncing = {PeerSync{2, "till-2", SyncProgress{52000, 200000, 5'200'000, 20'000'000, 41000, 3600}}};
  status.open_conflicts = 1;
  status.uptime_ms = 5000;
  status.grant = "orders:rw:branch=north";
  status.grant_needs_restart = true;
  status.grants = 2;
  status.admin_named = true;
  status.grant_problems = "token:x: grant entry 'orders:x': access must be r or rw";
  status.records_refused = 3;
  status.config_reloads = 2;
  status.config_reload_error = "the configuration does not load, keeping the running one: log level 'loud'";
  PeerInfo peer{2, "till-2", "10.0.0.2:7460", "key", "peer", "connected", "mdns", 10, 20, 3, 1500, 100, 50, -42, "",
                4, true, SyncProgress{52000, 200000, 5'200'000, 20'000'000, 41000, 3600}};
  DiscoveryReport discovery;
  discovery.enabled = true;
  discovery.state = "announced";
  discovery.published_name = "till-1 #2";
  discovery.host_name = "shop1.local";
  discovery.publishing_addresses = true;
  discovery.name_conflicts = 1;
  discovery.uptime_ms = 9000;
  discovery.static_peers = 1;
  discovery.interfaces = {{"eth0", 2, {"198.18.0.1", "fe80::1"}, true, true, 14, 2, 30, 28}};
  discovery.peers = {{3, "till-3", "[fe80::3%eth0]:7460", "eth0", "ipv6", "peer", "key", 1, 1, "untrusted", "trust it"}};
  discovery.refused = {{"intruder", "eth0", "other_cluster", "cluster \"x\"", 4}};
  discovery.reconfirmed = {{5, "till-5", "forgotten", 2500, 3}};
  DiscoveryReport off;
  off.off_reason = "turned off (--no-mdns or mdns = false)";

  const std::vector<std::pair<Op, ResponseBody>> answers = {
      {Op::put, WriteResult{Dot{1, 4}, 77}},
      {Op::get, record},
      {Op::list, ListPage{{plain}, std::string("O1")}},
      {Op::list, ListPage{{}, std::nullopt}},
      {Op::collections, CollectionList{{{"customers", 10}}}},
      {Op::changes, changes},
      {Op::conflicts, conflicts},
      {Op::status, status},
      {Op::peers, PeerList{{peer}}},
      {Op::trust_list, TrustedKeyList{{TrustedKey{"k", "n", 5}}, {RevokedKey{"r", 7}}}},
      {Op::trust_add, Done{}},
      {Op::key, PublicKey{"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"}},
      {Op::discovery, discovery},
      {Op::discovery, off},
      {Op::token_create, TokenSecret{"till-2", "sst_00ff"}},
      {Op::token_list, CredentialList{{Credential{"till-2", 1'700'000'000'000}}}},
  };
  for (const auto& [op, body] : answers) {
    BOOST_TEST_INFO("op " << to_string(op));
    Response back = answer_round_trip(op, body);
    BOOST_TEST((back.body == body));
  }
}

BOOST_AUTO_TEST_CASE(errors_carry_code_message_and_req_id) {
  auto r = decode_response(encode_error(9, Op::get, Status::not_found("customers/X does not exist")));
  BOOST_REQUIRE(r);
  BOOST_TEST((r->req_id == std::optional<std::uint64_t>(9)));
  BOOST_TEST((r->error.code() == Errc::not_found));
  BOOST_TEST(r->error.message() == "customers/X does not exist");
  // Every Errc name survives.
  for (int i = 1; i <= static_cast<int>(Errc::unavailable); ++i) {
    const auto code = static_cast<Errc>(i);
    auto e = decode_response(encode_error(std::nullopt, std::nullopt, Status(code, "m")));
    BOOST_REQUIRE(e);
    BOOST_TEST((e->error.code() == code));
  }
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_refused_with_a_reason) {
  // Not MessagePack at all, or not a map.
  BOOST_TEST((refusal("").code() == Errc::protocol));
  BOOST_TEST((refusal("hello world").code() == Errc::protocol));
  BOOST_TEST((refusal(pack(std::vector<int>{1, 2, 3})).code() == Errc::protocol));
  // Trailing bytes after a good request.
  std::string good = encode_request(Request{1, StatusRequest{}});
  BOOST_TEST((refusal(good + "x").code() == Errc::protocol));
  // Every truncation of a good request.
  std::string put = encode_request(Request{1, PutRequest{kKey, {{"a", packed_str("b")}}, PutMode::replace, {}}});
  for (std::size_t n = 0; n < put.size(); ++n) BOOST_TEST(!refusal(put.substr(0, n)).is_ok());
  // Missing or newer version.
  BOOST_TEST((refusal(pack(std::map<std::string, std::string>{{"op", "status"}})).code() == Errc::protocol));
  auto newer = decode_request(std::string(1, static_cast<char>(0x83)) + packed_str("v") + packed_int(2) +
                              packed_str("op") + packed_str("status") + packed_str("req_id") + packed_int(5));
  BOOST_TEST((newer.status.code() == Errc::protocol));
  BOOST_TEST(newer.status.message().find("version 2") != std::string::npos);
  BOOST_TEST((newer.req_id == std::optional<std::uint64_t>(5)));  // the error reply can still be matched
  // Unknown operation.
  auto unknown = decode_request(std::string(1, static_cast<char>(0x82)) + packed_str("v") + packed_int(1) +
                                packed_str("op") + packed_str("drop_table"));
  BOOST_TEST((unknown.status.code() == Errc::invalid_argument));
  BOOST_TEST(unknown.status.message().find("drop_table") != std::string::npos);
}

// Builds {v:1, op:put, collection, id, fields:{name: <value bytes>}} by hand.
std::string put_with_value(std::string_view collection, std::string_view value_bytes) {
  std::string out;
  out += static_cast<char>(0x85);
  out += packed_str("v") + packed_int(1);
  out += packed_str("op") + packed_str("put");
  out += packed_str("collection") + packed_str(collection);
  out += packed_str("id") + packed_str("X1");
  out += packed_str("fields");
  out += static_cast<char>(0x81);
  out += packed_str("name");
  out += value_bytes;
  return out;
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_invalid_argument) {
  BOOST_TEST(decode_request(put_with_value("customers", packed_str("ok"))).status.is_ok());
  // Collection names follow the data model.
  Status bad_name = refusal(put_with_value("Customers!", packed_str("ok")));
  BOOST_TEST((bad_name.code() == Errc::invalid_argument));
  // Ext types are not field values.
  BOOST_TEST((refusal(put_with_value("customers", std::string("\xd4\x01\x02", 3))).code() == Errc::invalid_argument));
  // Strings must be UTF-8.
  BOOST_TEST((refusal(put_with_value("customers", std::string("\xa2\xff\xfe", 3))).code() == Errc::invalid_argument));
  // Nesting beyond the limit.
  std::string deep(200, static_cast<char>(0x91));
  deep += static_cast<char>(0xc0);
  BOOST_TEST(!refusal(put_with_value("customers", deep)).is_ok());
  // A key given twice.
  std::string twice = encode_request(Request{1, GetRequest{kKey}});
  twice[0] = static_cast<char>(static_cast<unsigned char>(twice[0]) + 1);
  twice += packed_str("id") + packed_str("other");
  BOOST_TEST(!refusal(twice).is_ok());
  // Wrong types and contradictions.
  auto resolve_both = ResolveRequest{kKey, Dot{1, 1}, FieldValues{{"a", packed_int(1)}}};
  BOOST_TEST((refusal(encode_request(Request{1, resolve_both})).code() == Errc::invalid_argument));
  auto empty_put = PutRequest{kKey, {}, PutMode::replace, {}};
  BOOST_TEST((refusal(encode_request(Request{1, empty_put})).code() == Errc::invalid_argument));
  auto unset_without_patch = PutRequest{kKey, {{"a", packed_int(1)}}, PutMode::replace, {"b"}};
  // (the encoder drops unset outside patch; build it by hand)
  std::string bytes = encode_request(Request{1, unset_without_patch});
  bytes[0] = static_cast<char>(static_cast<unsigned char>(bytes[0]) + 1);
  bytes += packed_str("unset") + std::string(1, static_cast<char>(0x91)) + packed_str("b");
  BOOST_TEST((refusal(bytes).code() == Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(page_limits_are_clamped_not_refused) {
  ListRequest big{"customers", "", 1'000'000};
  auto d = decode_request(encode_request(Request{1, big}));
  BOOST_REQUIRE(d.status);
  BOOST_TEST(std::get<ListRequest>(d.body).limit == kMaxPageLimit);
  ChangesRequest long_wait;
  long_wait.wait_ms = 3'600'000;
  d = decode_request(encode_request(Request{1, long_wait}));
  BOOST_REQUIRE(d.status);
  BOOST_TEST(std::get<ChangesRequest>(d.body).wait_ms == kMaxWaitMs);
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash_the_decoder) {
  const auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  const std::vector<std::string> seeds = {
      encode_request(Request{1, PutRequest{kKey, {{"a", packed_str("b")}}, PutMode::patch, {"c"}}}),
      encode_request(Request{2, ChangesRequest{}}),
      encode_response(3, Op::get, RecordView{kKey, {{"a", packed_int(1)}}, Dot{1, 1}, 1, false, false, 1, {}, ""}),
  };
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
    (void)decode_request(bytes);
    (void)decode_response(bytes);
  }
  BOOST_TEST_MESSAGE("seed " << seed);
}

BOOST_AUTO_TEST_CASE(errc_names) {
  BOOST_TEST((parse_errc("not_found") == std::optional<Errc>(Errc::not_found)));
  BOOST_TEST(!parse_errc("nope").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::api
