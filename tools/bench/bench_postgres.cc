// shopsync-bench postgres: the uplink's PostgreSQL link (docs/uplink.md,
// "PostgreSQL") against a PostgreSQL the operator names (--postgres), next
// to PostgreSQL's own COPY of the same rows.
//
//   1. cluster -> PostgreSQL: an uplink data directory seeded with N CRM
//      records (node/bulk_seed.h) is started with --postgres; timed from its
//      start until PostgreSQL counts N rows.
//   2. The ceiling: the same N rows (read back from PostgreSQL) written by
//      COPY into a table of the same layout, in one transaction.
//   3. PostgreSQL -> cluster: N rows inserted into <cluster>.orders in one
//      statement; timed from its commit until the uplink counts N records.
//   4. Write-to-visible latency both ways: a put on the uplink until the row
//      shows in PostgreSQL, an UPDATE in PostgreSQL until the uplink's record
//      shows it (polled every 0.2 ms; the bulk phases every 50 ms).
// Every run uses a fresh cluster (schema); its schema, publication, slot and
// replication origin are dropped at the end. Prints figures; asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/api_client.h"
#include "api/api_types.h"
#include "node/bulk_seed.h"
#include "node/postgres/pg_connection.h"
#include "node/postgres/pg_uplink.h"
#include "tools/bench/bench.h"
#include "tools/bench/crm_records.h"
#include "tools/bench/daemon.h"

namespace shopsync::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using postgres::Connection;

struct Options {
  std::string conninfo;
  std::size_t rows = 20'000;
  std::size_t latency_samples = 200;
  std::string shopsyncd;
  std::uint16_t base_port = 17700;
};

std::optional<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<std::string> v;
    if (a == "--postgres" && (v = option_value(args, i))) {
      o.conninfo = *v;
    } else if (a == "--rows" && (v = option_value(args, i))) {
      o.rows = std::stoull(*v);
    } else if (a == "--latency-samples" && (v = option_value(args, i))) {
      o.latency_samples = std::max<std::size_t>(1, std::stoull(*v));
    } else if (a == "--shopsyncd" && (v = option_value(args, i))) {
      o.shopsyncd = *v;
    } else if (a == "--base-port" && (v = option_value(args, i))) {
      o.base_port = static_cast<std::uint16_t>(std::stoul(*v));
    } else {
      return std::nullopt;
    }
  }
  if (o.conninfo.empty() || o.rows == 0) return std::nullopt;
  return o;
}

constexpr const char* kUsage =
    "usage: shopsync-bench postgres --postgres CONNINFO [--rows N] [--latency-samples N]\n"
    "                               [--shopsyncd PATH] [--base-port P]\n"
    "  --postgres CONNINFO  a PostgreSQL 15+ with wal_level=logical, as a role that may create\n"
    "                       schemas, publications, slots and replication origins\n"
    "  --rows N             rows each way [20000]\n"
    "  --latency-samples N  writes timed each way for write-to-visible latency [200]\n"
    "  --shopsyncd PATH     the daemon [next to this build: ../../node/shopsyncd]\n"
    "  --base-port P        ports P, P+1 on 127.0.0.1 [17700]\n";

std::optional<std::string> scalar(Connection& c, const std::string& sql, const std::vector<postgres::Value>& params = {}) {
  auto rows = c.query(sql, params);
  if (!rows || rows->empty() || !rows->front()[0]) return std::nullopt;
  return *rows->front()[0];
}

// Polls `done` every `every` for at most `limit`; the seconds it took, or nullopt.
// Counting records makes the node scan its store: bulk phases poll every 50 ms.
template <class Done>
std::optional<double> time_until(Done done, std::chrono::seconds limit,
                                  std::chrono::microseconds every = std::chrono::microseconds(200)) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (done()) return std::chrono::duration<double>(Clock::now() - start).count();
    std::this_thread::sleep_for(every);
  }
  return std::nullopt;
}

std::uint64_t live_records(api::ApiClient& api, const std::string& collection) {
  auto list = api.collections();
  if (!list) return 0;
  for (const auto& c : list->collections) {
    if (c.name == collection) return c.records;
  }
  return 0;
}

