// `shopsync token` while shopsyncd serves: the daemon is
// the one writer of its store, so the CLI asks it through the local API
// instead of opening LMDB beside it (tools/shopsync/token_command.h).
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "app/tokens.h"
#include "storage/lmdb_store.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kWait{30'000};

BOOST_AUTO_TEST_SUITE(token_daemon)

// Through --api, with no data directory in reach (an operator whose account
// cannot read /var/lib/shopsync), and through the data directory the node
// holds: create, list, revoke; the store has them once the node stops.
BOOST_AUTO_TEST_CASE(tokens_go_through_the_running_node) {
  TempDir dir("shopsync-token-daemon");
  NodeProcess node(NodeProcess::Options::named(dir.path(), "a"));
  node.start();
  const std::string api = "127.0.0.1:" + std::to_string(node.api_port());
  const std::string nowhere = "SHOPSYNC_DATA=" + (dir / "nowhere").string();

  ChildResult made = run_child({"/usr/bin/env", nowhere, SHOPSYNC_CLI, "token", "--api", api, "--json", "create", "till"}, kWait);
  BOOST_REQUIRE_MESSAGE(made.exit_code == 0, "exit " << made.exit_code << ": " << made.err);
  const std::string secret = json::parse(made.out)["token"].get<std::string>();
  BOOST_TEST(secret.starts_with("sst_"));
  ChildResult again = run_child({SHOPSYNC_CLI, "token", "--api", api, "create", "till"}, kWait);
  BOOST_TEST(again.exit_code == 4, "a token of that name exists: " << again.err);

  // By its data directory alone: the node holds it, so it is asked, where it
  // announced its API (not at the default port, where nothing listens).
  const std::string data = (dir / "a").string();
  ChildResult listed = run_child({SHOPSYNC_CLI, "token", "--data", data, "ls"}, kWait);
  BOOST_REQUIRE_MESSAGE(listed.exit_code == 0, listed.err);
  BOOST_TEST(listed.out.starts_with("till\t"));
  BOOST_TEST(listed.out.find(secret) == std::string::npos, "ls never shows a secret");
  ChildResult spare = run_child({SHOPSYNC_CLI, "token", "--data", data, "create", "spare"}, kWait);
  BOOST_REQUIRE_MESSAGE(spare.exit_code == 0, spare.err);
  ChildResult revoked = run_child({SHOPSYNC_CLI, "token", "--api", api, "revoke", "till"}, kWait);
  BOOST_TEST(revoked.exit_code == 0, revoked.err);
  BOOST_TEST(node.stop() == 0);

  auto store = LmdbStore::open(dir / "a");
  BOOST_REQUIRE(store);
  auto tokens = app::list_tokens(**store);
  BOOST_REQUIRE(tokens);
  BOOST_REQUIRE(tokens->size() == 1u);
  BOOST_TEST(tokens->front().name == "spare");
  auto who = app::verify_token(**store, secret);
  BOOST_REQUIRE(who);
  BOOST_TEST(!who->has_value(), "the revoked token no longer opens the gateway");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
