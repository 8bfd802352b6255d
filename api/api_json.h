// The JSON form of local API answers (docs/local-api.md): what `shopsync
// ... --json` prints and what the web console's endpoints of the HTTP gateway
// answer (docs/web-console.md). Keys are snake_case; node ids and dots are
// hex text; times are Unix ms (`*_ms`) and HLCs decimal strings; field values
// in the CLI's form (api/json_values.h BinaryForm::tagged_object), a
// value that does not decode shown as the note "<why>" instead of hiding the
// rest of the record.
//
// Pure functions; nothing throws. Target shopsync_api_json.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api_types.h"
#include "api/json_values.h"

namespace shopsync::api {

using nlohmann::json;

json fields_json(const FieldValues& fields);
json sibling_json(const SiblingView& s);
json sync_json(const SyncProgress& p);
json write_json(const WriteResult& r);
json record_json(const RecordView& r);
json list_json(const ListPage& page);
json collections_json(const CollectionList& list);
json change_json(const Change& c);
json conflicts_json(const ConflictsPage& page);
json status_json(const NodeStatus& s);
json peers_json(const PeerList& list);
json keys_json(const TrustedKeyList& list);

}  // namespace shopsync::api
