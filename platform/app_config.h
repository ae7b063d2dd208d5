#pragma once
// Azure App Configuration as a live configuration layer (protocols.md §6, DESIGN §8).
//
// What it reads: every key-value matching app_config.key_filter with label app_config.label
// (default: the environment name), page by page (@nextLink / Link rel="next"), plus the feature
// flags (.appconfig.featureflag/*). Keys are App Configuration spellings of our keys
// ("Backend:MaxConcurrentCalls" is backend.max_concurrent_calls); feature flags and the plain keys
// FeatureFlags:Name become features.<name> (platform/feature_flags.h). Values whose content type
// is a Key Vault reference ({"uri":"https://V.vault.azure.net/secrets/NAME"}) are resolved through
// the SecretResolver as secret://NAME. The sentinel key itself is not a setting.
//
// How it authenticates: with a connection string's Id and Secret, HMAC-SHA256 on every request
// (x-ms-date, x-ms-content-sha256, Authorization "HMAC-SHA256 Credential=ID&SignedHeaders=
// x-ms-date;host;x-ms-content-sha256&Signature=..." — the string-to-sign of ACS, net/acs_auth.h);
// otherwise a bearer token from the identity chain for "{endpoint}/.default".
//
// Refresh: every `refresh` the sentinel key is read; when its etag differs from the one of the
// last load, everything is read again and a new snapshot replaces the old one, in one piece.
// Feature flag filters that depend on time are re-evaluated on every check. A failed check or
// reload keeps the last good snapshot and is retried with back-off (failure_backoff) until it
// works; health() says how it is going (for /readyz). 429 / 5xx / connection errors are retried
// within one request first (Retry-After / retry-after-ms honoured).
//
// Threading: the provider lives on the serial executor of its CredentialDeps; callbacks run there.
// Snapshot() and health() may be called from any thread. LoadBlocking() must not be called on
// that executor. Secrets and tokens never appear in a Status or a log line.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "platform/config.h"
#include "platform/identity.h"
#include "platform/secrets.h"

