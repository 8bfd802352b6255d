#include "tests/node/support/node_process.h"

#include "tests/support/child_process.h"

#include "api/api_credential.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <msgpack.hpp>

#include <boost/test/unit_test.hpp>

extern char** environ;

namespace shopsync::test {

namespace {

// Whether a TCP listener could bind `port` on loopback now.
bool bindable(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// Ports come from below the kernel's ephemeral range (32768-60999 by
// default). A port bind(0) hands out is one the kernel also gives to outgoing
// connections, so another test's client could take it before the node binds
// it ("Address already in use", seen under the sanitizers in CI). Each test
// process starts at its own random place and never hands a port out twice.
std::uint16_t free_port() {
  constexpr std::uint16_t kFirst = 20000;
  constexpr std::uint16_t kEnd = 32768;
  static std::uint16_t next = static_cast<std::uint16_t>(
      kFirst + (std::random_device{}() ^ static_cast<unsigned>(::getpid())) % (kEnd - kFirst));
  for (int tries = 0; tries < kEnd - kFirst; ++tries) {
    const std::uint16_t port = next;
    next = next + 1 >= kEnd ? kFirst : static_cast<std::uint16_t>(next + 1);
    if (bindable(port)) return port;
  }
  BOOST_FAIL("no free TCP port on loopback between " << kFirst << " and " << kEnd);
  return 0;
}

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log_path,
            const std::vector<std::string>& env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Ours, then the inherited variables we do not set.
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view inherited(*e);
    const bool overridden = std::any_of(env.begin(), env.end(), [&](const std::string& mine) {
      const auto name = mine.substr(0, mine.find('=') + 1);
      return inherited.starts_with(name);
    });
    if (!overridden) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << args[0]);
  return pid;
}

}  // namespace

std::string node_public_key(const std::filesystem::path& data_dir) {
  const auto out = data_dir.parent_path() / (data_dir.filename().string() + ".key.out");
  const pid_t pid = spawn({SHOPSYNCD_PATH, "--data", data_dir.string(), "--print-key"}, out);
  BOOST_REQUIRE(wait_for_exit(pid, std::chrono::seconds(10)) == 0);
  std::ifstream in(data_dir / "curve.public");
  std::string key;
  std::getline(in, key);
  BOOST_REQUIRE(key.size() == 40);
  return key;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

NodeProcess::NodeProcess(Options options) : options_(std::move(options)) {
  sync_port_ = free_port();
  api_port_ = free_port();
  public_key_ = node_public_key(options_.data_dir);
  log_path_ = options_.data_dir.parent_path() / (options_.data_dir.filename().string() + ".log");
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(10));
  }
}

std::vector<std::string> NodeProcess::arguments() const {
  std::vector<std::string> args = {SHOPSYNCD_PATH,
                                   "--data", options_.data_dir.string(),
                                   "--name", options_.name,
                                   "--cluster", options_.cluster,
                                   "--listen", sync_address(),
                                   "--api", "127.0.0.1:" + std::to_string(api_port_),
                                   "--no-mdns",
                                   "--heartbeat-ms", "300",
                                   "--peer-timeout-ms", "2000"};
  for (const auto& p : options_.peers) args.insert(args.end(), {"--peer", p});
  for (const auto& k : options_.trust) args.insert(args.end(), {"--trust", k});
  if (options_.insecure) args.push_back("--insecure");
  args.insert(args.end(), options_.extra.begin(), options_.extra.end());
  return args;
}

int NodeProcess::run_expecting_exit(std::chrono::milliseconds timeout) {
  BOOST_REQUIRE(pid_ < 0);
  const pid_t pid = spawn(arguments(), log_path_, options_.env);
  int rc = wait_for_exit(pid, timeout);
  if (rc == -2) {
    ::kill(pid, SIGKILL);
    wait_for_exit(pid, std::chrono::seconds(10));
  }
  return rc;
}

