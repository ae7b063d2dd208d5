#include "app/runtime.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "agent/models/openai/openai_model.h"
#include "agent/tools/insurance/insurance_tools.h"
#include "agent/tools/webhook_tool.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/serial_thread_executor.h"
#include "net/circuit_breaker.h"
#include "platform/azure_blob_storage.h"
#include "platform/identity.h"
#include "platform/secrets.h"
#include "speech/azure/azure_speech.h"
#include "speech/local/register.h"
#include "speech/passthrough/passthrough.h"

namespace artagent::app {

namespace {

// secret://NAME references, resolved by the platform chain: environment, secrets.dir, Key Vault
// (with the default Azure credential). Built on first use, so that a configuration without
// references starts nothing. Blocking: for start-up only.
class StartupSecrets {
 public:
  StartupSecrets(const platform::Config& config, net::HttpClient* http,
                 platform::SecretResolver* shared)
      : config_(config), http_(http), shared_(shared) {}

  core::Result<std::string> Resolve(const std::string& ref) {
    if (shared_ != nullptr) return shared_->Resolve(ref);
    if (!resolver_) {
      executor_ = core::SerialThreadExecutor::Create("secrets");
      platform::CredentialDeps deps;
      deps.http = http_;
      deps.executor = executor_;
      if (!config_.secrets.key_vault_url.empty()) {
        platform::ManagedIdentityOptions mi;
        mi.client_id = config_.identity.client_id;
        auto credential = platform::CreateDefaultCredential(
            platform::CredentialEnvironment::FromProcess(), deps, mi);
        if (!credential.ok()) return credential.status().WithContext("identity");
        credential_ = std::move(credential).value();
      }
      platform::SecretsOptions options;
      options.dir = config_.secrets.dir;
      options.key_vault_url = config_.secrets.key_vault_url;
      options.refresh = std::chrono::seconds(config_.secrets.refresh_s);
      auto resolver = platform::SecretResolver::Create(options, credential_, deps);
      if (!resolver.ok()) return resolver.status();
      resolver_ = std::move(resolver).value();
    }
    return resolver_->Resolve(ref);
  }

 private:
  const platform::Config& config_;
  net::HttpClient* http_;
  platform::SecretResolver* shared_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;  // declared first: destroyed last
  std::shared_ptr<platform::TokenCredential> credential_;
  std::unique_ptr<platform::SecretResolver> resolver_;
};

// The default Azure credential (service principal from AZURE_*, else the managed identity) with
// its own HTTP client and executor, so that it lives exactly as long as whoever holds it.
class OwnedCredential final : public platform::TokenCredential {
 public:
  explicit OwnedCredential(const platform::Config& config) {
    platform::CredentialDeps deps;
    deps.http = http_.get();
    deps.executor = executor_;
    platform::ManagedIdentityOptions mi;
    mi.client_id = config.identity.client_id;
    auto credential =
        platform::CreateDefaultCredential(platform::CredentialEnvironment::FromProcess(), deps, mi);
    if (credential.ok()) {
      inner_ = std::move(credential).value();
    } else {
      error_ = credential.status();
    }
  }
  std::string name() const override { return inner_ ? inner_->name() : "DefaultAzureCredential"; }
  void GetToken(const std::string& scope, platform::TokenCallback done) override {
    if (inner_) return inner_->GetToken(scope, std::move(done));
    executor_->Post([done = std::move(done), error = error_] { done(error); });
  }

