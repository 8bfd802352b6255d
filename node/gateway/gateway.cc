#include "node/gateway/gateway.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "node/gateway/gateway_metrics.h"
#include "node/gateway/static_files.h"
#include "node/gateway/tokens.h"

namespace shopsync::gateway {

namespace {

// The route label of /api/sync/... (segments "api", "sync", op, ...).
std::string_view sync_route(const std::vector<std::string>& seg) {
  const std::string& op = seg[2];
  if (op == "status" && seg.size() == 4) return "sync_status";
  if (seg.size() != 3) return "unknown";
  if (op == "pull") return "sync_pull";
  if (op == "push") return "sync_push";
  if (op == "full") return "sync_full";
  if (op == "resolve-conflict") return "sync_resolve";
  return "unknown";
}

}  // namespace

Result<std::unique_ptr<Gateway>> Gateway::bind(void* zmq_context, const std::string& address, Replica& replica,
                                               Store& store, Outbox& outbox, GatewayOptions options,
                                               GatewayHooks hooks) {
  std::unique_ptr<Gateway> gateway(new Gateway(replica, store, outbox, std::move(options), std::move(hooks)));
  auto server = HttpServer::bind(zmq_context, address, *gateway, gateway->options_.http);
  if (!server) return server.status().context("HTTP gateway");
  gateway->server_ = std::move(*server);
  return gateway;
}

Gateway::Gateway(Replica& replica, Store& store, Outbox& outbox, GatewayOptions options, GatewayHooks hooks)
    : replica_(replica),
      store_(store),
      outbox_(outbox),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      metrics_(std::make_unique<Metrics>()) {}

Gateway::~Gateway() = default;

std::uint64_t Gateway::now_ms() const {
  if (hooks_.now_ms) return hooks_.now_ms();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string Gateway::id_field(std::string_view collection) {
  std::string singular(collection);
  if (singular.ends_with("ies") && singular.size() > 3) {
    singular.replace(singular.size() - 3, 3, "y");
  } else if (singular.ends_with("sses") || singular.ends_with("xes")) {
    singular.resize(singular.size() - 2);
  } else if (singular.ends_with("s") && !singular.ends_with("ss") && singular.size() > 1) {
    singular.pop_back();
  }
  return singular + "_id";
}

std::optional<HttpResponse> Gateway::authenticate(const HttpRequest& request) {
  auto header = request.header("authorization");
  auto deny = [&](std::string message) {
    ++metrics_->unauthorized;
    HttpResponse r = json_error(401, "unauthorized", message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"shopsync\"");
    return r;
  };
  if (!header) return deny("missing 'Authorization: Bearer <token>' (create one with: shopsync token create NAME)");
  // credentials = auth-scheme 1*SP token68; the scheme is case-insensitive (RFC 9110, 11.1).
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer";
  const bool bearer = value.size() > kScheme.size() && value[kScheme.size()] == ' ' &&
                      std::equal(kScheme.begin(), kScheme.end(), value.begin(), [](char a, char b) {
                        return a == std::tolower(static_cast<unsigned char>(b));
                      });
  if (!bearer) return deny("the Authorization header must be 'Bearer <token>'");
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto name = verify_token(store_, value);
  if (!name) return json_error(500, "storage", name.status().to_string());
  if (!name->has_value()) return deny("unknown or revoked token");
  return std::nullopt;
}

HttpResponse Gateway::handle(const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  RouteInfo info;
  HttpResponse response = route(request, info);
  response.authenticated = info.authenticated;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string route_name(info.name);
  ++metrics_->requests[{route_name, response.status}];
  metrics_->durations[route_name].observe(seconds);
  return response;
}

HttpResponse Gateway::route(const HttpRequest& request, RouteInfo& info) {
  const auto& seg = request.segments;
  auto method_not_allowed = [&](const char* allow) {
    HttpResponse r = json_error(405, "method_not_allowed",
                                request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  };

  if (seg.size() == 1 && seg[0] == "healthz") {
    info.name = "healthz";
    if (request.method != "GET") return method_not_allowed("GET");
    HttpResponse r;
    r.body = R"({"success":true,"status":"ok"})";
    return r;
  }
  if (seg.size() == 1 && seg[0] == "metrics") {
    info.name = "metrics";
    if (request.method != "GET") return method_not_allowed("GET");
    if (options_.metrics_need_token) {
      if (auto denied = authenticate(request)) return *denied;
      info.authenticated = true;
    }
    return metrics();
  }

  if (seg.size() >= 2 && seg[0] == "api" && seg[1] == "console") {
    info.name = "console";
    if (auto denied = authenticate(request)) return *denied;
    info.authenticated = true;
    return console(request);
  }
  const bool sync = seg.size() >= 3 && seg[0] == "api" && seg[1] == "sync";
  const bool v1 = !seg.empty() && seg[0] == "v1";
  if (!sync && !v1) {
    // Not an endpoint: one of the web console's files, when it is served.
    const bool endpoint_space = !seg.empty() && seg[0] == "api";
    if (options_.web_root.empty() || endpoint_space) {
      info.name = "unknown";
      return json_error(404, "no_route", "no such endpoint: " + request.path);
    }
    info.name = "static";
    if (request.method != "GET" && request.method != "HEAD") return method_not_allowed("GET, HEAD");
    return serve_static(options_.web_root, request);
  }
  if (auto denied = authenticate(request)) {
    // The label of a known route; never a name taken from the request.
    info.name = !sync ? "rest" : sync_route(seg);
    return *denied;
  }
  info.authenticated = true;
  if (sync) {
    const std::string& op = seg[2];
    info.name = sync_route(seg);
    if (op == "status" && seg.size() == 4) {
      if (request.method != "GET") return method_not_allowed("GET");
      return sync_status(seg[3]);
    }
    if (seg.size() == 3 && (op == "pull" || op == "push" || op == "full" || op == "resolve-conflict")) {
      if (request.method != "POST") return method_not_allowed("POST");
      if (op == "pull") return sync_pull(request);
      if (op == "push") return sync_push(request);
      if (op == "full") return sync_full(request);
      return sync_resolve(request);
    }
    return json_error(404, "no_route", "no such sync endpoint: " + request.path);
  }
  info.name = seg.size() == 1 ? "rest_collections" : seg.size() == 2 ? "rest_list" : "rest_record";
  return rest(request);
}

}  // namespace shopsync::gateway
