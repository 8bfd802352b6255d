#include "core/status.h"

namespace shopsync {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::not_found: return "not found";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::too_large: return "too large";
    case Errc::corrupt: return "corrupt";
    case Errc::newer_schema: return "newer schema";
    case Errc::not_shopsync: return "not a shopsync store";
    case Errc::disk_full: return "disk full";
    case Errc::io_error: return "i/o error";
    case Errc::protocol: return "protocol error";
    case Errc::refused: return "refused";
    case Errc::unavailable: return "unavailable";
  }
  return "unknown error";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(shopsync::to_string(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::context(std::string_view step) const {
  if (is_ok()) return *this;
  std::string m(step);
  m += ": ";
  m += message_;
  return {code_, std::move(m)};
}

}  // namespace shopsync
