// shopsyncd's flags and config file: defaults, precedence, and errors that
// name the flag or the file line at fault.
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "node/config.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

Result<NodeConfig> parse(std::vector<std::string> args) {
  std::vector<const char*> argv{"shopsyncd"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

constexpr const char* kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_need_no_flags) {
  auto c = parse({});
  BOOST_REQUIRE(c.is_ok());
  BOOST_TEST(c->listen == "tcp://*:7460");
  BOOST_TEST(c->api == "tcp://127.0.0.1:7461");
  BOOST_TEST(!c->cluster.has_value());  // the pinned one, else "default"
  BOOST_TEST(!c->name.empty());
  BOOST_TEST(c->mdns);
  BOOST_TEST(!c->insecure);
  BOOST_TEST(c->http.empty());
  BOOST_TEST(!c->data_dir.empty());
}

BOOST_AUTO_TEST_CASE(flags_are_read_in_both_forms) {
  auto c = parse({"--data", "/tmp/x", "--cluster=acme", "--name", "till 1", "--listen", "127.0.0.1:9000",
                  "--api", "*:9001", "--http", "127.0.0.1:8080", "--peer", "10.0.0.2:7460", "--peer",
                  std::string(kKey) + "@[::1]:7460", "--uplink", "cloud.example.com:7460", "--role", "uplink",
                  "--strategy", "orders=merge", "--no-mdns", "--insecure", "--log-level", "debug"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->data_dir.string() == "/tmp/x");
  BOOST_TEST(*c->cluster == "acme");
  BOOST_TEST(c->name == "till 1");
  BOOST_TEST(c->listen == "tcp://127.0.0.1:9000");
  BOOST_TEST(c->api == "tcp://*:9001");
  BOOST_TEST(c->http == "tcp://127.0.0.1:8080");
  BOOST_REQUIRE(c->peers.size() == 2u);
  BOOST_TEST(c->peers[0].endpoint() == "tcp://10.0.0.2:7460");
  BOOST_TEST(c->peers[1].public_key == kKey);
  BOOST_TEST(c->peers[1].host == "[::1]");
  BOOST_TEST(c->uplink->host == "cloud.example.com");
  BOOST_TEST((c->role == Role::uplink));
  BOOST_TEST(c->strategies.at("orders") == "merge");
  BOOST_TEST(!c->mdns);
  BOOST_TEST(c->insecure);
  BOOST_TEST((c->log_level == log::Level::debug));
  BOOST_TEST(c->sync_each_commit);
  BOOST_TEST(!parse({"--durability", "interval"})->sync_each_commit);
}

BOOST_AUTO_TEST_CASE(bad_flags_are_named) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {"--listen", "nohost"}, {"--peer", "host:99999"}, {"--role", "king"},
           {"--strategy", "orders=fastest"}, {"--strategy", "Orders=merge"}, {"--log-level", "loud"},
           {"--cluster", "a b"}, {"--data"}, {"--durability", "sometimes"}, {"--heartbeat-ms", "x"}, {"--insecure=yes"},
           {"--mdns-ttl", "0"}, {"--mdns-ttl", "9999"}, {"--mdns-interface", "eth0/1"}, {"--api", "ipc://"}, {"stray"}}) {
    auto c = parse(args);
    BOOST_REQUIRE_MESSAGE(!c.is_ok(), "accepted " << args[0]);
    BOOST_TEST(c.status().message().find(args[0].substr(0, args[0].find('='))) != std::string::npos,
               c.status().message());
  }
  auto timing = parse({"--heartbeat-ms", "5000", "--peer-timeout-ms", "1000"});
  BOOST_TEST(!timing.is_ok());
}

