// Where the tools (shopsync, shopsync-inspect, shopsync token) find the local
// node when no flag names it, so that `shopsync status` works on an installed
// machine as it is (docs/cli.md, "Finding the node").
//
// Each comes from the first of:
//   API address:    --api, $SHOPSYNC_API, the config file's `api`, 127.0.0.1:7461
//   data directory: --data, $SHOPSYNC_DATA, the config file's `data`,
//                   /var/lib/shopsync when a config file is found (the unit
//                   runs the node there), ~/.local/share/shopsync
//   config file:    --config, $SHOPSYNC_CONFIG, /etc/shopsync/shopsyncd.toml
//                   when it exists (the package installs it)
//   API credential: $SHOPSYNC_API_TOKEN, DATA/api.token of the data directory
//                   above when readable (api/api_credential.h), none
// The config file is read with shopsyncd's own parser, and only when an
// answer depends on it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/status.h"

namespace shopsync {

inline constexpr const char* kInstalledConfigFile = "/etc/shopsync/shopsyncd.toml";
inline constexpr const char* kInstalledDataDir = "/var/lib/shopsync";  // the unit's --data

// What the command line said (nullopt: not given).
struct NodeLocationFlags {
  std::optional<std::string> api;
  std::optional<std::filesystem::path> data;
  std::optional<std::string> config;
};

// One answer and where it came from ("--api", "$SHOPSYNC_API", the config
// file's path, "the default"), for messages.
template <class T>
struct Located {
  T value;
  std::string from;
};

class NodeLocator {
 public:
  explicit NodeLocator(NodeLocationFlags flags) : flags_(std::move(flags)) {}

  // The API endpoint ("tcp://127.0.0.1:7461", "ipc:///run/shopsync/api").
  // invalid_argument when an address is malformed or a config file does not load.
  Result<Located<std::string>> api();
  Result<Located<std::filesystem::path>> data_dir();
  // The credential to send to a node started with --api-auth; "" when none is
  // found (a node without --api-auth needs none).
  std::string api_credential();
  // The config file to read, if any ("" from: none).
  Located<std::string> config_file() const;
  // Whether $SHOPSYNC_API / $SHOPSYNC_DATA are set (non-empty).
  static bool api_in_environment();
  static bool data_in_environment();

 private:
  Status load_config();
  NodeLocationFlags flags_;
  bool loaded_ = false;
  std::optional<std::string> config_api_;
  std::optional<std::filesystem::path> config_data_;
};

}  // namespace shopsync
