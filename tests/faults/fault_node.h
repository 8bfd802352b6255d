// One real shopsyncd for the fault harness, in a network namespace of the
// FaultNetwork (or on loopback), with its own data directory and log file.
// Started and killed by its pid only; its memory (VmRSS) and open file
// descriptors read from /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "core/status.h"

namespace shopsync::test {

// Runs `shopsyncd --data DIR --print-key` and returns the public key ("" on failure).
std::string shopsyncd_public_key(const std::string& shopsyncd, const std::filesystem::path& data_dir);

// A local API client whose ZeroMQ threads live in namespace `ns` ("" = this
// process's own), so that it reaches a node's API bound on that namespace's
// loopback.
Result<api::ApiClient> connect_api_in(const std::string& ns, const std::string& address,
                                      std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_loopback_port();

class FaultNode {
 public:
  struct Options {
    std::string shopsyncd;            // path of the executable
    std::filesystem::path data_dir;
    std::filesystem::path log_file;   // stdout and stderr of every run, appended
    std::string name;
    std::string ns;                   // network namespace, "" = this one
    std::string host;                 // address it listens on for sync
    std::uint16_t sync_port = 7460;
    std::uint16_t api_port = 7461;    // on 127.0.0.1 in its namespace
    std::vector<std::string> args;    // more flags (peers, timings)
  };

  explicit FaultNode(Options options) : o_(std::move(options)) {}
  ~FaultNode();  // SIGKILL if still running
  FaultNode(const FaultNode&) = delete;
  FaultNode& operator=(const FaultNode&) = delete;

  // Spawns the process (does not wait for it to be ready). false when it
  // could not be spawned.
  bool start();
  // SIGKILL and reap.
  void kill9();
  // SIGTERM, reap (SIGKILL after 15 s). The exit code, or -1 when not running.
  int stop();
  bool running();
  pid_t pid() const { return pid_; }

  // VmRSS in KiB and the number of open file descriptors; -1 when not running.
  long rss_kib() const;
  int open_fds() const;

  const Options& options() const { return o_; }
  std::string api_address() const { return "127.0.0.1:" + std::to_string(o_.api_port); }
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  Options o_;
  pid_t pid_ = -1;
};

}  // namespace shopsync::test
