// `shopsync token create|ls|revoke` on a node's data directory, as an operator
// runs it: the token it prints opens the gateway, revoked it does not. And
// `shopsync user` through a running node, its users logging in at another.
#include <boost/test/unit_test.hpp>

#include "api/api_client.h"
#include "app/tokens.h"
#include "app/users.h"
#include "storage/lmdb_store.h"
#include "tests/gateway/gateway_harness.h"
#include "tests/node/support/node_process.h"
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

// `shopsync user add NAME` at one node, the password on standard input: the
// user is a record of the cluster, so it logs in at another node's gateway
// once the two have synced; only the password's hash is stored; `user rm`
// there ends it everywhere.
BOOST_AUTO_TEST_CASE(a_user_added_at_one_node_logs_in_at_another) {
  TempDir dir("shopsync-user");
  const std::uint16_t http_b = free_port();
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a"));
  auto ob = NodeProcess::Options::named(dir.path(), "b");
  ob.extra = {"--http", "127.0.0.1:" + std::to_string(http_b), "--http-login"};
  NodeProcess b(ob);
  peer_each_other(a, b);
  a.start();
  b.start();
  const std::string api_a = "127.0.0.1:" + std::to_string(a.api_port());
  auto user = [&](const std::string& stdin_text, const std::string& words) {
    std::string out;
    const int rc = run_program({"/bin/sh", "-c", "printf '" + stdin_text + "' | " + SHOPSYNC_CLI + " --api " + api_a + " user " + words}, out);
    BOOST_TEST_MESSAGE("user " << words << ": " << rc << " " << out);
    return std::make_pair(rc, out);
  };
  const RecordKey admin{std::string(app::kUsersCollection), "admin"};
  auto holds_admin = [&](NodeProcess& node) {
    auto r = node.api().get(admin);
    return r.is_ok() && !r->deleted;
  };
  auto login = [&](const std::string& password) {
    const std::string body = nlohmann::json{{"username", "admin"}, {"password", password}}.dump();
    return raw_http(http_b, "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };

  BOOST_TEST(user("admin123\\n", "add admin").first == 0);
  BOOST_TEST(user("admin123\\n", "add admin").first == 4);  // exists
  BOOST_TEST(user("short\\n", "add other").first == 4);     // a password under 8 bytes
  BOOST_TEST(user("", "ls").second.starts_with("admin\t"));
  auto stored = a.api().get(admin);
  BOOST_REQUIRE(stored);
  for (const auto& [name, packed] : stored->fields) {
    BOOST_TEST(packed.find("admin123") == std::string::npos, "only the hash is stored");
    BOOST_TEST(packed.find("$argon2id$") != std::string::npos);
  }

  BOOST_REQUIRE_MESSAGE(wait_until([&] { return holds_admin(b); }, std::chrono::seconds(15)),
                        "the user did not reach b\n" << a.log() << b.log());
  const auto ok = login("admin123");
  BOOST_TEST(ok.status == 200, ok.body);
  BOOST_TEST(ok.body.find("\"token\"") != std::string::npos);
  BOOST_TEST(login("admin124").status == 401);

  BOOST_TEST(user("", "rm admin").first == 0);
  BOOST_TEST(user("", "rm admin").first == 1);  // no such user
  BOOST_REQUIRE(wait_until([&] { return !holds_admin(b); }, std::chrono::seconds(15)));
  BOOST_TEST(login("admin123").status == 401);
}

// Issue 18 on a running node started with --api-auth: a gateway token made by
// `shopsync token create --scope customers:r` (through the node's local API,
// with the credential the CLI finds in the data directory) cannot push (403)
// and pulls only customers; a local API client without the credential is
// refused.
BOOST_AUTO_TEST_CASE(a_scoped_token_and_the_local_api_credential) {
  TempDir dir("shopsync-scope");
  const std::uint16_t http = free_port();
  auto o = NodeProcess::Options::named(dir.path(), "till");
  o.extra = {"--http", "127.0.0.1:" + std::to_string(http), "--api-auth"};
  NodeProcess node(o);
  node.start();
  for (const char* collection : {"customers", "orders"}) {
    api::PutRequest put;
    put.key = {collection, "R1"};
    put.fields["branch"] = gateway::pack_value("north");
    BOOST_REQUIRE(node.api().put(put));
  }
  const std::string api = "127.0.0.1:" + std::to_string(node.api_port());
  std::string out;
  BOOST_REQUIRE_MESSAGE(run_program({SHOPSYNC_CLI, "token", "--api", api, "--data", o.data_dir.string(), "--json", "create",
                                     "till", "--scope", "customers:r"}, out) == 0, out);
  auto made = gateway::parse_json(trim(out));
  BOOST_REQUIRE_MESSAGE(made, out);
  const std::string token = (*made)["token"].get<std::string>();
  auto post = [&](const std::string& op, const std::string& body) {
    return raw_http(http, "POST /api/sync/" + op + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  const auto pushed = post("push", R"({"deviceId":"t1","changes":{"customers":[{"customer_id":"C9","name":"x"}]}})");
  BOOST_TEST(pushed.status == 403, pushed.body);
  BOOST_TEST(pushed.body.find("outside_scope") != std::string::npos);
  BOOST_TEST((node.api().get({"customers", "C9"}).status().code() == Errc::not_found));
  const auto pulled = post("pull", R"({"deviceId":"t1"})");
  BOOST_REQUIRE(pulled.status == 200);
  auto changes = (*gateway::parse_json(pulled.body))["changes"];
  BOOST_TEST(changes["customers"].size() == 1u);
  BOOST_TEST(!changes.contains("orders"), pulled.body);

  // Without the credential: refused, and told why.
  auto stranger = api::ApiClient::connect(api, {std::chrono::milliseconds(3000)});
  BOOST_REQUIRE(stranger);
  auto status = stranger->status();
  BOOST_TEST((status.status().code() == Errc::refused));
  BOOST_TEST(status.status().message().find("credential") != std::string::npos);
  // The CLI on the node's machine finds it in the data directory.
  out.clear();
  BOOST_TEST(run_program({SHOPSYNC_CLI, "--api", api, "--data", o.data_dir.string(), "status"}, out) == 0, out);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
