#pragma once
// ACS access-key authentication (protocols.md §1.6): connection-string parsing, HMAC-SHA256
// request signing for the Call Automation client, and the verifying side the local simulator uses
// to check what the server sends. No secret is ever logged or put in an error message.
//
// String-to-sign = VERB "\n" pathAndQuery "\n" x-ms-date ";" host ";" x-ms-content-sha256
// Authorization  = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" sig

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace artagent::net {

// "endpoint=https://{resource}.communication.azure.com/;accesskey={base64}" (names matched
// case-insensitively, any order, extra pairs ignored).
struct AcsConnectionString {
  std::string endpoint;    // without the trailing '/': "https://contoso.communication.azure.com"
  std::string host;        // authority as signed: "contoso.communication.azure.com[:port]"
  std::string access_key;  // base64, as given (decodes to the HMAC key)
};
// kInvalidArgument naming what is missing or malformed (never echoing the key).
core::Result<AcsConnectionString> ParseAcsConnectionString(std::string_view text);

// base64(SHA-256(body)); "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" for an empty body.
std::string ContentSha256(std::string_view body);
// base64(HMAC-SHA256(key, message)).
std::string HmacSha256Base64(std::string_view key, std::string_view message);
// RFC 1123 date in GMT: "Tue, 02 Jan 2024 03:04:05 GMT".
std::string HttpDate(std::chrono::system_clock::time_point t);
// Parses HttpDate's format; false if malformed.
bool ParseHttpDate(std::string_view text, std::chrono::system_clock::time_point* out);

// The headers to add to one request.
struct AcsSignedHeaders {
  std::string date;            // x-ms-date
  std::string content_sha256;  // x-ms-content-sha256
  std::string authorization;   // Authorization
  std::vector<std::pair<std::string, std::string>> AsList(const std::string& host) const;
};

// Signs a request. `path_and_query` exactly as sent ("/calling/callConnections:answer?api-version=
// 2025-05-15"); `host` the authority (port only when non-default); `date` as HttpDate() returns.
// kInvalidArgument if `access_key` is not base64.
core::Result<AcsSignedHeaders> SignAcsRequest(std::string_view method,
                                              std::string_view path_and_query,
                                              std::string_view host, std::string_view date,
                                              std::string_view body, std::string_view access_key);

// The verifying side (what ACS does; used by the simulator). `header` looks a request header up
// by lower-case name. Checks the body hash, the date (within `max_skew` of `now`) and the
// signature. kUnauthenticated with the reason (missing header, bad hash, stale date, bad
// signature).
struct AcsRequestView {
  std::string_view method;
  std::string_view path_and_query;
  std::string_view host;
  std::string_view body;
  std::string_view date;            // x-ms-date
  std::string_view content_sha256;  // x-ms-content-sha256
  std::string_view authorization;
};
core::Status VerifyAcsRequest(const AcsRequestView& request, std::string_view access_key,
                              std::chrono::system_clock::time_point now,
                              std::chrono::seconds max_skew = std::chrono::minutes(15));

}  // namespace artagent::net
