#include "tests/tools/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace shopsync::test {

namespace {

using Clock = std::chrono::steady_clock;

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
}

pid_t spawn(const std::vector<std::string>& argv, int& in_fd, int& out_fd, int& err_fd) {
  int in[2], out[2], err[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_fd = in[1];
  out_fd = out[0];
  err_fd = err[0];
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Child::Child(const std::vector<std::string>& argv) {
  int in_fd = -1;
  pid_ = spawn(argv, in_fd, out_fd_, err_fd_);
  close(in_fd);  // the children here read nothing
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool Child::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  const int rc = poll(fds, 2, static_cast<int>(timeout.count()));
  if (rc <= 0) return true;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    int& fd = i == 0 ? out_fd_ : err_fd_;
    if (fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(fd);
      fd = -1;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

std::string Child::wait_for_line(bool from_stderr, const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string& text = from_stderr ? err_ : out_;
  std::size_t& pos = from_stderr ? err_pos_ : out_pos_;
  for (;;) {
    std::size_t eol;
    while ((eol = text.find('\n', pos)) != std::string::npos) {
      std::string line = text.substr(pos, eol - pos);
      pos = eol + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "";
    if (!pump(std::min(left, std::chrono::milliseconds(100)))) return "";
  }
}

ChildResult Child::finish(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ChildResult r;
  while (pump(std::chrono::milliseconds(50))) {
    if (Clock::now() > deadline) {
      r.timed_out = true;
      kill(pid_, SIGKILL);
      break;
    }
  }
  if (!reaped_) {
    if (r.timed_out) kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  r.exit_code = exit_code_of(status_);
  r.out = out_;
  r.err = err_;
  return r;
}

ChildResult Child::stop(std::chrono::milliseconds timeout) {
  if (!reaped_) kill(pid_, SIGTERM);
  return finish(timeout);
}

ChildResult run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& input) {
  int in_fd = -1, out_fd = -1, err_fd = -1;
  const pid_t pid = spawn(argv, in_fd, out_fd, err_fd);
  if (!input.empty()) {
    // Small inputs only (a pipe buffer's worth): enough for a JSON record.
    ssize_t written = write(in_fd, input.data(), input.size());
    (void)written;
  }
  close(in_fd);
  // Reuse Child's reading and reaping.
  Child c(pid, out_fd, err_fd);
  return c.finish(timeout);
}

}  // namespace shopsync::test
