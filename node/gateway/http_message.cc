#include "node/gateway/http_message.h"

#include <algorithm>

namespace shopsync::gateway {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 304: return "Not Modified";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

std::string HttpResponse::serialize(bool keep_alive, bool head_only) const {
  std::string out;
  out.reserve(body.size() + 256);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  if (!content_type.empty()) out += "Content-Type: " + content_type + "\r\n";
  // No length for a 204 or a 304 (RFC 9110, 8.6 and 15.4.5).
  if (status != 204 && status != 304) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  // Answers are not cached unless the handler says otherwise (static files).
  const bool cache_control = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Cache-Control"; });
  if (!cache_control) out += "Cache-Control: no-store\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!keep_alive || close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace shopsync::gateway
