#include "tests/node/peering/peering_sim.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "node/log.h"
#include "node/peering/peering.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/memory_store.h"
#include "tests/node/peering/write_ledger.h"
#include "tests/replication/support/store_copy.h"
#include "tests/replication/support/values.h"

namespace shopsync::peering_sim {

void SimStats::add(const SimStats& o) {
  frames += o.frames;
  dropped += o.dropped;
  duplicated += o.duplicated;
  restarts += o.restarts;
  partitions += o.partitions;
  revocations += o.revocations;
  clock_steps += o.clock_steps;
  restores += o.restores;
  writes_discarded += o.writes_discarded;
  strategy_changes += o.strategy_changes;
  leaves += o.leaves;
  address_changes += o.address_changes;
  dials += o.dials;
  records_sent += o.records_sent;
}

namespace {

constexpr std::uint64_t kEpoch = 1'700'000'000'000;  // simulated wall time starts here
constexpr std::uint64_t kStepMs = 10;                // the simulation's resolution
constexpr std::uint16_t kPort = 7460;
constexpr std::uint64_t kMaxClockSkewMs = 5000;
constexpr int kKeys = 4;
// A session between nodes whose strategy tables differ ends on both sides
// within this long: the ERROR that ends it, or the silence after it.
constexpr std::uint64_t kStrategyGraceMs = 3000;
constexpr std::uint64_t kMdnsTtlMs = 3000;  // records of a node gone without a goodbye expire

std::string host_of(int node) { return "n" + std::to_string(node); }

// The tables nodes switch between: the conflict strategy of the collection
// written changes the winner of its concurrent writes.
StrategyTable table_of(int which) {
  StrategyTable t;
  if (which == 1) t.collections["nw"] = StrategyKind::merge;
  if (which == 2) t.collections["nw"] = StrategyKind::manual;
  return t;
}
constexpr int kTables = 3;

class Sim;

// One dial: a connection from `dialer` to `listener`, in order both ways.
struct Conn {
  int dialer = 0;
  std::uint64_t dialer_link = 0;
  int listener = 0;              // -1: no node has the address dialed (no answer)
  std::string key;               // the dialer's: what the listener authenticates
  bool keys_match = false;       // the dialer pinned the listener's real key
  std::uint64_t listener_link = 0;  // 0: none yet (made by the first frame that arrives)
  bool dead = false;             // the dialer closed it, or its process ended
  std::uint64_t last_at[2] = {0, 0};  // per direction: frames never overtake each other
};

struct Frame {
  std::size_t conn = 0;
  bool to_listener = true;
  std::string bytes;
};

struct SimNode final : peering::Io {
  SimNode(Sim& s, int i) : sim(s), index(i) {}
  Status dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) override;
  Sent send(std::uint64_t link, std::string_view frame) override;
  void close(std::uint64_t link, bool end_connection) override;
  bool is_trusted(std::string_view k) override { return trusted.count(std::string(k)) != 0; }
  std::vector<std::string> trusted_keys() override { return {trusted.begin(), trusted.end()}; }

  Sim& sim;
  int index;
  std::string key;
  NodeId id = 0;
  std::string host;              // its address now
  std::unique_ptr<MemoryStore> store = std::make_unique<MemoryStore>();
  std::unique_ptr<MemoryStore> backup;  // a copy of its data directory, taken a while ago
  int table = 0;                 // its strategy table (table_of)
  bool deaf = false;             // drops inbound mDNS: it is found, and finds no one
  bool gone = false;             // left the LAN for good
  std::uint64_t away_until = 0;  // off the LAN until then (0: on it)
  int epoch = 0;                 // one more at each leave and return: stale mDNS expiries are ignored
  ManualClock wall;
  ManualClock mono;
  std::int64_t wall_offset = 0;
  std::uint64_t ticked_ms = 0;  // when its timers last ran
  std::set<std::string> trusted;
  std::unique_ptr<Replica> replica;
  peering::QueuedOutbox outbox;
  std::unique_ptr<Peering> peering;
  std::map<std::uint64_t, std::size_t> conns;  // link id -> connection
};

// What the fake mDNS tells `observer` of `subject`: found at `host`, or lost
// ("").
struct MdnsEvent {
  int observer = 0;
  int subject = 0;
  std::string host;
  int epoch = 0;        // the subject's, when the event was made
  bool expiry = false;  // its records expire: only if it did not come back since
};

class Sim {
 public:
  explicit Sim(const SimConfig& config)
      : config_(config), rng_(config.seed), writer_ids_(config.seed ^ 0x9e3779b97f4a7c15ULL) {}
  SimResult run();

