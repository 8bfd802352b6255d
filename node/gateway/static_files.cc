#include "node/gateway/static_files.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <system_error>

#include "node/gateway/http_server.h"

namespace shopsync::gateway {

namespace {

struct TypeByExtension {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<TypeByExtension, 12> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".md", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".webmanifest", "application/manifest+json"},
}};

// Only what the console itself is: scripts, styles, images and fetches from
// this origin; no framing by another site.
constexpr std::string_view kHtmlPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

bool safe_segment(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  return s.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

HttpResponse not_found(const HttpRequest& request) {
  return json_error(404, "no_route", "no such endpoint or file: " + request.path);
}

}  // namespace

std::string_view content_type_for(std::string_view filename) {
  for (const auto& t : kTypes) {
    if (filename.size() > t.extension.size() && filename.ends_with(t.extension)) return t.type;
  }
  return "application/octet-stream";
}

HttpResponse serve_static(const std::filesystem::path& root, const HttpRequest& request) {
  namespace fs = std::filesystem;
  fs::path relative;
  for (const auto& segment : request.segments) {
    if (!safe_segment(segment)) return not_found(request);
    relative /= segment;
  }
  if (relative.empty()) relative = "index.html";

  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) return json_error(500, "web_root", "the web root " + root.string() + " cannot be read: " + ec.message());
  const fs::path file = fs::canonical(real_root / relative, ec);
  if (ec) return not_found(request);
  // Symbolic links may point anywhere: the file's real path must still be under the root.
  const auto [root_end, file_it] = std::mismatch(real_root.begin(), real_root.end(), file.begin(), file.end());
  if (root_end != real_root.end() || !fs::is_regular_file(file, ec)) return not_found(request);
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) return not_found(request);
  if (size > kMaxStaticFileBytes) return json_error(500, "too_large", request.path + ": file too large to serve");
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) return not_found(request);

  std::ostringstream tag;
  tag << '"' << std::hex << size << '-' << mtime.time_since_epoch().count() << '"';
  HttpResponse r;
  r.content_type = std::string(content_type_for(file.filename().string()));
  r.headers.emplace_back("ETag", tag.str());
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (r.content_type.starts_with("text/html")) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kHtmlPolicy));
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (auto seen = request.header("if-none-match"); seen && *seen == tag.str()) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  r.body.resize(static_cast<std::size_t>(size));
  if (!in.read(r.body.data(), static_cast<std::streamsize>(size))) {
    return json_error(500, "io_error", request.path + ": the file could not be read");
  }
  return r;
}

}  // namespace shopsync::gateway
