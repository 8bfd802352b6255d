// Fuzz target: the TXT record of a `_shopsync._tcp` service as an mDNS answer
// carries it (discovery/service_txt.h). The input is the TXT RDATA: a sequence
// of <length byte><that many bytes> character-strings (a truncated last one is
// kept as far as it goes, as a sloppy sender might produce). Whatever decodes
// is valid, and encodes to entries that decode to the same value.
#include <string>
#include <string_view>
#include <vector>

#include "discovery/service_txt.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shopsync::discovery;
  std::vector<std::string_view> entries;
  std::size_t at = 0;
  while (at < size) {
    const std::size_t len = data[at++];
    const std::size_t take = len < size - at ? len : size - at;
    entries.emplace_back(reinterpret_cast<const char*>(data) + at, take);
    at += take;
  }
  auto txt = decode_txt(entries);
  if (!txt) {
    FUZZ_CHECK(!txt.status().message().empty(), "a refused TXT record says why");
    return 0;
  }
  FUZZ_CHECK(validate_txt(*txt).is_ok(), "what decodes is valid");
  const std::vector<std::string> again = encode_txt(*txt);
  std::vector<std::string_view> views(again.begin(), again.end());
  auto back = decode_txt(views);
  FUZZ_CHECK(back.is_ok(), "encoded TXT entries decode");
  FUZZ_CHECK(*back == *txt, "round trip keeps the TXT record");
  return 0;
}
