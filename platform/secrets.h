#pragma once
// Secrets: resolves references like "secret://ACS-CONNECTION-STRING" found in configuration values
// (model.api_key, acs.connection_string) and webhook tool auth, by a chain of places:
//
//   1. the environment variable NAME, then NAME upper-cased with '-' as '_'
//      (secret://acs-connection-string -> ACS_CONNECTION_STRING);
//   2. the file NAME in secrets.dir (e.g. /run/secrets/NAME, as Docker and Kubernetes mount them),
//      surrounding whitespace trimmed;
//   3. Azure Key Vault at secrets.key_vault_url: GET {vault}/secrets/{NAME}?api-version=7.4 with a
//      bearer token for https://vault.azure.net/.default ('_' in NAME becomes '-', the only
//      separator Key Vault allows). A 401 challenge (WWW-Authenticate: Bearer authorization=...,
//      resource=... or scope=...) switches to the scope it names, once, if that scope's host is
//      the vault's host or a parent domain of it. Values are cached for `refresh`; a failed
//      refresh of a cached value keeps the old value (logged), except when the secret is gone.
//
// The first place that has a non-empty value wins. A secret found nowhere is kNotFound with a
// message naming every place looked at. Values never appear in a Status or a log line.
//
// Threading: the resolver lives on the executor of its CredentialDeps. Resolve(ref, done) may be
// called from any thread; `done` is posted to that executor. The blocking Resolve(ref) is for
// start-up code and must never run on that executor. The credential must run on the same executor
// (build both from one CredentialDeps). The HttpClient and the credential must outlive the
// resolver; destroying the resolver cancels its Key Vault calls and drops their callbacks.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "platform/identity.h"

namespace artagent::platform {

inline constexpr std::string_view kSecretScheme = "secret://";

// True for "secret://..." values.
bool IsSecretReference(std::string_view value);

struct SecretsOptions {
  // secrets.dir: directory of one file per secret; "" = not used.
  std::string dir;
  // secrets.key_vault_url: "https://NAME.vault.azure.net"; "" = not used.
  std::string key_vault_url;
  std::string key_vault_api_version = "7.4";
  // secrets.refresh_s: how long a Key Vault value is used before it is fetched again.
  std::chrono::seconds refresh{300};
  // Environment lookup; default std::getenv. Tests inject a map.
  std::function<std::optional<std::string>(const std::string& name)> getenv;
  // Longest wait of the blocking Resolve.
  std::chrono::milliseconds blocking_timeout{30000};
};

// The parameters of a Key Vault 401 challenge.
struct KeyVaultChallenge {
  std::string scope;      // resource + "/.default", or scope as given
  std::string tenant_id;  // last path segment of authorization / authorization_uri
};
// Parses "Bearer authorization=\"https://login.microsoftonline.com/TENANT\",
// resource=\"https://vault.azure.net\"" (and the authorization_uri= / scope= variants).
std::optional<KeyVaultChallenge> ParseKeyVaultChallenge(std::string_view www_authenticate);

class SecretResolver {
 public:
  // `credential` may be null when no Key Vault is configured (kInvalidArgument otherwise, as for
  // a key_vault_url that is not an http(s) URL). deps.http and deps.executor are required.
  static core::Result<std::unique_ptr<SecretResolver>> Create(
      SecretsOptions options, std::shared_ptr<TokenCredential> credential, CredentialDeps deps);
  ~SecretResolver();

  // kInvalidArgument when `ref` is not secret://NAME with NAME of letters, digits, '-', '_', '.'.
  void Resolve(const std::string& ref, std::function<void(core::Result<std::string>)> done);
  core::Result<std::string> Resolve(const std::string& ref);
  // A config value: resolved when it is a secret reference, returned as is otherwise.
  core::Result<std::string> ResolveValue(const std::string& value);

  struct Core;

 private:
  explicit SecretResolver(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace artagent::platform
