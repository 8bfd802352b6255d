#include "tools/bench/sync_ceiling.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <msgpack.hpp>

#include <sys/resource.h>

#include "net/zmq_socket.h"
#include "node/body_compression.h"
#include "storage/lmdb.h"

namespace shopsync::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kGiveUp = std::chrono::minutes(10);

bool failed(const Status& s, const char* step) {
  if (s) return false;
  std::fprintf(stderr, "sync ceiling: %s: %s\n", step, s.to_string().c_str());
  return true;
}

// Sends `frame`, waiting while the socket's queue is full.
// Gives up when `stop` is set (the receiver failed).
Status send_blocking(zmq::Socket& socket, std::string_view frame, const std::atomic<bool>& stop) {
  const std::string_view parts[] = {frame};
  const auto until = Clock::now() + kGiveUp;
  while (Clock::now() < until && !stop) {
    auto sent = socket.send(parts);
    if (!sent) return sent.status();
    if (*sent) return Status::ok();
    zmq::PollEntry e{socket.handle(), -1, false, true};
    if (auto p = zmq::poll(std::span(&e, 1), std::chrono::milliseconds(100)); !p) return p.status();
  }
  return Status::io_error("the receiver stopped taking records");
}

// The sender: every record of `source`, `per_message` to a message
// (compressed at `level` unless 0), then an empty message for the end.
Status send_records(zmq::Socket& socket, const std::filesystem::path& source, std::size_t per_message, int level,
                    const std::atomic<bool>& stop, std::uint64_t& value_bytes, std::uint64_t& message_bytes) {
  Status sent = Status::ok();
  SHOPSYNC_TRY(for_each_record_message(source, per_message, [&](const std::vector<lmdb::Entry>& records,
                                                                 std::string_view message) {
    for (const auto& e : records) value_bytes += e.value.size();
    std::string compressed = level == 0 ? std::string() : compress_body(message, level);
    if (!compressed.empty()) message = compressed;
    message_bytes += message.size();
    sent = send_blocking(socket, message, stop);
    return sent.is_ok();
  }));
  SHOPSYNC_TRY(sent);
  msgpack::sbuffer end;
  msgpack::packer<msgpack::sbuffer>(end).pack_array(0);
  return send_blocking(socket, std::string_view(end.data(), end.size()), stop);  // the end: an empty message
}

// This process's user plus system CPU seconds, every thread.
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

}  // namespace

Status for_each_record_message(const std::filesystem::path& source, std::size_t per_message, const TakeMessage& take) {
  std::error_code ec;
  lmdb::EnvOptions eo;
  eo.read_only = true;
  eo.map_size = static_cast<std::size_t>(std::filesystem::file_size(source / "data.mdb", ec)) + (64u << 20);
  auto env = lmdb::Env::open(source, eo);
  if (!env) return env.status();
  auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::read);
  if (!txn) return txn.status();
  auto db = txn->open_db("records", false);
  if (!db) return db.status();
  auto cursor = lmdb::Cursor::open(*txn, *db);
  if (!cursor) return cursor.status();
  std::vector<lmdb::Entry> pending;
  msgpack::sbuffer buf(1 << 20);
  auto flush = [&]() {
    buf.clear();
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(static_cast<std::uint32_t>(pending.size()));
    for (const auto& e : pending) {
      pk.pack_array(2);
      pk.pack_bin(static_cast<std::uint32_t>(e.key.size()));
      pk.pack_bin_body(e.key.data(), static_cast<std::uint32_t>(e.key.size()));
      pk.pack_bin(static_cast<std::uint32_t>(e.value.size()));
      pk.pack_bin_body(e.value.data(), static_cast<std::uint32_t>(e.value.size()));
    }
    const bool more = take(pending, std::string_view(buf.data(), buf.size()));
    pending.clear();
    return more;
  };
  for (auto at = cursor->first();; at = cursor->next()) {
    if (!at) return at.status();
    if (!at->has_value()) break;
    pending.push_back(**at);
    if (pending.size() == per_message && !flush()) return Status::ok();
  }
  if (!pending.empty()) flush();
  return Status::ok();
}

