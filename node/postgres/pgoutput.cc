#include "node/postgres/pgoutput.h"

#include <cstdio>

namespace shopsync::postgres {
namespace {

// Big-endian reads with bounds checks; `failed` stays set once a read ran
// past the end, and every later read returns zero.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t uint(std::size_t n) {
    if (bytes_.size() - pos_ < n || failed_) {
      failed_ = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    pos_ += n;
    return v;
  }
  char byte() { return static_cast<char>(uint(1)); }
  std::string cstring() {
    const auto end = bytes_.find('\0', pos_);
    if (end == std::string_view::npos || failed_) {
      failed_ = true;
      return {};
    }
    std::string s(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string bytes(std::size_t n) {
    if (bytes_.size() - pos_ < n || failed_) {
      failed_ = true;
      return {};
    }
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::string rest() { return bytes(bytes_.size() - pos_); }
  bool failed() const { return failed_; }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

Result<Tuple> read_tuple(Reader& r) {
  const auto n = r.uint(2);
  Tuple tuple;
  for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
    TupleValue v;
    switch (r.byte()) {
      case 'n': v.kind = TupleValue::Kind::null; break;
      case 'u': v.kind = TupleValue::Kind::unchanged; break;
      case 't':
        v.kind = TupleValue::Kind::text;
        v.text = r.bytes(r.uint(4));
        break;
      default: return Status::corrupt("pgoutput: a column of unknown kind");
    }
    tuple.push_back(std::move(v));
  }
  return tuple;
}

template <class T>
Result<PgOutputMessage> checked(const Reader& r, T message, char type) {
  if (r.failed()) return Status::corrupt(std::string("pgoutput: a short '") + type + "' message");
  return PgOutputMessage(std::move(message));
}

}  // namespace

std::string format_lsn(Lsn lsn) {
  char text[32];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffffu));
  return text;
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return std::nullopt;
  auto hex = [](std::string_view part) -> std::optional<std::uint64_t> {
    if (part.size() > 8) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : part) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<std::uint64_t>(d);
    }
    return v;
  };
  auto hi = hex(text.substr(0, slash));
  auto lo = hex(text.substr(slash + 1));
  if (!hi || !lo) return std::nullopt;
  return (*hi << 32) | *lo;
}

Result<std::variant<XLogData, Keepalive>> decode_copy_data(std::string_view bytes) {
  Reader r(bytes);
  const char type = r.byte();
  if (type == 'w') {
    XLogData d;
    d.start = r.uint(8);
    d.end = r.uint(8);
    r.uint(8);  // the server's clock
    d.payload = r.rest();
    if (r.failed()) return Status::corrupt("replication stream: a short XLogData message");
    return std::variant<XLogData, Keepalive>(std::move(d));
  }
  if (type == 'k') {
    Keepalive k;
    k.wal_end = r.uint(8);
    r.uint(8);
    k.reply_requested = r.uint(1) != 0;
    if (r.failed()) return Status::corrupt("replication stream: a short keepalive message");
    return std::variant<XLogData, Keepalive>(k);
  }
  return Status::corrupt(std::string("replication stream: unknown message type '") + type + "'");
}

std::string standby_status(Lsn applied, std::int64_t now_us, bool reply_requested) {
  std::string out(1, 'r');
  auto put = [&out](std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  put(applied);  // written
  put(applied);  // flushed: the slot may release WAL before it
  put(applied);  // applied
  put(static_cast<std::uint64_t>(now_us));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

Result<PgOutputMessage> decode_pgoutput(std::string_view bytes) {
  Reader r(bytes);
  const char type = r.byte();
  switch (type) {
    case 'B': {
      Begin b;
      b.final_lsn = r.uint(8);
      r.uint(8);  // commit time
      b.xid = static_cast<std::uint32_t>(r.uint(4));
      return checked(r, b, type);
    }
    case 'C': {
      Commit c;
      r.uint(1);  // flags
      c.commit_lsn = r.uint(8);
      c.end_lsn = r.uint(8);
      r.uint(8);  // commit time
      return checked(r, c, type);
    }
    case 'O': {
      Origin o;
      r.uint(8);  // the origin's own LSN
      o.name = r.cstring();
      return checked(r, std::move(o), type);
    }
    case 'R': {
      Relation rel;
      rel.oid = static_cast<std::uint32_t>(r.uint(4));
      rel.schema = r.cstring();
      rel.name = r.cstring();
      r.uint(1);  // replica identity setting
      const auto n = r.uint(2);
      for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
        Column c;
        c.key = (r.uint(1) & 1) != 0;
        c.name = r.cstring();
        c.type_oid = static_cast<std::uint32_t>(r.uint(4));
        r.uint(4);  // type modifier
        rel.columns.push_back(std::move(c));
      }
      return checked(r, std::move(rel), type);
    }
    case 'I':
    case 'U':
    case 'D': {
      RowChange change;
      change.op = type == 'I' ? RowChange::Op::insert : type == 'U' ? RowChange::Op::update : RowChange::Op::remove;
      change.relation = static_cast<std::uint32_t>(r.uint(4));
      char part = r.byte();
      if (type == 'U' && (part == 'K' || part == 'O')) {
        if (auto old = read_tuple(r); !old) return old.status();
        part = r.byte();
      }
      const char expected = type == 'D' ? part : 'N';
      if (part != expected || (type == 'D' && part != 'K' && part != 'O')) {
        if (!r.failed()) return Status::corrupt(std::string("pgoutput: a '") + type + "' message without its tuple");
      }
      auto tuple = read_tuple(r);
      if (!tuple) return tuple.status();
      change.tuple = std::move(*tuple);
      return checked(r, std::move(change), type);
    }
    default:
      if (r.failed()) return Status::corrupt("pgoutput: an empty message");
      return PgOutputMessage(Ignored{type});
  }
}

}  // namespace shopsync::postgres
