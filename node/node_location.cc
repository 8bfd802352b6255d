#include "node/node_location.h"

#include <cstdlib>
#include <system_error>

#include "api/api_client.h"
#include "api/api_credential.h"
#include "api/api_types.h"
#include "node/config.h"

namespace shopsync {

namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

Result<std::string> endpoint_of(const std::string& address, const std::string& from) {
  auto endpoint = api::parse_api_address(address);
  if (!endpoint) return Status::invalid(from + ": " + endpoint.status().message());
  return *endpoint;
}

}  // namespace

bool NodeLocator::api_in_environment() { return env("SHOPSYNC_API") != nullptr; }
bool NodeLocator::data_in_environment() { return env("SHOPSYNC_DATA") != nullptr; }

Located<std::string> NodeLocator::config_file() const {
  if (flags_.config) return {*flags_.config, "--config"};
  if (const char* c = env("SHOPSYNC_CONFIG")) return {c, "$SHOPSYNC_CONFIG"};
  std::error_code ec;
  if (std::filesystem::exists(kInstalledConfigFile, ec)) return {kInstalledConfigFile, "the default"};
  return {"", "none"};
}

Status NodeLocator::load_config() {
  if (loaded_) return Status::ok();
  loaded_ = true;
  const auto file = config_file();
  if (file.value.empty()) return Status::ok();
  auto config = read_config_file(file.value);
  if (!config) return Status::invalid(config.status().message() + " (" + file.from + ")");
  // The file's, else the daemon's default: where the node listens. A node
  // that listens on every address ("*") is asked on loopback.
  config_api_ = config->api;
  if (config_api_->starts_with("tcp://*:")) config_api_ = "tcp://127.0.0.1:" + config_api_->substr(8);
  if (config_api_->starts_with("tcp://0.0.0.0:")) config_api_ = "tcp://127.0.0.1:" + config_api_->substr(14);
  if (!config->data_dir.empty()) {
    config_data_ = config->data_dir;
  } else {
    config_data_ = kInstalledDataDir;
  }
  return Status::ok();
}

Result<Located<std::string>> NodeLocator::api() {
  if (flags_.api) {
    auto e = endpoint_of(*flags_.api, "--api " + *flags_.api);
    if (!e) return e.status();
    return Located<std::string>{*e, "--api"};
  }
  if (const char* a = env("SHOPSYNC_API")) {
    auto e = endpoint_of(a, "$SHOPSYNC_API=" + std::string(a));
    if (!e) return e.status();
    return Located<std::string>{*e, "$SHOPSYNC_API"};
  }
  SHOPSYNC_TRY(load_config());
  if (config_api_) return Located<std::string>{*config_api_, config_file().value};
  return Located<std::string>{std::string(api::kDefaultApiAddress), "the default"};
}

std::string NodeLocator::api_credential() {
  if (const char* t = env("SHOPSYNC_API_TOKEN")) return t;
  auto dir = data_dir();
  if (!dir) return "";
  return api::read_api_credential(dir->value).value_or("");
}

Result<Located<std::filesystem::path>> NodeLocator::data_dir() {
  if (flags_.data) return Located<std::filesystem::path>{*flags_.data, "--data"};
  if (const char* d = env("SHOPSYNC_DATA")) return Located<std::filesystem::path>{d, "$SHOPSYNC_DATA"};
  SHOPSYNC_TRY(load_config());
  if (config_data_) return Located<std::filesystem::path>{*config_data_, config_file().value};
  if (const char* home = env("HOME")) {
    return Located<std::filesystem::path>{std::filesystem::path(home) / ".local/share/shopsync", "the default"};
  }
  return Located<std::filesystem::path>{kInstalledDataDir, "the default"};
}

}  // namespace shopsync