std::optional<CeilingResult> measure_sync_ceiling(const CeilingOptions& o) {
  auto ctx = zmq::Context::create();
  if (!ctx) return failed(ctx.status(), "ZeroMQ context"), std::nullopt;
  auto server_keys = zmq::make_curve_key_pair();
  auto client_keys = zmq::make_curve_key_pair();
  if (!server_keys || !client_keys) return failed(server_keys.status(), "CURVE keys"), std::nullopt;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(o.port);

  auto receiver = zmq::Socket::open(*ctx, zmq::SocketType::pair);
  if (!receiver || failed(receiver->set_linger(0), "linger") ||
      failed(receiver->set_curve_server(server_keys->secret_key), "CURVE server") ||
      failed(receiver->set_high_water_marks(16, 16), "high water marks") ||
      failed(receiver->bind(endpoint), ("binding " + endpoint).c_str())) {
    return std::nullopt;
  }
  lmdb::EnvOptions to;
  to.map_size = std::size_t{16} << 30;
  to.sync_each_commit = o.sync_each_commit;
  auto env = lmdb::Env::open(o.target, to);
  if (!env) return failed(env.status(), "opening the receiver's environment"), std::nullopt;
  lmdb::Dbi db;
  {
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    if (!txn) return failed(txn.status(), "receiver begin"), std::nullopt;
    auto opened = txn->open_db("records", true);
    if (!opened) return failed(opened.status(), "receiver database"), std::nullopt;
    db = *opened;
    if (failed(txn->commit(), "receiver commit")) return std::nullopt;
  }

  const auto start = Clock::now();
  const double cpu_at_start = process_cpu_seconds();
  std::atomic<bool> sender_failed{false}, receiver_done{false};
  std::uint64_t value_bytes = 0, message_bytes = 0;
  std::thread sender([&] {
    auto socket = zmq::Socket::open(*ctx, zmq::SocketType::pair);
    Status s = socket ? Status::ok() : socket.status();
    if (s) s = socket->set_linger(0);
    if (s) s = socket->set_high_water_marks(16, 16);
    if (s) s = socket->set_curve_client(client_keys->public_key, client_keys->secret_key, server_keys->public_key);
    if (s) s = socket->connect(endpoint);
    if (s) {
      s = send_records(*socket, o.source, o.records_per_message, o.compression_level, receiver_done, value_bytes,
                       message_bytes);
    }
    if (failed(s, "sender")) sender_failed = true;
    // Closing drops what is still queued (linger 0): wait for the receiver.
    while (!receiver_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });

  CeilingResult r;
  bool ok = false;
  while (!sender_failed && Clock::now() - start < kGiveUp) {
    zmq::PollEntry e{receiver->handle(), -1, true, false};
    if (auto p = zmq::poll(std::span(&e, 1), std::chrono::milliseconds(100)); !p || *p == 0) continue;
    auto msg = receiver->receive();
    if (!msg) {
      failed(msg.status(), "receiving");
      break;
    }
    if (!msg->has_value() || (*msg)->parts.empty()) continue;
    std::string frame = std::move((*msg)->parts.front());
    if (o.compression_level != 0) {
      const auto size = compressed_body_size(frame);
      auto inflated = size ? decompress_body(frame, *size) : std::nullopt;
      if (inflated) frame = std::move(*inflated);  // else it went as packed: compression did not shrink it
    }
    msgpack::object_handle oh = msgpack::unpack(frame.data(), frame.size());
    const msgpack::object& records = oh.get();
    if (records.type != msgpack::type::ARRAY) break;
    if (records.via.array.size == 0) {
      ok = true;
      break;
    }
    auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
    if (!txn) {
      failed(txn.status(), "receiver begin");
      break;
    }
    Status s;
    for (std::uint32_t i = 0; i < records.via.array.size && s; ++i) {
      const msgpack::object* kv = records.via.array.ptr[i].via.array.ptr;
      s = txn->put(db, std::string_view(kv[0].via.bin.ptr, kv[0].via.bin.size),
                   std::string_view(kv[1].via.bin.ptr, kv[1].via.bin.size));
    }
    if (s) s = txn->commit();
    if (failed(s, "receiver write")) break;
    r.records += records.via.array.size;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  receiver_done = true;
  sender.join();
  r.cpu_seconds = process_cpu_seconds() - cpu_at_start;
  r.value_bytes = value_bytes;
  r.message_bytes = message_bytes;
  if (!ok) {
    if (!sender_failed) std::fprintf(stderr, "sync ceiling: the receiver did not get every record\n");
    return std::nullopt;
  }
  return r;
}

}  // namespace shopsync::bench
