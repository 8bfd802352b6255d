// shopsync-bench soak: several real shopsyncd processes on loopback (a full
// mesh of static peers, CURVE) under a steady write load for a set time.
//
// Each node gets one writer thread (puts at --rate / --nodes per second, each
// to a new record) and one watcher thread that follows the node's changes feed
// (long polls). A record written at node X and seen in node Y's feed gives
// one propagation sample: the time from just before the put at X to the
// feed at Y showing it. Every --every seconds, and at the end, it prints the
// write throughput, propagation latency percentiles (p50/p90/p99) of the
// interval, and the RSS, anonymous RSS and open file descriptors of each node
// (from /proc). After the load stops it waits (at most 60 s) until every
// node has seen every acknowledged write and says how many arrived.
// Prints figures; asserts nothing about timings.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <msgpack.hpp>

#include "api/api_client.h"
#include "node/identity.h"
#include "tools/bench/bench.h"

extern char** environ;

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct SoakOptions {
  int nodes = 3;
  int seconds = 60;
  double rate = 100;  // writes/s over all nodes
  int every = 5;      // seconds between samples
  std::size_t payload_bytes = 200;
  std::string shopsyncd;
  std::uint16_t base_port = 17800;
  bool keep = false;
};

constexpr const char* kSoakUsage =
    "usage: shopsync-bench soak [--nodes N] [--seconds S] [--rate R] [--every S] [--payload-bytes N]\n"
    "                           [--shopsyncd PATH] [--base-port P] [--keep]\n"
    "  --nodes N          shopsyncd processes, a full mesh on 127.0.0.1 [3]\n"
    "  --seconds S        how long the write load lasts [60]\n"
    "  --rate R           writes per second over all nodes (each node R/N) [100]\n"
    "  --every S          seconds between two samples of throughput, latency, RSS, fds [5]\n"
    "  --payload-bytes N  size of each record's payload field [200]\n"
    "  --shopsyncd PATH   the daemon [next to this build: ../../node/shopsyncd]\n"
    "  --base-port P      ports P..P+2N-1 on 127.0.0.1 [17800]\n"
    "  --keep             keep the data directories and logs\n";

std::optional<SoakOptions> parse_soak(const std::vector<std::string>& args) {
  SoakOptions o;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      const bool has_value = i + 1 < args.size();
      if (a == "--nodes" && has_value) {
        o.nodes = std::stoi(args[++i]);
      } else if (a == "--seconds" && has_value) {
        o.seconds = std::stoi(args[++i]);
      } else if (a == "--rate" && has_value) {
        o.rate = std::stod(args[++i]);
      } else if (a == "--every" && has_value) {
        o.every = std::stoi(args[++i]);
      } else if (a == "--payload-bytes" && has_value) {
        o.payload_bytes = std::stoull(args[++i]);
      } else if (a == "--shopsyncd" && has_value) {
        o.shopsyncd = args[++i];
      } else if (a == "--base-port" && has_value) {
        o.base_port = static_cast<std::uint16_t>(std::stoul(args[++i]));
      } else if (a == "--keep") {
        o.keep = true;
      } else {
        return std::nullopt;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (o.nodes < 2 || o.nodes > 16 || o.seconds < 1 || o.rate <= 0 || o.every < 1) return std::nullopt;
  return o;
}

struct ProcStats {
  long rss_kib = -1;
  long anon_kib = -1;
  int fds = -1;
};

ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  if (pid <= 0) return s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::atol(line.c_str() + 6);
    if (line.rfind("RssAnon:", 0) == 0) s.anon_kib = std::atol(line.c_str() + 8);
  }
  std::error_code ec;
  int n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  if (!ec) s.fds = n;
  return s;
}

// One shopsyncd, stopped (SIGTERM, then SIGKILL after 15 s) by its pid.
class SoakDaemon {
 public:
  SoakDaemon(const std::string& exe, std::vector<std::string> args, const fs::path& log) {
    args.insert(args.begin(), exe);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~SoakDaemon() { stop(); }
  SoakDaemon(const SoakDaemon&) = delete;
  SoakDaemon& operator=(const SoakDaemon&) = delete;
  pid_t pid() const { return pid_; }
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 1500; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return 128 + SIGKILL;
  }

 private:
  pid_t pid_ = -1;
};

