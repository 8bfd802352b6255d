// shopsync-bench gateway-flood: two synced shopsyncd processes on loopback;
// node A's HTTP gateway is flooded from A's own loopback while we measure
// what the flood must not hurt.
//
//   1. Seeds A with N records, creates a gateway token, starts A (with --http)
//      and B (static peers, CURVE), and waits until B holds every record.
//   2. For --seconds, from 127.0.0.2 and up:
//        - pipelining clients: 6,000 unauthenticated GET /metrics per
//          connection, answers read and thrown away, again and again;
//        - a client that sends 20,000 authenticated GETs and closes at once;
//        - slowloris: 300 connections (30 per address) that send a request
//          head one header line per second and never finish it.
//      Meanwhile, from 127.0.0.1: the local API of A is timed (a status call
//      every 10 ms), and a legitimate HTTP client sends GET /healthz on a new
//      connection every 50 ms (2 s timeout each).
//   3. Prints: peer links dropped during the flood (disconnections logged by
//      A or B; goal 0), false clock-skew warnings, local API p50/p99 latency
//      (goal p99 < 50 ms), legitimate HTTP requests answered / sent, and the
//      flood's volume.
// Prints figures; asserts nothing about timings.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/api_client.h"
#include "app/tokens.h"
#include "node/bulk_seed.h"
#include "node/identity.h"
#include "storage/lmdb_store.h"
#include "tools/bench/bench.h"
#include "tools/bench/daemon.h"
#include "tools/bench/loopback_http.h"

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  std::size_t records = 2600;
  std::size_t runs = 1;
  int seconds = 10;
  int pipeliners = 4;
  int slowloris = 300;
  std::string shopsyncd;
  std::uint16_t base_port = 17700;
  bool keep = false;
};

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<std::string> v;
    if (a == "--records" && (v = option_value(args, i))) {
      o.records = std::stoull(*v);
    } else if (a == "--runs" && (v = option_value(args, i))) {
      o.runs = std::max<std::size_t>(1, std::stoull(*v));
    } else if (a == "--seconds" && (v = option_value(args, i))) {
      o.seconds = std::max(1, std::stoi(*v));
    } else if (a == "--pipeliners" && (v = option_value(args, i))) {
      o.pipeliners = std::max(0, std::stoi(*v));
    } else if (a == "--slowloris" && (v = option_value(args, i))) {
      o.slowloris = std::max(0, std::stoi(*v));
    } else if (a == "--shopsyncd" && (v = option_value(args, i))) {
      o.shopsyncd = *v;
    } else if (a == "--base-port" && (v = option_value(args, i))) {
      o.base_port = static_cast<std::uint16_t>(std::stoul(*v));
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      return std::nullopt;
    }
  }
  if (o.records == 0) return std::nullopt;
  return o;
}

constexpr const char* kUsage =
    "usage: shopsync-bench gateway-flood [--records N] [--runs R] [--seconds S] [--pipeliners N] [--slowloris N]\n"
    "                                    [--shopsyncd PATH] [--base-port P] [--keep]\n"
    "  --records N      records seeded at node A (and synced to B) [2600]\n"
    "  --runs R         repeat and print medians [1]\n"
    "  --seconds S      length of the flood [10]\n"
    "  --pipeliners N   connections pipelining 6,000 GET /metrics each, again and again [4]\n"
    "  --slowloris N    connections trickling a request head, one line a second [300]\n"
    "  --shopsyncd PATH the daemon [next to this build: ../../node/shopsyncd]\n"
    "  --base-port P    ports P..P+4 on 127.0.0.1 [17700]\n"
    "  --keep           keep the data directories and logs\n";

// Reads and discards what arrives within `wait`; false once the peer closed.
bool drain(int fd, std::chrono::milliseconds wait) {
  const auto until = Clock::now() + wait;
  char buf[65536];
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left, 0))) <= 0) return true;
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return false;
  }
  return true;
}

std::string repeated(const std::string& request, int times) {
  std::string out;
  out.reserve(request.size() * static_cast<std::size_t>(times));
  for (int i = 0; i < times; ++i) out += request;
  return out;
}

// One legitimate request on a new connection; its latency in ms, or nullopt
// when no answer came within 2 s.
std::optional<double> legit_get(std::uint16_t port) {
  const auto t0 = Clock::now();
  if (!http_get(port, "/healthz")) return std::nullopt;
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::size_t count_lines(const fs::path& log, const std::string& what) {
  std::ifstream in(log);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) n += line.find(what) != std::string::npos;
  return n;
}

struct RunResult {
  std::size_t links_dropped = 0;  // disconnections logged by A or B during the flood
  std::size_t skew_warnings = 0;
  double api_p50_ms = 0, api_p99_ms = 0, api_max_ms = 0;
  std::size_t api_calls = 0, api_failed = 0;
  std::size_t legit_sent = 0, legit_answered = 0;
  double legit_p50_ms = 0, legit_p99_ms = 0;
  std::uint64_t flood_requests_sent = 0, flood_connections = 0;
  bool ok = false;
};

