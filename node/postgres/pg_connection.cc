#include "node/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <utility>

namespace shopsync::postgres {
namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Why a statement failed, with its SQLSTATE ("23505: duplicate key ...").
Status statement_error(PGconn* conn, const PGresult* result, std::string_view sql) {
  if (PQstatus(conn) != CONNECTION_OK) {
    return Status(Errc::unavailable, std::string("PostgreSQL connection lost: ") + PQerrorMessage(conn));
  }
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string head(sql.substr(0, 60));
  return Status::invalid(std::string(state ? state : "?????") + ": " + message + " (in: " + head + ")");
}

// Keyword/value form over the operator's string: later keywords win, and
// "dbname" given as a conninfo is expanded (expand_dbname).
struct ConnectParams {
  ConnectParams(const std::string& conninfo, bool replication)
      : keys{"connect_timeout", "dbname", "application_name", replication ? "replication" : nullptr, nullptr},
        values{"2", conninfo.c_str(), "shopsyncd", replication ? "database" : nullptr, nullptr} {}
  const char* keys[5];
  const char* values[5];
};

}  // namespace

Result<Connection> Connection::start(const std::string& conninfo, bool replication) {
  const ConnectParams p(conninfo, replication);
  PGconn* conn = PQconnectStartParams(p.keys, p.values, 1);
  if (!conn) return Status(Errc::unavailable, "PostgreSQL: out of memory");
  Connection c(conn);
  if (PQstatus(conn) == CONNECTION_BAD) return c.connect_error();
  return c;
}

Result<Connection> Connection::open(const std::string& conninfo, bool replication) {
  const ConnectParams p(conninfo, replication);
  PGconn* conn = PQconnectdbParams(p.keys, p.values, 1);
  if (!conn) return Status(Errc::unavailable, "PostgreSQL: out of memory");
  Connection c(conn);
  if (PQstatus(conn) != CONNECTION_OK) return c.connect_error();
  c.quiet();
  return c;
}

Result<bool> Connection::poll_connect() {
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_OK:
      quiet();
      return true;
    case PGRES_POLLING_READING:
      wants_write_ = false;
      return false;
    case PGRES_POLLING_WRITING:
      wants_write_ = true;
      return false;
    default:
      return connect_error();
  }
}

// NOTICEs ("schema already exists, skipping") are not for the node's log.
void Connection::quiet() { PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr); }

Status Connection::connect_error() const {
  std::string message = PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return Status(Errc::unavailable, "cannot connect to PostgreSQL: " + message);
}

Connection::Connection(Connection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)), wants_write_(other.wants_write_) {}
Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (conn_) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    wants_write_ = other.wants_write_;
  }
  return *this;
}
Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

Result<std::vector<Row>> Connection::query(const std::string& sql, const std::vector<Value>& params) {
  std::vector<const char*> raw;
  raw.reserve(params.size());
  for (const auto& p : params) raw.push_back(p ? p->c_str() : nullptr);
  // Without parameters, the simple query protocol: the only one a
  // replication session speaks (CREATE_REPLICATION_SLOT).
  ResultPtr r(raw.empty() ? PQexec(conn_, sql.c_str())
                          : PQexecParams(conn_, sql.c_str(), static_cast<int>(raw.size()), nullptr, raw.data(),
                                         nullptr, nullptr, 0));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return statement_error(conn_, r.get(), sql);
  std::vector<Row> rows;
  const int n = PQntuples(r.get());
  const int cols = PQnfields(r.get());
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Row row;
    for (int j = 0; j < cols; ++j) {
      if (PQgetisnull(r.get(), i, j)) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(PQgetvalue(r.get(), i, j), static_cast<std::size_t>(PQgetlength(r.get(), i, j))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status Connection::exec(const std::string& sql) {
  ResultPtr r(PQexec(conn_, sql.c_str()));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return statement_error(conn_, r.get(), sql);
  return Status::ok();
}

Status Connection::copy_in(const std::string& sql, std::string_view data) {
  ResultPtr r(PQexec(conn_, sql.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) return statement_error(conn_, r.get(), sql);
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1) {
    return failure("sending COPY data");
  }
  ResultPtr done(PQgetResult(conn_));
  if (!done || PQresultStatus(done.get()) != PGRES_COMMAND_OK) return statement_error(conn_, done.get(), sql);
  while (ResultPtr(PQgetResult(conn_))) {
  }
  return Status::ok();
}

std::string Connection::identifier(std::string_view name) const {
  char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
  if (!quoted) return "\"\"";
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

std::string Connection::literal(std::string_view text) const {
  char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
  if (!quoted) return "''";
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

Status Connection::start_stream(const std::string& command) {
  ResultPtr r(PQexec(conn_, command.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_BOTH) return statement_error(conn_, r.get(), command);
  if (PQsetnonblocking(conn_, 1) != 0) return failure("making the replication stream non-blocking");
  return Status::ok();
}

Result<std::optional<std::string>> Connection::read_stream() {
  // Read from the socket only when no whole message is buffered: each
  // PQconsumeInput compacts libpq's buffer, which made reading a large
  // transaction's messages quadratic.
  char* buffer = nullptr;
  int n = PQgetCopyData(conn_, &buffer, 1);
  if (n == 0) {
    if (PQconsumeInput(conn_) == 0) return failure("reading the replication stream");
    n = PQgetCopyData(conn_, &buffer, 1);
  }
  if (n == 0) return std::optional<std::string>();
  if (n > 0) {
    std::string bytes(buffer, static_cast<std::size_t>(n));
    PQfreemem(buffer);
    return std::optional<std::string>(std::move(bytes));
  }
  // -1: the COPY ended (the server stopped streaming); -2: an error.
  ResultPtr r(PQgetResult(conn_));
  if (r && PQresultStatus(r.get()) == PGRES_FATAL_ERROR) return statement_error(conn_, r.get(), "START_REPLICATION");
  return Status(Errc::unavailable, "the PostgreSQL replication stream ended");
}

Status Connection::write_stream(std::string_view bytes) {
  if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) != 1) return failure("writing the replication stream");
  // Non-blocking: 1 means part of it waits in libpq's buffer; the next
  // flush (every status message flushes) sends it.
  if (PQflush(conn_) < 0) return failure("flushing the replication stream");
  return Status::ok();
}

int Connection::socket() const { return conn_ ? PQsocket(conn_) : -1; }

Status Connection::failure(std::string_view step) const {
  std::string message = PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return Status(Errc::unavailable, "PostgreSQL, " + std::string(step) + ": " + message);
}

}  // namespace shopsync::postgres