 private:
  std::unique_ptr<net::HttpClient> http_ = net::HttpClient::Create();
  std::shared_ptr<core::SerialThreadExecutor> executor_ =
      core::SerialThreadExecutor::Create("identity");
  core::Status error_;
  std::unique_ptr<platform::TokenCredential> inner_;  // declared last: destroyed first
};

std::shared_ptr<platform::TokenCredential> OwnedDefaultCredential(const platform::Config& config) {
  return std::make_shared<OwnedCredential>(config);
}

// azure-speech settings. Entra tokens (azure_speech.auth: entra, or auto without a key) come from
// the default Azure credential, which owns its HTTP client and executor and lives as long as the
// engines that ask it.
speech::azure::AzureSpeechOptions AzureSpeechOptionsFrom(const platform::Config& config,
                                                         platform::Metrics* metrics) {
  const platform::AzureSpeechConfig& a = config.azure_speech;
  speech::azure::AzureSpeechOptions o;
  o.region = a.region;
  o.endpoint = a.endpoint;
  o.key = a.key;
  o.resource_id = a.resource_id;
  o.language = a.language;
  o.voice = a.voice;
  using Mode = speech::azure::SpeechAuthMode;
  o.auth = a.auth == "token"   ? Mode::kToken
           : a.auth == "entra" ? Mode::kEntra
           : a.auth == "key"   ? Mode::kKey
                               : (a.key.empty() ? Mode::kEntra : Mode::kKey);
  if (o.auth == Mode::kEntra) {
    std::shared_ptr<platform::TokenCredential> credential = OwnedDefaultCredential(config);
    o.entra_token = [credential]() -> core::Result<std::string> {
      auto token = credential->GetTokenBlocking("https://cognitiveservices.azure.com/.default",
                                                std::chrono::seconds(15));
      if (!token.ok()) return token.status();
      return token->token;
    };
  }
  o.on_error = [metrics](std::string_view what, std::string_view kind) {
    metrics->provider_errors_total
        .Add({{"provider", "azure-speech"}, {"kind", std::string(what) + "_" + std::string(kind)}})
        .Increment();
  };
  return o;
}

}  // namespace

Runtime::Runtime(const platform::Config& config) : config_(config) {}
Runtime::~Runtime() {
  // Sessions are gone; let queued decoding and synthesis jobs finish before the engines go.
  if (compute_) compute_->Shutdown();
  // Call summaries of the last sessions still going out: wait for them, within the poll limit.
  if (email_) {
    std::unique_lock<std::mutex> lock(email_mu_);
    const auto limit = std::chrono::seconds(config_.email.poll_timeout_s + 30);
    if (!email_cv_.wait_for(lock, limit, [this] { return emails_pending_ == 0; })) {
      core::LogWarn("email", "{} call summaries still unsent at shutdown", emails_pending_);
    }
  }
}

core::Result<std::unique_ptr<Runtime>> Runtime::Create(const platform::Config& config,
                                                       RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime(config));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = config.compute.threads > 0 ? config.compute.threads : cores;
  rt->compute_ = std::make_unique<core::ThreadPool>(threads, config.compute.max_queue, "compute");

