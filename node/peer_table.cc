#include "node/peer_table.h"

#include <charconv>
#include <cstdio>
#include <msgpack.hpp>

namespace shopsync {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(Packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

struct Bad {
  std::string what;
};

std::uint64_t get_uint(const msgpack::object& o, const char* what) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) throw Bad{what};
  return o.via.u64;
}

std::int64_t get_int(const msgpack::object& o, const char* what) {
  if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(o.via.u64);
  }
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
  throw Bad{what};
}

std::string get_str(const msgpack::object& o, const char* what) {
  if (o.type != msgpack::type::STR) throw Bad{what};
  return std::string(o.via.str.ptr, o.via.str.size);
}

}  // namespace

std::string peer_table_key(NodeId node) { return node_id_text(node); }

std::string encode_peer_record(const PeerRecord& peer) {
  msgpack::sbuffer buf;
  Packer p(buf);
  p.pack_array(15);
  p.pack_uint32(kPeerRecordFormat);
  pack_str(p, peer.name);
  pack_str(p, peer.public_key);
  pack_str(p, peer.address);
  pack_str(p, to_string(peer.role));
  pack_str(p, to_string(peer.source));
  p.pack_uint64(peer.last_seen_ms);
  p.pack_uint64(peer.last_sync_ms);
  p.pack_map(static_cast<std::uint32_t>(peer.knowledge.entries().size()));
  for (const auto& [node, counter] : peer.knowledge.entries()) {
    p.pack_uint64(node);
    p.pack_uint64(counter);
  }
  p.pack_uint64(peer.records_in);
  p.pack_uint64(peer.records_out);
  p.pack_uint64(peer.lag_changes);
  pack_str(p, peer.last_error);
  p.pack_int64(peer.clock_offset_ms);
  p.pack_uint64(peer.node_id);
  return std::string(buf.data(), buf.size());
}

Result<PeerRecord> decode_peer_record(std::string_view key, std::string_view value) {
  PeerRecord peer;
  try {
    std::size_t offset = 0;
    const msgpack::unpack_limit limit(4096, 4096, 1 << 16, 1 << 16, 0, 4);
    auto handle = msgpack::unpack(value.data(), value.size(), offset, nullptr, nullptr, limit);
    if (offset != value.size()) throw Bad{"trailing bytes"};
    const auto& o = handle.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < 15) throw Bad{"not an array of 15 fields"};
    const auto* f = o.via.array.ptr;
    if (get_uint(f[0], "format") != kPeerRecordFormat) throw Bad{"unknown format"};
    peer.name = get_str(f[1], "name");
    peer.public_key = get_str(f[2], "public key");
    peer.address = get_str(f[3], "address");
    const auto role = parse_role(get_str(f[4], "role"));
    if (!role) throw Bad{"role"};
    peer.role = *role;
    const std::string source = get_str(f[5], "source");
    peer.source = source == "mdns"     ? PeerSource::mdns
                  : source == "uplink" ? PeerSource::uplink
                  : source == "inbound" ? PeerSource::inbound
                                        : PeerSource::static_peer;
    peer.last_seen_ms = get_uint(f[6], "last seen");
    peer.last_sync_ms = get_uint(f[7], "last sync");
    if (f[8].type != msgpack::type::MAP) throw Bad{"knowledge"};
    for (std::uint32_t i = 0; i < f[8].via.map.size; ++i) {
      peer.knowledge.set(get_uint(f[8].via.map.ptr[i].key, "knowledge"), get_uint(f[8].via.map.ptr[i].val, "knowledge"));
    }
    peer.records_in = get_uint(f[9], "records in");
    peer.records_out = get_uint(f[10], "records out");
    peer.lag_changes = get_uint(f[11], "lag");
    peer.last_error = get_str(f[12], "last error");
    peer.clock_offset_ms = get_int(f[13], "clock offset");
    peer.node_id = get_uint(f[14], "node id");
  } catch (const Bad& b) {
    return Status::corrupt("peer " + std::string(key) + ": " + b.what);
  } catch (const std::exception& e) {
    return Status::corrupt("peer " + std::string(key) + ": " + e.what());
  }
  if (peer_table_key(peer.node_id) != key) return Status::corrupt("peer " + std::string(key) + ": key does not match its node id");
  return peer;
}

Result<std::vector<PeerRecord>> load_peers(StoreReader& reader, std::vector<std::string>* skipped) {
  std::vector<PeerRecord> out;
  Status s = reader.for_each(Table::peers, [&](std::string_view key, std::string_view value) {
    auto peer = decode_peer_record(key, value);
    if (peer) {
      out.push_back(std::move(*peer));
    } else if (skipped) {
      skipped->push_back(peer.status().message());
    }
    return Scan::next;
  });
  if (!s) return s;
  return out;
}

std::uint64_t changes_behind(const VersionVector& ahead, const VersionVector& behind) {
  std::uint64_t total = 0;
  for (const auto& [node, counter] : ahead.entries()) {
    const std::uint64_t theirs = behind.get(node);
    if (counter > theirs) total += counter - theirs;
  }
  return total;
}

}  // namespace shopsync