  Status dial(SimNode& from, std::uint64_t link, const PeerAddress& address, const std::string& key);
  peering::Io::Sent send(SimNode& from, std::uint64_t link, std::string_view bytes);
  void close(SimNode& from, std::uint64_t link);

 private:
  peering::Now now_of(SimNode& n) {
    n.mono.set(now_);
    n.wall.set(static_cast<std::uint64_t>(static_cast<std::int64_t>(kEpoch + now_) + n.wall_offset));
    return peering::Now{now_, n.wall.now_ms()};
  }
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  void fail(const std::string& why) {
    if (result_.ok) {
      result_.ok = false;
      result_.failure = "at " + std::to_string(now_) + " ms: " + why;
    }
  }
  bool cut(int a, int b) const {
    return cut_.count({std::min(a, b), std::max(a, b)}) != 0 || nodes_[static_cast<std::size_t>(a)]->gone ||
           nodes_[static_cast<std::size_t>(b)]->gone;
  }

  void start(SimNode& n);
  void crash(SimNode& n);  // the process ends
  void restart(SimNode& n);
  void restore(SimNode& n);
  void back_up(SimNode& n);
  void deliver(const Frame& frame);
  void write(SimNode& n);
  void faults();
  void step(bool faulty);
  void give_back_trust(SimNode& n, const std::string& key);
  void change_strategies(SimNode& n, int table);
  void check_strategy_sessions();
  // The fake mDNS: what each node hears, after `delay`.
  void announce(int subject, int observer, std::uint64_t delay);
  void lose(int subject, int observer, std::uint64_t delay, bool expiry);
  void hear_mdns();
  void leave(SimNode& n, bool for_good);
  void come_back(SimNode& n);
  bool on_lan(const SimNode& n) const { return !n.gone && n.away_until == 0; }
  std::string check_departed_not_dialed();
  std::map<NodeId, std::uint64_t> session_links(SimNode& n) const;
  int index_of(NodeId id) const;
  // "" when every node shows the same records and is connected to every other.
  std::string disagreement();
  // "" when no node believes a peer knows more than the peer holds.
  std::string overclaimed();
  WriteLedger::Lookup lookup_in(MemoryStore& store);
  std::vector<WriteLedger::Lookup> kept_stores();  // of the nodes not gone