  net::HttpClientOptions http_options;
  http_options.observer = rt->http_observer_;  // client spans, once telemetry is on
  rt->http_ = net::HttpClient::Create(http_options);
  // Secret references in the configuration and in webhook auth are resolved once, here: a missing
  // secret fails start-up, and nothing downstream ever sees a reference.
  StartupSecrets secrets(rt->config_, rt->http_.get(), options.secrets);
  {
    for (auto [key, value] :
         {std::pair<const char*, std::string*>{"model.api_key", &rt->config_.model.api_key},
          {"azure_speech.key", &rt->config_.azure_speech.key},
          {"email.connection_string", &rt->config_.email.connection_string},
          {"acs.connection_string", &rt->config_.acs.connection_string},
          {"storage.connection_string", &rt->config_.storage.connection_string}}) {
      if (!platform::IsSecretReference(*value)) continue;
      auto resolved = secrets.Resolve(*value);
      if (!resolved.ok()) return resolved.status().WithContext(key);
      *value = std::move(resolved).value();
    }
  }
  rt->live_ = std::make_shared<const platform::Config>(rt->config_);
  ARTAGENT_RETURN_IF_ERROR(rt->OpenEmail());
  {
    auto telemetry = platform::TelemetryFromConfig(
        rt->config_.telemetry, &rt->metrics_,
        [&secrets](const std::string& value) -> core::Result<std::string> {
          if (!platform::IsSecretReference(value)) return value;
          return secrets.Resolve(value);
        },
        [](const std::string& name) {
          const char* value = std::getenv(name.c_str());
          return std::string(value ? value : "");
        });
    if (!telemetry.ok()) return telemetry.status();
    rt->telemetry_ = std::move(telemetry).value();
    if (rt->telemetry_) rt->http_observer_->SetTarget(rt->telemetry_->http_observer());
  }
  ARTAGENT_RETURN_IF_ERROR(
      rt->RegisterTools([&secrets](const std::string& ref) { return secrets.Resolve(ref); }));
  rt->model_factory_ = rt->MakeModelFactory();
  const agent::ToolRegistry* tools = &rt->tools_;
  auto catalog = agent::ScenarioCatalog::Load(
      config.agents.dir,
      [tools](const agent::ScenarioConfig& s) {
        return agent::CheckScenarioTools(s, tools->Names());
      },
      std::chrono::seconds(config.agents.hot_reload_s));
  if (!catalog.ok()) {
    return catalog.status().WithContext("loading the agents (agents.dir / ARTAGENT_AGENTS__DIR)");
  }
  rt->catalog_ = std::move(catalog).value();
  if (!rt->catalog_->Get(config.agents.scenario)) {
    std::string known;
    for (const auto& n : rt->catalog_->Names()) known += (known.empty() ? "" : ", ") + n;
    return core::NotFoundError("agents.scenario: no scenario '" + config.agents.scenario + "' in " +
                               config.agents.dir + " (known: " + known + ")");
  }

  speech::LocalSpeechOptions local;
  local.pocketsphinx.pool_size = config.speech.stt.pool_size;
  speech::RegisterLocalProviders(&rt->providers_, local);
  speech::PassthroughOptions passthrough;
  passthrough.transcript = config.speech.stt.passthrough_transcript;
  passthrough.ms_per_char = config.speech.tts.tone_ms_per_char;
  speech::RegisterPassthroughProviders(&rt->providers_, passthrough);
  speech::azure::RegisterAzureSpeechProviders(
      &rt->providers_, AzureSpeechOptionsFrom(rt->config_, &rt->metrics_), rt->http_.get());
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
    ARTAGENT_RETURN_IF_ERROR(rt->OpenBlobStorage());
  }
  return rt;
}

