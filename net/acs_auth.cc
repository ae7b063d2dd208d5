#include "net/acs_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include <cctype>
#include <cstring>

#include "core/base64.h"
#include "core/strings.h"

namespace artagent::net {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::string_view kAuthPrefix =
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=";

}  // namespace

core::Result<AcsConnectionString> ParseAcsConnectionString(std::string_view text) {
  AcsConnectionString out;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view pair = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = core::AsciiLower(core::TrimWhitespace(pair.substr(0, eq)));
    std::string_view value = core::TrimWhitespace(pair.substr(eq + 1));
    if (name == "endpoint") out.endpoint = std::string(value);
    if (name == "accesskey") out.access_key = std::string(value);
  }
  if (out.endpoint.empty()) {
    return core::InvalidArgumentError(
        "the ACS connection string has no endpoint= (expected "
        "endpoint=https://NAME.communication.azure.com/;accesskey=KEY)");
  }
  if (out.access_key.empty()) {
    return core::InvalidArgumentError("the ACS connection string has no accesskey=");
  }
  std::string probe;
  if (!core::Base64Decode(out.access_key, &probe) || probe.empty()) {
    return core::InvalidArgumentError("the ACS connection string's accesskey is not base64");
  }
  while (!out.endpoint.empty() && out.endpoint.back() == '/') out.endpoint.pop_back();
  const std::string lower = core::AsciiLower(out.endpoint);
  size_t scheme_end = lower.find("://");
  if (scheme_end == std::string::npos ||
      (lower.compare(0, scheme_end, "https") != 0 && lower.compare(0, scheme_end, "http") != 0)) {
    return core::InvalidArgumentError("the ACS endpoint '" + out.endpoint +
                                      "' must start with https:// (or http:// for a local fake)");
  }
  const bool https = lower.compare(0, scheme_end, "https") == 0;
  std::string authority = out.endpoint.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  if (authority.empty()) return core::InvalidArgumentError("the ACS endpoint has no host");
  const std::string default_port = https ? ":443" : ":80";
  if (authority.size() > default_port.size() &&
      authority.compare(authority.size() - default_port.size(), default_port.size(),
                        default_port) == 0) {
    authority.resize(authority.size() - default_port.size());
  }
  out.host = authority;
  return out;
}

std::string ContentSha256(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), digest, &len, EVP_sha256(), nullptr);
  return core::Base64Encode(digest, len);
}

std::string HmacSha256Base64(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return core::Base64Encode(mac, len);
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool ParseHttpDate(std::string_view text, std::chrono::system_clock::time_point* out) {
  // "Tue, 02 Jan 2024 03:04:05 GMT"
  if (text.size() != 29 || text.substr(25) != " GMT" || text[3] != ',') return false;
  char month[4] = {};
  struct tm tm = {};
  char tail[8] = {};
  std::string s(text);
  if (std::sscanf(s.c_str() + 5, "%2d %3s %4d %2d:%2d:%2d %3s", &tm.tm_mday, month, &tm.tm_year,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, tail) != 7) {
    return false;
  }
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(month, kMonths[i]) == 0) mon = i;
  }
  if (mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return false;
  }
  tm.tm_mon = mon;
  tm.tm_year -= 1900;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

std::vector<std::pair<std::string, std::string>> AcsSignedHeaders::AsList(
    const std::string& host) const {
  return {{"Host", host},
          {"x-ms-date", date},
          {"x-ms-content-sha256", content_sha256},
          {"Authorization", authorization}};
}

core::Result<AcsSignedHeaders> SignAcsRequest(std::string_view method,
                                              std::string_view path_and_query,
                                              std::string_view host, std::string_view date,
                                              std::string_view body, std::string_view access_key) {
  std::string key;
  if (!core::Base64Decode(access_key, &key) || key.empty()) {
    return core::InvalidArgumentError("the ACS access key is not base64");
  }
  AcsSignedHeaders out;
  out.date = std::string(date);
  out.content_sha256 = ContentSha256(body);
  std::string verb(method);
  for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string to_sign;
  to_sign.reserve(verb.size() + path_and_query.size() + date.size() + host.size() + 64);
  to_sign.append(verb).append("\n").append(path_and_query).append("\n");
  to_sign.append(date).append(";").append(host).append(";").append(out.content_sha256);
  out.authorization = std::string(kAuthPrefix) + HmacSha256Base64(key, to_sign);
  return out;
}

core::Status VerifyAcsRequest(const AcsRequestView& r, std::string_view access_key,
                              std::chrono::system_clock::time_point now,
                              std::chrono::seconds max_skew) {
  if (r.authorization.empty()) return core::UnauthenticatedError("no Authorization header");
  if (r.authorization.substr(0, kAuthPrefix.size()) != kAuthPrefix) {
    return core::UnauthenticatedError(
        "Authorization is not 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&"
        "Signature=...'");
  }
  if (r.date.empty()) return core::UnauthenticatedError("no x-ms-date header");
  if (r.content_sha256.empty()) return core::UnauthenticatedError("no x-ms-content-sha256 header");
  if (r.host.empty()) return core::UnauthenticatedError("no Host header");
  if (ContentSha256(r.body) != r.content_sha256) {
    return core::UnauthenticatedError("x-ms-content-sha256 does not match the body");
  }
  std::chrono::system_clock::time_point when;
  if (!ParseHttpDate(r.date, &when)) {
    return core::UnauthenticatedError("x-ms-date is not an RFC 1123 date");
  }
  if (when > now + max_skew || when < now - max_skew) {
    return core::UnauthenticatedError("x-ms-date is too far from the current time");
  }
  auto expected = SignAcsRequest(r.method, r.path_and_query, r.host, r.date, r.body, access_key);
  if (!expected.ok()) return expected.status();
  const std::string& want = expected->authorization;
  if (want.size() != r.authorization.size() ||
      CRYPTO_memcmp(want.data(), r.authorization.data(), want.size()) != 0) {
    return core::UnauthenticatedError("the HMAC signature does not match");
  }
  return core::OkStatus();
}

}  // namespace artagent::net
