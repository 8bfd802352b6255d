// shopsync: the command-line client of a node's local API (docs/cli.md).
#include <iostream>
#include <string>
#include <vector>

#include "tools/shopsync/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const int code = shopsync::cli::run(args, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
