// shopsyncd under systemd's Type=notify (sd_notify(3)): the test plays the
// service manager. It binds the AF_UNIX datagram socket that $NOTIFY_SOCKET
// names, starts a real shopsyncd with $WATCHDOG_USEC, and reads what arrives:
// READY=1 once the node answers its API and listens on its sync port,
// WATCHDOG=1 again and again while it serves, STOPPING=1 on SIGTERM. And
// the log on the journal stream carries priorities for `journalctl -p`.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

bool tcp_listens(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The service manager's end: a datagram socket that collects every message,
// read on a thread of its own so that nothing sent while the test waits for
// something else is missed. At the first READY=1 it checks, at once, that
// the node answers its API and listens on its sync port.
class NotifyListener {
 public:
  // `name` starting with '@': an abstract socket, else a path.
  explicit NotifyListener(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    BOOST_REQUIRE(name.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    BOOST_REQUIRE_MESSAGE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0, std::strerror(errno));
  }
  ~NotifyListener() {
    done_ = true;
    if (reader_.joinable()) reader_.join();
    ::close(fd_);
  }

  // Starts reading; at READY=1, `on_ready` runs on the reading thread.
  void listen(std::function<void()> on_ready) {
    reader_ = std::thread([this, on_ready = std::move(on_ready)] {
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (!done_ && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        const std::string message(buf, static_cast<std::size_t>(n));
        const bool first_ready = message.find("READY=1") != std::string::npos && count("READY=1") == 0;
        if (first_ready) on_ready();
        std::lock_guard lock(mutex_);
        messages_.push_back(message);
      }
    });
  }

  std::size_t count(const std::string& needle) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& m : messages_) n += m.find(needle) != std::string::npos;
    return n;
  }
  std::string all() {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& m : messages_) out += "[" + m + "] ";
    return out;
  }

 private:
  std::string name_;
  int fd_ = -1;
  std::thread reader_;
  std::atomic<bool> done_{false};
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

BOOST_AUTO_TEST_SUITE(node_systemd)

BOOST_AUTO_TEST_CASE(systemd_hears_ready_once_serving_then_watchdog_pings_then_stopping) {
  TempDir dir("shopsync-node");
  NotifyListener manager((dir / "notify").string());
  NodeProcess node(NodeProcess::Options::named(dir.path(), "till"));
  // WatchdogSec=0.4s: a ping every 200 ms.
  node.options().env = {"NOTIFY_SOCKET=" + (dir / "notify").string(), "WATCHDOG_USEC=400000"};

  std::atomic<bool> api_answered{false}, sync_listens{false};
  manager.listen([&] {
    // READY=1 promises a working node: the API answers now, not soon.
    auto client = api::ApiClient::connect("127.0.0.1:" + std::to_string(node.api_port()), {2000ms});
    api_answered = client.is_ok() && client->status().is_ok();
    sync_listens = tcp_listens(node.sync_port());
  });
  node.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return manager.count("READY=1") == 1; }, 10s),
                        "no READY=1; received: " << manager.all() << "\n" << node.log());
  BOOST_TEST(api_answered.load(), "READY=1 came before the API answered");
  BOOST_TEST(sync_listens.load(), "READY=1 came before the sync port listened");
  BOOST_TEST(manager.count("STATUS=serving") >= 1, manager.all());

  // The pings keep coming while the node serves.
  BOOST_TEST(wait_until([&] { return manager.count("WATCHDOG=1") >= 5; }, 10s), manager.all());
  BOOST_TEST(manager.count("STOPPING=1") == 0u);

  BOOST_TEST(node.stop() == 0);
  BOOST_TEST(wait_until([&] { return manager.count("STOPPING=1") == 1; }, 5s), manager.all());
  BOOST_TEST(manager.count("READY=1") == 1u, manager.all());
}

BOOST_AUTO_TEST_CASE(an_abstract_notify_socket_is_reached_too_and_no_watchdog_means_no_pings) {
  TempDir dir("shopsync-node");
  const std::string name = "@shopsync-test-notify-" + std::to_string(::getpid());
  NotifyListener manager(name);
  manager.listen([] {});
  NodeProcess node(NodeProcess::Options::named(dir.path(), "till"));
  node.options().env = {"NOTIFY_SOCKET=" + name, "WATCHDOG_USEC="};
  node.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return manager.count("READY=1") == 1; }, 10s),
                        "no READY=1 on " << name << "; received: " << manager.all() << "\n" << node.log());
  BOOST_TEST(node.stop() == 0);
  BOOST_TEST(wait_until([&] { return manager.count("STOPPING=1") == 1; }, 5s), manager.all());
  BOOST_TEST(manager.count("WATCHDOG=1") == 0u, manager.all());
}

BOOST_AUTO_TEST_CASE(on_the_journal_stream_every_log_line_carries_its_priority_and_elsewhere_none) {
  TempDir dir("shopsync-node");
  NodeProcess node(NodeProcess::Options::named(dir.path(), "till"));
  // systemd connects stderr to the journal and names that stream in
  // $JOURNAL_STREAM; here the stream is the node's log file (NodeProcess
  // writes it to DIR/NAME.log).
  const auto stream = dir / "till.log";
  { std::ofstream touch(stream); }
  struct stat st {};
  BOOST_REQUIRE(::stat(stream.c_str(), &st) == 0);
  node.options().env = {"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)};
  node.options().insecure = true;  // its loud warning
  node.start();
  BOOST_TEST(node.stop() == 0);
  std::istringstream lines(node.log());
  std::size_t warnings = 0, infos = 0;
  for (std::string line; std::getline(lines, line);) {
    BOOST_TEST((line.starts_with("<") && line.size() > 3 && line[2] == '>'), "no priority prefix: " << line);
    if (line.starts_with("<4>") && line.find(" warn  ") != std::string::npos) ++warnings;
    if (line.starts_with("<6>") && line.find(" info  ") != std::string::npos) ++infos;
  }
  BOOST_TEST(warnings >= 1u, node.log());
  BOOST_TEST(infos >= 1u, node.log());

  // Where stderr is not that stream (a terminal, a file of the operator's
  // while JOURNAL_STREAM was inherited), lines stay as they were.
  const std::size_t before = node.log().size();
  node.options().env = {"JOURNAL_STREAM=1:1"};
  node.start();
  BOOST_TEST(node.stop() == 0);
  const std::string second = node.log().substr(before);
  BOOST_TEST(second.find("<6>") == std::string::npos, second);
  BOOST_TEST(second.find(" info  ") != std::string::npos, second);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
