#include "node/bulk_seed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include <msgpack.hpp>

#include "node/identity.h"
#include "replication/replica.h"
#include "storage/lmdb_store.h"

namespace shopsync {

namespace {

std::string pack_string(const std::string& s) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack(s);
  return std::string(buf.data(), buf.size());
}

std::string pack_uint(std::uint64_t v) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_uint64(v);
  return std::string(buf.data(), buf.size());
}

}  // namespace

Result<NodeId> seed_records(const std::filesystem::path& data_dir, const SeedOptions& options) {
  SHOPSYNC_TRY(ensure_data_dir(data_dir));
  auto store = LmdbStore::open(data_dir);
  if (!store) return store.status();
  SystemClock clock;
  NodeId writer = 0;  // dots are issued under a fresh writer id, as a node's writes are
  std::uint64_t issued = 0;
  {
    // Let the replica create (or check) the node meta.
    ReplicaOptions ro;
    ro.cluster = options.cluster;
    std::random_device rd;
    ro.node_id = 0;
    Result<std::optional<NodeMeta>> existing = std::optional<NodeMeta>();
    SHOPSYNC_TRY((*store)->read([&](StoreReader& r) {
      existing = r.node_meta();
      return existing.status();
    }));
    if (!existing->has_value()) {
      while (ro.node_id == 0) ro.node_id = (static_cast<NodeId>(rd()) << 32) ^ rd();
    }
    auto replica = Replica::open(**store, clock, ro);
    if (!replica) return replica.status();
    writer = (*replica)->writer();
  }
  NodeMeta meta;
  SHOPSYNC_TRY((*store)->read([&](StoreReader& r) -> Status {
    auto m = r.node_meta();
    if (!m) return m.status();
    if (!m->has_value()) return Status::corrupt("no node meta after opening the replica");
    meta = **m;
    return Status::ok();
  }));
  const std::string payload = pack_string(std::string(options.payload_bytes, 'x'));
  Hlc hlc = std::max<Hlc>(meta.clock, clock.now_ms() << 16);
  std::size_t done = 0;
  while (done < options.count) {
    const std::size_t n = std::min(options.records_per_transaction, options.count - done);
    NodeMeta next = meta;
    std::uint64_t next_issued = issued;
    Status s = (*store)->write([&](StoreWriter& w) -> Status {
      next = meta;
      next_issued = issued;
      Hlc h = hlc;
      for (std::size_t i = 0; i < n; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "%09zu", options.first + done + i);
        Version v;
        v.dot = Dot{writer, ++next_issued};
        v.updated_at = ++h;
        if (options.fields) {
          v.fields = options.fields(options.first + done + i, v.updated_at);
        } else {
          v.fields.emplace("payload", Field{payload, v.updated_at});
          v.fields.emplace("n", Field{pack_uint(options.first + done + i), v.updated_at});
        }
        RecordState state;
        state.siblings.push_back(v);
        state.context.advance(v.dot);
        SHOPSYNC_TRY(w.put_record(RecordKey{options.collection, options.id_prefix + id}, state));
        ++next.counter;
        next.knowledge.advance(v.dot);
      }
      next.clock = h;
      return w.put_node_meta(next);
    });
    if (!s) return s.context("seeding records");
    meta = next;
    issued = next_issued;
    hlc = meta.clock;
    done += n;
  }
  return meta.node_id;
}

}  // namespace shopsync
