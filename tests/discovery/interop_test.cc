// Interoperability with standard DNS-SD software from Debian, on the same kind
// of namespace LAN as the multi-host tests: python3-zeroconf browses our
// service and publishes services we browse, and an avahi-daemon that holds UDP
// 5353 in a host shares it with our embedded responder.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/discovery/probe_harness.h"

using namespace shopsync::test;
using namespace std::chrono_literals;
using Lines = std::vector<nlohmann::json>;

namespace {

constexpr auto kTimeout = 20s;
const std::string kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

std::string dump(std::initializer_list<ChildProcess*> children) {
  std::string out;
  for (auto* c : children) out += "=== pid " + std::to_string(c->pid()) + "\n" + c->transcript();
  return out;
}

#define REQUIRE_OR_DUMP(cond, ...)                                              \
  do {                                                                          \
    if (!(cond)) BOOST_FAIL(#cond << " failed\n" << dump({__VA_ARGS__}));       \
  } while (false)

// The last zeroconf event about instance `name` ("added", "updated", "removed").
std::optional<nlohmann::json> last_about(const Lines& lines, const std::string& name) {
  std::optional<nlohmann::json> out;
  for (const auto& l : lines) {
    if (str(l, "name") == name + "._shopsync._tcp.local.") out = l;
  }
  return out;
}

bool visible(const Lines& lines, const std::string& name) {
  auto e = last_about(lines, name);
  return e && ((*e)["event"] == "added" || (*e)["event"] == "updated");
}

std::vector<std::string> good_txt(const std::string& node, const std::string& role) {
  return {"--txt", "txtvers=1", "--txt", "proto=1", "--txt", "cluster=test", "--txt", "node=" + node,
          "--txt", "key=" + kKey, "--txt", "role=" + role};
}

// The interop tests need Debian's avahi-daemon, avahi-utils, dbus and
// python3-zeroconf (tools/dev/install-deps installs them): missing ones are a
// failure with a clear message, not a skip.
void require_tools() {
  for (const char* path : {"/usr/sbin/avahi-daemon", "/usr/bin/avahi-browse", "/usr/bin/dbus-daemon", "/usr/bin/python3"})
    BOOST_REQUIRE_MESSAGE(::access(path, X_OK) == 0, path << " is missing: run tools/dev/install-deps");
  auto zc = run_command({"/usr/bin/python3", "-c", "import zeroconf"});
  BOOST_REQUIRE_MESSAGE(zc.exit_code == 0, "python3-zeroconf is missing: run tools/dev/install-deps\n" << zc.output);
}

bool refused_for(const nlohmann::json& diag, const std::string& name, const std::string& reason) {
  for (const auto& r : diag["refused"]) {
    if (r["name"] == name && r["reason"] == reason) return true;
  }
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(interop, NamespacesRequired)

BOOST_AUTO_TEST_CASE(python_zeroconf_sees_our_service_and_its_goodbye) {
  require_tools();
  TempDir dir("discovery-interop");
  NamespaceLan net(2);
  auto browser = start_zeroconf(net, 2, {"browse", "--ip", net.address(2), "--seconds", "60"}, dir, "browser");
  auto probe = start_probe(net, 1, ProbeSpec("shop one", node_of(1)).with_args({"--role", "uplink", "--port", "7471"}), dir);

  REQUIRE_OR_DUMP(browser->wait_for([](const Lines& l) { return visible(l, "shop one"); }, kTimeout), browser.get(),
                  probe.get());
  auto seen = *last_about(browser->lines(), "shop one");
  std::vector<std::string> txt = seen["txt"];
  std::vector<std::string> expected = {"txtvers=1", "proto=1", "cluster=test", "node=" + node_of(1), "key=" + kKey,
                                       "role=uplink"};
  BOOST_TEST(txt == expected, boost::test_tools::per_element());
  BOOST_TEST(seen["port"].get<int>() == 7471);
  BOOST_TEST(seen["server"].get<std::string>() == "host1.local.");
  std::vector<std::string> addresses = seen["addresses"];
  BOOST_TEST((std::find(addresses.begin(), addresses.end(), net.address(1)) != addresses.end()));

  // A clean stop: the browser drops it at once (TTL is 120 s, so only the
  // goodbye can explain it).
  auto stop_at = std::chrono::steady_clock::now();
  BOOST_TEST(probe->terminate() == 0);
  REQUIRE_OR_DUMP(browser->wait_for([](const Lines& l) { return !visible(l, "shop one"); }, kTimeout), browser.get(),
                  probe.get());
  BOOST_TEST_MESSAGE("python-zeroconf removed the service "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stop_at).count()
                     << " ms after SIGTERM");
}

BOOST_AUTO_TEST_CASE(avahi_browse_sees_our_service_and_its_goodbye) {
  require_tools();
  TempDir dir("discovery-interop");
  NamespaceLan net(2);
  const auto conf = dir / "avahi-daemon.conf";
  {
    std::ofstream out(conf);
    out << "[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=eth0\nenable-dbus=yes\n"
           "[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n";
  }
  std::vector<std::string> argv = net.exec(2);
  argv.insert(argv.end(), {"unshare", "-m", "--propagation", "private", AVAHI_BROWSE_SCRIPT, conf.string()});
  ChildProcess browser(argv, dir / "avahi-browse.err");
  BOOST_REQUIRE(browser.started());
  REQUIRE_OR_DUMP(browser.wait_for([](const Lines& l) { return !l.empty(); }, kTimeout), &browser);

  auto probe = start_probe(net, 1, ProbeSpec("shop1", node_of(1)).with_args({"--port", "7463"}), dir);
  // "=;eth0;IPv4;shop1;_shopsync._tcp;local;host1.local;198.18.0.1;7463;"role=peer" ..."
  auto resolved = [](const Lines& lines) -> std::optional<std::string> {
    for (const auto& l : lines) {
      std::string raw = str(l, "raw");
      if (raw.rfind("=;eth0;IPv4;shop1;_shopsync._tcp;local;", 0) == 0) return raw;
    }
    return std::nullopt;
  };
  REQUIRE_OR_DUMP(browser.wait_for([&](const Lines& l) { return resolved(l).has_value(); }, kTimeout), &browser,
                  probe.get());
  std::string line = *resolved(browser.lines());
  BOOST_TEST(line.find(";host1.local;" + net.address(1) + ";7463;") != std::string::npos, line);
  for (const std::string entry : {"txtvers=1", "proto=1", "cluster=test", "role=peer"})
    BOOST_TEST(line.find("\"" + entry + "\"") != std::string::npos, entry);
  BOOST_TEST(line.find("\"node=" + node_of(1) + "\"") != std::string::npos);
  BOOST_TEST(line.find("\"key=" + kKey + "\"") != std::string::npos);

  BOOST_TEST(probe->terminate() == 0);
  auto removed = [](const Lines& lines) {
    for (const auto& l : lines) {
      if (str(l, "raw").rfind("-;eth0;IPv4;shop1;", 0) == 0) return true;
    }
    return false;
  };
  REQUIRE_OR_DUMP(browser.wait_for(removed, kTimeout), &browser, probe.get());
  browser.terminate();
}

BOOST_AUTO_TEST_CASE(we_find_a_node_published_by_python_zeroconf) {
  require_tools();
  TempDir dir("discovery-interop");
  NamespaceLan net(2);
  std::vector<std::string> args = {"publish", "--ip", net.address(2), "--name", "zc node", "--host", "zchost",
                                   "--port", "7462", "--seconds", "60"};
  auto txt = good_txt(node_of(2), "uplink");
  args.insert(args.end(), txt.begin(), txt.end());
  auto publisher = start_zeroconf(net, 2, args, dir, "publisher");
  auto probe = start_probe(net, 1, ProbeSpec("shop1", node_of(1)), dir);

  REQUIRE_OR_DUMP(probe->wait_for([](const Lines& l) { return path_up(l, node_of(2), "ipv4"); }, kTimeout),
                  probe.get(), publisher.get());
  auto found = *last_found(probe->lines(), node_of(2), "ipv4");
  BOOST_TEST(found["name"].get<std::string>() == "zc node");
  BOOST_TEST(found["address"].get<std::string>() == net.address(2));
  BOOST_TEST(found["port"].get<int>() == 7462);
  BOOST_TEST(found["role"].get<std::string>() == "uplink");
  BOOST_TEST(found["host"].get<std::string>() == "zchost.local");

  // python-zeroconf's unregister sends the goodbye; we report the node lost.
  publisher->terminate();
  REQUIRE_OR_DUMP(probe->wait_for([](const Lines& l) { return !path_up(l, node_of(2), "ipv4"); }, kTimeout),
                  probe.get(), publisher.get());
}

BOOST_AUTO_TEST_CASE(malformed_announcements_are_refused_without_harm) {
  require_tools();
  TempDir dir("discovery-interop");
  NamespaceLan net(3);
  auto publish = [&](const std::string& name, std::vector<std::string> txt) {
    std::vector<std::string> args = {"publish", "--ip", net.address(2), "--name", name, "--host", "zc-" + std::to_string(name.size()),
                                     "--seconds", "60"};
    for (auto& t : txt) {
      args.push_back("--txt");
      args.push_back(t);
    }
    return start_zeroconf(net, 2, args, dir, "publisher-" + std::to_string(name.size()));
  };
  auto bad_node = publish("bad node", {"txtvers=1", "proto=1", "cluster=test", "node=not-hex", "key=" + kKey, "role=peer"});
  auto newer = publish("from the future", {"txtvers=2", "proto=9", "cluster=test", "node=" + node_of(2)});
  auto probe = start_probe(net, 1, ProbeSpec("shop1", node_of(1)), dir);
  auto good = start_probe(net, 3, ProbeSpec("shop3", node_of(3)), dir);

  REQUIRE_OR_DUMP(probe->wait_for([](const Lines& l) { return path_up(l, node_of(3), "ipv4"); }, kTimeout), probe.get(),
                  bad_node.get(), newer.get());
  auto diag = diagnostics_until(
      *probe,
      [](const nlohmann::json& d) {
        return refused_for(d, "bad node", "malformed_txt") && refused_for(d, "from the future", "unsupported_txtvers");
      },
      kTimeout);
  REQUIRE_OR_DUMP(diag.has_value(), probe.get(), bad_node.get(), newer.get());
  BOOST_TEST(refused_for(*diag, "bad node", "malformed_txt"), diag->dump());
  BOOST_TEST(refused_for(*diag, "from the future", "unsupported_txtvers"), diag->dump());
  for (const auto& r : (*diag)["refused"]) {
    if (r["name"] == "bad node") BOOST_TEST(r["detail"].get<std::string>().find("node") != std::string::npos);
  }
  // Neither was reported as a peer, and the probe still runs.
  for (const auto& l : probe->lines()) {
    if (str(l, "event") == "found") BOOST_TEST(str(l, "node") == node_of(3));
  }
  BOOST_TEST(probe->running());
}

BOOST_AUTO_TEST_CASE(coexists_with_an_avahi_daemon_holding_udp_5353) {
  require_tools();
  TempDir dir("discovery-interop");
  NamespaceLan net(3);
  const auto conf = dir / "avahi-daemon.conf";
  {
    std::ofstream out(conf);
    out << "[server]\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=eth0\nenable-dbus=no\n"
           "[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n";
  }
  // The daemon gets a private /run (its pid file and socket live there) so it
  // neither sees nor disturbs one of the machine's.
  std::vector<std::string> argv = net.exec(1);
  argv.insert(argv.end(), {"unshare", "-m", "--propagation", "private", "sh", "-c",
                           "mount -t tmpfs tmpfs /run && exec avahi-daemon -f '" + conf.string() +
                               "' --no-drop-root --no-chroot --no-rlimits"});
  ChildProcess daemon(argv, dir / "avahi-daemon.err");
  BOOST_REQUIRE(daemon.started());
  bool bound = false;
  for (int i = 0; i < 100 && !bound; ++i) {
    auto ss = run_command({"ip", "netns", "exec", net.ns(1), "ss", "-Huln", "sport", "=", ":5353"});
    bound = ss.output.find("5353") != std::string::npos;
    if (!bound) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_OR_DUMP(bound, &daemon);

  auto browser = start_zeroconf(net, 3, {"browse", "--ip", net.address(3), "--seconds", "60"}, dir, "browser");
  // Host 1 uses the machine's host name, which the daemon publishes.
  auto probe1 = start_probe(net, 1, ProbeSpec("shop1", node_of(1)).with_host_name("system"), dir);
  auto probe2 = start_probe(net, 2, ProbeSpec("shop2", node_of(2)), dir);

  REQUIRE_OR_DUMP(probe1->wait_for([](const Lines& l) { return first_time(l, "started").has_value(); }, kTimeout),
                  probe1.get(), &daemon);
  auto started = probe1->lines().front();
  BOOST_TEST(started["publishing_addresses"].get<bool>() == false, "did not notice the daemon: " << started.dump());

  REQUIRE_OR_DUMP(probe2->wait_for([](const Lines& l) { return path_up(l, node_of(1), "ipv4"); }, kTimeout),
                  probe2.get(), probe1.get(), &daemon);
  REQUIRE_OR_DUMP(probe1->wait_for([](const Lines& l) { return path_up(l, node_of(2), "ipv4"); }, kTimeout),
                  probe1.get(), probe2.get(), &daemon);
  auto found = *last_found(probe2->lines(), node_of(1), "ipv4");
  char machine[256] = {};
  ::gethostname(machine, sizeof machine - 1);
  std::string host(machine);
  host = host.substr(0, host.find('.'));
  // Our SRV points at the daemon's host name; its A record gives the address.
  BOOST_TEST(found["host"].get<std::string>() == host + ".local");
  BOOST_TEST(found["address"].get<std::string>() == net.address(1));

  REQUIRE_OR_DUMP(browser->wait_for([](const Lines& l) { return visible(l, "shop1"); }, kTimeout), browser.get(),
                  probe1.get(), &daemon);
  auto seen = *last_about(browser->lines(), "shop1");
  std::vector<std::string> addresses = seen["addresses"];
  BOOST_TEST((std::find(addresses.begin(), addresses.end(), net.address(1)) != addresses.end()));

  // A clean stop still says goodbye, and the daemon carries on.
  BOOST_TEST(probe1->terminate() == 0);
  REQUIRE_OR_DUMP(browser->wait_for([](const Lines& l) { return !visible(l, "shop1"); }, kTimeout), browser.get(),
                  probe1.get());
  REQUIRE_OR_DUMP(probe2->wait_for([](const Lines& l) { return !path_up(l, node_of(1), "ipv4"); }, kTimeout),
                  probe2.get());
  BOOST_TEST(daemon.running());
  daemon.terminate();
}

BOOST_AUTO_TEST_SUITE_END()
