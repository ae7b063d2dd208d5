#include "app/live_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <prometheus/counter.h>

#include "app/runtime.h"
#include "core/log.h"

namespace artagent::app {
namespace {

constexpr auto kStartupTimeout = std::chrono::seconds(60);

// Loader warnings about App Configuration's keys (file and environment ones were logged by
// LoadConfig already).
bool IsAppConfigWarning(const std::string& warning) {
  return warning.find(std::string("(") + std::string(platform::kAppConfigSourceName) + ")") !=
         std::string::npos;
}

// A start-up failure, with the setting to fix and how.
std::string Explain(const core::Status& st, const std::string& setting,
                    const std::string& endpoint) {
  std::string fix;
  if (st.code() == core::StatusCode::kUnauthenticated) {
    fix = setting == "app_config.connection_string"
              ? "fix app_config.connection_string (ARTAGENT_APP_CONFIG__CONNECTION_STRING): the "
                "store's Access keys connection string, Endpoint=https://NAME.azconfig.io;Id=...;"
                "Secret=..."
              : "give this identity the 'App Configuration Data Reader' role on the store, or "
                "use app_config.connection_string instead of app_config.endpoint";
  } else {
    fix = fmt::format("check {} (the endpoint) and that this host can reach it", setting);
  }
  return fmt::format(
      "App Configuration at {} ({}) could not be read: {}; {} — or set app_config.optional: true "
      "(ARTAGENT_APP_CONFIG__OPTIONAL=true) to start on the file and environment alone",
      endpoint, setting, st.message(), fix);
}

}  // namespace

core::Result<std::unique_ptr<LiveConfig>> LiveConfig::Create(ConfigInputs inputs,
                                                             const platform::Config& base) {
  std::unique_ptr<LiveConfig> lc(new LiveConfig());
  lc->inputs_ = std::move(inputs);
  lc->config_ = base;
  lc->last_loaded_ = base;
  lc->setting_ = base.app_config.connection_string.empty() ? "app_config.endpoint"
                                                           : "app_config.connection_string";
  lc->http_ = net::HttpClient::Create();
  lc->executor_ = core::SerialThreadExecutor::Create("app-config");
  platform::CredentialDeps deps;
  deps.http = lc->http_.get();
  deps.executor = lc->executor_;

  // One credential for the store (no connection string) and Key Vault (references, secrets).
  if (base.app_config.connection_string.empty() || !base.secrets.key_vault_url.empty()) {
    platform::ManagedIdentityOptions mi;
    mi.client_id = base.identity.client_id;
    auto credential =
        platform::CreateDefaultCredential(platform::CredentialEnvironment::FromProcess(), deps, mi);
    if (!credential.ok()) return credential.status().WithContext("identity");
    lc->credential_ = std::move(credential).value();
  }
  platform::SecretsOptions so;
  so.dir = base.secrets.dir;
  so.key_vault_url = base.secrets.key_vault_url;
  so.refresh = std::chrono::seconds(base.secrets.refresh_s);
  auto resolver = platform::SecretResolver::Create(
      so, base.secrets.key_vault_url.empty() ? nullptr : lc->credential_, deps);
  if (!resolver.ok()) return resolver.status().WithContext("secrets");
  lc->resolver_ = std::move(resolver).value();

  platform::Config resolved = base;
  if (platform::IsSecretReference(resolved.app_config.connection_string)) {
    auto value = lc->resolver_->Resolve(resolved.app_config.connection_string);
    if (!value.ok()) return value.status().WithContext("app_config.connection_string");
    resolved.app_config.connection_string = std::move(value).value();
  }
  auto options = platform::AppConfigOptionsFromConfig(resolved);
  if (!options.ok()) return options.status();
  const std::string endpoint = options->endpoint;
  platform::AppConfigDeps ad;
  ad.http = deps;
  ad.credential = lc->credential_;
  ad.secrets = lc->resolver_.get();
  auto provider = platform::AppConfigProvider::Create(*std::move(options), std::move(ad));
  if (!provider.ok()) return provider.status().WithContext(lc->setting_);
  lc->provider_ = std::move(provider).value();

  core::Status st = lc->provider_->LoadBlocking(kStartupTimeout);
  if (!st.ok()) {
    const std::string message = Explain(st, lc->setting_, endpoint);
    if (!base.app_config.optional) return core::Status(st.code(), message);
    core::LogWarn("config", "{}. app_config.optional is set: starting without it for now", message);
  } else {
    core::LogInfo("config", "App Configuration {}: {} keys (label '{}')", endpoint,
                  lc->provider_->Snapshot().size(),
                  base.app_config.label.empty() ? base.environment : base.app_config.label);
  }

  platform::ConfigLoader loader;
  loader.AddSource(lc->provider_->Source());
  auto config = loader.Load(lc->inputs_.yaml_path, lc->inputs_.env);
  if (!config.ok()) return config.status().WithContext("App Configuration " + endpoint);
  for (const auto& w : loader.warnings()) {
    if (IsAppConfigWarning(w) && lc->warned_.insert(w).second) core::LogWarn("config", "{}", w);
  }
  lc->config_ = *config;
  lc->last_loaded_ = *config;
  lc->effective_ = loader.Effective();
  return lc;
}

LiveConfig::~LiveConfig() { Stop(); }

void LiveConfig::Attach(Runtime* runtime) {
  runtime_ = runtime;
  auto& family = prometheus::BuildCounter()
                     .Name("artagent_app_config_refreshes_total")
                     .Help(
                         "App Configuration checks by outcome (unchanged, reloaded, failed, "
                         "rejected: new values refused by validation)")
                     .Register(runtime->metrics().registry());
  struct Counters {
    prometheus::Counter* unchanged;
    prometheus::Counter* reloaded;
    prometheus::Counter* failed;
  };
  Counters counters{&family.Add({{"outcome", "unchanged"}}), &family.Add({{"outcome", "reloaded"}}),
                    &family.Add({{"outcome", "failed"}})};
  rejected_ = &family.Add({{"outcome", "rejected"}});

  std::weak_ptr<platform::AppConfigProvider> weak = provider_;
  const std::string setting = setting_;
  runtime->AddReadinessCheck("app_config", [weak, setting]() -> nlohmann::json {
    auto provider = weak.lock();
    if (!provider) return {{"ok", false}, {"critical", false}, {"detail", "stopped"}};
    const platform::AppConfigHealth h = provider->health();
    std::string detail;
    if (!h.loaded) {
      detail = fmt::format("not loaded yet ({} is optional; running on file and environment): {}",
                           setting, h.last_error);
    } else if (!h.ok) {
      detail = fmt::format("{} failed refreshes in a row, serving the last good configuration: {}",
                           h.consecutive_failures, h.last_error);
    } else {
      detail = fmt::format("{} ({} loads)", h.endpoint, h.reloads);
    }
    return {{"ok", h.loaded && h.ok}, {"critical", false}, {"detail", detail}};
  });
  provider_->Start([this] { Reload(); },
                   [counters](std::string_view outcome) {
                     if (outcome == "unchanged") counters.unchanged->Increment();
                     if (outcome == "reloaded") counters.reloaded->Increment();
                     if (outcome == "failed") counters.failed->Increment();
                   });
}

void LiveConfig::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (provider_) provider_->Stop();
}

