#pragma once
// URL parsing for the clients in net/ (HTTP and WebSocket). Thread-safe, no I/O.

#include <string>
#include <string_view>

#include "core/status.h"

namespace artagent::net {

struct ParsedUrl {
  bool tls = false;         // https:// or wss://
  std::string host;         // without brackets
  std::string port;         // explicit, or 443 / 80 by scheme
  std::string target;       // "/path?query"
  std::string host_header;  // "host[:port]" as sent
};

// http, https, ws and wss URLs (scheme case-insensitive); the fragment is dropped. kInvalidArgument
// for another scheme, user info, a missing host, a bad IPv6 literal or port.
core::Result<ParsedUrl> ParseUrl(std::string_view url);

// True for an IPv4 or IPv6 address literal (no SNI is sent for those).
bool IsIpLiteral(const std::string& host);

}  // namespace artagent::net
