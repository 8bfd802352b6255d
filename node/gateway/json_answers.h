// JSON answers of the REST and console endpoints: a body with a status, and
// the HTTP status of a Status the store or the Replica returned
// (docs/http-gateway.md, "Errors").
#pragma once

#include <charconv>
#include <optional>

#include "core/status.h"
#include "node/gateway/http_server.h"
#include "node/gateway/json_values.h"

namespace shopsync::gateway {

inline HttpResponse ok_json(const json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

inline HttpResponse from_status(const Status& s) {
  switch (s.code()) {
    case Errc::invalid_argument: return json_error(400, "invalid_argument", s.message());
    case Errc::not_found: return json_error(404, "not_found", s.message());
    case Errc::too_large: return json_error(413, "too_large", s.message());
    case Errc::refused: return json_error(409, "refused", s.message());
    default: return json_error(500, "internal", s.to_string());
  }
}

// The query parameter `name` as an integer from 1 to `max`; `fallback` when
// absent, nullopt when malformed or out of range.
inline std::optional<std::size_t> query_count(const HttpRequest& request, std::string_view name,
                                              std::size_t fallback, std::size_t max) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  const auto& t = it->second;
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || n == 0 || n > max) return std::nullopt;
  return n;
}

}  // namespace shopsync::gateway
