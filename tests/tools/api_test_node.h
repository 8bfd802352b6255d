// A node for the API tests: a real LmdbStore, a Replica over it and a
// RecordService with in-memory trust (what the daemon adds is faked here),
// plus helpers to make two such nodes exchange their changes (to produce
// conflicts) and to serve the API from a thread of its own.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api_server.h"
#include "app/record_service.h"
#include "replication/clock.h"
#include "replication/outbox.h"
#include "replication/replica.h"
#include "storage/lmdb_store.h"

namespace shopsync::test {

// The public key TestBackend reports as its own.
inline constexpr const char* kTestNodeKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

class TestBackend : public app::RecordService {
 public:
  TestBackend(Replica& replica, app::CountingStore& store, Outbox& outbox, std::string name)
      : RecordService(replica, store, outbox), name_(std::move(name)) {}

  Result<api::NodeStatus> status() override;
  Result<api::TrustedKeyList> trusted_keys() override;
  Status trust(const api::TrustAddRequest& request) override;
  Status distrust(std::string_view key) override;
  Result<api::PublicKey> public_key() override { return api::PublicKey{kTestNodeKey}; }

 private:
  std::string name_;
  std::map<std::string, api::TrustedKey, std::less<>> keys_;
};

struct TestNodeOptions {
  NodeId id = 1;
  std::string name = "test-node";
  std::map<std::string, StrategyKind, std::less<>> strategies;
};

class TestNode {
 public:
  static Result<std::unique_ptr<TestNode>> open(const std::filesystem::path& dir, TestNodeOptions options);

  Replica& replica() { return *replica_; }
  LmdbStore& store() { return *store_; }
  TestBackend& backend() { return *backend_; }
  VectorOutbox& outbox() { return outbox_; }
  NodeId id() const { return id_; }

 private:
  TestNode() = default;
  NodeId id_ = 0;
  SystemClock clock_;
  std::unique_ptr<LmdbStore> store_;
  std::unique_ptr<app::CountingStore> counted_;  // the replica writes through it
  std::unique_ptr<Replica> replica_;
  VectorOutbox outbox_;
  std::unique_ptr<TestBackend> backend_;
};

// Connects the two replicas, delivers their messages both ways until neither
// has anything to say (bounded), and disconnects them.
Status sync_nodes(TestNode& a, TestNode& b);

// Polls `server` until `stop` is set: the event loop of a node, reduced to
// the API socket (plus `between`, run once per turn).
Status serve(api::ApiServer& server, const std::atomic<bool>& stop, const std::function<void()>& between = {});

// An ApiServer over a TestNode, served on a thread of its own. Everything that
// touches the node or the server after start goes through run() (the loop
// thread owns them).
class ServingNode {
 public:
  // `address` e.g. "tcp://127.0.0.1:0" (a free port) or "ipc://...".
  static Result<std::unique_ptr<ServingNode>> start(TestNode& node, const std::string& address,
                                                    api::ApiServerOptions options = {});
  ~ServingNode();

  const std::string& endpoint() const { return endpoint_; }
  // Runs `task` on the loop thread and waits for it.
  void run(const std::function<void(api::ApiServer&, TestNode&)>& task);

 private:
  ServingNode(TestNode& node, std::unique_ptr<api::ApiServer> server);
  TestNode& node_;
  std::unique_ptr<api::ApiServer> server_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  std::thread thread_;
};

}  // namespace shopsync::test
