#include "replication/peer_progress.h"

#include <charconv>

#include "core/node_id.h"
#include "core/version_vector.h"

namespace shopsync {

namespace {

// The next space-separated field of `rest`, taken off its front.
std::string_view next_field(std::string_view& rest) {
  const std::size_t space = rest.find(' ');
  std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return field;
}

Result<std::uint64_t> decimal(std::string_view text, const char* what) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::corrupt(std::string("peer progress: bad ") + what + " '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

std::string peer_progress_key(NodeId peer) { return std::string(kPeerProgressPrefix) + node_id_text(peer); }

std::optional<NodeId> peer_of_progress_key(std::string_view key) {
  if (!key.starts_with(kPeerProgressPrefix)) return std::nullopt;
  auto id = parse_node_id(key.substr(kPeerProgressPrefix.size()));
  if (!id) return std::nullopt;
  return *id;
}

std::string encode_peer_progress(const PeerProgress& p) {
  return version_vector_text(p.knowledge) + ' ' + std::to_string(p.records_in) + ' ' + std::to_string(p.records_out) +
         ' ' + std::to_string(p.last_sync_ms);
}

Result<PeerProgress> decode_peer_progress(std::string_view value) {
  PeerProgress p;
  std::string_view rest = value;
  auto knowledge = parse_version_vector(next_field(rest));
  if (!knowledge) return Status::corrupt("peer progress: " + knowledge.status().message());
  p.knowledge = std::move(*knowledge);
  if (value.find(' ') == std::string_view::npos) return p;  // format 1: the knowledge alone
  for (auto [into, what] : {std::pair{&p.records_in, "records in"}, std::pair{&p.records_out, "records out"},
                            std::pair{&p.last_sync_ms, "last sync"}}) {
    auto n = decimal(next_field(rest), what);
    if (!n) return n.status();
    *into = *n;
  }
  return p;
}

}  // namespace shopsync
