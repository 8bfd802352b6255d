// Node: SIGHUP reads the configuration again (docs/operations.md, "Reloading
// the configuration"). Trust, strategies and the log level change at once;
// the rest (addresses, data directory, peers...) waits for a restart and the
// log says so.
#include <time.h>

#include <algorithm>
#include <set>

#include "node/node_parts.h"

namespace shopsync {

namespace {

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

void Node::reload() {
  // systemd (Type=notify) shows the unit "reloading" until READY=1 again.
  systemd_.notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) +
                  "\nSTATUS=reloading the configuration");
  if (!config_source_) {
    reload_error_ = "no configuration to reload";
    SHOPSYNC_LOG(warn, "SIGHUP received: " << reload_error_);
  } else if (auto fresh = config_source_(); !fresh) {
    reload_error_ = "the configuration does not load, keeping the running one: " + fresh.status().message();
    SHOPSYNC_LOG(error, "SIGHUP: " << reload_error_);
  } else if (Status s = apply_reload(*fresh); !s) {
    reload_error_ = "reloading the configuration failed: " + s.to_string();
    SHOPSYNC_LOG(error, "SIGHUP: " << reload_error_);
  } else {
    ++reloads_;
    reload_error_.clear();
  }
  systemd_status_ = service_status();
  systemd_.notify("READY=1\nSTATUS=" + systemd_status_);
}

Status Node::apply_reload(const NodeConfig& fresh) {
  // Everything that can be refused is checked before anything changes.
  auto table = strategy_table_of(fresh);
  if (!table) return table.status().context("keeping the running configuration");
  if (auto later = restart_only_changes(config_, fresh); !later.empty()) {
    std::string names;
    for (const auto& n : later) names += (names.empty() ? "" : ", ") + n;
    SHOPSYNC_LOG(warn, "SIGHUP: changed settings that take effect at the next restart only: " << names);
  }

  // Trust: keys the new configuration names are trusted (unless revoked);
  // keys only the old one named, and that only a configuration had added,
  // are trusted no more. Keys added with `shopsync trust add` stay.
  const std::uint64_t now = clock_.now_ms();
  const auto fresh_rows = configured_keys(fresh, now);
  auto added = trust_->add_configured(fresh_rows);
  if (!added) return added.status().context("storing the trusted keys of the configuration");
  for (const auto& key : *added) {
    SHOPSYNC_LOG(info, "SIGHUP: key " << key << " is trusted now");
    key_trusted(key);
  }
  const auto fresh_keys = keys_of(fresh_rows);
  std::vector<std::string> dropped;
  for (const auto& key : keys_of(configured_keys(config_, now))) {
    if (!fresh_keys.count(key)) dropped.push_back(key);
  }
  std::vector<std::string> removed;
  SHOPSYNC_TRY(store_->write([&](StoreWriter& w) -> Status {
    auto rows = list_trusted_keys(w);
    if (!rows) return rows.status();
    for (const auto& row : *rows) {
      if (std::find(dropped.begin(), dropped.end(), row.key) == dropped.end() || !row.name.starts_with("--")) continue;
      auto gone = remove_trusted_key(w, row.key);
      if (!gone) return gone.status();
      removed.push_back(row.key);
    }
    return Status::ok();
  }).context("removing keys the configuration no longer names"));
  for (const auto& key : removed) {
    SHOPSYNC_LOG(info, "SIGHUP: key " << key << " is no longer trusted (the configuration no longer names it)");
    forsake_key(key);
  }
  config_.trust = fresh.trust;

  if (fresh.log_level != config_.log_level) {
    SHOPSYNC_LOG(info, "SIGHUP: log level " << log::to_string(fresh.log_level));
    log::set_threshold(fresh.log_level);
    config_.log_level = fresh.log_level;
  }
  if (to_text(*table) != to_text(strategies())) SHOPSYNC_TRY(change_strategies(std::move(*table)));
  config_.strategies = fresh.strategies;
  SHOPSYNC_LOG(info, "SIGHUP: configuration reloaded");
  return Status::ok();
}

Status Node::change_strategies(StrategyTable table) {
  SHOPSYNC_LOG(info, "SIGHUP: conflict strategies now '" << to_text(table) << "' (were '" << to_text(strategies()) << "')");
  SHOPSYNC_TRY(store_->write([&](StoreWriter& w) { return w.put(Table::settings, kStrategiesSetting, to_text(table)); })
                   .context("storing the strategy table"));
  replica_->set_strategies(table.collections, table.default_kind, table.tolerance_ms);
  // Which records show as conflicted may change with the strategy (manual).
  if (Status s = counted_->recount(); !s) SHOPSYNC_LOG(error, "counting the records: " << s.to_string());
  records_changed_ = true;
  // Refused peers are dialed again, sessions whose peer's table now differs end.
  peering_->strategies_changed(std::move(table), now());
  return Status::ok();
}

}  // namespace shopsync