  SimConfig config_;
  std::mt19937_64 rng_;
  std::mt19937_64 writer_ids_;  // drawn at every open, as the daemon does (apart from rng_)
  SimResult result_;
  std::uint64_t now_ = 0;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<Conn> conns_;
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, Frame> in_flight_;  // (due, seq)
  std::uint64_t seq_ = 0;
  std::map<std::pair<int, int>, std::uint64_t> cut_;  // partitioned pairs, until
  std::map<std::pair<int, std::string>, std::uint64_t> revoked_;  // (node, key) -> given back at
  std::vector<std::map<NodeId, std::uint64_t>> steady_sessions_;  // clock-step profile
  WriteLedger ledger_;
  std::map<std::pair<int, int>, std::uint64_t> disagreeing_since_;  // (node, peer) in a session, tables differing
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, MdnsEvent> mdns_;  // (due, seq)
  int departed_ = -1;                 // the node gone for good
  std::set<std::string> departed_hosts_;
  std::uint64_t watch_dials_from_ = ~std::uint64_t{0};  // dials to the departed from then on fail
  std::uint64_t departs_at_ = ~std::uint64_t{0};
  std::uint64_t steps_from_ = 0;  // faults start then
};

Status SimNode::dial(std::uint64_t link, const PeerAddress& address, const std::string& k, bool retry) {
  (void)retry;
  return sim.dial(*this, link, address, k);
}
peering::Io::Sent SimNode::send(std::uint64_t link, std::string_view frame) { return sim.send(*this, link, frame); }
void SimNode::close(std::uint64_t link, bool end_connection) {
  (void)end_connection;  // the next frame on it meets the trust check again either way
  sim.close(*this, link);
}

Status Sim::dial(SimNode& from, std::uint64_t link, const PeerAddress& address, const std::string& key) {
  ++result_.stats.dials;
  if (!from.trusted.count(key)) fail(host_of(from.index) + " dialed with key " + key + ", which it does not trust");
  if (now_ >= watch_dials_from_ && departed_hosts_.count(address.host)) {
    fail(host_of(from.index) + " still dials " + address.host + ", the address of a node that left the LAN " +
         std::to_string(peering::kForgetDiscoveredMs / 1000) + " s ago");
  }
  int to = -1;
  for (const auto& n : nodes_) {
    if (n->host == address.host && !n->gone) to = n->index;
  }
  Conn c;
  c.dialer = from.index;
  c.dialer_link = link;
  c.listener = to;
  c.key = from.key;
  c.keys_match = to >= 0 && key == nodes_[static_cast<std::size_t>(to)]->key;
  conns_.push_back(c);
  from.conns[link] = conns_.size() - 1;
  return Status::ok();
}

peering::Io::Sent Sim::send(SimNode& from, std::uint64_t link, std::string_view bytes) {
  auto it = from.conns.find(link);
  if (it == from.conns.end()) return peering::Io::Sent::failed;
  Conn& c = conns_[it->second];
  const bool to_listener = c.dialer == from.index && c.dialer_link == link;
  if (c.dead) return peering::Io::Sent::failed;
  // No one at the address, or the handshake never completes: queued for ever.
  if (!c.keys_match) return peering::Io::Sent::ok;
  ++result_.stats.frames;
  if (cut(c.dialer, c.listener) || chance(config_.drop)) {
    ++result_.stats.dropped;
    return peering::Io::Sent::ok;
  }
  const int dir = to_listener ? 0 : 1;
  const std::uint64_t due = std::max(now_ + 1 + below(config_.max_delay_ms + 1), c.last_at[dir]);
  c.last_at[dir] = due;
  const int copies = chance(config_.duplicate) ? 2 : 1;
  if (copies == 2) ++result_.stats.duplicated;
  for (int i = 0; i < copies; ++i) {
    in_flight_.emplace(std::make_pair(due, seq_++), Frame{it->second, to_listener, std::string(bytes)});
  }
  return peering::Io::Sent::ok;
}

void Sim::close(SimNode& from, std::uint64_t link) {
  auto it = from.conns.find(link);
  if (it == from.conns.end()) return;
  Conn& c = conns_[it->second];
  from.conns.erase(it);
  if (c.dialer == from.index && c.dialer_link == link) {
    c.dead = true;
  } else {
    c.listener_link = 0;  // the dialer's next frame arrives as a new link, as on a ROUTER
  }
}

void Sim::deliver(const Frame& f) {
  Conn& c = conns_[f.conn];
  if (c.dead || cut(c.dialer, c.listener)) return;
  SimNode& to = *nodes_[static_cast<std::size_t>(f.to_listener ? c.listener : c.dialer)];
  const std::string& sender_key = f.to_listener ? c.key : nodes_[static_cast<std::size_t>(c.listener)]->key;
  std::uint64_t link = c.dialer_link;
  if (f.to_listener) {
    if (c.listener_link == 0) {
      // ZAP's key check is Peering's too: a key revoked since gets no link.
      c.listener_link = to.peering->inbound_link(c.key, now_of(to));
      if (c.listener_link == 0) return;
      to.conns[c.listener_link] = f.conn;
      to.peering->note_address(c.listener_link, nodes_[static_cast<std::size_t>(c.dialer)]->host);
    }
    link = c.listener_link;
  }
  const bool revoked = !to.trusted.count(sender_key);
  const VersionVector before = to.replica->knowledge();
  to.peering->frame(link, f.bytes, now_of(to));
  if (revoked && !(to.replica->knowledge() == before)) {
    fail(host_of(to.index) + " took records on a link whose key (" + sender_key + ") it revoked");
  }
}

void Sim::start(SimNode& n) {
  ReplicaOptions options;
  options.cluster = "sim";
  options.node_id = n.id;
  options.timers = &n.mono;
  options.max_clock_offset_ms = kMaxClockSkewMs;
  options.draw_writer_id = [this] { return NodeId{writer_ids_()}; };
  const StrategyTable table = table_of(n.table);
  options.strategies = table.collections;
  options.default_strategy = table.default_kind;
  options.tolerance_ms = table.tolerance_ms;
  now_of(n);
  auto replica = Replica::open(*n.store, n.wall, options);
  if (!replica) return fail("opening the replica of " + host_of(n.index) + ": " + replica.status().to_string());
  n.replica = std::move(*replica);
  peering::Options rules;
  rules.cluster = "sim";
  rules.name = host_of(n.index);
  rules.own_key = n.key;
  rules.listen_port = kPort;
  rules.incarnation = rng_() | 1;
  rules.heartbeat_ms = 200;
  rules.peer_timeout_ms = 1000;
  rules.max_clock_skew_ms = kMaxClockSkewMs;
  rules.seed = rng_();
  rules.strategies = table;
  n.peering = std::make_unique<Peering>(std::move(rules), *n.replica, n.outbox, n);
  for (const auto& other : nodes_) {
    if (other->index == n.index) continue;
    if (!config_.discovery) {
      n.peering->add_target(PeerAddress{other->host, kPort, other->key}, PeerSource::static_peer, now_of(n));
    } else if (on_lan(*other)) {
      announce(other->index, n.index, below(2000));  // its mDNS browses the LAN
    }
  }
}

void Sim::crash(SimNode& n) {
  // Its dials die, dials to it reconnect on their own, and nothing in flight
  // to or from it arrives.
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    const Conn& c = conns_[it->second.conn];
    it = (c.dialer == n.index || c.listener == n.index) ? in_flight_.erase(it) : std::next(it);
  }
  for (auto& c : conns_) {
    if (c.dialer == n.index) c.dead = true;
    if (c.listener == n.index) c.listener_link = 0;
  }
  n.conns.clear();
  n.peering.reset();
  n.replica.reset();
  n.outbox.queue.clear();
}

