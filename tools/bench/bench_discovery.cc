// shopsync-bench discovery: how long a node takes, from its start, to be
// connected to every peer it discovers on the LAN by mDNS (no --peer).
//
// Each run builds a LAN of network namespaces joined by a bridge
// (tools/netlab/namespace_lan.h: 198.18.0.0/24, nothing leaves the machine),
// starts one shopsyncd per host at once, each trusting the others' keys and
// with its own host name, and polls every node's local API (a Unix socket)
// until it reports every other node connected. Root only.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "api/api_client.h"
#include "tools/bench/bench.h"
#include "tools/netlab/namespace_lan.h"
#include "tools/netlab/process.h"

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kRunTimeout = std::chrono::seconds(30);
constexpr auto kPollEvery = std::chrono::milliseconds(5);

struct Options {
  int nodes = 3;
  int runs = 5;
  std::string shopsyncd;
};

std::optional<int> parse_int(const std::string& text, int min, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--nodes" && has_value) {
      auto v = parse_int(args[++i], 2, 8);
      if (!v) return std::nullopt;
      o.nodes = *v;
    } else if (a == "--runs" && has_value) {
      auto v = parse_int(args[++i], 1, 100);
      if (!v) return std::nullopt;
      o.runs = *v;
    } else if (a == "--shopsyncd" && has_value) {
      o.shopsyncd = args[++i];
    } else {
      return std::nullopt;
    }
  }
  return o;
}

constexpr const char* kUsage =
    "usage: shopsync-bench discovery [--nodes N] [--runs R] [--shopsyncd PATH]   (root: network namespaces)\n"
    "  --nodes N          shopsyncd processes on the LAN, 2 to 8 [3]\n"
    "  --runs R           LANs built and torn down, 1 to 100 [5]\n"
    "  --shopsyncd PATH   the daemon [next to this build: ../../node/shopsyncd]\n";

struct Node {
  fs::path data;
  std::string api;
  std::string key;
  Clock::time_point started;
  std::optional<double> connected_ms;  // all others connected, from its start
  std::unique_ptr<netlab::ChildProcess> process;
  std::optional<api::ApiClient> client;
};

std::string read_key(const std::string& exe, const fs::path& data) {
  auto r = netlab::run_command({exe, "--data", data.string(), "--print-key"}, std::chrono::seconds(10));
  std::ifstream in(data / "curve.public");
  std::string key;
  std::getline(in, key);
  return r.exit_code == 0 ? key : std::string();
}

int connected_peers(api::ApiClient& client) {
  auto peers = client.peers();
  if (!peers) return 0;
  int n = 0;
  for (const auto& p : peers->peers) n += p.state == "connected";
  return n;
}

// One LAN: the time each node took to be connected to all others, or an
// error naming the step.
Result<std::vector<double>> one_run(const Options& o, const std::string& exe, const fs::path& dir) {
  netlab::NamespaceLan lan(o.nodes);
  std::vector<Node> nodes(static_cast<std::size_t>(o.nodes));
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].data = dir / ("node" + std::to_string(i + 1));
    nodes[i].api = "ipc://" + (dir / ("node" + std::to_string(i + 1) + ".api")).string();
    nodes[i].key = read_key(exe, nodes[i].data);
    if (nodes[i].key.empty()) return Status::io_error("creating the key of node " + std::to_string(i + 1));
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const int host = static_cast<int>(i + 1);
    std::vector<std::string> argv = lan.exec_as_host(host);
    argv.insert(argv.end(), {exe, "--data", nodes[i].data.string(), "--name", "node" + std::to_string(host),
                             "--cluster", "bench", "--api", nodes[i].api});
    for (std::size_t j = 0; j < nodes.size(); ++j) {
      if (j != i) argv.insert(argv.end(), {"--trust", nodes[j].key});
    }
    nodes[i].started = Clock::now();
    nodes[i].process = std::make_unique<netlab::ChildProcess>(argv, dir / ("node" + std::to_string(host) + ".log"));
    if (!nodes[i].process->started()) return Status::io_error("starting " + exe);
  }
  for (auto& n : nodes) {
    auto client = api::ApiClient::connect(n.api, {std::chrono::milliseconds(1000)});
    if (!client) return client.status().context("connecting to a node's API");
    n.client.emplace(std::move(*client));
  }
  const auto deadline = Clock::now() + kRunTimeout;
  std::size_t done = 0;
  while (done < nodes.size() && Clock::now() < deadline) {
    for (auto& n : nodes) {
      if (n.connected_ms || connected_peers(*n.client) < o.nodes - 1) continue;
      n.connected_ms = std::chrono::duration<double, std::milli>(Clock::now() - n.started).count();
      ++done;
    }
    std::this_thread::sleep_for(kPollEvery);
  }
  std::vector<double> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].connected_ms) {
      return Status::io_error("node " + std::to_string(i + 1) + " was not connected to all others within 30 s; its log:\n" +
                              nodes[i].process->transcript());
    }
    out.push_back(*nodes[i].connected_ms);
  }
  for (auto& n : nodes) {
    n.client.reset();
    if (n.process->terminate() != 0) return Status::io_error("a node did not stop cleanly:\n" + n.process->transcript());
  }
  return out;
}

int run_discovery(const std::vector<std::string>& args) {
  auto o = parse(args);
  if (!o) return kBadUsage;
  if (auto why = netlab::NamespaceLan::unavailable()) {
    std::fprintf(stderr, "discovery: cannot build the namespace LAN: %s\n", why->c_str());
    return 1;
  }
  const std::string exe = o->shopsyncd.empty() ? built_shopsyncd() : o->shopsyncd;
  std::printf("discovery: %d shopsyncd on a namespace LAN, no --peer, %d runs\n", o->nodes, o->runs);
  std::vector<double> all;
  for (int run = 1; run <= o->runs; ++run) {
    const auto dir = make_temp_dir("discovery");
    if (!dir) return 1;
    Result<std::vector<double>> times = Status::ok();
    try {
      times = one_run(*o, exe, *dir);
    } catch (const std::exception& e) {  // NamespaceLan names the `ip` step that failed
      times = Status::io_error(e.what());
    }
    std::error_code ec;
    fs::remove_all(*dir, ec);
    if (!times) {
      std::fprintf(stderr, "discovery: run %d: %s\n", run, times.status().message().c_str());
      return 1;
    }
    std::printf("  run %d: connected to all %d peers after", run, o->nodes - 1);
    for (double t : *times) std::printf(" %.0f", t);
    std::printf(" ms\n");
    all.insert(all.end(), times->begin(), times->end());
  }
  std::sort(all.begin(), all.end());
  const double p90 = all[std::min(all.size() - 1, all.size() * 9 / 10)];
  std::printf("start to connected to every discovered peer (%zu node starts): median %.0f ms, p90 %.0f ms, max %.0f ms"
              " (goal < 2000 ms)\n",
              all.size(), median(all), p90, all.back());
  return 0;
}

}  // namespace

SHOPSYNC_BENCH_SUBCOMMAND(discovery, "discovery", "nodes on a namespace LAN: start to connected to discovered peers", kUsage,
                          run_discovery);

}  // namespace shopsync::bench
