// shopsync-bench sync: two real shopsyncd processes on loopback, next to
// what this machine can do with the same records.
//
// Node A's data directory is seeded once with N records (node/bulk_seed.h;
// CRM-shaped by default, crm_records.h) and copied for every run. For each
// durability mode (--durability; both by default) and each run:
//   1. The ceiling (sync_ceiling.h): raw LMDB reads, MessagePack, ZeroMQ with
//      CURVE and LMDB writes of 1000 records a transaction, on the same
//      records, in the same mode.
//   2. A and B started (static peers, CURVE, --http for /metrics); B's
//      initial sync timed from B's start (its first record's time printed
//      too) until B's /metrics counts N live records. Meanwhile the memory of
//      both at 10 %, 50 % and 100 % of the records: RSS (which includes the
//      LMDB map pages the process touched, i.e. page cache) and RssAnon (its
//      own heap, which must not grow with the data set), plus the peak
//      (VmHWM). At the end: the records A sent
//      against the N needed (the rest are duplicates), the TCP bytes A sent on
//      the sync connection (from `ss`: CURVE and framing included) and the CPU
//      each process used (/proc/PID/stat, all its threads) per record.
//   3. Write-to-visible latency on the connected pair: puts on A, each timed
//      until B's changes feed (a long poll) shows the record.
// With --scope P (partial replication, docs/replication.md): each record gets
// a `branch`, "north" for P % of them, and each run syncs B twice from the
// same seed: once whole, once with A granting B `customers:r:branch=north`
// (written through A's API before B starts). Printed: the records and TCP
// bytes A sent each time, and their ratio, which should be about P %.
// Also once: this machine's fsync time in $TMPDIR and an LMDB commit's, and what compression does
// to these records: zstd levels and a dictionary on 100,000 of them
// (compression_figures.h), and the ceiling in --durability interval with and
// without compressing its messages, runs alternating. Prints figures;
// asserts nothing about timings.
#include <fcntl.h>
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

#include "api/api_client.h"
#include "net/public_key_text.h"
#include "node/body_compression.h"
#include "node/bulk_seed.h"
#include "node/identity.h"
#include "replication/grant.h"
#include "storage/lmdb.h"
#include "tools/bench/bench.h"
#include "tools/bench/compression_figures.h"
#include "tools/bench/crm_records.h"
#include "tools/bench/daemon.h"
#include "tools/bench/loopback_http.h"
#include "tools/bench/sync_ceiling.h"

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t records = 1'000'000;
  std::size_t runs = 3;
  std::size_t latency_samples = 1000;
  std::string shape = "crm";
  std::size_t payload_bytes = 64;
  std::string shopsyncd;
  std::uint16_t base_port = 17600;
  std::vector<std::string> durability = {"commit", "interval"};
  bool keep = false;
  std::size_t scope_percent = 0;  // --scope: 0 = off
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
    } else if (a == "--latency-samples" && (v = option_value(args, i))) {
      o.latency_samples = std::stoull(*v);
    } else if (a == "--shape" && (v = option_value(args, i)) && (*v == "crm" || *v == "payload")) {
      o.shape = *v;
    } else if (a == "--payload-bytes" && (v = option_value(args, i))) {
      o.payload_bytes = std::stoull(*v);
    } else if (a == "--shopsyncd" && (v = option_value(args, i))) {
      o.shopsyncd = *v;
    } else if (a == "--base-port" && (v = option_value(args, i))) {
      o.base_port = static_cast<std::uint16_t>(std::stoul(*v));
    } else if (a == "--durability" && (v = option_value(args, i)) && (*v == "commit" || *v == "interval" || *v == "both")) {
      o.durability = *v == "both" ? std::vector<std::string>{"commit", "interval"} : std::vector<std::string>{*v};
    } else if (a == "--scope" && (v = option_value(args, i))) {
      o.scope_percent = std::stoull(*v);
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      return std::nullopt;
    }
  }
  if (o.records == 0 || o.scope_percent > 100 || (o.scope_percent != 0 && o.shape != "crm")) return std::nullopt;
  return o;
}