void Sim::restart(SimNode& n) {
  ++result_.stats.restarts;
  crash(n);
  start(n);
}

void Sim::back_up(SimNode& n) {
  auto copy = test::copy_store(*n.store);
  if (!copy) return fail("backing up " + host_of(n.index) + ": " + copy.status().to_string());
  n.backup = std::move(*copy);
}

std::vector<WriteLedger::Lookup> Sim::kept_stores() {
  std::vector<WriteLedger::Lookup> kept;
  for (auto& n : nodes_) {
    if (!n->gone) kept.push_back(lookup_in(*n->store));
  }
  return kept;
}

WriteLedger::Lookup Sim::lookup_in(MemoryStore& store) {
  return [this, &store](const RecordKey& key) {
    std::optional<RecordState> out;
    Status s = store.read([&](StoreReader& r) -> Status {
      auto state = r.record(key);
      if (!state) return state.status();
      out = std::move(*state);
      return Status::ok();
    });
    if (!s) fail("reading " + key.id + ": " + s.to_string());
    return out;
  };
}

// The node stops and starts again on its last backup: what it wrote or took
// in since is gone from it. Writes no other store has seen are lost for good
// (docs/replication.md, "What a restore loses"); the ledger counts them out.
void Sim::restore(SimNode& n) {
  if (!n.backup) return;
  ++result_.stats.restores;
  crash(n);
  auto copy = test::copy_store(*n.backup);
  if (!copy) return fail("restoring " + host_of(n.index) + ": " + copy.status().to_string());
  n.store = std::move(*copy);
  result_.stats.writes_discarded += ledger_.drop_store(kept_stores());
  start(n);
}

void Sim::write(SimNode& n) {
  const RecordKey key{"nw", "k" + std::to_string(below(kKeys))};
  const std::string value = host_of(n.index) + "@" + std::to_string(now_);
  now_of(n);
  auto before = n.replica->get(key);
  if (!before) return fail("a read on " + host_of(n.index) + " failed: " + before.status().to_string());
  const bool live = before->has_value() && !(*before)->visible.deleted;
  const bool remove = live && chance(config_.delete_share);
  auto r = remove ? n.replica->remove(key, n.outbox)
                  : n.replica->put(key, test::fields({{"v", test::packed(value)}}), n.outbox);
  if (!r) return fail("a write on " + host_of(n.index) + " failed: " + r.status().to_string());
  WriteLedger::Write w{key, Dot{}, before->has_value() ? (*before)->context : VersionVector{}, remove};
  for (const Version& v : r->siblings) {
    if (!w.superseded.covers(v.dot)) w.dot = v.dot;
  }
  ledger_.add(std::move(w));
  n.peering->flush(now_of(n));
}

