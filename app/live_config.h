#pragma once
// LiveConfig: `artagent serve`'s configuration when Azure App Configuration is one of its layers.
// It builds what App Configuration needs (HTTP client, the default Azure credential when a token
// is needed, the start-up secret resolver that Runtime then shares), loads the store once at
// start-up and then keeps refreshing it (platform/app_config.h), handing every new configuration
// to the Runtime: the live settings swap in, the others are logged as needing a restart.
//
//   auto live = LiveConfig::Create(inputs, file_env_config);   // fails with the fix named
//   ... Runtime::Create(live->config(), {.secrets = live->secrets()}) ...
//   live->Attach(runtime);   // refresh, /readyz entry, metrics
//   ...
//   live->Stop();            // before the runtime goes
//
// Start-up errors name the setting and the fix; with app_config.optional the server starts on
// file and environment alone, says so in the log and in /readyz, and takes App Configuration in
// once it answers.

#include <map>
#include <memory>
#include <set>
#include <string>

#include <prometheus/counter.h>
#include <nlohmann/json.hpp>

#include "core/serial_thread_executor.h"
#include "core/status.h"
#include "net/http_client.h"
#include "platform/app_config.h"
#include "platform/config.h"
#include "platform/identity.h"
#include "platform/secrets.h"

namespace artagent::app {

class Runtime;

// What the loader reads besides sources: the YAML path ("" = none) and the ARTAGENT_* variables
// (command-line flags included, as environment spellings).
struct ConfigInputs {
  std::string yaml_path;
  std::map<std::string, std::string> env;
};

class LiveConfig {
 public:
  // `base`: the configuration of file and environment alone (it says where App Configuration is).
  static core::Result<std::unique_ptr<LiveConfig>> Create(ConfigInputs inputs,
                                                          const platform::Config& base);
  ~LiveConfig();

  // The configuration with App Configuration in (or `base` when it is optional and unreachable).
  const platform::Config& config() const { return config_; }
  const nlohmann::json& effective() const { return effective_; }
  platform::SecretResolver* secrets() { return resolver_.get(); }

  // Starts the refresh; adds the app_config /readyz entry and the
  // artagent_app_config_refreshes_total{outcome} counter. `runtime` must outlive Stop().
  void Attach(Runtime* runtime);
  void Stop();

 private:
  LiveConfig() = default;
  // On the executor: reload every layer and hand the result to the runtime.
  void Reload();

  ConfigInputs inputs_;
  platform::Config config_;
  nlohmann::json effective_;
  platform::Config last_loaded_;  // as loaded (secret references unresolved), for diffs
  std::set<std::string> warned_;  // loader warnings already logged
  Runtime* runtime_ = nullptr;
  prometheus::Counter* rejected_ = nullptr;  // reloads refused by validation
  std::string setting_;                      // app_config.connection_string or app_config.endpoint

  // Destroyed in reverse: provider, resolver and credential before the executor and the client.
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  std::shared_ptr<platform::TokenCredential> credential_;
  std::unique_ptr<platform::SecretResolver> resolver_;
  std::shared_ptr<platform::AppConfigProvider> provider_;
  bool stopped_ = false;
};

}  // namespace artagent::app
