// A real PostgreSQL 15 server for tests: initdb in a temporary directory,
// wal_level=logical, listening on 127.0.0.1 at a free port (and on a Unix
// socket in the directory), started with pg_ctl and stopped (fast) when the
// PgServer goes away. PostgreSQL refuses to run as root: as root, every
// PostgreSQL program runs as the `postgres` user (runuser), which owns the
// directory. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace shopsync::test {

class PgServer {
 public:
  // initdb + start; fails the test when either fails.
  explicit PgServer(const std::filesystem::path& dir);
  ~PgServer();  // stops the server
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  void start();
  void stop();      // pg_ctl stop -m fast
  void restart();   // pg_ctl restart -m fast (the same port)
  // libpq conninfo of the `postgres` database as the `postgres` superuser.
  std::string conninfo() const;
  std::uint16_t port() const { return port_; }
  // Runs `sql` through psql (-At: unaligned, tuples only); fails the test on
  // an error. Returns what psql printed, trailing newline removed.
  std::string psql(const std::string& sql) const;
  // The same, "" + ok = false instead of failing the test (a table not made yet).
  std::string try_psql(const std::string& sql, bool& ok) const;

 private:
  void run_as_postgres(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const;
  std::vector<std::string> as_postgres(std::vector<std::string> argv) const;
  std::filesystem::path dir_;   // owned by postgres
  std::uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace shopsync::test
