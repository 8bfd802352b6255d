#include "tests/postgres/pg_server.h"

#include <pwd.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "tests/node/support/node_process.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

const std::filesystem::path kBin = "/usr/lib/postgresql/15/bin";

}  // namespace

std::vector<std::string> PgServer::as_postgres(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

void PgServer::run_as_postgres(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  auto r = run_child(as_postgres(argv), timeout);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, argv[0] << " failed (" << r.exit_code << "): " << r.out << r.err);
}

PgServer::PgServer(const std::filesystem::path& dir) : dir_(dir / "pg") {
  std::filesystem::create_directories(dir_);
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    BOOST_REQUIRE_MESSAGE(pw, "PostgreSQL tests run as root need the postgres user (package postgresql-15)");
    // The test's directory must be traversable for postgres to reach its own.
    std::filesystem::permissions(dir, std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
    BOOST_REQUIRE(chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  // initdb once per build tree (seconds: a template kept in the build
  // directory, made under a temporary name and renamed into place, so that
  // tests running in parallel share it), then a copy for each server.
  const std::filesystem::path tmpl = PG_TEMPLATE_DIR;
  if (!std::filesystem::exists(tmpl / "data" / "PG_VERSION")) {
    const std::filesystem::path fresh = tmpl.string() + ".tmp-" + std::to_string(getpid());
    std::filesystem::remove_all(fresh);
    std::filesystem::create_directories(fresh);
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      BOOST_REQUIRE(pw && chown(fresh.c_str(), pw->pw_uid, pw->pw_gid) == 0);
    }
    run_as_postgres({(kBin / "initdb").string(), "-D", (fresh / "data").string(), "-A", "trust", "-U", "postgres",
                     "--no-sync", "-E", "UTF8", "--locale", "C"},
                    std::chrono::seconds(60));
    std::error_code ec;
    std::filesystem::rename(fresh, tmpl, ec);
    if (ec) std::filesystem::remove_all(fresh, ec);  // another test made it first
  }
  // As root, cp -a keeps the files postgres's.
  auto copied = run_child({"/bin/cp", "-a", (tmpl / "data").string(), (dir_ / "data").string()}, std::chrono::seconds(30));
  BOOST_REQUIRE_MESSAGE(copied.exit_code == 0, "copying the PostgreSQL template: " << copied.err);
  port_ = free_port();
  std::ofstream conf(dir_ / "data" / "postgresql.auto.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\nport = " << port_ << "\nunix_socket_directories = '" << dir_.string()
       << "'\nwal_level = logical\nmax_replication_slots = 8\nmax_wal_senders = 8\nfsync = off\n"
          "synchronous_commit = off\nfull_page_writes = off\nshared_buffers = 16MB\n";
  conf.close();
  start();
}

PgServer::~PgServer() {
  if (running_) {
    (void)run_child(as_postgres({(kBin / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w",
                                 "stop"}),
                    std::chrono::seconds(30));
  }
}

void PgServer::start() {
  run_as_postgres({(kBin / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-l", (dir_ / "log").string(), "-w",
                   "-t", "30", "start"},
                  std::chrono::seconds(40));
  running_ = true;
}

void PgServer::stop() {
  run_as_postgres({(kBin / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "fast", "-w", "stop"},
                  std::chrono::seconds(40));
  running_ = false;
}

void PgServer::restart() {
  stop();
  start();
}

std::string PgServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

std::string PgServer::try_psql(const std::string& sql, bool& ok) const {
  auto r = run_child({(kBin / "psql").string(), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo(), "-c", sql},
                     std::chrono::seconds(30));
  ok = r.exit_code == 0;
  if (!ok) BOOST_TEST_MESSAGE("psql -c \"" << sql << "\": " << r.err);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string PgServer::psql(const std::string& sql) const {
  bool ok = false;
  std::string out = try_psql(sql, ok);
  BOOST_REQUIRE_MESSAGE(ok, "psql -c \"" << sql << "\" failed");
  return out;
}

}  // namespace shopsync::test
