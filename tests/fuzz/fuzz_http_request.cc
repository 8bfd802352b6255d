// Fuzz target: bytes from an HTTP client of the gateway, through the request
// parser (node/gateway/http_parser.h) and the JSON layer
// (node/gateway/json_values.h). The rest of the input is usually several
// pipelined requests; it arrives split at arbitrary points: the first byte
// seeds the sizes of the pieces (1 to 64 bytes, varying piece by piece), and
// the pieces must parse exactly as the whole buffer does: the same requests,
// in the same order, then the same error or the same wait for more. Each request's body, if
// it is JSON, round-trips through text and through MessagePack; its target's
// query values go through percent-decoding and date parsing as the endpoints
// do.
#include <string>
#include <string_view>
#include <variant>

#include "node/gateway/http_parser.h"
#include "node/gateway/json_values.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace shopsync::gateway;

void check_json(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refused JSON body says why");
    return;
  }
  const std::string dumped = dump_json(*parsed);
  auto again = parse_json(dumped);
  FUZZ_CHECK(again.is_ok(), "dumped JSON parses");
  FUZZ_CHECK(dump_json(*again) == dumped, "text round trip is stable");
  const std::string packed = pack_value(*parsed);
  FUZZ_CHECK(unpack_value(packed) == *parsed, "MessagePack round trip keeps the JSON value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint32_t seed = data[0];
  auto next_piece = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return 1 + (seed >> 16) % 64;
  };
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpLimits limits;
  limits.max_body_bytes = 64 * 1024;
  RequestParser parser(limits);
  // Also parse the whole input in one piece: the two must agree.
  RequestParser whole(limits);
  whole.feed(bytes);
  std::size_t requests = 0;
  bool failed = false;
  for (std::size_t at = 0; at < bytes.size() && !failed;) {
    const std::size_t piece = next_piece();
    parser.feed(bytes.substr(at, piece));
    at += piece;
    for (;;) {
      auto next = parser.next();
      if (std::holds_alternative<std::monostate>(next)) break;
      if (auto* error = std::get_if<HttpError>(&next)) {
        FUZZ_CHECK(error->status >= 400 && error->status < 600, "an error has a 4xx/5xx status");
        FUZZ_CHECK(parser.failed(), "the parser stays failed after an error");
        failed = true;
        break;
      }
      const HttpRequest& request = std::get<HttpRequest>(next);
      ++requests;
      auto same = whole.next();
      const auto* whole_request = std::get_if<HttpRequest>(&same);
      FUZZ_CHECK(whole_request != nullptr, "chunking does not change what parses");
      FUZZ_CHECK(whole_request->method == request.method && whole_request->target == request.target &&
                     whole_request->headers == request.headers && whole_request->body == request.body &&
                     whole_request->keep_alive == request.keep_alive,
                 "chunking does not change the request");
      FUZZ_CHECK(request.body.size() <= limits.max_body_bytes, "bodies respect the limit");
      if (!request.body.empty()) check_json(request.body);
      for (const auto& [name, value] : request.query) {
        (void)parse_iso8601(value);
        (void)percent_decode(value, true);
      }
      (void)request.header("content-type");
    }
  }
  // After the last piece the whole buffer has nothing more to give either:
  // the same error, or the same partial request waiting for bytes.
  auto rest = whole.next();
  if (failed) {
    FUZZ_CHECK(std::holds_alternative<HttpError>(rest), "an error in pieces is an error in the whole");
  } else {
    FUZZ_CHECK(!std::holds_alternative<HttpRequest>(rest), "the pieces gave every request of the whole");
    FUZZ_CHECK(std::holds_alternative<HttpError>(rest) == parser.failed(), "the same error or none");
  }
  return 0;
}
