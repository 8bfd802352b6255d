// Transcript tests of the session rules: each file in transcripts/ is a
// specification, read as a conversation between this node (a real Peering
// and Replica, with no I/O) and the peers the script plays.
//
// A file is a list of blocks:
//
//   <command> <arguments...>
//   ----
//   <what this node did, one action a line>
//   (a blank line)
//
// Commands (times in ms; `+N`/`-N` is an offset from this node's wall clock):
//   node id=ID [skew=MS]           this node (first command of a file)
//   target HOST:PORT KEY           a static peer (--peer KEY@HOST:PORT)
//   time MONO [wall=+N]            the clocks move (wall: this node's wall clock steps)
//   tick                           the node's timers run
//   inbound KEY [trusted=no]       a connection arrives (prints its link; 0: refused)
//   hello LINK id=ID [name=N] [clock=+N] [cluster=C] [incarnation=I] [strategy=COLLECTION=KIND]
//   strategies [COLLECTION=KIND...]  this node applies that table (SIGHUP)
//   heartbeat LINK | goodbye LINK REASON | error LINK CODE TEXT | fail LINK WHY
//   trust KEY | untrust KEY
//   sessions                       prints each session: peer and link
//
// Actions are printed as `dial LINK HOST:PORT KEY`, `send LINK TYPE [details]`
// and `close LINK`. SHOPSYNC_REWRITE=1 writes what the node did into the
// files instead of comparing (review the diff before committing it).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "node/log.h"
#include "node/peering/peering.h"
#include "replication/clock.h"
#include "storage/memory_store.h"

namespace shopsync {
namespace {

constexpr std::uint64_t kEpoch = 1'700'000'000'000;

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "key=value" arguments.
std::string arg(const std::vector<std::string>& w, const std::string& key, const std::string& fallback = "") {
  for (const auto& x : w) {
    if (x.starts_with(key + "=")) return x.substr(key.size() + 1);
  }
  return fallback;
}

std::uint64_t number(const std::string& text) { return std::strtoull(text.c_str(), nullptr, 0); }

// The rest of a line after its first `n` words.
std::string rest(const std::string& line, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    pos = line.find_first_not_of(' ', pos);
    pos = line.find(' ', pos);
    if (pos == std::string::npos) return {};
  }
  return line.substr(line.find_first_not_of(' ', pos));
}

// This node: Peering and Replica, recording what Peering asks of the transport.
class Subject final : public peering::Io {
 public:
  explicit Subject(const std::vector<std::string>& w) {
    ReplicaOptions options;
    options.cluster = "shop";
    options.node_id = number(arg(w, "id", "2"));
    options.timers = &mono_;
    wall_.set(kEpoch);
    auto replica = Replica::open(store_, wall_, options);
    BOOST_REQUIRE(replica);
    replica_ = std::move(*replica);
    peering::Options rules;
    rules.cluster = "shop";
    rules.name = "us";
    rules.own_key = "our-key";
    rules.listen_port = 7460;
    rules.incarnation = 77;
    rules.heartbeat_ms = 1000;
    rules.peer_timeout_ms = 5000;
    rules.max_clock_skew_ms = number(arg(w, "skew", "5000"));
    peering_ = std::make_unique<Peering>(std::move(rules), *replica_, outbox_, *this);
  }

  Status dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool) override {
    out_ << "dial " << link << " " << address.to_string() << " " << key << "\n";
    return Status::ok();
  }
  Sent send(std::uint64_t link, std::string_view frame) override {
    out_ << "send " << link << " " << describe(frame) << "\n";
    return Sent::ok;
  }
  void close(std::uint64_t link, bool end_connection) override {
    out_ << "close " << link << (end_connection ? " (connection ended)" : "") << "\n";
  }
  bool is_trusted(std::string_view key) override { return trusted_.count(std::string(key)) != 0; }
  std::vector<std::string> trusted_keys() override { return {trusted_.begin(), trusted_.end()}; }

  // Runs one command; returns what the node did.
  std::string run(const std::string& line) {
    out_.str("");
    const auto w = words(line);
    const std::string& cmd = w.at(0);
    if (cmd == "target") {
      const auto colon = w.at(1).rfind(':');
      const PeerAddress address{w.at(1).substr(0, colon), static_cast<std::uint16_t>(number(w.at(1).substr(colon + 1))),
                                w.at(2)};
      trusted_.insert(w.at(2));
      peering_->add_target(address, PeerSource::static_peer, now());
    } else if (cmd == "time") {
      mono_.set(number(w.at(1)));
      if (const std::string step = arg(w, "wall"); !step.empty()) wall_offset_ += std::stoll(step);
    } else if (cmd == "tick") {
      peering_->tick(now());
    } else if (cmd == "inbound") {
      if (arg(w, "trusted", "yes") == "yes") trusted_.insert(w.at(1));
      out_ << "link " << peering_->inbound_link(w.at(1), now()) << "\n";
    } else if (cmd == "hello") {
      wire::Hello h;
      h.cluster = arg(w, "cluster", "shop");
      h.node_id = number(arg(w, "id"));
      h.name = arg(w, "name", "peer-" + arg(w, "id"));
      h.clock_ms = static_cast<std::uint64_t>(static_cast<std::int64_t>(now().wall_ms) + std::stoll(arg(w, "clock", "0")));
      h.listen_port = 7460;
      StrategyTable theirs;
      if (const std::string s = arg(w, "strategy"); !s.empty()) theirs = table_of({"", s});
      h.strategies_digest = strategy_digest(theirs);
      h.strategies = to_text(theirs);
      h.incarnation = number(arg(w, "incarnation", "5"));
      frame(w.at(1), h);
    } else if (cmd == "heartbeat") {
      frame(w.at(1), wire::Heartbeat{now().wall_ms});
    } else if (cmd == "goodbye") {
      frame(w.at(1), wire::Goodbye{rest(line, 2)});
    } else if (cmd == "error") {
      wire::ErrorCode code = wire::ErrorCode::refused;
      for (std::uint32_t c = 1; c <= 9; ++c) {
        if (wire::to_string(static_cast<wire::ErrorCode>(c)) == w.at(2)) code = static_cast<wire::ErrorCode>(c);
      }
      frame(w.at(1), wire::Error{static_cast<std::uint32_t>(code), rest(line, 3)});
    } else if (cmd == "fail") {
      peering_->link_failed(number(w.at(1)), rest(line, 2), now());
    } else if (cmd == "trust") {
      trusted_.insert(w.at(1));
      peering_->key_trusted(w.at(1), now());
    } else if (cmd == "untrust") {
      trusted_.erase(w.at(1));
      peering_->key_untrusted(w.at(1), now());
    } else if (cmd == "strategies") {
      StrategyTable table = table_of(w);
      replica_->set_strategies(table.collections, table.default_kind, table.tolerance_ms);
      peering_->strategies_changed(std::move(table), now());
    } else if (cmd == "sessions") {
      for (const auto& [peer, s] : peering_->sessions()) out_ << "session " << peer << " link " << s->link << "\n";
    } else {
      out_ << "unknown command " << cmd << "\n";
    }
    return out_.str();
  }

