// A dial that fails says why in `shopsync peers` (last_error) and the log,
// instead of "no answer to HELLO": nothing listens at the address; the peer
// refused our key; the host drops our connection attempts. Real shopsyncd
// processes on loopback (the other reasons, which need names and routes, are
// in dial_probe_test.cc).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The last_error of the peers row for `address` ("127.0.0.1:PORT"), once it
// contains `expected` (else the last one seen).
std::string wait_for_last_error(NodeProcess& node, const std::string& address, const std::string& expected) {
  std::string seen;
  wait_until(
      [&] {
        auto peers = node.api().peers();
        if (!peers) return false;
        for (const auto& p : peers->peers) {
          if (contains(p.address, address)) seen = p.last_error;
        }
        return contains(seen, expected);
      },
      20s);
  return seen;
}

BOOST_AUTO_TEST_SUITE(node_dial_failures)

BOOST_AUTO_TEST_CASE(a_peer_where_nothing_listens_reads_connection_refused) {
  TempDir tmp;
  const std::string key = node_public_key(tmp.path() / "never-started");
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  auto o = NodeProcess::Options::named(tmp.path(), "a");
  o.peers = {key + "@" + address};
  NodeProcess a(o);
  a.start();
  // The node's own probe names the address and tells a refusal from an
  // unreachable host (node/dial_probe.h).
  const std::string refused = "connection refused by " + address + " (nothing listens on that port)";
  const std::string why = wait_for_last_error(a, address, refused);
  BOOST_TEST(contains(why, refused), why);
  BOOST_TEST(contains(a.log(), refused), a.log());
}

BOOST_AUTO_TEST_CASE(a_peer_that_does_not_trust_our_key_reads_the_peer_refused_our_key) {
  TempDir tmp;
  NodeProcess b(NodeProcess::Options::named(tmp.path(), "b"));  // trusts nobody
  b.start();
  auto o = NodeProcess::Options::named(tmp.path(), "a");
  o.peers = {b.peer_spec()};
  NodeProcess a(o);
  a.start();
  const std::string why = wait_for_last_error(a, b.sync_address(), "the peer refused our key");
  BOOST_TEST(contains(why, "the peer refused our key"), why);
}

// A loopback port whose listen queue is full: the kernel drops every further
// SYN unanswered (a full accept queue drops, it does not refuse), exactly as
// a switched-off host or a dropping firewall leaves a dial without a reply.
class SilentPort {
 public:
  SilentPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(free_port());
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::listen(listener_, 0) == 0);  // room for one connection, never accepted
    filler_ = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(::connect(filler_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    port = ntohs(a.sin_port);
  }
  ~SilentPort() {
    ::close(filler_);
    ::close(listener_);
  }
  std::uint16_t port = 0;

 private:
  int listener_ = -1;
  int filler_ = -1;
};

BOOST_AUTO_TEST_CASE(a_host_that_drops_the_dial_reads_no_answer) {
  TempDir tmp;
  SilentPort silent;
  const std::string address = "127.0.0.1:" + std::to_string(silent.port);
  auto o = NodeProcess::Options::named(tmp.path(), "a");
  o.peers = {node_public_key(tmp.path() / "never-started") + "@" + address};
  o.extra = {"--peer-timeout-ms", "1000"};
  NodeProcess a(o);
  a.start();
  const std::string no_answer = "no answer from " + address + ": no TCP connection within 1000 ms";
  const std::string why = wait_for_last_error(a, address, no_answer);
  BOOST_TEST(contains(why, no_answer), why);
  BOOST_TEST(contains(why, "switched off, or a firewall drops the connection"), why);
  BOOST_TEST(!contains(a.log(), "connection refused"), a.log());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
