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
  dials += o.dials;
  records_sent += o.records_sent;
}

namespace {

constexpr std::uint64_t kEpoch = 1'700'000'000'000;  // simulated wall time starts here
constexpr std::uint64_t kStepMs = 10;                // the simulation's resolution
constexpr std::uint64_t kLoopMs = 100;               // a node's loop runs its timers this often (node_parts.h)
constexpr std::uint16_t kPort = 7460;
constexpr std::uint64_t kMaxClockSkewMs = 5000;
constexpr int kKeys = 4;

std::string host_of(int node) { return "n" + std::to_string(node); }

class Sim;

// One dial: a connection from `dialer` to `listener`, in order both ways.
struct Conn {
  int dialer = 0;
  std::uint64_t dialer_link = 0;
  int listener = 0;
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
  MemoryStore store;
  ManualClock wall;
  ManualClock mono;
  std::int64_t wall_offset = 0;
  std::uint64_t loop_phase = 0;  // when in each kLoopMs its timers run
  std::set<std::string> trusted;
  std::unique_ptr<Replica> replica;
  peering::QueuedOutbox outbox;
  std::unique_ptr<Peering> peering;
  std::map<std::uint64_t, std::size_t> conns;  // link id -> connection
};

class Sim {
 public:
  explicit Sim(const SimConfig& config) : config_(config), rng_(config.seed) {}
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
  bool cut(int a, int b) const { return cut_.count({std::min(a, b), std::max(a, b)}) != 0; }

  void start(SimNode& n);
  void restart(SimNode& n);
  void deliver(const Frame& frame);
  void write(SimNode& n);
  void faults();
  void give_back_trust(SimNode& n, const std::string& key);
  std::map<NodeId, std::uint64_t> session_links(SimNode& n) const;
  // "" when every node shows the same records and is connected to every other.
  std::string disagreement();