namespace artagent::platform {

inline constexpr std::string_view kAppConfigSourceName = "app_config";
inline constexpr std::string_view kKeyVaultRefContentType =
    "application/vnd.microsoft.appconfig.keyvaultref+json";

// "Endpoint=https://NAME.azconfig.io;Id=CREDENTIAL;Secret=BASE64" (names case-insensitive, any
// order). kInvalidArgument naming what is missing (never echoing the secret).
struct AppConfigConnectionString {
  std::string endpoint;  // without a trailing '/'
  std::string id;
  std::string secret;  // base64, as given
};
core::Result<AppConfigConnectionString> ParseAppConfigConnectionString(std::string_view text);

// The HMAC headers of one request (x-ms-date, x-ms-content-sha256, Authorization), for
// `path_and_query` exactly as sent and `host` the authority (port only when non-default).
// kInvalidArgument when the secret is not base64.
core::Result<net::Headers> SignAppConfigRequest(std::string_view method,
                                                std::string_view path_and_query,
                                                std::string_view host, std::string_view date,
                                                std::string_view body, std::string_view id,
                                                std::string_view secret);

// The verifying side (App Configuration's; used by the test fake). kUnauthenticated with the
// reason: missing header, unknown credential, body hash, stale date, bad signature.
struct AppConfigRequestView {
  std::string_view method;
  std::string_view path_and_query;
  std::string_view host;
  std::string_view body;
  std::string_view date;            // x-ms-date
  std::string_view content_sha256;  // x-ms-content-sha256
  std::string_view authorization;
};
core::Status VerifyAppConfigRequest(const AppConfigRequestView& request, std::string_view id,
                                    std::string_view secret,
                                    std::chrono::system_clock::time_point now);

// One key-value as listed.
struct AppConfigKeyValue {
  std::string key;
  std::string label;  // "" with has_label false: no label
  bool has_label = false;
  std::string value;
  std::string content_type;
  std::string etag;
};

// One page of GET /kv: the items and the next page's path and query ("" = last page), from
// @nextLink or the Link header. kInvalidArgument when the body is not a kvset.
struct AppConfigPage {
  std::vector<AppConfigKeyValue> items;
  std::string next_link;
};
core::Result<AppConfigPage> ParseAppConfigPage(std::string_view body, const net::Headers& headers);

// The secret reference of a Key Vault reference's value ({"uri":".../secrets/NAME[/VERSION]"}):
// "secret://NAME". kInvalidArgument when it is not one.
core::Result<std::string> KeyVaultReferenceToSecret(std::string_view value);

// "/kv?key=K&label=L&api-version=V" with K and L percent-encoded; label "\0" (a NUL byte) or ""
// is the null label (%00).
std::string AppConfigListPath(std::string_view key_filter, std::string_view label,
                              std::string_view api_version);

struct AppConfigOptions {
  std::string endpoint;  // https://NAME.azconfig.io (http on loopback for local fakes)
  // HMAC credential (connection string); both empty = bearer token from the credential.
  std::string credential_id;
  std::string secret;
  std::string label;  // "" = the null label
  std::string key_filter = "*";
  std::string sentinel_key = "Backend:Sentinel";
  std::string api_version = "1.0";
  std::chrono::milliseconds refresh{30000};
  // Who evaluates percentage rollouts of feature flags (the host name by default).
  std::string instance_id;
  // Waits between failed refreshes (the refresh interval once a check works again).
  net::BackoffPolicy failure_backoff{std::chrono::seconds(1), std::chrono::seconds(300), 2.0, 0.2};
  std::chrono::milliseconds request_timeout{10000};
};

// The App Configuration settings of a loaded configuration (app_config.*), with the connection
// string (already resolved, not a secret:// reference) split up and the label defaulted to the
// environment name. kInvalidArgument naming the key to fix.
core::Result<AppConfigOptions> AppConfigOptionsFromConfig(const Config& config);
// True when app_config.endpoint or app_config.connection_string is set.
bool AppConfigConfigured(const Config& config);

struct AppConfigDeps {
  CredentialDeps http;  // client, serial executor, clock, per-request retry policy
  // Bearer tokens when there is no HMAC credential; may be null otherwise.
  std::shared_ptr<TokenCredential> credential;
  // Key Vault references; null: a reference is an error naming secrets.key_vault_url.
  SecretResolver* secrets = nullptr;
};

struct AppConfigHealth {
  bool loaded = false;  // a snapshot from App Configuration is in use
  bool ok = false;      // the last check or reload worked
  int consecutive_failures = 0;
  std::string last_error;  // of the last failure
  int64_t reloads = 0;     // snapshots taken in
  std::string endpoint;
};

class AppConfigProvider {
 public:
  static core::Result<std::shared_ptr<AppConfigProvider>> Create(AppConfigOptions options,
                                                                 AppConfigDeps deps);
  ~AppConfigProvider();

  // The first load, waiting on the calling thread (never the provider's executor). kUnavailable,
  // kUnauthenticated, kDeadlineExceeded, ... with what went wrong; the caller adds the fix.
  core::Status LoadBlocking(std::chrono::milliseconds timeout);
  // One check now (sentinel, and a reload when it changed); `done` runs on the executor.
  void CheckNow(std::function<void(core::Status)> done);

  // Periodic checks from now on. `on_change` runs on the executor after a new snapshot is in;
  // `on_check` gets each check's outcome ("unchanged", "reloaded", "failed") for metrics.
  void Start(std::function<void()> on_change, std::function<void(std::string_view)> on_check);
  // Stops the checks; no callback runs after it returns. Not from the executor.
  void Stop();

  // The pairs of the last good snapshot: App Configuration key -> value (flags as "true"/"false").
  std::map<std::string, std::string> Snapshot() const;
  // A ConfigSource over Snapshot() for the ConfigLoader.
  std::unique_ptr<ConfigSource> Source();
  AppConfigHealth health() const;

  struct State;

 private:
  explicit AppConfigProvider(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace artagent::platform