void NodeProcess::start() {
  BOOST_REQUIRE(pid_ < 0);
  pid_ = spawn(arguments(), log_path_, options_.env);
  api_.reset();
  // With the node's API credential once it made one (--api-auth, api_credential.h).
  std::optional<std::string> credential;
  auto connect = [&] {
    const std::string found = api::read_api_credential(options_.data_dir).value_or("");
    if (api_ && credential == found) return;
    credential = found;
    auto client = api::ApiClient::connect("127.0.0.1:" + std::to_string(api_port_), {std::chrono::milliseconds(2000), found});
    BOOST_REQUIRE(client.is_ok());
    api_.emplace(std::move(*client));
  };
  connect();
  const bool up = wait_until([&] {
    if (!running()) return false;
    connect();
    return api_->status().is_ok();
  }, std::chrono::seconds(20));
  BOOST_REQUIRE_MESSAGE(up, options_.name << " did not start; its log:\n" << log());
}

int NodeProcess::stop() {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  int rc = wait_for_exit(pid_, std::chrono::seconds(15));
  if (rc == -2) {
    ::kill(pid_, SIGKILL);
    rc = wait_for_exit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
  api_.reset();
  return rc;
}

void NodeProcess::kill9() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
  api_.reset();
}

void NodeProcess::signal(int signo) {
  BOOST_REQUIRE(pid_ > 0);
  ::kill(pid_, signo);
}

bool NodeProcess::running() {
  if (pid_ < 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string NodeProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t NodeProcess::log_count(const std::string& needle) const {
  const std::string text = log();
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

api::ApiClient& NodeProcess::api() {
  BOOST_REQUIRE(api_.has_value());
  return *api_;
}

std::vector<std::string> faketime_env(const std::filesystem::path& offset_file) {
  // Debian installs it under the multiarch directory: /usr/lib/<triplet>/faketime/.
  // The MT build: shopsyncd has threads (ZeroMQ's I/O threads).
  std::filesystem::path library;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator("/usr/lib", ec)) {
    const auto candidate = dir.path() / "faketime" / "libfaketimeMT.so.1";
    if (std::filesystem::exists(candidate, ec)) library = candidate;
  }
  BOOST_REQUIRE_MESSAGE(!library.empty(),
                        "libfaketime is not installed (apt-get install faketime): this test needs it to step the "
                        "clock of a shopsyncd process");
  if (!std::filesystem::exists(offset_file)) set_fake_offset(offset_file, "+0");
  // Under AddressSanitizer (.ci/run) the preloaded library comes before ASan's
  // runtime, which ASan refuses unless told that it is fine.
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {"LD_PRELOAD=" + library.string(),
          "FAKETIME_TIMESTAMP_FILE=" + offset_file.string(),
          "FAKETIME_NO_CACHE=1",
          "FAKETIME_DONT_FAKE_MONOTONIC=1",
          "ASAN_OPTIONS=" + std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "verify_asan_link_order=0"};
}

void set_fake_offset(const std::filesystem::path& offset_file, const std::string& offset) {
  // Written aside and renamed: the process never reads half a file.
  const std::filesystem::path next = offset_file.string() + ".next";
  {
    std::ofstream out(next, std::ios::trunc);
    out << offset << "\n";
    BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << next);
  }
  std::filesystem::rename(next, offset_file);
}

std::string packed_string(const std::string& text) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(text);
  return {b.data(), b.size()};
}

std::uint64_t live_records(NodeProcess& node, const std::string& collection) {
  auto list = node.api().collections();
  if (!list) return 0;
  for (const auto& c : list->collections) {
    if (c.name == collection) return c.records;
  }
  return 0;
}

void put_name(NodeProcess& node, const std::string& collection, const std::string& id, const std::string& name) {
  api::PutRequest r;
  r.key = {collection, id};
  r.fields["name"] = packed_string(name);
  auto w = node.api().put(r);
  BOOST_REQUIRE_MESSAGE(w.is_ok(), w.status().to_string());
}

void peer_each_other(NodeProcess& a, NodeProcess& b) {
  a.options().peers = {b.peer_spec()};
  b.options().peers = {a.peer_spec()};
}

}  // namespace shopsync::test
