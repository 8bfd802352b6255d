#include "node/gateway/http_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace shopsync::gateway {

namespace {

bool is_tchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Visible ASCII, space, tab and obs-text; no other control characters.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u >= 0x20 ? u != 0x7f : false;
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits a comma-separated header value into lower-cased trimmed items.
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = trim_blanks(value.substr(0, comma));
    if (lower(item) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::optional<std::string_view> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

std::variant<std::monostate, HttpRequest, HttpError> RequestParser::fail(int status, std::string message) {
  failed_ = true;
  buffer_.clear();
  return HttpError{status, std::move(message)};
}

bool RequestParser::take_continue() {
  if (!continue_wanted_ || !pending_) return false;
  continue_wanted_ = false;
  return buffer_.size() < head_bytes_ + body_length_;
}

std::optional<HttpError> RequestParser::parse_head(std::string_view head, HttpRequest& request) {
  // Request line.
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return HttpError{400, "malformed request line (expected METHOD SP TARGET SP HTTP/1.1)"};
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return HttpError{400, "malformed request method"};
  if (version == "HTTP/1.1") {
    request.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request.minor_version = 0;
  } else if (version.starts_with("HTTP/")) {
    return HttpError{505, "HTTP version not supported (this gateway speaks HTTP/1.1)"};
  } else {
    return HttpError{400, "malformed HTTP version"};
  }
  if (target.size() > limits_.max_target_bytes) return HttpError{414, "request target longer than the limit"};
  if (target.empty() || target.front() != '/') return HttpError{400, "request target must be an absolute path"};
  if (!std::all_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f;
      })) {
    return HttpError{400, "request target holds characters that must be percent-encoded"};
  }
  request.method = std::string(method);
  request.target = std::string(target);

  const auto qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  const auto path = percent_decode(raw_path, false);
  if (!path) return HttpError{400, "malformed percent-encoding in the path"};
  request.path = *path;
  std::string_view rest = raw_path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    auto segment = percent_decode(rest.substr(0, slash), false);
    if (!segment) return HttpError{400, "malformed percent-encoding in the path"};
    request.segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (request.segments.size() == 1 && request.segments.front().empty()) request.segments.clear();
  if (qmark != std::string_view::npos) {
    std::string_view query = target.substr(qmark + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
        if (!name || !value) return HttpError{400, "malformed percent-encoding in the query"};
        request.query[*name] = std::move(*value);
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }

  // Header fields.
  std::string_view fields = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  std::optional<std::size_t> content_length;
  bool connection_close = false, connection_keep_alive = false;
  while (!fields.empty()) {
    const auto end = fields.find("\r\n");
    const std::string_view field = fields.substr(0, end);
    fields.remove_prefix(end == std::string_view::npos ? fields.size() : end + 2);
    if (field.empty()) continue;
    if (field.front() == ' ' || field.front() == '\t') return HttpError{400, "obsolete header line folding is not accepted"};
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) return HttpError{400, "malformed header field (no ':')"};
    const std::string_view name = field.substr(0, colon);
    if (!is_token(name)) return HttpError{400, "malformed header field name"};
    const std::string_view value = trim_blanks(field.substr(colon + 1));
    if (!is_field_value(value)) return HttpError{400, "control characters in header field " + std::string(name)};
    if (request.headers.size() >= limits_.max_header_count) return HttpError{431, "too many header fields"};
    std::string lname = lower(name);
    if (lname == "content-length") {
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
        return HttpError{400, "malformed Content-Length"};
      }
      if (content_length && *content_length != n) return HttpError{400, "conflicting Content-Length fields"};
      content_length = n;
    } else if (lname == "transfer-encoding") {
      return HttpError{501, "Transfer-Encoding is not supported; send the body with Content-Length"};
    } else if (lname == "connection") {
      connection_close = connection_close || has_token(value, "close");
      connection_keep_alive = connection_keep_alive || has_token(value, "keep-alive");
    } else if (lname == "expect") {
      if (lower(value) != "100-continue") return HttpError{417, "only 'Expect: 100-continue' is understood"};
      continue_wanted_ = true;
    }
    request.headers.emplace_back(std::move(lname), std::string(value));
  }
  if (request.minor_version == 1 && !request.header("host")) return HttpError{400, "HTTP/1.1 request without Host"};
  request.keep_alive = request.minor_version == 1 ? !connection_close : connection_keep_alive && !connection_close;
  body_length_ = content_length.value_or(0);
  if (body_length_ > limits_.max_body_bytes) {
    drain_ = body_length_;
    return HttpError{413, "request body of " + std::to_string(body_length_) + " bytes is larger than the limit of " +
                              std::to_string(limits_.max_body_bytes) + " bytes"};
  }
  return std::nullopt;
}

std::variant<std::monostate, HttpRequest, HttpError> RequestParser::next() {
  if (failed_) return HttpError{400, "connection already failed"};
  if (!pending_) {
    const auto end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > limits_.max_header_bytes) return fail(431, "request head larger than the limit");
      // A bare LF where CRLF is due is refused rather than waited on forever.
      const auto lf = buffer_.find('\n');
      if (lf != std::string::npos && (lf == 0 || buffer_[lf - 1] != '\r')) return fail(400, "line ends must be CRLF");
      return std::monostate{};
    }
    if (end + 4 > limits_.max_header_bytes) return fail(431, "request head larger than the limit");
    std::string_view head(buffer_.data(), end + 2);  // keeps the last field's CRLF
    for (std::size_t i = 0; i < head.size(); ++i) {
      if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return fail(400, "line ends must be CRLF");
      if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return fail(400, "stray CR in the request head");
    }
    HttpRequest request;
    if (auto error = parse_head(head, request)) {
      // Body bytes that already arrived count toward what is left to drain.
      const std::size_t arrived = buffer_.size() - (end + 4);
      drain_ = drain_ > arrived ? drain_ - arrived : 0;
      return fail(error->status, error->message);
    }
    head_bytes_ = end + 4;
    pending_ = std::move(request);
  }
  if (buffer_.size() < head_bytes_ + body_length_) return std::monostate{};
  HttpRequest request = std::move(*pending_);
  pending_.reset();
  request.body = buffer_.substr(head_bytes_, body_length_);
  buffer_.erase(0, head_bytes_ + body_length_);
  head_bytes_ = 0;
  body_length_ = 0;
  continue_wanted_ = false;
  return request;
}

}  // namespace shopsync::gateway
