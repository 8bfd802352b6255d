// The shopsync CLI run against a real shopsyncd process's local API, as a
// user runs it (for the tests of shopsync_daemon_cli_test).
#pragma once

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/tools/child.h"

namespace shopsync::test {

// `shopsync --api <node's API> args...`, which must end within 30 s.
inline ChildResult cli(NodeProcess& node, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SHOPSYNC_CLI, "--api", "127.0.0.1:" + std::to_string(node.api_port())};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildResult r = run_child(argv, std::chrono::milliseconds(30'000));
  BOOST_TEST(!r.timed_out);
  return r;
}

}  // namespace shopsync::test
