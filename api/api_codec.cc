#include "api/api_codec.h"

#include <type_traits>

#include "api/msgpack_map.h"
#include "storage/msgpack_reader.h"

namespace shopsync::api {

namespace {

using mp::MapIn;
using mp::MapOut;
using mp::Out;

static_assert(std::variant_size_v<RequestBody> == 19, "one request type per Op, in Op order");

// Envelope (1) + arguments map (1) + a record's fields map (1) + the value.
constexpr int kMaxMessageDepth = kMaxValueDepth + 8;
constexpr std::size_t kMaxFieldName = 256;

// ---- shared pieces ----------------------------------------------------------

void put_fields(Out& out, const FieldValues& fields) {
  out.map(fields.size());
  for (const auto& [name, packed] : fields) {
    out.str(name);
    out.raw(packed);
  }
}

// Reads a map of field name -> value, each value checked against the data model.
bool get_fields(MapIn& in, std::string_view key, FieldValues& out, bool required) {
  if (!in.has(key)) return !required || in.fail(in.what() + ": '" + std::string(key) + "' is missing");
  MapIn fields;
  if (!in.map(key, fields)) return false;
  out.clear();
  for (const auto& [name, bytes] : fields.entries()) {
    if (name.empty() || name.size() > kMaxFieldName || !is_valid_utf8(name)) {
      return in.fail(in.what() + ": field names must be 1 to 256 bytes of UTF-8");
    }
    MsgpackReader r(bytes);
    std::string_view span;
    if (!r.read_value(span) || !r.at_end()) {
      return in.fail(in.what() + ": field '" + std::string(name) + "': " + r.error());
    }
    out.emplace(std::string(name), std::string(span));
  }
  return true;
}

void put_dot(MapOut& m, std::string_view key, const Dot& dot) { m.str(key, dot_text(dot)); }

bool get_dot(MapIn& in, std::string_view key, Dot& out, bool required) {
  std::string text;
  if (!in.str(key, text, required)) return false;
  if (!in.has(key)) return true;
  auto dot = parse_dot(text);
  if (!dot) return in.fail(in.what() + ": '" + std::string(key) + "' is not a dot (NODE:COUNTER): " + text);
  out = *dot;
  return true;
}

void put_hlc(MapOut& m, Hlc hlc, std::string_view hlc_key = "hlc", std::string_view ms_key = "updated_at_ms") {
  m.uint(hlc_key, hlc);
  m.uint(ms_key, hlc_millis(hlc));
}

bool get_node_id(MapIn& in, std::string_view key, NodeId& out, bool required) {
  std::string text;
  if (!in.str(key, text, required)) return false;
  if (!in.has(key)) return true;
  auto id = parse_node_id(text);
  if (!id) return in.fail(in.what() + ": '" + std::string(key) + "' is not a node id (16 hex digits): " + text);
  out = *id;
  return true;
}

void put_vv(Out& out, const VersionVector& vv) {
  out.map(vv.entries().size());
  for (const auto& [node, counter] : vv.entries()) {
    out.str(node_id_text(node));
    out.uint(counter);
  }
}

bool get_vv(MapIn& in, std::string_view key, VersionVector& out) {
  if (!in.has(key)) return true;
  MapIn m;
  if (!in.map(key, m)) return false;
  out = VersionVector();
  for (const auto& [node, bytes] : m.entries()) {
    auto id = parse_node_id(node);
    std::uint64_t counter = 0;
    if (!id || !mp::decode_uint(bytes, counter)) return in.fail(in.what() + ": '" + std::string(key) + "' is not a version vector");
    out.set(*id, counter);
  }
  return true;
}

// Decodes each element of an array with `one(MapIn&, T&)`.
template <class T, class F>
bool get_list(MapIn& in, std::string_view key, std::vector<T>& out, F one) {
  std::vector<std::string_view> elements;
  if (!in.array(key, elements)) return false;
  out.clear();
  out.reserve(elements.size());
  for (std::size_t i = 0; i < elements.size(); ++i) {
    MapIn e;
    if (!e.parse(elements[i], kMaxMessageDepth, in.what() + "." + std::string(key) + "[" + std::to_string(i) + "]")) {
      return in.fail(e.error());
    }
    T value{};
    if (!one(e, value)) return in.fail(e.error());
    out.push_back(std::move(value));
  }
  return true;
}

template <class T, class F>
void put_list(MapOut& m, std::string_view key, const std::vector<T>& items, F one) {
  Out& out = m.key(key);
  out.array(items.size());
  for (const auto& item : items) {
    MapOut e;
    one(e, item);
    e.finish(out);
  }
}

bool get_key(MapIn& in, RecordKey& key) {
  if (!in.str("collection", key.collection, true) || !in.str("id", key.id, true)) return false;
  if (Status s = validate_key(key); !s) return in.fail(s.message());
  return true;
}

void put_key(MapOut& m, const RecordKey& key) {
  m.str("collection", key.collection);
  m.str("id", key.id);
}

std::uint32_t clamp_limit(std::uint32_t limit) {
  if (limit == 0) return kDefaultPageLimit;
  return limit > kMaxPageLimit ? kMaxPageLimit : limit;
}

bool get_collection_filter(MapIn& in, std::string& collection) {
  if (!in.str("collection", collection)) return false;
  if (collection.empty()) return true;
  if (Status s = validate_collection_name(collection); !s) return in.fail(s.message());
  return true;
}

// ---- requests ----------------------------------------------------------------

void put_args(MapOut& m, const PutRequest& r) {
  put_key(m, r.key);
  put_fields(m.key("fields"), r.fields);
  if (r.mode == PutMode::patch) {
    m.boolean("patch", true);
    if (!r.unset.empty()) {
      Out& out = m.key("unset");
      out.array(r.unset.size());
      for (const auto& name : r.unset) out.str(name);
    }
  }
}
void put_args(MapOut& m, const GetRequest& r) { put_key(m, r.key); }
void put_args(MapOut& m, const DeleteRequest& r) { put_key(m, r.key); }
void put_args(MapOut& m, const ListRequest& r) {
  m.str("collection", r.collection);
  if (!r.after.empty()) m.str("after", r.after);
  m.uint("limit", r.limit);
}
void put_args(MapOut&, const CollectionsRequest&) {}
void put_args(MapOut& m, const ChangesRequest& r) {
  m.str("since", r.since_now ? std::string("now") : version_vector_text(r.since));
  if (!r.collection.empty()) m.str("collection", r.collection);
  m.uint("limit", r.limit);
  if (r.wait_ms != 0) m.uint("wait_ms", r.wait_ms);
}
void put_args(MapOut& m, const ConflictsRequest& r) {
  if (!r.collection.empty()) m.str("collection", r.collection);
  if (r.log_after != 0) m.uint("log_after", r.log_after);
  m.uint("limit", r.limit);
}
void put_args(MapOut& m, const ResolveRequest& r) {
  put_key(m, r.key);
  if (r.pick) put_dot(m, "pick", *r.pick);
  if (r.fields) put_fields(m.key("fields"), *r.fields);
}
void put_args(MapOut&, const StatusRequest&) {}
void put_args(MapOut&, const PeersRequest&) {}
void put_args(MapOut& m, const TrustAddRequest& r) {
  m.str("key", r.key);
  if (!r.name.empty()) m.str("name", r.name);
}
void put_args(MapOut&, const TrustListRequest&) {}
void put_args(MapOut& m, const TrustRemoveRequest& r) { m.str("key", r.key); }
void put_args(MapOut& m, const ForgetPeerRequest& r) { m.str("node_id", node_id_text(r.node)); }
void put_args(MapOut& m, const TokenCreateRequest& r) {
  m.str("name", r.name);
  if (!r.scope.empty()) m.str("scope", r.scope);
}
void put_args(MapOut&, const TokenListRequest&) {}
void put_args(MapOut& m, const TokenRevokeRequest& r) { m.str("name", r.name); }
void put_args(MapOut&, const KeyRequest&) {}
void put_args(MapOut&, const DiscoveryRequest&) {}

bool get_args(MapIn& in, PutRequest& r) {
  if (!get_key(in, r.key) || !get_fields(in, "fields", r.fields, true)) return false;
  bool patch = false;
  if (!in.boolean("patch", patch)) return false;
  r.mode = patch ? PutMode::patch : PutMode::replace;
  std::vector<std::string_view> unset;
  if (!in.array("unset", unset)) return false;
  if (!unset.empty() && !patch) return in.fail(in.what() + ": 'unset' needs 'patch': true");
  for (auto bytes : unset) {
    std::string name;
    if (!mp::decode_str(bytes, name)) return in.fail(in.what() + ": 'unset' must be an array of field names");
    if (r.fields.count(name) != 0) return in.fail(in.what() + ": field '" + name + "' is both set and unset");
    r.unset.push_back(std::move(name));
  }
  if (!patch && r.fields.empty()) {
    return in.fail(in.what() + ": a whole-record put needs at least one field (use delete to remove a record)");
  }
  if (patch && r.fields.empty() && r.unset.empty()) return in.fail(in.what() + ": a patch must set or unset a field");
  return true;
}
bool get_args(MapIn& in, GetRequest& r) { return get_key(in, r.key); }
bool get_args(MapIn& in, DeleteRequest& r) { return get_key(in, r.key); }
bool get_args(MapIn& in, ListRequest& r) {
  if (!in.str("collection", r.collection, true) || !in.str("after", r.after) || !in.u32("limit", r.limit)) return false;
  if (Status s = validate_collection_name(r.collection); !s) return in.fail(s.message());
  r.limit = clamp_limit(r.limit);
  return true;
}
bool get_args(MapIn&, CollectionsRequest&) { return true; }
bool get_args(MapIn& in, ChangesRequest& r) {
  std::string since;
  if (!in.str("since", since) || !get_collection_filter(in, r.collection) || !in.u32("limit", r.limit) ||
      !in.u32("wait_ms", r.wait_ms)) {
    return false;
  }
  if (since == "now") {
    r.since_now = true;
  } else {
    auto cursor = parse_version_vector(since);
    if (!cursor) return in.fail(in.what() + ": 'since' is not a cursor returned by changes: " + since);
    r.since = *cursor;
  }
  r.limit = clamp_limit(r.limit);
  if (r.wait_ms > kMaxWaitMs) r.wait_ms = kMaxWaitMs;
  return true;
}
bool get_args(MapIn& in, ConflictsRequest& r) {
  if (!get_collection_filter(in, r.collection) || !in.uint("log_after", r.log_after) || !in.u32("limit", r.limit)) {
    return false;
  }
  r.limit = clamp_limit(r.limit);
  return true;
}
bool get_args(MapIn& in, ResolveRequest& r) {
  if (!get_key(in, r.key)) return false;
  if (in.has("pick") == in.has("fields")) return in.fail(in.what() + ": give exactly one of 'pick' and 'fields'");
  if (in.has("pick")) {
    Dot dot;
    if (!get_dot(in, "pick", dot, true)) return false;
    r.pick = dot;
  } else {
    FieldValues fields;
    if (!get_fields(in, "fields", fields, true)) return false;
    r.fields = std::move(fields);
  }
  return true;
}
bool get_args(MapIn&, StatusRequest&) { return true; }
bool get_args(MapIn&, PeersRequest&) { return true; }
bool get_args(MapIn& in, TrustAddRequest& r) { return in.str("key", r.key, true) && in.str("name", r.name); }
bool get_args(MapIn&, TrustListRequest&) { return true; }
bool get_args(MapIn& in, TrustRemoveRequest& r) { return in.str("key", r.key, true); }
bool get_args(MapIn& in, ForgetPeerRequest& r) { return get_node_id(in, "node_id", r.node, true); }
bool get_args(MapIn& in, TokenCreateRequest& r) { return in.str("name", r.name, true) && in.str("scope", r.scope); }
bool get_args(MapIn&, TokenListRequest&) { return true; }
bool get_args(MapIn& in, TokenRevokeRequest& r) { return in.str("name", r.name, true); }
bool get_args(MapIn&, KeyRequest&) { return true; }
bool get_args(MapIn&, DiscoveryRequest&) { return true; }

// Builds the RequestBody alternative of index I when it matches `op`.
template <std::size_t I = 0>
bool decode_args(Op op, MapIn& in, RequestBody& body) {
  if constexpr (I < std::variant_size_v<RequestBody>) {
    if (static_cast<std::size_t>(op) == I) {
      std::variant_alternative_t<I, RequestBody> args{};
      if (!get_args(in, args)) return false;
      body = std::move(args);
      return true;
    }
    return decode_args<I + 1>(op, in, body);
  } else {
    return in.fail("unknown operation");
  }
}

// ---- responses -----------------------------------------------------------------

void put_sibling(MapOut& m, const SiblingView& s) {
  put_dot(m, "dot", s.dot);
  put_hlc(m, s.updated_at);
  m.boolean("deleted", s.deleted);
  m.boolean("uplink", s.uplink_origin);
  put_fields(m.key("fields"), s.fields);
}
bool get_sibling(MapIn& in, SiblingView& s) {
  return get_dot(in, "dot", s.dot, true) && in.uint("hlc", s.updated_at) && in.boolean("deleted", s.deleted) &&
         in.boolean("uplink", s.uplink_origin) && get_fields(in, "fields", s.fields, false);
}

void put_record(MapOut& m, const RecordView& r) {
  put_key(m, r.key);
  put_fields(m.key("fields"), r.fields);
  put_dot(m, "dot", r.dot);
  put_hlc(m, r.updated_at);
  m.boolean("deleted", r.deleted);
  m.boolean("conflicted", r.conflicted);
  m.uint("sibling_count", r.sibling_count);
  if (!r.siblings.empty()) put_list(m, "siblings", r.siblings, put_sibling);
  if (!r.strategy.empty()) m.str("strategy", r.strategy);
}
bool get_record(MapIn& in, RecordView& r) {
  return in.str("collection", r.key.collection, true) && in.str("id", r.key.id, true) &&
         get_fields(in, "fields", r.fields, false) && get_dot(in, "dot", r.dot, false) &&
         in.uint("hlc", r.updated_at) && in.boolean("deleted", r.deleted) && in.boolean("conflicted", r.conflicted) &&
         in.u32("sibling_count", r.sibling_count) && get_list(in, "siblings", r.siblings, get_sibling) &&
         in.str("strategy", r.strategy);
}

void put_change(MapOut& m, const Change& c) {
  put_key(m, c.key);
  put_dot(m, "dot", c.dot);
  put_hlc(m, c.updated_at);
  m.boolean("deleted", c.deleted);
}
bool get_change(MapIn& in, Change& c) {
  return in.str("collection", c.key.collection, true) && in.str("id", c.key.id, true) &&
         get_dot(in, "dot", c.dot, true) && in.uint("hlc", c.updated_at) && in.boolean("deleted", c.deleted);
}

void put_log_entry(MapOut& m, const ConflictLogEntry& e) {
  m.uint("seq", e.seq);
  put_key(m, e.key);
  m.str("strategy", e.strategy);
  put_dot(m, "winner", e.winner);
  m.boolean("near_simultaneous", e.near_simultaneous);
  put_hlc(m, e.detected_at, "detected_hlc", "detected_at_ms");
  m.str("detected_by", node_id_text(e.detected_by));
  put_list(m, "siblings", e.siblings, put_sibling);
}
bool get_log_entry(MapIn& in, ConflictLogEntry& e) {
  return in.uint("seq", e.seq, true) && in.str("collection", e.key.collection, true) &&
         in.str("id", e.key.id, true) && in.str("strategy", e.strategy) && get_dot(in, "winner", e.winner, false) &&
         in.boolean("near_simultaneous", e.near_simultaneous) && in.uint("detected_hlc", e.detected_at) &&
         get_node_id(in, "detected_by", e.detected_by, false) && get_list(in, "siblings", e.siblings, get_sibling);
}

void put_count(MapOut& m, const CollectionCount& c) {
  m.str("name", c.name);
  m.uint("records", c.records);
}
bool get_count(MapIn& in, CollectionCount& c) { return in.str("name", c.name, true) && in.uint("records", c.records); }

void put_unreadable(MapOut& m, const UnreadableRecord& u) {
  put_key(m, u.key);
  m.str("reason", u.reason);
  m.str("written_by", u.written_by);
}
bool get_unreadable(MapIn& in, UnreadableRecord& u) {
  return in.str("collection", u.key.collection, true) && in.str("id", u.key.id, true) && in.str("reason", u.reason) &&
         in.str("written_by", u.written_by);
}

void put_pending(MapOut& m, const PendingChanges& p) {
  m.str("peer", node_id_text(p.peer));
  m.str("peer_name", p.peer_name);
  m.uint("total", p.total);
  Out& out = m.key("collections");
  out.map(p.per_collection.size());
  for (const auto& [name, n] : p.per_collection) {
    out.str(name);
    out.uint(n);
  }
}
bool get_pending(MapIn& in, PendingChanges& p) {
  if (!get_node_id(in, "peer", p.peer, true) || !in.str("peer_name", p.peer_name) || !in.uint("total", p.total)) {
    return false;
  }
  if (!in.has("collections")) return true;
  MapIn m;
  if (!in.map("collections", m)) return false;
  for (const auto& [name, bytes] : m.entries()) {
    std::uint64_t n = 0;
    if (!mp::decode_uint(bytes, n)) return in.fail(in.what() + ": pending counts must be integers");
    p.per_collection.emplace(std::string(name), n);
  }
  return true;
}

// The progress fields, flat, in a peer's map and in a `status` "syncing" entry.
void put_sync_progress(MapOut& m, const SyncProgress& p) {
  m.uint("sync_records_received", p.records_received);
  m.uint("sync_records_total", p.records_total);
  m.uint("sync_bytes_received", p.bytes_received);
  m.uint("sync_bytes_total", p.bytes_total);
  m.uint("sync_rate", p.rate);
  m.uint("sync_eta_ms", p.eta_ms);
}
bool get_sync_progress(MapIn& in, SyncProgress& p) {
  return in.uint("sync_records_received", p.records_received) && in.uint("sync_records_total", p.records_total) &&
         in.uint("sync_bytes_received", p.bytes_received) && in.uint("sync_bytes_total", p.bytes_total) &&
         in.uint("sync_rate", p.rate) && in.uint("sync_eta_ms", p.eta_ms);
}

void put_peer_sync(MapOut& m, const PeerSync& p) {
  m.str("peer", node_id_text(p.peer));
  m.str("peer_name", p.peer_name);
  put_sync_progress(m, p.progress);
}
bool get_peer_sync(MapIn& in, PeerSync& p) {
  return get_node_id(in, "peer", p.peer, true) && in.str("peer_name", p.peer_name) && get_sync_progress(in, p.progress);
}

void put_peer(MapOut& m, const PeerInfo& p) {
  m.str("node_id", node_id_text(p.node_id));
  m.str("name", p.name);
  m.str("address", p.address);
  m.str("public_key", p.public_key);
  m.str("role", p.role);
  m.str("state", p.state);
  m.str("found_by", p.found_by);
  m.uint("last_seen_ms", p.last_seen_ms);
  m.uint("last_sync_ms", p.last_sync_ms);
  m.uint("lag_changes", p.lag_changes);
  m.uint("lag_ms", p.lag_ms);
  m.uint("records_in", p.records_in);
  m.uint("records_out", p.records_out);
  m.key("clock_offset_ms").sint(p.clock_offset_ms);
  m.str("last_error", p.last_error);
  m.uint("sessions", p.sessions);
  m.boolean("syncing", p.syncing);
  put_sync_progress(m, p.sync);
}
bool get_peer(MapIn& in, PeerInfo& p) {
  return get_node_id(in, "node_id", p.node_id, false) && in.str("name", p.name) && in.str("address", p.address) &&
         in.str("public_key", p.public_key) && in.str("role", p.role) && in.str("state", p.state) &&
         in.str("found_by", p.found_by) && in.uint("last_seen_ms", p.last_seen_ms) &&
         in.uint("last_sync_ms", p.last_sync_ms) && in.uint("lag_changes", p.lag_changes) &&
         in.uint("lag_ms", p.lag_ms) && in.uint("records_in", p.records_in) && in.uint("records_out", p.records_out) &&
         in.sint("clock_offset_ms", p.clock_offset_ms) && in.str("last_error", p.last_error) &&
         in.uint("sessions", p.sessions) && in.boolean("syncing", p.syncing) && get_sync_progress(in, p.sync);
}

void put_trusted(MapOut& m, const TrustedKey& k) {
  m.str("key", k.key);
  m.str("name", k.name);
  m.uint("added_ms", k.added_ms);
}
bool get_trusted(MapIn& in, TrustedKey& k) {
  return in.str("key", k.key, true) && in.str("name", k.name) && in.uint("added_ms", k.added_ms);
}

void put_revoked(MapOut& m, const RevokedKey& k) {
  m.str("key", k.key);
  m.uint("revoked_ms", k.revoked_ms);
}
bool get_revoked(MapIn& in, RevokedKey& k) { return in.str("key", k.key, true) && in.uint("revoked_ms", k.revoked_ms); }

void put_strings(MapOut& m, std::string_view key, const std::vector<std::string>& items) {
  Out& out = m.key(key);
  out.array(items.size());
  for (const auto& item : items) out.str(item);
}
bool get_strings(MapIn& in, std::string_view key, std::vector<std::string>& out) {
  std::vector<std::string_view> elements;
  if (!in.array(key, elements)) return false;
  out.clear();
  for (auto bytes : elements) {
    std::string text;
    if (!mp::decode_str(bytes, text)) return in.fail(in.what() + ": '" + std::string(key) + "' must hold strings");
    out.push_back(std::move(text));
  }
  return true;
}

void put_interface(MapOut& m, const DiscoveryInterface& i) {
  m.str("name", i.name);
  m.uint("index", i.index);
  put_strings(m, "addresses", i.addresses);
  m.boolean("joined_ipv4", i.joined_ipv4);
  m.boolean("joined_ipv6", i.joined_ipv6);
  m.uint("answers_received", i.answers_received);
  m.uint("peers_seen", i.peers_seen);
  m.uint("kernel_ipv6_multicast_sent", i.kernel_ipv6_multicast_sent);
  m.uint("kernel_ipv6_multicast_received", i.kernel_ipv6_multicast_received);
}
bool get_interface(MapIn& in, DiscoveryInterface& i) {
  return in.str("name", i.name, true) && in.u32("index", i.index) && get_strings(in, "addresses", i.addresses) &&
         in.boolean("joined_ipv4", i.joined_ipv4) && in.boolean("joined_ipv6", i.joined_ipv6) &&
         in.uint("answers_received", i.answers_received) && in.uint("peers_seen", i.peers_seen) &&
         in.uint("kernel_ipv6_multicast_sent", i.kernel_ipv6_multicast_sent) &&
         in.uint("kernel_ipv6_multicast_received", i.kernel_ipv6_multicast_received);
}

void put_discovered(MapOut& m, const DiscoveredPeer& p) {
  m.str("node_id", node_id_text(p.node_id));
  m.str("name", p.name);
  m.str("address", p.address);
  m.str("interface", p.interface_name);
  m.str("family", p.family);
  m.str("role", p.role);
  m.str("public_key", p.public_key);
  m.uint("protocol", p.protocol);
  m.uint("paths", p.paths);
  m.str("state", p.state);
  m.str("detail", p.detail);
  m.uint("unconnected_ms", p.unconnected_ms);
}
bool get_discovered(MapIn& in, DiscoveredPeer& p) {
  return get_node_id(in, "node_id", p.node_id, false) && in.str("name", p.name) && in.str("address", p.address) &&
         in.str("interface", p.interface_name) && in.str("family", p.family) && in.str("role", p.role) &&
         in.str("public_key", p.public_key) && in.u32("protocol", p.protocol) && in.u32("paths", p.paths) &&
         in.str("state", p.state, true) && in.str("detail", p.detail) && in.uint("unconnected_ms", p.unconnected_ms);
}

void put_refusal(MapOut& m, const DiscoveryRefusal& r) {
  m.str("name", r.name);
  m.str("interface", r.interface_name);
  m.str("reason", r.reason);
  m.str("detail", r.detail);
  m.uint("times", r.times);
}
bool get_refusal(MapIn& in, DiscoveryRefusal& r) {
  return in.str("name", r.name) && in.str("interface", r.interface_name) && in.str("reason", r.reason, true) &&
         in.str("detail", r.detail) && in.uint("times", r.times);
}

void put_reconfirm(MapOut& m, const DiscoveryReconfirm& r) {
  m.str("node_id", node_id_text(r.node_id));
  m.str("name", r.name);
  m.str("state", r.state);
  m.uint("age_ms", r.age_ms);
  m.uint("queries", r.queries);
}
bool get_reconfirm(MapIn& in, DiscoveryReconfirm& r) {
  return get_node_id(in, "node_id", r.node_id, false) && in.str("name", r.name) && in.str("state", r.state, true) &&
         in.uint("age_ms", r.age_ms) && in.u32("queries", r.queries);
}

void put_result(MapOut&, const Done&) {}
void put_result(MapOut& m, const WriteResult& r) {
  put_dot(m, "dot", r.dot);
  put_hlc(m, r.updated_at);
}
void put_result(MapOut& m, const RecordView& r) { put_record(m, r); }
void put_result(MapOut& m, const ListPage& p) {
  put_list(m, "records", p.records, put_record);
  if (p.next_after) m.str("next_after", *p.next_after);
}
void put_result(MapOut& m, const CollectionList& l) { put_list(m, "collections", l.collections, put_count); }
void put_result(MapOut& m, const ChangesPage& p) {
  put_list(m, "changes", p.changes, put_change);
  m.str("cursor", version_vector_text(p.cursor));
  m.boolean("more", p.more);
}
void put_result(MapOut& m, const ConflictsPage& p) {
  put_list(m, "open", p.open, put_record);
  put_list(m, "log", p.log, put_log_entry);
  m.uint("last_seq", p.last_seq);
}
void put_result(MapOut& m, const NodeStatus& s) {
  m.str("node_id", node_id_text(s.node_id));
  m.str("name", s.name);
  m.str("cluster", s.cluster);
  m.str("role", s.role);
  m.str("public_key", s.public_key);
  m.str("version", s.version);
  put_vv(m.key("knowledge"), s.knowledge);
  m.uint("counter", s.counter);
  put_hlc(m, s.clock, "hlc", "clock_ms");
  put_list(m, "collections", s.collections, put_count);
  put_list(m, "pending", s.pending, put_pending);
  put_list(m, "syncing", s.syncing, put_peer_sync);
  m.uint("open_conflicts", s.open_conflicts);
  m.uint("uptime_ms", s.uptime_ms);
  m.uint("unreadable_records", s.unreadable_records);
  put_list(m, "unreadable", s.unreadable, put_unreadable);
  m.str("strategies", s.strategies);
  m.uint("max_clock_skew_ms", s.max_clock_skew_ms);
  m.uint("refused_writes_disk_full", s.refused_writes_disk_full);
  m.uint("disk_full_since_ms", s.disk_full_since_ms);
  m.str("disk_full_error", s.disk_full_error);
  m.boolean("postgres", s.postgres);
  m.boolean("postgres_connected", s.postgres_connected);
  m.str("postgres_error", s.postgres_error);
  m.uint("postgres_slot_retained_bytes", s.postgres_slot_retained_bytes);
  m.str("postgres_slot_wal_status", s.postgres_slot_wal_status);
  m.str("grant", s.grant);
  m.boolean("grant_needs_restart", s.grant_needs_restart);
  m.uint("grants", s.grants);
  m.boolean("admin_named", s.admin_named);
  m.str("grant_problems", s.grant_problems);
  m.uint("records_refused", s.records_refused);
  m.uint("config_reloads", s.config_reloads);
  m.str("config_reload_error", s.config_reload_error);
}
void put_result(MapOut& m, const PeerList& l) { put_list(m, "peers", l.peers, put_peer); }
void put_result(MapOut& m, const TrustedKeyList& l) {
  put_list(m, "keys", l.keys, put_trusted);
  put_list(m, "revoked", l.revoked, put_revoked);
}
void put_result(MapOut& m, const PublicKey& k) { m.str("key", k.key); }
void put_result(MapOut& m, const TokenSecret& t) {
  m.str("name", t.name);
  m.str("token", t.token);
}
void put_credential(MapOut& m, const Credential& c) {
  m.str("name", c.name);
  m.uint("created_ms", c.created_ms);
}
void put_result(MapOut& m, const CredentialList& l) { put_list(m, "entries", l.entries, put_credential); }
void put_result(MapOut& m, const DiscoveryReport& r) {
  m.boolean("enabled", r.enabled);
  m.str("off_reason", r.off_reason);
  m.str("state", r.state);
  m.str("published_name", r.published_name);
  m.str("host_name", r.host_name);
  m.boolean("publishing_addresses", r.publishing_addresses);
  m.uint("name_conflicts", r.name_conflicts);
  m.uint("uptime_ms", r.uptime_ms);
  m.uint("static_peers", r.static_peers);
  put_list(m, "interfaces", r.interfaces, put_interface);
  put_list(m, "peers", r.peers, put_discovered);
  put_list(m, "refused", r.refused, put_refusal);
  put_list(m, "reconfirmed", r.reconfirmed, put_reconfirm);
}

bool get_result(MapIn&, Done&) { return true; }
bool get_result(MapIn& in, WriteResult& r) { return get_dot(in, "dot", r.dot, true) && in.uint("hlc", r.updated_at); }
bool get_result(MapIn& in, RecordView& r) { return get_record(in, r); }
bool get_result(MapIn& in, ListPage& p) {
  if (!get_list(in, "records", p.records, get_record)) return false;
  if (in.has("next_after")) {
    std::string next;
    if (!in.str("next_after", next)) return false;
    p.next_after = std::move(next);
  }
  return true;
}
bool get_result(MapIn& in, CollectionList& l) { return get_list(in, "collections", l.collections, get_count); }
bool get_result(MapIn& in, ChangesPage& p) {
  std::string cursor;
  if (!get_list(in, "changes", p.changes, get_change) || !in.str("cursor", cursor) || !in.boolean("more", p.more)) {
    return false;
  }
  auto parsed = parse_version_vector(cursor);
  if (!parsed) return in.fail(in.what() + ": 'cursor' does not parse");
  p.cursor = *parsed;
  return true;
}
bool get_result(MapIn& in, ConflictsPage& p) {
  return get_list(in, "open", p.open, get_record) && get_list(in, "log", p.log, get_log_entry) &&
         in.uint("last_seq", p.last_seq);
}
bool get_result(MapIn& in, NodeStatus& s) {
  return get_node_id(in, "node_id", s.node_id, false) && in.str("name", s.name) && in.str("cluster", s.cluster) &&
         in.str("role", s.role) && in.str("public_key", s.public_key) && in.str("version", s.version) &&
         get_vv(in, "knowledge", s.knowledge) && in.uint("counter", s.counter) && in.uint("hlc", s.clock) &&
         get_list(in, "collections", s.collections, get_count) && get_list(in, "pending", s.pending, get_pending) &&
         get_list(in, "syncing", s.syncing, get_peer_sync) && in.uint("open_conflicts", s.open_conflicts) && in.uint("uptime_ms", s.uptime_ms) &&
         in.uint("unreadable_records", s.unreadable_records) && get_list(in, "unreadable", s.unreadable, get_unreadable) &&
         in.str("strategies", s.strategies) &&
         in.uint("max_clock_skew_ms", s.max_clock_skew_ms) &&
         in.uint("refused_writes_disk_full", s.refused_writes_disk_full) &&
         in.uint("disk_full_since_ms", s.disk_full_since_ms) && in.str("disk_full_error", s.disk_full_error) &&
         in.boolean("postgres", s.postgres) && in.boolean("postgres_connected", s.postgres_connected) &&
         in.str("postgres_error", s.postgres_error) &&
         in.uint("postgres_slot_retained_bytes", s.postgres_slot_retained_bytes) &&
         in.str("postgres_slot_wal_status", s.postgres_slot_wal_status) && in.str("grant", s.grant) &&
         in.boolean("grant_needs_restart", s.grant_needs_restart) && in.uint("grants", s.grants) &&
         in.boolean("admin_named", s.admin_named) && in.str("grant_problems", s.grant_problems) && in.uint("records_refused", s.records_refused) &&
         in.uint("config_reloads", s.config_reloads) && in.str("config_reload_error", s.config_reload_error);
}
bool get_result(MapIn& in, PeerList& l) { return get_list(in, "peers", l.peers, get_peer); }
bool get_result(MapIn& in, TrustedKeyList& l) {
  return get_list(in, "keys", l.keys, get_trusted) && get_list(in, "revoked", l.revoked, get_revoked);
}
bool get_result(MapIn& in, PublicKey& k) { return in.str("key", k.key, true); }
bool get_result(MapIn& in, TokenSecret& t) { return in.str("name", t.name, true) && in.str("token", t.token, true); }
bool get_credential(MapIn& in, Credential& c) {
  return in.str("name", c.name, true) && in.uint("created_ms", c.created_ms) && in.str("scope", c.scope);
}
bool get_result(MapIn& in, CredentialList& l) { return get_list(in, "entries", l.entries, get_credential); }
bool get_result(MapIn& in, DiscoveryReport& r) {
  return in.boolean("enabled", r.enabled, true) && in.str("off_reason", r.off_reason) && in.str("state", r.state) &&
         in.str("published_name", r.published_name) && in.str("host_name", r.host_name) &&
         in.boolean("publishing_addresses", r.publishing_addresses) && in.uint("name_conflicts", r.name_conflicts) &&
         in.uint("uptime_ms", r.uptime_ms) && in.u32("static_peers", r.static_peers) &&
         get_list(in, "interfaces", r.interfaces, get_interface) && get_list(in, "peers", r.peers, get_discovered) &&
         get_list(in, "refused", r.refused, get_refusal) && get_list(in, "reconfirmed", r.reconfirmed, get_reconfirm);
}

// The result type each operation answers with.
ResponseBody empty_result(Op op) {
  switch (op) {
    case Op::put:
    case Op::remove:
    case Op::resolve: return WriteResult{};
    case Op::get: return RecordView{};
    case Op::list: return ListPage{};
    case Op::collections: return CollectionList{};
    case Op::changes: return ChangesPage{};
    case Op::conflicts: return ConflictsPage{};
    case Op::status: return NodeStatus{};
    case Op::peers: return PeerList{};
    case Op::trust_list: return TrustedKeyList{};
    case Op::key: return PublicKey{};
    case Op::discovery: return DiscoveryReport{};
    case Op::token_create: return TokenSecret{};
    case Op::token_list: return CredentialList{};
    case Op::trust_add:
    case Op::trust_remove:
    case Op::forget_peer:
    case Op::token_revoke: return Done{};
  }
  return Done{};
}

void put_header(MapOut& m, std::optional<std::uint64_t> req_id) {
  m.uint("v", kApiVersion);
  if (req_id) m.uint("req_id", *req_id);
}

}  // namespace

std::string encode_request(const Request& request) {
  MapOut m;
  put_header(m, request.req_id);
  m.str("op", to_string(op_of(request.body)));
  if (!request.auth.empty()) m.str("auth", request.auth);
  std::visit([&](const auto& args) { put_args(m, args); }, request.body);
  return m.finish();
}

DecodedRequest decode_request(std::string_view bytes) {
  DecodedRequest out;
  MapIn in;
  if (!in.parse(bytes, kMaxMessageDepth, "request")) {
    out.status = Status::protocol(in.error());
    return out;
  }
  std::uint64_t req_id = 0;
  if (in.has("req_id") && in.uint("req_id", req_id)) out.req_id = req_id;
  std::string op_name;
  if (in.str("op", op_name, true)) out.op = parse_op(op_name);
  std::uint64_t version = 0;
  if (!in.uint("v", version, true)) {
    out.status = Status::protocol(in.error());
    return out;
  }
  if (version != kApiVersion) {
    out.status = Status::protocol("request of API version " + std::to_string(version) + "; this node speaks version " +
                                  std::to_string(kApiVersion));
    return out;
  }
  if (!in.ok()) {
    out.status = Status::protocol(in.error());
    return out;
  }
  if (!out.op) {
    out.status = Status::invalid("unknown operation '" + op_name + "'");
    return out;
  }
  if (!in.str("auth", out.auth)) {
    out.status = Status::invalid(in.error());
    return out;
  }
  if (!decode_args(*out.op, in, out.body)) out.status = Status::invalid(in.error());
  return out;
}

std::string encode_response(std::optional<std::uint64_t> req_id, Op op, const ResponseBody& body) {
  MapOut m;
  put_header(m, req_id);
  m.str("op", to_string(op));
  m.boolean("ok", true);
  MapOut result;
  std::visit([&](const auto& r) { put_result(result, r); }, body);
  result.finish(m.key("result"));
  return m.finish();
}

std::string encode_error(std::optional<std::uint64_t> req_id, std::optional<Op> op, const Status& error) {
  MapOut m;
  put_header(m, req_id);
  if (op) m.str("op", to_string(*op));
  m.boolean("ok", false);
  MapOut e;
  e.str("code", errc_name(error.code()));
  e.str("message", error.message());
  e.finish(m.key("error"));
  return m.finish();
}

Result<Response> decode_response(std::string_view bytes) {
  MapIn in;
  if (!in.parse(bytes, kMaxMessageDepth, "response")) return Status::protocol(in.error());
  Response out;
  std::uint64_t version = 0;
  std::uint64_t req_id = 0;
  std::string op_name;
  bool ok = false;
  if (!in.uint("v", version, true) || !in.uint("req_id", req_id) || !in.str("op", op_name) ||
      !in.boolean("ok", ok, true)) {
    return Status::protocol(in.error());
  }
  if (version != kApiVersion) {
    return Status::protocol("answer of API version " + std::to_string(version) + "; this client reads version " +
                            std::to_string(kApiVersion));
  }
  if (in.has("req_id")) out.req_id = req_id;
  auto op = parse_op(op_name);
  if (op) out.op = *op;
  if (!ok) {
    MapIn e;
    std::string code_name, message;
    if (!in.map("error", e, true) || !e.str("code", code_name, true) || !e.str("message", message)) {
      return Status::protocol(in.ok() ? e.error() : in.error());
    }
    auto code = parse_errc(code_name);
    if (!code || *code == Errc::ok) {
      out.error = Status::io_error("the node answered with an unknown error '" + code_name + "': " + message);
    } else {
      out.error = Status(*code, message);
    }
    return out;
  }
  if (!op) return Status::protocol("answer for unknown operation '" + op_name + "'");
  MapIn result;
  if (!in.map("result", result, true)) return Status::protocol(in.error());
  out.body = empty_result(*op);
  bool good = std::visit([&](auto& r) { return get_result(result, r); }, out.body);
  if (!good) return Status::protocol(result.error());
  return out;
}

}  // namespace shopsync::api
