#pragma once
// Identity: OAuth access tokens for Azure services (Key Vault, and later Blob Storage, App
// Configuration, Azure OpenAI), from a service principal's client secret or the host's managed
// identity, cached per scope and refreshed before they expire.
//
//   auto worker = core::SerialThreadExecutor::Create("identity");
//   auto credential = CreateDefaultCredential(CredentialEnvironment::FromProcess(), deps);
//   credential->GetToken("https://vault.azure.net/.default", [](core::Result<AccessToken> t)
//   {...});
//
// Threading: every credential lives on the serial Executor given in CredentialDeps. GetToken may
// be called from any thread; its callback is always posted to that executor (never run inside
// GetToken). GetTokenBlocking is for start-up code: it waits on the calling thread and must never
// be called from the credential's executor (it would wait for itself). The HttpClient must
// outlive the credential. Destroying a credential cancels its fetches; callbacks still waiting
// for them are dropped, not called.
//
// Caching: one token per scope. A cached token is handed out until its refresh time: the
// server's refresh_in when it gives one, else 5 minutes before expiry, or half the lifetime for
// tokens that live less than 10 minutes. Between the refresh time and expiry the cached token is
// still returned while one background fetch replaces it (a failed refresh keeps the old token
// until it expires). Concurrent requests for a scope with no usable token share one fetch.
//
// Errors name the credential and what to fix. kUnauthenticated: the identity provider refused
// (wrong secret, no identity assigned); kUnavailable: the endpoint could not be reached or kept
// failing after retries (429 / 5xx / connection errors are retried with back-off, honouring
// Retry-After); kFailedPrecondition: the credential is not configured (chain members say which
// variables are missing). Token values and client secrets never appear in a Status or a log line.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/executor.h"
#include "core/status.h"
#include "net/http_client.h"
#include "net/retry.h"

namespace artagent::platform {

using WallClock = std::chrono::system_clock;

struct AccessToken {
  std::string token;
  WallClock::time_point expires_on{};
  // When to fetch a new one (the server's refresh_in, else the rule in the header comment).
  WallClock::time_point refresh_on{};
};

using TokenCallback = std::function<void(core::Result<AccessToken>)>;

class TokenCredential {
 public:
  virtual ~TokenCredential() = default;
  // "ClientSecretCredential", "ManagedIdentityCredential (IMDS)", "DefaultAzureCredential", ...
  virtual std::string name() const = 0;
  // A token for `scope` ("https://vault.azure.net/.default"); `done` is posted to the credential's
  // executor.
  virtual void GetToken(const std::string& scope, TokenCallback done) = 0;
  // Waits for GetToken; kDeadlineExceeded after `timeout`. Never from the credential's executor.
  core::Result<AccessToken> GetTokenBlocking(const std::string& scope,
                                             std::chrono::milliseconds timeout);
};

// What credentials need to run: an HTTP client, a serial executor for their state and callbacks,
// a wall clock (token expiry is wall time; inject one in tests) and the retry policy.
struct CredentialDeps {
  net::HttpClient* http = nullptr;
  std::shared_ptr<core::Executor> executor;
  std::function<WallClock::time_point()> now = [] { return WallClock::now(); };
  net::BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::seconds(8), 2.0, 0.2};
  int max_retries = 3;  // retries after the first attempt (429, 5xx, connection errors)
  // Longest Retry-After honoured; longer hints are cut to this.
  core::Duration max_retry_after = std::chrono::seconds(30);
  uint64_t seed = 0;  // back-off jitter; 0 = random
  std::chrono::milliseconds request_timeout{10000};
};

struct ClientSecretOptions {
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  // https://login.microsoftonline.com unless set (AZURE_AUTHORITY_HOST). Must be https, except
  // http on a loopback host (127.0.0.1, localhost, [::1]) for tests and local fakes.
  std::string authority_host;
};

// POST {authority}/{tenant}/oauth2/v2.0/token with grant_type=client_credentials.
// kInvalidArgument for missing fields or a bad authority host.
core::Result<std::unique_ptr<TokenCredential>> CreateClientSecretCredential(
    ClientSecretOptions options, CredentialDeps deps);

