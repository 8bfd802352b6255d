// SIGHUP reloads the configuration (docs/operations.md, "Reloading the
// configuration"): the node reads its flags and config file again and keeps
// running with its peers. Real shopsyncd processes on loopback whose config
// file the test edits.
#include <signal.h>

#include <fstream>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

// Long enough for several redials (the tests' 2 s peer timeout): a write that
// can cross would have crossed.
constexpr auto kQuiet = 4s;

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  BOOST_REQUIRE(out.good());
}

// `node` started with --config DIR/NAME.toml holding `text`.
std::filesystem::path with_config(NodeProcess& node, const std::string& text) {
  const auto path = node.options().data_dir.string() + ".toml";
  write_file(path, text);
  node.options().extra = {"--config", path};
  return path;
}

// Sends SIGHUP and waits for the node's status to say what became of it:
// applied (config_reloads went up) or not (config_reload_error changed).
api::NodeStatus reload(NodeProcess& node) {
  const auto before = node.api().status();
  BOOST_REQUIRE(before.is_ok());
  node.signal(SIGHUP);
  api::NodeStatus after;
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
                          auto now = node.api().status();
                          if (!now) return false;
                          after = *now;
                          return after.config_reloads != before->config_reloads ||
                                 after.config_reload_error != before->config_reload_error;
                        }, 10s),
                        "the status shows no outcome of SIGHUP:\n" << node.log());
  return after;
}

bool has(NodeProcess& node, const std::string& id) { return node.api().get({"customers", id}).is_ok(); }

api::PeerInfo row_of(NodeProcess& at, const NodeProcess& peer) {
  auto peers = at.api().peers();
  if (peers) {
    for (const auto& p : peers->peers) {
      if (p.public_key == peer.public_key()) return p;
    }
  }
  api::PeerInfo none;
  none.state = "not listed";
  return none;
}

bool trusts(NodeProcess& node, const NodeProcess& peer) {
  auto keys = node.api().trusted_keys();
  BOOST_REQUIRE(keys.is_ok());
  for (const auto& k : keys->keys) {
    if (k.key == peer.public_key()) return true;
  }
  return false;
}

bool crosses(NodeProcess& from, NodeProcess& to, const std::string& id, std::chrono::milliseconds within) {
  put_name(from, "customers", id, "x");
  return wait_until([&] { return has(to, id); }, within);
}

BOOST_AUTO_TEST_SUITE(node_reload)

BOOST_AUTO_TEST_CASE(sighup_changes_the_log_level_keeps_the_peers_and_a_bad_file_changes_nothing) {
  TempDir dir("shopsync-node");
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a"));
  NodeProcess b(NodeProcess::Options::named(dir.path(), "b"));
  peer_each_other(a, b);
  const auto file = with_config(a, "log-level = \"info\"\n");
  a.start();
  b.start();
  BOOST_REQUIRE_MESSAGE(crosses(a, b, "BEFORE", 15s), a.log() << "\n----\n" << b.log());
  const std::uint64_t sessions = row_of(a, b).sessions;
  BOOST_TEST(sessions >= 1u);

  write_file(file, "log-level = \"debug\"\n");
  const api::NodeStatus applied = reload(a);
  BOOST_TEST(applied.config_reloads == 1u);
  BOOST_TEST(applied.config_reload_error == "");
  BOOST_TEST(a.log_count("SIGHUP: log level debug") == 1u);
  BOOST_TEST(crosses(a, b, "AFTER", 10s));
  BOOST_TEST(crosses(b, a, "BACK", 10s));
  BOOST_TEST(row_of(a, b).state == "connected");
  BOOST_TEST(row_of(a, b).sessions == sessions, "the reload dropped the peer:\n" << a.log());

  // A file that does not load: the status says why, and the node runs on as it was.
  write_file(file, "log-level = \"loud\"\n");
  const api::NodeStatus refused = reload(a);
  BOOST_TEST(refused.config_reloads == 1u);
  BOOST_TEST(refused.config_reload_error.find("log level 'loud' is not debug, info, warn or error") != std::string::npos,
             refused.config_reload_error);
  BOOST_TEST(crosses(b, a, "STILL", 10s));
  BOOST_TEST(row_of(a, b).sessions == sessions);

  // Still at debug: the stop's debug line shows.
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(a.log_count("said goodbye on") == 1u, a.log());
}

BOOST_AUTO_TEST_CASE(sighup_trusts_a_key_the_file_now_names_and_drops_one_it_no_longer_names) {
  TempDir dir("shopsync-node");
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a"));
  NodeProcess b(NodeProcess::Options::named(dir.path(), "b"));
  b.options().peers = {a.peer_spec()};  // b trusts and dials a; a trusts nobody yet
  const auto file = with_config(a, "trust = []\n");
  a.start();
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return a.log_count("is not trusted") > 0; }, 15s), a.log());

  write_file(file, "trust = [\"" + b.public_key() + "\"]\n");
  BOOST_TEST(reload(a).config_reloads == 1u);
  BOOST_TEST(trusts(a, b));
  BOOST_REQUIRE_MESSAGE(crosses(b, a, "TRUSTED", 30s), a.log() << "\n----\n" << b.log());

  write_file(file, "trust = []\n");
  BOOST_TEST(reload(a).config_reloads == 2u);
  BOOST_TEST(wait_until([&] { return row_of(a, b).state == "untrusted"; }, 10s), row_of(a, b).state);
  BOOST_TEST(!crosses(b, a, "DROPPED", kQuiet), a.log());
  BOOST_TEST(!trusts(a, b));
}

BOOST_AUTO_TEST_CASE(sighup_with_other_strategies_ends_sessions_with_peers_that_differ_until_they_agree) {
  TempDir dir("shopsync-node");
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a"));
  NodeProcess b(NodeProcess::Options::named(dir.path(), "b"));
  peer_each_other(a, b);
  const auto file_a = with_config(a, "");
  const auto file_b = with_config(b, "");
  a.start();
  b.start();
  BOOST_REQUIRE_MESSAGE(crosses(a, b, "SAME", 15s), a.log() << "\n----\n" << b.log());

  write_file(file_a, "[strategies]\ncustomers = \"merge\"\n");
  BOOST_TEST(reload(a).config_reloads == 1u);
  // Both sides end the session and say why.
  BOOST_TEST(wait_until([&] { return row_of(a, b).state != "connected" && row_of(b, a).state != "connected"; }, 10s),
             row_of(a, b).state << " / " << row_of(b, a).state);
  BOOST_TEST(row_of(a, b).last_error.find("conflict strategies differ") != std::string::npos, row_of(a, b).last_error);
  BOOST_TEST(wait_until([&] { return row_of(b, a).last_error.find("conflict strategies differ") != std::string::npos; }, 10s),
             row_of(b, a).last_error);
  BOOST_TEST(!crosses(a, b, "APART", kQuiet));
  BOOST_TEST(a.api().status()->strategies.find("customers=merge") != std::string::npos);

  // b takes the same table: they agree again, and what waited crosses.
  write_file(file_b, "[strategies]\ncustomers = \"merge\"\n");
  BOOST_TEST(reload(b).config_reloads == 1u);
  BOOST_TEST(wait_until([&] { return has(b, "APART"); }, 20s), a.log() << "\n----\n" << b.log());
  BOOST_TEST(row_of(b, a).state == "connected");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
