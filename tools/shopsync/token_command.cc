#include "tools/shopsync/token_command.h"

#include <chrono>
#include <functional>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "node/gateway/json_values.h"
#include "node/gateway/tokens.h"
#include "node/node_location.h"
#include "storage/lmdb_store.h"
#include "tools/shopsync/exit_codes.h"

namespace shopsync::cli {

namespace {

constexpr const char* kUsage =
    "usage: shopsync token [--data DIR | --config FILE] [--json] create NAME | ls | revoke NAME\n"
    "  create NAME   make a Bearer token for the HTTP gateway; it is printed once, store it now\n"
    "  ls            the tokens' names and creation times (never the secrets)\n"
    "  revoke NAME   the token stops working at once\n"
    "  --data DIR    the node's data directory (default $SHOPSYNC_DATA, else the `data` of the\n"
    "                config file, else /var/lib/shopsync when there is a config file,\n"
    "                else ~/.local/share/shopsync)\n"
    "  --config FILE the node's shopsyncd.toml [$SHOPSYNC_CONFIG, else /etc/shopsync/shopsyncd.toml]\n";

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// What `shopsync token` needs before it acts: the options, the words'
// shape, where the data directory is, and opening its store; then `act`.
struct DirectCommand {
  const char* name;   // "token"
  const char* usage;
  const char* shape;  // "create NAME, ls, revoke NAME"
  std::function<bool(const std::vector<std::string>&)> shape_ok;
  std::function<Status(std::string_view)> validate_name;  // of words[1]
};

using DirectAction = std::function<int(Store&, const std::vector<std::string>& words, bool json_output)>;

int run_direct(const DirectCommand& cmd, const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const DirectAction& act) {
  const std::string who = std::string("shopsync ") + cmd.name;
  const char* usage = cmd.usage;
  NodeLocationFlags flags;
  bool json_output = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {  // the end of the options
      words.insert(words.end(), args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
      break;
    } else if (args[i] == "--data" && i + 1 < args.size()) {
      flags.data = args[++i];
    } else if (args[i].starts_with("--data=")) {
      flags.data = args[i].substr(7);
    } else if (args[i] == "--config" && i + 1 < args.size()) {
      flags.config = args[++i];
    } else if (args[i].starts_with("--config=")) {
      flags.config = args[i].substr(9);
    } else if (args[i] == "--json") {
      json_output = true;
    } else if (args[i] == "--help" || args[i] == "-h") {
      out << usage;
      return kExitOk;
    } else if (args[i].starts_with("-")) {
      err << who << ": unknown option " << args[i] << '\n' << usage;
      return kExitUsage;
    } else {
      words.push_back(args[i]);
    }
  }
  if (!cmd.shape_ok(words)) {
    err << who << ": give one of " << cmd.shape << '\n' << usage;
    return kExitUsage;
  }
  if (words.size() == 2) {
    if (Status s = cmd.validate_name(words[1]); !s) {
      err << who << ": " << s.message() << '\n';
      return kExitUsage;
    }
  }
  auto located = NodeLocator(flags).data_dir();
  if (!located) {
    err << who << ": " << located.status().message() << '\n';
    return kExitUsage;
  }
  const std::filesystem::path data = located->value;
  std::error_code ec;
  const bool has_store = std::filesystem::exists(data / "data.mdb", ec);
  if (ec == std::errc::permission_denied) {
    err << who << ": cannot read " << data.string() << " (from " << located->from
        << "): permission denied; run it as the node's user (sudo -u shopsync " << who << " ...)\n";
    return kExitRejected;
  }
  if (!has_store) {
    err << who << ": no node store in " << data.string()
        << " (start shopsyncd once with --data " << data.string() << ", or pass --data DIR)\n";
    return kExitNotFound;
  }
  auto store = LmdbStore::open(data);
  if (!store) {
    err << who << ": opening the store in " << data.string() << ": " << store.status().to_string() << '\n';
    return exit_code_for(store.status());
  }
  return act(**store, words, json_output);
}

int token_action(Store& store, const std::vector<std::string>& words, bool json_output, std::ostream& out,
                 std::ostream& err) {
  if (words[0] == "create") {
    auto secret = gateway::create_token(store, words[1], now_ms());
    if (!secret) {
      err << "shopsync token: creating '" << words[1] << "': " << secret.status().message() << '\n';
      return exit_code_for(secret.status());
    }
    if (json_output) {
      out << nlohmann::json{{"name", words[1]}, {"token", *secret}}.dump() << '\n';
    } else {
      out << *secret << '\n';
      err << "token '" << words[1] << "' created; it is not shown again. Use it as: Authorization: Bearer <token>\n";
    }
    return kExitOk;
  }
  if (words[0] == "revoke" || words[0] == "rm") {
    if (Status s = gateway::revoke_token(store, words[1]); !s) {
      err << "shopsync token: revoking '" << words[1] << "': " << s.message() << '\n';
      return exit_code_for(s);
    }
    if (json_output) {
      out << nlohmann::json{{"name", words[1]}, {"revoked", true}}.dump() << '\n';
    } else {
      out << "revoked " << words[1] << '\n';
    }
    return kExitOk;
  }
  auto tokens = gateway::list_tokens(store);
  if (!tokens) {
    err << "shopsync token: listing: " << tokens.status().to_string() << '\n';
    return exit_code_for(tokens.status());
  }
  if (json_output) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tokens) list.push_back({{"name", t.name}, {"created", gateway::format_iso8601(t.created_ms)}});
    out << list.dump() << '\n';
  } else {
    for (const auto& t : *tokens) out << t.name << '\t' << gateway::format_iso8601(t.created_ms) << '\n';
  }
  return kExitOk;
}

}  // namespace

int run_token_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const DirectCommand cmd{"token", kUsage, "create NAME, ls, revoke NAME",
                          [](const std::vector<std::string>& w) {
                            return (w.size() == 2 && (w[0] == "create" || w[0] == "revoke" || w[0] == "rm")) ||
                                   (w.size() == 1 && (w[0] == "ls" || w[0] == "list"));
                          },
                          gateway::validate_token_name};
  return run_direct(cmd, args, out, err, [&](Store& store, const std::vector<std::string>& words, bool json_output) {
    return token_action(store, words, json_output, out, err);
  });
}

}  // namespace shopsync::cli