RunResult run_once(const Options& o, std::size_t run) {
  RunResult r;
  const auto made = make_temp_dir("gateway-flood");
  if (!made) return r;
  const fs::path dir = *made;
  const fs::path a_dir = dir / "a", b_dir = dir / "b";
  SeedOptions seed;
  seed.cluster = "bench";
  seed.count = o.records;
  if (auto s = seed_records(a_dir, seed); !s) {
    std::fprintf(stderr, "gateway-flood: seeding node A: %s\n", s.status().to_string().c_str());
    return r;
  }
  std::string token;
  {
    auto store = LmdbStore::open(a_dir);
    if (!store) return r;
    auto t = app::create_token(**store, "bench", 0);
    if (!t) {
      std::fprintf(stderr, "gateway-flood: creating a token: %s\n", t.status().to_string().c_str());
      return r;
    }
    token = *t;
  }
  auto ka = load_or_create_identity(a_dir);
  auto kb = load_or_create_identity(b_dir);
  if (!ka || !kb) return r;

  const std::uint16_t p = static_cast<std::uint16_t>(o.base_port + 5 * (run % 8));
  const std::string a_sync = "127.0.0.1:" + std::to_string(p), a_api = "127.0.0.1:" + std::to_string(p + 1);
  const std::string b_sync = "127.0.0.1:" + std::to_string(p + 2), b_api = "127.0.0.1:" + std::to_string(p + 3);
  const std::uint16_t http_port = static_cast<std::uint16_t>(p + 4);
  const std::string exe = o.shopsyncd.empty() ? built_shopsyncd() : o.shopsyncd;
  auto common = [&](const fs::path& data, const std::string& name, const std::string& sync, const std::string& api,
                    const std::string& peer) {
    return std::vector<std::string>{"--data", data.string(), "--name", name, "--cluster", "bench", "--listen", sync,
                                    "--api", api, "--peer", peer, "--no-mdns", "--log-level", "info"};
  };
  auto a_args = common(a_dir, "a", a_sync, a_api, kb->public_key + "@" + b_sync);
  a_args.insert(a_args.end(), {"--http", "127.0.0.1:" + std::to_string(http_port)});
  Daemon a(exe, a_args, dir / "a.log");
  Daemon b(exe, common(b_dir, "b", b_sync, b_api, ka->public_key + "@" + a_sync), dir / "b.log");
  auto ca = api::ApiClient::connect(a_api, {std::chrono::milliseconds(10000)});
  auto cb = api::ApiClient::connect(b_api, {std::chrono::milliseconds(10000)});
  if (!ca || !cb) return r;
  char last[32];
  std::snprintf(last, sizeof last, "R%09zu", o.records - 1);
  bool synced = false;
  for (int i = 0; i < 3000 && !synced; ++i) {
    synced = cb->get({"bench", last}).is_ok();
    if (!synced) std::this_thread::sleep_for(20ms);
  }
  if (!synced || !legit_get(http_port)) {
    std::fprintf(stderr, "gateway-flood: the nodes did not sync or A's gateway did not answer (see %s)\n", dir.c_str());
    return r;
  }
  std::this_thread::sleep_for(1s);  // past the first pulls
  const std::size_t dropped_before =
      count_lines(dir / "a.log", ") disconnected:") + count_lines(dir / "b.log", ") disconnected:");
  const std::size_t skew_before = count_lines(dir / "a.log", "clock of peer") + count_lines(dir / "b.log", "clock of peer");

  std::atomic<bool> flooding{true};
  std::atomic<std::uint64_t> sent{0}, connections{0};
  std::vector<std::thread> threads;
  const std::string metrics_get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string pipelined = repeated(metrics_get, 6000);
  for (int i = 0; i < o.pipeliners; ++i) {
    threads.emplace_back([&] {
      while (flooding) {
        const int fd = connect_from("127.0.0.2", http_port);
        if (fd < 0) {
          std::this_thread::sleep_for(10ms);
          continue;
        }
        ++connections;
        sent += send_all(fd, pipelined) / metrics_get.size();
        drain(fd, 500ms);
        ::close(fd);
      }
    });
  }
  threads.emplace_back([&] {
    const std::string one = "GET /v1/bench?limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    const std::string burst = repeated(one, 20000);
    while (flooding) {
      const int fd = connect_from("127.0.0.3", http_port);
      if (fd < 0) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      ++connections;
      sent += send_all(fd, burst) / one.size();
      ::close(fd);  // and gone
      std::this_thread::sleep_for(100ms);
    }
  });
  threads.emplace_back([&] {
    std::vector<int> fds(static_cast<std::size_t>(o.slowloris), -1);
    std::vector<int> lines(fds.size(), 0);
    while (flooding) {
      for (std::size_t i = 0; i < fds.size() && flooding; ++i) {
        if (fds[i] < 0) {
          fds[i] = connect_from("127.0.0." + std::to_string(4 + i / 30), http_port);
          if (fds[i] < 0) continue;
          ++connections;
          send_all(fds[i], "GET /v1 HTTP/1.1\r\n");
          lines[i] = 0;
        }
        if (::send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) <= 0 || !drain(fds[i], 0ms)) {
          ::close(fds[i]);
          fds[i] = -1;
        }
        ++lines[i];
      }
      std::this_thread::sleep_for(1s);
    }
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  });

  std::vector<double> api_ms, legit_ms;
  const auto flood_end = Clock::now() + std::chrono::seconds(o.seconds);
  auto next_legit = Clock::now();
  while (Clock::now() < flood_end) {
    const auto t0 = Clock::now();
    if (ca->status().is_ok()) {
      api_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    } else {
      ++r.api_failed;
    }
    if (Clock::now() >= next_legit) {
      ++r.legit_sent;
      if (auto ms = legit_get(http_port)) {
        ++r.legit_answered;
        legit_ms.push_back(*ms);
      }
      next_legit = Clock::now() + 50ms;
    }
    std::this_thread::sleep_for(10ms);
  }
  flooding = false;
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(2s);  // a link lost at the end is logged after the peer timeout
  r.links_dropped = count_lines(dir / "a.log", ") disconnected:") + count_lines(dir / "b.log", ") disconnected:") -
                    dropped_before;
  r.skew_warnings =
      count_lines(dir / "a.log", "clock of peer") + count_lines(dir / "b.log", "clock of peer") - skew_before;
  r.api_calls = api_ms.size();
  if (!api_ms.empty()) {
    r.api_p50_ms = percentile(api_ms, 0.5);
    r.api_p99_ms = percentile(api_ms, 0.99);
    r.api_max_ms = percentile(api_ms, 1.0);
  }
  if (!legit_ms.empty()) {
    r.legit_p50_ms = percentile(legit_ms, 0.5);
    r.legit_p99_ms = percentile(legit_ms, 0.99);
  }
  r.flood_requests_sent = sent;
  r.flood_connections = connections;
  a.stop();
  b.stop();
  if (!o.keep) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("run %zu: data and logs kept in %s\n", run, dir.c_str());
  }
  r.ok = true;
  return r;
}

