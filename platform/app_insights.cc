#include "platform/app_insights.h"
#include "core/strings.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace artagent::platform {
namespace {

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

core::Status Bad(std::string_view why) {
  return core::InvalidArgumentError(
      "telemetry.app_insights_connection_string (or APPLICATIONINSIGHTS_CONNECTION_STRING): " +
      std::string(why) +
      "; copy the connection string from the Application Insights resource's Overview page");
}

// "https://host/..." with a host; normalised to end with '/'.
core::Result<std::string> Endpoint(std::string_view key, std::string_view value) {
  std::string v(value);
  const bool https = v.rfind("https://", 0) == 0;
  const bool http = v.rfind("http://", 0) == 0;
  const size_t host_at = https ? 8 : 7;
  if ((!https && !http) || v.size() <= host_at || v[host_at] == '/') {
    return Bad(std::string(key) + " is not an http(s) URL");
  }
  if (v.back() != '/') v += '/';
  return v;
}

}  // namespace

core::Result<AppInsightsConnection> ParseAppInsightsConnectionString(std::string_view text) {
  text = core::TrimWhitespace(text);
  if (text.empty()) return Bad("empty");
  if (text.size() > 4096) return Bad("longer than 4096 characters");
  std::map<std::string, std::string> pairs;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = core::TrimWhitespace(text.substr(pos, end - pos));
    pos = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Bad("a part has no '=' (expected key=value pairs separated by ';')");
    }
    std::string key = core::AsciiLower(core::TrimWhitespace(part.substr(0, eq)));
    std::string_view value = core::TrimWhitespace(part.substr(eq + 1));
    if (key.empty()) return Bad("a part has an empty key");
    if (value.empty()) return Bad("'" + std::string(core::TrimWhitespace(part.substr(0, eq))) + "' has no value");
    if (pairs.count(key)) return Bad("'" + std::string(core::TrimWhitespace(part.substr(0, eq))) + "' is repeated");
    pairs[key] = std::string(value);
  }
  AppInsightsConnection c;
  auto it = pairs.find("instrumentationkey");
  if (it == pairs.end()) return Bad("InstrumentationKey is missing");
  if (!IsGuid(it->second)) return Bad("InstrumentationKey is not a GUID");
  c.instrumentation_key = it->second;
  if (auto a = pairs.find("authorization"); a != pairs.end() && core::AsciiLower(a->second) != "ikey") {
    return Bad("Authorization must be 'ikey' (the only scheme connection strings support)");
  }
  std::string suffix;
  if (auto s = pairs.find("endpointsuffix"); s != pairs.end()) {
    std::string_view v = s->second;
    while (!v.empty() && v.front() == '.') v.remove_prefix(1);
    while (!v.empty() && v.back() == '/') v.remove_suffix(1);
    if (v.empty() || v.find("://") != std::string_view::npos ||
        v.find('/') != std::string_view::npos) {
      return Bad("EndpointSuffix must be a DNS suffix such as applicationinsights.azure.cn");
    }
    suffix = v;
  }
  if (auto e = pairs.find("ingestionendpoint"); e != pairs.end()) {
    auto ep = Endpoint("IngestionEndpoint", e->second);
    if (!ep.ok()) return ep.status();
    c.ingestion_endpoint = std::move(ep).value();
  } else if (!suffix.empty()) {
    c.ingestion_endpoint = "https://dc." + suffix + "/";
  } else {
    c.ingestion_endpoint = "https://dc.services.visualstudio.com/";
  }
  if (auto e = pairs.find("liveendpoint"); e != pairs.end()) {
    auto ep = Endpoint("LiveEndpoint", e->second);
    if (!ep.ok()) return ep.status();
    c.live_endpoint = std::move(ep).value();
  } else if (!suffix.empty()) {
    c.live_endpoint = "https://live." + suffix + "/";
  }
  return c;
}

}  // namespace artagent::platform
