// What a node remembers about each browser client ("device") that syncs
// through its HTTP gateway (docs/http-gateway.md, "Devices").
//
// Kept in Table::settings (no schema change). A push writes it in the same
// transaction as the records it applies (Replica::apply_device_push); a pull
// writes it alone (it changes no record):
//   "gateway/device/<DEVICE>"           -> JSON DeviceState
//   "gateway/seen/<DEVICE>/<COLL>/<ID>" -> SeenVersion, text
//       "<context in knowledge text>|<updated_at HLC decimal>"
// The seen entry is the causal context and HLC of the record's state the
// device was last given (by a pull, or by its own push being applied). A push
// of a record whose current context the seen one does not cover changed on
// the node since the device last saw it: a conflict.
//
// Device ids: 1 to 100 of [A-Za-z0-9._:-] (the original client's
// "device_<uuid>" ids fit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

Status validate_device_id(std::string_view id);

struct DeviceState {
  std::uint64_t first_seen_ms = 0;
  std::uint64_t last_pull_ms = 0;   // a pull that returned its last page
  std::uint64_t last_push_ms = 0;
  std::uint64_t last_sync_ms = 0;   // the later of the two
  std::uint64_t pulls = 0;
  std::uint64_t pushes = 0;
  // The node's knowledge when the device's last complete pull started: every
  // change it covers was offered to the device (or older than what it asked).
  std::optional<VersionVector> pulled_knowledge;
  // Knowledge at the first page of a pull still being paged.
  std::optional<VersionVector> paging_knowledge;
  // Records that must go to the device on its next pull whatever their age
  // (a push that lost a conflict: the device holds the losing version).
  std::vector<RecordKey> resend;
};

struct SeenVersion {
  VersionVector context;
  Hlc updated_at = 0;
};

std::string device_key(std::string_view device);
std::string seen_key(std::string_view device, const RecordKey& key);

// nullopt for a device never seen; corrupt when the stored value is not ours.
Result<std::optional<DeviceState>> load_device(StoreReader& reader, std::string_view device);
Status save_device(StoreWriter& writer, std::string_view device, const DeviceState& state);

Result<std::optional<SeenVersion>> load_seen(StoreReader& reader, std::string_view device, const RecordKey& key);
Status save_seen(StoreWriter& writer, std::string_view device, const RecordKey& key, const SeenVersion& seen);

}  // namespace shopsync
