// shopsync-bench sync: two real shopsyncd processes on loopback.
//
//   1. Seeds node A's data directory with N records (node/bulk_seed.h).
//   2. Starts A and B (static peers, CURVE) and times B's initial sync of all
//      N records: records/s from B's start until the last record is visible
//      at B. Samples the memory of both processes meanwhile and reports it at
//      10 %, 50 % and 100 % of the records: RSS (what `ps` shows, which
//      includes the LMDB map pages the process has touched, i.e. the file's
//      page cache) and RssAnon (the process's own heap, which is what must not
//      grow with the data set), plus the peak (VmHWM).
//   3. Write-to-visible latency on the connected pair: puts on A, each timed
//      until B's changes feed (a long poll) shows the record.
// Prints figures; asserts nothing about timings.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <msgpack.hpp>

#include "node/api/api_client.h"
#include "node/bulk_seed.h"
#include "node/identity.h"
#include "tools/bench/bench.h"
#include "tools/bench/daemon.h"

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t records = 1'000'000;
  std::size_t runs = 1;
  std::size_t latency_samples = 1000;
  std::size_t payload_bytes = 64;
  std::string shopsyncd;
  std::uint16_t base_port = 17600;
  std::string durability = "commit";
  bool keep = false;
};

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    const std::string& a = args[i];
    std::optional<std::string> v;
    if (a == "--records" && (v = value())) {
      o.records = std::stoull(*v);
    } else if (a == "--runs" && (v = value())) {
      o.runs = std::max<std::size_t>(1, std::stoull(*v));
    } else if (a == "--latency-samples" && (v = value())) {
      o.latency_samples = std::stoull(*v);
    } else if (a == "--payload-bytes" && (v = value())) {
      o.payload_bytes = std::stoull(*v);
    } else if (a == "--shopsyncd" && (v = value())) {
      o.shopsyncd = *v;
    } else if (a == "--base-port" && (v = value())) {
      o.base_port = static_cast<std::uint16_t>(std::stoul(*v));
    } else if (a == "--durability" && (v = value())) {
      o.durability = *v;
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
    "usage: shopsync-bench sync [--records N] [--runs R] [--latency-samples N] [--payload-bytes N]\n"
    "                           [--shopsyncd PATH] [--base-port P] [--durability commit|interval] [--keep]\n"
    "  --records N          records of the initial sync [1000000]\n"
    "  --runs R             repeat and print medians [1]\n"
    "  --latency-samples N  writes timed for write-to-visible latency [1000]\n"
    "  --payload-bytes N    size of each record's payload field [64]\n"
    "  --shopsyncd PATH     the daemon [next to this build: ../../node/shopsyncd]\n"
    "  --base-port P        ports P..P+3 on 127.0.0.1 [17600]\n"
    "  --durability MODE    the nodes' --durability [commit]\n"
    "  --keep               keep the data directories\n";

struct Memory {
  long rss_kb = 0;
  long anon_kb = 0;
  long hwm_kb = 0;
};

Memory memory_of(pid_t pid) {
  Memory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&] { return std::atol(line.c_str() + line.find(':') + 1); };
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = value();
    if (line.rfind("RssAnon:", 0) == 0) m.anon_kb = value();
    if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = value();
  }
  return m;
}

std::string record_id(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "R%09zu", n);
  return buf;
}

struct RunResult {
  double seconds = 0;
  double records_per_s = 0;
  Memory a[3], b[3];  // at 10 %, 50 %, 100 %
  long a_peak_kb = 0, b_peak_kb = 0;
  double latency_median_ms = 0, latency_p99_ms = 0;
  double after_ack_median_ms = 0, after_ack_p99_ms = 0;  // from the put's answer (A committed)
  bool ok = false;
};