  SimConfig config_;
  std::mt19937_64 rng_;
  SimResult result_;
  std::uint64_t now_ = 0;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<Conn> conns_;
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, Frame> in_flight_;  // (due, seq)
  std::uint64_t seq_ = 0;
  std::map<std::pair<int, int>, std::uint64_t> cut_;  // partitioned pairs, until
  std::map<std::pair<int, std::string>, std::uint64_t> revoked_;  // (node, key) -> given back at
  std::vector<std::map<NodeId, std::uint64_t>> steady_sessions_;  // clock-step profile
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
  int to = -1;
  for (const auto& n : nodes_) {
    if (host_of(n->index) == address.host) to = n->index;
  }
  if (to < 0) return Status::invalid("no such host " + address.host);
  Conn c;
  c.dialer = from.index;
  c.dialer_link = link;
  c.listener = to;
  c.key = from.key;
  c.keys_match = key == nodes_[static_cast<std::size_t>(to)]->key;
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
  if (!c.keys_match) return peering::Io::Sent::ok;  // the handshake never completes: queued for ever
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
      if (!to.trusted.count(c.key)) return;  // the key check (ZAP) refuses the connection
      c.listener_link = to.peering->inbound_link(c.key, now_of(to));
      to.conns[c.listener_link] = f.conn;
      to.peering->note_address(c.listener_link, host_of(c.dialer));
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
  now_of(n);
  auto replica = Replica::open(n.store, n.wall, options);
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
  n.peering = std::make_unique<Peering>(std::move(rules), *n.replica, n.outbox, n);
  for (const auto& other : nodes_) {
    if (other->index == n.index) continue;
    n.peering->add_target(PeerAddress{host_of(other->index), kPort, other->key}, PeerSource::static_peer, now_of(n));
  }
}

void Sim::restart(SimNode& n) {
  ++result_.stats.restarts;
  // The process ends: its dials die, dials to it reconnect on their own, and
  // nothing in flight to or from it arrives.
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
  start(n);
}

void Sim::write(SimNode& n) {
  const RecordKey key{"nw", "k" + std::to_string(below(kKeys))};
  const std::string value = host_of(n.index) + "@" + std::to_string(now_);
  now_of(n);
  auto r = n.replica->put(key, test::fields({{"v", test::packed(value)}}), n.outbox);
  if (!r) return fail("a write on " + host_of(n.index) + " failed: " + r.status().to_string());
  n.peering->flush(now_of(n));
}

void Sim::give_back_trust(SimNode& n, const std::string& key) {
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
  if (chance(config_.restart_rate)) restart(*nodes_[below(nodes_.size())]);
  if (chance(config_.revoke_rate)) {
    SimNode& peer = *nodes_[below(nodes_.size())];
    if (peer.index != n.index && n.trusted.count(peer.key)) {
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

std::string Sim::disagreement() {
  for (auto& n : nodes_) {
    if (n->peering->connected_count() + 1 != nodes_.size()) {
      return host_of(n->index) + " has " + std::to_string(n->peering->connected_count()) + " sessions";
    }
  }
  for (int k = 0; k < kKeys; ++k) {
    const RecordKey key{"nw", "k" + std::to_string(k)};
    std::optional<VisibleRecord> first;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto r = nodes_[i]->replica->get(key);
      if (!r) return "reading " + key.id + " on " + host_of(nodes_[i]->index) + ": " + r.status().to_string();
      std::optional<VisibleRecord> shown = *r;
      if (i == 0) {
        first = shown;
      } else if (first.has_value() != shown.has_value() ||
                 (first && (first->siblings != shown->siblings || first->visible.fields != shown->visible.fields))) {
        return key.id + " differs between " + host_of(0) + " and " + host_of(static_cast<int>(i));
      }
    }
  }
  return {};
}

SimResult Sim::run() {
  log::set_threshold(log::Level::error);
  for (int i = 0; i < config_.nodes; ++i) {
    auto n = std::make_unique<SimNode>(*this, i);
    n->key = "key-" + std::to_string(i);
    n->id = (rng_() >> 1) | 1;
    n->loop_phase = below(kLoopMs / kStepMs) * kStepMs;
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) {
    for (auto& other : nodes_) {
      if (other != n) n->trusted.insert(other->key);
    }
  }
  for (auto& n : nodes_) start(*n);
  for (int i = 0; i < config_.upfront_records; ++i) {
    SimNode& n = *nodes_[0];
    auto r = n.replica->put(RecordKey{"up", "r" + std::to_string(i)}, test::fields({{"v", test::packed(i)}}), n.outbox);
    if (!r) fail("an upfront write failed: " + r.status().to_string());
  }
  nodes_[0]->outbox.queue.clear();  // no one is connected yet
  const bool clock_profile = config_.max_clock_step_ms > static_cast<std::int64_t>(kMaxClockSkewMs);
  const std::uint64_t steps_from = clock_profile ? 5000 : 0;  // the clock profile steps once all are connected
  const std::uint64_t end = config_.fault_ms + config_.settle_ms;
  const double write_chance = static_cast<double>(config_.writes) * kStepMs / static_cast<double>(config_.fault_ms);
  for (now_ = 0; now_ <= end && result_.ok; now_ += kStepMs) {
    while (!in_flight_.empty() && in_flight_.begin()->first.first <= now_ && result_.ok) {
      Frame f = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      deliver(f);
    }
    for (auto& n : nodes_) {
      if ((now_ + n->loop_phase) % kLoopMs == 0) n->peering->tick(now_of(*n));
    }
    const bool faulty = now_ < config_.fault_ms;
    if (now_ == config_.fault_ms && !clock_profile) {
      for (auto& n : nodes_) n->wall_offset = 0;  // NTP set the clocks right
    }
    if (faulty && chance(write_chance)) write(*nodes_[below(nodes_.size())]);
    if (faulty && now_ >= steps_from && now_ % 1000 == 0) faults();
    for (auto it = cut_.begin(); it != cut_.end();) it = (!faulty || now_ >= it->second) ? cut_.erase(it) : std::next(it);
    for (auto it = revoked_.begin(); it != revoked_.end();) {
      if (faulty && now_ < it->second) {
        ++it;
        continue;
      }
      give_back_trust(*nodes_[static_cast<std::size_t>(it->first.first)], it->first.second);
      it = revoked_.erase(it);
    }
    if (clock_profile && now_ == steps_from) {
      for (auto& n : nodes_) {
        if (n->peering->connected_count() + 1 != nodes_.size()) fail(host_of(n->index) + " is not connected to all");
        steady_sessions_.push_back(session_links(*n));
      }
    }
    if (clock_profile && now_ > steps_from) {
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
    for (const auto& st : n->replica->peers()) result_.stats.records_sent += st.records_out;
  }
  return result_;
}

}  // namespace

SimResult run_simulation(const SimConfig& config) { return Sim(config).run(); }

}  // namespace shopsync::peering_sim
