// The dial probe (node/dial_probe.h) on real sockets: each reason a connect
// fails gets its own words. Traffic only to loopback; the unreachable cases
// run in a network namespace the test creates, where no packet leaves at all
// (the kernel answers from its routing table).
#include "node/dial_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/support/loopback_port.h"

namespace shopsync {
namespace {

using namespace std::chrono_literals;

// The probe's verdict once it has one, or once it stops running (at most 10 s).
std::string verdict_of(DialProbe probe) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (probe.verdict().empty() && probe.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  return probe.verdict();
}

using test::LoopbackPort;

BOOST_AUTO_TEST_SUITE(dial_probe)

BOOST_AUTO_TEST_CASE(nothing_listening_reads_connection_refused_with_the_address) {
  LoopbackPort bound(false);  // bound, not listening: the kernel refuses
  const std::string why = verdict_of(DialProbe::start("127.0.0.1", bound.port));
  BOOST_TEST(why == "connection refused by 127.0.0.1:" + std::to_string(bound.port) + " (nothing listens on that port)");
}

BOOST_AUTO_TEST_CASE(a_port_that_listens_is_no_failure) {
  LoopbackPort listening(true);
  DialProbe probe = DialProbe::start("127.0.0.1", listening.port);
  BOOST_TEST(verdict_of(std::move(probe)).empty());
}

BOOST_AUTO_TEST_CASE(a_name_that_does_not_resolve_says_so) {
  // A label over 63 bytes: the resolver refuses it without asking any server.
  const std::string host = std::string(64, 'a') + ".invalid";
  const std::string why = verdict_of(DialProbe::start(host, 7460));
  BOOST_TEST(why.starts_with("name resolution failed for " + host + " ("), why);
}

// In a fresh network namespace with an "unreachable" route to 198.18.0.0/24
// and no route at all elsewhere: host unreachable, then network unreachable.
BOOST_AUTO_TEST_CASE(unreachable_hosts_and_networks_are_told_from_refusals) {
  int out[2];
  BOOST_REQUIRE(::pipe(out) == 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(out[0]);
    std::string report;
    if (::unshare(CLONE_NEWNET) != 0) {
      report = "unshare(CLONE_NEWNET) failed: root is needed";
    } else if (std::system("ip link set lo up && ip route add unreachable 198.18.0.0/24") != 0) {
      report = "ip route add failed";
    } else {
      report = verdict_of(DialProbe::start("198.18.0.1", 7460)) + "\n" + verdict_of(DialProbe::start("198.19.0.1", 7460));
    }
    (void)!::write(out[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(out[1]);
  std::string report;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  const auto nl = report.find('\n');
  BOOST_REQUIRE_MESSAGE(nl != std::string::npos, report);
  BOOST_TEST(report.substr(0, nl).starts_with("host unreachable (198.18.0.1:7460 "), report);
  BOOST_TEST(report.substr(nl + 1).starts_with("network unreachable (this machine has no route to 198.19.0.1:7460)"),
             report);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
