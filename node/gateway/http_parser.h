// A small, strict, incremental HTTP/1.1 request parser (RFC 9112) with limits.
//
// Bytes arrive in any chunking; feed() appends them and next() returns each
// complete request in order (pipelining works). What it accepts:
//   - request line "METHOD SP origin-form SP HTTP/1.0|HTTP/1.1" ending in CRLF;
//   - header fields "name: value" (name a token), CRLF line ends only, no
//     obsolete line folding, at most max_header_count fields and
//     max_header_bytes for the request line and fields together;
//   - a body only by Content-Length (digits, repeated values must agree), at
//     most max_body_bytes. Transfer-Encoding is refused (501): the browser
//     clients and tools that talk to the gateway send Content-Length.
// Anything else is an HttpError with the status to answer (400, 413, 414,
// 431, 501, 505) and a message naming the problem. After an error the
// connection must be closed: the parser does not resynchronise (it stays
// failed). For a body that is too large the caller may still drain
// drain_bytes() bytes before closing, so that the client reads the answer
// instead of a reset.
//
// Thread-safety: none (one per connection).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "node/gateway/http_message.h"

namespace shopsync::gateway {

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;   // request line + header fields
  std::size_t max_header_count = 100;
  std::size_t max_target_bytes = 8 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;  // --http-max-body
};

struct HttpError {
  int status = 400;
  std::string message;
};

class RequestParser {
 public:
  explicit RequestParser(HttpLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }

  // A complete request, nullopt when more bytes are needed, or the error.
  std::variant<std::monostate, HttpRequest, HttpError> next();

  // True once the head of the current request is parsed, it asked for
  // "Expect: 100-continue" and its body has not fully arrived: the server
  // should send "100 Continue" (once; see take_continue()).
  bool take_continue();

  // After an error caused by an oversized body: how many bytes of that body
  // the client is still sending (0 when unknown or nothing).
  std::size_t drain_bytes() const { return drain_; }
  // Bytes buffered and not yet consumed.
  std::size_t buffered() const { return buffer_.size(); }
  // The head of a request is parsed and its body has not fully arrived.
  bool awaiting_body() const { return pending_.has_value(); }
  bool failed() const { return failed_; }

 private:
  std::variant<std::monostate, HttpRequest, HttpError> fail(int status, std::string message);
  std::optional<HttpError> parse_head(std::string_view head, HttpRequest& request);

  HttpLimits limits_;
  std::string buffer_;
  std::optional<HttpRequest> pending_;  // head parsed, waiting for the body
  std::size_t head_bytes_ = 0;          // of pending_
  std::size_t body_length_ = 0;         // of pending_
  bool continue_wanted_ = false;
  bool failed_ = false;
  std::size_t drain_ = 0;
};

// Percent-decoding of a path segment or query component ('+' stays '+' in a
// path, becomes ' ' in a query). nullopt on a malformed escape or a NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace shopsync::gateway
