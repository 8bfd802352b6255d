// Untrusted text quoted in an error message: at most `max` characters, anything
// outside printable ASCII shown as '?', "..." when cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shopsync {

std::string printable(std::string_view text, std::size_t max = 32);

}  // namespace shopsync
