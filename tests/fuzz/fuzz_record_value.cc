// Fuzz target: values as the store reads them back from LMDB
// (storage/record_codec.h). The first byte picks the decoder, the rest is the
// stored value: a record state (also as a batch carries it, packed), a version, node meta, a conflict log entry, the
// sibling dots the change index reads (and the heads the tombstone scan reads), or one packed field value. Whatever
// decodes (and, for a record state, passes validation) re-encodes to bytes
// that decode to the same value.
#include <string>
#include <string_view>
#include <vector>

#include "storage/packed_record.h"
#include "storage/record_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace shopsync;

void record_state(std::string_view bytes) {
  DecodeLimits limits;
  limits.max_siblings = 64;
  limits.max_fields = 1024;
  auto state = decode_record_state(bytes, limits);
  std::vector<Dot> dots;
  const Status dots_status = decode_sibling_dots(bytes, dots);
  // A batch's records are checked without building their fields: the check
  // must accept exactly what the decoder reads, and decode to the same.
  auto packed = PackedRecord::parse(std::string(bytes), limits);
  FUZZ_CHECK(packed.is_ok() == state.is_ok(), "the packed check accepts exactly what the decoder reads");
  if (packed) {
    FUZZ_CHECK(packed->decode() == *state, "a packed record decodes as the decoder reads it");
    FUZZ_CHECK(packed->heads().siblings.size() == state->siblings.size() && packed->heads().context == state->context,
               "the heads are the siblings and the context");
  }
  if (!state) {
    FUZZ_CHECK(state.status().code() == Errc::corrupt || state.status().code() == Errc::too_large,
               "a bad stored value is corrupt (or too large)");
    return;
  }
  FUZZ_CHECK(dots_status.is_ok(), "the sibling dots of a decodable state decode");
  // The tombstone scan reads heads only: wherever the decoder reads, so do they.
  RecordState heads;
  FUZZ_CHECK(decode_record_heads(bytes, heads).is_ok(), "the heads of a decodable state decode");
  FUZZ_CHECK(heads.siblings.size() == state->siblings.size() && heads.context == state->context,
             "the heads are the siblings and the context");
  for (std::size_t i = 0; i < heads.siblings.size(); ++i) {
    Version expected = state->siblings[i];
    expected.fields.clear();
    FUZZ_CHECK(heads.siblings[i] == expected, "a head is its sibling without the fields");
  }
  FUZZ_CHECK(dots.size() == state->siblings.size(), "one dot per sibling");
  for (std::size_t i = 0; i < dots.size(); ++i) {
    FUZZ_CHECK(dots[i] == state->siblings[i].dot, "the dots read alone are the siblings' dots");
  }
  if (!validate_record_state(*state)) return;  // the store refuses to write it; nothing to round-trip
  const std::string again = encode_record_state(*state);
  auto back = decode_record_state(again);
  FUZZ_CHECK(back.is_ok(), "an encoded valid state decodes");
  FUZZ_CHECK(*back == *state, "round trip keeps the state");
  msgpack::sbuffer fused;
  FUZZ_CHECK(encode_valid_record_state(*state, fused).is_ok(), "the write path accepts a valid state");
  FUZZ_CHECK(std::string_view(fused.data(), fused.size()) == again, "both encoders agree");
}

void version(std::string_view bytes) {
  auto v = decode_version(bytes);
  if (!v) return;
  RecordState wrapper;
  wrapper.siblings.push_back(*v);
  wrapper.context.advance(v->dot);
  if (!validate_record_state(wrapper)) return;
  auto back = decode_version(encode_version(*v));
  FUZZ_CHECK(back.is_ok() && *back == *v, "round trip keeps the version");
}

void node_meta(std::string_view bytes) {
  auto m = decode_node_meta(bytes);
  if (!m) return;
  auto back = decode_node_meta(encode_node_meta(*m));
  FUZZ_CHECK(back.is_ok() && *back == *m, "round trip keeps the node meta");
}

void conflict_entry(std::string_view bytes) {
  auto e = decode_conflict_entry(bytes);
  if (!e) return;
  RecordState wrapper;
  for (const auto& s : e->siblings) {
    wrapper.siblings.push_back(s);
    wrapper.context.advance(s.dot);
  }
  if (!validate_record_state(wrapper)) return;
  auto back = decode_conflict_entry(encode_conflict_entry(*e));
  FUZZ_CHECK(back.is_ok() && *back == *e, "round trip keeps the conflict entry");
}

void packed_value(std::string_view bytes) {
  const Status st = validate_packed_value(bytes);
  if (!st) FUZZ_CHECK(!st.message().empty(), "a refused value says why");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: record_state(bytes); break;
    case 1: version(bytes); break;
    case 2: node_meta(bytes); break;
    case 3: conflict_entry(bytes); break;
    default: packed_value(bytes); break;
  }
  return 0;
}
