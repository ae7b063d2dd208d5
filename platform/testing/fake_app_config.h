#pragma once
// FakeAppConfig: a local Azure App Configuration store for tests (protocols.md §6), on 127.0.0.1
// and port 0. It speaks the REST API artagent uses — GET /kv (key and label filters, paging with
// @nextLink) and GET /kv/{key}?label= (etag, 404) — and checks every request the way the service
// does: HMAC-SHA256 (x-ms-date within 15 minutes, x-ms-content-sha256 of the body, Authorization
// "HMAC-SHA256 Credential=ID&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=...")
// or, when a bearer token is set, "Authorization: Bearer TOKEN". A bad one gets 401 with
// WWW-Authenticate: HMAC-SHA256 error="invalid_token", error_description="...", Bearer.
//
// It fails on cue: the next N requests get a status (401, 429 with retry-after-ms, 5xx), or no
// answer for a while (a timeout for the client). All methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace artagent::platform::testing {

struct FakeAppConfigOptions {
  std::string credential_id = "fake-credential-id";
  std::string secret = "ZmFrZS1hcHAtY29uZmlnLXNlY3JldC0wMTIzNDU2Nzg5";  // base64
  size_t page_size = 100;                                               // items per page of GET /kv
  // Non-empty: requests must carry "Authorization: Bearer <bearer_token>" instead of HMAC.
  std::string bearer_token;
};

struct FakeAppConfigRequest {
  std::string method;
  std::string target;      // as sent: "/kv?key=%2A&label=prod&api-version=1.0"
  int status = 0;          // what the fake answered
  std::string auth_error;  // why it answered 401 (empty otherwise)
};

class FakeAppConfig {
 public:
  static core::Result<std::unique_ptr<FakeAppConfig>> Start(FakeAppConfigOptions options = {});
  ~FakeAppConfig();

  // "http://127.0.0.1:PORT"
  std::string endpoint() const;
  // "Endpoint=http://127.0.0.1:PORT;Id=...;Secret=..."
  std::string connection_string() const;

  // Adds or replaces a key-value (label nullopt: no label); a new etag each time.
  void Set(const std::string& key, const std::string& value,
           std::optional<std::string> label = std::nullopt, const std::string& content_type = "");
  void Remove(const std::string& key, std::optional<std::string> label = std::nullopt);
  // .appconfig.featureflag/<name> with the feature-flag content type; `flag` is the JSON object.
  void SetFeatureFlag(const std::string& name, const nlohmann::json& flag,
                      std::optional<std::string> label = std::nullopt);
  // A Key Vault reference to https://vault.example/secrets/<secret_name>.
  void SetKeyVaultReference(const std::string& key, const std::string& secret_name,
                            std::optional<std::string> label = std::nullopt);

  // The next `count` requests are answered with `status` (and retry-after-ms when given).
  void FailNext(int status, int count = 1, std::optional<int> retry_after_ms = std::nullopt);
  // The next `count` requests get no answer for `delay` (then a 503).
  void StallNext(std::chrono::milliseconds delay, int count = 1);
  // Clears queued failures.
  void Heal();

  std::vector<FakeAppConfigRequest> requests() const;
  size_t request_count() const;
  // Blocks until at least `count` requests arrived or `timeout` passed.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  explicit FakeAppConfig(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artagent::platform::testing
