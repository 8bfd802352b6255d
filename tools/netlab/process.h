// Child processes for the multi-host tests and benchmarks: commands run to
// completion, and long-running programs (shopsyncd, probes, python-zeroconf,
// avahi-daemon) whose stdout is read as JSON lines. Every child is killed by
// pid when its owner goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace shopsync::netlab {

struct CommandResult {
  int exit_code = -1;   // -1: could not run or killed by a signal
  std::string output;   // stdout and stderr
};

// Runs argv[0] (looked up in PATH) and waits, at most `timeout`.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

class ChildProcess {
 public:
  // Starts argv; its stderr goes to `stderr_file` (kept for failure messages).
  ChildProcess(const std::vector<std::string>& argv, std::filesystem::path stderr_file);
  ~ChildProcess();  // SIGKILL if still running, and reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Reads what the child printed so far (non-blocking). Lines that are not
  // JSON are kept as {"raw": line}.
  void pump();
  // Pumps until `done(lines)` is true or `timeout` passes. Returns done's value.
  bool wait_for(const std::function<bool(const std::vector<nlohmann::json>&)>& done,
                std::chrono::milliseconds timeout);
  const std::vector<nlohmann::json>& lines() const { return lines_; }

  void signal(int sig);
  // SIGTERM, then waits up to `grace` for exit (pumping output), then SIGKILL.
  // Returns the exit code (-1 if killed).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  bool running();

  // The child's stderr and stdout so far, for failure messages.
  std::string transcript() const;

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  std::string partial_;
  int last_read_ = 0;
  long pumps_ = 0;
  std::vector<nlohmann::json> lines_;
  std::filesystem::path stderr_file_;
};

}  // namespace shopsync::netlab
