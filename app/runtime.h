#pragma once
// Runtime: everything a running artagent shares between sessions, built once from the
// configuration — metrics, the store, the compute pool, the speech engines, the scenario — and the
// one place that knows how to assemble a Session from them.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_config.h"
#include "app/session_archive.h"
#include "agent/orchestrator.h"
#include "agent/scenario_catalog.h"
#include "agent/tools/tool.h"
#include "core/executor.h"
#include "core/serial_thread_executor.h"
#include "core/thread_pool.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "platform/config.h"
#include "platform/email.h"
#include "platform/blob_outbox.h"
#include "platform/blob_storage.h"
#include "platform/metrics.h"
#include "platform/telemetry.h"
#include "platform/secrets.h"
#include "platform/store.h"
#include "session/session.h"
#include "speech/registry.h"

namespace artagent::app {

struct RuntimeOptions {
  bool open_store = true;  // converse runs without one unless asked
  // The start-up secret resolver when the caller has one already (App Configuration built it);
  // null: Runtime builds its own on first use. Must outlive Create().
  platform::SecretResolver* secrets = nullptr;
};

class Runtime {
 public:
  static core::Result<std::unique_ptr<Runtime>> Create(const platform::Config& config,
                                                       RuntimeOptions options = {});
  ~Runtime();

  // The configuration at start-up (secret references resolved). Settings that change live are
  // read from live_config() instead.
  const platform::Config& config() const { return config_; }
  // The current configuration: config() with the settings that change without a restart —
  // backend.*, session.*, features.*, log.level — as the latest App Configuration refresh has
  // them. An immutable snapshot, never null; read it once per decision (a session reads it when
  // it starts). Thread-safe.
  std::shared_ptr<const platform::Config> live_config() const;
  // Takes a reloaded configuration in: its live settings replace the current ones in one swap;
  // `changed` (platform::ChangedKeys against the previous load) that cannot change live are
  // returned; in the effective configuration, such keys whose value differs from the start-up one
  // are marked "restart_pending": true. Thread-safe.
  std::vector<std::string> ApplyConfig(const platform::Config& next,
                                       const std::vector<std::string>& changed,
                                       nlohmann::json effective);
  // True for keys that take effect without a restart.
  static bool IsLiveKey(std::string_view key);
  // GET /api/v1/config: every effective value and where it came from (ConfigLoader::Effective).
  nlohmann::json EffectiveConfig() const;
  void SetEffectiveConfig(nlohmann::json effective);
  // An extra /readyz entry: `check` returns {"ok": bool, "detail": "..."}; with
  // "critical": false it is shown without deciding readiness.
  void AddReadinessCheck(std::string name, std::function<nlohmann::json()> check);
  platform::Metrics& metrics() { return metrics_; }
  // OTLP export (telemetry.*); nullptr when telemetry.otlp_endpoint is not set.
  platform::Telemetry* telemetry() { return telemetry_.get(); }
  // For the options of any other HttpClient: its calls then get client spans too.
  std::shared_ptr<net::HttpCallObserver> http_observer() { return http_observer_; }
  platform::Store* store() { return store_.get(); }
  // Where transcripts and recordings go (storage.*), and the outbox that uploads them; null
  // without a store (converse).
  platform::BlobStorage* blob_storage() { return blob_storage_.get(); }
  platform::BlobOutbox* blob_outbox() { return outbox_.get(); }
  core::ThreadPool& compute() { return *compute_; }
  // The default scenario (agents.scenario), current version.
  std::shared_ptr<const agent::ScenarioConfig> scenario() { return Scenario(""); }
  // A scenario by name ("" = the default); nullptr when there is none.
  std::shared_ptr<const agent::ScenarioConfig> Scenario(const std::string& name);
  std::vector<std::string> ScenarioNames() const { return catalog_->Names(); }
  const agent::ToolRegistry& tools() const { return tools_; }

  // Session options from the configuration (turn-taking, voice, lead).
  session::SessionOptions SessionDefaults() const;
  // A session of `options.scenario` ("" = the default), living on `executor`, talking to
  // `output`. kNotFound for an unknown scenario.
  core::Result<std::shared_ptr<session::Session>> NewSession(
      std::shared_ptr<core::Executor> executor, session::SessionOptions options,
      session::SessionOutput* output);

  // Admission control: false (and nothing reserved) when the server is at capacity or the
  // compute pool is backed up. Every successful TryAdmit is paired with one Release.
  bool TryAdmit(std::string* reason);
  void Release();
  int active_sessions() const { return active_.load(); }
  // Sessions admitted at most: backend.max_concurrent_calls, or fewer if the recognizer allows
  // fewer streams (speech.stt.max_streams). <= 0: unlimited.
  int capacity() const;

  // /readyz body: each dependency and whether it works.
  nlohmann::json Readiness();

 private:
  explicit Runtime(const platform::Config& config);
  // `resolve_secret`: secret:// references of webhook auth (the start-up chain, shared).
  core::Status RegisterTools(
      const std::function<core::Result<std::string>(const std::string&)>& resolve_secret);
  agent::ModelFactory MakeModelFactory();

  platform::Config config_;
  mutable std::mutex live_mu_;
  std::shared_ptr<const platform::Config> live_;  // guarded by live_mu_
  nlohmann::json effective_;                      // guarded by live_mu_
  nlohmann::json startup_effective_;              // guarded by live_mu_
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> extra_checks_;
  platform::Metrics metrics_;
  // Right after metrics_: gone after everything that records spans or logs.
  std::shared_ptr<platform::LateHttpObserver> http_observer_ =
      std::make_shared<platform::LateHttpObserver>();
  std::unique_ptr<platform::Telemetry> telemetry_;
  std::unique_ptr<core::ThreadPool> compute_;
  std::unique_ptr<platform::Store> store_;
  speech::SpeechProviders providers_;
  std::unique_ptr<speech::SttEngine> stt_;
  std::unique_ptr<speech::TtsEngine> tts_;
  std::unique_ptr<net::HttpClient> http_;
  agent::ToolRegistry tools_;
  std::unique_ptr<agent::ScenarioCatalog> catalog_;
  agent::ModelFactory model_factory_;
  std::shared_ptr<net::CircuitBreaker> model_breaker_;  // shared by every session's LLM
  std::atomic<int> active_{0};

  // Post-call e-mail: a scenario's `email:` when email.* is configured (null otherwise). Declared
  // after the HTTP client: gone before it; pending sends are waited for (bounded) on destruction.
  core::Status OpenEmail();
  void SendCallSummary(agent::CallSummary summary);
  std::shared_ptr<core::SerialThreadExecutor> email_executor_;
  std::unique_ptr<platform::EmailSender> email_;
  std::mutex email_mu_;
  std::condition_variable email_cv_;
  int emails_pending_ = 0;  // guarded by email_mu_

  // Blob storage and what uploads to it; declared last: gone before the store and the HTTP client.
  core::Status OpenBlobStorage();
  std::shared_ptr<core::SerialThreadExecutor> blob_executor_;
  std::unique_ptr<platform::BlobStorage> blob_storage_;
  std::unique_ptr<platform::BlobOutbox> outbox_;
  std::unique_ptr<SessionArchive> archive_;
};

}  // namespace artagent::app