core::Status Runtime::OpenBlobStorage() {
  const platform::StorageConfig& s = config_.storage;
  blob_executor_ = core::SerialThreadExecutor::Create("blob");
  core::Result<std::unique_ptr<platform::BlobStorage>> storage =
      core::InvalidArgumentError("storage.provider");
  if (s.provider == "azure") {
    platform::AzureBlobOptions o;
    if (!s.connection_string.empty()) {
      auto parsed = platform::AzureBlobOptionsFromConnectionString(s.connection_string);
      if (!parsed.ok()) return parsed.status().WithContext("storage.connection_string");
      o = std::move(parsed).value();
    } else if (!s.account_url.empty()) {
      // A managed identity or service principal, on the blob thread (its callbacks go there).
      platform::CredentialDeps deps;
      deps.http = http_.get();
      deps.executor = blob_executor_;
      platform::ManagedIdentityOptions mi;
      mi.client_id = config_.identity.client_id;
      auto credential = platform::CreateDefaultCredential(
          platform::CredentialEnvironment::FromProcess(), deps, mi);
      if (!credential.ok()) return credential.status().WithContext("storage.account_url identity");
      o.endpoint = s.account_url;
      o.credential = std::move(credential).value();
    } else {
      return core::InvalidArgumentError(
          "storage.provider is azure but neither storage.connection_string (SharedKey) nor "
          "storage.account_url (managed identity) is set");
    }
    o.block_size = s.block_size_bytes;
    storage = platform::CreateAzureBlobStorage(std::move(o), http_.get(), blob_executor_);
  } else {
    storage = platform::CreateLocalBlobStorage(s.local_dir, blob_executor_);
  }
  if (!storage.ok()) return storage.status().WithContext("storage");
  blob_storage_ = std::move(storage).value();

  platform::BlobOutboxOptions oo;
  oo.dir = s.outbox_dir;
  oo.registry = &metrics_.registry();
  auto outbox = platform::BlobOutbox::Open(oo, blob_storage_.get(), blob_executor_);
  if (!outbox.ok()) return outbox.status().WithContext("storage.outbox_dir");
  outbox_ = std::move(outbox).value();

  SessionArchiveOptions ao;
  ao.transcripts_container = s.transcripts_container;
  ao.recordings_container = s.recordings_container;
  ao.recordings_dir = (std::filesystem::path(s.outbox_dir) / "recording").string();
  ao.recording_max_minutes = s.recording_max_minutes;
  auto archive = SessionArchive::Create(ao, store_.get(), outbox_.get());
  if (!archive.ok()) return archive.status().WithContext("storage.outbox_dir");
  archive_ = std::move(archive).value();

  // Shown, not deciding readiness: while the storage is away uploads wait in the outbox and calls
  // go on as usual.
  platform::BlobStorage* blobs = blob_storage_.get();
  platform::BlobOutbox* pending = outbox_.get();
  AddReadinessCheck("storage", [blobs, pending] {
    const platform::BlobHealth h = blobs->Health();
    return nlohmann::json{{"ok", h.ok},
                          {"critical", false},
                          {"detail", blobs->Describe() + ": " + h.detail + "; " +
                                         std::to_string(pending->pending()) +
                                         " upload(s) pending"}};
  });
  core::LogInfo("blob", "storage: {} (outbox {}, {} pending)", blob_storage_->Describe(),
                s.outbox_dir, outbox_->pending());
  return core::OkStatus();
}

core::Status Runtime::RegisterTools(
    const std::function<core::Result<std::string>(const std::string&)>& resolve_secret) {
  // Built-in tools: the insurance back office (its demo data seeds the database on first use).
  const std::string seed = config_.agents.dir + "/insurance/demo_data.json";
  std::error_code ec;
  std::filesystem::path db(config_.tools.insurance_db);
  if (db.has_parent_path()) std::filesystem::create_directories(db.parent_path(), ec);
  auto data = agent::InsuranceData::Open(config_.tools.insurance_db,
                                         std::filesystem::exists(seed) ? seed : "");
  if (!data.ok()) return data.status().WithContext("tools.insurance_db");
  ARTAGENT_RETURN_IF_ERROR(agent::RegisterInsuranceTools(&tools_, *data, compute_.get()));
  // Webhook tools declared in the scenarios' `tools:` lists.
  for (const auto& name : agent::ListScenarios(config_.agents.dir)) {
    const std::string file = config_.agents.dir + "/" + name + "/scenario.yaml";
    YAML::Node root;
    try {
      root = YAML::LoadFile(file);
    } catch (const YAML::Exception&) {
      continue;  // reported with its line when the scenario itself is loaded
    }
    if (!root.IsMap() || !root["tools"] || !root["tools"].IsSequence()) continue;
    for (const auto& node : root["tools"]) {
      auto parsed = agent::ParseWebhookTool(node, file);
      if (!parsed.ok()) return parsed.status();
      auto tool = agent::MakeWebhookTool(std::move(parsed).value(), http_.get(), resolve_secret);
      if (!tool.ok()) return tool.status().WithContext(file);
      core::Status st = tools_.Register(std::move(tool).value());
      if (!st.ok()) return st.WithContext(file);
    }
  }
  return core::OkStatus();
}