void Sim::change_strategies(SimNode& n, int table) {
  ++result_.stats.strategy_changes;
  n.table = table;
  StrategyTable t = table_of(table);
  n.replica->set_strategies(t.collections, t.default_kind, t.tolerance_ms);
  n.peering->strategies_changed(std::move(t), now_of(n));
}

// No two nodes whose tables differ keep a session: it ends on both sides
// within kStrategyGraceMs (the ERROR on its way, or a silence after a lost one).
void Sim::check_strategy_sessions() {
  std::map<std::pair<int, int>, std::uint64_t> now_disagreeing;
  for (auto& n : nodes_) {
    if (n->gone) continue;
    for (const auto& [peer, session] : n->peering->sessions()) {
      const int p = index_of(peer);
      if (p < 0 || nodes_[static_cast<std::size_t>(p)]->table == n->table) continue;
      const auto pair = std::make_pair(n->index, p);
      auto it = disagreeing_since_.find(pair);
      const std::uint64_t since = it == disagreeing_since_.end() ? now_ : it->second;
      now_disagreeing[pair] = since;
      if (now_ - since > kStrategyGraceMs) {
        fail(host_of(n->index) + " (strategies '" + to_text(table_of(n->table)) + "') keeps its session with " +
             host_of(p) + " (strategies '" + to_text(table_of(nodes_[static_cast<std::size_t>(p)]->table)) +
             "') " + std::to_string(now_ - since) + " ms after their tables came to differ");
      }
    }
  }
  disagreeing_since_ = std::move(now_disagreeing);
}

// ---- the fake mDNS ----------------------------------------------------------

void Sim::announce(int subject, int observer, std::uint64_t delay) {
  const SimNode& s = *nodes_[static_cast<std::size_t>(subject)];
  mdns_.emplace(std::make_pair(now_ + delay, seq_++), MdnsEvent{observer, subject, s.host, s.epoch, false});
}

void Sim::lose(int subject, int observer, std::uint64_t delay, bool expiry) {
  const SimNode& s = *nodes_[static_cast<std::size_t>(subject)];
  mdns_.emplace(std::make_pair(now_ + delay, seq_++), MdnsEvent{observer, subject, "", s.epoch, expiry});
}

void Sim::hear_mdns() {
  while (!mdns_.empty() && mdns_.begin()->first.first <= now_) {
    const MdnsEvent e = mdns_.begin()->second;
    mdns_.erase(mdns_.begin());
    SimNode& o = *nodes_[static_cast<std::size_t>(e.observer)];
    const SimNode& s = *nodes_[static_cast<std::size_t>(e.subject)];
    if (o.gone || o.deaf) continue;
    if (!e.expiry && e.epoch != s.epoch) continue;  // it left or came back since: events of then follow
    if (e.host.empty()) {
      // A cache expires on or off the LAN; an expiry is void if the subject
      // announced itself again since.
      if (e.expiry && e.epoch != s.epoch) continue;
      o.peering->discovered(s.id, nullptr, now_of(o));
      continue;
    }
    if (!on_lan(o)) continue;  // it browses again when it is back
    peering::Discovered d;
    d.name = host_of(s.index);
    d.address = PeerAddress{e.host, kPort, s.key};
    d.shown = e.host;
    d.interface_name = "eth0";
    d.protocol = wire::kProtocolMax;
    o.peering->discovered(s.id, &d, now_of(o));
  }
}

// `n` leaves the LAN (back in 2-6 s, unless `for_good`): with an mDNS
// goodbye, which the others hear at once, or without one (cable pulled,
// power cut), and its records expire at the others after a TTL.
void Sim::leave(SimNode& n, bool for_good) {
  ++result_.stats.leaves;
  ++n.epoch;
  const bool goodbye = chance(0.5);
  for (auto& o : nodes_) {
    if (o->index == n.index) continue;
    lose(n.index, o->index, goodbye ? below(200) : kMdnsTtlMs + below(500), !goodbye);
    if (goodbye) lose(o->index, n.index, 0, false);  // its interface went down: its cache is emptied
  }
  if (for_good) {
    departed_ = n.index;
    n.gone = true;
    departed_hosts_.insert(n.host);
    n.away_until = 0;
    crash(n);
    result_.stats.writes_discarded += ledger_.drop_store(kept_stores());
    return;
  }
  n.away_until = now_ + 2000 + below(4000);
}

