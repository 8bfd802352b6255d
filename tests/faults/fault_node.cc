#include "tests/faults/fault_node.h"

#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace shopsync::test {

namespace {

// Opens /run/netns/NAME (ip netns's convention); -1 on failure.
int open_netns(const std::string& ns) {
  return ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
}

// fork + (setns) + exec with stdout and stderr appended to `log`. Everything
// the child needs is prepared before fork: after it, only async-signal-safe
// calls (the harness has ZeroMQ threads running).
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log, const std::string& ns) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return -1;
  const int ns_fd = ns.empty() ? -1 : open_netns(ns);
  if (!ns.empty() && ns_fd < 0) {
    ::close(log_fd);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (ns_fd >= 0 && ::setns(ns_fd, CLONE_NEWNET) != 0) ::_exit(126);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (ns_fd >= 0) ::close(ns_fd);
  return pid;
}

}  // namespace

std::string shopsyncd_public_key(const std::string& shopsyncd, const std::filesystem::path& data_dir) {
  const pid_t pid = spawn({shopsyncd, "--data", data_dir.string(), "--print-key"},
                          data_dir.string() + ".key.log", "");
  if (pid < 0 || wait_for_exit(pid, std::chrono::seconds(20)) != 0) return {};
  std::ifstream in(data_dir / "curve.public");
  std::string key;
  std::getline(in, key);
  return key.size() == 40 ? key : std::string();
}

Result<api::ApiClient> connect_api_in(const std::string& ns, const std::string& address,
                                      std::chrono::milliseconds timeout) {
  api::ApiClientOptions options;
  options.timeout = timeout;
  if (ns.empty()) return api::ApiClient::connect(address, options);
  // setns() moves only the calling thread; the ZeroMQ context the client
  // creates starts its I/O threads from here, so they are in `ns` too, and
  // they make every (re)connection.
  std::optional<Result<api::ApiClient>> out;
  std::thread t([&] {
    const int fd = open_netns(ns);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) ::close(fd);
      out.emplace(Status::io_error("cannot enter network namespace " + ns));
      return;
    }
    ::close(fd);
    out.emplace(api::ApiClient::connect(address, options));
  });
  t.join();
  return std::move(*out);
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

FaultNode::~FaultNode() { kill9(); }

bool FaultNode::start() {
  if (running()) return true;
  std::vector<std::string> args = {o_.shopsyncd,
                                   "--data", o_.data_dir.string(),
                                   "--name", o_.name,
                                   "--listen", o_.host + ":" + std::to_string(o_.sync_port),
                                   "--api", api_address(),
                                   "--no-mdns"};
  args.insert(args.end(), o_.args.begin(), o_.args.end());
  pid_ = spawn(args, o_.log_file, o_.ns);
  return pid_ > 0;
}

void FaultNode::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

int FaultNode::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int rc = wait_for_exit(pid_, std::chrono::seconds(15));
  if (rc == -2) {
    ::kill(pid_, SIGKILL);
    rc = wait_for_exit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
  return rc;
}

bool FaultNode::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

long FaultNode::rss_kib() const {
  if (pid_ <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

int FaultNode::open_fds() const {
  if (pid_ <= 0) return -1;
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

std::string FaultNode::log_tail(std::size_t bytes) const {
  std::ifstream in(o_.log_file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace shopsync::test
