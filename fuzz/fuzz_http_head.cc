// HTTP/1.1 request heads as the server reads them: Beast's request_parser with the server's
// default header and body limits (server/http_server.h), then ParseRequestTarget on the target
// it accepted. server/ has no head parser of its own that works without a socket; this is the
// same parser configuration http_connection.cc uses, driven from a buffer.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/request_target.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  // Fed in two pieces, as a socket might deliver it.
  const size_t half = size / 2;
  for (size_t end : {half, size}) {
    if (end <= offset) continue;
    size_t used = parser.put(boost::asio::buffer(data + offset, end - offset), ec);
    if (ec == http::error::need_more) {
      ec = {};
      // Beast keeps nothing: the unparsed tail is offered again with the next piece.
    }
    if (ec) break;
    offset += used;
  }
  if (!ec && parser.is_header_done()) {
    const auto& request = parser.get();
    const std::string target(request.target());
    auto parsed = artagent::server::ParseRequestTarget(target);
    if (parsed && (parsed->path.empty() || parsed->path[0] != '/')) std::abort();
  }
  // Percent-decoding on the raw bytes too (query values reach handlers through it).
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)artagent::server::PercentDecode(text, true);
  (void)artagent::server::ParseRequestTarget(text);
  return 0;
}