 private:
  peering::Now now() {
    wall_.set(static_cast<std::uint64_t>(static_cast<std::int64_t>(kEpoch + mono_.now_ms()) + wall_offset_));
    return peering::Now{mono_.now_ms(), wall_.now_ms()};
  }
  // The table of "COLLECTION=KIND" words (the first word is the command's).
  static StrategyTable table_of(const std::vector<std::string>& w) {
    StrategyTable table;
    for (std::size_t i = 1; i < w.size(); ++i) {
      const auto eq = w[i].find('=');
      auto kind = parse_strategy(w[i].substr(eq + 1));
      BOOST_REQUIRE_MESSAGE(eq != std::string::npos && kind, "not COLLECTION=KIND: " << w[i]);
      table.collections[w[i].substr(0, eq)] = *kind;
    }
    return table;
  }
  void frame(const std::string& link, const wire::WireMessage& message) {
    peering_->frame(number(link), wire::encode(message, wire::kProtocolMax), now());
  }
  static std::string describe(std::string_view frame) {
    auto decoded = wire::decode(frame);
    auto* d = std::get_if<wire::Decoded>(&decoded);
    if (d == nullptr) return "(undecodable)";
    std::string out(wire::to_string(wire::type_of(d->message)));
    if (auto* e = std::get_if<wire::Error>(&d->message)) {
      out += " " + std::string(wire::to_string(static_cast<wire::ErrorCode>(e->code))) + ": " + e->text;
    } else if (auto* g = std::get_if<wire::Goodbye>(&d->message)) {
      out += ": " + g->reason;
    }
    return out;
  }

  MemoryStore store_;
  ManualClock wall_;
  ManualClock mono_;
  std::int64_t wall_offset_ = 0;
  std::unique_ptr<Replica> replica_;
  peering::QueuedOutbox outbox_;
  std::unique_ptr<Peering> peering_;
  std::set<std::string> trusted_;
  std::ostringstream out_;
};

// Runs one transcript; with `rewrite`, returns the file with what the node
// did in place of what it said.
std::string run_transcript(const std::filesystem::path& file, bool rewrite) {
  std::ifstream in(file);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::unique_ptr<Subject> subject;
  std::string written;
  for (std::size_t i = 0; i < lines.size();) {
    const std::string& line = lines[i];
    if (line.empty() || line.starts_with("#")) {
      written += line + "\n";
      ++i;
      continue;
    }
    const std::size_t command_line = i + 1;
    std::string did;
    if (line.starts_with("node")) {
      subject = std::make_unique<Subject>(words(line));
    } else {
      BOOST_REQUIRE_MESSAGE(subject, file.filename() << ":" << command_line << ": the first command must be `node`");
      did = subject->run(line);
    }
    ++i;
    BOOST_REQUIRE_MESSAGE(i < lines.size() && lines[i] == "----", file.filename() << ":" << command_line
                                                                                  << ": `----` expected after the command");
    ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) expected += lines[i++] + "\n";
    written += line + "\n----\n" + did;
    if (!rewrite) {
      BOOST_CHECK_MESSAGE(did == expected, file.filename() << ":" << command_line << ": " << line << "\n  expected:\n"
                                                           << expected << "  did:\n" << did);
    }
  }
  return written;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peering_transcripts)

BOOST_AUTO_TEST_CASE(every_transcript_reads_as_the_node_behaves) {
  log::set_threshold(log::Level::error);
  const bool rewrite = std::getenv("SHOPSYNC_REWRITE") != nullptr;
  int files = 0;
  std::set<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(SHOPSYNC_TRANSCRIPTS_DIR)) {
    if (e.path().extension() == ".txt") paths.insert(e.path());
  }
  for (const auto& path : paths) {
    BOOST_TEST_CONTEXT(path.filename()) {
      const std::string written = run_transcript(path, rewrite);
      if (rewrite) std::ofstream(path) << written;
      ++files;
    }
  }
  BOOST_TEST(files > 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