agent::ModelFactory Runtime::MakeModelFactory() {
  const platform::ModelConfig m = config_.model;
  net::HttpClient* http = http_.get();
  // One breaker per endpoint, shared by every session's model.
  model_breaker_ = std::make_shared<net::CircuitBreaker>(
      net::CircuitBreakerOptions{.failure_threshold = m.breaker_failures,
                                 .open_duration = std::chrono::seconds(m.breaker_open_s)});
  auto breaker = model_breaker_;
  metrics_.AddRefresher([weak = std::weak_ptr<net::CircuitBreaker>(breaker), this] {
    auto b = weak.lock();
    if (!b) return;
    const auto state = b->state();
    metrics_.circuit_breaker_state.Add({{"upstream", "model"}})
        .Set(state == net::CircuitBreaker::State::kClosed ? 0
             : state == net::CircuitBreaker::State::kOpen ? 1
                                                          : 2);
  });
  return
      [m, http, breaker](
          const agent::AgentConfig& agent,
          std::shared_ptr<core::Executor> executor) -> core::Result<std::unique_ptr<agent::Model>> {
        if (m.endpoint.empty()) {
          return core::FailedPreconditionError("agent '" + agent.name +
                                               "' runs on an LLM but model.endpoint is not set");
        }
        agent::OpenAiModelOptions o;
        o.base_url = m.endpoint;
        o.api_version = m.api_version;
        o.model = agent.model.name.empty() ? m.name : agent.model.name;
        o.api_key = m.api_key;  // a secret:// reference was resolved at start-up (Create)
        o.temperature = agent.model.temperature;
        o.max_tokens = agent.model.max_tokens;
        o.first_token_timeout = std::chrono::seconds(m.timeout_s);
        o.max_retries = m.max_retries;
        o.shared_breaker = breaker;
        return agent::CreateOpenAiModel(o, http, std::move(executor));
      };
}

std::shared_ptr<const agent::ScenarioConfig> Runtime::Scenario(const std::string& name) {
  return catalog_->Get(name.empty() ? config_.agents.scenario : name);
}

session::SessionOptions Runtime::SessionDefaults() const {
  session::SessionOptions o;
  const std::shared_ptr<const platform::Config> live = live_config();
  o.scenario = config_.agents.scenario;
  o.end_of_turn_silence_ms = live->session.end_of_turn_silence_ms;
  o.prefix_padding_ms = live->session.prefix_padding_ms;
  o.barge_in_min_speech_ms = live->session.barge_in_min_speech_ms;
  o.max_turn_ms = live->session.max_turn_ms;
  o.output_lead_ms = live->session.output_lead_ms;
  o.idle_timeout_s = live->session.idle_timeout_s;
  o.voice = config_.speech.tts.voice;  // the answering agent's voice, when it has one, wins
  o.store_ack_timeout_ms = config_.store.ack_timeout_ms;
  return o;
}

core::Status Runtime::OpenEmail() {
  const platform::EmailConfig& e = config_.email;
  if (e.sender.empty() || (e.connection_string.empty() && e.endpoint.empty())) return {};
  platform::EmailOptions o;
  o.connection_string = e.connection_string;
  o.endpoint = e.endpoint;
  if (o.connection_string.empty()) o.credential = OwnedDefaultCredential(config_);
  o.sender = e.sender;
  o.api_version = e.api_version;
  o.poll_timeout = std::chrono::seconds(e.poll_timeout_s);
  email_executor_ = core::SerialThreadExecutor::Create("email");
  auto sender = platform::EmailSender::Create(std::move(o), http_.get(), email_executor_);
  if (!sender.ok()) return sender.status().WithContext("email");
  email_ = std::move(sender).value();
  return {};
}

