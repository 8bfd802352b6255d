// The PostgreSQL link of an uplink node (--postgres; node/postgres/pg_uplink.h)
// as a loop source of the node. The link lives in the source's closures and
// in the node (for its figures).
#pragma once

#include <functional>
#include <memory>

#include "app/record_counts.h"
#include "node/config.h"
#include "node/loop_source.h"
#include "node/postgres/pg_uplink.h"
#include "replication/replica.h"

namespace shopsync {

// The link --postgres asks for, or null without --postgres. The references
// must outlive it; `steady` is the loop's monotonic clock. Errors:
// invalid_argument (--postgres on a node that is not an uplink), a
// --postgres-mapping that does not load.
Result<std::shared_ptr<postgres::PgUplink>> open_postgres_link(const NodeConfig& config, Replica& replica,
                                                               app::CountingStore& store, Outbox& outbox,
                                                               Clock& steady);

// Polls `link`; `flush` runs after each turn (the peers are told of rows
// imported from PostgreSQL at once).
LoopSource postgres_source(std::shared_ptr<postgres::PgUplink> link, std::function<void()> flush);

}  // namespace shopsync
