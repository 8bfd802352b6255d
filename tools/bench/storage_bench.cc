// shopsync-bench storage: records/s written through LmdbStore, next to raw
// LMDB puts of the same key and value bytes in the same run.
//
// Both paths write the same CRM-shaped records (crm_records.h) in batches of
// --batch records, one durable write transaction per batch, into two
// environments in the same directory, batch after batch alternately so both see the same machine state. The store's time includes
// what it does for real: validation, encoding, the previous-state lookup and
// the change index; the raw path gets the bytes ready-made and only puts them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "storage/key_codec.h"
#include "storage/lmdb.h"
#include "storage/lmdb_store.h"
#include "storage/record_codec.h"
#include "tools/bench/bench.h"
#include "tools/bench/crm_records.h"

namespace shopsync::bench {
namespace {

struct Options {
  std::uint64_t records = 1'000'000;
  std::uint64_t batch = 1000;
  int runs = 3;
  std::size_t map_bytes = std::size_t{4} << 30;
  std::filesystem::path dir;  // default: a fresh directory under $TMPDIR
  bool keep = false;
  bool json = false;
  bool cpu_time = false;
};

constexpr const char* kUsage =
    "usage: shopsync-bench storage [--records N] [--batch N] [--runs N] [--map-mb N] [--dir PATH] [--keep] [--json]\n"
    "  --records N  records written per run (default 1000000)\n"
    "  --batch N    records per write transaction (default 1000)\n"
    "  --runs N     runs; the median is reported (default 3)\n"
    "  --map-mb N   initial map size of both environments in MiB (default 4096)\n"
    "  --dir PATH   where to put the stores (default: a new directory under $TMPDIR, removed after)\n"
    "  --keep       keep the stores\n"
    "  --cpu-time   time with this thread's CPU time instead of the wall clock (steadier on a\n"
    "               busy machine; leaves out waiting for the disk)\n"
    "  --json       print one JSON object instead of text\n";

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto number = [&](std::uint64_t& out) {
      if (i + 1 >= args.size()) return false;
      char* end = nullptr;
      out = std::strtoull(args[++i].c_str(), &end, 10);
      return end != nullptr && *end == '\0' && out > 0;
    };
    std::uint64_t n = 0;
    if (a == "--records" && number(n)) {
      o.records = n;
    } else if (a == "--batch" && number(n)) {
      o.batch = n;
    } else if (a == "--runs" && number(n)) {
      o.runs = static_cast<int>(n);
    } else if (a == "--map-mb" && number(n)) {
      o.map_bytes = static_cast<std::size_t>(n) << 20;
    } else if (a == "--dir" && i + 1 < args.size()) {
      o.dir = args[++i];
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--cpu-time") {
      o.cpu_time = true;
    } else if (a == "--json") {
      o.json = true;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// ---- CRM-shaped records (crm_records.h) -------------------------------------

class RecordMaker {
 public:
  explicit RecordMaker(std::uint64_t seed) : crm_(seed) {}

  RecordState customer(std::uint64_t n) {
    Version v;
    v.dot = {kNode, n + 1};
    v.updated_at = (1'700'000'000'000ULL + n) << 16;
    v.fields = crm_.customer(n, v.updated_at);
    RecordState s;
    s.siblings.push_back(std::move(v));
    s.context.advance({kNode, n + 1});
    return s;
  }

  static std::string id(std::uint64_t n) { return CrmRecords::id(n); }

 private:
  static constexpr NodeId kNode = 0x5E1F;
  CrmRecords crm_;
};

// ---- one run ----------------------------------------------------------------

struct RunResult {
  double store_per_s = 0;
  double raw_per_s = 0;
  double mean_value_bytes = 0;
  std::uint64_t growths = 0;
};

using Clock = std::chrono::steady_clock;

// Now, by the wall clock or by this thread's CPU time.
Clock::time_point now(bool cpu_time) {
  if (!cpu_time) return Clock::now();
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

std::optional<RunResult> run_once(const Options& o, const std::filesystem::path& dir, int run) {
  std::filesystem::remove_all(dir / "store");
  std::filesystem::remove_all(dir / "raw");
  StoreOptions so;
  so.initial_map_size = o.map_bytes;
  auto store = LmdbStore::open(dir / "store", so);
  if (!store) {
    std::fprintf(stderr, "shopsync-bench storage: opening the store: %s\n", store.status().to_string().c_str());
    return std::nullopt;
  }
  lmdb::EnvOptions eo;
  eo.map_size = o.map_bytes;
  auto env = lmdb::Env::open(dir / "raw", eo);
  if (!env) {
    std::fprintf(stderr, "shopsync-bench storage: opening the raw environment: %s\n", env.status().to_string().c_str());
    return std::nullopt;
  }
  lmdb::Dbi raw_db;
  {
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    auto db = txn ? txn->open_db("records", true) : Result<lmdb::Dbi>(txn.status());
    if (!db || !txn->commit()) {
      std::fprintf(stderr, "shopsync-bench storage: creating the raw database failed\n");
      return std::nullopt;
    }
    raw_db = *db;
  }

  RecordMaker maker(static_cast<std::uint64_t>(run) * 7919 + 1);
  Clock::duration store_time{};
  Clock::duration raw_time{};
  std::uint64_t value_bytes = 0;
  std::vector<std::pair<RecordKey, RecordState>> batch;
  std::vector<std::pair<std::string, std::string>> raw;
  for (std::uint64_t first = 0; first < o.records; first += o.batch) {
    const std::uint64_t end = std::min(o.records, first + o.batch);
    batch.clear();
    raw.clear();
    for (std::uint64_t n = first; n < end; ++n) {
      batch.emplace_back(RecordKey{"customers", RecordMaker::id(n)}, maker.customer(n));
    }
    // The same bytes the store will write, prepared outside the timing.
    for (const auto& [key, state] : batch) {
      raw.emplace_back(keys::record(key), encode_record_state(state));
      value_bytes += raw.back().second.size();
    }

    auto t0 = now(o.cpu_time);
    Status st = (*store)->write([&](StoreWriter& w) {
      for (const auto& [key, state] : batch) SHOPSYNC_TRY(w.put_record(key, state));
      return Status::ok();
    });
    auto t1 = now(o.cpu_time);
    if (!st) {
      std::fprintf(stderr, "shopsync-bench storage: writing batch at %llu through the store: %s\n",
                   static_cast<unsigned long long>(first), st.to_string().c_str());
      return std::nullopt;
    }
    store_time += t1 - t0;

    t0 = now(o.cpu_time);
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    if (!txn) {
      std::fprintf(stderr, "shopsync-bench storage: raw begin: %s\n", txn.status().to_string().c_str());
      return std::nullopt;
    }
    for (const auto& [k, v] : raw) {
      if (Status p = txn->put(raw_db, k, v); !p) {
        std::fprintf(stderr, "shopsync-bench storage: raw put: %s\n", p.to_string().c_str());
        return std::nullopt;
      }
    }
    if (Status c = txn->commit(); !c) {
      std::fprintf(stderr, "shopsync-bench storage: raw commit: %s\n", c.to_string().c_str());
      return std::nullopt;
    }
    raw_time += now(o.cpu_time) - t0;
  }
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  RunResult r;
  r.store_per_s = static_cast<double>(o.records) / seconds(store_time);
  r.raw_per_s = static_cast<double>(o.records) / seconds(raw_time);
  r.mean_value_bytes = static_cast<double>(value_bytes) / static_cast<double>(o.records);
  r.growths = (*store)->map_growths();
  return r;
}

int storage_main(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  if (!parsed) return kBadUsage;
  Options o = *parsed;
  bool made_dir = false;
  if (o.dir.empty()) {
    const auto made = make_temp_dir("storage");
    if (!made) return 1;
    o.dir = made->string();
    made_dir = true;
  }
  if (!o.json) {
    std::printf("storage: %llu CRM-shaped records in batches of %llu, %d run(s), %s time, in %s\n",
                static_cast<unsigned long long>(o.records), static_cast<unsigned long long>(o.batch), o.runs,
                o.cpu_time ? "CPU" : "wall-clock", o.dir.c_str());
    std::fflush(stdout);
  }
  std::vector<double> store_rates, raw_rates, ratios;
  double value_bytes = 0;
  int code = 0;
  for (int run = 1; run <= o.runs; ++run) {
    auto r = run_once(o, o.dir, run);
    if (!r) {
      code = 1;
      break;
    }
    store_rates.push_back(r->store_per_s);
    raw_rates.push_back(r->raw_per_s);
    ratios.push_back(r->store_per_s / r->raw_per_s);
    value_bytes = r->mean_value_bytes;
    if (!o.json) {
      std::printf("run %d: store %.0f records/s, raw LMDB %.0f records/s, ratio %.2f (%.0f bytes/record)\n", run,
                  r->store_per_s, r->raw_per_s, ratios.back(), r->mean_value_bytes);
      std::fflush(stdout);
    }
  }
  if (code == 0) {
    if (o.json) {
      std::printf(
          "{\"records\":%llu,\"batch\":%llu,\"runs\":%d,\"value_bytes\":%.1f,\"store_records_per_s\":%.0f,"
          "\"raw_records_per_s\":%.0f,\"ratio\":%.3f}\n",
          static_cast<unsigned long long>(o.records), static_cast<unsigned long long>(o.batch), o.runs, value_bytes,
          median(store_rates), median(raw_rates), median(ratios));
    } else {
      std::printf("median: store %.0f records/s, raw LMDB %.0f records/s, ratio %.2f (goal >= 0.5)\n",
                  median(store_rates), median(raw_rates), median(ratios));
    }
  }
  if (!o.keep) {
    std::error_code ec;
    std::filesystem::remove_all(o.dir / "store", ec);
    std::filesystem::remove_all(o.dir / "raw", ec);
    if (made_dir) std::filesystem::remove(o.dir, ec);
  }
  return code;
}

}  // namespace

SHOPSYNC_BENCH_SUBCOMMAND(storage, "storage", "records/s through LmdbStore next to raw LMDB puts of the same bytes", kUsage,
                          storage_main);

}  // namespace shopsync::bench
