#include "tools/netlab/process.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace shopsync::netlab {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Spawns argv with stdout (and stderr when err_fd < 0) into a fresh pipe.
pid_t spawn(const std::vector<std::string>& argv, int err_fd, int& out_read_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err_fd >= 0 ? err_fd : p[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  auto args = c_argv(argv);
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  if (rc != 0) {
    ::close(p[0]);
    return -1;
  }
  ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  out_read_fd = p[0];
  return pid;
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  int fd = -1;
  pid_t pid = spawn(argv, -1, fd);
  if (pid < 0) {
    result.output = "cannot run " + argv[0];
    return result;
  }
  auto deadline = Clock::now() + timeout;
  bool open = true;
  while (open && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 100);
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        result.output.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) open = false;
      break;
    }
  }
  ::close(fd);
  int status = 0;
  if (open) {  // timed out
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.output += "\n(timed out)";
    return result;
  }
  ::waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, std::filesystem::path stderr_file)
    : stderr_file_(std::move(stderr_file)) {
  int err = ::open(stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = spawn(argv, err, out_fd_);
  if (err >= 0) ::close(err);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void ChildProcess::pump() {
  if (out_fd_ < 0) return;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      last_read_ = n < 0 ? -errno : 0;
      break;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
  }
  ++pumps_;
  std::size_t nl;
  while ((nl = partial_.find('\n')) != std::string::npos) {
    std::string line = partial_.substr(0, nl);
    partial_.erase(0, nl + 1);
    auto j = nlohmann::json::parse(line, nullptr, false);
    lines_.push_back(j.is_discarded() ? nlohmann::json{{"raw", line}} : j);
  }
}

bool ChildProcess::wait_for(const std::function<bool(const std::vector<nlohmann::json>&)>& done,
                            std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pump();
    if (done(lines_)) return true;
    if (Clock::now() >= deadline) return false;
    pollfd p{out_fd_, POLLIN, 0};
    ::poll(&p, out_fd_ >= 0 ? 1 : 0, 50);
  }
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool ChildProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (reaped_) return exit_code_;
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    pump();
    if (!running()) {
      pump();
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_code_ = -1;
  pump();
  return exit_code_;
}

std::string ChildProcess::transcript() const {
  std::ostringstream out;
  int pending = -1;
  ::ioctl(out_fd_, FIONREAD, &pending);
  out << "--- stdout (fd " << out_fd_ << ", " << pending << " bytes unread, " << lines_.size() << " lines, " << pumps_ << " pumps, last read " << last_read_ << "):\n";
  for (const auto& l : lines_) out << l.dump() << "\n";
  out << partial_;
  std::ifstream err(stderr_file_);
  out << "--- stderr:\n" << err.rdbuf();
  return out.str();
}

}  // namespace shopsync::netlab
