#pragma once
// Runtime: everything a running artagent shares between sessions, built once from the
// configuration — metrics, the store, the compute pool, the speech engines, the scenario — and the
// one place that knows how to assemble a Session from them.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/agent_config.h"
#include "agent/orchestrator.h"
#include "agent/scenario_catalog.h"
#include "agent/tools/tool.h"
#include "core/executor.h"
#include "core/thread_pool.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "platform/config.h"
#include "platform/metrics.h"
#include "platform/telemetry.h"
#include "platform/store.h"
#include "session/session.h"
#include "speech/registry.h"

namespace artagent::app {

struct RuntimeOptions {
  bool open_store = true;  // converse runs without one unless asked
};

class Runtime {
 public:
  static core::Result<std::unique_ptr<Runtime>> Create(const platform::Config& config,
                                                       RuntimeOptions options = {});
  ~Runtime();

  const platform::Config& config() const { return config_; }
  platform::Metrics& metrics() { return metrics_; }
  // OTLP export (telemetry.*); nullptr when telemetry.otlp_endpoint is not set.
  platform::Telemetry* telemetry() { return telemetry_.get(); }
  // For the options of any other HttpClient: its calls then get client spans too.
  std::shared_ptr<net::HttpCallObserver> http_observer() { return http_observer_; }
  platform::Store* store() { return store_.get(); }
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
};

}  // namespace artagent::app
