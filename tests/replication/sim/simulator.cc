#include "tests/replication/sim/simulator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "core/version_vector.h"
#include "replication/access_policy.h"
#include "replication/replica.h"
#include "replication/strategy.h"
#include "storage/faulty_store.h"
#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "tests/replication/support/store_copy.h"
#include "tests/replication/support/values.h"

namespace shopsync::sim {

void SimStats::add(const SimStats& o) {
  writes += o.writes;
  resolutions += o.resolutions;
  deletes += o.deletes;
  conflict_entries += o.conflict_entries;
  distinct_conflicts += o.distinct_conflicts;
  near_simultaneous += o.near_simultaneous;
  conflicted_at_end += o.conflicted_at_end;
  messages += o.messages;
  dropped += o.dropped;
  duplicated += o.duplicated;
  records_sent += o.records_sent;
  crashes += o.crashes;
  partitions += o.partitions;
  restores += o.restores;
  writes_discarded += o.writes_discarded;
  snapshots += o.snapshots;
  records_erased += o.records_erased;
  store_faults += o.store_faults;
  invariants_checked += o.invariants_checked;
  refused_locally += o.refused_locally;
  refused_on_arrival += o.refused_on_arrival;
  leaves += o.leaves;
}

namespace {

constexpr std::uint64_t kEpoch = 1'700'000'000'000;  // simulated wall time starts here
constexpr std::uint64_t kTickMs = 1000;

struct Collection {
  const char* name;
  StrategyKind strategy;
};
constexpr Collection kCollections[] = {
    {"nw", StrategyKind::newest_wins}, {"sw", StrategyKind::server_wins}, {"cw", StrategyKind::client_wins},
    {"mg", StrategyKind::merge},       {"mn", StrategyKind::manual},
};
// Partial replication: orders carry a branch; scoped nodes hold one branch.
constexpr Collection kOrders{"or", StrategyKind::merge};
constexpr const char* kBranches[] = {"north", "south"};

using Snapshot = std::map<RecordKey, RecordState>;

std::string describe(const RecordState& s) {
  std::ostringstream os;
  os << "{";
  for (const Version& v : s.siblings) {
    os << " " << v.dot.origin << ":" << v.dot.counter << (v.deleted ? "(del)" : "");
  }
  os << " | ctx";
  for (const auto& [n, c] : s.context.entries()) os << " " << n << ":" << c;
  os << " }";
  return os.str();
}


std::string describe(const RecordKey& k) { return k.collection + "/" + k.id; }

// The dots of a record's siblings (none when the node does not hold it).
std::vector<Dot> dots_of(const std::optional<VisibleRecord>& record) {
  std::vector<Dot> out;
  if (record) {
    for (const Version& v : record->siblings) out.push_back(v.dot);
  }
  return out;
}

bool deleted_only(const RecordState& s) {
  return std::all_of(s.siblings.begin(), s.siblings.end(), [](const Version& v) { return v.deleted; });
}

std::string knowledge_text(const VersionVector& vv) {
  std::string out;
  for (const auto& [n, c] : vv.entries()) out += " " + std::to_string(n) + ":" + std::to_string(c);
  return "{" + out + " }";
}

class SkewedClock final : public Clock {
 public:
  SkewedClock(const std::uint64_t& now, std::int64_t skew) : now_(now), skew_(skew) {}
  std::uint64_t now_ms() override { return static_cast<std::uint64_t>(static_cast<std::int64_t>(now_) + skew_); }
  void set_skew(std::int64_t s) { skew_ = s; }

 private:
  const std::uint64_t& now_;
  std::int64_t skew_;
};

struct Envelope {
  NodeId from;
  NodeId to;
  Message message;
};

class Sim;

class Port final : public Outbox {
 public:
  Port(Sim& sim, int node) : sim_(sim), node_(node) {}
  void send(NodeId to, Message m) override;
  void changed(const RecordKey& key, const VisibleRecord* now) override;
  void refused(NodeId from, const RecordKey& key, const std::string& why) override;

 private:
  Sim& sim_;
  int node_;
};

struct SimNode {
  NodeId id = 0;
  bool uplink = false;
  bool up = true;
  bool joined = true;
  std::unique_ptr<SkewedClock> clock;   // wall: skewed, and jumps both ways
  std::unique_ptr<SkewedClock> timers;  // monotonic: the simulated time itself
  std::unique_ptr<MemoryStore> memory;
  std::unique_ptr<FaultyStore> faulty;  // wraps the store when the config injects store faults
  std::unique_ptr<LmdbStore> lmdb;
  std::unique_ptr<Replica> replica;
  Store& inner() { return memory ? static_cast<Store&>(*memory) : static_cast<Store&>(*lmdb); }
  Store& store() { return faulty ? static_cast<Store&>(*faulty) : inner(); }
};

// What the workload wrote, to check that nothing was silently lost.
struct WriteRecord {
  RecordKey key;
  bool deleted = false;
};

// A node's data directory as it was at some point (restored_backups).
struct Backup {
  std::unique_ptr<MemoryStore> store;
  std::size_t superseded_conflicts = 0;  // size of the node's superseded_conflicts_ then
};

class Sim {
 public:
  explicit Sim(const SimConfig& c) : cfg_(c), rng_(c.seed), writer_ids_(c.seed ^ 0x9e3779b97f4a7c15ULL) {}

