#include "tests/tools/api_test_node.h"

#include <zmq.h>

#include <chrono>
#include <condition_variable>

namespace shopsync::test {

namespace {

bool is_z85_key(std::string_view key) {
  static constexpr std::string_view kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (key.size() != 40) return false;
  for (char c : key) {
    if (kZ85.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

Result<api::NodeStatus> TestBackend::status() {
  auto s = RecordService::status();
  if (!s) return s;
  s->name = name_;
  s->role = "peer";
  s->public_key = kTestNodeKey;
  s->version = "test";
  return s;
}

Result<api::TrustedKeyList> TestBackend::trusted_keys() {
  api::TrustedKeyList list;
  for (const auto& [key, entry] : keys_) list.keys.push_back(entry);
  return list;
}

Status TestBackend::trust(const api::TrustAddRequest& request) {
  if (!is_z85_key(request.key)) {
    return Status::invalid("'" + request.key + "' is not a CURVE public key (40 characters of Z85)");
  }
  keys_[request.key] = api::TrustedKey{request.key, request.name, 1'700'000'000'000};
  return Status::ok();
}

Status TestBackend::distrust(std::string_view key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return Status::not_found("the key " + std::string(key) + " is not trusted");
  keys_.erase(it);
  return Status::ok();
}

Result<std::unique_ptr<TestNode>> TestNode::open(const std::filesystem::path& dir, TestNodeOptions options) {
  std::unique_ptr<TestNode> node(new TestNode());
  node->id_ = options.id;
  auto store = LmdbStore::open(dir);
  if (!store) return store.status().context("opening the store");
  node->store_ = std::move(store).value();
  ReplicaOptions ro;
  ro.node_id = options.id;
  ro.cluster = "test";
  ro.strategies = options.strategies;
  node->counted_ = std::make_unique<app::CountingStore>(*node->store_);
  auto replica = Replica::open(*node->counted_, node->clock_, ro);
  if (!replica) return replica.status().context("opening the replica");
  node->replica_ = std::move(replica).value();
  SHOPSYNC_TRY(app::start_counting(*node->counted_, *node->replica_));
  node->backend_ = std::make_unique<TestBackend>(*node->replica_, *node->counted_, node->outbox_, options.name);
  return node;
}

Status sync_nodes(TestNode& a, TestNode& b) {
  a.outbox().messages.clear();
  b.outbox().messages.clear();
  a.replica().peer_connected(b.id(), b.replica().knowledge(), a.outbox());
  b.replica().peer_connected(a.id(), a.replica().knowledge(), b.outbox());
  for (int round = 0; round < 10'000; ++round) {
    auto from_a = std::move(a.outbox().messages);
    auto from_b = std::move(b.outbox().messages);
    a.outbox().messages.clear();
    b.outbox().messages.clear();
    if (from_a.empty() && from_b.empty()) break;
    for (auto& [to, message] : from_a) {
      if (to == b.id()) SHOPSYNC_TRY(b.replica().receive(a.id(), message, b.outbox()));
    }
    for (auto& [to, message] : from_b) {
      if (to == a.id()) SHOPSYNC_TRY(a.replica().receive(b.id(), message, a.outbox()));
    }
  }
  a.replica().peer_disconnected(b.id());
  b.replica().peer_disconnected(a.id());
  a.outbox().messages.clear();
  b.outbox().messages.clear();
  return Status::ok();
}

Status serve(api::ApiServer& server, const std::atomic<bool>& stop, const std::function<void()>& between) {
  using namespace std::chrono;
  while (!stop.load()) {
    // Wake at least every 20 ms to look at `stop` and `between`.
    milliseconds timeout(20);
    if (auto deadline = server.next_deadline()) {
      auto left = duration_cast<milliseconds>(*deadline - api::ApiServer::Clock::now());
      if (left < timeout) timeout = left < milliseconds(0) ? milliseconds(0) : left;
    }
    zmq_pollitem_t item{server.socket(), 0, ZMQ_POLLIN, 0};
    const int rc = zmq_poll(&item, 1, static_cast<long>(timeout.count()));
    if (rc < 0 && zmq_errno() != EINTR) return Status::io_error(std::string("polling: ") + zmq_strerror(zmq_errno()));
    if (rc > 0 && (item.revents & ZMQ_POLLIN) != 0) SHOPSYNC_TRY(server.on_readable());
    server.on_timer();
    if (between) between();
  }
  return Status::ok();
}

Result<std::unique_ptr<ServingNode>> ServingNode::start(TestNode& node, const std::string& address,
                                                       api::ApiServerOptions options) {
  auto server = api::ApiServer::bind(nullptr, address, node.backend(), options);
  if (!server) return server.status();
  return std::unique_ptr<ServingNode>(new ServingNode(node, std::move(server).value()));
}

ServingNode::ServingNode(TestNode& node, std::unique_ptr<api::ApiServer> server)
    : node_(node), server_(std::move(server)), endpoint_(server_->endpoint()) {
  thread_ = std::thread([this] {
    (void)serve(*server_, stop_, [this] {
      std::vector<std::function<void()>> tasks;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        tasks.swap(tasks_);
      }
      for (auto& t : tasks) t();
    });
  });
}

ServingNode::~ServingNode() {
  stop_ = true;
  thread_.join();
}

void ServingNode::run(const std::function<void(api::ApiServer&, TestNode&)>& task) {
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back([&] {
      task(*server_, node_);
      std::lock_guard<std::mutex> l(done_mutex);
      done = true;
      done_cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(done_mutex);
  done_cv.wait(lock, [&] { return done; });
}

}  // namespace shopsync::test
