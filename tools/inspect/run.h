// shopsync-inspect as a function: opens what the options name, builds the
// view and prints it. main() is parse_options() + run(); tests may call it.
#pragma once

#include <ostream>

#include "tools/inspect/options.h"

namespace shopsync::inspect {

// Returns the exit status (exit_codes.h). Errors go to `err` as
// "shopsync-inspect: <what failed>: <why>".
int run(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace shopsync::inspect