  SimResult run();
  void enqueue(int from, NodeId to, Message m);
  void count_erased() { ++stats_.records_erased; }
  void count_refused() { ++stats_.refused_on_arrival; }
  void trace_refused(int node, NodeId from, const RecordKey& key, const std::string& why) {
    if (trace_key_ == key.collection + "/" + key.id) {
      trace_line("node " + std::to_string(node + 1) + " refuses from " + std::to_string(from) + ": " + why);
    }
  }
  // With probability store_faults, the node's next write fails at commit.
  void arm_store_fault(SimNode& n) {
    if (n.faulty && faults_ && chance(cfg_.store_faults)) {
      n.faulty->fail_write(n.faulty->writes() + 1, Status::io_error(kInjected));
      ++stats_.store_faults;
    }
  }
  static bool injected(const Status& s) { return s.message().find(kInjected) != std::string::npos; }
  static constexpr const char* kInjected = "injected commit failure (simulator)";
  // SHOPSYNC_SIM_TRACE=<collection>/<id> prints every change of that record.
  void trace(int node, const RecordKey& key, const VisibleRecord* now);
  void trace_line(const std::string& line) {
    if (!trace_key_.empty()) std::fprintf(stderr, "[t=%llu] %s\n", static_cast<unsigned long long>(now_ - kEpoch), line.c_str());
  }

 private:
  std::uint64_t uniform(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(double p) { return static_cast<double>(rng_() % 1'000'000) < p * 1'000'000.0; }
  int index_of(NodeId id) const { return static_cast<int>(id) - 1; }
  ReplicaOptions options_for(int i) const;
  // Ordinary skews differ by at most 2 x max_skew_ms: every reading is adopted.
  std::uint64_t max_clock_offset_ms() const { return 2 * static_cast<std::uint64_t>(cfg_.max_skew_ms) + 1000; }
  std::int64_t draw_skew(int i);  // node i's clock offset from the simulated time
  Status open_node(int i);
  void crash(int i);
  void sync_links();
  void set_connected(int i, int j, bool on);
  void deliver_due();
  Status advance_to(std::uint64_t t);
  Status workload_step();
  Status write_op(int i);
  Status order_op(int i);
  Status note_write(int i, const RecordKey& key, const std::vector<Dot>& pre, const VisibleRecord& result);
  bool is_scoped(int i) const { return cfg_.scoped_from > 0 && i >= cfg_.scoped_from; }
  std::string check_projections(const Snapshot& full);
  Status fault_op();
  Status restore_op(int i);
  bool superseded_by_a_kept_write(const Dot& dot) const;
  Status heal_and_quiesce();
  Result<Snapshot> dump(int i);
  bool converged();
  std::string check_invariants();
  std::string check_clocks();  // invariant 7
  void fail(const std::string& what) {
    if (failure_.empty()) failure_ = what;
  }

  SimConfig cfg_;
  std::mt19937_64 rng_;
  // Writer ids, drawn at every open as the daemon does, from the seed (and
  // apart from rng_ so that the workload does not depend on them).
  mutable std::mt19937_64 writer_ids_;
  std::uint64_t now_ = kEpoch;
  std::uint64_t next_tick_ = kEpoch + kTickMs;
  std::vector<SimNode> nodes_;
  std::vector<int> side_;                       // partition side per node
  std::set<std::pair<int, int>> connected_;     // pairs (i<j) the replicas see as connected
  std::map<std::pair<std::uint64_t, std::uint64_t>, Envelope> in_flight_;  // (deliver at, seq)
  std::uint64_t seq_ = 0;
  bool faults_ = true;
  bool ticks_ = true;
  std::uint64_t value_counter_ = 0;
  std::map<Dot, WriteRecord> written_;
  std::map<Dot, std::set<Dot>> superseded_by_;  // dot -> the local writes that superseded it while holding it
  std::map<int, Backup> backups_;               // restored_backups: the last backup of each node
  std::set<Dot> discarded_;                     // writes only the discarded part of a restored store held
  VersionVector horizons_before_restores_;      // tombstones removed by nodes restored since
  int restores_ = 0;
  // Per node, the sibling sets some local write superseded while they were a conflict.
  std::vector<std::vector<std::pair<RecordKey, std::vector<Dot>>>> superseded_conflicts_;
  SimStats stats_;
  FixedAccess access_;  // the grants of the scoped nodes
  std::string last_sent_;  // the last record a batch delivered, for a failure's message
  std::string failure_;
  std::string trace_key_ = std::getenv("SHOPSYNC_SIM_TRACE") ? std::getenv("SHOPSYNC_SIM_TRACE") : "";
};

void Port::send(NodeId to, Message m) { sim_.enqueue(node_, to, std::move(m)); }
void Port::refused(NodeId from, const RecordKey& key, const std::string& why) {
  sim_.count_refused();
  sim_.trace_refused(node_, from, key, why);
}
void Port::changed(const RecordKey& key, const VisibleRecord* now) {
  if (now == nullptr) sim_.count_erased();
  sim_.trace(node_, key, now);
}

ReplicaOptions Sim::options_for(int i) const {
  ReplicaOptions o;
  o.node_id = nodes_[i].id;
  o.cluster = "sim";
  o.uplink = nodes_[i].uplink;
  o.draw_writer_id = [this] { return NodeId{writer_ids_()}; };
  for (const Collection& c : kCollections) o.strategies[c.name] = c.strategy;
  o.strategies[kOrders.name] = kOrders.strategy;
  if (cfg_.scoped_from > 0) o.access = &access_;
  o.max_batch_records = 2;  // small batches: exercise credit, base/complete and resumption
  o.initial_credit = 2;
  o.max_credit = 4;
  o.pull_interval_ms = 5000;
  o.pull_timeout_ms = 2000;
  o.tombstone_retention_ms = 3000;
  o.tombstone_scan_interval_ms = 2000;
  o.max_clock_offset_ms = max_clock_offset_ms();
  return o;
}

std::int64_t Sim::draw_skew(int i) {
  const std::int64_t skew =
      static_cast<std::int64_t>(uniform(2 * static_cast<std::uint64_t>(cfg_.max_skew_ms) + 1)) - cfg_.max_skew_ms;
  return i == 0 ? skew + cfg_.fast_clock_ms : skew;
}

Status Sim::open_node(int i) {
  SimNode& n = nodes_[i];
  if (cfg_.lmdb_dir) {
    auto store = LmdbStore::open(*cfg_.lmdb_dir / ("node" + std::to_string(i)));
    if (!store) return store.status();
    n.lmdb = std::move(*store);
  } else if (!n.memory) {
    n.memory = std::make_unique<MemoryStore>();
  }
  if (cfg_.store_faults > 0) {
    n.faulty = std::make_unique<FaultyStore>(n.inner());
    n.faulty->replay_bodies(true);  // every body runs twice, as after a map growth
  }
  ReplicaOptions options = options_for(i);
  options.timers = n.timers.get();
  auto r = Replica::open(n.store(), *n.clock, options);
  if (!r) return r.status();
  n.replica = std::move(*r);
  n.up = true;
  return Status::ok();
}

void Sim::crash(int i) {
  SimNode& n = nodes_[i];
  n.replica.reset();
  n.faulty.reset();
  n.lmdb.reset();  // LMDB: closed and reopened; MemoryStore: what was committed stays
  n.up = false;
  ++stats_.crashes;
  trace_line("crash node " + std::to_string(i + 1));
  sync_links();
}

void Sim::enqueue(int from, NodeId to, Message m) {
  const int j = index_of(to);
  const auto pair = std::minmax(from, j);
  if (j < 0 || j >= static_cast<int>(nodes_.size()) || connected_.count({pair.first, pair.second}) == 0) {
    ++stats_.dropped;  // no connection: ZeroMQ would not deliver either
    return;
  }
  if (faults_ && chance(cfg_.drop)) {
    ++stats_.dropped;
    return;
  }
  const int copies = faults_ && chance(cfg_.duplicate) ? 2 : 1;
  if (copies == 2) ++stats_.duplicated;
  for (int k = 0; k < copies; ++k) {
    const std::uint64_t delay = faults_ ? 1 + uniform(cfg_.max_delay_ms) : 1;
    in_flight_.emplace(std::make_pair(now_ + delay, seq_++), Envelope{nodes_[from].id, to, m});
  }
}

void Sim::set_connected(int i, int j, bool on) {
  const auto key = std::make_pair(std::min(i, j), std::max(i, j));
  trace_line(std::string(on ? "connect " : "disconnect ") + std::to_string(i + 1) + "-" + std::to_string(j + 1));
  if (on) {
    connected_.insert(key);
    // HELLO both ways: each side learns the other's knowledge.
    Port pi(*this, i), pj(*this, j);
    const VersionVector ki = nodes_[i].replica->knowledge();
    const VersionVector kj = nodes_[j].replica->knowledge();
    nodes_[i].replica->peer_connected(nodes_[j].id, kj, pi);
    nodes_[j].replica->peer_connected(nodes_[i].id, ki, pj);
  } else {
    connected_.erase(key);
    if (nodes_[i].replica) nodes_[i].replica->peer_disconnected(nodes_[j].id);
    if (nodes_[j].replica) nodes_[j].replica->peer_disconnected(nodes_[i].id);
    // The connection's queued messages die with it.
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      const int a = index_of(it->second.from), b = index_of(it->second.to);
      if ((a == i && b == j) || (a == j && b == i)) {
        it = in_flight_.erase(it);
        ++stats_.dropped;
      } else {
        ++it;
      }
    }
  }
}

void Sim::sync_links() {
  const int n = static_cast<int>(nodes_.size());
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      const bool want = nodes_[i].up && nodes_[j].up && nodes_[i].joined && nodes_[j].joined && side_[i] == side_[j];
      const bool have = connected_.count({i, j}) != 0;
      if (want != have) set_connected(i, j, want);
    }
  }
}

