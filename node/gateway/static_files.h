// The web console's files (docs/web-console.md): GET and HEAD of any path
// that is not an endpoint are answered from one directory, the web root
// (`shopsyncd --web-root DIR`; the package installs /usr/share/shopsync/web).
//
//   /                 -> ROOT/index.html
//   /shopsync.js      -> ROOT/shopsync.js
//   /a/b.css          -> ROOT/a/b.css
//
// Only regular files under the root are served: a path segment that is empty,
// starts with '.' (".", "..", hidden files) or holds '/', '\\' or NUL (after
// percent-decoding) is 404, and so is a file whose real path (symbolic links
// followed) leaves the root. Files over kMaxStaticFileBytes are refused (the
// console's files are a few tens of KiB).
//
// Caching: every answer carries an ETag (size and modification time) and
// "Cache-Control: no-cache" (the browser keeps the file but asks again, so an
// upgraded package is seen at the next load); If-None-Match with that tag
// answers 304 without the body. HTML also gets a Content-Security-Policy that
// allows nothing but this origin (no CDN, no inline script).
//
// Files are read at each request, on the loop thread: a few small files,
// cheaper than a cache to keep in step with the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "node/gateway/http_message.h"

namespace shopsync::gateway {

inline constexpr std::uintmax_t kMaxStaticFileBytes = 4 << 20;

// The Content-Type of a file by its extension ("index.html" -> "text/html;
// charset=utf-8"); application/octet-stream when unknown.
std::string_view content_type_for(std::string_view filename);

// The answer to GET or HEAD of `request.path` from `root`. REQUIRES: the
// method is GET or HEAD.
HttpResponse serve_static(const std::filesystem::path& root, const HttpRequest& request);

}  // namespace shopsync::gateway