// Back on the LAN, at the same address or (half the time) a new one, which
// ends its connections: it announces itself, and browses.
void Sim::come_back(SimNode& n) {
  n.away_until = 0;
  ++n.epoch;
  if (chance(0.5)) {
    ++result_.stats.address_changes;
    if (n.index == departed_) departed_hosts_.insert(n.host);
    n.host = host_of(n.index) + "-" + std::to_string(result_.stats.address_changes);
    for (auto& c : conns_) {
      if (c.dialer == n.index || c.listener == n.index) c.dead = true;
    }
  }
  for (auto& o : nodes_) {
    if (o->index == n.index || !on_lan(*o)) continue;
    announce(n.index, o->index, below(1000));
    announce(o->index, n.index, below(1000));
  }
}

void Sim::give_back_trust(SimNode& n, const std::string& key) {
  if (n.gone) return;
  n.trusted.insert(key);
  n.peering->key_trusted(key, now_of(n));
}

void Sim::faults() {
  const int count = static_cast<int>(nodes_.size());
  SimNode& n = *nodes_[below(nodes_.size())];
  if (chance(config_.partition_rate)) {
    ++result_.stats.partitions;
    for (int other = 0; other < count; ++other) {
      if (other != n.index) cut_[{std::min(n.index, other), std::max(n.index, other)}] = now_ + 2000 + below(4000);
    }
  }
  if (SimNode& r = *nodes_[below(nodes_.size())]; chance(config_.restart_rate) && !r.gone) restart(r);
  if (SimNode& r = *nodes_[below(nodes_.size())]; chance(config_.restore_rate) && !r.gone) restore(r);
  if (config_.restore_rate > 0 && chance(0.3)) back_up(*nodes_[below(nodes_.size())]);
  if (SimNode& c = *nodes_[below(nodes_.size())]; chance(config_.strategy_change_rate) && !c.gone) {
    change_strategies(c, (c.table + 1 + static_cast<int>(below(kTables - 1))) % kTables);
  }
  if (SimNode& l = *nodes_[below(nodes_.size())]; chance(config_.leave_rate) && on_lan(l)) leave(l, false);
  if (chance(config_.revoke_rate)) {
    SimNode& peer = *nodes_[below(nodes_.size())];
    if (peer.index != n.index && n.trusted.count(peer.key) && !n.gone) {
      ++result_.stats.revocations;
      n.trusted.erase(peer.key);
      n.peering->key_untrusted(peer.key, now_of(n));
      revoked_[{n.index, peer.key}] = now_ + 2000 + below(6000);
    }
  }
  if (chance(config_.clock_step_rate)) {
    ++result_.stats.clock_steps;
    const auto span = static_cast<std::uint64_t>(config_.max_clock_step_ms);
    SimNode& s = *nodes_[below(nodes_.size())];
    s.wall_offset += static_cast<std::int64_t>(below(2 * span + 1)) - static_cast<std::int64_t>(span);
  }
}

std::map<NodeId, std::uint64_t> Sim::session_links(SimNode& n) const {
  std::map<NodeId, std::uint64_t> out;
  for (const auto& [peer, session] : n.peering->sessions()) out[peer] = session->link;
  return out;
}

int Sim::index_of(NodeId id) const {
  for (const auto& n : nodes_) {
    if (n->id == id) return n->index;
  }
  return -1;
}

std::string Sim::disagreement() {
  std::size_t present = 0;
  for (const auto& n : nodes_) present += n->gone ? 0 : 1;
  const SimNode* first_node = nullptr;
  for (auto& n : nodes_) {
    if (n->gone) continue;
    if (n->peering->connected_count() + 1 != present) {
      return host_of(n->index) + " has " + std::to_string(n->peering->connected_count()) + " sessions";
    }
    if (first_node == nullptr) first_node = n.get();
  }
  for (int k = 0; k < kKeys; ++k) {
    const RecordKey key{"nw", "k" + std::to_string(k)};
    std::optional<VisibleRecord> first;
    for (auto& n : nodes_) {
      if (n->gone) continue;
      auto r = n->replica->get(key);
      if (!r) return "reading " + key.id + " on " + host_of(n->index) + ": " + r.status().to_string();
      std::optional<VisibleRecord> shown = *r;
      if (n.get() == first_node) {
        first = shown;
      } else if (first.has_value() != shown.has_value() ||
                 (first && (first->siblings != shown->siblings || first->visible.fields != shown->visible.fields))) {
        return key.id + " differs between " + host_of(first_node->index) + " and " + host_of(n->index);
      }
    }
  }
  return {};
}

