// `shopsync token create NAME | ls | revoke NAME`: the HTTP gateway's Bearer
// tokens (docs/http-gateway.md, "Tokens").
//
// Unlike the other commands this one does not talk to the node's API: it
// opens the data directory's store directly (--data DIR, else where
// node/node_location.h finds it: $SHOPSYNC_DATA, the config file...), which
// is safe while shopsyncd runs (LMDB serialises writers across processes) and
// works when it does not. It must run as a user that can write the data
// directory. The node checks tokens on every request, so a created or
// revoked token takes effect at once.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace shopsync::cli {

// `args` are the words after "token". Returns the exit status (exit_codes.h).
int run_token_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace shopsync::cli
