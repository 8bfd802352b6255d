// The local API end to end in one process: ApiServer + RecordService over a
// real LmdbStore, spoken to through real ZeroMQ sockets by ApiClient (and by
// raw REQ/DEALER sockets for what a foreign client may send).
#include "api/api_server.h"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <future>
#include <thread>

#include "api/api_client.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/api_test_node.h"

namespace shopsync::test {
namespace {

using namespace shopsync::api;

std::string str(std::string_view s) {  // MessagePack str (short)
  std::string out(1, static_cast<char>(0xa0 | s.size()));
  return out + std::string(s);
}
std::string uint8(std::uint8_t v) { return std::string(1, static_cast<char>(v)); }

struct Fixture {
  TempDir dir{"shopsync-api"};
  std::unique_ptr<TestNode> node;
  std::unique_ptr<ServingNode> serving;
  std::optional<ApiClient> client;

  explicit Fixture(TestNodeOptions options = {}, const std::string& address = "tcp://127.0.0.1:0",
                   ApiServerOptions server_options = {}) {
    auto n = TestNode::open(dir / "node", options);
    BOOST_REQUIRE_MESSAGE(n, n.status().to_string());
    node = std::move(n).value();
    auto s = ServingNode::start(*node, address, server_options);
    BOOST_REQUIRE_MESSAGE(s, s.status().to_string());
    serving = std::move(s).value();
    client.emplace(connect());
  }

