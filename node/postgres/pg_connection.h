// The one file that wraps libpq (STYLE.md: one file per external library).
//
// A Connection is one PostgreSQL session, move-only; the destructor closes
// it. Two kinds: an ordinary session (queries, the cluster -> PostgreSQL
// transactions) and a logical replication session (replication=database:
// CREATE_REPLICATION_SLOT, START_REPLICATION and the COPY stream that
// carries pgoutput messages).
//
// Errors: unavailable when the server cannot be reached or the session is
// lost (the caller reconnects); invalid_argument for a statement PostgreSQL
// refused (its message and SQLSTATE in the text). Nothing throws.
//
// Thread-safety: none; one thread uses a Connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct pg_conn;

namespace shopsync::postgres {

using Value = std::optional<std::string>;  // nullopt: SQL NULL
using Row = std::vector<Value>;

class Connection {
 public:
  // `conninfo`: a libpq connection string or URI. open() waits for the
  // session (connect_timeout 2 s unless the string sets one): for tools.
  static Result<Connection> open(const std::string& conninfo, bool replication);
  // Starts connecting without waiting (PQconnectStartParams): call
  // poll_connect() whenever socket() is readable, or writable when
  // wants_write(). The caller bounds the time it allows.
  static Result<Connection> start(const std::string& conninfo, bool replication);
  // true once the session is up; false while it waits for the socket;
  // unavailable when connecting failed.
  Result<bool> poll_connect();
  bool wants_write() const { return wants_write_; }
  Connection(Connection&&) noexcept;  // (moves the connecting state too)
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // One statement with text parameters ($1, $2, ...); the rows it returned.
  Result<std::vector<Row>> query(const std::string& sql, const std::vector<Value>& params = {});
  // Statements without parameters (several separated by ';').
  Status exec(const std::string& sql);
  // COPY ... FROM STDIN with `data` (COPY's text format) as the input.
  Status copy_in(const std::string& sql, std::string_view data);
  // "name" quoted as an SQL identifier / 'text' as a literal.
  std::string identifier(std::string_view name) const;
  std::string literal(std::string_view text) const;

  // ---- the replication stream (a replication session only)
  // Sends START_REPLICATION; the session is then in COPY BOTH mode.
  Status start_stream(const std::string& command);
  // The next CopyData message without waiting: nullopt when none has
  // arrived yet (poll socket() for more). unavailable when the stream ended.
  Result<std::optional<std::string>> read_stream();
  // Sends one CopyData message to the server and flushes it.
  Status write_stream(std::string_view bytes);
  int socket() const;

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  Status failure(std::string_view step) const;
  Status connect_error() const;
  void quiet();
  pg_conn* conn_ = nullptr;
  bool wants_write_ = true;  // PQconnectStart's first wait is for writing
};

}  // namespace shopsync::postgres
