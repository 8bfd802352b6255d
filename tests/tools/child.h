// Child processes for the CLI tests: run a program to completion capturing
// its output and exit status, or keep one running (the API host, a watch) and
// read its output as it comes. Every wait is bounded; a child that overstays
// is killed (by its pid, never by name).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace shopsync::test {

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv[0] (a path) with the arguments, feeding `input` on its stdin.
ChildResult run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& input = "");

class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();  // SIGKILL if still running, then reaped
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout (or stderr) until a line containing `needle` arrives; returns
  // that line, or "" at EOF or timeout.
  std::string wait_for_line(bool from_stderr, const std::string& needle, std::chrono::milliseconds timeout);
  // Waits for exit (killing the child at the timeout) and collects the rest
  // of its output.
  ChildResult finish(std::chrono::milliseconds timeout);
  // SIGTERM, then finish().
  ChildResult stop(std::chrono::milliseconds timeout);

 private:
  friend ChildResult run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                               const std::string& input);
  Child(pid_t pid, int out_fd, int err_fd) : pid_(pid), out_fd_(out_fd), err_fd_(err_fd) {}
  bool pump(std::chrono::milliseconds timeout);  // reads what is there; false at EOF of both
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_, err_;
  std::size_t out_pos_ = 0, err_pos_ = 0;  // consumed by wait_for_line
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace shopsync::test
