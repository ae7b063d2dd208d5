#pragma once
// Azure Blob Storage over its REST API (protocols.md §7), behind the BlobStorage interface.
//
// Authorization: SharedKey from a connection string's account key, or a bearer token from a
// TokenCredential (scope https://storage.azure.com/.default) for managed identities and service
// principals. Every request carries x-ms-date and x-ms-version (2021-12-02: new enough for
// bearer tokens, >= 2017-11-09, and known to Azurite).
//
// Uploads: a body up to `block_size` bytes is one Put Blob; a larger one is staged as Put Block
// requests of `block_size` bytes (block ids: base64 of equal-length "block-NNNNNNNN"), read from
// the file as they go, then committed with Put Block List — nothing is visible until the commit.
// A container that does not exist (404 ContainerNotFound) is created once and the request re-sent.
//
// Failures: each request is retried with exponential back-off and jitter on 408/429/5xx and on
// connection errors and timeouts (honouring Retry-After); a circuit breaker shared by every
// request opens after repeated failures, and requests then fail fast with kUnavailable until its
// cool-down lets a trial through. Health() reports the breaker for /readyz.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "platform/blob_storage.h"
#include "platform/identity.h"

namespace artagent::platform {

inline constexpr std::string_view kStorageScope = "https://storage.azure.com/.default";
inline constexpr std::string_view kStorageApiVersion = "2021-12-02";

// "DefaultEndpointsProtocol=https;AccountName=NAME;AccountKey=KEY;EndpointSuffix=core.windows.net"
// with an optional BlobEndpoint=URL (Azurite: http://127.0.0.1:10000/devstoreaccount1), or
// "UseDevelopmentStorage=true" (Azurite's well-known account on 127.0.0.1:10000). Names matched
// case-insensitively. kInvalidArgument names what is missing (never echoes the key).
struct StorageConnectionString {
  std::string account_name;
  std::string account_key;    // base64, as given
  std::string blob_endpoint;  // without a trailing '/'
};
core::Result<StorageConnectionString> ParseStorageConnectionString(std::string_view text);

// The SharedKey string-to-sign of a request (protocols.md §7.3). `url` is the full request URL
// (its path and query give CanonicalizedResource); `headers` are the request's headers (x-ms-*
// become CanonicalizedHeaders; Content-Type, Content-MD5 and friends are looked up by name);
// `content_length` is the body size (empty in the string when 0).
std::string SharedKeyStringToSign(std::string_view method, std::string_view account_name,
                                  std::string_view url, const net::Headers& headers,
                                  size_t content_length);
// "SharedKey ACCOUNT:base64(HMAC-SHA256(base64decode(key), string_to_sign))".
// kInvalidArgument if `account_key` is not base64.
core::Result<std::string> SharedKeyAuthorization(std::string_view account_name,
                                                 std::string_view account_key,
                                                 std::string_view string_to_sign);

struct AzureBlobOptions {
  // The account's blob endpoint: https://ACCOUNT.blob.core.windows.net, or path style for
  // Azurite http://127.0.0.1:10000/devstoreaccount1. No trailing '/'.
  std::string endpoint;
  // SharedKey: the account name and its base64 key. Empty key = bearer tokens from `credential`.
  std::string account_name;
  std::string account_key;
  std::shared_ptr<TokenCredential> credential;
  // Bodies above this go up in blocks of this size.
  int64_t block_size = 4 * 1024 * 1024;
  int max_retries = 4;  // per request, after the first attempt
  net::BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::seconds(20), 2.0, 0.2};
  core::Duration max_retry_after = std::chrono::seconds(30);
  std::chrono::milliseconds request_timeout{60000};
  net::CircuitBreakerOptions breaker{5, std::chrono::seconds(30)};
  // x-ms-date's clock (inject one in tests).
  std::function<WallClock::time_point()> now = [] { return WallClock::now(); };
  uint64_t seed = 0;  // back-off jitter; 0 = random
};

// Fills endpoint, account_name and account_key from a connection string.
core::Result<AzureBlobOptions> AzureBlobOptionsFromConnectionString(std::string_view text);

// `http` must outlive the storage. kInvalidArgument for a missing endpoint, neither a key nor a
// credential, a key that is not base64 or a block size below 1 KiB.
core::Result<std::unique_ptr<BlobStorage>> CreateAzureBlobStorage(
    AzureBlobOptions options, net::HttpClient* http, std::shared_ptr<core::Executor> executor);

}  // namespace artagent::platform