// What a peer said of its knowledge is what it holds: its HELLO replaces an
// older claim (a peer restored from an older copy knows less than it said).
std::string Sim::overclaimed() {
  for (auto& n : nodes_) {
    if (n->gone) continue;
    for (const auto& st : n->replica->peers()) {
      const int p = index_of(st.id);
      if (p < 0 || nodes_[static_cast<std::size_t>(p)]->gone) continue;
      if (!nodes_[static_cast<std::size_t>(p)]->replica->knowledge().covers(st.knowledge)) {
        return host_of(n->index) + " believes " + host_of(p) + " knows writes it does not hold";
      }
    }
  }
  return {};
}

// Once a node has left the LAN for good, every node that heard it go stops
// dialing it when the window of kForgetDiscoveredMs is over: time jumps past
// it (the nodes' links end by silence and they redial each other), and no
// dial may go to its addresses for some seconds after. A node that hears no
// mDNS too: it dials back at the address a peer came from only as long.
std::string Sim::check_departed_not_dialed() {
  // Its records expire everywhere first (the TTL may not be over yet).
  for (; !mdns_.empty() && result_.ok; now_ += kStepMs) step(false);
  now_ += peering::kForgetDiscoveredMs;
  watch_dials_from_ = now_;
  for (int i = 0; i < 500 && result_.ok; ++i, now_ += kStepMs) step(false);
  if (!result_.ok) return {};
  const NodeId gone = nodes_[static_cast<std::size_t>(departed_)]->id;
  for (auto& n : nodes_) {
    if (n->gone || n->deaf) continue;
    for (const auto& [id, t] : n->peering->targets()) {
      if (t->peer == gone) return host_of(n->index) + " keeps a target for the departed " + host_of(departed_);
    }
  }
  return {};
}

// One step of kStepMs: frames and mDNS events due, committed as the node's
// loop does after each turn; timers; then writes and faults.
void Sim::step(bool faulty) {
  std::set<int> received;
  while (!in_flight_.empty() && in_flight_.begin()->first.first <= now_ && result_.ok) {
    Frame f = std::move(in_flight_.begin()->second);
    in_flight_.erase(in_flight_.begin());
    const Conn& c = conns_[f.conn];
    received.insert(f.to_listener ? c.listener : c.dialer);
    deliver(f);
  }
  for (int i : received) {
    SimNode& n = *nodes_[static_cast<std::size_t>(i)];
    if (!n.replica) continue;
    if (Status s = n.replica->commit_queued(n.outbox); !s) fail("committing on " + host_of(i) + ": " + s.to_string());
    n.peering->flush(now_of(n));
  }
  hear_mdns();
  for (auto& n : nodes_) {
    // As the node's loop (node.cc): asleep until Peering's next deadline.
    if (!n->gone && now_ >= n->peering->next_deadline(n->ticked_ms)) {
      n->peering->tick(now_of(*n));
      n->ticked_ms = now_;
    }
  }
  for (auto& n : nodes_) {
    if (n->away_until != 0 && (!faulty || now_ >= n->away_until)) come_back(*n);
  }
  if (config_.strategy_change_rate > 0) check_strategy_sessions();
  if (!faulty) return;
  const double write_chance = static_cast<double>(config_.writes) * kStepMs / static_cast<double>(config_.fault_ms);
  if (SimNode& w = *nodes_[below(nodes_.size())]; chance(write_chance) && !w.gone) write(w);
  if (now_ >= steps_from_ && now_ % 1000 == 0) faults();
  if (now_ == departs_at_) leave(*nodes_.back(), true);
}