constexpr const char* kUsage =
    "usage: shopsync-bench sync [--records N] [--runs R] [--latency-samples N] [--shape crm|payload]\n"
    "                           [--payload-bytes N] [--shopsyncd PATH] [--base-port P]\n"
    "                           [--durability commit|interval|both] [--scope P] [--keep]\n"
    "  --records N          records of the initial sync [1000000]\n"
    "  --runs R             runs per durability mode; medians and min-max are printed [3]\n"
    "  --latency-samples N  writes timed for write-to-visible latency [1000]\n"
    "  --shape S            crm: CRM customers of 13 values; payload: a string of --payload-bytes 'x'\n"
    "                       and a number (compresses to nothing: not a realistic record) [crm]\n"
    "  --payload-bytes N    size of the payload field of --shape payload [64]\n"
    "  --shopsyncd PATH     the daemon [next to this build: ../../node/shopsyncd]\n"
    "  --base-port P        ports P..P+127 on 127.0.0.1 [17600]\n"
    "  --durability MODE    the nodes' --durability, or both [both]\n"
    "  --scope P            also sync B granted only P % of the records (customers:r:branch=north):\n"
    "                       records and bytes A sends, scoped against whole (--shape crm only) [off]\n"
    "  --keep               keep the data directories\n";

constexpr const char* kCollection = "customers";
constexpr const char* kScopeGrant = "customers:r:branch=north";

// Customer n is in the scope of --scope P when n % 100 < P.
bool in_scope(std::size_t n, std::size_t percent) { return n % 100 < percent; }
std::size_t scope_size(std::size_t records, std::size_t percent) {
  return records / 100 * percent + std::min(records % 100, percent);
}

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

// User plus system CPU seconds of every thread of `pid` so far.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string w; fields >> w && f.size() < 13;) f.push_back(w);
  if (f.size() < 13) return 0;  // f[0] is field 3 (state): utime is field 14, stime 15
  return static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The sum of the samples of /metrics `page` whose line starts with `prefix`.
double metric(const std::string& page, const std::string& prefix) {
  double sum = 0;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) sum += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return sum;
}

// TCP payload bytes sent by A on its sync connection to B (A listens on
// a_port, B on b_port; whichever dialed), as `ss` reports them.
std::uint64_t tcp_bytes_sent_by_a(std::uint16_t a_port, std::uint16_t b_port) {
  std::FILE* ss = ::popen("ss -tinH state established 2>/dev/null", "r");
  if (ss == nullptr) return 0;
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, ss)) > 0;) text.append(buf, n);
  ::pclose(ss);
  auto port_of = [](const std::string& address) { return std::atoi(address.c_str() + address.rfind(':') + 1); };
  std::uint64_t sent = 0;
  bool a_end = false;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ' && line[0] != '\t') {  // a socket: Recv-Q Send-Q local peer
      std::istringstream words(line);
      std::string rq, sq, local, peer;
      words >> rq >> sq >> local >> peer;
      a_end = port_of(local) == a_port || port_of(peer) == b_port;
    } else if (a_end) {
      if (auto at = line.find("bytes_sent:"); at != std::string::npos) sent += std::stoull(line.substr(at + 11));
    }
  }
  return sent;
}

// The median time of a 4 KiB write plus fdatasync in `dir`, in ms.
double fsync_ms(const fs::path& dir) {
  const fs::path file = dir / "fsync-probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<double> times;
  const std::string page(4096, 'f');
  for (int i = 0; i < 30; ++i) {
    const auto t0 = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), 0) != static_cast<ssize_t>(page.size()) || ::fdatasync(fd) != 0) break;
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  ::close(fd);
  fs::remove(file);
  return times.empty() ? 0 : median(times);
}