void Sim::deliver_due() {
  std::set<int> queuing;  // nodes holding batches for a group commit
  while (!in_flight_.empty() && in_flight_.begin()->first.first <= now_) {
    Envelope e = std::move(in_flight_.begin()->second);
    in_flight_.erase(in_flight_.begin());
    ++stats_.messages;
    if (auto* b = std::get_if<Batch>(&e.message)) {
      stats_.records_sent += b->records.size();
      stats_.leaves += b->left.size();
      for (const auto& [k, v] : b->records) {
        last_sent_ = std::to_string(e.from) + "->" + std::to_string(e.to) + " " + describe(k) + " " + describe(v.decode()) +
                     " base " + knowledge_text(b->base) + " complete " + knowledge_text(b->complete);
      }
    } else if (auto* p = std::get_if<Pull>(&e.message); p && !p->want.empty()) {
      last_sent_ += " (a pull wants " + describe(p->want.front()) + ")";
    }
    if (std::holds_alternative<SnapshotRequired>(e.message)) ++stats_.snapshots;
    if (!trace_key_.empty()) {
      if (auto* b = std::get_if<Batch>(&e.message)) {
        for (const auto& [k, v] : b->records) {
          if (describe(k) == trace_key_) {
            trace_line("  batch " + std::to_string(e.from) + "->" + std::to_string(e.to) + (b->snapshot ? " (snapshot) " : " ") +
                       describe(v.decode()) + " base " + knowledge_text(b->base) + " complete " + knowledge_text(b->complete));
          }
        }
        for (const LeftRecord& l : b->left) {
          if (describe(l.key) == trace_key_) {
            trace_line("  leave " + std::to_string(e.from) + "->" + std::to_string(e.to) + " ctx " + knowledge_text(l.context) +
                       " live " + knowledge_text(l.live));
          }
        }
      } else if (auto* p = std::get_if<Pull>(&e.message)) {
        for (const RecordKey& k : p->want) {
          if (describe(k) == trace_key_) trace_line("  pull wants it " + std::to_string(e.from) + "->" + std::to_string(e.to));
        }
      } else if (std::holds_alternative<SnapshotRequired>(e.message)) {
        trace_line("  snapshot required " + std::to_string(e.from) + "->" + std::to_string(e.to));
      }
    }
    SimNode& to = nodes_[index_of(e.to)];
    if (!to.up) continue;
    Port port(*this, index_of(e.to));
    arm_store_fault(to);
    // Half the batches go through group commit, as the daemon's do when
    // several wait on its socket.
    const bool queue = std::holds_alternative<Batch>(e.message) && chance(0.5);
    if (queue) queuing.insert(index_of(e.to));
    Status s = queue ? to.replica->queue_batch(e.from, std::get<Batch>(std::move(e.message)), port)
                     : to.replica->receive(e.from, e.message, port);
    if (!s && !injected(s)) {
      fail("node " + std::to_string(e.to) + " rejected a message from " + std::to_string(e.from) + ": " +
           s.to_string());
    }
  }
  // Most groups are committed now (the daemon: after each turn of its loop);
  // the others wait for the next message, tick, crash or delivery.
  for (int i : queuing) {
    if (!nodes_[i].up || !chance(0.7)) continue;
    Port port(*this, i);
    arm_store_fault(nodes_[i]);
    if (Status s = nodes_[i].replica->commit_queued(port); !s && !injected(s)) {
      fail("node " + std::to_string(nodes_[i].id) + " could not commit its queued batches: " + s.to_string());
    }
  }
}