// Any thread (the orchestrator's destructor): the sending runs on the e-mail executor, never on a
// session's strand; a failure is logged and counted and touches no call.
void Runtime::SendCallSummary(agent::CallSummary summary) {
  platform::EmailMessage m;
  m.to = std::move(summary.to);
  m.subject = std::move(summary.subject);
  m.plain_text = std::move(summary.body);
  m.correlation_id = summary.session_id;
  if (!summary.transcript.empty()) {
    m.attachments.push_back({"transcript-" + summary.session_id + ".txt", "text/plain",
                             std::move(summary.transcript)});
  }
  {
    std::lock_guard<std::mutex> lock(email_mu_);
    ++emails_pending_;
  }
  const std::string id = summary.session_id;
  email_->Send(std::move(m), [this, id](core::Result<platform::EmailResult> r) {
    if (r.ok()) {
      core::LogInfo("email", "{}: call summary sent (operation {})", id, r->operation_id);
    } else {
      core::LogWarn("email", "{}: call summary not sent: {}", id, r.status().ToString());
      metrics_.provider_errors_total
          .Add({{"provider", "email"}, {"kind", std::string(core::StatusCodeName(r.status().code()))}})
          .Increment();
    }
    std::lock_guard<std::mutex> lock(email_mu_);
    --emails_pending_;
    email_cv_.notify_all();
  });
}

core::Result<std::shared_ptr<session::Session>> Runtime::NewSession(
    std::shared_ptr<core::Executor> executor, session::SessionOptions options,
    session::SessionOutput* output) {
  auto vad = providers_.CreateVad(config_.speech.vad.provider,
                                  speech::VadOptions{config_.speech.vad.aggressiveness});
  if (!vad.ok()) return vad.status();
  auto scenario = Scenario(options.scenario);
  if (!scenario) {
    std::string known;
    for (const auto& n : catalog_->Names()) known += (known.empty() ? "" : ", ") + n;
    return core::NotFoundError("no scenario '" + options.scenario + "' (known: " + known + ")");
  }
  if (options.id.empty()) options.id = core::NewId("sess");
  options.scenario = scenario->name;
  agent::OrchestratorDeps od;
  od.scenario = scenario;
  od.tools = &tools_;
  od.model_factory = model_factory_;
  od.executor = executor;
  od.metrics = &metrics_;
  if (email_) {
    od.on_call_summary = [this](agent::CallSummary summary) { SendCallSummary(std::move(summary)); };
  }
  agent::OrchestratorOptions oo;
  oo.session_id = options.id;
  oo.default_provider = config_.model.provider;
  oo.max_tool_iterations = config_.model.max_tool_iterations;
  session::SessionDeps deps;
  deps.responder = std::make_unique<agent::Orchestrator>(std::move(od), oo);
  deps.executor = std::move(executor);
  deps.compute = compute_.get();
  deps.vad = std::move(vad).value();
  deps.stt = stt_.get();
  deps.tts = tts_.get();
  deps.store = store_.get();
  deps.metrics = &metrics_;
  deps.telemetry = telemetry_.get();
  deps.output = output;
  if (archive_) {
    // Read once, when the session starts: App Configuration may flip it for later calls.
    if (live_config()->features.call_recording) {
      deps.recorder = archive_->NewRecorder(options.id, compute_.get(), deps.executor->Now());
    }
    SessionArchive* archive = archive_.get();
    deps.on_closed = [archive, id = options.id](const std::string&) {
      archive->SessionClosed(id);
    };
  }
  return session::Session::Create(std::move(deps), std::move(options));
}