void LiveConfig::Reload() {
  if (runtime_ == nullptr) return;
  platform::ConfigLoader loader;
  loader.AddSource(provider_->Source());
  auto next = loader.Load(inputs_.yaml_path, inputs_.env);
  if (!next.ok()) {
    if (rejected_ != nullptr) rejected_->Increment();
    core::LogError("config",
                   "the configuration from App Configuration is refused, the current one stays: {}",
                   next.status().message());
    return;
  }
  for (const auto& w : loader.warnings()) {
    if (IsAppConfigWarning(w) && warned_.insert(w).second) core::LogWarn("config", "{}", w);
  }
  const std::vector<std::string> changed = platform::ChangedKeys(last_loaded_, *next);
  last_loaded_ = *next;
  const std::vector<std::string> restart =
      runtime_->ApplyConfig(*next, changed, loader.Effective());
  std::vector<std::string> live;
  for (const auto& key : changed) {
    if (Runtime::IsLiveKey(key)) live.push_back(key);
  }
  if (!live.empty()) {
    core::LogInfo("config", "App Configuration: {} changed, in effect now", fmt::join(live, ", "));
  }
  if (!restart.empty()) {
    core::LogWarn("config", "App Configuration: {} changed; needs restart to take effect",
                  fmt::join(restart, ", "));
  }
}

}  // namespace artagent::app
