#include "tools/shopsync/token_command.h"

#include <chrono>
#include <functional>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/api_client.h"
#include "api/iso8601.h"
#include "app/tokens.h"
#include "node/node_location.h"
#include "storage/data_dir_lock.h"
#include "storage/lmdb_store.h"
#include "tools/shopsync/exit_codes.h"

namespace shopsync::cli {

namespace {

constexpr const char* kUsage =
    "usage: shopsync token [--api ADDR] [--data DIR | --config FILE] [--json] create NAME [--scope GRANT] | ls |\n"
    "                revoke NAME\n"
    "  create NAME   make a Bearer token for the HTTP gateway; it is printed once, store it now\n"
    "  --scope GRANT what the token may read and write, a grant's text form: 'customers:r',\n"
    "                'orders:rw:branch=north customers:r' (docs/replication.md); default: everything\n"
    "  ls            the tokens' names and creation times (never the secrets)\n"
    "  revoke NAME   the token stops working at once\n"
    "  While shopsyncd runs on the data directory, the command asks it through its local API;\n"
    "  while no shopsyncd runs there, it writes the data directory itself.\n"
    "  --api ADDR    the node's local API (default $SHOPSYNC_API, else the `api` of the config\n"
    "                file, else 127.0.0.1:7461); given, the node is always asked\n"
    "  --data DIR    the node's data directory (default $SHOPSYNC_DATA, else the `data` of the\n"
    "                config file, else /var/lib/shopsync when there is a config file,\n"
    "                else ~/.local/share/shopsync)\n"
    "  --config FILE the node's shopsyncd.toml [$SHOPSYNC_CONFIG, else /etc/shopsync/shopsyncd.toml]\n";

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Where tokens are kept: the running daemon (asked through its
// local API) or, while no daemon runs on it, the data directory's store.
class Keeper {
 public:
  virtual ~Keeper() = default;
  virtual Result<api::TokenSecret> create_token(const std::string& name, const std::string& scope) = 0;
  virtual Result<api::CredentialList> list_tokens() = 0;
  virtual Status revoke_token(const std::string& name) = 0;
};

class DaemonKeeper final : public Keeper {
 public:
  explicit DaemonKeeper(api::ApiClient client) : client_(std::move(client)) {}
  Result<api::TokenSecret> create_token(const std::string& name, const std::string& scope) override {
    return client_.create_token(name, scope);
  }
  Result<api::CredentialList> list_tokens() override { return client_.list_tokens(); }
  Status revoke_token(const std::string& name) override { return client_.revoke_token(name); }

 private:
  api::ApiClient client_;
};

// Holds the data directory's lock (storage/data_dir_lock.h) while it works,
// so that no shopsyncd starts on the directory meanwhile.
class DirectoryKeeper final : public Keeper {
 public:
  DirectoryKeeper(DataDirLock lock, std::unique_ptr<LmdbStore> store) : lock_(std::move(lock)), store_(std::move(store)) {}
  Result<api::TokenSecret> create_token(const std::string& name, const std::string& scope) override {
    std::optional<Grant> grant;
    if (!scope.empty()) {
      auto parsed = parse_grant(scope);
      if (!parsed) return parsed.status();
      grant = std::move(*parsed);
    }
    auto secret = app::create_token(*store_, name, now_ms(), grant);
    if (!secret) return secret.status();
    return api::TokenSecret{name, *secret};
  }
  Result<api::CredentialList> list_tokens() override {
    auto tokens = app::list_tokens(*store_);
    if (!tokens) return tokens.status();
    return credential_list(*tokens);
  }
  Status revoke_token(const std::string& name) override { return app::revoke_token(*store_, name); }

 private:
  DataDirLock lock_;
  std::unique_ptr<LmdbStore> store_;
};

// What `shopsync token` needs before it acts: the options, the words'
// shape, where the node is, and reaching its keeper; then `act`.
struct CredentialCommand {
  const char* name;   // "token"
  const char* usage;
  const char* shape;  // "create NAME, ls, revoke NAME"
  std::function<bool(const std::vector<std::string>&)> shape_ok;
  std::function<Status(std::string_view)> validate_name;  // of words[1]
};

using KeeperAction = std::function<int(Keeper&, const std::vector<std::string>& words, bool json_output)>;

// The running node through its API when --api is given or a shopsyncd holds
// the data directory; the data directory itself when no shopsyncd runs on it.
Result<std::unique_ptr<Keeper>> find_keeper(const NodeLocationFlags& flags, const std::string& who,
                                             int& exit_code) {
  NodeLocator locator(flags);
  // `announced`: where the daemon holding the data directory said its API is.
  auto ask_node = [&](const std::string& why,
                      std::optional<Located<std::string>> announced) -> Result<std::unique_ptr<Keeper>> {
    auto api = announced ? Result<Located<std::string>>(std::move(*announced)) : locator.api();
    if (!api) {
      exit_code = kExitUsage;
      return api.status();
    }
    auto client =
        api::ApiClient::connect(api->value, api::ApiClientOptions{std::chrono::milliseconds(5000), locator.api_credential()});
    if (!client) {
      exit_code = exit_code_for(client.status());
      return client.status();
    }
    // A cheap question first, so that a node that does not answer is said
    // plainly rather than as the failure of the command.
    if (auto key = client->public_key(); !key && key.status().code() == Errc::unavailable) {
      exit_code = kExitUnreachable;
      return Status(Errc::unavailable, why + "no shopsyncd answers on its local API at " + api->value + " (from " +
                                           api->from + "): " + key.status().message());
    }
    return std::unique_ptr<Keeper>(std::make_unique<DaemonKeeper>(std::move(client).value()));
  };
  if (flags.api) return ask_node("", std::nullopt);
  auto located = locator.data_dir();
  if (!located) {
    exit_code = kExitUsage;
    return located.status();
  }
  const std::filesystem::path data = located->value;
  std::error_code ec;
  const bool has_store = std::filesystem::exists(data / "data.mdb", ec);
  if (ec == std::errc::permission_denied) {
    exit_code = kExitRejected;
    return Status(Errc::refused, "cannot read " + data.string() + " (from " + located->from +
                                     "): permission denied; run it as the node's user (sudo -u shopsync " + who +
                                     " ...)");
  }
  if (!has_store) {
    exit_code = kExitNotFound;
    return Status::not_found("no node store in " + data.string() + " (start shopsyncd once with --data " +
                             data.string() + ", or pass --data DIR)");
  }
  auto lock = DataDirLock::acquire(data);
  if (!lock) {
    if (lock.status().code() != Errc::refused) {
      exit_code = exit_code_for(lock.status());
      return lock.status();
    }
    // A shopsyncd runs on the directory: it is the one writer; ask it, where
    // it said its API listens.
    std::optional<Located<std::string>> announced;
    if (auto endpoint = DataDirLock::announced_api(data)) {
      announced = Located<std::string>{*endpoint, "announced in " + (data / "shopsyncd.lock").string()};
    }
    return ask_node(lock.status().message() + "; ", std::move(announced));
  }
  auto store = LmdbStore::open(data);
  if (!store) {
    exit_code = exit_code_for(store.status());
    return store.status().context("opening the store in " + data.string());
  }
  return std::unique_ptr<Keeper>(std::make_unique<DirectoryKeeper>(std::move(*lock), std::move(*store)));
}

int run_credential_command(const CredentialCommand& cmd, const std::vector<std::string>& args, std::ostream& out,
                           std::ostream& err, const KeeperAction& act) {
  const std::string who = std::string("shopsync ") + cmd.name;
  const char* usage = cmd.usage;
  NodeLocationFlags flags;
  bool json_output = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {  // the end of the options
      words.insert(words.end(), args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
      break;
    } else if (args[i] == "--api" && i + 1 < args.size()) {
      flags.api = args[++i];
    } else if (args[i].starts_with("--api=")) {
      flags.api = args[i].substr(6);
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
  int exit_code = kExitNodeError;
  auto keeper = find_keeper(flags, who, exit_code);
  if (!keeper) {
    err << who << ": " << keeper.status().message() << '\n';
    return exit_code;
  }
  return act(**keeper, words, json_output);
}

int token_action(Keeper& keeper, const std::vector<std::string>& words, const std::string& scope, bool json_output,
                 std::ostream& out, std::ostream& err) {
  if (words[0] == "create") {
    auto secret = keeper.create_token(words[1], scope);
    if (!secret) {
      err << "shopsync token: creating '" << words[1] << "': " << secret.status().message() << '\n';
      return exit_code_for(secret.status());
    }
    if (json_output) {
      out << nlohmann::json{{"name", words[1]}, {"token", secret->token}}.dump() << '\n';
    } else {
      out << secret->token << '\n';
      err << "token '" << words[1] << "' created; it is not shown again. Use it as: Authorization: Bearer <token>\n";
    }
    return kExitOk;
  }
  if (words[0] == "revoke" || words[0] == "rm") {
    if (Status s = keeper.revoke_token(words[1]); !s) {
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
  auto tokens = keeper.list_tokens();
  if (!tokens) {
    err << "shopsync token: listing: " << tokens.status().to_string() << '\n';
    return exit_code_for(tokens.status());
  }
  if (json_output) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : tokens->entries) {
      list.push_back({{"name", t.name}, {"created", json_values::format_iso8601(t.created_ms)},
                      {"scope", t.scope.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.scope)}});
    }
    out << list.dump() << '\n';
  } else {
    for (const auto& t : tokens->entries) {
      out << t.name << '\t' << json_values::format_iso8601(t.created_ms) << '\t' << (t.scope.empty() ? "*" : t.scope)
          << '\n';
    }
  }
  return kExitOk;
}

}  // namespace

int run_token_command(const std::vector<std::string>& given, std::ostream& out, std::ostream& err) {
  // --scope belongs to create only; the other options are every credential command's.
  std::vector<std::string> args;
  std::optional<std::string> scope;
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (given[i] == "--") {
      args.insert(args.end(), given.begin() + static_cast<std::ptrdiff_t>(i), given.end());
      break;
    } else if (given[i] == "--scope" && i + 1 < given.size()) {
      scope = given[++i];
    } else if (given[i].starts_with("--scope=")) {
      scope = given[i].substr(8);
    } else {
      args.push_back(given[i]);
    }
  }
  if (scope) {
    const bool create = std::find(args.begin(), args.end(), "create") != args.end();
    auto grant = parse_grant(*scope);
    if (!create || !grant) {
      err << "shopsync token: --scope: " << (create ? grant.status().message() : "only create takes a scope") << '\n'
          << kUsage;
      return kExitUsage;
    }
  }
  const CredentialCommand cmd{"token", kUsage, "create NAME, ls, revoke NAME",
                          [](const std::vector<std::string>& w) {
                            return (w.size() == 2 && (w[0] == "create" || w[0] == "revoke" || w[0] == "rm")) ||
                                   (w.size() == 1 && (w[0] == "ls" || w[0] == "list"));
                          },
                          app::validate_token_name};
  return run_credential_command(cmd, args, out, err, [&](Keeper& keeper, const std::vector<std::string>& words, bool json_output) {
    return token_action(keeper, words, scope.value_or(""), json_output, out, err);
  });
}

}  // namespace shopsync::cli