SimResult Sim::run() {
  log::set_threshold(log::Level::error);
  for (int i = 0; i < config_.nodes; ++i) {
    auto n = std::make_unique<SimNode>(*this, i);
    n->key = "key-" + std::to_string(i);
    n->id = (rng_() >> 1) | 1;
    n->host = host_of(i);
    nodes_.push_back(std::move(n));
  }
  if (config_.discovery) {
    // One node may drop inbound mDNS; the last may leave the LAN for good.
    if (chance(0.5)) nodes_[below(nodes_.size())]->deaf = true;
    if (nodes_.size() > 2 && chance(0.5)) departs_at_ = 1000 * (1 + below(config_.fault_ms / 1000 - 1));
  }
  for (auto& n : nodes_) {
    for (auto& other : nodes_) {
      if (other != n) n->trusted.insert(other->key);
    }
  }
  for (auto& n : nodes_) start(*n);
  if (config_.restore_rate > 0) {
    for (auto& n : nodes_) back_up(*n);
  }
  for (int i = 0; i < config_.upfront_records; ++i) {
    SimNode& n = *nodes_[0];
    auto r = n.replica->put(RecordKey{"up", "r" + std::to_string(i)}, test::fields({{"v", test::packed(i)}}), n.outbox);
    if (!r) fail("an upfront write failed: " + r.status().to_string());
  }
  nodes_[0]->outbox.queue.clear();  // no one is connected yet
  const bool clock_profile = config_.max_clock_step_ms > static_cast<std::int64_t>(kMaxClockSkewMs);
  steps_from_ = clock_profile ? 5000 : 0;  // the clock profile steps once all are connected
  const std::uint64_t end = config_.fault_ms + config_.settle_ms;
  for (now_ = 0; now_ <= end && result_.ok; now_ += kStepMs) {
    const bool faulty = now_ < config_.fault_ms;
    step(faulty);
    if (now_ == config_.fault_ms) {
      for (auto& n : nodes_) {
        if (!clock_profile) n->wall_offset = 0;  // NTP set the clocks right
        if (n->table != 0 && !n->gone) change_strategies(*n, 0);  // the same table everywhere again
      }
    }
    for (auto it = cut_.begin(); it != cut_.end();) it = (!faulty || now_ >= it->second) ? cut_.erase(it) : std::next(it);
    for (auto it = revoked_.begin(); it != revoked_.end();) {
      if (faulty && now_ < it->second) {
        ++it;
        continue;
      }
      give_back_trust(*nodes_[static_cast<std::size_t>(it->first.first)], it->first.second);
      it = revoked_.erase(it);
    }
    if (clock_profile && now_ == steps_from_) {
      for (auto& n : nodes_) {
        if (n->peering->connected_count() + 1 != nodes_.size()) fail(host_of(n->index) + " is not connected to all");
        steady_sessions_.push_back(session_links(*n));
      }
    }
    if (clock_profile && now_ > steps_from_) {
      for (auto& n : nodes_) {
        if (session_links(*n) != steady_sessions_[static_cast<std::size_t>(n->index)]) {
          fail("a session of " + host_of(n->index) + " ended or moved after wall-clock steps (offset now " +
               std::to_string(n->wall_offset) + " ms)");
        }
      }
    }
    if (!faulty && !clock_profile && now_ % 1000 == 0 && disagreement().empty()) break;  // converged
  }
  if (result_.ok) {
    if (std::string d = disagreement(); !d.empty()) fail("after " + std::to_string(config_.settle_ms) + " ms without faults: " + d);
  }
  if (result_.ok) {
    if (std::string o = overclaimed(); !o.empty()) fail(o);
  }
  if (result_.ok) {
    SimNode& any = *nodes_[0];
    if (std::string l = ledger_.check(lookup_in(*any.store)); !l.empty()) fail(l);
  }
  if (result_.ok && departed_ >= 0) {
    if (std::string d = check_departed_not_dialed(); !d.empty()) fail(d);
  }
  if (result_.ok && config_.upfront_records > 0) {
    const auto expected = static_cast<std::uint64_t>(config_.upfront_records);
    for (const auto& st : nodes_[0]->replica->peers()) {
      if (st.records_out != expected) {
        fail(host_of(0) + " sent " + std::to_string(st.records_out) + " records to node " + std::to_string(st.id) +
             ", not " + std::to_string(expected) + " (each once)");
      }
    }
  }
  for (auto& n : nodes_) {
    if (n->replica) {
      for (const auto& st : n->replica->peers()) result_.stats.records_sent += st.records_out;
    }
  }
  return result_;
}

}  // namespace

SimResult run_simulation(const SimConfig& config) { return Sim(config).run(); }

}  // namespace shopsync::peering_sim
