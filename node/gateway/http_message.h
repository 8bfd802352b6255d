// The HTTP/1.1 values the gateway handles: one parsed request and one response.
// Plain value types; the parser is http_parser.h, the server http_server.h.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shopsync::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... (case-sensitive, as RFC 9110 says)
  std::string target;  // as sent: "/v1/customers?after=C1&limit=10"
  std::string path;    // percent-decoded path part of target: "/v1/customers"
  std::vector<std::string> segments;  // path split on '/', each percent-decoded
  std::map<std::string, std::string, std::less<>> query;  // decoded; the last of repeated names wins
  int minor_version = 1;  // HTTP/1.<minor>
  // Header names lower-cased, values with surrounding blanks removed, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 default, "Connection: close" / HTTP/1.0 rules applied
  std::string client_address;  // the peer's IP address ("" when unknown), set by the server

  // The first header of that (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;  // close the connection after sending
  // For the server's log of a 4xx/5xx answer: what was wrong (json_error sets it).
  std::string reason;
  // The request passed authentication (the server then keeps the connection
  // when it must make room for a new one).
  bool authenticated = false;

  // "HTTP/1.1 <status> <reason>\r\n...\r\n\r\n<body>"; `keep_alive` false adds
  // "Connection: close". `head_only` (the answer to HEAD) leaves the body out
  // but keeps its Content-Length.
  std::string serialize(bool keep_alive, bool head_only = false) const;
};

std::string_view reason_phrase(int status);

// `s` without the spaces and tabs around it (RFC 9110's optional whitespace,
// around header values and the items of their lists).
std::string_view trim_blanks(std::string_view s);

}  // namespace shopsync::gateway
