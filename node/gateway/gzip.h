// gzip for HTTP bodies (docs/http-gateway.md, "Compression"): the only file
// of the project that calls zlib. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync::gateway {

// Whether an Accept-Encoding value admits gzip ("gzip", "x-gzip" or "*",
// with a q-value above 0; RFC 9110, 12.5.3).
bool accepts_gzip(std::string_view accept_encoding);

// The gzip member (RFC 1952) of `data`. io_error only if zlib fails.
Result<std::string> gzip_compress(std::string_view data);

// The bytes a gzip member holds. invalid_argument when `data` is not gzip
// (or is cut short, or has bytes after its end); too_large beyond `max_bytes`
// (decompression stops there: a small bomb cannot take memory).
Result<std::string> gzip_decompress(std::string_view data, std::size_t max_bytes);

}  // namespace shopsync::gateway