  ApiClient connect() {
    auto c = ApiClient::connect(serving->endpoint(), ApiClientOptions{std::chrono::milliseconds(20'000)});
    BOOST_REQUIRE_MESSAGE(c, c.status().to_string());
    return std::move(c).value();
  }

  ApiClient& api() { return *client; }

  WriteResult put(const std::string& collection, const std::string& id, FieldValues fields,
                  PutMode mode = PutMode::replace, std::vector<std::string> unset = {}) {
    auto r = api().put(PutRequest{{collection, id}, std::move(fields), mode, std::move(unset)});
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    return *r;
  }
};

BOOST_AUTO_TEST_SUITE(api_server)

BOOST_AUTO_TEST_CASE(put_then_get_returns_the_same_values) {
  Fixture f;
  const std::string nested = std::string(1, static_cast<char>(0x82)) + str("a") + uint8(1) + str("b") +
                             std::string(1, static_cast<char>(0x92)) + uint8(2) + str("x");
  const std::string binary = std::string("\xc4\x03\x00\xff\x10", 5);
  FieldValues fields{{"name", str("Ada")}, {"age", uint8(36)}, {"nested", nested}, {"blob", binary},
                     {"none", std::string(1, static_cast<char>(0xc0))}};
  WriteResult w = f.put("customers", "CUST_001", fields);
  BOOST_TEST(w.dot.origin == f.node->replica().writer());
  auto got = f.api().get({"customers", "CUST_001"});
  BOOST_REQUIRE_MESSAGE(got, got.status().to_string());
  BOOST_TEST((got->fields == fields));
  BOOST_TEST((got->dot == w.dot));
  BOOST_TEST(!got->conflicted);
  BOOST_TEST(got->sibling_count == 1u);
}

BOOST_AUTO_TEST_CASE(patch_changes_only_the_named_fields) {
  Fixture f;
  f.put("customers", "C1", {{"name", str("Ada")}, {"city", str("Lyon")}, {"phone", str("06")}});
  f.put("customers", "C1", {{"city", str("Paris")}}, PutMode::patch, {"phone"});
  auto got = f.api().get({"customers", "C1"});
  BOOST_REQUIRE(got);
  BOOST_TEST((got->fields == FieldValues{{"name", str("Ada")}, {"city", str("Paris")}}));
  // A whole-record put replaces everything.
  f.put("customers", "C1", {{"name", str("Bob")}});
  got = f.api().get({"customers", "C1"});
  BOOST_REQUIRE(got);
  BOOST_TEST((got->fields == FieldValues{{"name", str("Bob")}}));
}

BOOST_AUTO_TEST_CASE(missing_and_deleted_records_are_not_found) {
  Fixture f;
  BOOST_TEST((f.api().get({"customers", "nobody"}).status().code() == Errc::not_found));
  BOOST_TEST((f.api().remove({"customers", "nobody"}).status().code() == Errc::not_found));
  f.put("customers", "C1", {{"name", str("Ada")}});
  auto removed = f.api().remove({"customers", "C1"});
  BOOST_REQUIRE_MESSAGE(removed, removed.status().to_string());
  auto got = f.api().get({"customers", "C1"});
  BOOST_TEST((got.status().code() == Errc::not_found));
  BOOST_TEST(got.status().message().find("customers/C1") != std::string::npos);
  BOOST_TEST((f.api().remove({"customers", "C1"}).status().code() == Errc::not_found));
}

BOOST_AUTO_TEST_CASE(bad_input_is_rejected_and_nothing_is_lost) {
  Fixture f;
  f.put("customers", "C1", {{"name", str("Ada")}});
  // An id over 256 bytes and a bad collection are refused by the codec.
  auto r = f.api().put(PutRequest{{"customers", std::string(300, 'x')}, {{"a", uint8(1)}}, PutMode::replace, {}});
  BOOST_TEST((r.status().code() == Errc::invalid_argument));
  // A record over the size limit is refused by the store.
  auto big = f.api().put(PutRequest{{"customers", "C1"},
                                    {{"blob", std::string("\xc6\x00\x20\x00\x00", 5) + std::string(2 << 20, 'z')}},
                                    PutMode::replace,
                                    {}});
  BOOST_TEST(!big.is_ok());
  BOOST_TEST_MESSAGE("too large: " << big.status().to_string());
  auto got = f.api().get({"customers", "C1"});
  BOOST_REQUIRE(got);
  BOOST_TEST((got->fields == FieldValues{{"name", str("Ada")}}));
}

BOOST_AUTO_TEST_CASE(list_pages_in_id_order_and_skips_deleted) {
  Fixture f;
  for (int i = 0; i < 25; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "C%03d", i);
    f.put("customers", id, {{"n", uint8(static_cast<std::uint8_t>(i))}});
  }
  f.put("orders", "O1", {{"total", uint8(5)}});
  BOOST_REQUIRE(f.api().remove({"customers", "C005"}));
  std::vector<std::string> seen;
  ListRequest request{"customers", "", 10};
  int pages = 0;
  for (;;) {
    auto page = f.api().list(request);
    BOOST_REQUIRE_MESSAGE(page, page.status().to_string());
    BOOST_TEST(page->records.size() <= 10u);
    for (const auto& r : page->records) seen.push_back(r.key.id);
    ++pages;
    if (!page->next_after) break;
    request.after = *page->next_after;
    BOOST_REQUIRE(pages < 10);
  }
  BOOST_TEST(pages == 3);
  BOOST_TEST(seen.size() == 24u);
  BOOST_TEST(std::is_sorted(seen.begin(), seen.end()));
  BOOST_TEST((std::find(seen.begin(), seen.end(), "C005") == seen.end()));
  auto collections = f.api().collections();
  BOOST_REQUIRE(collections);
  BOOST_TEST((collections->collections == std::vector<CollectionCount>{{"customers", 24}, {"orders", 1}}));
}

BOOST_AUTO_TEST_CASE(changes_feed_lists_writes_after_a_cursor) {
  Fixture f;
  f.put("customers", "C1", {{"n", uint8(1)}});
  ChangesRequest from_start;
  auto all = f.api().changes(from_start);
  BOOST_REQUIRE(all);
  BOOST_TEST(all->changes.size() == 1u);
  ChangesRequest now;
  now.since_now = true;
  auto start = f.api().changes(now);
  BOOST_REQUIRE(start);
  BOOST_TEST(start->changes.empty());
  f.put("customers", "C2", {{"n", uint8(2)}});
  f.put("orders", "O1", {{"n", uint8(3)}});
  BOOST_REQUIRE(f.api().remove({"customers", "C1"}));
  ChangesRequest after{start->cursor, false, "", 100, 0};
  auto page = f.api().changes(after);
  BOOST_REQUIRE(page);
  BOOST_REQUIRE(page->changes.size() == 3u);
  BOOST_TEST(page->changes[0].key.id == "C2");
  BOOST_TEST(page->changes[1].key.id == "O1");
  BOOST_TEST(page->changes[2].key.id == "C1");
  BOOST_TEST(page->changes[2].deleted);
  // Filtered by collection, and paged with a small limit.
  after.collection = "customers";
  after.limit = 1;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    auto p = f.api().changes(after);
    BOOST_REQUIRE(p);
    for (const auto& c : p->changes) ids.push_back(c.key.id);
    after.since = p->cursor;
    if (!p->more) break;
  }
  BOOST_TEST((ids == std::vector<std::string>{"C2", "C1"}));
  // At the end nothing more.
  auto end = f.api().changes(after);
  BOOST_REQUIRE(end);
  BOOST_TEST(end->changes.empty());
}

BOOST_AUTO_TEST_CASE(a_parked_watch_is_answered_by_a_write) {
  Fixture f;
  ChangesRequest now;
  now.since_now = true;
  auto start = f.api().changes(now);
  BOOST_REQUIRE(start);
  // The watcher's request parks until a change comes.
  ApiClient watcher = f.connect();
  ChangesRequest wait{start->cursor, false, "", 100, 30'000};
  auto answer = std::async(std::launch::async, [&] { return watcher.changes(wait); });
  for (int i = 0; i < 2000; ++i) {
    std::size_t parked = 0;
    f.serving->run([&](ApiServer& server, TestNode&) { parked = server.stats().parked; });
    if (parked == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  f.put("customers", "LIVE", {{"n", uint8(1)}});
  auto page = answer.get();
  BOOST_REQUIRE_MESSAGE(page, page.status().to_string());
  BOOST_REQUIRE(page->changes.size() == 1u);
  BOOST_TEST(page->changes[0].key.id == "LIVE");
  // A wait that sees nothing ends with an empty page and the same cursor.
  ChangesRequest short_wait{page->cursor, false, "", 100, 50};
  auto quiet = f.api().changes(short_wait);
  BOOST_REQUIRE(quiet);
  BOOST_TEST(quiet->changes.empty());
  BOOST_TEST((quiet->cursor == page->cursor));
}

BOOST_AUTO_TEST_CASE(waiting_requests_beyond_the_cap_are_told_to_back_off) {
  ApiServerOptions options;
  options.max_parked = 1;
  Fixture f(TestNodeOptions{}, "tcp://127.0.0.1:0", options);
  ApiClient first = f.connect();
  ChangesRequest wait;
  wait.since_now = true;
  wait.wait_ms = 30'000;
  auto parked = std::async(std::launch::async, [&] { return first.changes(wait); });
  for (int i = 0; i < 2000; ++i) {
    std::size_t n = 0;
    f.serving->run([&](ApiServer& server, TestNode&) { n = server.stats().parked; });
    if (n == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto refused = f.api().changes(wait);
  BOOST_TEST((refused.status().code() == Errc::unavailable));
  // A request that does not wait is still answered, and a write wakes the first.
  ChangesRequest look;
  BOOST_TEST(f.api().changes(look).is_ok());
  f.put("customers", "C1", {{"n", uint8(1)}});
  auto woken = parked.get();
  BOOST_REQUIRE_MESSAGE(woken, woken.status().to_string());
  BOOST_TEST(woken->changes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stopping_node_answers_the_requests_it_holds_with_an_error) {
  Fixture f;
  ApiClient watcher = f.connect();
  ChangesRequest wait;
  wait.since_now = true;
  wait.wait_ms = 30'000;
  auto answer = std::async(std::launch::async, [&] { return watcher.changes(wait); });
  bool parked = false;
  for (int i = 0; i < 2000 && !parked; ++i) {
    f.serving->run([&](ApiServer& server, TestNode&) { parked = server.stats().parked == 1; });
    if (!parked) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  BOOST_REQUIRE(parked);
  f.serving->run([](ApiServer& server, TestNode&) { server.refuse_all(Status(Errc::unavailable, "the node is stopping")); });
  // Answered now, with the reason, not left to time out.
  auto page = answer.get();
  BOOST_TEST((page.status().code() == Errc::unavailable));
  BOOST_TEST(page.status().message().find("the node is stopping") != std::string::npos, page.status().to_string());
}

BOOST_AUTO_TEST_CASE(conflicts_are_listed_and_resolved_by_pick_or_by_fields) {
  TestNodeOptions options;
  options.strategies = {{"notes", StrategyKind::manual}};
  Fixture f(options);
  TempDir other_dir{"shopsync-api-other"};
  TestNodeOptions other_options = options;
  other_options.id = 2;
  auto other = TestNode::open(other_dir / "node", other_options);
  BOOST_REQUIRE_MESSAGE(other, other.status().to_string());
  // The same two records written on both nodes without talking, then synced.
  f.put("notes", "N1", {{"text", str("from-1")}});
  f.put("notes", "N2", {{"text", str("one")}});
  VectorOutbox out;
  BOOST_REQUIRE((*other)->replica().put({"notes", "N1"}, FieldUpdate{{{"text", str("from-2")}}, true}, out));
  BOOST_REQUIRE((*other)->replica().put({"notes", "N2"}, FieldUpdate{{{"text", str("two")}}, true}, out));
  Status synced;
  f.serving->run([&](ApiServer& server, TestNode& node) {
    synced = sync_nodes(node, **other);
    server.notify_changes();
  });
  BOOST_REQUIRE_MESSAGE(synced, synced.to_string());

  auto got = f.api().get({"notes", "N1"});
  BOOST_REQUIRE(got);
  BOOST_TEST(got->conflicted);
  BOOST_REQUIRE(got->siblings.size() == 2u);
  auto page = f.api().conflicts(ConflictsRequest{});
  BOOST_REQUIRE_MESSAGE(page, page.status().to_string());
  BOOST_TEST(page->open.size() == 2u);
  BOOST_TEST(page->log.size() >= 2u);
  BOOST_TEST(page->open[0].strategy == "manual");

  // Pick node 2's version of N1.
  Dot theirs;
  for (const auto& s : got->siblings) {
    if (s.dot.origin == (*other)->replica().writer()) theirs = s.dot;
  }
  auto picked = f.api().resolve(ResolveRequest{{"notes", "N1"}, theirs, std::nullopt});
  BOOST_REQUIRE_MESSAGE(picked, picked.status().to_string());
  got = f.api().get({"notes", "N1"});
  BOOST_REQUIRE(got);
  BOOST_TEST(!got->conflicted);
  BOOST_TEST((got->fields == FieldValues{{"text", str("from-2")}}));
  // Supply merged fields for N2.
  auto merged = f.api().resolve(ResolveRequest{{"notes", "N2"}, std::nullopt, FieldValues{{"text", str("one+two")}}});
  BOOST_REQUIRE_MESSAGE(merged, merged.status().to_string());
  got = f.api().get({"notes", "N2"});
  BOOST_REQUIRE(got);
  BOOST_TEST((got->fields == FieldValues{{"text", str("one+two")}}));
  // Nothing open any more; the log keeps its entries for good.
  auto after = f.api().conflicts(ConflictsRequest{});
  BOOST_REQUIRE(after);
  BOOST_TEST(after->open.empty());
  BOOST_TEST(after->log.size() == page->log.size());
  // A dot that is no sibling is refused.
  auto bad = f.api().resolve(ResolveRequest{{"notes", "N1"}, Dot{9, 9}, std::nullopt});
  BOOST_TEST(!bad.is_ok());
}

BOOST_AUTO_TEST_CASE(status_counts_records_and_pending_changes_per_peer) {
  Fixture f;
  TempDir other_dir{"shopsync-api-other"};
  TestNodeOptions other_options;
  other_options.id = 2;
  auto other = TestNode::open(other_dir / "node", other_options);
  BOOST_REQUIRE(other);
  f.put("customers", "C1", {{"n", uint8(1)}});
  Status synced;
  f.serving->run([&](ApiServer&, TestNode& node) { synced = sync_nodes(node, **other); });
  BOOST_REQUIRE(synced);
  // Written after the peer last synced: pending toward it.
  f.put("customers", "C2", {{"n", uint8(2)}});
  f.put("orders", "O1", {{"n", uint8(3)}});
  auto status = f.api().status();
  BOOST_REQUIRE_MESSAGE(status, status.status().to_string());
  BOOST_TEST(status->node_id == f.node->id());
  BOOST_TEST(status->cluster == "test");
  BOOST_TEST(status->name == "test-node");
  BOOST_TEST((status->collections == std::vector<CollectionCount>{{"customers", 2}, {"orders", 1}}));
  BOOST_TEST(status->knowledge.get(f.node->replica().writer()) == 3u);
  BOOST_TEST(status->counter == 3u);  // writes made at this node
  BOOST_REQUIRE(status->pending.size() == 1u);
  BOOST_TEST(status->pending[0].peer == 2u);
  BOOST_TEST(status->pending[0].total == 2u);
  BOOST_TEST((status->pending[0].per_collection == std::map<std::string, std::uint64_t>{{"customers", 1}, {"orders", 1}}));
  auto peers = f.api().peers();
  BOOST_REQUIRE(peers);
  BOOST_REQUIRE(peers->peers.size() == 1u);
  BOOST_TEST(peers->peers[0].node_id == 2u);
  BOOST_TEST(peers->peers[0].lag_changes == 2u);
  BOOST_TEST(peers->peers[0].state == "disconnected");
}

BOOST_AUTO_TEST_CASE(trust_and_key_go_to_the_backend) {
  Fixture f;
  const std::string key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
  BOOST_TEST((f.api().trust(TrustAddRequest{"short", ""}).code() == Errc::invalid_argument));
  BOOST_REQUIRE(f.api().trust(TrustAddRequest{key, "till 2"}));
  auto keys = f.api().trusted_keys();
  BOOST_REQUIRE(keys);
  BOOST_REQUIRE(keys->keys.size() == 1u);
  BOOST_TEST(keys->keys[0].name == "till 2");
  BOOST_REQUIRE(f.api().distrust(key));
  BOOST_TEST((f.api().distrust(key).code() == Errc::not_found));
  auto own = f.api().public_key();
  BOOST_REQUIRE(own);
  BOOST_TEST(own->key == kTestNodeKey);
}

// Sends raw frames on a DEALER and returns the decoded answer.
Response raw_call(const std::string& endpoint, const std::vector<std::string>& frames) {
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  BOOST_REQUIRE(zmq_connect(sock, endpoint.c_str()) == 0);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    zmq_send(sock, frames[i].data(), frames[i].size(), i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
  }
  std::string last;
  zmq_pollitem_t item{sock, 0, ZMQ_POLLIN, 0};
  BOOST_REQUIRE_MESSAGE(zmq_poll(&item, 1, 20'000) == 1, "no answer");
  for (;;) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    BOOST_REQUIRE(zmq_msg_recv(&msg, sock, 0) >= 0);
    last.assign(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    const bool more = zmq_msg_more(&msg) != 0;
    zmq_msg_close(&msg);
    if (!more) break;
  }
  zmq_close(sock);
  zmq_ctx_term(ctx);
  auto r = decode_response(last);
  BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  return std::move(r).value();
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_errors_and_the_server_keeps_serving) {
  Fixture f;
  const auto& ep = f.serving->endpoint();
  BOOST_TEST((raw_call(ep, {"", "not msgpack"}).error.code() == Errc::protocol));
  BOOST_TEST((raw_call(ep, {"", ""}).error.code() == Errc::protocol));
  BOOST_TEST((raw_call(ep, {"", std::string("\xdf\xff\xff\xff\xff", 5)}).error.code() == Errc::protocol));
  // No delimiter frame (a bare DEALER) works as well.
  auto bare = raw_call(ep, {encode_request(Request{4, StatusRequest{}})});
  BOOST_TEST(bare.error.is_ok());
  BOOST_TEST((bare.req_id == std::optional<std::uint64_t>(4)));
  // Unknown op, with its req_id echoed.
  const std::string unknown = std::string(1, static_cast<char>(0x83)) + str("v") + uint8(1) + str("op") +
                              str("explode") + str("req_id") + uint8(77);
  auto u = raw_call(ep, {"", unknown});
  BOOST_TEST((u.error.code() == Errc::invalid_argument));
  BOOST_TEST((u.req_id == std::optional<std::uint64_t>(77)));
  // Too many envelope frames.
  std::vector<std::string> many(12, "x");
  many.push_back(encode_request(Request{1, StatusRequest{}}));
  BOOST_TEST((raw_call(ep, many).error.code() == Errc::protocol));
  // Still serving.
  f.put("customers", "C1", {{"n", uint8(1)}});
  BOOST_TEST(f.api().get({"customers", "C1"}).is_ok());
}

BOOST_AUTO_TEST_CASE(a_req_socket_is_answered_too) {
  Fixture f;
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_REQ);
  int linger = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  BOOST_REQUIRE(zmq_connect(sock, f.serving->endpoint().c_str()) == 0);
  const std::string request = encode_request(Request{1, KeyRequest{}});
  BOOST_REQUIRE(zmq_send(sock, request.data(), request.size(), 0) >= 0);
  zmq_pollitem_t item{sock, 0, ZMQ_POLLIN, 0};
  BOOST_REQUIRE(zmq_poll(&item, 1, 20'000) == 1);
  char buf[4096];
  const int n = zmq_recv(sock, buf, sizeof buf, 0);
  BOOST_REQUIRE(n > 0);
  auto r = decode_response(std::string_view(buf, static_cast<std::size_t>(n)));
  BOOST_REQUIRE(r);
  BOOST_TEST(std::get<PublicKey>(r->body).key == kTestNodeKey);
  zmq_close(sock);
  zmq_ctx_term(ctx);
}

BOOST_AUTO_TEST_CASE(an_ipc_address_works) {
  TempDir sock_dir{"shopsync-ipc"};
  Fixture f(TestNodeOptions{}, "ipc://" + (sock_dir / "api.sock").string());
  f.put("customers", "C1", {{"n", uint8(1)}});
  BOOST_TEST(f.api().get({"customers", "C1"}).is_ok());
}

// Nothing listens: said at once (the timeout is an hour), with the address.
BOOST_AUTO_TEST_CASE(an_absent_node_is_reported_at_once_with_the_address) {
  auto c = ApiClient::connect("tcp://127.0.0.1:1", ApiClientOptions{std::chrono::hours(1)});
  BOOST_REQUIRE(c);
  auto s = c->status();
  BOOST_TEST((s.status().code() == Errc::unavailable));
  BOOST_TEST(s.status().message() == "connecting to tcp://127.0.0.1:1: refused: is shopsyncd running?");
  BOOST_TEST((ApiClient::connect("nonsense").status().code() == Errc::invalid_argument));
}

// Something accepts the connection but never answers: the wait is named.
BOOST_AUTO_TEST_CASE(a_silent_listener_is_reported_with_the_address_and_the_wait) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_REQUIRE(::listen(listener, 4) == 0);
  BOOST_REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string address = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto c = ApiClient::connect(address, ApiClientOptions{std::chrono::milliseconds(300)});
  BOOST_REQUIRE(c);
  auto s = c->status();
  BOOST_TEST((s.status().code() == Errc::unavailable));
  BOOST_TEST(s.status().message() == "connecting to " + address + ": no answer within 300 ms");
  ::close(listener);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
