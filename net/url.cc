#include "net/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace artagent::net {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

core::Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return core::InvalidArgumentError("invalid URL (no scheme): " + std::string(url));
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "https") || EqualsIgnoreCase(scheme, "wss")) {
    out.tls = true;
  } else if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "ws")) {
    return core::InvalidArgumentError("unsupported URL scheme '" + std::string(scheme) +
                                      "' (http, https, ws or wss): " + std::string(url));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return core::InvalidArgumentError("URLs with user info are not supported: " + std::string(url));
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::InvalidArgumentError("invalid IPv6 host in URL: " + std::string(url));
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return core::InvalidArgumentError("invalid URL authority: " + std::string(url));
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return core::InvalidArgumentError("URL without host: " + std::string(url));
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
        std::stoi(std::string(port)) > 65535) {
      return core::InvalidArgumentError("invalid port in URL: " + std::string(url));
    }
    out.port = std::string(port);
    out.host_header = std::string(authority);
  } else {
    out.port = out.tls ? "443" : "80";
    out.host_header = std::string(authority);
  }
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace artagent::net
