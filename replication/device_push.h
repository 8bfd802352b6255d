// A device's push (docs/http-gateway.md, "POST /api/sync/push"): what each
// record a browser client sends means against the node's current state, and
// what Replica::apply_device_push commits for it.
//
// A pushed record is decided against what the device last saw of it (its
// SeenVersion, device_state.h):
//   - equal to the node's visible value, or a delete of a record the node
//     does not show: nothing to write; the device has seen the node's state.
//   - the node's state is covered by what the device saw: the push is an
//     ordinary local write (the record becomes the pushed fields, or a
//     tombstone).
//   - otherwise a *device conflict*: the record changed on the node since the
//     device saw it. The collection's strategy picks the winner between the
//     device's version (the client) and the node's visible one (the server);
//     a client or merged winner is written. The conflict is appended to the
//     conflict log (conflict_log.h, make_device_conflict_entry), and when the
//     device does not hold the winner the record goes on its resend list.
// The records, the conflict log entries, the seen versions and the device's
// state are committed in ONE Store::write: a failed or interrupted push leaves
// nothing of it behind. A device's resolve-conflict is one Store::write too:
// the resolution (if any), what the device now holds, its resend list.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "replication/replica.h"
#include "replication/strategy.h"
#include "storage/record.h"

namespace shopsync {

// One record of a push, as the device sent it (bookkeeping fields removed).
struct DeviceChange {
  RecordKey key;
  // The record's whole new value: field name -> one packed MessagePack value.
  std::map<std::string, std::string, std::less<>> fields;
  bool deleted = false;
  // When the device says it edited the record (wall ms). Decides conflicts
  // (newest_wins, merge) and is kept as kEditedAtField (bounded by the
  // node's clock plus the max clock offset); the write's HLC is the node's.
  std::uint64_t client_ms = 0;
};

struct DevicePush {
  std::string device;  // REQUIRES: validate_device_id(device) is ok
  std::vector<DeviceChange> changes;
  std::uint64_t now_ms = 0;  // wall ms of the push, for the device's state
  // Whether a stored packed value and a pushed one are the same value as the
  // device sees it (a device that cannot hold binary sends it back as text).
  // Empty: byte equality.
  std::function<bool(std::string_view stored, std::string_view pushed)> same_value;
};

// Fields of the original client's own bookkeeping, never stored as data:
// updated_at, sync_status, last_synced_at, _deleted, and kEditedAtField (a
// device cannot set it but through updated_at). A merge never removes them
// from the node's version.
bool is_device_bookkeeping(std::string_view name);

// The field in which a device's write keeps when the device says the record
// was edited (its updated_at, Unix ms as a MessagePack integer), no later
// than the node's clock plus ReplicaOptions::max_clock_offset_ms at the push.
// newest_wins between a device and the node compares edit times: a record
// a device wrote was edited at this time, not when the device synced; any
// other write at the time of its HLC. Stored and replicated like a field, so
// every node decides the same; the gateway leaves it out of what it shows.
inline constexpr std::string_view kEditedAtField = "_edited_at";

// When the visible version of a record was edited: its kEditedAtField when
// that was written with (or after) every other field of the version, else
// the wall-clock part of the version's HLC.
std::uint64_t edited_at_ms(const Outcome& visible);

enum class DeviceWinner { server, client, merged };
std::string_view to_string(DeviceWinner winner);

enum class DeviceAction { create, update, remove };

// A device conflict as decided (the push answer reports each).
struct DeviceConflict {
  StrategyKind strategy = StrategyKind::newest_wins;
  DeviceWinner winner = DeviceWinner::server;
  bool near_simultaneous = false;  // newest_wins: the two edits within the tolerance
  std::uint64_t client_ms = 0;
  std::optional<VisibleRecord> server;  // the node's version the push met (always set)
  std::optional<VisibleRecord> merged;  // winner merged: the record as it now is
  std::uint64_t log_seq = 0;            // its conflict log entry
};

// A device settles a conflict (POST /api/sync/resolve-conflict).
struct DeviceResolve {
  std::string device;  // REQUIRES: validate_device_id(device) is ok
  RecordKey key;
  // The record's whole new value: a resolution that supersedes every sibling
  // the node holds (or a new record). nullopt: the node's version stays.
  std::optional<FieldUpdate> fields;
  std::uint64_t now_ms = 0;  // wall ms, for the device's state
};

// What became of one DeviceChange.
struct DeviceChangeOutcome {
  Status error = Status::ok();           // this record failed alone (nothing else is set)
  std::optional<DeviceAction> applied;   // written, or already equal (an UPDATE)
  std::optional<DeviceConflict> conflict;
};

}  // namespace shopsync
