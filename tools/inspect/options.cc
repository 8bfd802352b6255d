#include "tools/inspect/options.h"

#include <charconv>

namespace shopsync::inspect {

namespace {

std::optional<View> parse_view(std::string_view name) {
  if (name == "summary") return View::summary;
  if (name == "peers") return View::peers;
  if (name == "record") return View::record;
  if (name == "conflicts") return View::conflicts;
  if (name == "diff") return View::diff;
  return std::nullopt;
}

Result<std::uint64_t> parse_uint(std::string_view text, std::string_view flag) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::invalid(std::string(flag) + ": '" + std::string(text) + "' is not a non-negative integer");
  }
  return v;
}

}  // namespace

std::string_view to_string(View view) {
  switch (view) {
    case View::summary: return "summary";
    case View::peers: return "peers";
    case View::record: return "record";
    case View::conflicts: return "conflicts";
    case View::diff: return "diff";
  }
  return "?";
}

std::string usage_text() {
  return R"(usage: shopsync-inspect [DATA_DIR | --api ADDR] VIEW [ARGS] [--json] [--watch] [options]

Shows a shopsync node's replication state: from its data directory, opened
read-only (safe while shopsyncd runs), or from a running node's local API.

views:
  summary                  node id, cluster, role, records per collection, knowledge,
                           conflicts, tombstones, store size and map use
  peers                    every peer seen: how, state, last seen / sync, lag, clock
                           offset, records in/out, last error, tombstone-horizon warnings
  record COLLECTION ID     visible value, siblings with dots, version vector,
                           updated_at, the record's conflict-log history
  conflicts                open conflicts and resolved ones, losing values, strategy
  diff DIR_A DIR_B         which records differ and which node lacks which dots
                           (or: --api A --api B diff; or: DIR_A --api B diff)

options:
  --api ADDR               ask a running node (tcp://127.0.0.1:7461, HOST:PORT, ipc://PATH)
  --json                   print JSON (shapes in docs/inspector.md); with --watch, one
                           document per line per refresh
  --watch                  redraw live in the terminal every second; q quits
  --config FILE            the node's shopsyncd config file: strategies, role, name, and
                           where the node is (see below)
  --strategy C=S           strategy of collection C (as given to shopsyncd), repeatable
  --retention DURATION     tombstone retention the node uses [7d]
  --limit N                rows listed per section (conflicts, diff) [100]
  --interval-ms N          --watch refresh period [1000]
  --timeout-ms N           how long --api waits for an answer [5000]
  --no-progress            no progress bar on stderr
  -h, --help               this text
  --                       ends the options (for an ID that starts with -)

Without DATA_DIR or --api: $SHOPSYNC_DATA, else $SHOPSYNC_API, else the node of the
config file (--config, $SHOPSYNC_CONFIG or /etc/shopsync/shopsyncd.toml): its data
directory when readable, else its API; else ~/.local/share/shopsync.
exit status: 0 ok, 1 diff found differences, 2 usage, 3 no such data dir,
4 not a shopsync store, 5 newer schema, 6 node unreachable, 7 no such record,
8 other failure (corrupt data, I/O, protocol)
)";
}

Result<std::uint64_t> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::uint64_t ms;
  };
  static constexpr Unit kUnits[] = {{"ms", 1}, {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      auto n = parse_uint(text.substr(0, text.size() - u.suffix.size()), "duration");
      if (!n) break;
      if (*n > UINT64_MAX / u.ms) return Status::invalid("duration '" + std::string(text) + "' is too long");
      return *n * u.ms;
    }
  }
  auto n = parse_uint(text, "duration");
  if (!n) return Status::invalid("'" + std::string(text) + "' is not a duration (e.g. 7d, 36h, 90m, 45s, 500ms)");
  return *n;
}