// COPY text format: backslash, tab and newline escaped.
void append_copy_field(std::string& out, const std::string& value) {
  for (char ch : value) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '\t') out += "\\t";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
}

void print_latency(const char* what, std::vector<double> ms) {
  if (ms.empty()) return;
  std::printf("  %-28s p50 %.2f ms  p99 %.2f ms  (%zu writes)\n", what, percentile(ms, 0.5), percentile(ms, 0.99), ms.size());
}

int run(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  if (!parsed) return kBadUsage;
  const Options o = *parsed;
  auto sql = Connection::open(o.conninfo, false);
  if (!sql) {
    std::fprintf(stderr, "postgres: %s\n", sql.status().to_string().c_str());
    return 1;
  }
  const auto made = make_temp_dir("postgres");
  if (!made) return 1;
  const fs::path dir = *made;
  const std::string cluster = "bench_" + std::to_string(getpid());
  const std::string schema = sql->identifier(cluster);

  SeedOptions seed;
  seed.cluster = cluster;
  seed.collection = "customers";
  seed.count = o.rows;
  seed.id_prefix = "CUST_";
  auto crm = std::make_shared<CrmRecords>(42);
  seed.fields = [crm](std::size_t n, Hlc at) { return crm->customer(n, at); };
  auto node = seed_records(dir / "uplink", seed);
  if (!node) {
    std::fprintf(stderr, "postgres: seeding the uplink: %s\n", node.status().to_string().c_str());
    return 1;
  }
  std::printf("postgres: %zu %s each way; cluster '%s'\n", o.rows, kCrmShape, cluster.c_str());

  // 1. cluster -> PostgreSQL
  const std::string api_address = "127.0.0.1:" + std::to_string(o.base_port + 1);
  const auto started = Clock::now();
  int code = 1;
  {
    Daemon uplink(o.shopsyncd.empty() ? built_shopsyncd() : o.shopsyncd,
                  {"--data", (dir / "uplink").string(), "--role", "uplink", "--cluster", cluster, "--listen",
                   "127.0.0.1:" + std::to_string(o.base_port), "--api", api_address, "--no-mdns", "--log-level",
                   "warn", "--postgres", o.conninfo},
                  dir / "uplink.log");
    auto exported = time_until(
        [&] { return scalar(*sql, "SELECT count(*) FROM " + schema + ".customers") == std::to_string(o.rows); },
        std::chrono::seconds(600), std::chrono::milliseconds(50));
    auto api = api::ApiClient::connect(api_address);
    if (!exported || !api) {
      std::fprintf(stderr, "postgres: the rows did not reach PostgreSQL (see %s)\n", (dir / "uplink.log").c_str());
    } else {
      const double to_pg = std::chrono::duration<double>(Clock::now() - started).count();
      std::printf("  cluster -> PostgreSQL        %.0f rows/s  (%zu rows in %.2f s, from the uplink's start)\n",
                  static_cast<double>(o.rows) / to_pg, o.rows, to_pg);

      // 2. the ceiling: COPY of the same rows
      auto rows = sql->query("SELECT id, fields::text, version, hlc::text, deleted::text FROM " + schema + ".customers");
      std::string data;
      if (rows) {
        for (const auto& row : *rows) {
          for (std::size_t i = 0; i < row.size(); ++i) {
            append_copy_field(data, row[i].value_or(""));
            data += i + 1 < row.size() ? '\t' : '\n';
          }
        }
      }
      Status copied = sql->exec("CREATE TABLE " + schema + ".copy_ceiling (LIKE " + schema + ".customers INCLUDING ALL)");
      const auto copy_start = Clock::now();
      if (copied) copied = sql->exec("BEGIN");
      if (copied) copied = sql->copy_in("COPY " + schema + ".copy_ceiling FROM STDIN", data);
      if (copied) copied = sql->exec("COMMIT");
      const double copy_s = std::chrono::duration<double>(Clock::now() - copy_start).count();
      if (copied) {
        std::printf("  PostgreSQL COPY (ceiling)    %.0f rows/s  (the same rows, one transaction)\n",
                    static_cast<double>(o.rows) / copy_s);
      } else {
        std::fprintf(stderr, "postgres: COPY: %s\n", copied.to_string().c_str());
      }
      (void)sql->exec("DROP TABLE IF EXISTS " + schema + ".copy_ceiling");

      // 3. PostgreSQL -> cluster
      Status made_table = sql->exec("CREATE TABLE " + schema + ".orders (LIKE " + schema + ".customers INCLUDING ALL)");
      // The new table must be in the stream before the rows (the publication covers the schema).
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto insert_start = Clock::now();
      if (made_table) {
        made_table = sql->exec("INSERT INTO " + schema + ".orders (id, fields) SELECT 'O' || g, fields FROM (SELECT g, (SELECT fields FROM " +
                               schema + ".customers ORDER BY id LIMIT 1) AS fields FROM generate_series(1, " +
                               std::to_string(o.rows) + ") g) s");
      }
      auto imported = made_table ? time_until([&] { return live_records(*api, "orders") == o.rows; }, std::chrono::seconds(600),
                                              std::chrono::milliseconds(50))
                                 : std::nullopt;
      if (imported) {
        const double from_pg = std::chrono::duration<double>(Clock::now() - insert_start).count();
        std::printf("  PostgreSQL -> cluster        %.0f rows/s  (%zu rows in %.2f s, from the INSERT)\n",
                    static_cast<double>(o.rows) / from_pg, o.rows, from_pg);
      } else {
        std::fprintf(stderr, "postgres: the rows did not reach the cluster (see %s)\n", (dir / "uplink.log").c_str());
      }

      // 4. write-to-visible latency both ways
      std::vector<double> to_pg_ms, from_pg_ms;
      for (std::size_t i = 0; i < o.latency_samples; ++i) {
        api::PutRequest put;
        put.key = {"latency", "L" + std::to_string(i)};
        put.fields["n"] = std::string(1, static_cast<char>(i % 100));  // a positive fixint
        const auto t0 = Clock::now();
        auto w = api->put(put);
        if (!w) break;
        const std::string version = dot_text(w->dot);
        auto seen = time_until([&] {
          return scalar(*sql, "SELECT version FROM " + schema + ".latency WHERE id = $1", {put.key.id}) == version;
        }, std::chrono::seconds(30));
        if (!seen) break;
        to_pg_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      for (std::size_t i = 0; i < o.latency_samples && !to_pg_ms.empty(); ++i) {
        const std::string id = "L" + std::to_string(i % to_pg_ms.size());
        const std::string text = "edit " + std::to_string(i);
        const auto t0 = Clock::now();
        auto u = sql->query("UPDATE " + schema + ".latency SET fields = jsonb_build_object('n', $1::text) WHERE id = $2",
                            {text, id});
        if (!u) break;
        std::string packed(1, static_cast<char>(0xa0 | text.size()));
        packed += text;
        auto seen = time_until([&] {
          auto g = api->get({"latency", id});
          return g && g->fields.count("n") && g->fields.at("n") == packed;
        }, std::chrono::seconds(30));
        if (!seen) break;
        from_pg_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      print_latency("cluster -> PostgreSQL", to_pg_ms);
      print_latency("PostgreSQL -> cluster", from_pg_ms);
      code = imported && !to_pg_ms.empty() && !from_pg_ms.empty() ? 0 : 1;
    }
    if (auto status = api ? api->status() : Result<api::NodeStatus>(Status::invalid("no API")); status) {
      uplink.stop();
      (void)sql->query("SELECT pg_drop_replication_slot($1)", {postgres::slot_name(cluster)});
      (void)sql->query("SELECT pg_replication_origin_drop($1)", {"shopsync_" + node_id_text(status->node_id)});
    }
  }
  (void)sql->exec("DROP PUBLICATION IF EXISTS " + sql->identifier("shopsync_" + cluster) + "; DROP SCHEMA IF EXISTS " +
                  schema + " CASCADE");
  std::error_code ec;
  if (code == 0) fs::remove_all(dir, ec);
  return code;
}

}  // namespace

SHOPSYNC_BENCH_SUBCOMMAND(postgres, "postgres",
                          "the uplink's PostgreSQL link: rows/s and latency both ways, beside PostgreSQL's COPY",
                          kUsage, run);

}  // namespace shopsync::bench
