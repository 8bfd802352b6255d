// Running the real shopsync-inspect binary from tests and reading its JSON.
#pragma once

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dot.h"
#include "core/node_id.h"
#include "tests/tools/inspect/run_tool.h"

namespace shopsync::test {

using nlohmann::json;

inline ToolResult inspect(std::vector<std::string> args) {
  args.insert(args.begin(), SHOPSYNC_INSPECT_BIN);
  auto r = run_tool(args);
  BOOST_TEST_MESSAGE("shopsync-inspect exit " << r.exit_code << "; stderr: " << r.err);
  return r;
}

// Runs with --json, REQUIREs `expected_exit` and a JSON document on stdout.
inline json inspect_json(std::vector<std::string> args, int expected_exit = 0) {
  args.push_back("--json");
  auto r = inspect(args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == expected_exit, "exit " << r.exit_code << " (expected " << expected_exit
                                                                << "); stderr: " << r.err << "; stdout: " << r.out);
  json doc = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  BOOST_REQUIRE_MESSAGE(!doc.is_discarded(), "not JSON: " << r.out);
  return doc;
}

}  // namespace shopsync::test