Result<Options> parse_options(int argc, const char* const* argv) {
  Options o;
  std::optional<View> view;
  std::vector<std::string> before;  // positionals before the view
  std::vector<std::string> after;   // positionals after it
  auto add_word = [&](std::string_view word) {
    if (view) {
      after.emplace_back(word);
    } else if (auto v = parse_view(word)) {
      view = *v;
    } else {
      before.emplace_back(word);
    }
  };
  bool options_ended = false;  // after "--" no word is an option (an ID may start with '-')
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_ended) {
      add_word(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    auto value = [&](std::string_view flag) -> Result<std::string> {
      if (i + 1 >= argc) return Status::invalid(std::string(flag) + " needs a value");
      return std::string(argv[++i]);
    };
    auto number = [&](std::string_view flag, std::uint64_t max) -> Result<std::uint64_t> {
      auto v = value(flag);
      if (!v) return v.status();
      auto n = parse_uint(*v, flag);
      if (n && *n > max) return Status::invalid(std::string(flag) + ": " + *v + " is too large");
      return n;
    };
    if (arg == "-h" || arg == "--help") {
      o.show_help = true;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--watch") {
      o.watch = true;
    } else if (arg == "--no-progress") {
      o.progress = false;
    } else if (arg == "--api") {
      auto v = value(arg);
      if (!v) return v.status();
      o.apis.push_back(*v);
    } else if (arg == "--config") {
      auto v = value(arg);
      if (!v) return v.status();
      o.config_file = *v;
    } else if (arg == "--strategy") {
      auto v = value(arg);
      if (!v) return v.status();
      const auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v->size()) {
        return Status::invalid("--strategy wants COLLECTION=STRATEGY, not '" + *v + "'");
      }
      o.strategies[v->substr(0, eq)] = v->substr(eq + 1);
    } else if (arg == "--retention") {
      auto v = value(arg);
      if (!v) return v.status();
      auto d = parse_duration(*v);
      if (!d) return d.status().context("--retention");
      o.retention_ms = *d;
    } else if (arg == "--limit") {
      auto n = number(arg, 1'000'000);
      if (!n) return n.status();
      if (*n == 0) return Status::invalid("--limit must be at least 1");
      o.limit = static_cast<std::uint32_t>(*n);
    } else if (arg == "--interval-ms") {
      auto n = number(arg, 3'600'000);
      if (!n) return n.status();
      if (*n < 50) return Status::invalid("--interval-ms must be at least 50");
      o.interval_ms = static_cast<std::uint32_t>(*n);
    } else if (arg == "--timeout-ms") {
      auto n = number(arg, 3'600'000);
      if (!n) return n.status();
      if (*n == 0) return Status::invalid("--timeout-ms must be at least 1");
      o.timeout_ms = static_cast<std::uint32_t>(*n);
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return Status::invalid("unknown option '" + std::string(arg) + "' (see --help)");
    } else {
      add_word(arg);
    }
  }
  if (o.show_help) return o;
  if (!view) {
    if (before.empty()) return Status::invalid("no view given (summary, peers, record, conflicts, diff); see --help");
    return Status::invalid("unknown view '" + before.back() + "' (summary, peers, record, conflicts, diff)");
  }
  o.view = *view;
  if (before.size() > 1) return Status::invalid("more than one DATA_DIR before the view: '" + before[1] + "'");
  if (o.view == View::diff) {
    o.data_dirs = before;
    o.data_dirs.insert(o.data_dirs.end(), after.begin(), after.end());
    if (o.data_dirs.size() + o.apis.size() != 2) {
      return Status::invalid("diff compares two nodes: give DIR_A DIR_B, --api A --api B, or one of each");
    }
    return o;
  }
  if (o.apis.size() > 1) return Status::invalid("--api given more than once (only diff compares two nodes)");
  if (!o.apis.empty() && !before.empty()) return Status::invalid("give a DATA_DIR or --api, not both");
  // "shopsync-inspect summary DIR" reads as well as "shopsync-inspect DIR summary".
  if (before.empty() && o.apis.empty() && o.view != View::record && after.size() == 1) {
    before.push_back(after.front());
    after.clear();
  }
  o.data_dirs = before;
  if (o.view == View::record) {
    if (after.size() != 2) return Status::invalid("record wants COLLECTION ID");
    o.collection = after[0];
    o.id = after[1];
  } else if (!after.empty()) {
    return Status::invalid(std::string(to_string(o.view)) + " takes no arguments; unexpected '" + after[0] + "'");
  }
  return o;
}

}  // namespace shopsync::inspect
