// Cross-origin requests (docs/http-gateway.md, "CORS"): which web origins may
// call the gateway from a browser, the answer to a preflight, and the headers
// added to every answer for an allowed origin.
//
// Origins are configured (shopsyncd --cors-origin, repeatable; "*" allows
// any). A preflight (OPTIONS) is answered without a token, as browsers send
// it without credentials; it reveals nothing but the allowed methods and
// headers. Value type; thread-safe when const.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "node/gateway/http_message.h"

namespace shopsync::gateway {

// An origin as browsers send it ("https://shop.example:8443"), or "*".
// invalid_argument naming the rule. Inline: the daemon's configuration
// checks origins without linking the gateway.
inline Status validate_cors_origin(std::string_view origin) {
  if (origin == "*") return Status::ok();
  const bool scheme = origin.starts_with("http://") || origin.starts_with("https://");
  const auto host = origin.substr(origin.find("//") + 2);
  bool printable = true;
  for (char c : origin) printable = printable && c > ' ' && c < 0x7f;
  if (!scheme || host.empty() || host.find('/') != std::string_view::npos || !printable) {
    return Status::invalid("CORS origin '" + std::string(origin) +
                           "' must be SCHEME://HOST[:PORT] (http or https, no path), or *");
  }
  return Status::ok();
}

class CorsPolicy {
 public:
  CorsPolicy() = default;
  explicit CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

  bool allows(std::string_view origin) const;

  // The answer to an OPTIONS request: 204 with the Access-Control-Allow-*
  // headers for an allowed origin; 403 for another origin; 204 with Allow
  // only when no Origin is given (not a browser preflight).
  HttpResponse preflight(const HttpRequest& request) const;

  // Adds Access-Control-Allow-Origin (the request's origin) and
  // Access-Control-Expose-Headers when the request's Origin is allowed;
  // Vary: Origin whenever origins are configured.
  void decorate(const HttpRequest& request, HttpResponse& response) const;

 private:
  std::vector<std::string> origins_;
};

}  // namespace shopsync::gateway
