// The shopsync CLI's commands (docs/cli.md). run() parses the command line,
// talks to the node through api::ApiClient and returns the exit status
// (exit_codes.h). Output goes to `out`, diagnostics to `err`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace shopsync::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

std::string usage_text();

}  // namespace shopsync::cli
