// discovery_probe: runs one Discovery in a poll(2) loop, the way the node's
// event loop drives it, and prints what happens as JSON lines on stdout:
//
//   {"event":"started","t_ms":0,"name":...,"publishing_addresses":true}
//   {"event":"announced","t_ms":812,"name":"shop1"}        once our records are established
//   {"event":"found","t_ms":903,"node":"00000000000000a2","name":...,"address":...,...}
//   {"event":"lost",...}
//   {"event":"diagnostics",...}                           on SIGUSR1 and at the end
//   {"event":"stopped","t_ms":...}                        after the goodbye went out
//
// Runs until SIGTERM/SIGINT or --seconds N (default 60), then stops cleanly
// (goodbye). Exit codes: 0 clean stop, 2 bad usage, 1 discovery failed to start.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "discovery/discovery.h"
#include "discovery/service_txt.h"

namespace {

using namespace shopsync::discovery;
using shopsync::node_id_text;
using shopsync::Role;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_dump = 0;

void on_signal(int sig) {
  if (sig == SIGUSR1) {
    g_dump = 1;
  } else {
    g_stop = 1;
  }
}

const char kUsage[] =
    "usage: discovery_probe --name NAME --node HEX16 [--port 7460] [--cluster NAME] [--key Z85]\n"
    "         [--role peer|uplink] [--protocol N] [--seconds N] [--ttl SECONDS] [--host-name LABEL]\n"
    "         [--interface IF]... [--publish-addresses auto|always|never] [--no-ipv4] [--no-ipv6]\n"
    "         [--no-link-beat] [--verbose]\n";

void emit(const nlohmann::json& j) {
  std::string s = j.dump();
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

nlohmann::json to_json(const PeerEvent& e) {
  return {{"node", node_id_text(e.node_id)},
          {"name", e.name},
          {"cluster", e.cluster},
          {"role", std::string(to_string(e.role))},
          {"key", e.public_key},
          {"protocol", e.protocol},
          {"host", e.host_name},
          {"address", e.address},
          {"family", e.family == IpFamily::ipv4 ? "ipv4" : "ipv6"},
          {"port", e.port},
          {"interface", e.interface_name},
          {"ifindex", e.interface_index},
          {"endpoint", e.zmq_endpoint()}};
}

nlohmann::json to_json(const DiscoveryDiagnostics& d) {
  nlohmann::json j = {{"published_name", d.published_name},
                      {"host_name", d.host_name},
                      {"publishing_addresses", d.publishing_addresses},
                      {"state", d.state},
                      {"name_conflicts", d.name_conflicts},
                      {"mdns_reads", d.mdns_reads}};
  j["interfaces"] = nlohmann::json::array();
  for (const auto& i : d.interfaces) {
    j["interfaces"].push_back({{"name", i.name},
                               {"index", i.index},
                               {"addresses", i.addresses},
                               {"joined_ipv4", i.joined_ipv4},
                               {"joined_ipv6", i.joined_ipv6},
                               {"answers_received", i.answers_received},
                               {"kernel_ipv6_multicast_sent", i.kernel_ipv6_multicast_sent},
                               {"kernel_ipv6_multicast_received", i.kernel_ipv6_multicast_received},
                               {"peers_seen", i.peers_seen}});
  }
  j["peers"] = nlohmann::json::array();
  for (const auto& p : d.peers) j["peers"].push_back(to_json(p));
  j["refused"] = nlohmann::json::array();
  for (const auto& r : d.refused) {
    j["refused"].push_back({{"name", r.name},
                            {"interface", r.interface_name},
                            {"reason", std::string(to_string(r.reason))},
                            {"detail", r.detail},
                            {"times", r.times}});
  }
  return j;
}

bool parse_u64(const std::string& s, unsigned long long& out, int base = 10) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  Announcement a;
  a.port = 7460;
  a.cluster = "test";
  a.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";  // a well-formed sample key
  DiscoveryOptions opt;
  long seconds = 60;
  bool verbose = false;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "discovery_probe: %s needs a value\n%s", f.c_str(), kUsage);
        std::exit(2);
      }
      return args[++i];
    };
    unsigned long long n = 0;
    if (f == "--name") {
      a.name = value();
    } else if (f == "--node") {
      if (!parse_u64(value(), n, 16)) { std::fprintf(stderr, "discovery_probe: --node: not hex\n"); return 2; }
      a.node_id = n;
    } else if (f == "--port") {
      if (!parse_u64(value(), n) || n > 65535) { std::fprintf(stderr, "discovery_probe: --port: bad\n"); return 2; }
      a.port = static_cast<std::uint16_t>(n);
    } else if (f == "--cluster") {
      a.cluster = value();
    } else if (f == "--key") {
      a.public_key = value();
    } else if (f == "--role") {
      std::string r = value();
      a.role = r == "uplink" ? Role::uplink : Role::peer;
    } else if (f == "--protocol") {
      if (!parse_u64(value(), n)) { std::fprintf(stderr, "discovery_probe: --protocol: bad\n"); return 2; }
      a.protocol = static_cast<std::uint32_t>(n);
    } else if (f == "--seconds") {
      if (!parse_u64(value(), n)) { std::fprintf(stderr, "discovery_probe: --seconds: bad\n"); return 2; }
      seconds = static_cast<long>(n);
    } else if (f == "--ttl") {
      if (!parse_u64(value(), n)) { std::fprintf(stderr, "discovery_probe: --ttl: bad\n"); return 2; }
      opt.record_ttl = std::chrono::seconds(n);
    } else if (f == "--host-name") {
      opt.host_name = value();
    } else if (f == "--interface") {
      opt.allow_interfaces.push_back(value());
    } else if (f == "--publish-addresses") {
      std::string p = value();
      opt.address_publishing = p == "always" ? AddressPublishing::always
                               : p == "never" ? AddressPublishing::never
                                              : AddressPublishing::automatic;
    } else if (f == "--no-ipv4") {
      opt.use_ipv4 = false;
    } else if (f == "--no-ipv6") {
      opt.use_ipv6 = false;
    } else if (f == "--no-link-beat") {
      opt.require_link_beat = false;
    } else if (f == "--verbose") {
      verbose = true;
    } else {
      std::fprintf(stderr, "discovery_probe: unknown argument %s\n%s", f.c_str(), kUsage);
      return 2;
    }
  }
  if (verbose) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::fprintf(stderr, "probe %d: starting discovery at monotonic %lld ms\n", static_cast<int>(getpid()),
                 static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
  }
  if (verbose) opt.log = [](std::string_view line) { std::fprintf(stderr, "avahi: %.*s\n", static_cast<int>(line.size()), line.data()); };

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);

  const auto t0 = Clock::now();
  auto ms_since_start = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  };

  auto started = Discovery::start(a, opt, [&](const PeerEvent& e) {
    nlohmann::json j = to_json(e);
    j["event"] = std::string(to_string(e.kind));
    j["t_ms"] = ms_since_start();
    emit(j);
  });
  if (!started) {
    std::fprintf(stderr, "discovery_probe: starting discovery: %s\n", started.status().to_string().c_str());
    return 1;
  }
  Discovery& d = **started;
  emit({{"event", "started"},
        {"t_ms", ms_since_start()},
        {"name", a.name},
        {"node", node_id_text(a.node_id)},
        {"publishing_addresses", d.diagnostics().publishing_addresses}});

  const auto deadline = t0 + std::chrono::seconds(seconds);
  std::string last_state;
  std::string announced_name;
  while (!g_stop && Clock::now() < deadline) {
    std::vector<PollFd> fds = d.fds();
    std::vector<pollfd> sys;
    for (const auto& f : fds) sys.push_back({f.fd, to_poll_events(f.events), 0});
    int wait = d.timeout_ms();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    // Bounded so that a signal arriving between the checks is noticed soon.
    int cap = static_cast<int>(std::min<long long>(left, 200));
    if (wait < 0 || wait > cap) wait = std::max(cap, 0);
    int n = ::poll(sys.data(), sys.size(), wait);
    for (std::size_t i = 0; n > 0 && i < sys.size(); ++i) fds[i].revents = from_poll_events(sys[i].revents);
    d.dispatch(fds);

    std::string state = d.state();
    if (state == "announced" && (last_state != "announced" || announced_name != d.published_name())) {
      announced_name = d.published_name();
      emit({{"event", "announced"}, {"t_ms", ms_since_start()}, {"name", announced_name}});
    }
    last_state = state;
    if (g_dump) {
      g_dump = 0;
      nlohmann::json j = to_json(d.diagnostics());
      j["event"] = "diagnostics";
      emit(j);
    }
  }
  nlohmann::json j = to_json(d.diagnostics());
  j["event"] = "diagnostics";
  emit(j);
  d.stop();
  emit({{"event", "stopped"}, {"t_ms", ms_since_start()}});
  return 0;
}
