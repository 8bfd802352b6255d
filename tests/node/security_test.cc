// What a shopsyncd refuses: a stranger's key, a node of another cluster, a
// newer incompatible protocol, and garbage on its sync port; it keeps serving
// its real peers through all of it.
#include <random>

#include <thread>

#include <msgpack.hpp>

#include <boost/test/unit_test.hpp>

#include "net/zmq_socket.h"
#include "node/wire_codec.h"
#include "tests/node/support/node_process.h"
#include "tests/node/support/raw_peer.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

NodeProcess::Options options(TempDir& dir, const std::string& name, const std::string& cluster = "test") {
  NodeProcess::Options o = NodeProcess::Options::named(dir.path(), name);
  o.cluster = cluster;
  return o;
}

BOOST_AUTO_TEST_SUITE(node_security)

BOOST_AUTO_TEST_CASE(a_strangers_key_is_refused) {
  TempDir dir("shopsync-node");
  NodeProcess a(options(dir, "a"));
  NodeProcess b(options(dir, "b"));
  NodeProcess stranger(options(dir, "stranger"));
  peer_each_other(a, b);
  // The stranger knows a's address and key, but a does not trust the stranger's key.
  stranger.options().peers = {a.peer_spec()};
  a.start();
  b.start();
  stranger.start();
  put_name(stranger, "customers", "SECRET", "from the stranger");
  put_name(a, "customers", "MINE", "from a");
  BOOST_REQUIRE(wait_until([&] { return b.api().get({"customers", "MINE"}).is_ok(); }, 15s));
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return a.log_count("key " + stranger.public_key() + " is not trusted") > 0; }, 15s),
                        a.log());
  std::this_thread::sleep_for(1s);
  BOOST_TEST(!a.api().get({"customers", "SECRET"}).is_ok());
  BOOST_TEST(!b.api().get({"customers", "SECRET"}).is_ok());
  BOOST_TEST(!stranger.api().get({"customers", "MINE"}).is_ok());
  auto peers = a.api().peers();
  BOOST_REQUIRE(peers.is_ok());
  for (const auto& p : peers->peers) BOOST_TEST(p.public_key != stranger.public_key());
  // a keeps serving its real peer.
  put_name(b, "customers", "AFTER", "still syncing");
  BOOST_TEST(wait_until([&] { return a.api().get({"customers", "AFTER"}).is_ok(); }, 15s));
}

BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_data_dir_is_refused) {
  TempDir dir("shopsync-node");
  NodeProcess first(options(dir, "a"));
  first.start();
  put_name(first, "customers", "C1", "kept");
  NodeProcess second(options(dir, "a"));
  BOOST_TEST(second.run_expecting_exit(10s) == 1);
  BOOST_TEST(second.log().find("is in use by another shopsyncd (pid ") != std::string::npos, second.log());
  // The owner's pid alone, though its lock file also names its API endpoint.
  BOOST_TEST(second.log().find("(pid " + std::to_string(first.pid()) + ")") != std::string::npos, second.log());
  // The first one is untouched and keeps serving.
  BOOST_TEST(first.api().get({"customers", "C1"}).is_ok());
  BOOST_TEST(first.stop() == 0);
  // Once it has stopped, the directory starts again with everything in it.
  second.start();
  BOOST_TEST(second.api().get({"customers", "C1"}).is_ok());
}

BOOST_AUTO_TEST_CASE(a_node_of_another_cluster_is_refused) {
  TempDir dir("shopsync-node");
  NodeProcess a(options(dir, "a", "lyon"));
  NodeProcess other(options(dir, "other", "paris"));
  a.options().peers = {other.peer_spec()};
  other.options().peers = {a.peer_spec()};
  a.start();
  other.start();
  put_name(a, "customers", "LYON_1", "lyon");
  put_name(other, "customers", "PARIS_1", "paris");
  // Both sides say why, whichever dialed.
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    return a.log_count("cluster 'paris'") > 0 && other.log_count("cluster 'lyon'") > 0;
  }, 15s), a.log() << other.log());
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(!a.api().get({"customers", "PARIS_1"}).is_ok());
  BOOST_TEST(!other.api().get({"customers", "LYON_1"}).is_ok());
  // And a data directory pinned to one cluster refuses to start in another.
  BOOST_TEST(a.stop() == 0);
  a.options().cluster = "paris";
  a.options().peers.clear();
  const std::size_t before = a.log().size();
  BOOST_TEST(a.run_expecting_exit(10s) == 1);
  BOOST_TEST(a.log().substr(before).find("belongs to cluster 'lyon'") != std::string::npos, a.log());
}

