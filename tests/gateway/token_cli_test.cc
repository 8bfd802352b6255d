// `shopsync token create|ls|revoke` on a node's data directory, as an operator
// runs it: the token it prints opens the gateway, revoked it does not.
#include <boost/test/unit_test.hpp>

#include "app/tokens.h"
#include "app/users.h"
#include "storage/lmdb_store.h"
#include "tests/gateway/gateway_harness.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

BOOST_AUTO_TEST_SUITE(token_cli)

BOOST_AUTO_TEST_CASE(create_list_revoke) {
  TempDir dir("shopsync-token");
  const std::string data = (dir / "node").string();
  std::string out;
  // No store there yet: a clear error, exit 1.
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "create", "till"}, out) == 1);
  BOOST_TEST(out.find("no node store") != std::string::npos);
  { auto s = LmdbStore::open(data); BOOST_REQUIRE(s); }

  out.clear();
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "--json", "create", "till"}, out) == 0);
  auto doc = gateway::parse_json(trim(out));
  BOOST_REQUIRE_MESSAGE(doc, out);
  const std::string secret = (*doc)["token"].get<std::string>();
  BOOST_TEST(secret.starts_with("sst_"));
  out.clear();
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "create", "till"}, out) == 4);  // exists
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "create", "bad name"}, out) == 2);
  out.clear();
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "ls"}, out) == 0);
  BOOST_TEST(out.starts_with("till\t"));
  BOOST_TEST(out.find(secret) == std::string::npos, "ls never shows a secret");
  {
    auto s = LmdbStore::open(data);
    BOOST_REQUIRE(s);
    auto who = app::verify_token(**s, secret);
    BOOST_REQUIRE(who);
    BOOST_TEST(who->value_or("") == "till");
    // Only the hash is stored.
    bool plain = false;
    BOOST_REQUIRE((*s)->read([&](StoreReader& r) {
      return r.for_each(Table::settings, [&](std::string_view k, std::string_view v) {
        plain |= k.find(secret) != std::string_view::npos || v.find(secret) != std::string_view::npos;
        return Scan::next;
      });
    }));
    BOOST_TEST(!plain);
  }
  out.clear();
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "revoke", "till"}, out) == 0);
  BOOST_TEST(run_program({SHOPSYNC_CLI, "token", "--data", data, "revoke", "till"}, out) == 1);
  auto s = LmdbStore::open(data);
  BOOST_REQUIRE(s);
  auto who = app::verify_token(**s, secret);
  BOOST_REQUIRE(who);
  BOOST_TEST(!who->has_value());
}

// `shopsync user add NAME` with the password on standard input: the user can
// then log in (the password checks), and the store holds only its hash.
BOOST_AUTO_TEST_CASE(user_add_list_remove) {
  TempDir dir("shopsync-user");
  const std::string data = (dir / "node").string();
  { auto s = LmdbStore::open(data); BOOST_REQUIRE(s); }
  auto user = [&](const std::string& stdin_text, const std::string& words) {
    std::string out;
    const int rc = run_program({"/bin/sh", "-c", "printf '" + stdin_text + "' | " + SHOPSYNC_CLI + " user --data " + data + " " + words}, out);
    BOOST_TEST_MESSAGE("user " << words << ": " << rc << " " << out);
    return std::make_pair(rc, out);
  };
  BOOST_TEST(user("admin123\\n", "add admin").first == 0);
  BOOST_TEST(user("admin123\\n", "add admin").first == 4);  // exists
  BOOST_TEST(user("short\\n", "add other").first == 4);     // a password under 8 bytes
  BOOST_TEST(user("", "ls").second.starts_with("admin\t"));
  {
    auto s = LmdbStore::open(data);
    BOOST_REQUIRE(s);
    BOOST_TEST(*app::check_password(**s, "admin", "admin123"));
    BOOST_TEST(!*app::check_password(**s, "admin", "admin124"));
    bool plain = false;
    BOOST_REQUIRE((*s)->read([&](StoreReader& r) {
      return r.for_each(Table::settings, [&](std::string_view, std::string_view v) {
        plain |= v.find("admin123") != std::string_view::npos;
        return Scan::next;
      });
    }));
    BOOST_TEST(!plain);
  }
  BOOST_TEST(user("", "rm admin").first == 0);
  auto s = LmdbStore::open(data);
  BOOST_REQUIRE(s);
  BOOST_TEST(!*app::check_password(**s, "admin", "admin123"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