Status Sim::advance_to(std::uint64_t t) {
  while (true) {
    const std::uint64_t next_msg = in_flight_.empty() ? UINT64_MAX : in_flight_.begin()->first.first;
    const std::uint64_t next = std::min(next_msg, ticks_ ? next_tick_ : UINT64_MAX);
    if (next > t) break;
    now_ = std::max(now_, next);
    deliver_due();  // every message is delayed >= 1 ms, so this loop moves on
    if (ticks_ && now_ >= next_tick_) {
      next_tick_ += kTickMs;
      for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        if (!nodes_[i].up) continue;
        Port port(*this, i);
        arm_store_fault(nodes_[i]);
        if (Status s = nodes_[i].replica->tick(port); !s && !injected(s)) return s;
      }
    }
  }
  now_ = std::max(now_, t);
  return Status::ok();
}

// A put or delete of an order. A full node writes any branch (moving orders
// between scopes); a scoped node its own branch only, and its write is
// refused when the order holds a version of another branch.
Status Sim::order_op(int i) {
  SimNode& n = nodes_[i];
  const RecordKey key{kOrders.name, "k" + std::to_string(uniform(static_cast<std::uint64_t>(cfg_.hot_keys)))};
  auto before = n.replica->get(key);
  if (!before) return before.status();
  const std::vector<Dot> pre = dots_of(*before);
  Port port(*this, i);
  arm_store_fault(n);
  Result<VisibleRecord> result = Status::invalid("no operation");
  if (*before && !(*before)->visible.deleted && chance(0.2)) {
    result = n.replica->remove(key, port);
    ++stats_.deletes;
  } else {
    const std::string branch = is_scoped(i) ? kBranches[i % 2] : kBranches[uniform(2)];
    FieldUpdate u;
    u.replace = chance(0.3);
    u.fields["branch"] = test::packed(branch);
    u.fields["a"] = test::packed(++value_counter_);
    result = n.replica->put(key, u, port);
  }
  if (!result && injected(result.status())) return Status::ok();
  if (!result && result.status().code() == Errc::refused) {
    ++stats_.refused_locally;
    return Status::ok();
  }
  if (!result) return result.status().context("order write at node " + std::to_string(n.id));
  return note_write(i, key, pre, *result);
}

// What a committed local write superseded: the siblings the node held, and
// its own earlier writes of the record (a writer knows its own writes, even
// ones a scoped node no longer holds: its new dot's context covers them).
Status Sim::note_write(int i, const RecordKey& key, const std::vector<Dot>& pre, const VisibleRecord& result) {
  ++stats_.writes;
  if (result.siblings.size() != 1) return Status::invalid("a local write left several siblings");
  const Dot dot = result.siblings[0].dot;
  for (const auto& [d, w] : written_) {
    if (d.origin == dot.origin && w.key == key) superseded_by_[d].insert(dot);
  }
  written_[dot] = WriteRecord{key, result.siblings[0].deleted};
  for (const Dot& d : pre) superseded_by_[d].insert(dot);
  if (pre.size() > 1) superseded_conflicts_[i].emplace_back(key, pre);
  return Status::ok();
}

Status Sim::write_op(int i) {
  SimNode& n = nodes_[i];
  if (cfg_.scoped_from > 0 && (is_scoped(i) || chance(0.5))) return order_op(i);
  const Collection& c = kCollections[uniform(std::size(kCollections))];
  const RecordKey key{c.name, "k" + std::to_string(uniform(static_cast<std::uint64_t>(cfg_.hot_keys)))};
  auto before = n.replica->get(key);
  if (!before) return before.status();
  const std::vector<Dot> pre = dots_of(*before);
  Port port(*this, i);
  arm_store_fault(n);
  Result<VisibleRecord> result = Status::invalid("no operation");
  const std::uint64_t kind = uniform(100);
  const std::string value = test::packed(++value_counter_);
  if (*before && pre.size() > 1 && kind < 30) {
    Resolution res;
    res.seen = (*before)->context;
    if (chance(0.5)) {
      res.choose = pre[uniform(pre.size())];
    } else {
      res.fields = FieldUpdate{};
      res.fields->fields["a"] = value;
      res.fields->fields["r"] = test::packed("resolved");
    }
    result = n.replica->resolve(key, res, port);
    ++stats_.resolutions;
  } else if (*before && !(*before)->visible.deleted && kind < 45) {
    result = n.replica->remove(key, port);
    ++stats_.deletes;
  } else {
    FieldUpdate u;
    u.replace = kind >= 70;
    static const char* kFields[] = {"a", "b", "c"};
    const std::uint64_t count = 1 + uniform(2);
    for (std::uint64_t k = 0; k < count; ++k) {
      const char* f = kFields[uniform(3)];
      if (!u.replace && chance(0.1)) {
        u.fields[f] = std::nullopt;
      } else {
        u.fields[f] = value;
      }
    }
    result = n.replica->put(key, u, port);
  }
  if (!result && injected(result.status())) return Status::ok();  // the write did not happen
  if (!result) return result.status().context("local write at node " + std::to_string(n.id));
  return note_write(i, key, pre, *result);
}

