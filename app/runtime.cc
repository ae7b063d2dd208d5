#include "app/runtime.h"

#include <thread>

#include "agent/flow/flow_model.h"
#include "core/log.h"
#include "speech/local/register.h"

namespace artagent::app {

Runtime::Runtime(const platform::Config& config) : config_(config) {}
Runtime::~Runtime() {
  // Sessions are gone; let queued decoding and synthesis jobs finish before the engines go.
  if (compute_) compute_->Shutdown();
}

core::Result<std::unique_ptr<Runtime>> Runtime::Create(const platform::Config& config,
                                                       RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime(config));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = config.compute.threads > 0 ? config.compute.threads : cores;
  rt->compute_ = std::make_unique<core::ThreadPool>(threads, config.compute.max_queue, "compute");

  auto scenario = agent::LoadScenario(config.agents.dir, config.agents.scenario);
  if (!scenario.ok()) {
    return scenario.status().WithContext(
        "loading the scenario (agents.dir / ARTAGENT_AGENTS__DIR, agents.scenario)");
  }
  rt->scenario_ = std::move(scenario).value();

  speech::LocalSpeechOptions local;
  local.pocketsphinx.pool_size = config.speech.stt.pool_size;
  speech::RegisterLocalProviders(&rt->providers_, local);
  auto stt = rt->providers_.CreateStt(config.speech.stt.provider);
  if (!stt.ok()) return stt.status().WithContext("speech.stt.provider");
  rt->stt_ = std::move(stt).value();
  auto tts = rt->providers_.CreateTts(config.speech.tts.provider);
  if (!tts.ok()) return tts.status().WithContext("speech.tts.provider");
  rt->tts_ = std::move(tts).value();
  // A VAD up front, so that a wrong provider name fails at start-up, not on the first call.
  auto vad = rt->providers_.CreateVad(config.speech.vad.provider,
                                      speech::VadOptions{config.speech.vad.aggressiveness});
  if (!vad.ok()) return vad.status().WithContext("speech.vad.provider");

  if (options.open_store) {
    auto store = platform::Store::Open(config.store.path);
    if (!store.ok()) return store.status().WithContext("store.path");
    rt->store_ = std::move(store).value();
    auto* metrics = &rt->metrics_;
    rt->store_->SetWriteObserver([metrics](const core::Status&) {
      metrics->provider_errors_total.Add({{"provider", "store"}, {"kind", "write"}}).Increment();
    });
  }
  return rt;
}

session::SessionOptions Runtime::SessionDefaults() const {
  session::SessionOptions o;
  o.scenario = scenario_.name;
  o.end_of_turn_silence_ms = config_.session.end_of_turn_silence_ms;
  o.prefix_padding_ms = config_.session.prefix_padding_ms;
  o.barge_in_min_speech_ms = config_.session.barge_in_min_speech_ms;
  o.max_turn_ms = config_.session.max_turn_ms;
  o.output_lead_ms = config_.session.output_lead_ms;
  o.idle_timeout_s = config_.session.idle_timeout_s;
  const agent::AgentConfig* a = scenario_.StartAgent();
  o.voice = a && !a->voice.empty() ? a->voice : config_.speech.tts.voice;
  return o;
}

core::Result<std::shared_ptr<session::Session>> Runtime::NewSession(
    std::shared_ptr<core::Executor> executor, session::SessionOptions options,
    session::SessionOutput* output) {
  auto vad = providers_.CreateVad(config_.speech.vad.provider,
                                  speech::VadOptions{config_.speech.vad.aggressiveness});
  if (!vad.ok()) return vad.status();
  session::SessionDeps deps;
  deps.responder = std::make_unique<agent::FlowModel>(scenario_.StartAgent(), executor.get());
  deps.executor = std::move(executor);
  deps.compute = compute_.get();
  deps.vad = std::move(vad).value();
  deps.stt = stt_.get();
  deps.tts = tts_.get();
  deps.store = store_.get();
  deps.metrics = &metrics_;
  deps.output = output;
  return session::Session::Create(std::move(deps), std::move(options));
}

int Runtime::capacity() const {
  // Every session holds a recognizer stream, so the STT's limit caps sessions too.
  int max = config_.backend.max_concurrent_calls;
  const int streams = config_.speech.stt.max_streams;
  if (streams > 0 && (max <= 0 || streams < max)) max = streams;
  return max;
}

bool Runtime::TryAdmit(std::string* reason) {
  const int max = capacity();
  // Decoding and synthesis that wait longer than ~1 s of work would make every call late.
  const size_t backlog_limit = static_cast<size_t>(std::max(8, config_.compute.max_queue / 2));
  if (compute_->QueueDepth() > backlog_limit) {
    *reason = "compute";
    return false;
  }
  int cur = active_.load();
  do {
    if (max > 0 && cur >= max) {
      *reason = "capacity";
      return false;
    }
  } while (!active_.compare_exchange_weak(cur, cur + 1));
  return true;
}

void Runtime::Release() { active_.fetch_sub(1); }

nlohmann::json Runtime::Readiness() {
  nlohmann::json checks;
  checks["scenario"] = {{"ok", scenario_.StartAgent() != nullptr}, {"detail", scenario_.name}};
  checks["stt"] = {{"ok", stt_ != nullptr}, {"detail", config_.speech.stt.provider}};
  checks["tts"] = {{"ok", tts_ != nullptr}, {"detail", config_.speech.tts.provider}};
  const size_t depth = compute_->QueueDepth();
  checks["compute"] = {{"ok", depth < static_cast<size_t>(config_.compute.max_queue)},
                       {"detail", "queue depth " + std::to_string(depth)}};
  if (store_) {
    checks["store"] = {{"ok", true},
                       {"detail", std::to_string(store_->pending_writes()) + " writes pending"}};
  }
  const int max = capacity();
  checks["capacity"] = {{"ok", max <= 0 || active_.load() < max},
                        {"detail", std::to_string(active_.load()) + "/" + std::to_string(max) +
                                       " sessions"}};
  bool ready = true;
  for (auto& [k, v] : checks.items()) ready = ready && v["ok"].get<bool>();
  return {{"ready", ready}, {"checks", checks}};
}

}  // namespace artagent::app
