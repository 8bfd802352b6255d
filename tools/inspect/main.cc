// shopsync-inspect: the replication inspector (docs/inspector.md).
#include <iostream>
#include <string_view>

#include "tools/inspect/exit_codes.h"
#include "tools/inspect/options.h"
#include "tools/inspect/run.h"

int main(int argc, char** argv) {
  using namespace shopsync::inspect;
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::cout << "shopsync-inspect " << PROJECT_VERSION_TEXT << "\n";
    return kExitOk;
  }
  auto options = parse_options(argc, argv);
  if (!options) {
    std::cerr << "shopsync-inspect: " << options.status().message() << "\n"
              << "usage: shopsync-inspect [DATA_DIR | --api ADDR] VIEW [ARGS] [--json] [--watch] (see --help)\n";
    return kExitUsage;
  }
  if (options->show_help) {
    std::cout << usage_text();
    return kExitOk;
  }
  return run(*options, std::cout, std::cerr);
}