Status Sim::fault_op() {
  const int n = static_cast<int>(nodes_.size());
  const int i = static_cast<int>(uniform(static_cast<std::uint64_t>(n)));
  switch (uniform(cfg_.restored_backups ? 10 : 6)) {
    case 0:  // crash
      if (nodes_[i].up && nodes_[i].joined) {
        crash(i);
        if (cfg_.forget_down_peers) {
          for (int j = 0; j < n; ++j) {
            if (j == i || !nodes_[j].up) continue;
            Status forgot = nodes_[j].replica->forget_peer(nodes_[i].id);
            if (!forgot && injected(forgot)) forgot = nodes_[j].replica->forget_peer(nodes_[i].id);  // the operator retries
            SHOPSYNC_TRY(forgot);
            trace_line("node " + std::to_string(j + 1) + " forgets node " + std::to_string(i + 1));
          }
        }
      }
      return Status::ok();
    case 1:  // restart
      for (int j = 0; j < n; ++j) {
        if (!nodes_[j].up) {
          SHOPSYNC_TRY(open_node(j));
          sync_links();
          break;
        }
      }
      return Status::ok();
    case 2:  // partition in two random sides
      for (int j = 0; j < n; ++j) side_[j] = static_cast<int>(uniform(2));
      ++stats_.partitions;
      sync_links();
      return Status::ok();
    case 3:  // heal the partition
      std::fill(side_.begin(), side_.end(), 0);
      sync_links();
      return Status::ok();
    case 4:  // a clock jumps (forwards or backwards)
      nodes_[i].clock->set_skew(draw_skew(i));
      return Status::ok();
    case 5:  // isolate one node
      side_[i] = 1 - side_[i];
      ++stats_.partitions;
      sync_links();
      return Status::ok();
    case 6:
    case 7: {  // back up a node's store
      auto copy = test::copy_store(nodes_[i].inner());
      if (!copy) return copy.status();
      backups_[i] = Backup{std::move(*copy), superseded_conflicts_[i].size()};
      trace_line("back up node " + std::to_string(i + 1));
      return Status::ok();
    }
    default:  // 8, 9
      return restore_op(i);
  }
}

// Node i's store goes back to its last backup; the node starts again cut off
// from every peer and writes there. What only the discarded part held (no
// other node has seen it) is lost for good, and says so in discarded_; every
// other write must come back at the heal.
Status Sim::restore_op(int i) {
  auto it = backups_.find(i);
  if (it == backups_.end() || !nodes_[i].joined) return Status::ok();
  if (nodes_[i].up) crash(i);
  // A tombstone the node removed was removed for good (every peer had seen
  // it), though the restore takes back the horizon that says so.
  SHOPSYNC_TRY(nodes_[i].inner().read([&](StoreReader& r) -> Status {
    auto text = r.get(Table::settings, "replication/horizon");
    if (!text) return text.status();
    if (!text->has_value()) return Status::ok();
    auto horizon = parse_version_vector(**text);
    if (!horizon) return horizon.status();
    horizons_before_restores_.join(*horizon);
    return Status::ok();
  }));
  auto copy = test::copy_store(*it->second.store);
  if (!copy) return copy.status();
  nodes_[i].memory = std::move(*copy);
  // A write survives when the restored store or another node has it in the
  // record's context (it holds it, or a version it holds superseded it, even
  // above its knowledge), or it is a tombstone that a node removed (in its
  // horizon). Knowledge alone does not count: it passes over dots that were
  // superseded at the sender by a write still on its way, which the restore
  // may have discarded with them.
  std::vector<VersionVector> horizons;
  std::map<RecordKey, std::vector<VersionVector>> contexts;
  for (int j = 0; j < static_cast<int>(nodes_.size()); ++j) {
    if (j != i && !nodes_[j].joined) continue;
    test::StoreCopy data;
    SHOPSYNC_TRY(nodes_[j].inner().read([&](StoreReader& r) { return data.read_from(r); }));
    for (const auto& [table, key, value] : data.rows) {
      if (table != Table::settings || key != "replication/horizon") continue;
      auto horizon = parse_version_vector(value);
      if (!horizon) return horizon.status();
      horizons.push_back(std::move(*horizon));
    }
    for (const auto& [k, v] : data.records) contexts[k].push_back(v.context);
  }
  std::set<Dot> gone;  // found nowhere
  for (const auto& [dot, w] : written_) {
    auto covers = [&](const VersionVector& vv) { return vv.covers(dot); };
    const std::vector<VersionVector>& of_key = contexts[w.key];
    const bool somewhere = std::any_of(of_key.begin(), of_key.end(), covers) ||
                           (w.deleted && std::any_of(horizons.begin(), horizons.end(), covers));
    if (!somewhere) gone.insert(dot);
  }
  // ... unless a write that superseded it survives (its record may have been
  // erased since, by the removal of a later tombstone): then it was seen.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto g = gone.begin(); g != gone.end();) {
      auto by = superseded_by_.find(*g);
      const bool seen = by != superseded_by_.end() && std::any_of(by->second.begin(), by->second.end(), [&](const Dot& d) {
        return gone.count(d) == 0 && discarded_.count(d) == 0;
      });
      if (seen) {
        g = gone.erase(g);
        changed = true;
      } else {
        ++g;
      }
    }
  }
  for (const Dot& dot : gone) {
    if (discarded_.insert(dot).second) ++stats_.writes_discarded;
  }
  // The node's log of conflicts it settled goes back with its store.
  superseded_conflicts_[i].resize(std::min(superseded_conflicts_[i].size(), it->second.superseded_conflicts));
  ++restores_;
  ++stats_.restores;
  trace_line("restore node " + std::to_string(i + 1) + " from its backup, alone");
  side_[i] = 2;  // its peers are out of reach
  SHOPSYNC_TRY(open_node(i));
  sync_links();
  const std::uint64_t writes = 1 + uniform(3);
  for (std::uint64_t k = 0; k < writes; ++k) SHOPSYNC_TRY(write_op(i));
  return Status::ok();
}

