// Reading a password for `shopsync user add|passwd`: one line of standard
// input, asked for without echo when standard input is a terminal.
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace shopsync::cli {

// The password, or nullopt when standard input ends first. The prompt goes
// to `err`, only on a terminal.
std::optional<std::string> read_password(std::ostream& err);

}  // namespace shopsync::cli