int Runtime::capacity() const {
  // Every session holds a recognizer stream, so the STT's limit caps sessions too.
  int max = live_config()->backend.max_concurrent_calls;
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
  auto scenario = Scenario("");
  checks["scenario"] = {{"ok", scenario && scenario->StartAgent() != nullptr},
                        {"detail", config_.agents.scenario}};
  checks["stt"] = {{"ok", stt_ != nullptr}, {"detail", config_.speech.stt.provider}};
  checks["tts"] = {{"ok", tts_ != nullptr}, {"detail", config_.speech.tts.provider}};
  if (config_.model.provider != "flow") {
    const bool configured = !config_.model.endpoint.empty();
    const auto state =
        model_breaker_ ? model_breaker_->state() : net::CircuitBreaker::State::kClosed;
    checks["model"] = {{"ok", configured && state != net::CircuitBreaker::State::kOpen},
                       {"detail", configured ? config_.model.endpoint + " (circuit " +
                                                   std::string(net::CircuitStateName(state)) + ")"
                                             : std::string("model.endpoint is not set")}};
  }
  const size_t depth = compute_->QueueDepth();
  checks["compute"] = {{"ok", depth < static_cast<size_t>(config_.compute.max_queue)},
                       {"detail", "queue depth " + std::to_string(depth)}};
  if (store_) {
    // Not ready while writes fail (disk full, locked, I/O error): they are kept and retried, but
    // a load balancer should send new calls elsewhere.
    const core::Status health = store_->write_health();
    std::string detail = std::to_string(store_->pending_writes()) + " writes pending";
    if (!health.ok()) detail += "; failing: " + health.message();
    checks["store"] = {{"ok", health.ok()}, {"detail", detail}};
  }
  const int max = capacity();
  checks["capacity"] = {
      {"ok", max <= 0 || active_.load() < max},
      {"detail", std::to_string(active_.load()) + "/" + std::to_string(max) + " sessions"}};
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> extra;
  {
    std::lock_guard lock(live_mu_);
    extra = extra_checks_;
  }
  for (const auto& [name, check] : extra) checks[name] = check();
  bool ready = true;
  for (auto& [k, v] : checks.items()) {
    // Non-critical entries (App Configuration: the last good configuration is still served) are
    // shown without taking the instance out of rotation.
    if (v.value("critical", true)) ready = ready && v["ok"].get<bool>();
  }
  return {{"ready", ready}, {"checks", checks}};
}

std::shared_ptr<const platform::Config> Runtime::live_config() const {
  std::lock_guard lock(live_mu_);
  return live_ ? live_ : std::make_shared<const platform::Config>(config_);
}

bool Runtime::IsLiveKey(std::string_view key) {
  return key.starts_with("backend.") || key.starts_with("session.") ||
         key.starts_with("features.") || key == "log.level";
}

std::vector<std::string> Runtime::ApplyConfig(const platform::Config& next,
                                              const std::vector<std::string>& changed,
                                              nlohmann::json effective) {
  std::vector<std::string> restart;
  std::vector<std::string> live_changed;
  for (const std::string& key : changed) (IsLiveKey(key) ? live_changed : restart).push_back(key);
  core::LogLevel level;
  if (std::find(live_changed.begin(), live_changed.end(), "log.level") != live_changed.end() &&
      core::ParseLogLevel(next.log.level, &level)) {
    core::SetLogLevel(level);
  }
  {
    std::lock_guard lock(live_mu_);
    auto updated = std::make_shared<platform::Config>(live_ ? *live_ : config_);
    updated->backend = next.backend;
    updated->session = next.session;
    updated->features = next.features;
    updated->log.level = next.log.level;
    live_ = std::move(updated);
    // A setting that differs from what the process started with, and cannot change live, is
    // shown with its new value and marked as waiting for a restart.
    for (auto& [key, entry] : effective.items()) {
      if (!IsLiveKey(key) && startup_effective_.contains(key) &&
          startup_effective_[key]["value"] != entry["value"]) {
        entry["restart_pending"] = true;
      }
    }
    effective_ = std::move(effective);
  }
  return restart;
}

nlohmann::json Runtime::EffectiveConfig() const {
  std::lock_guard lock(live_mu_);
  return effective_;
}

void Runtime::SetEffectiveConfig(nlohmann::json effective) {
  std::lock_guard lock(live_mu_);
  startup_effective_ = effective;
  effective_ = std::move(effective);
}

void Runtime::AddReadinessCheck(std::string name, std::function<nlohmann::json()> check) {
  std::lock_guard lock(live_mu_);
  extra_checks_.emplace_back(std::move(name), std::move(check));
}

}  // namespace artagent::app