bool Sim::superseded_by_a_kept_write(const Dot& dot) const {
  auto it = superseded_by_.find(dot);
  if (it == superseded_by_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const Dot& w) { return discarded_.count(w) == 0; });
}

Status Sim::workload_step() {
  SHOPSYNC_TRY(advance_to(now_ + uniform(400)));
  if (chance(cfg_.fault_rate)) return fault_op();
  std::vector<int> writable;
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (nodes_[i].up && nodes_[i].joined) writable.push_back(i);
  }
  if (writable.empty()) return Status::ok();
  return write_op(writable[uniform(writable.size())]);
}

Result<Snapshot> Sim::dump(int i) {
  Snapshot out;
  Status st = nodes_[i].store().read([&](StoreReader& r) -> Status {
    auto names = r.collections();
    if (!names) return names.status();
    for (const std::string& name : *names) {
      Status s = r.for_each_record(name, "", [&](const RecordKey& k, const RecordState& v) {
        out.emplace(k, v);
        return Scan::next;
      });
      if (!s) return s;
    }
    return Status::ok();
  });
  if (!st) return st;
  return out;
}

bool Sim::converged() {
  if (!in_flight_.empty()) return false;
  for (std::size_t i = 1; i < nodes_.size(); ++i) {
    if (is_scoped(static_cast<int>(i))) {
      // A scoped node knows its own writes: the full nodes must have them.
      if (!nodes_[0].replica->knowledge().covers(nodes_[i].replica->knowledge())) return false;
    } else if (!(nodes_[i].replica->knowledge() == nodes_[0].replica->knowledge())) {
      return false;
    }
  }
  if (cfg_.scoped_from == 0) return true;
  auto full = dump(0);
  return full && check_projections(*full).empty();
}

// Every scoped node's store is the projection of the full state onto its
// read scope: the records in it, with the same siblings; nothing else but
// deleted records (a scoped node removes no tombstone: docs/replication.md,
// "Partial replication").
std::string Sim::check_projections(const Snapshot& full) {
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (!is_scoped(i)) continue;
    auto held = dump(i);
    if (!held) return "reading node " + std::to_string(i + 1) + ": " + held.status().to_string();
    const Scope scope = access_.read_scope(nodes_[i].id);
    ++stats_.invariants_checked;
    for (const auto& [k, v] : full) {
      auto it = held->find(k);
      if (!scope.contains(k, v)) {
        if (it != held->end() && !deleted_only(it->second)) {
          return describe(k) + " is outside node " + std::to_string(i + 1) + "'s scope but it holds " +
                 describe(it->second) + " (full state " + describe(v) + ")";
        }
        continue;
      }
      if (it == held->end()) return describe(k) + " " + describe(v) + " is in node " + std::to_string(i + 1) + "'s scope but missing there";
      if (it->second.siblings != v.siblings) {
        return describe(k) + " differs on scoped node " + std::to_string(i + 1) + ": " + describe(it->second) +
               ", full " + describe(v);
      }
    }
    for (const auto& [k, v] : *held) {
      if (full.count(k) == 0 && !deleted_only(v)) return describe(k) + " on scoped node " + std::to_string(i + 1) + " only: " + describe(v);
    }
  }
  return "";
}

Status Sim::heal_and_quiesce() {
  faults_ = false;
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (!nodes_[i].up) SHOPSYNC_TRY(open_node(i));
    nodes_[i].joined = true;
  }
  std::fill(side_.begin(), side_.end(), 0);
  sync_links();
  // Run until every replica knows the same and nothing is in flight; the
  // periodic pulls repair what the faults lost.
  const std::uint64_t deadline = now_ + 600'000;
  while (!converged()) {
    if (now_ > deadline) {
      std::string knowledge;
      for (const SimNode& sn : nodes_) knowledge += " node " + std::to_string(sn.id) + " " + knowledge_text(sn.replica->knowledge());
      for (const auto& [when, e] : in_flight_) knowledge += " | in flight " + std::to_string(e.from) + "->" + std::to_string(e.to) + " type " + std::to_string(e.message.index());
      if (cfg_.scoped_from > 0) {
        if (auto full = dump(0); full) knowledge += " | projection: " + check_projections(*full);
      }
      return Status::io_error("no convergence within 600 simulated seconds after the heal;" + knowledge);
    }
    SHOPSYNC_TRY(advance_to(now_ + 500));
  }
  // Let tombstone removal settle everywhere: past the retention, a scan and a
  // pull interval (so every node has heard every peer's knowledge), twice.
  // A fast node's tombstones are younger than they say for the others: they
  // wait until their own wall clocks reach them.
  const ReplicaOptions o = options_for(0);
  SHOPSYNC_TRY(advance_to(now_ + static_cast<std::uint64_t>(cfg_.fast_clock_ms) +
                          2 * (o.tombstone_retention_ms + o.tombstone_scan_interval_ms + o.pull_interval_ms)));
  while (!converged()) {
    if (now_ > deadline + 600'000) return Status::io_error("no convergence after tombstone removal");
    SHOPSYNC_TRY(advance_to(now_ + 500));
  }
  return Status::ok();
}




