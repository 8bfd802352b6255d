// A gateway over a real Replica and LmdbStore, serving real sockets from a
// loop thread of its own (the daemon's loop, in miniature), and the helpers
// the HTTP tests share: a blocking HTTP client, running python3 clients, and
// snapshots of everything a store holds.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/record_service.h"
#include "node/gateway/gateway.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/faulty_store.h"
#include "storage/lmdb_store.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {

struct GatewayHarness {
  // `hooks` stand in for the daemon's.
  explicit GatewayHarness(ReplicaOptions options = {}, gateway::GatewayOptions gw = {}, gateway::GatewayHooks hooks = {});
  ~GatewayHarness();

  // Starts / stops the loop thread. While it runs, only it touches the
  // replica (tests read the store, which is safe from any thread).
  void start();
  void stop();

  // POST /api/sync/<op> with `body`, authenticated, straight into the
  // gateway's handler. REQUIRES: the loop thread is not running.
  gateway::HttpResponse post_sync(const std::string& op, std::string body);

  TempDir dir{"shopsync-gw"};
  std::unique_ptr<LmdbStore> store;
  // Between the store and everything that writes (replica and gateway): tests
  // fail its commits.
  std::unique_ptr<FaultyStore> faulty;
  std::unique_ptr<app::CountingStore> counted;  // the replica writes through it, as in the daemon
  SystemClock clock;
  std::unique_ptr<Replica> replica;
  VectorOutbox outbox;
  std::unique_ptr<app::RecordService> service;  // what the gateway reaches the replica through
  std::unique_ptr<gateway::Gateway> gateway;
  std::string token;  // a valid Bearer token
  std::uint16_t port = 0;

 private:
  std::atomic<bool> running_{false};
  std::thread loop_;
};

struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
};

// One client connection to 127.0.0.1:port, made from the loopback address
// `source` ("127.0.0.2", ...) when given: for tests that hold connections open,
// trickle bytes or read answers as they come. Every wait is bounded.
class TcpClient {
 public:
  explicit TcpClient(std::uint16_t port, const std::string& source = "");
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // What arrives within `wait` (stops early at the first bytes); "" if none.
  std::string receive(std::chrono::milliseconds wait);
  // Everything until the server closes, or until `wait` has passed.
  std::string receive_until_closed(std::chrono::milliseconds wait);
  bool closed_by_server() const { return eof_; }
  void close();

 private:
  int fd_ = -1;
  bool eof_ = false;
};

// Sends `raw` bytes to 127.0.0.1:port, reads until the server closes (send
// "Connection: close"), parses the status line. status 0 if nothing came back.
HttpAnswer raw_http(std::uint16_t port, const std::string& raw);
HttpAnswer http_get(std::uint16_t port, const std::string& path, const std::string& token = "");

// Runs ARGV[0] with its arguments; returns its exit status, stdout and stderr in `output`.
int run_program(const std::vector<std::string>& argv, std::string& output);
// Runs /usr/bin/python3 SCRIPT ARGS...
int run_python(const std::string& script, const std::vector<std::string>& args, std::string& output);

// Every record state and settings entry of a store, for "nothing changed" checks.
struct StoreSnapshot {
  std::map<RecordKey, RecordState> records;
  std::map<std::string, std::string> settings;
  bool operator==(const StoreSnapshot&) const = default;
};
StoreSnapshot snapshot(Store& store);

}  // namespace shopsync::test