// Shared between the writers, the watchers and the main thread.
struct Shared {
  std::mutex mu;
  std::map<std::string, SteadyClock::time_point> sent;  // record id -> just before its put
  std::vector<double> latencies_ms;                     // since the last sample
  std::vector<double> all_latencies_ms;
  std::vector<std::size_t> seen_remote;                 // per node: remote writes seen in its feed
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> writing{true};
  std::atomic<bool> watching{true};
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

void writer(int node, const std::string& api, double per_second, std::size_t payload, Shared& shared) {
  auto client = api::ApiClient::connect(api, {std::chrono::milliseconds(5000)});
  if (!client) return;
  msgpack::sbuffer pad;
  msgpack::packer<msgpack::sbuffer>(pad).pack(std::string(payload, 'p'));
  const auto period = std::chrono::duration<double>(1.0 / per_second);
  auto next = SteadyClock::now();
  for (std::uint64_t seq = 0; shared.writing; ++seq) {
    api::PutRequest put;
    put.key = {"soak", "n" + std::to_string(node) + "-" + std::to_string(seq)};
    put.fields["pad"] = std::string(pad.data(), pad.size());
    {
      std::lock_guard lock(shared.mu);
      shared.sent[put.key.id] = SteadyClock::now();
    }
    if (client->put(put)) {
      ++shared.acked;
    } else {
      ++shared.failed;
      std::lock_guard lock(shared.mu);
      shared.sent.erase(put.key.id);
    }
    next += std::chrono::duration_cast<SteadyClock::duration>(period);
    std::this_thread::sleep_until(next);
  }
}

void watcher(int node, const std::string& api, Shared& shared) {
  auto client = api::ApiClient::connect(api, {std::chrono::milliseconds(5000)});
  if (!client) return;
  api::ChangesRequest first;
  first.since_now = true;
  first.limit = 1;
  auto page = client->changes(first);
  if (!page) return;
  api::ChangeCursor cursor = page->cursor;
  const std::string own = "n" + std::to_string(node) + "-";
  while (shared.watching) {
    api::ChangesRequest req;
    req.since = cursor;
    req.collection = "soak";
    req.limit = api::kMaxPageLimit;
    req.wait_ms = 500;
    auto p = client->changes(req);
    if (!p) continue;
    cursor = p->cursor;
    const auto now = SteadyClock::now();
    std::lock_guard lock(shared.mu);
    for (const auto& c : p->changes) {
      if (c.key.id.rfind(own, 0) == 0) continue;
      auto it = shared.sent.find(c.key.id);
      if (it == shared.sent.end()) continue;
      const double ms = std::chrono::duration<double, std::milli>(now - it->second).count();
      shared.latencies_ms.push_back(ms);
      shared.all_latencies_ms.push_back(ms);
      ++shared.seen_remote[static_cast<std::size_t>(node)];
    }
  }
}

void print_nodes(const std::vector<std::unique_ptr<SoakDaemon>>& daemons) {
  for (std::size_t i = 0; i < daemons.size(); ++i) {
    const ProcStats s = proc_stats(daemons[i]->pid());
    std::printf("    n%zu: RSS %6.1f MiB (anon %5.1f MiB), %3d fds\n", i, static_cast<double>(s.rss_kib) / 1024,
                static_cast<double>(s.anon_kib) / 1024, s.fds);
  }
}

int soak_main(const std::vector<std::string>& args) {
  auto parsed = parse_soak(args);
  if (!parsed) return kBadUsage;
  const SoakOptions o = *parsed;
  const std::string exe = o.shopsyncd.empty() ? built_shopsyncd() : o.shopsyncd;
  if (::access(exe.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "soak: %s is not an executable shopsyncd (use --shopsyncd PATH)\n", exe.c_str());
    return 1;
  }
  const auto made = make_temp_dir("soak");
  if (!made) return 1;
  const fs::path dir = *made;
  const auto n = static_cast<std::size_t>(o.nodes);

  // Keys first, then every node with every other as a static peer.
  std::vector<std::string> keys, sync, api;
  for (std::size_t i = 0; i < n; ++i) {
    auto id = load_or_create_identity(dir / ("n" + std::to_string(i)));
    if (!id) {
      std::fprintf(stderr, "soak: creating the keys of n%zu: %s\n", i, id.status().to_string().c_str());
      return 1;
    }
    keys.push_back(id->public_key);
    sync.push_back("127.0.0.1:" + std::to_string(o.base_port + 2 * i));
    api.push_back("127.0.0.1:" + std::to_string(o.base_port + 2 * i + 1));
  }
  std::vector<std::unique_ptr<SoakDaemon>> daemons;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "n" + std::to_string(i);
    std::vector<std::string> a = {"--data", (dir / name).string(), "--name", name, "--cluster", "soak",
                                  "--listen", sync[i], "--api", api[i], "--no-mdns", "--log-level", "warn"};
    for (std::size_t j = 0; j < n; ++j) {
      if (j != i) a.insert(a.end(), {"--peer", keys[j] + "@" + sync[j]});
    }
    daemons.push_back(std::make_unique<SoakDaemon>(exe, a, dir / (name + ".log")));
    if (daemons.back()->pid() <= 0) {
      std::fprintf(stderr, "soak: cannot start %s\n", exe.c_str());
      return 1;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto c = api::ApiClient::connect(api[i], {std::chrono::milliseconds(1000)});
    bool up = false;
    for (int t = 0; t < 30 && c && !up; ++t) up = c->status().is_ok();
    if (!up) {
      std::fprintf(stderr, "soak: n%zu did not start (see %s)\n", i, (dir / ("n" + std::to_string(i) + ".log")).c_str());
      return 1;
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the links come up

  std::printf("soak: %d nodes on 127.0.0.1, %.0f writes/s for %d s, samples every %d s, data in %s\n", o.nodes,
              o.rate, o.seconds, o.every, dir.c_str());
  std::printf("  at start:\n");
  print_nodes(daemons);
  std::vector<ProcStats> start_stats;
  for (const auto& d : daemons) start_stats.push_back(proc_stats(d->pid()));
  std::fflush(stdout);

  Shared shared;
  shared.seen_remote.assign(n, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back(watcher, static_cast<int>(i), api[i], std::ref(shared));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // watchers at "now" before the first write
  std::vector<std::thread> writers;
  for (std::size_t i = 0; i < n; ++i) {
    writers.emplace_back(writer, static_cast<int>(i), api[i], o.rate / o.nodes, o.payload_bytes, std::ref(shared));
  }

  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::seconds(o.seconds);
  std::uint64_t last_acked = 0;
  auto last = start;
  while (SteadyClock::now() < end) {
    std::this_thread::sleep_until(std::min(end, last + std::chrono::seconds(o.every)));
    const auto now = SteadyClock::now();
    const std::uint64_t acked = shared.acked;
    std::vector<double> lat;
    {
      std::lock_guard lock(shared.mu);
      lat.swap(shared.latencies_ms);
    }
    const double dt = std::chrono::duration<double>(now - last).count();
    std::printf("  t=%5.1fs: %7.1f writes/s acknowledged (%llu failed so far); propagation p50 %.1f ms, p90 %.1f ms, "
                "p99 %.1f ms (%zu samples)\n",
                std::chrono::duration<double>(now - start).count(), static_cast<double>(acked - last_acked) / dt,
                static_cast<unsigned long long>(shared.failed.load()), percentile(lat, 0.5), percentile(lat, 0.9),
                percentile(lat, 0.99), lat.size());
    print_nodes(daemons);
    std::fflush(stdout);
    last_acked = acked;
    last = now;
  }
  shared.writing = false;
  for (auto& t : writers) t.join();
  const double load_s = std::chrono::duration<double>(SteadyClock::now() - start).count();

  // Wait until every node has seen every acknowledged write of the others.
  const std::uint64_t acked = shared.acked;
  const auto drain_start = SteadyClock::now();
  std::size_t expected_total = 0;
  {
    std::lock_guard lock(shared.mu);
    expected_total = shared.sent.size() * (n - 1);
  }
  std::size_t seen_total = 0;
  while (SteadyClock::now() - drain_start < std::chrono::seconds(60)) {
    {
      std::lock_guard lock(shared.mu);
      seen_total = 0;
      for (auto s : shared.seen_remote) seen_total += s;
    }
    if (seen_total >= expected_total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  shared.watching = false;
  for (auto& t : threads) t.join();

  std::vector<double> all;
  {
    std::lock_guard lock(shared.mu);
    all = shared.all_latencies_ms;
  }
  std::printf("  at the end:\n");
  print_nodes(daemons);
  std::printf("soak result: %llu writes acknowledged in %.1f s (%.1f writes/s), %llu failed\n",
              static_cast<unsigned long long>(acked), load_s, static_cast<double>(acked) / load_s,
              static_cast<unsigned long long>(shared.failed.load()));
  std::printf("  propagated: %zu of %zu remote copies seen in the changes feeds (%.1f s after the load stopped)\n",
              seen_total, expected_total, std::chrono::duration<double>(SteadyClock::now() - drain_start).count());
  const double p50 = percentile(all, 0.5), p90 = percentile(all, 0.9), p99 = percentile(all, 0.99);
  const double max = all.empty() ? 0.0 : all.back();  // sorted by percentile()
  std::printf("  propagation latency over the run: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%zu samples)\n",
              p50, p90, p99, max, all.size());
  for (std::size_t i = 0; i < n; ++i) {
    const ProcStats s = proc_stats(daemons[i]->pid());
    std::printf("  n%zu memory: RSS %.1f -> %.1f MiB, anon %.1f -> %.1f MiB, fds %d -> %d\n", i,
                static_cast<double>(start_stats[i].rss_kib) / 1024, static_cast<double>(s.rss_kib) / 1024,
                static_cast<double>(start_stats[i].anon_kib) / 1024, static_cast<double>(s.anon_kib) / 1024,
                start_stats[i].fds, s.fds);
  }
  int code = seen_total >= expected_total ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const int rc = daemons[i]->stop();
    if (rc != 0) {
      std::fprintf(stderr, "soak: n%zu exited with %d on SIGTERM\n", i, rc);
      code = 1;
    }
  }
  if (o.keep) {
    std::printf("  data and logs kept in %s\n", dir.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return code;
}

}  // namespace

SHOPSYNC_BENCH_SUBCOMMAND(soak, "soak", "several real nodes under write load: throughput, propagation, RSS, fds", kSoakUsage,
                          soak_main);

}  // namespace shopsync::bench
