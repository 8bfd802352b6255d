// The HTTP gateway of a node (docs/http-gateway.md): the original system's
// sync endpoints for browser clients, REST access to records, /metrics.
//
//   POST /api/sync/pull | push | full | resolve-conflict
//   GET  /api/sync/status/:deviceId
//   GET  /v1                              collections and record counts
//   GET  /v1/{collection}?after=ID&limit=N
//   GET | PUT | DELETE /v1/{collection}/{id}
//   GET  /metrics                         Prometheus text format 0.0.4
//   GET  /healthz                         liveness, no data
//   GET | POST | DELETE /api/console/...  the web console's reads and admin
//                                         (console_endpoints.cc)
//   GET  /anything else                   the web console's files
//                                         (static_files.h), when a web root is set
//
// Every route but /metrics and /healthz needs "Authorization: Bearer <token>"
// (tokens.h); without a valid one the answer is 401 and nothing is read.
// Errors are JSON {"success": false, "error": "...", "code": "..."} with a
// 4xx status; a request that fails changes nothing stored (a push with
// per-record errors applies the other records: partial success).
//
// Shape: like the local API server. It owns its HTTP socket (a ZMQ_STREAM
// socket, http_server.h) and no thread: the node's loop polls socket() for
// ZMQ_POLLIN, calls on_readable(), then flushes the Outbox it gave (writes go
// through the Replica, which queues NOTIFY there), and calls on_timer() by
// next_deadline().
//
// Thread-safety: none; the loop thread only. Replica, Store and Outbox must
// outlive the gateway.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/api/replica_backend.h"
#include "node/gateway/http_server.h"
#include "node/gateway/json_values.h"
#include "node/gateway/record_counts.h"
#include "replication/device_push.h"
#include "replication/device_state.h"
#include "replication/outbox.h"
#include "replication/replica.h"
#include "storage/full_disk.h"
#include "storage/store.h"

namespace shopsync::gateway {

// The default of shopsyncd --http when given without a host.
inline constexpr std::string_view kDefaultHttpAddress = "127.0.0.1:7462";

// The four collections of the original system: always present in a pull's
// "changes", even when empty.
inline const std::vector<std::string> kSeedCollections = {"customers", "orders", "payments", "projects"};

// What the daemon knows of a peer beyond the Replica (name, role, link state).
struct PeerSummary {
  NodeId id = 0;
  std::string name;
  std::string role = "peer";  // "peer" | "uplink"
  std::string state;          // "connected", "offline", ...
  std::uint64_t last_sync_ms = 0;  // last successful sync with it (wall ms), 0 = never
  std::int64_t clock_offset_ms = 0;  // its clock minus ours, measured at its last HELLO
  // A sync from it running now (docs/operations.md, "Sync progress"); all 0 when none.
  bool syncing = false;
  std::uint64_t sync_records_received = 0;
  std::uint64_t sync_records_total = 0;  // estimate
  std::uint64_t sync_bytes_received = 0;
  std::uint64_t sync_bytes_total = 0;    // estimate
  std::uint64_t sync_rate = 0;           // records/s
  std::uint64_t sync_eta_ms = 0;         // 0 while unknown
};

struct GatewayOptions {
  HttpServerOptions http;
  std::string node_name;
  std::string role = "peer";              // this node's role, shown by status and /metrics
  std::size_t max_pull_records = 1000;    // per pull response (the seed's batch limit)
  bool metrics_need_token = false;        // /metrics is open by default (counts only, no record data)
  // The web console's files (static_files.h); empty: none are served.
  std::filesystem::path web_root;
};

struct GatewayHooks {
  // Wall-clock ms; default: the system clock.
  std::function<std::uint64_t()> now_ms;
  // Peers with name, role and state (the daemon's view); default: what the
  // Replica knows (ids and counters only, role "peer").
  std::function<std::vector<PeerSummary>()> peers;
  // Stored records found not to decode (LmdbStore::unreadable()); default: 0.
  std::function<std::uint64_t()> unreadable_records;
  // Writes refused for a full disk and whether it is full now (storage/full_disk.h).
  std::function<FullDiskState()> full_disk;
  // Live and conflicted records per collection, kept current on writes
  // (record_counts.h); default: every scrape of /metrics counts every record.
  std::function<RecordCounts()> record_counts;
  // What the console's endpoints read and write through: the daemon's local
  // API backend (its status and peers hold names, states, lag and last
  // errors). Must outlive the gateway. Default: a ReplicaBackend over the
  // gateway's Replica (what the Replica alone knows).
  api::ReplicaBackend* backend = nullptr;
};

class Gateway final : public HttpHandler {
 public:
  static Result<std::unique_ptr<Gateway>> bind(void* zmq_context, const std::string& address, Replica& replica,
                                               Store& store, Outbox& outbox, GatewayOptions options = {},
                                               GatewayHooks hooks = {});
  ~Gateway() override;

  void* socket() const { return server_->socket(); }
  const std::string& endpoint() const { return server_->endpoint(); }
  std::uint16_t port() const { return server_->port(); }
  Status on_readable() { return server_->on_readable(); }
  std::optional<HttpServer::Clock::time_point> next_deadline() const { return server_->next_deadline(); }
  void on_timer() { server_->on_timer(); }

  HttpResponse handle(const HttpRequest& request) override;

  // The record id field of a collection in sync payloads: singular + "_id"
  // ("customers" -> "customer_id", "categories" -> "category_id").
  static std::string id_field(std::string_view collection);

 private:
  struct Metrics;
  Gateway(Replica& replica, Store& store, Outbox& outbox, GatewayOptions options, GatewayHooks hooks);

  std::uint64_t now_ms() const;
  // What handle() learns while routing: the route label (a fixed set, never
  // a name from the request; docs/http-gateway.md) and whether the request
  // passed authentication.
  struct RouteInfo {
    std::string_view name = "unknown";
    bool authenticated = false;
  };
  HttpResponse route(const HttpRequest& request, RouteInfo& info);
  std::optional<HttpResponse> authenticate(const HttpRequest& request);

  // sync_endpoints.cc
  HttpResponse sync_pull(const HttpRequest& request);
  HttpResponse sync_push(const HttpRequest& request);
  HttpResponse sync_full(const HttpRequest& request);
  HttpResponse sync_resolve(const HttpRequest& request);
  HttpResponse sync_status(std::string_view device);
  Result<json> do_pull(std::string_view device, const json& request);
  Result<json> do_push(std::string_view device, const json& request);
  json record_json(const VisibleRecord& record) const;
  json conflict_json(const RecordKey& key, const DeviceConflict& conflict) const;

  // rest_endpoints.cc
  HttpResponse rest(const HttpRequest& request);

  // console_endpoints.cc
  HttpResponse console(const HttpRequest& request);
  void mark_writers(json& view) const;
  api::ReplicaBackend& backend();

  // metrics.cc
  HttpResponse metrics();
  std::vector<PeerSummary> peer_summaries() const;

  Replica& replica_;
  Store& store_;
  Outbox& outbox_;
  GatewayOptions options_;
  GatewayHooks hooks_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<api::ReplicaBackend> own_backend_;  // when hooks_.backend is null
  std::unique_ptr<HttpServer> server_;
};

}  // namespace shopsync::gateway
