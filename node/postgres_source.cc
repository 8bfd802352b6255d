#include "node/postgres_source.h"

namespace shopsync {

Result<std::shared_ptr<postgres::PgUplink>> open_postgres_link(const NodeConfig& config, Replica& replica,
                                                               app::CountingStore& store, Outbox& outbox,
                                                               Clock& steady) {
  if (config.postgres.empty()) return std::shared_ptr<postgres::PgUplink>();
  if (config.role != Role::uplink) return Status::invalid("--postgres is for a node started with --role uplink");
  const std::string cluster = config.cluster.value_or("default");
  postgres::PgUplinkOptions options;
  options.conninfo = config.postgres;
  options.schema = cluster;
  options.node = replica.id();
  if (!config.postgres_mapping.empty()) {
    auto mapping = postgres::Mapping::load(config.postgres_mapping, cluster);
    if (!mapping) return mapping.status().context("--postgres-mapping");
    options.mapping = std::move(*mapping);
  }
  return std::make_shared<postgres::PgUplink>(replica, store, outbox, steady, std::move(options));
}

LoopSource postgres_source(std::shared_ptr<postgres::PgUplink> link, std::function<void()> flush) {
  return LoopSource{[link](std::vector<zmq::PollEntry>& entries) { return link->prepare(entries); },
                    [link, flush = std::move(flush)](std::span<const zmq::PollEntry> entries) {
                      link->on_ready(entries);
                      flush();  // NOTIFY peers of rows imported from PostgreSQL
                    }};
}

}  // namespace shopsync