void print_run(const RunResult& r) {
  std::printf("  peer links dropped: %zu (goal 0); clock-skew warnings: %zu\n", r.links_dropped, r.skew_warnings);
  std::printf("  local API during the flood: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu calls answered, %zu failed; goal "
              "p99 < 50 ms)\n",
              r.api_p50_ms, r.api_p99_ms, r.api_max_ms, r.api_calls, r.api_failed);
  std::printf("  legitimate HTTP requests answered: %zu of %zu (p50 %.2f ms, p99 %.2f ms)\n", r.legit_answered,
              r.legit_sent, r.legit_p50_ms, r.legit_p99_ms);
  std::printf("  flood: %llu requests written to the socket on %llu connections\n", static_cast<unsigned long long>(r.flood_requests_sent),
              static_cast<unsigned long long>(r.flood_connections));
}

int gateway_flood_main(const std::vector<std::string>& args) {
  auto o = parse(args);
  if (!o) return kBadUsage;
  auto runs = repeat_runs("gateway-flood", o->runs, [&](std::size_t i) { return run_once(*o, i); }, print_run);
  if (!runs) return 1;
  const std::vector<RunResult>& results = *runs;
  if (results.size() > 1) {
    auto med = [&](auto figure) { return median_of(results, figure); };
    std::printf("median of %zu runs (%zu records, %d s of flood):\n", results.size(), o->records, o->seconds);
    std::printf("  peer links dropped %.0f; local API p50 %.2f ms, p99 %.2f ms; legitimate HTTP answered %.0f of %.0f\n",
                med([](const RunResult& r) { return static_cast<double>(r.links_dropped); }),
                med([](const RunResult& r) { return r.api_p50_ms; }), med([](const RunResult& r) { return r.api_p99_ms; }),
                med([](const RunResult& r) { return static_cast<double>(r.legit_answered); }),
                med([](const RunResult& r) { return static_cast<double>(r.legit_sent); }));
  }
  return 0;
}

SHOPSYNC_BENCH_SUBCOMMAND(gateway_flood, "gateway-flood",
                          "two synced nodes, one's HTTP gateway flooded: peer links, local API latency, HTTP answered",
                          kUsage, gateway_flood_main);

}  // namespace
}  // namespace shopsync::bench
