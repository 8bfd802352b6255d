// A real shopsyncd process for tests: started with its own data directory and
// ports on loopback, its log captured in a file, stopped (SIGTERM) or killed
// (SIGKILL) by its pid only, and a local API client to drive it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/api_client.h"

namespace shopsync::test {

// A port on 127.0.0.1 that was free a moment ago, outside the range the
// kernel gives to outgoing connections.
std::uint16_t free_port();

// Runs `shopsyncd --data DIR --print-key` and returns the key.
std::string node_public_key(const std::filesystem::path& data_dir);

// Polls `done` every 20 ms until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

class NodeProcess;
// Each names the other with --peer KEY@HOST:PORT: both dial, both trust.
void peer_each_other(NodeProcess& a, NodeProcess& b);

class NodeProcess {
 public:
  struct Options {
    std::filesystem::path data_dir;
    std::string name;
    std::string cluster = "test";
    std::vector<std::string> peers;  // "KEY@127.0.0.1:PORT"
    std::vector<std::string> trust;
    std::vector<std::string> extra;  // more flags
    std::vector<std::string> env;    // more environment variables, "NAME=value"
    bool insecure = false;

    // A node called `name` with its data in dir/name.
    static Options named(const std::filesystem::path& dir, const std::string& name) {
      Options o;
      o.data_dir = dir / name;
      o.name = name;
      return o;
    }
  };

  explicit NodeProcess(Options options);
  ~NodeProcess();  // kills the process if it still runs
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts shopsyncd and waits until its API answers (fails the test otherwise).
  void start();
  // Runs shopsyncd and waits for it to exit by itself (a start that must
  // fail). Returns its exit code, or -2 when it was still running at `timeout`
  // (it is then killed).
  int run_expecting_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then waits for the exit (SIGKILL after 15 s). Returns the exit code.
  int stop();
  // SIGKILL, no cleanup of any kind.
  void kill9();
  pid_t pid() const { return pid_; }  // -1 when not running
  // Sends `signo` (SIGHUP: reload) to the running process, by its pid.
  void signal(int signo);
  bool running();

  std::uint16_t sync_port() const { return sync_port_; }
  std::uint16_t api_port() const { return api_port_; }
  std::string sync_address() const { return "127.0.0.1:" + std::to_string(sync_port_); }
  const std::string& public_key() const { return public_key_; }
  // "KEY@127.0.0.1:PORT", for another node's --peer.
  std::string peer_spec() const { return public_key_ + "@" + sync_address(); }
  Options& options() { return options_; }
  std::string log() const;  // everything the process wrote so far (all runs)
  std::size_t log_count(const std::string& needle) const;
  api::ApiClient& api();

 private:
  std::vector<std::string> arguments() const;

  Options options_;
  std::uint16_t sync_port_ = 0;
  std::uint16_t api_port_ = 0;
  std::string public_key_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::optional<api::ApiClient> api_;
};

// The environment that runs a process under libfaketime (Debian package
// `faketime`) with its wall clock offset by what `offset_file` holds ("+0",
// "-60", "+1h": FAKETIME syntax), read again at every clock reading so that a
// test can step the clock of a running process by rewriting the file. Only
// the wall clock moves: the monotonic clock stays true. Fails the test when
// libfaketime is not installed.
std::vector<std::string> faketime_env(const std::filesystem::path& offset_file);
// Writes `offset` (FAKETIME syntax) to `offset_file`.
void set_fake_offset(const std::filesystem::path& offset_file, const std::string& offset);

// The MessagePack encoding of one string field value.
std::string packed_string(const std::string& text);

// The live records of `collection` on `node` (0 when it does not answer).
std::uint64_t live_records(NodeProcess& node, const std::string& collection);

// Writes {name: `name`} to the record through the node's API; fails the test
// when the node refuses it.
void put_name(NodeProcess& node, const std::string& collection, const std::string& id, const std::string& name);

}  // namespace shopsync::test
