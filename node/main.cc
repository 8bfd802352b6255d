// shopsyncd: parse the configuration, open the node, serve until stopped.
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad option or config file.
#include <cstdio>
#include <iostream>

#include "net/public_key_text.h"
#include "node/config.h"
#include "node/identity.h"
#include "node/log.h"
#include "node/node.h"
#include "node/signals.h"

int main(int argc, char** argv) {
  using namespace shopsync;
  auto config = parse_config(argc, argv);
  if (!config) {
    std::fprintf(stderr, "shopsyncd: %s\n(see shopsyncd --help)\n", config.status().message().c_str());
    return 2;
  }
  if (config->show_help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (config->show_version) {
    std::printf("shopsyncd %s\n", PROJECT_VERSION_TEXT);
    return 0;
  }
  if (config->print_key) {
    auto id = load_or_create_identity(config->data_dir);
    if (!id) {
      std::fprintf(stderr, "shopsyncd: %s\n", id.status().to_string().c_str());
      return 1;
    }
    std::printf("%s\n", format_public_key(id->public_key).c_str());
    return 0;
  }
  // Before any thread exists (the ZeroMQ context starts some): every thread
  // inherits the blocked mask and the signals wait in the node's signalfd.
  if (Status s = block_stop_signals(); !s) {
    std::fprintf(stderr, "shopsyncd: %s\n", s.to_string().c_str());
    return 1;
  }
  auto node = Node::open(std::move(*config));
  if (!node) {
    SHOPSYNC_LOG(error, "cannot start: " << node.status().to_string());
    return node.status().code() == Errc::invalid_argument ? 2 : 1;
  }
  // SIGHUP reads the same flags and config file again.
  (*node)->set_config_source([argc, argv] { return parse_config(argc, argv); });
  if (Status s = (*node)->run(); !s) {
    SHOPSYNC_LOG(error, "stopped on error: " << s.to_string());
    return 1;
  }
  return 0;
}