BOOST_AUTO_TEST_CASE(garbage_on_the_sync_port_gets_errors_and_the_node_keeps_serving) {
  TempDir dir("shopsync-node");
  auto keys = zmq::make_curve_key_pair();
  BOOST_REQUIRE(keys.is_ok());
  NodeProcess a(options(dir, "a"));
  NodeProcess b(options(dir, "b"));
  a.options().peers = {b.peer_spec()};
  a.options().trust = {keys->public_key};
  b.options().peers = {a.peer_spec()};
  a.start();
  b.start();
  RawClient client(a, *keys);
  std::mt19937_64 rng(test_seed());

  // Before HELLO: a replication message is refused.
  client.send(wire::encode(Credit{1}));
  BOOST_TEST(client.receive_error().code == static_cast<std::uint32_t>(wire::ErrorCode::not_ready));

  // Random bytes, truncated frames, trailing bytes, unknown types, deep nesting.
  const std::string valid = wire::encode(Notify{});
  for (int i = 0; i < 100; ++i) {
    std::string bytes(1 + rng() % 200, '\0');
    for (auto& ch : bytes) ch = static_cast<char>(rng());
    client.send(bytes);
    client.receive_error();
  }
  for (std::size_t n = 0; n < valid.size(); ++n) {
    client.send(valid.substr(0, n));
    BOOST_TEST(client.receive_error().code == static_cast<std::uint32_t>(wire::ErrorCode::malformed));
  }
  client.send(valid + "tail");
  BOOST_TEST(client.receive_error().code == static_cast<std::uint32_t>(wire::ErrorCode::malformed));
  {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer>(body).pack_array(0);
    msgpack::sbuffer frame;
    msgpack::packer<msgpack::sbuffer> p(frame);
    p.pack_array(4);
    p.pack_uint32(1);
    p.pack_uint32(77);
    p.pack_uint32(0);
    p.pack_bin(static_cast<std::uint32_t>(body.size()));
    p.pack_bin_body(body.data(), static_cast<std::uint32_t>(body.size()));
    client.send({frame.data(), frame.size()});
    BOOST_TEST(client.receive_error().code == static_cast<std::uint32_t>(wire::ErrorCode::unknown_type));
  }
  {
    msgpack::sbuffer deep;
    msgpack::packer<msgpack::sbuffer> p(deep);
    for (int i = 0; i < 5000; ++i) p.pack_array(1);
    p.pack_nil();
    client.send({deep.data(), deep.size()});
    client.receive_error();
  }

  // A HELLO of another cluster, then of a newer incompatible protocol.
  wire::Hello hello;
  hello.cluster = "elsewhere";
  hello.node_id = 0x5eed;
  hello.name = "raw";
  client.send(wire::encode(hello));
  BOOST_TEST(client.receive_error().code == static_cast<std::uint32_t>(wire::ErrorCode::wrong_cluster));
  RawClient newer(a, *keys);
  hello.cluster = "test";
  hello.protocol_min = 5;
  hello.protocol_max = 6;
  newer.send(wire::encode(hello));
  auto refusal = newer.receive_error();
  BOOST_TEST(refusal.code == static_cast<std::uint32_t>(wire::ErrorCode::unsupported_version));
  const std::string range = std::to_string(wire::kProtocolMin) + ".." + std::to_string(wire::kProtocolMax);
  BOOST_TEST(refusal.text.find("this node speaks " + range) != std::string::npos, refusal.text);
  BOOST_TEST(a.log_count("no common protocol version") >= 1u);

  // A well-behaved raw peer (its clock is right) still gets a HELLO back.
  RawClient good(a, *keys);
  hello.protocol_min = 1;
  hello.protocol_max = 1;
  hello.node_id = 0x600d;
  hello.clock_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count());
  good.send(wire::encode(hello));
  auto answer = good.receive();
  BOOST_REQUIRE(std::holds_alternative<wire::Hello>(answer));
  BOOST_TEST(std::get<wire::Hello>(answer).cluster == "test");

  // And the node still serves its API and its real peer.
  BOOST_TEST(a.running());
  put_name(a, "customers", "STILL_HERE", "yes");
  BOOST_TEST(wait_until([&] { return b.api().get({"customers", "STILL_HERE"}).is_ok(); }, 15s));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
