#include "tests/gateway/gateway_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstring>

#include "app/tokens.h"

extern char** environ;

namespace shopsync::test {

GatewayHarness::GatewayHarness(ReplicaOptions options, gateway::GatewayOptions gw, gateway::GatewayHooks hooks) {
  auto s = LmdbStore::open(dir / "store");
  BOOST_REQUIRE_MESSAGE(s, s.status().to_string());
  store = std::move(*s);
  if (options.node_id == 0) options.node_id = 0x1111;
  if (options.cluster.empty()) options.cluster = "shop";
  faulty = std::make_unique<FaultyStore>(*store);
  counted = std::make_unique<app::CountingStore>(*faulty);
  auto r = Replica::open(*counted, clock, options);
  BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
  replica = std::move(*r);
  BOOST_REQUIRE(app::start_counting(*counted, *replica));
  service = std::make_unique<app::RecordService>(*replica, *counted, outbox);
  auto t = app::create_token(*store, "tests", clock.now_ms());
  BOOST_REQUIRE_MESSAGE(t, t.status().to_string());
  token = *t;
  if (gw.node_name.empty()) gw.node_name = "test-node";
  auto g = gateway::Gateway::bind(nullptr, "127.0.0.1:0", *service, gw, hooks);
  BOOST_REQUIRE_MESSAGE(g, g.status().to_string());
  gateway = std::move(*g);
  port = gateway->port();
  BOOST_TEST_MESSAGE("gateway on " << gateway->endpoint());
}

GatewayHarness::~GatewayHarness() { stop(); }

void GatewayHarness::start() {
  if (running_.exchange(true)) return;
  loop_ = std::thread([this] {
    while (running_.load()) {
      zmq_pollitem_t item{gateway->socket(), 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&item, 1, 50) > 0) {
        if (Status s = gateway->on_readable(); !s) BOOST_TEST_MESSAGE("gateway: " << s.to_string());
      }
      outbox.messages.clear();  // no peers here
      if (auto d = gateway->next_deadline(); d && *d <= gateway::HttpServer::Clock::now()) gateway->on_timer();
    }
  });
}

void GatewayHarness::stop() {
  if (!running_.exchange(false)) return;
  loop_.join();
}

gateway::HttpResponse GatewayHarness::post_sync(const std::string& op, std::string body) {
  BOOST_REQUIRE(!running_.load());
  gateway::HttpRequest req;
  req.method = "POST";
  req.path = "/api/sync/" + op;
  req.target = req.path;
  req.segments = {"api", "sync", op};
  req.headers = {{"host", "x"}, {"authorization", "Bearer " + token}};
  req.body = std::move(body);
  return gateway->handle(req);
}

TcpClient::TcpClient(std::uint16_t port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close();
      return;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
}

TcpClient::~TcpClient() { close(); }

void TcpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TcpClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

std::string TcpClient::receive(std::chrono::milliseconds wait) {
  if (fd_ < 0 || eof_) return "";
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return "";
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return "";
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string TcpClient::receive_until_closed(std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  std::string in;
  while (!eof_ && fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    in += receive(left);
  }
  return in;
}

HttpAnswer raw_http(std::uint16_t port, const std::string& raw) {
  HttpAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return answer;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return answer;
  }
  std::size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[65536];
  for (int i = 0; i < 100000; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = in.find("\r\n\r\n");
  if (in.size() < 12 || end == std::string::npos) return answer;
  answer.status = std::atoi(in.substr(9, 3).c_str());
  answer.head = in.substr(0, end);
  answer.body = in.substr(end + 4);
  return answer;
}

HttpAnswer http_get(std::uint16_t port, const std::string& path, const std::string& token) {
  std::string raw = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  raw += "\r\n";
  return raw_http(port, raw);
}

int run_python(const std::string& script, const std::vector<std::string>& args, std::string& output) {
  std::vector<std::string> argv = {"/usr/bin/python3", script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, output);
}

int run_program(const std::vector<std::string>& argv_s, std::string& output) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  std::vector<std::string> copy = argv_s;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return -1;
  }
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

StoreSnapshot snapshot(Store& store) {
  StoreSnapshot snap;
  BOOST_REQUIRE(store.read([&](StoreReader& r) -> Status {
    auto names = r.collections();
    if (!names) return names.status();
    for (const auto& name : *names) {
      Status s = r.for_each_record(name, "", [&](const RecordKey& key, const RecordState& state) {
        snap.records.emplace(key, state);
        return Scan::next;
      });
      if (!s) return s;
    }
    return r.for_each(Table::settings, [&](std::string_view k, std::string_view v) {
      snap.settings.emplace(std::string(k), std::string(v));
      return Scan::next;
    });
  }));
  return snap;
}

}  // namespace shopsync::test