BOOST_AUTO_TEST_CASE(http_gateway_limits) {
  auto c = parse({"--http-head-timeout-ms", "2000", "--http-body-timeout-ms=3000", "--http-max-per-address", "8",
                  "--http-max-pipelined", "16"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->http_head_timeout_ms == 2000u);
  BOOST_TEST(c->http_body_timeout_ms == 3000u);
  BOOST_TEST(c->http_max_per_address == 8u);
  BOOST_TEST(c->http_max_pipelined == 16u);
  for (const char* flag : {"--http-head-timeout-ms", "--http-max-pipelined"}) {
    auto zero = parse({flag, "0"});
    BOOST_REQUIRE(!zero.is_ok());
    BOOST_TEST(zero.status().message().find(flag) != std::string::npos, zero.status().message());
  }
}

// Issue 16: the gateway's CORS origins, built-in login and JWT settings.
BOOST_AUTO_TEST_CASE(http_gateway_auth_and_cors) {
  auto c = parse({"--cors-origin", "https://crm.shop.example", "--cors-origin=http://localhost:3000", "--http-login",
                  "--jwt-algorithm", "RS256", "--jwt-key-file", "/etc/shopsync/auth.pem", "--jwt-device-claim", "till"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->cors_origins == (std::vector<std::string>{"https://crm.shop.example", "http://localhost:3000"}),
             boost::test_tools::per_element());
  BOOST_TEST(c->http_login);
  BOOST_TEST(c->jwt_algorithm == "RS256");
  BOOST_TEST(c->jwt_key_file == "/etc/shopsync/auth.pem");
  BOOST_TEST(c->jwt_device_claim == "till");
  BOOST_TEST(c->jwt_user_claim == "sub");
  BOOST_TEST(!parse({})->http_login);
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--cors-origin", "crm.shop.example"},
                                                                {"--cors-origin", "https://a/path"},
                                                                {"--jwt-algorithm", "none"}}) {
    auto refused = parse(bad);
    BOOST_REQUIRE(!refused.is_ok());
    BOOST_TEST(refused.status().message().find(bad[0]) != std::string::npos, refused.status().message());
  }
  test::TempDir dir;
  const auto path = (dir / "shopsync.toml").string();
  std::ofstream(path) << "cors-origins = [\"*\"]\nhttp-login = true\njwt-algorithm = \"HS256\"\n";
  auto f = parse({"--config", path});
  BOOST_REQUIRE_MESSAGE(f.is_ok(), f.status().to_string());
  BOOST_TEST(f->cors_origins.size() == 1u);
  BOOST_TEST(f->http_login);
  BOOST_TEST(f->jwt_algorithm == "HS256");
}

