// shopsync: the command-line client of a node's local API (docs/cli.md).
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "tools/shopsync/commands.h"
#include "tools/shopsync/token_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "shopsync " << PROJECT_VERSION_TEXT << "\n";
    return 0;
  }
  // `shopsync token ...` opens the data directory's store itself (token_command.h).
  if (args.size() > 1 && args[0] == "--" && args[1] == "token") std::swap(args[0], args[1]);  // token -- ...
  if (!args.empty() && args[0] == "token") {
    return shopsync::cli::run_token_command({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  const int code = shopsync::cli::run(args, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
