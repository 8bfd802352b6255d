#include "node/gateway/cors.h"

#include <algorithm>

#include "node/gateway/http_server.h"

namespace shopsync::gateway {

namespace {

constexpr const char* kMethods = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
// What a browser client sends: its token, its JSON body, a gzip body.
constexpr const char* kHeaders = "Authorization, Content-Type, Content-Encoding, Accept-Encoding";
constexpr const char* kMaxAge = "600";

}  // namespace

bool CorsPolicy::allows(std::string_view origin) const {
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& o) { return o == "*" || o == origin; });
}

HttpResponse CorsPolicy::preflight(const HttpRequest& request) const {
  HttpResponse r;
  auto origin = request.header("origin");
  if (origin && !allows(*origin)) {
    r = json_error(403, "origin_not_allowed",
                   "origin " + std::string(*origin) + " is not allowed (shopsyncd --cors-origin ORIGIN)");
    return r;
  }
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("Allow", kMethods);
  if (origin) {
    r.headers.emplace_back("Access-Control-Allow-Methods", kMethods);
    r.headers.emplace_back("Access-Control-Allow-Headers", kHeaders);
    r.headers.emplace_back("Access-Control-Max-Age", kMaxAge);
  }
  return r;
}

void CorsPolicy::decorate(const HttpRequest& request, HttpResponse& response) const {
  if (origins_.empty()) return;
  response.headers.emplace_back("Vary", "Origin");
  auto origin = request.header("origin");
  if (!origin || !allows(*origin)) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
  response.headers.emplace_back("Access-Control-Expose-Headers", "WWW-Authenticate, Content-Encoding");
}

}  // namespace shopsync::gateway
