// Runs a program (the real shopsync-inspect, shopsyncd, tmux) as a child
// process and collects what it printed and how it ended. The child is killed
// (by its pid) if it outlives the timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace shopsync::test {

struct ToolResult {
  int exit_code = -1;     // -1 when killed by a signal or the timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

ToolResult run_tool(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A long-running child (a daemon): started with stdout/stderr to `log_file`.
class Child {
 public:
  static Child start(const std::vector<std::string>& argv, const std::string& log_file);
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  ~Child();  // SIGKILL + reap when still running

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then wait up to `timeout` (SIGKILL after). Returns the exit code
  // (-1 when it had to be killed or died of a signal).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace shopsync::test
