#include "tools/inspect/run.h"

#include <unistd.h>

#include <filesystem>
#include <memory>

#include "api/api_client.h"
#include "node/config.h"
#include "node/node_location.h"
#include "tools/inspect/data_dir.h"
#include "tools/inspect/exit_codes.h"
#include "tools/inspect/render.h"
#include "tools/inspect/terminal.h"
#include "tools/inspect/views.h"

namespace shopsync::inspect {

namespace {

struct Failure {
  int code;
  std::string message;
};

// The daemon's own config file, read with the daemon's own parser, so the
// inspector applies the strategies the node applies.
Result<NodeConfig> read_node_config(const std::string& file) {
  const char* argv[] = {"shopsyncd", "--config", file.c_str()};
  return parse_config(3, argv);
}

struct Opened {
  std::vector<std::unique_ptr<DataDir>> dirs;
  std::vector<std::unique_ptr<api::ApiClient>> clients;
  std::vector<NodeRef> nodes;  // in the order A, B
};

// `credential`: sent to the nodes reached by --api (a node with --api-auth asks for it).
std::optional<Failure> open_nodes(const Options& o, const std::string& credential, Opened& opened) {
  std::vector<std::string> dirs = o.data_dirs;
  if (dirs.size() == 2) {
    std::error_code e1, e2;
    const auto c1 = std::filesystem::weakly_canonical(dirs[0], e1);
    const auto c2 = std::filesystem::weakly_canonical(dirs[1], e2);
    if (!e1 && !e2 && c1 == c2) return Failure{kExitUsage, "diff: both arguments name the same directory " + dirs[0]};
  }
  for (const auto& d : dirs) {
    auto dir = DataDir::open(d);
    if (!dir) {
      const Status& s = dir.status();
      const int code = s.code() == Errc::not_found ? kExitNoDataDir : exit_code_for(s);
      return Failure{code, s.message()};
    }
    opened.nodes.push_back(NodeRef{dir->get(), nullptr});
    opened.dirs.push_back(std::move(*dir));
  }
  for (const auto& a : o.apis) {
    api::ApiClientOptions co;
    co.timeout = std::chrono::milliseconds(o.timeout_ms);
    co.credential = credential;
    auto client = api::ApiClient::connect(a, co);
    if (!client) {
      const Status& s = client.status();
      return Failure{s.code() == Errc::invalid_argument ? kExitUsage : kExitUnreachable, "--api " + a + ": " + s.message()};
    }
    opened.clients.push_back(std::make_unique<api::ApiClient>(std::move(*client)));
    opened.nodes.push_back(NodeRef{nullptr, opened.clients.back().get()});
  }
  return std::nullopt;
}

Result<json> build(const Options& o, const Opened& opened, ViewContext& ctx) {
  ctx.now_ms = now_ms();
  switch (o.view) {
    case View::summary: return summary_view(opened.nodes[0], ctx);
    case View::peers: return peers_view(opened.nodes[0], ctx);
    case View::record: return record_view(opened.nodes[0], RecordKey{o.collection, o.id}, ctx);
    case View::conflicts: return conflicts_view(opened.nodes[0], ctx);
    case View::diff: return diff_view(opened.nodes[0], opened.nodes[1], ctx);
  }
  return Status::invalid("unknown view");
}

int failure_code(const Options& o, const Status& s) {
  if (s.code() == Errc::not_found && o.view != View::record) return kExitFailed;
  return exit_code_for(s);
}

std::string source_label(const Options& o) {
  if (!o.apis.empty() && o.data_dirs.empty()) return o.apis.size() == 1 ? o.apis[0] : o.apis[0] + " vs " + o.apis[1];
  std::string s;
  for (const auto& d : o.data_dirs) s += (s.empty() ? "" : " vs ") + d;
  for (const auto& a : o.apis) s += (s.empty() ? "" : " vs ") + a;
  return s;
}

int watch_screen(const Options& o, const Opened& opened, ViewContext& ctx, std::ostream& err) {
  auto screen = Screen::open();
  if (!screen) {
    err << "shopsync-inspect: " << screen.status().message() << "\n";
    return kExitUsage;
  }
  std::string title = "shopsync-inspect " + std::string(to_string(o.view));
  if (o.view == View::record) title += " " + o.collection + "/" + o.id;
  for (;;) {
    auto doc = build(o, opened, ctx);
    std::vector<std::string> lines;
    if (doc) {
      lines = render_text(*doc);
    } else {
      lines = {"error: " + doc.status().message(), "", "(retrying every " + format_duration(o.interval_ms) + ")"};
    }
    screen->draw(lines, title + " | " + source_label(o) + " | " + iso_time(ctx.now_ms) + " | every " +
                            format_duration(o.interval_ms) + " | q quits");
    const auto key = screen->wait_key(static_cast<int>(o.interval_ms));
    if (Screen::stop_requested() || (key && (*key == 'q' || *key == 'Q'))) break;
  }
  return kExitOk;
}

int watch_json(const Options& o, const Opened& opened, ViewContext& ctx, std::ostream& out) {
  Screen::install_signal_handlers();
  while (!Screen::stop_requested()) {
    auto doc = build(o, opened, ctx);
    if (doc) {
      out << dump(*doc) << "\n";
    } else {
      out << dump(json{{"view", to_string(o.view)},
                       {"generated_at", time_json(ctx.now_ms)},
                       {"error", {{"code", to_string(doc.status().code())}, {"message", doc.status().message()}}}})
          << "\n";
    }
    out.flush();
    if (!out) break;  // the reader went away
    const std::uint64_t until = now_ms() + o.interval_ms;
    while (!Screen::stop_requested() && now_ms() < until) ::usleep(20'000);
  }
  return kExitOk;
}

// Without DATA_DIR or --api, the node is found (node/node_location.h):
// $SHOPSYNC_DATA, else $SHOPSYNC_API, else the data directory of the config
// file (its `data`, else /var/lib/shopsync) when this user may read it, else
// the node's API from the config file; without a config file, the default
// data directory.
Status locate_source(Options& o, NodeLocator& locator) {
  if (!o.data_dirs.empty() || !o.apis.empty()) return Status::ok();
  const bool have_config = !locator.config_file().value.empty();
  if (NodeLocator::data_in_environment() || (!NodeLocator::api_in_environment() && !have_config)) {
    auto dir = locator.data_dir();
    if (!dir) return dir.status();
    o.data_dirs.push_back(dir->value.string());
    return Status::ok();
  }
  if (!NodeLocator::api_in_environment()) {
    auto dir = locator.data_dir();
    if (!dir) return dir.status();
    if (::access(dir->value.c_str(), R_OK | X_OK) == 0) {
      o.data_dirs.push_back(dir->value.string());
      return Status::ok();
    }
  }
  auto api = locator.api();
  if (!api) return api.status();
  o.apis.push_back(api->value);
  return Status::ok();
}

}  // namespace

int run(const Options& given, std::ostream& out, std::ostream& err) {
  auto fail = [&](int code, const std::string& message) {
    err << "shopsync-inspect: " << message << "\n";
    return code;
  };
  Options o = given;
  NodeLocator locator({std::nullopt, std::nullopt, given.config_file});
  if (Status s = locate_source(o, locator); !s) return fail(kExitUsage, s.message());
  std::map<std::string, std::string> configured;
  ViewContext ctx;
  if (const auto config = locator.config_file(); !config.value.empty()) {
    auto cfg = read_node_config(config.value);
    if (!cfg) return fail(kExitUsage, config.from + " " + config.value + ": " + cfg.status().message());
    configured = cfg->strategies;
    ctx.facts.name = cfg->name;
    ctx.facts.role = std::string(to_string(cfg->role));
  }
  for (const auto& [c, s] : o.strategies) configured[c] = s;
  auto book = StrategyBook::make(configured);
  if (!book) return fail(kExitUsage, book.status().message());
  ctx.strategies = std::move(*book);
  ctx.retention_ms = o.retention_ms;
  ctx.limit = o.limit;

  Opened opened;
  const std::string credential = o.apis.empty() ? std::string() : locator.api_credential();
  if (auto f = open_nodes(o, credential, opened)) return fail(f->code, f->message);

  if (o.watch) return o.json ? watch_json(o, opened, ctx, out) : watch_screen(o, opened, ctx, err);

  ProgressBar bar(o.progress);
  ctx.progress = [&](std::string_view phase, std::uint64_t done, std::uint64_t total) { bar.update(phase, done, total); };
  auto doc = build(o, opened, ctx);
  bar.clear();
  if (!doc) return fail(failure_code(o, doc.status()), doc.status().message());
  if (o.json) {
    out << dump(*doc, 2) << "\n";
  } else {
    for (const auto& line : render_text(*doc)) out << line << "\n";
  }
  out.flush();
  if (o.view == View::diff && !doc->value("identical", false)) return kExitDiffers;
  return kExitOk;
}

}  // namespace shopsync::inspect
