// A child process started by a test, with its stdout on a pipe. Killed (by its
// pid, SIGKILL) and reaped when the object goes away if still running.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shopsync::test {

class ChildProcess {
 public:
  // Starts argv[0] with the given arguments. Throws std::runtime_error when it
  // cannot (a test set-up failure, not a behaviour under test).
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line the child wrote (without '\n'), or nullopt when none came
  // within `timeout` or the child closed its stdout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Every line still in the pipe (call after the child is dead).
  std::vector<std::string> drain();

  void kill_now();
  // Waits for the end; returns the exit code, or 128 + signal.
  int wait();
  pid_t pid() const { return pid_; }

 private:
  bool fill(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  bool eof_ = false;
  std::string buffered_;
};

}  // namespace shopsync::test
