// Fuzz target: a public key as an operator types it (net/public_key_text.h):
// the spoken form in any case and grouping, or Z85. The input is the text.
// Whatever parses is a Z85 key that reads back as itself, and whose spoken
// form reads back to it; whatever does not is refused with a reason.
#include <string>
#include <string_view>

#include "net/public_key_text.h"
#include "net/zmq_socket.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shopsync;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = parse_public_key(text);
  if (!key) {
    FUZZ_CHECK(key.status().code() == Errc::invalid_argument, "a refused key is invalid input");
    FUZZ_CHECK(!key.status().message().empty(), "a refused key says why");
    FUZZ_CHECK(key.status().message().size() < 400, "the reason stays short whatever the input");
    return 0;
  }
  FUZZ_CHECK(zmq::is_z85_key(*key), "what parses is a Z85 key");
  auto again = parse_public_key(*key);
  FUZZ_CHECK(again.is_ok() && *again == *key, "the Z85 form reads back as itself");
  const std::string spoken = format_public_key(*key);
  FUZZ_CHECK(spoken.size() == 69 && spoken.front() != '-', "the spoken form is 14 groups of 4");
  auto back = parse_public_key(spoken);
  FUZZ_CHECK(back.is_ok() && *back == *key, "the spoken form reads back to the same key");
  return 0;
}
