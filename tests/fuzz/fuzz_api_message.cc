// Fuzz target: a local API message (api/api_codec.h) as a local process
// may send it to the node (a request) or as a client reads it from whatever
// answers on the API port (a response). The first byte picks which. A
// request that decodes re-encodes to one that decodes to the same body; a
// response likewise.
#include <string>
#include <string_view>

#include "api/api_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace shopsync;
using namespace shopsync::api;

void request(std::string_view bytes) {
  const DecodedRequest first = decode_request(bytes);
  if (!first.status) {
    FUZZ_CHECK(first.status.code() == Errc::invalid_argument || first.status.code() == Errc::protocol ||
                   first.status.code() == Errc::too_large,
               "a bad request is invalid_argument, protocol or too_large");
    FUZZ_CHECK(!first.status.message().empty(), "a refused request says why");
    // The server answers even a malformed request; its reply must encode.
    (void)encode_error(first.req_id, first.op, first.status);
    return;
  }
  FUZZ_CHECK(first.op.has_value() && *first.op == op_of(first.body), "the op names the body");
  const std::string again = encode_request(Request{first.req_id, first.body});
  const DecodedRequest second = decode_request(again);
  FUZZ_CHECK(second.status.is_ok(), "a re-encoded request decodes");
  FUZZ_CHECK(second.req_id == first.req_id, "round trip keeps req_id");
  FUZZ_CHECK(second.body == first.body, "round trip keeps the request");
}

void response(std::string_view bytes) {
  auto first = decode_response(bytes);
  if (!first) return;
  const std::string again = first->error.is_ok() ? encode_response(first->req_id, first->op, first->body)
                                                 : encode_error(first->req_id, first->op, first->error);
  auto second = decode_response(again);
  FUZZ_CHECK(second.is_ok(), "a re-encoded response decodes");
  FUZZ_CHECK(second->req_id == first->req_id && second->op == first->op, "round trip keeps id and op");
  FUZZ_CHECK(second->error.code() == first->error.code(), "round trip keeps the error code");
  if (first->error.is_ok()) FUZZ_CHECK(second->body == first->body, "round trip keeps the answer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    request(bytes);
  } else {
    response(bytes);
  }
  return 0;
}
