#include "platform/secrets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/strings.h"

namespace artagent::platform {
namespace {

constexpr std::string_view kDefaultVaultScope = "https://vault.azure.net/.default";

using SecretCallback = std::function<void(core::Result<std::string>)>;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 256 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string EnvAlias(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

std::string UrlHost(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (!rest.empty() && rest.front() == '[') return core::AsciiLower(rest.substr(0, rest.find(']') + 1));
  return core::AsciiLower(rest.substr(0, rest.find(':')));
}

// Key Vault error bodies: {"error":{"code":"SecretNotFound","message":"..."}}.
std::string VaultError(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    std::string text = json["error"].value("code", "");
    std::string message = json["error"].value("message", "");
    message = message.substr(0, message.find_first_of("\r\n"));
    if (message.size() > 200) message = message.substr(0, 200) + "...";
    if (!message.empty()) text += (text.empty() ? "" : ": ") + message;
    if (!text.empty()) return text;
  }
  return "no error details";
}

}  // namespace

bool IsSecretReference(std::string_view value) { return value.rfind(kSecretScheme, 0) == 0; }

std::optional<KeyVaultChallenge> ParseKeyVaultChallenge(std::string_view header) {
  size_t i = 0;
  while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
  if (core::AsciiLower(header.substr(i, 6)) != "bearer") return std::nullopt;
  i += 6;
  std::map<std::string, std::string> params;
  while (i < header.size()) {
    while (i < header.size() &&
           (header[i] == ',' || std::isspace(static_cast<unsigned char>(header[i])))) {
      ++i;
    }
    size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = core::AsciiLower(header.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      size_t close = header.find('"', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      value = std::string(header.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t end = header.find(',', i);
      value = Trim(std::string(header.substr(i, end == std::string_view::npos ? end : end - i)));
      i = end == std::string_view::npos ? header.size() : end;
    }
    params[key] = value;
  }
  KeyVaultChallenge challenge;
  if (params.count("resource") && !params["resource"].empty()) {
    std::string resource = params["resource"];
    while (!resource.empty() && resource.back() == '/') resource.pop_back();
    challenge.scope = resource + "/.default";
  } else if (params.count("scope") && !params["scope"].empty()) {
    challenge.scope = params["scope"];
  } else {
    return std::nullopt;
  }
  std::string authority =
      params.count("authorization") ? params["authorization"] : params["authorization_uri"];
  while (!authority.empty() && authority.back() == '/') authority.pop_back();
  size_t slash = authority.rfind('/');
  if (slash != std::string::npos && authority.find("://") + 2 != slash) {
    challenge.tenant_id = authority.substr(slash + 1);
  }
  return challenge;
}

struct SecretResolver::Core : std::enable_shared_from_this<Core> {
  SecretsOptions options;
  std::shared_ptr<TokenCredential> credential;
  CredentialDeps deps;
  std::shared_ptr<std::mt19937_64> rng;
  std::string scope = std::string(kDefaultVaultScope);

  struct Cached {
    std::optional<std::string> value;
    WallClock::time_point fetched_at{};
    bool fetching = false;
    std::vector<SecretCallback> waiters;
  };
  std::map<std::string, Cached> cache;  // by Key Vault secret name
  uint64_t next_fetch = 1;
  std::map<uint64_t, std::unique_ptr<RetryingFetch>> fetches;

  std::optional<std::string> Env(const std::string& name) const {
    if (options.getenv) return options.getenv(name);
    const char* v = std::getenv(name.c_str());
    return v == nullptr ? std::nullopt : std::optional<std::string>(v);
  }

  // Runs on the executor. Environment and file first (cheap, synchronous), then Key Vault.
  void Resolve(const std::string& ref, SecretCallback done) {
    if (!IsSecretReference(ref) || !ValidName(ref.substr(kSecretScheme.size()))) {
      done(core::InvalidArgumentError(fmt::format(
          "'{}' is not a secret reference: expected secret://NAME (letters, digits, '-', '_', '.')",
          IsSecretReference(ref) ? ref : std::string("<value>"))));
      return;
    }
    const std::string name = ref.substr(kSecretScheme.size());
    std::vector<std::string> looked;
    std::vector<std::string> env_names{name};
    if (EnvAlias(name) != name) env_names.push_back(EnvAlias(name));
    for (const auto& var : env_names) {
      auto value = Env(var);
      if (value && !value->empty()) {
        done(std::move(*value));
        return;
      }
      looked.push_back("environment variable " + var + " (" + (value ? "empty" : "not set") + ")");
    }
    if (!options.dir.empty()) {
      const std::filesystem::path path = std::filesystem::path(options.dir) / name;
      std::ifstream in(path, std::ios::binary);
      if (in) {
        std::stringstream buffer;
        buffer << in.rdbuf();
        std::string value = Trim(buffer.str());
        if (!value.empty()) {
          done(std::move(value));
          return;
        }
        looked.push_back("file " + path.string() + " (empty)");
      } else {
        looked.push_back("file " + path.string() + " (missing)");
      }
    } else {
      looked.push_back("a secrets directory (secrets.dir not set)");
    }
    if (options.key_vault_url.empty()) {
      looked.push_back("Azure Key Vault (secrets.key_vault_url not set)");
      done(NotFound(ref, looked, ""));
      return;
    }
    std::string vault_name = name;
    std::replace(vault_name.begin(), vault_name.end(), '_', '-');
    if (vault_name.find('.') != std::string::npos) {
      looked.push_back("Azure Key Vault (a '.' is not allowed in Key Vault secret names)");
      done(NotFound(ref, looked, ""));
      return;
    }
    FromVault(ref, vault_name, std::move(looked), std::move(done));
  }

  core::Status NotFound(const std::string& ref, const std::vector<std::string>& looked,
                        const std::string& vault_note) const {
    std::string text = "secret " + ref + " not found; looked in:";
    for (const auto& place : looked) text += "\n  - " + place;
    if (!vault_note.empty()) text += "\n  - " + vault_note;
    return core::NotFoundError(text);
  }

  void FromVault(const std::string& ref, const std::string& vault_name,
                 std::vector<std::string> looked, SecretCallback done) {
    Cached& entry = cache[vault_name];
    const auto now = deps.now();
    if (entry.value && now < entry.fetched_at + options.refresh) {
      done(*entry.value);
      return;
    }
    std::weak_ptr<Core> weak = weak_from_this();
    entry.waiters.push_back([weak, ref, vault_name, looked = std::move(looked),
                             done = std::move(done)](core::Result<std::string> r) {
      auto self = weak.lock();
      if (!self) return;
      if (!r.ok() && r.status().code() == core::StatusCode::kNotFound) {
        done(self->NotFound(ref, looked, r.status().message()));
      } else {
        done(std::move(r));
      }
    });
    if (entry.fetching) return;
    entry.fetching = true;
    Fetch(vault_name, /*challenged=*/false);
  }

  std::string Where(const std::string& vault_name) const {
    return "Azure Key Vault " + options.key_vault_url + " secret '" + vault_name + "'";
  }

  void Fetch(const std::string& vault_name, bool challenged) {
    std::weak_ptr<Core> weak = weak_from_this();
    const std::string token_scope = scope;
    credential->GetToken(token_scope, [weak, vault_name, challenged,
                                       token_scope](core::Result<AccessToken> token) {
      auto self = weak.lock();
      if (!self) return;
      if (!token.ok()) {
        self->Finish(vault_name, core::Status(token.status().code(),
                                              self->Where(vault_name) + ": no token for " +
                                                  token_scope + ": " + token.status().message()));
        return;
      }
      net::HttpRequestSpec spec;
      spec.url = self->options.key_vault_url + "/secrets/" + vault_name +
                 "?api-version=" + self->options.key_vault_api_version;
      spec.headers = {{"Authorization", "Bearer " + token->token}, {"Accept", "application/json"}};
      spec.connect_timeout = std::min(self->deps.request_timeout, std::chrono::milliseconds(5000));
      spec.first_byte_timeout = self->deps.request_timeout;
      spec.idle_timeout = self->deps.request_timeout;
      spec.total_timeout = self->deps.request_timeout * 2;
      const uint64_t id = self->next_fetch++;
      self->fetches[id] = FetchWithRetry(
          self->deps, self->rng, std::move(spec),
          [weak, id, vault_name, challenged](core::Result<net::HttpResponse> r, int attempts) {
            auto core = weak.lock();
            if (!core) return;
            core->OnAnswer(vault_name, challenged, std::move(r), attempts);
            core->fetches.erase(id);
          });
    });
  }

  void OnAnswer(const std::string& vault_name, bool challenged, core::Result<net::HttpResponse> r,
                int attempts) {
    const std::string where = Where(vault_name);
    if (!r.ok()) {
      Finish(vault_name,
             core::UnavailableError(fmt::format("{}: unreachable after {} attempt(s): {}", where,
                                                attempts, r.status().message())));
      return;
    }
    switch (r->status) {
      case 200: {
        auto json = nlohmann::json::parse(r->body, nullptr, false);
        if (!json.is_object() || !json.contains("value") || !json["value"].is_string()) {
          Finish(vault_name, core::InternalError(where + ": the answer has no string 'value'"));
        } else {
          Finish(vault_name, json["value"].get<std::string>());
        }
        return;
      }
      case 401: {
        auto challenge = ParseKeyVaultChallenge(r->Header("WWW-Authenticate"));
        if (!challenged && challenge && challenge->scope != scope) {
          const std::string scope_host = UrlHost(challenge->scope);
          const std::string vault_host = UrlHost(options.key_vault_url);
          const bool matches = !scope_host.empty() &&
                               (vault_host == scope_host ||
                                (vault_host.size() > scope_host.size() &&
                                 vault_host.compare(vault_host.size() - scope_host.size(),
                                                    scope_host.size(), scope_host) == 0 &&
                                 vault_host[vault_host.size() - scope_host.size() - 1] == '.'));
          if (!matches) {
            Finish(vault_name, core::PermissionDeniedError(fmt::format(
                                   "{}: the 401 challenge asks for a token for {}, whose host is "
                                   "not the vault's ({}); refusing to send one",
                                   where, challenge->scope, vault_host)));
            return;
          }
          core::LogInfo("secrets", "{}: Key Vault asks for scope {} (tenant {})",
                        options.key_vault_url, challenge->scope,
                        challenge->tenant_id.empty() ? "?" : challenge->tenant_id);
          scope = challenge->scope;
          Fetch(vault_name, /*challenged=*/true);
          return;
        }
        Finish(vault_name, core::UnauthenticatedError(fmt::format(
                               "{}: 401 with the token of {} ({}); check the identity's tenant "
                               "and that it may use this vault",
                               where, credential->name(), VaultError(r->body))));
        return;
      }
      case 403:
        Finish(vault_name, core::PermissionDeniedError(fmt::format(
                               "{}: 403 for {} ({}); grant it the 'Key Vault Secrets User' role "
                               "or a 'get' secret access policy",
                               where, credential->name(), VaultError(r->body))));
        return;
      case 404:
        Finish(vault_name, core::NotFoundError(where + ": 404 (" + VaultError(r->body) + ")"));
        return;
      default:
        Finish(vault_name,
               core::UnavailableError(fmt::format("{}: HTTP {} after {} attempt(s) ({})", where,
                                                  r->status, attempts, VaultError(r->body))));
    }
  }

  void Finish(const std::string& vault_name, core::Result<std::string> r) {
    Cached& entry = cache[vault_name];
    entry.fetching = false;
    core::Result<std::string> answer = r;
    if (r.ok()) {
      entry.value = *r;
      entry.fetched_at = deps.now();
    } else if (r.status().code() == core::StatusCode::kNotFound) {
      entry.value.reset();
    } else if (entry.value) {
      core::LogWarn("secrets", "{}; the value fetched before is kept", r.status().message());
      answer = *entry.value;
    }
    auto waiters = std::move(entry.waiters);
    entry.waiters.clear();
    for (auto& w : waiters) w(answer);
  }
};

core::Result<std::unique_ptr<SecretResolver>> SecretResolver::Create(
    SecretsOptions options, std::shared_ptr<TokenCredential> credential, CredentialDeps deps) {
  if (deps.http == nullptr || !deps.executor || !deps.now) {
    return core::InvalidArgumentError("SecretResolver: CredentialDeps needs http, executor, now");
  }
  while (!options.key_vault_url.empty() && options.key_vault_url.back() == '/') {
    options.key_vault_url.pop_back();
  }
  if (!options.key_vault_url.empty()) {
    const std::string lower = core::AsciiLower(options.key_vault_url);
    if ((lower.rfind("https://", 0) != 0 && lower.rfind("http://", 0) != 0) ||
        UrlHost(lower).empty()) {
      return core::InvalidArgumentError("secrets.key_vault_url: '" + options.key_vault_url +
                                        "' is not a URL like https://NAME.vault.azure.net");
    }
    if (!credential) {
      return core::InvalidArgumentError(
          "secrets.key_vault_url is set but there is no credential to call Key Vault with");
    }
  }
  auto core = std::make_shared<Core>();
  core->options = std::move(options);
  core->credential = std::move(credential);
  core->rng =
      std::make_shared<std::mt19937_64>(deps.seed != 0 ? deps.seed : std::random_device{}());
  core->deps = std::move(deps);
  return std::unique_ptr<SecretResolver>(new SecretResolver(std::move(core)));
}

SecretResolver::SecretResolver(std::shared_ptr<Core> core) : core_(std::move(core)) {}
SecretResolver::~SecretResolver() = default;

void SecretResolver::Resolve(const std::string& ref,
                             std::function<void(core::Result<std::string>)> done) {
  std::weak_ptr<Core> weak = core_;
  core_->deps.executor->Post([weak, ref, done = std::move(done)]() mutable {
    if (auto core = weak.lock()) core->Resolve(ref, std::move(done));
  });
}

core::Result<std::string> SecretResolver::Resolve(const std::string& ref) {
  auto promise = std::make_shared<std::promise<core::Result<std::string>>>();
  auto future = promise->get_future();
  Resolve(ref, [promise](core::Result<std::string> r) { promise->set_value(std::move(r)); });
  const auto timeout = core_->options.blocking_timeout;
  if (future.wait_for(timeout) != std::future_status::ready) {
    return core::DeadlineExceededError(
        fmt::format("secret {}: not resolved within {} ms", ref, timeout.count()));
  }
  return future.get();
}

core::Result<std::string> SecretResolver::ResolveValue(const std::string& value) {
  if (!IsSecretReference(value)) return value;
  return Resolve(value);
}

}  // namespace artagent::platform
