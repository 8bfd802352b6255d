// The tools find the node without flags (node/node_location.h): `shopsync`,
// `shopsync token` and `shopsync-inspect` against a real shopsyncd, told
// where it is only by $SHOPSYNC_API, $SHOPSYNC_DATA or its config file
// (--config / $SHOPSYNC_CONFIG standing in for /etc/shopsync/shopsyncd.toml).
// Each tool runs under env(1) with the variables cleared and HOME in the test
// directory, so nothing of the machine running the tests leaks in.
#include <fstream>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct InstalledNode {
  TempDir dir{"shopsync-locate"};
  NodeProcess node{NodeProcess::Options::named(dir.path(), "till")};
  std::string api = "127.0.0.1:" + std::to_string(node.api_port());

  InstalledNode() { node.start(); }

  std::filesystem::path config(const std::string& name, const std::string& text) {
    const auto path = dir / name;
    std::ofstream out(path);
    out << text;
    BOOST_REQUIRE(out.good());
    return path;
  }

  // `program args...` with only `vars` set of the variables that locate the node.
  ChildResult run(const std::vector<std::string>& vars, const std::string& program, std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/env",     "-u", "SHOPSYNC_API", "-u", "SHOPSYNC_DATA",
                                     "-u", "SHOPSYNC_CONFIG", "HOME=" + (dir / "home").string()};
    argv.insert(argv.end(), vars.begin(), vars.end());
    argv.push_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    ChildResult r = run_child(argv, 30s);
    BOOST_TEST(!r.timed_out);
    return r;
  }
};

BOOST_AUTO_TEST_SUITE(node_location)

BOOST_AUTO_TEST_CASE(shopsync_finds_the_api_in_SHOPSYNC_API_and_a_flag_still_wins) {
  InstalledNode n;
  auto r = n.run({"SHOPSYNC_API=" + n.api}, SHOPSYNC_CLI, {"--json", "status"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  BOOST_TEST(json::parse(r.out).value("name", "") == "till");

  // --api over the environment.
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());
  r = n.run({"SHOPSYNC_API=" + nobody}, SHOPSYNC_CLI, {"--api", n.api, "status"});
  BOOST_TEST(r.exit_code == 0, r.err);
  r = n.run({"SHOPSYNC_API=" + nobody}, SHOPSYNC_CLI, {"status"});
  BOOST_TEST(r.exit_code == 3, r.err);  // unreachable: the variable was used
  BOOST_TEST(contains(r.err, nobody), r.err);

  r = n.run({"SHOPSYNC_API=not an address"}, SHOPSYNC_CLI, {"status"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "$SHOPSYNC_API"), r.err);
}

BOOST_AUTO_TEST_CASE(shopsync_finds_the_api_in_the_nodes_config_file) {
  InstalledNode n;
  const auto file = n.config("shopsyncd.toml", "name = \"till\"\napi = \"" + n.api + "\"\n");
  for (const auto& [vars, args] : std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{}, {"--config", file.string(), "--json", "status"}},
           {{"SHOPSYNC_CONFIG=" + file.string()}, {"--json", "status"}}}) {
    auto r = n.run(vars, SHOPSYNC_CLI, args);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
    BOOST_TEST(json::parse(r.out).value("name", "") == "till");
  }
  // $SHOPSYNC_API over the file.
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());
  auto r = n.run({"SHOPSYNC_API=" + nobody, "SHOPSYNC_CONFIG=" + file.string()}, SHOPSYNC_CLI, {"status"});
  BOOST_TEST(r.exit_code == 3, r.err);

  // A file that does not load says which and where, and nothing is sent.
  const auto bad = n.config("bad.toml", "api = 7461\n");
  r = n.run({"SHOPSYNC_CONFIG=" + bad.string()}, SHOPSYNC_CLI, {"status"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "bad.toml:1"), r.err);
}

BOOST_AUTO_TEST_CASE(shopsync_token_finds_the_data_directory_in_the_config_file_or_SHOPSYNC_DATA) {
  InstalledNode n;
  const auto data = n.node.options().data_dir.string();
  // The node runs on the directory, so the token commands ask it at the
  // file's API address (tools/shopsync/token_command.h).
  const auto file = n.config("shopsyncd.toml", "data = \"" + data + "\"\napi = \"" + n.api + "\"\n");
  auto r = n.run({"SHOPSYNC_CONFIG=" + file.string()}, SHOPSYNC_CLI, {"token", "create", "till-app"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  r = n.run({}, SHOPSYNC_CLI, {"token", "--config", file.string(), "ls"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "till-app"), r.out);
  r = n.run({"SHOPSYNC_DATA=" + data, "SHOPSYNC_API=" + n.api}, SHOPSYNC_CLI, {"token", "ls"});
  BOOST_TEST(contains(r.out, "till-app"), r.out);
  // Nothing says where: the default, under HOME, holds no store.
  r = n.run({}, SHOPSYNC_CLI, {"token", "ls"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, (n.dir / "home").string()), r.err);
}

BOOST_AUTO_TEST_CASE(the_inspector_reads_the_data_directory_or_asks_the_api_the_environment_or_config_names) {
  InstalledNode n;
  const auto data = n.node.options().data_dir.string();
  auto source_of = [&](const std::vector<std::string>& vars, std::vector<std::string> args) {
    args.insert(args.end(), {"summary", "--json", "--no-progress"});
    auto r = n.run(vars, SHOPSYNC_INSPECT_PATH, args);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
    return json::parse(r.out)["source"];
  };
  BOOST_TEST(source_of({"SHOPSYNC_DATA=" + data}, {}).value("path", "") == data);
  BOOST_TEST(source_of({"SHOPSYNC_API=" + n.api}, {}).value("kind", "") == "api");
  // A config file naming the data directory: read directly.
  const auto with_data = n.config("with_data.toml", "data = \"" + data + "\"\n");
  BOOST_TEST(source_of({"SHOPSYNC_CONFIG=" + with_data.string()}, {}).value("path", "") == data);
  // One whose data directory this user cannot read (as /var/lib/shopsync,
  // mode 0700, for all but the node's user): the node's API from the file.
  const auto api_only = n.config("api_only.toml", "api = \"" + n.api + "\"\ndata = \"" +
                                                      (n.dir / "not-here").string() + "\"\n");
  auto src = source_of({}, {"--config", api_only.string()});
  BOOST_TEST(src.value("kind", "") == "api", src.dump());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