void Sim::trace(int node, const RecordKey& key, const VisibleRecord* now) {
  if (trace_key_.empty() || trace_key_ != key.collection + "/" + key.id) return;
  RecordState st;
  if (now) {
    st.siblings = now->siblings;
    st.context = now->context;
  }
  trace_line("node " + std::to_string(node + 1) + " " + (now ? describe(st) : std::string("erased")) +
             " knowledge " + knowledge_text(nodes_[node].replica ? nodes_[node].replica->knowledge() : VersionVector{}));
}

std::string Sim::check_invariants() {
  const int n = static_cast<int>(nodes_.size());
  std::vector<Snapshot> states;
  for (int i = 0; i < n; ++i) {
    auto d = dump(i);
    if (!d) return "reading node " + std::to_string(i + 1) + ": " + d.status().to_string();
    states.push_back(std::move(*d));
  }
  if (states.empty()) return "no nodes";
  // 1. Identical replicas: states (siblings and contexts), knowledge, visible
  // values; a scoped node holds the projection of that state onto its scope.
  if (std::string projections = check_projections(states[0]); !projections.empty()) return projections;
  for (int i = 1; i < n; ++i) {
    if (is_scoped(i)) continue;
    ++stats_.invariants_checked;
    if (!(nodes_[i].replica->knowledge() == nodes_[0].replica->knowledge())) {
      return "knowledge of node " + std::to_string(i + 1) + " differs from node 1";
    }
    // Contexts may differ where a tombstone was removed at different times
    // (docs/replication.md, "Tombstones"); siblings and knowledge may not.
    auto siblings_of = [](const Snapshot& s) {
      std::map<RecordKey, std::vector<Version>> out;
      for (const auto& [k, v] : s) out.emplace(k, v.siblings);
      return out;
    };
    if (siblings_of(states[i]) != siblings_of(states[0])) {
      for (const auto& [k, v] : states[0]) {
        auto it = states[i].find(k);
        if (it == states[i].end()) return describe(k) + " on node 1 " + describe(v) + " but missing on node " + std::to_string(i + 1);
        if (it->second.siblings != v.siblings) {
          return describe(k) + " differs: node 1 " + describe(v) + ", node " + std::to_string(i + 1) + " " +
                 describe(it->second);
        }
      }
      for (const auto& [k, v] : states[i]) {
        if (states[0].count(k) == 0) return describe(k) + " on node " + std::to_string(i + 1) + " only " + describe(v);
      }
    }
    for (const auto& [k, v] : states[0]) {
      if (!(nodes_[i].replica->make_visible(k, v) == nodes_[0].replica->make_visible(k, v))) {
        return describe(k) + ": the visible value differs between nodes";
      }
    }
  }
  // 2. Sibling counts bounded: one per node at most, plus one per restore
  // (a restored node's new write is concurrent with what it wrote after the
  // backup).
  for (const auto& [k, v] : states[0]) {
    ++stats_.invariants_checked;
    if (v.siblings.size() > static_cast<std::size_t>(n + restores_)) return describe(k) + " has more siblings than nodes";
    if (v.siblings.size() > 1) ++stats_.conflicted_at_end;
  }
  // Conflict logs of every node.
  std::vector<std::vector<ConflictEntry>> logs(n);
  std::map<std::pair<RecordKey, std::vector<Dot>>, std::pair<Dot, bool>> decided;  // same winner everywhere
  for (int i = 0; i < n; ++i) {
    Status st = nodes_[i].store().read([&](StoreReader& r) {
      return r.for_each_conflict(0, [&](const ConflictEntry& e) {
        logs[i].push_back(e);
        return Scan::next;
      });
    });
    if (!st) return "reading the conflict log: " + st.to_string();
    stats_.conflict_entries += logs[i].size();
    for (const ConflictEntry& e : logs[i]) {
      ++stats_.invariants_checked;
      if (e.siblings.size() < 2) return "a conflict entry with fewer than two siblings";
      if (e.detected_by != nodes_[i].id) return "a conflict entry names another node as detector";
      std::vector<Dot> dots;
      for (const Version& v : e.siblings) dots.push_back(v.dot);
      auto [it, inserted] = decided.emplace(std::make_pair(e.key, dots), std::make_pair(e.winner, e.near_simultaneous));
      if (inserted) {
        ++stats_.distinct_conflicts;
        if (e.near_simultaneous) ++stats_.near_simultaneous;
      } else if (it->second.first != e.winner || it->second.second != e.near_simultaneous) {
        return describe(e.key) + ": two nodes logged different winners for the same siblings";
      }
      const Outcome expect = choose_visible(e.siblings, *parse_strategy(e.strategy), kDefaultToleranceMs);
      if (expect.winner != e.winner) return describe(e.key) + ": logged winner is not the strategy's";
    }
  }
  auto logged = [&](int i, const RecordKey& key, const Dot& dot) {
    return std::any_of(logs[i].begin(), logs[i].end(), [&](const ConflictEntry& e) {
      return e.key == key && std::any_of(e.siblings.begin(), e.siblings.end(), [&](const Version& v) { return v.dot == dot; });
    });
  };
  // 3. Every conflict still open is in every node's log with all its siblings.
  for (const auto& [k, v] : states[0]) {
    if (v.siblings.size() < 2) continue;
    for (int i = 0; i < n; ++i) {
      if (is_scoped(i)) continue;  // it logs the conflicts of its scope it saw
      ++stats_.invariants_checked;
      const bool found = std::any_of(logs[i].begin(), logs[i].end(), [&](const ConflictEntry& e) {
        if (!(e.key == k)) return false;
        return std::all_of(v.siblings.begin(), v.siblings.end(), [&](const Version& s) {
          return std::any_of(e.siblings.begin(), e.siblings.end(), [&](const Version& x) { return x.dot == s.dot; });
        });
      });
      if (!found) return describe(k) + " is conflicted but node " + std::to_string(i + 1) + " did not log it";
    }
  }
  // 4. A conflict that a local write settled was logged, with every sibling, at that node.
  for (int i = 0; i < n; ++i) {
    for (const auto& [key, dots] : superseded_conflicts_[i]) {
      for (const Dot& d : dots) {
        ++stats_.invariants_checked;
        if (!logged(i, key, d)) {
          return describe(key) + ": node " + std::to_string(i + 1) + " superseded sibling " +
                 std::to_string(d.origin) + ":" + std::to_string(d.counter) + " of a conflict it never logged";
        }
      }
    }
  }
  // 5. Nothing silently lost: every write is visible (a live sibling), or was
  // superseded by a write made while holding it (and not itself discarded by
  // a restore), or is a removed tombstone. A write that only the discarded
  // part of a restored store held (no other node had seen it) is the one
  // thing a restore may lose.
  for (const auto& [dot, w] : written_) {
    ++stats_.invariants_checked;
    if (discarded_.count(dot) != 0) continue;
    auto it = states[0].find(w.key);
    const bool live = it != states[0].end() &&
                      std::any_of(it->second.siblings.begin(), it->second.siblings.end(),
                                  [&](const Version& v) { return v.dot == dot; });
    if (live || superseded_by_a_kept_write(dot)) continue;
    const bool removed_tombstone =
        w.deleted && (horizons_before_restores_.covers(dot) ||
                      std::any_of(nodes_.begin(), nodes_.end(),
                                  [&](const SimNode& sn) { return sn.replica->tombstone_horizon().covers(dot); }));
    if (removed_tombstone) continue;
    return "write " + std::to_string(dot.origin) + ":" + std::to_string(dot.counter) + " on " + describe(w.key) +
           " was lost (not visible, not superseded by a write that saw it); now " +
           (it == states[0].end() ? std::string("absent") : describe(it->second));
  }
  return check_clocks();
}