RunResult run_once(const Options& o, std::size_t run) {
  RunResult r;
  const auto made = make_temp_dir("sync");
  if (!made) return r;
  const fs::path dir = *made;
  const fs::path a_dir = dir / "a", b_dir = dir / "b";

  const auto seed_start = Clock::now();
  SeedOptions seed;
  seed.cluster = "bench";
  seed.count = o.records;
  seed.payload_bytes = o.payload_bytes;
  if (auto s = seed_records(a_dir, seed); !s) {
    std::fprintf(stderr, "sync: seeding node A: %s\n", s.status().to_string().c_str());
    return r;
  }
  auto ka = load_or_create_identity(a_dir);
  auto kb = load_or_create_identity(b_dir);
  if (!ka || !kb) {
    std::fprintf(stderr, "sync: creating node keys failed\n");
    return r;
  }
  std::printf("run %zu: seeded %zu records at A in %.1f s\n", run, o.records,
              std::chrono::duration<double>(Clock::now() - seed_start).count());

  const std::uint16_t p = static_cast<std::uint16_t>(o.base_port + 4 * (run % 8));
  const std::string a_sync = "127.0.0.1:" + std::to_string(p), a_api = "127.0.0.1:" + std::to_string(p + 1);
  const std::string b_sync = "127.0.0.1:" + std::to_string(p + 2), b_api = "127.0.0.1:" + std::to_string(p + 3);
  const std::string exe = o.shopsyncd.empty() ? built_shopsyncd() : o.shopsyncd;
  auto common = [&](const fs::path& data, const std::string& name, const std::string& sync, const std::string& api,
                    const std::string& peer) {
    return std::vector<std::string>{"--data", data.string(), "--name", name, "--cluster", "bench", "--listen", sync,
                                    "--api", api, "--peer", peer, "--no-mdns", "--log-level", "warn",
                                    "--durability", o.durability};
  };
  Daemon a(exe, common(a_dir, "a", a_sync, a_api, kb->public_key + "@" + b_sync), dir / "a.log");
  auto ca = api::ApiClient::connect(a_api);
  std::optional<api::ApiClient> cb;
  {
    // Wait for A to serve before B starts, so that the sync time is B's.
    bool up = false;
    for (int i = 0; i < 500 && !up; ++i) {
      up = ca && ca->status().is_ok();
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!up) {
      std::fprintf(stderr, "sync: node A did not start (see %s)\n", (dir / "a.log").c_str());
      return r;
    }
  }
  const auto start = Clock::now();
  Daemon b(exe, common(b_dir, "b", b_sync, b_api, ka->public_key + "@" + a_sync), dir / "b.log");
  auto client_b = api::ApiClient::connect(b_api, {std::chrono::milliseconds(10000)});
  if (!client_b) return r;
  cb.emplace(std::move(*client_b));

  const std::size_t milestones[3] = {o.records / 10, o.records / 2, o.records - 1};
  int next = 0;
  long a_peak = 0, b_peak = 0;
  const auto deadline = start + std::chrono::minutes(10);
  while (next < 3 && Clock::now() < deadline) {
    const Memory ma = memory_of(a.pid()), mb = memory_of(b.pid());
    a_peak = std::max(a_peak, ma.rss_kb);
    b_peak = std::max(b_peak, mb.rss_kb);
    if (cb->get({"bench", record_id(milestones[next])}).is_ok()) {
      if (next == 2) r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      r.a[next] = memory_of(a.pid());
      r.b[next] = memory_of(b.pid());
      ++next;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (next < 3) {
    std::fprintf(stderr, "sync: B did not receive every record within 10 minutes (see %s)\n", (dir / "b.log").c_str());
    return r;
  }
  r.records_per_s = static_cast<double>(o.records) / r.seconds;
  r.a_peak_kb = std::max(a_peak, memory_of(a.pid()).hwm_kb);
  r.b_peak_kb = std::max(b_peak, memory_of(b.pid()).hwm_kb);

  // Write-to-visible latency on the connected pair.
  std::vector<double> latencies, after_ack;
  api::ChangesRequest watch;
  watch.since_now = true;
  watch.limit = 1;
  auto first = cb->changes(watch);
  if (!first) {
    std::fprintf(stderr, "sync: changes feed at B: %s\n", first.status().to_string().c_str());
    return r;
  }
  api::ChangeCursor cursor = first->cursor;
  msgpack::sbuffer value;
  msgpack::packer<msgpack::sbuffer>(value).pack(std::string("latency probe"));
  for (std::size_t i = 0; i < o.latency_samples; ++i) {
    api::PutRequest put;
    put.key = {"latency", "L" + std::to_string(i)};
    put.fields["note"] = std::string(value.data(), value.size());
    const auto t0 = Clock::now();
    if (!ca->put(put)) return r;
    const auto acked = Clock::now();
    bool seen = false;
    for (int polls = 0; polls < 50 && !seen; ++polls) {
      api::ChangesRequest req;
      req.since = cursor;
      req.limit = 100;
      req.wait_ms = 1000;
      auto page = cb->changes(req);
      if (!page) return r;
      cursor = page->cursor;
      for (const auto& c : page->changes) seen |= (c.key == put.key);
    }
    if (!seen) return r;
    const auto visible = Clock::now();
    latencies.push_back(std::chrono::duration<double, std::milli>(visible - t0).count());
    after_ack.push_back(std::chrono::duration<double, std::milli>(visible - acked).count());
  }
  if (!latencies.empty()) {
    r.latency_median_ms = percentile(latencies, 0.5);
    r.latency_p99_ms = percentile(latencies, 0.99);
    r.after_ack_median_ms = percentile(after_ack, 0.5);
    r.after_ack_p99_ms = percentile(after_ack, 0.99);
  }
  a.stop();
  b.stop();
  if (!o.keep) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("run %zu: data kept in %s\n", run, dir.c_str());
  }
  r.ok = true;
  return r;
}

void print_run(const RunResult& r) {
  std::printf("  initial sync: %.2f s, %.0f records/s\n", r.seconds, r.records_per_s);
  const char* names[3] = {"10%", "50%", "100%"};
  for (int i = 0; i < 3; ++i) {
    std::printf("  memory at %-4s  A: RSS %6ld MiB (anon %5ld MiB)   B: RSS %6ld MiB (anon %5ld MiB)\n", names[i],
                r.a[i].rss_kb / 1024, r.a[i].anon_kb / 1024, r.b[i].rss_kb / 1024, r.b[i].anon_kb / 1024);
  }
  std::printf("  peak RSS      A: %ld MiB   B: %ld MiB\n", r.a_peak_kb / 1024, r.b_peak_kb / 1024);
  std::printf("  write-to-visible latency A -> B: median %.2f ms, p99 %.2f ms (from the put call)\n", r.latency_median_ms,
              r.latency_p99_ms);
  std::printf("                                   median %.2f ms, p99 %.2f ms (from the put's answer)\n",
              r.after_ack_median_ms, r.after_ack_p99_ms);
}

int sync_main(const std::vector<std::string>& args) {
  auto o = parse(args);
  if (!o) return kBadUsage;
  auto runs = repeat_runs("sync", o->runs, [&](std::size_t i) { return run_once(*o, i); }, print_run);
  if (!runs) return 1;
  const std::vector<RunResult>& results = *runs;
  if (results.size() > 1) {
    auto med = [&](auto figure) { return median_of(results, figure); };
    std::printf("median of %zu runs (%zu records):\n", results.size(), o->records);
    std::printf("  initial sync: %.0f records/s\n", med([](const RunResult& r) { return r.records_per_s; }));
    std::printf("  anon memory B at 10%%/50%%/100%%: %.0f / %.0f / %.0f MiB; peak RSS A %.0f MiB, B %.0f MiB\n",
                med([](const RunResult& r) { return r.b[0].anon_kb / 1024.0; }),
                med([](const RunResult& r) { return r.b[1].anon_kb / 1024.0; }),
                med([](const RunResult& r) { return r.b[2].anon_kb / 1024.0; }),
                med([](const RunResult& r) { return r.a_peak_kb / 1024.0; }),
                med([](const RunResult& r) { return r.b_peak_kb / 1024.0; }));
    std::printf("  write-to-visible: median %.2f ms, p99 %.2f ms (from the put call); %.2f / %.2f ms (from its answer)\n",
                med([](const RunResult& r) { return r.latency_median_ms; }),
                med([](const RunResult& r) { return r.latency_p99_ms; }),
                med([](const RunResult& r) { return r.after_ack_median_ms; }),
                med([](const RunResult& r) { return r.after_ack_p99_ms; }));
  }
  return 0;
}

SHOPSYNC_BENCH_SUBCOMMAND(sync, "sync", "initial sync records/s, memory and write-to-visible latency of two real nodes",
                          kUsage, sync_main);

}  // namespace
}  // namespace shopsync::bench
