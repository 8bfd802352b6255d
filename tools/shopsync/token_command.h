// `shopsync token create NAME | ls | revoke NAME`: the HTTP gateway's Bearer
// tokens (docs/http-gateway.md, "Tokens").
//
// While shopsyncd runs on the data directory (--data DIR, else where
// node/node_location.h finds it: $SHOPSYNC_DATA, the config file...) it is
// the one writer of its store, so the command asks it through its local API
// (token_create, token_list, token_revoke; --api ADDR, else where the daemon
// announced its API in the directory's lock file, else where
// node_location.h finds it). A node that holds the directory but does not
// answer on its API is said plainly (exit 3). While no shopsyncd runs there
// (the directory's lock is free: storage/data_dir_lock.h) the command takes
// that lock and writes the store itself, so tokens can be made before the
// first start. With --api the node is always asked. The node checks tokens
// on every request, so a created or revoked token takes effect at once.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace shopsync::cli {

// `args` are the words after "token". Returns the exit status (exit_codes.h).
int run_token_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace shopsync::cli