struct ManagedIdentityOptions {
  // User-assigned identity's client id (identity.client_id); empty = system-assigned.
  std::string client_id;
  // App Service / Container Apps / Functions: IDENTITY_ENDPOINT and IDENTITY_HEADER. When the
  // endpoint is set this form is used, else the legacy MSI_ENDPOINT / MSI_SECRET one, else IMDS.
  std::string identity_endpoint;
  std::string identity_header;
  std::string msi_endpoint;
  std::string msi_secret;
  // IMDS token URL; overridable for tests.
  std::string imds_endpoint = "http://169.254.169.254/metadata/identity/oauth2/token";
  // IMDS's first request is a probe: short connect timeout, no retries when nothing answers
  // (not on Azure), so that a credential chain moves on quickly.
  std::chrono::milliseconds imds_probe_timeout{1000};
};

// Which managed-identity form `options` selects: "App Service", "App Service (MSI)" or "IMDS".
std::string ManagedIdentitySource(const ManagedIdentityOptions& options);

core::Result<std::unique_ptr<TokenCredential>> CreateManagedIdentityCredential(
    ManagedIdentityOptions options, CredentialDeps deps);

// Tries each credential in order; the first that returns a token is used from then on. When all
// fail, the error lists every credential's failure. kInvalidArgument for an empty list.
core::Result<std::unique_ptr<TokenCredential>> CreateChainedCredential(
    std::string name, std::vector<std::unique_ptr<TokenCredential>> credentials,
    std::shared_ptr<core::Executor> executor);

// The environment variables the default chain reads (taken from the process, or set by tests).
struct CredentialEnvironment {
  std::map<std::string, std::string> vars;  // AZURE_*, IDENTITY_*, MSI_*
  static CredentialEnvironment FromProcess();
  std::string Get(const std::string& name) const;
};

// Like the Azure SDKs' DefaultAzureCredential: the client secret credential when AZURE_TENANT_ID,
// AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are all set (AZURE_AUTHORITY_HOST optional), then the
// managed identity (user-assigned when `managed_identity.client_id`, else AZURE_CLIENT_ID, is
// set). Endpoint fields left at their defaults in `managed_identity` are filled from `env`.
core::Result<std::unique_ptr<TokenCredential>> CreateDefaultCredential(
    const CredentialEnvironment& env, CredentialDeps deps,
    ManagedIdentityOptions managed_identity = {});

// ---- Shared with secrets.cc and exposed for tests ----

// Parses a token endpoint's JSON answer. access_token is required; expiry from expires_in
// (number or numeric string, relative to `now`), else expires_on (epoch seconds as number or
// string, or an RFC 3339 / RFC 1123 date); refresh_in when present. kInternal names the field
// that is missing or malformed (never the token).
core::Result<AccessToken> ParseTokenResponse(std::string_view body, WallClock::time_point now);

// Parses an expires_on value: epoch seconds, "2020-04-20T21:05:35Z" (RFC 3339, offsets and
// fractions accepted) or "Mon, 20 Apr 2020 21:05:35 GMT" (RFC 1123).
std::optional<WallClock::time_point> ParseExpiresOn(std::string_view value);

// application/x-www-form-urlencoded / query-component encoding (RFC 3986 unreserved kept).
std::string PercentEncode(std::string_view text);

// The resource of a ".default" scope: "https://vault.azure.net/.default" ->
// "https://vault.azure.net".
std::string ScopeToResource(std::string_view scope);

// One HTTP request with retries: 408/429/5xx answers and kUnavailable / kDeadlineExceeded
// transport errors are retried up to deps.max_retries times, waiting the server's Retry-After
// (capped by deps.max_retry_after) or the back-off delay. The final answer, whatever its status,
// or the last transport error is posted to deps.executor. `max_retries` < 0: deps.max_retries.
// Destroying the returned handle cancels the call (from the executor: no callback afterwards).
class RetryingFetch {
 public:
  virtual ~RetryingFetch() = default;
};
std::unique_ptr<RetryingFetch> FetchWithRetry(
    const CredentialDeps& deps, std::shared_ptr<std::mt19937_64> rng, net::HttpRequestSpec request,
    std::function<void(core::Result<net::HttpResponse>, int attempts)> done, int max_retries = -1);

}  // namespace artagent::platform