std::string Sim::check_clocks() {
  // 7. No clock dragged (issue #13, bug 2): a node adopts no reading further
  // ahead of its wall clock than the max offset, so its HLC stays within the
  // max offset of the highest wall time it has had, whatever a fast node wrote.
  // Checked after every workload step too: later, time catches up with it.
  const int n = static_cast<int>(nodes_.size());
  const std::uint64_t highest_wall = now_ + static_cast<std::uint64_t>(cfg_.max_skew_ms);
  for (int i = cfg_.fast_clock_ms > 0 ? 1 : 0; i < n; ++i) {
    if (!nodes_[i].replica) continue;  // crashed
    ++stats_.invariants_checked;
    const std::uint64_t hlc_wall = HybridClock::wall_ms(nodes_[i].replica->clock());
    if (hlc_wall > highest_wall + max_clock_offset_ms()) {
      return "node " + std::to_string(i + 1) + "'s clock was dragged " + std::to_string(hlc_wall - highest_wall) +
             " ms ahead of its wall clock (max offset " + std::to_string(max_clock_offset_ms()) + " ms)";
    }
  }
  return "";
}

SimResult Sim::run() {
  const int n = cfg_.nodes;
  nodes_.resize(n);
  side_.assign(n, 0);
  superseded_conflicts_.resize(n);
  for (int i = 0; i < n; ++i) {
    if (!is_scoped(i)) continue;
    auto grant = parse_grant(std::string("or:rw:branch=") + kBranches[i % 2] + " nw:r");
    if (!grant) return SimResult{false, "grant: " + grant.status().to_string(), stats_};
    access_.set(static_cast<NodeId>(i + 1), *grant);
  }
  for (int i = 0; i < n; ++i) {
    SimNode& node = nodes_[i];
    node.id = static_cast<NodeId>(i + 1);
    node.uplink = i == 0;
    node.clock = std::make_unique<SkewedClock>(now_, draw_skew(i));
    node.timers = std::make_unique<SkewedClock>(now_, 0);
    node.joined = !(cfg_.late_joiner && i == n - 1);
    if (Status s = open_node(i); !s) return SimResult{false, "opening node: " + s.to_string(), stats_};
  }
  sync_links();
  Status st;
  for (int op = 0; op < cfg_.operations && st && failure_.empty(); ++op) {
    st = workload_step();
    if (std::string dragged = check_clocks(); st && !dragged.empty()) fail(dragged);
  }
  if (st && failure_.empty()) st = heal_and_quiesce();
  if (!st) fail(st.to_string());
  if (failure_.empty()) {
    std::string broken = check_invariants();
    if (!broken.empty()) fail(broken);
  }
  if (failure_.empty()) {
    // 6. No message storm: with nothing changing, the network empties, and a
    // further pull interval costs at most a pull and an empty answer per pair
    // and direction, carrying no record.
    const std::uint64_t before = stats_.messages;
    const std::uint64_t records_before = stats_.records_sent;
    const ReplicaOptions o = options_for(0);
    if (Status s = advance_to(now_ + o.pull_interval_ms); !s) fail(s.to_string());
    const std::uint64_t pairs = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n - 1);
    ++stats_.invariants_checked;
    if (stats_.records_sent != records_before) fail("records were sent after quiescence: " + last_sent_);
    if (stats_.messages - before > 2 * pairs + 2 * pairs) fail("message storm after quiescence");
    ticks_ = false;
    if (Status s = advance_to(now_ + 10 * cfg_.max_delay_ms + 1000); !s) fail(s.to_string());
    if (!in_flight_.empty()) fail("messages still in flight after quiescence");
  }
  return SimResult{failure_.empty(), failure_, stats_};
}

}  // namespace

SimResult run_simulation(const SimConfig& config) {
  Sim sim(config);
  return sim.run();
}

}  // namespace shopsync::sim
