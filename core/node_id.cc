#include "core/node_id.h"

#include "core/printable.h"

namespace shopsync {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case too: one text form, so that ids compare as text
}

}  // namespace

std::string node_id_text(NodeId id) {
  std::string out(kNodeIdTextLength, '0');
  for (std::size_t i = kNodeIdTextLength; i-- > 0; id >>= 4) out[i] = kDigits[id & 0xf];
  return out;
}

Result<NodeId> parse_node_id(std::string_view text) {
  auto bad = [&] { return Status::invalid("not a node id (16 lowercase hex digits): '" + printable(text) + "'"); };
  if (text.size() != kNodeIdTextLength) return bad();
  NodeId id = 0;
  for (char c : text) {
    const int d = digit_value(c);
    if (d < 0) return bad();
    id = id << 4 | static_cast<NodeId>(d);
  }
  return id;
}

}  // namespace shopsync
