#include "node/gateway/gateway.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "node/gateway/gateway_metrics.h"
#include "node/gateway/gzip.h"
#include "node/gateway/static_files.h"

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

Result<std::unique_ptr<Gateway>> Gateway::bind(void* zmq_context, const std::string& address,
                                               app::RecordService& service, GatewayOptions options,
                                               GatewayHooks hooks) {
  for (const auto& origin : options.cors_origins) SHOPSYNC_TRY(validate_cors_origin(origin));
  std::unique_ptr<Gateway> gateway(new Gateway(service, std::move(options), std::move(hooks)));
  if (gateway->options_.jwt) {
    auto verifier = JwtVerifier::create(*gateway->options_.jwt);
    if (!verifier) return verifier.status().context("HTTP gateway: JWT");
    gateway->verifiers_.push_back(std::move(*verifier));
  }
  if (gateway->options_.login) {
    auto key = service.login_key();
    if (!key) return key.status().context("HTTP gateway: the built-in login's key");
    gateway->login_key_ = *key;
    auto verifier = JwtVerifier::create({"HS256", *key, "sub", "deviceId", "", ""});
    if (!verifier) return verifier.status();
    gateway->verifiers_.push_back(std::move(*verifier));
  }
  auto server = HttpServer::bind(zmq_context, address, *gateway, gateway->options_.http);
  if (!server) return server.status().context("HTTP gateway");
  gateway->server_ = std::move(*server);
  return gateway;
}

Gateway::Gateway(app::RecordService& service, GatewayOptions options, GatewayHooks hooks)
    : service_(service),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      metrics_(std::make_unique<Metrics>()),
      cors_(options_.cors_origins),
      throttle_(options_.login_attempts_per_address, options_.login_failures_per_user) {}

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
  if (looks_like_jwt(value)) {
    if (verifiers_.empty()) return deny("a JWT was given but none is accepted here (shopsyncd --jwt-algorithm, --http-login)");
    Status why = Status::refused("no JWT key");
    for (const auto& verifier : verifiers_) {
      auto id = verifier.verify(value, now_ms() / 1000);
      if (id) {
        identity_ = std::move(*id);
        return std::nullopt;
      }
      why = id.status();
    }
    return deny(why.message());
  }
  auto token = service_.find_token(value);
  if (!token) return json_error(500, "storage", token.status().to_string());
  if (!token->has_value()) return deny("unknown or revoked token");
  set_scope((*token)->scope);
  return std::nullopt;
}

std::optional<HttpResponse> Gateway::check_device(std::string_view device) const {
  if (!identity_ || !identity_->device || *identity_->device == device) return std::nullopt;
  return json_error(403, "wrong_device",
                    "the token is for device '" + *identity_->device + "', not '" + std::string(device) + "'");
}

namespace {

// Answers of this size or more are compressed for clients that accept gzip.
constexpr std::size_t kGzipMinBytes = 1024;

void compress(const HttpRequest& request, HttpResponse& response) {
  auto accept = request.header("accept-encoding");
  if (response.body.size() < kGzipMinBytes || !accept || !accepts_gzip(*accept)) return;
  auto packed = gzip_compress(response.body);
  if (!packed) return;  // sent as it is
  response.body = std::move(*packed);
  response.headers.emplace_back("Content-Encoding", "gzip");
  response.headers.emplace_back("Vary", "Accept-Encoding");
}

}  // namespace

HttpResponse Gateway::handle(const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  RouteInfo info;
  identity_.reset();
  set_scope(std::nullopt);
  HttpResponse response;
  if (request.method == "OPTIONS") {
    info.name = "preflight";
    response = cors_.preflight(request);
  } else if (auto coding = request.header("content-encoding"); coding && !request.body.empty()) {
    if (*coding != "gzip" && *coding != "x-gzip") {
      response = json_error(415, "unsupported_encoding", "Content-Encoding '" + std::string(*coding) + "' is not gzip");
    } else if (auto body = gzip_decompress(request.body, options_.http.limits.max_body_bytes); !body) {
      response = json_error(body.status().code() == Errc::too_large ? 413 : 400, "bad_encoding", body.status().message());
    } else {
      HttpRequest inflated = request;
      inflated.body = std::move(*body);
      response = route(inflated, info);
    }
  } else {
    response = route(request, info);
  }
  identity_.reset();
  set_scope(std::nullopt);
  response.authenticated = info.authenticated;
  cors_.decorate(request, response);
  compress(request, response);
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

  if (seg.size() == 3 && seg[0] == "api" && seg[1] == "auth" && seg[2] == "login") {
    info.name = "auth_login";
    if (!options_.login) {
      return json_error(404, "login_off",
                        "the built-in login is off (shopsyncd --http-login); use a token or your auth server's JWT");
    }
    if (request.method != "POST") return method_not_allowed("POST");
    return login(request);
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

// POST /api/auth/login {"username", "password"[, "deviceId"]}: the seed's
// login, answered with a token of the built-in login (users.h).
HttpResponse Gateway::login(const HttpRequest& request) {
  auto doc = parse_json(request.body);
  if (!doc || !doc->is_object()) return json_error(400, "invalid_argument", "the body must be {\"username\", \"password\"}");
  auto field = [&](const char* name) -> std::optional<std::string> {
    auto it = doc->find(name);
    if (it == doc->end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto user = field("username"), password = field("password"), device = field("deviceId");
  if (!user || !password) return json_error(400, "invalid_argument", "username and password must be strings");
  if (device) {
    if (Status s = validate_device_id(*device); !s) return json_error(400, "invalid_argument", s.message());
  }
  const auto now = LoginThrottle::Clock::now();
  if (auto wait = throttle_.admit(request.client_address, *user, now)) {
    HttpResponse r = json_error(429, "too_many_attempts", "too many login attempts; retry in " + std::to_string(*wait) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(*wait));
    return r;
  }
  auto ok = service_.check_password(*user, *password);
  if (!ok) return json_error(500, "storage", ok.status().to_string());
  if (!*ok) {
    throttle_.failed(*user, now);
    ++metrics_->unauthorized;
    return json_error(401, "unauthorized", "wrong user name or password");
  }
  const std::uint64_t now_s = now_ms() / 1000;
  auto token = sign_hs256(login_key_, *user, device ? std::optional<std::string_view>(*device) : std::nullopt, now_s,
                          options_.login_token_ttl_s);
  if (!token) return json_error(500, "internal", token.status().message());
  json out = {{"success", true},
              {"token", *token},
              {"user", {{"username", *user}}},
              {"expiresAt", format_iso8601((now_s + options_.login_token_ttl_s) * 1000)}};
  HttpResponse r;
  r.body = dump_json(out);
  return r;
}

}  // namespace shopsync::gateway
