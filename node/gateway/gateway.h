// The HTTP gateway of a node (docs/http-gateway.md): the original system's
// sync endpoints for browser clients, REST access to records, /metrics.
//
//   POST /api/auth/login                   built-in login (users.h), when enabled
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
// Every route but /metrics, /healthz and the login needs "Authorization:
// Bearer <token>": a token of tokens.h, or a JWT (jwt.h) from the business's
// auth server or the built-in login; without a valid one the answer is 401
// and nothing is read. A token with a scope (a grant, tokens.h) reads only the
// records of its read scope, on every route, and a write outside its write
// scope is refused whole with 403 {"code": "outside_scope", "collection",
// "id"}, nothing of it applied (token_scope.cc; docs/http-gateway.md). OPTIONS (a CORS preflight, cors.h) needs none. Answers
// are gzip-compressed for clients that accept it; request bodies may be sent
// with Content-Encoding: gzip.
// Errors are JSON {"success": false, "error": "...", "code": "..."} with a
// 4xx status; a request that fails changes nothing stored (a push with
// per-record errors applies the other records: partial success).
//
// Shape: like the local API server. It owns its HTTP socket (a ZMQ_STREAM
// socket, http_server.h) and no thread: the node's loop polls socket() for
// ZMQ_POLLIN, calls on_readable(), then flushes the Outbox of its service
// (writes go through the Replica, which queues NOTIFY there), and calls
// on_timer() by next_deadline(). Records, conflicts, device state, counts,
// tokens and users are reached through the node's application service
// (app/record_service.h) only.
//
// Thread-safety: none; the loop thread only. The service must outlive the
// gateway.
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

#include "app/record_service.h"
#include "node/gateway/cors.h"
#include "node/gateway/http_server.h"
#include "node/gateway/jwt.h"
#include "node/gateway/login_throttle.h"
#include "node/gateway/json_values.h"
#include "replication/device_push.h"
#include "replication/grant.h"
#include "storage/full_disk.h"

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
  std::vector<std::string> cors_origins;  // --cors-origin: web origins allowed to call ("*": any)
  std::optional<JwtOptions> jwt;          // --jwt-*: tokens of the business's auth server
  bool login = false;                     // --http-login: the built-in POST /api/auth/login
  std::uint64_t login_token_ttl_s = 12 * 3600;  // lifetime of a built-in login's token
  int login_attempts_per_address = 30;          // per minute (a reverse proxy puts every client on one address)
  int login_failures_per_user = 5;              // per minute
  // The web console's files (static_files.h); empty: none are served.
  std::filesystem::path web_root;
};

struct GatewayHooks {
  // Wall-clock ms; default: the system clock.
  std::function<std::uint64_t()> now_ms;
  // Peers with name, role and state (the daemon's view); default: what the
  // service's Replica knows (ids and counters only, role "peer").
  std::function<std::vector<PeerSummary>()> peers;
  // Stored records found not to decode (LmdbStore::unreadable()); default: 0.
  std::function<std::uint64_t()> unreadable_records;
  // Writes refused for a full disk and whether it is full now (storage/full_disk.h).
  std::function<FullDiskState()> full_disk;
  // More exposition lines for /metrics, from parts of the node the gateway
  // does not know (the PostgreSQL link, node/postgres/pg_uplink.h).
  std::function<std::string()> more_metrics;
};

class Gateway final : public HttpHandler {
 public:
  // `service`: the node's (the daemon's, whose status and peers hold names,
  // states, lag and last errors, for the web console). Must outlive the gateway.
  static Result<std::unique_ptr<Gateway>> bind(void* zmq_context, const std::string& address,
                                               app::RecordService& service, GatewayOptions options = {},
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
  Gateway(app::RecordService& service, GatewayOptions options, GatewayHooks hooks);

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
  // The request's deviceId against the device its JWT is bound to (if any):
  // a 403 when they differ.
  std::optional<HttpResponse> check_device(std::string_view device) const;
  HttpResponse login(const HttpRequest& request);

  // sync_endpoints.cc
  HttpResponse sync_pull(const HttpRequest& request);
  HttpResponse sync_push(const HttpRequest& request);
  HttpResponse sync_full(const HttpRequest& request);
  HttpResponse sync_resolve(const HttpRequest& request);
  HttpResponse sync_status(std::string_view device);
  Result<json> do_pull(std::string_view device, const json& request);
  // `refused`: set (and nothing applied) when a change is outside the token's write scope.
  Result<json> do_push(std::string_view device, const json& request, std::optional<HttpResponse>& refused);
  json record_json(const VisibleRecord& record) const;
  json conflict_json(const RecordKey& key, const DeviceConflict& conflict) const;

  // rest_endpoints.cc
  HttpResponse rest(const HttpRequest& request);

  // token_scope.cc: the request's token's scope (everything for an unscoped
  // token or a JWT).
  void set_scope(const std::optional<Grant>& grant);
  bool scoped() const { return grant_.has_value(); }
  // Some version of the record is in the read scope.
  bool readable(const RecordKey& key, const std::vector<Version>& siblings) const;
  // The same, with `key`'s versions read from the store (false: not stored).
  Result<bool> readable(const RecordKey& key);
  // The live records of `collection` the token may read, out of `all` (a
  // filtered collection is counted by a scan).
  Result<std::uint64_t> readable_count(const std::string& collection, std::uint64_t all);
  // 403 for a collection outside the read scope.
  std::optional<HttpResponse> refuse_collection(const std::string& collection);
  // 403 (counted) when making `next` the value of `key`, which holds
  // `current`, is outside the write scope.
  std::optional<HttpResponse> refuse_write(const RecordKey& key, const std::vector<Version>& current,
                                           const Version& next);
  // The same, with `key`'s current versions read from the store.
  std::optional<HttpResponse> refuse_write(const RecordKey& key, const Version& next);
  // 403 for what only an unscoped token may do (managing tokens).
  std::optional<HttpResponse> refuse_scoped(std::string_view what) const;

  // console_endpoints.cc
  HttpResponse console(const HttpRequest& request);
  void mark_writers(json& view) const;

  // metrics.cc
  HttpResponse metrics();
  std::vector<PeerSummary> peer_summaries() const;

  app::RecordService& service_;
  GatewayOptions options_;
  GatewayHooks hooks_;
  std::unique_ptr<Metrics> metrics_;
  CorsPolicy cors_;
  std::vector<JwtVerifier> verifiers_;  // the business's (if configured), the built-in login's (if on)
  LoginThrottle throttle_;
  std::string login_key_;
  // The identity of the request being answered (loop thread, one at a time).
  std::optional<JwtIdentity> identity_;
  std::optional<Grant> grant_;  // its token's scope; none: everything
  Scope reads_ = Scope::everything();
  Scope writes_ = Scope::everything();
  std::unique_ptr<HttpServer> server_;
};

}  // namespace shopsync::gateway
