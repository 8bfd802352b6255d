// Fuzz target: one sync frame as it arrives on a ZeroMQ sync socket
// (node/wire_codec.h). Anything decodes to a message or a DecodeError; a
// message re-encodes at the version it came with and decodes to itself.
#include <string>
#include <string_view>
#include <variant>

#include "node/wire_codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shopsync;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Small limits, so that the limit checks themselves are reached.
  wire::WireLimits limits;
  limits.max_frame_bytes = 1 << 20;
  limits.max_body_bytes = 4 << 20;
  limits.max_elements = 4096;
  limits.max_string_bytes = 1 << 20;
  const wire::DecodeResult first = wire::decode(bytes, limits);
  const auto* decoded = std::get_if<wire::Decoded>(&first);
  if (decoded == nullptr) {
    FUZZ_CHECK(!std::get<wire::DecodeError>(first).text.empty(), "a decode error says what is wrong");
    return 0;
  }
  FUZZ_CHECK(decoded->version >= wire::kProtocolMin && decoded->version <= wire::kProtocolMax,
             "only spoken versions decode");
  const std::string again = wire::encode(decoded->message, decoded->version);
  const wire::DecodeResult second = wire::decode(again);
  const auto* redecoded = std::get_if<wire::Decoded>(&second);
  FUZZ_CHECK(redecoded != nullptr, "a re-encoded message decodes");
  FUZZ_CHECK(redecoded->version == decoded->version, "round trip keeps the version");
  FUZZ_CHECK(redecoded->message == decoded->message, "round trip keeps the message");
  return 0;
}