// The median time of an LMDB commit of one small record with fsync (the
// nodes' --durability commit) in a new environment in `dir`, in ms: what
// each of the two commits on the way from a write to another node's reader
// costs at least.
double lmdb_commit_ms(const fs::path& dir) {
  lmdb::EnvOptions eo;
  eo.sync_each_commit = true;
  auto env = lmdb::Env::open(dir / "commit-probe", eo);
  std::vector<double> times;
  for (int i = 0; env && i < 30; ++i) {
    const auto t0 = Clock::now();
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    if (!txn) break;
    auto db = txn->open_db("probe", true);
    if (!db || !txn->put(*db, "key", std::to_string(i)) || !txn->commit()) break;
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::error_code ec;
  fs::remove_all(dir / "commit-probe", ec);
  return times.empty() ? 0 : median(times);
}

struct RunResult {
  double seconds = 0;
  double first_record_s = 0;  // from B's start until B counts its first record (start, handshake, first pull)
  double records_per_s = 0;
  double ceiling_per_s = 0;
  double ceiling_cpu_us = 0;  // per record, both threads and ZeroMQ's
  double ratio = 0;
  double sent = 0;        // records A sent (needed: o.records)
  double wire_bytes = 0;  // TCP bytes A sent
  double cpu_a = 0, cpu_b = 0;  // seconds during the sync
  std::size_t records = 0;
  double stored_bytes = 0;  // per record, as A stores it
  Memory a[3], b[3];  // at 10 %, 50 %, 100 %
  long a_peak_kb = 0, b_peak_kb = 0;
  double latency_median_ms = 0, latency_p99_ms = 0;
  double after_ack_median_ms = 0, after_ack_p99_ms = 0;  // from the put's answer (A committed)
  bool ok = false;
  double duplicates() const { return sent - static_cast<double>(records); }
  double wire_per_record() const { return wire_bytes / static_cast<double>(records); }
  double cpu_a_us() const { return cpu_a * 1e6 / static_cast<double>(records); }
  double cpu_b_us() const { return cpu_b * 1e6 / static_cast<double>(records); }
};

// Seeds A's data directory once; nullopt after a message.
std::optional<double> seed(const Options& o, const fs::path& a_dir) {
  SeedOptions seed;
  seed.cluster = "bench";
  seed.collection = kCollection;
  seed.count = o.records;
  if (o.shape == "crm") {
    seed.id_prefix = "CUST_";
    auto crm = std::make_shared<CrmRecords>(42);
    const std::size_t percent = o.scope_percent;
    seed.fields = [crm, percent](std::size_t n, Hlc at) {
      Fields fields = crm->customer(n, at);
      if (percent != 0) {
        msgpack::sbuffer branch;
        msgpack::packer<msgpack::sbuffer>(branch).pack(std::string(in_scope(n, percent) ? "north" : "south"));
        fields.emplace("branch", Field{std::string(branch.data(), branch.size()), at});
      }
      return fields;
    };
  } else {
    seed.payload_bytes = o.payload_bytes;
  }
  const auto start = Clock::now();
  if (auto s = seed_records(a_dir, seed); !s) {
    std::fprintf(stderr, "sync: seeding node A: %s\n", s.status().to_string().c_str());
    return std::nullopt;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One run; `scoped`: B is granted kScopeGrant and gets its part of the records.
RunResult run_once(const Options& o, const fs::path& seeded, const std::string& durability, std::size_t slot,
                   bool scoped = false) {
  RunResult r;
  r.records = scoped ? scope_size(o.records, o.scope_percent) : o.records;
  const auto made = make_temp_dir("sync");
  if (!made) return r;
  const fs::path dir = *made;
  const fs::path a_dir = dir / "a", b_dir = dir / "b";
  std::error_code ec;
  fs::copy(seeded, a_dir, fs::copy_options::recursive, ec);
  if (ec) {
    std::fprintf(stderr, "sync: copying the seeded data directory: %s\n", ec.message().c_str());
    return r;
  }
  auto ka = load_or_create_identity(a_dir);
  auto kb = load_or_create_identity(b_dir);
  if (!ka || !kb) {
    std::fprintf(stderr, "sync: creating node keys failed\n");
    return r;
  }
  const std::uint16_t p = static_cast<std::uint16_t>(o.base_port + 8 * (slot % 16));

  CeilingOptions co;
  co.source = a_dir;
  co.target = dir / "ceiling";
  co.sync_each_commit = durability == "commit";
  co.port = static_cast<std::uint16_t>(p + 6);
  auto ceiling = measure_sync_ceiling(co);
  if (!ceiling) return r;
  fs::remove_all(co.target, ec);
  r.ceiling_per_s = ceiling->records_per_s();
  r.ceiling_cpu_us = ceiling->cpu_seconds * 1e6 / static_cast<double>(ceiling->records);
  r.stored_bytes = static_cast<double>(ceiling->value_bytes) / static_cast<double>(ceiling->records);

  const std::string a_sync = "127.0.0.1:" + std::to_string(p), a_api = "127.0.0.1:" + std::to_string(p + 1);
  const std::string b_sync = "127.0.0.1:" + std::to_string(p + 2), b_api = "127.0.0.1:" + std::to_string(p + 3);
  const auto a_http = static_cast<std::uint16_t>(p + 4), b_http = static_cast<std::uint16_t>(p + 5);
  const std::string exe = o.shopsyncd.empty() ? built_shopsyncd() : o.shopsyncd;
  auto common = [&](const fs::path& data, const std::string& name, const std::string& sync, const std::string& api,
                    std::uint16_t http, const std::string& peer) {
    return std::vector<std::string>{"--data", data.string(), "--name", name, "--cluster", "bench", "--listen", sync,
                                    "--api", api, "--http", "127.0.0.1:" + std::to_string(http), "--peer", peer,
                                    "--no-mdns", "--log-level", "warn", "--durability", durability};
  };
  Daemon a(exe, common(a_dir, "a", a_sync, a_api, a_http, kb->public_key + "@" + b_sync), dir / "a.log");
  auto ca = api::ApiClient::connect(a_api);
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
  if (scoped) {
    api::PutRequest grant;
    grant.key = {std::string(kGrantsCollection), format_public_key(kb->public_key)};
    msgpack::sbuffer text;
    msgpack::packer<msgpack::sbuffer>(text).pack(std::string(kScopeGrant));
    grant.fields[std::string(kGrantField)] = std::string(text.data(), text.size());
    if (auto put = ca->put(grant); !put) {
      std::fprintf(stderr, "sync: granting B at A: %s\n", put.status().to_string().c_str());
      return r;
    }
  }
  const double cpu_a_before = cpu_seconds(a.pid());
  const auto start = Clock::now();
  Daemon b(exe, common(b_dir, "b", b_sync, b_api, b_http, ka->public_key + "@" + a_sync), dir / "b.log");

  // Done when B counts every record (its /metrics keeps the count current).
  const double milestones[3] = {r.records / 10.0, r.records / 2.0, static_cast<double>(r.records)};
  const std::string counted = std::string("shopsync_records{collection=\"") + kCollection + "\"} ";
  int next = 0;
  long a_peak = 0, b_peak = 0;
  const auto deadline = start + std::chrono::minutes(10);
  while (next < 3 && Clock::now() < deadline) {
    const Memory ma = memory_of(a.pid()), mb = memory_of(b.pid());
    a_peak = std::max(a_peak, ma.rss_kb);
    b_peak = std::max(b_peak, mb.rss_kb);
    const auto page = http_get(b_http, "/metrics");
    if (page && r.first_record_s == 0 && metric(*page, counted) > 0) {
      r.first_record_s = std::chrono::duration<double>(Clock::now() - start).count();
    }
    if (page && metric(*page, counted) >= milestones[next]) {
      if (next == 2) {
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        r.cpu_a = cpu_seconds(a.pid()) - cpu_a_before;
        r.cpu_b = cpu_seconds(b.pid());
        r.wire_bytes = static_cast<double>(tcp_bytes_sent_by_a(static_cast<std::uint16_t>(p),
                                                               static_cast<std::uint16_t>(p + 2)));
      }
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
  r.records_per_s = static_cast<double>(r.records) / r.seconds;
  r.ratio = r.records_per_s / r.ceiling_per_s;
  r.a_peak_kb = std::max(a_peak, memory_of(a.pid()).hwm_kb);
  r.b_peak_kb = std::max(b_peak, memory_of(b.pid()).hwm_kb);
  if (auto page = http_get(a_http, "/metrics")) r.sent = metric(*page, "shopsync_peer_records_sent_total{");

  auto client_b = api::ApiClient::connect(b_api, {std::chrono::milliseconds(10000)});
  if (!client_b) return r;
  std::optional<api::ApiClient> cb;
  cb.emplace(std::move(*client_b));
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
  // A scoped B reads no `latency` collection: nothing to time there.
  for (std::size_t i = 0; i < (scoped ? 0 : o.latency_samples); ++i) {
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
    fs::remove_all(dir, ec);
  } else {
    std::printf("data kept in %s\n", dir.c_str());
  }
  r.ok = true;
  return r;
}

void print_run(const RunResult& r) {
  std::printf("  initial sync: %.2f s (the first record after %.2f s), %.0f records/s; ceiling %.0f records/s; ratio %.2f\n",
              r.seconds, r.first_record_s, r.records_per_s, r.ceiling_per_s, r.ratio);
  std::printf("  records sent %.0f for %zu needed (%.0f duplicates); %.0f bytes on the wire per record (%.0f stored)\n",
              r.sent, r.records, r.duplicates(), r.wire_per_record(), r.stored_bytes);
  std::printf("  CPU per record: A %.2f us, B %.2f us (A %.0f%%, B %.0f%% of a core); ceiling %.2f us\n", r.cpu_a_us(),
              r.cpu_b_us(), 100 * r.cpu_a / r.seconds, 100 * r.cpu_b / r.seconds, r.ceiling_cpu_us);
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

void print_summary(const std::vector<RunResult>& results, const std::string& durability) {
  auto med = [&](auto figure) { return median_of(results, figure); };
  auto range = [&](auto figure) {
    double lo = figure(results.front()), hi = lo;
    for (const auto& r : results) lo = std::min(lo, figure(r)), hi = std::max(hi, figure(r));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f-%.0f", lo, hi);
    return std::string(buf);
  };
  auto rate = [](const RunResult& r) { return r.records_per_s; };
  auto ceiling = [](const RunResult& r) { return r.ceiling_per_s; };
  std::printf("median of %zu runs, --durability %s (%zu records):\n", results.size(), durability.c_str(),
              results.front().records);
  std::printf("  initial sync: %.0f records/s (%s); ceiling %.0f records/s (%s); ratio %.2f\n", med(rate),
              range(rate).c_str(), med(ceiling), range(ceiling).c_str(), med([](const RunResult& r) { return r.ratio; }));
  std::printf("  duplicates %.0f; %.0f bytes on the wire per record; CPU per record A %.2f us, B %.2f us, ceiling %.2f us\n",
              med([](const RunResult& r) { return r.duplicates(); }),
              med([](const RunResult& r) { return r.wire_per_record(); }),
              med([](const RunResult& r) { return r.cpu_a_us(); }), med([](const RunResult& r) { return r.cpu_b_us(); }),
              med([](const RunResult& r) { return r.ceiling_cpu_us; }));
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

// What zstd does to these records, alone and end to end (the ceiling in
// --durability interval, where no fsync hides the CPU). False after a message.
bool print_compression(const Options& o, const fs::path& seeded) {
  // Half of the records at most: the dictionary is trained on as many others.
  auto figures = measure_compression(seeded, std::min<std::size_t>(o.records / 2, 100'000));
  if (!figures) return false;
  std::printf("compression of these records, 1000 to a message (one thread):\n");
  for (const auto& f : *figures) {
    std::printf("  %-28s %6.1f bytes per record; compress %.3f us, decompress %.3f us per record\n", f.method.c_str(),
                f.bytes_per_record, f.compress_us, f.decompress_us);
  }
  const auto made = make_temp_dir("sync-compression");
  if (!made) return false;
  std::vector<double> rate[2], cpu[2], bytes[2];
  const int levels[2] = {0, kWireCompressionLevel};
  for (std::size_t run = 0; run < o.runs; ++run) {
    for (int i = 0; i < 2; ++i) {
      CeilingOptions co;
      co.source = seeded;
      co.target = *made / ("ceiling-" + std::to_string(run) + "-" + std::to_string(i));
      co.sync_each_commit = false;
      co.port = static_cast<std::uint16_t>(o.base_port + 127);
      co.compression_level = levels[i];
      auto c = measure_sync_ceiling(co);
      if (!c) return false;
      std::error_code ec;
      fs::remove_all(co.target, ec);
      const auto n = static_cast<double>(c->records);
      rate[i].push_back(c->records_per_s());
      cpu[i].push_back(c->cpu_seconds * 1e6 / n);
      bytes[i].push_back(static_cast<double>(c->message_bytes) / n);
    }
  }
  std::error_code ec;
  fs::remove_all(*made, ec);
  std::printf("ceiling (--durability interval) by compression, median of %zu runs alternating:\n", o.runs);
  for (int i = 0; i < 2; ++i) {
    std::printf("  %-8s %8.0f records/s, CPU %.2f us per record (sender, receiver and ZeroMQ), %.0f bytes per record\n",
                i == 0 ? "none" : "zstd 1", median(rate[i]), median(cpu[i]), median(bytes[i]));
  }
  std::fflush(stdout);
  return true;
}

// --scope: B synced whole, then scoped, from the same seed, per run.
int print_scoped(const Options& o, const fs::path& seeded, const std::string& durability, std::size_t& slot) {
  std::vector<double> ratios;
  for (std::size_t run = 0; run < o.runs; ++run) {
    const RunResult whole = run_once(o, seeded, durability, slot++);
    const RunResult part = run_once(o, seeded, durability, slot++, true);
    if (!whole.ok || !part.ok) return 1;
    const double ratio = part.wire_bytes / whole.wire_bytes;
    ratios.push_back(ratio);
    std::printf("  run %zu: whole: %.0f records sent, %.0f bytes on the wire, %.2f s; scoped (%s, %zu of %zu "
                "records): %.0f records sent, %.0f bytes, %.2f s; bytes ratio %.3f (scope %.3f)\n",
                run + 1, whole.sent, whole.wire_bytes, whole.seconds, kScopeGrant, part.records, o.records, part.sent,
                part.wire_bytes, part.seconds, ratio, static_cast<double>(part.records) / static_cast<double>(o.records));
    std::fflush(stdout);
  }
  std::printf("median bytes ratio scoped / whole of %zu runs: %.3f for a scope of %zu %%\n", ratios.size(),
              median(ratios), o.scope_percent);
  return 0;
}

int sync_main(const std::vector<std::string>& args) {
  auto o = parse(args);
  if (!o) return kBadUsage;
  const auto made = make_temp_dir("sync-seed");
  if (!made) return 1;
  const fs::path seeded = *made / "a";
  const auto seconds = seed(*o, seeded);
  if (!seconds) return 1;
  std::printf("records: %s\n", o->shape == "crm" ? kCrmShape : "a 'payload' string of 'x' and a number 'n'");
  std::printf("seeded %zu records in %.1f s; fsync (4 KiB write + fdatasync) in %s: %.2f ms; an LMDB commit of one "
              "record with fsync: %.2f ms (medians of 30)\n",
              o->records, *seconds, made->c_str(), fsync_ms(*made), lmdb_commit_ms(*made));
  std::fflush(stdout);
  std::size_t slot = 0;
  if (o->scope_percent != 0) {
    int code = 0;
    for (const std::string& durability : o->durability) {
      std::printf("--durability %s, --scope %zu\n", durability.c_str(), o->scope_percent);
      if ((code = print_scoped(*o, seeded, durability, slot)) != 0) break;
    }
    std::error_code ec;
    fs::remove_all(*made, ec);
    return code;
  }
  int code = print_compression(*o, seeded) ? 0 : 1;
  for (const std::string& durability : o->durability) {
    if (code != 0) break;
    std::printf("--durability %s\n", durability.c_str());
    auto runs = repeat_runs("sync", o->runs, [&](std::size_t) { return run_once(*o, seeded, durability, slot++); },
                            print_run);
    if (!runs) {
      code = 1;
      break;
    }
    print_summary(*runs, durability);
    std::fflush(stdout);
  }
  std::error_code ec;
  fs::remove_all(*made, ec);
  return code;
}

SHOPSYNC_BENCH_SUBCOMMAND(sync, "sync",
                          "initial sync of two real nodes against this machine's ceiling: records/s, duplicates, "
                          "bytes and CPU per record, memory, write-to-visible latency",
                          kUsage, sync_main);

}  // namespace
}  // namespace shopsync::bench