BOOST_AUTO_TEST_CASE(discovery_and_api_socket_options) {
  auto c = parse({"--mdns-ttl", "10", "--mdns-interface", "eth0", "--mdns-interface=wlan0", "--api", "ipc:///run/shopsync/api"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->mdns_ttl_s == 10u);
  BOOST_TEST(c->mdns_interfaces == (std::vector<std::string>{"eth0", "wlan0"}), boost::test_tools::per_element());
  BOOST_TEST(c->api == "ipc:///run/shopsync/api");
  BOOST_TEST(parse({"--api", "/run/shopsync/api"})->api == "ipc:///run/shopsync/api");
  BOOST_TEST(parse({})->mdns_ttl_s == 120u);
  BOOST_TEST(parse({})->mdns_interfaces.empty());
}

BOOST_AUTO_TEST_CASE(file_is_read_and_flags_win) {
  test::TempDir dir;
  const auto path = (dir / "shopsync.toml").string();
  std::ofstream(path) << "# a node of the Lyon shop\n"
                         "cluster = \"acme\"\n"
                         "name = \"lyon-1\"\n"
                         "listen = \"127.0.0.1:7000\"\n"
                         "peers = [\"10.0.0.2:7460\"]\n"
                         "mdns = false\n"
                         "mdns-ttl = 30\n"
                         "mdns-interfaces = [\"eth1\"]\n"
                         "heartbeat-ms = 500\n"
                         "[strategies]\n"
                         "orders = \"merge\"\n"
                         "customers = \"server_wins\"\n";
  auto c = parse({"--config", path, "--name", "lyon-2", "--peer", "10.0.0.3:7460", "--strategy", "orders=manual"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(*c->cluster == "acme");
  BOOST_TEST(c->name == "lyon-2");  // the flag wins
  BOOST_TEST(c->listen == "tcp://127.0.0.1:7000");
  BOOST_TEST(c->peers.size() == 2u);  // lists add up
  BOOST_TEST(!c->mdns);
  BOOST_TEST(c->mdns_ttl_s == 30u);
  BOOST_TEST(c->mdns_interfaces.size() == 1u);
  BOOST_TEST(c->heartbeat_ms == 500u);
  BOOST_TEST(c->strategies.at("orders") == "manual");
  BOOST_TEST(c->strategies.at("customers") == "server_wins");
}

BOOST_AUTO_TEST_CASE(file_errors_name_the_line) {
  test::TempDir dir;
  const auto path = (dir / "bad.toml").string();
  std::ofstream(path) << "cluster = \"acme\"\n\nlisten = 7460\n";
  auto c = parse({"--config", path});
  BOOST_REQUIRE(!c.is_ok());
  BOOST_TEST(c.status().message().find("bad.toml:3") != std::string::npos, c.status().message());

  std::ofstream(path) << "cluster = \"acme\"\nunknown_thing = 1\n";
  c = parse({"--config", path});
  BOOST_REQUIRE(!c.is_ok());
  BOOST_TEST(c.status().message().find(":2") != std::string::npos, c.status().message());

  std::ofstream(path) << "cluster = \"acme\n";
  c = parse({"--config", path});
  BOOST_REQUIRE(!c.is_ok());
  BOOST_TEST(c.status().message().find("not valid TOML") != std::string::npos, c.status().message());

  c = parse({"--config", (dir / "missing.toml").string()});
  BOOST_TEST(!c.is_ok());
}

// kKey as shopsync prints it (node/public_key_text.h).
constexpr const char* kSpokenKey = "akyb-m979-694s-d4rp-zdgq-s1sb-p30x-3zrm-g022-fhcm-sfxc-y6y2-ts93-7qpq";

BOOST_AUTO_TEST_CASE(keys_are_taken_in_the_spoken_form_and_in_z85_and_kept_in_z85) {
  const std::string shouted = "AKYBM979694SD4RPZDGQS1SBP30X3ZRMG022FHCMSFXCY6Y2TS937QPQ";
  auto c = parse({"--trust", kSpokenKey, "--trust", kKey, "--peer", std::string(kSpokenKey) + "@10.0.0.2:7460",
                  "--peer", shouted + "@[::1]:7460", "--uplink", std::string(kKey) + "@cloud.example.com:7460"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->trust == (std::vector<std::string>{kKey, kKey}), boost::test_tools::per_element());
  BOOST_REQUIRE(c->peers.size() == 2u);
  BOOST_TEST(c->peers[0].public_key == kKey);
  BOOST_TEST(c->peers[0].host == "10.0.0.2");
  BOOST_TEST(c->peers[1].public_key == kKey);
  BOOST_TEST(c->peers[1].host == "[::1]");
  BOOST_TEST(c->uplink->public_key == kKey);
  BOOST_TEST(c->uplink->host == "cloud.example.com");
}

BOOST_AUTO_TEST_CASE(a_malformed_key_in_peer_uplink_or_trust_is_refused_naming_the_option) {
  std::string typo = kSpokenKey;
  typo[0] = 'b';
  const std::string z85_cut_short = std::string(kKey).substr(0, 39);
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--peer", "abc@127.0.0.1:7460"},
           {"--peer", typo + "@127.0.0.1:7460"},
           {"--peer", z85_cut_short + "@127.0.0.1:7460"},
           {"--peer", "@127.0.0.1:7460"},
           {"--uplink", typo + "@cloud.example.com:7460"},
           {"--uplink", "x@cloud.example.com:7460"},
           {"--trust", typo},
           {"--trust", z85_cut_short}}) {
    auto c = parse({flag, value});
    BOOST_REQUIRE_MESSAGE(!c.is_ok(), "accepted " << flag << " " << value);
    BOOST_TEST(c.status().message().starts_with(flag + " "), c.status().message());
    BOOST_TEST(c.status().message().find("is not a public key") != std::string::npos, c.status().message());
  }
  test::TempDir dir;
  const auto path = (dir / "keys.toml").string();
  std::ofstream(path) << "peers = [\"10.0.0.2:7460\", \"" << typo << "@10.0.0.3:7460\"]\n";
  auto c = parse({"--config", path});
  BOOST_REQUIRE(!c.is_ok());
  BOOST_TEST(c.status().message().find("keys.toml:1: peers: ") != std::string::npos, c.status().message());
  std::ofstream(path) << "uplink = \"" << typo << "@cloud.example.com:7460\"\n";
  c = parse({"--config", path});
  BOOST_REQUIRE(!c.is_ok());
  BOOST_TEST(c.status().message().find("keys.toml:1: 'uplink'") != std::string::npos, c.status().message());
}

BOOST_AUTO_TEST_CASE(double_dash_ends_the_options) {
  auto c = parse({"--name", "till", "--"});
  BOOST_REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  BOOST_TEST(c->name == "till");
  // shopsyncd takes no operands: what follows "--" is refused, even an option.
  auto after = parse({"--", "--no-mdns"});
  BOOST_REQUIRE(!after.is_ok());
  BOOST_TEST(after.status().message().find("unexpected argument") != std::string::npos, after.status().message());
  // A value that starts with '-' is still the option's value.
  auto dash = parse({"--trust", "-y8s1JqYh!4N]z&wT7pF0k@Xm%cR.oE/@{H8]yf7"});
  BOOST_REQUIRE_MESSAGE(dash.is_ok(), dash.status().to_string());
  BOOST_TEST(dash->trust.front() == "-y8s1JqYh!4N]z&wT7pF0k@Xm%cR.oE/@{H8]yf7");
}

BOOST_AUTO_TEST_CASE(help_documents_every_option) {
  const std::string help = usage_text();
  for (const char* flag : {"--config", "--data", "--cluster", "--name", "--listen", "--api", "--http", "--peer",
                           "--uplink", "--role", "--strategy", "--trust", "--no-mdns", "--insecure", "--log-level",
                           "--heartbeat-ms", "--peer-timeout-ms", "--max-clock-skew-ms", "--pull-interval-ms", "--progress-log-ms",
                           "--print-key", "--help", "--durability", "--http-head-timeout-ms", "--http-body-timeout-ms",
                           "--http-max-per-address", "--http-max-pipelined", "--cors-origin", "--http-login",
                           "--jwt-algorithm", "--jwt-key-file", "--web-root"}) {
    BOOST_TEST(help.find(flag) != std::string::npos, flag);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
