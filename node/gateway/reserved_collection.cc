#include "node/gateway/reserved_collection.h"

#include <algorithm>

#include "storage/record.h"

namespace shopsync::gateway {

bool is_reserved_collection(std::string_view name) { return name.starts_with(kReservedCollectionPrefix); }

Status validate_device_collection(std::string_view name) {
  SHOPSYNC_TRY(validate_collection_name(name));
  if (is_reserved_collection(name)) {
    return Status::invalid("collection '" + std::string(name) + "' is reserved for the cluster's own records (" +
                           std::string(kReservedCollectionPrefix) + "...)");
  }
  return Status::ok();
}

std::vector<std::string> device_collections(std::vector<std::string> names) {
  std::erase_if(names, [](const std::string& n) { return is_reserved_collection(n); });
  return names;
}

}  // namespace shopsync::gateway
