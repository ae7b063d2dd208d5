#pragma once
// Configuration: the product's settings, their embedded defaults and how they are layered.
//
// Layers, lowest to highest: the defaults below < the YAML file (artagent.yaml) < each
// ConfigSource in the order added (Azure App Configuration: platform/app_config.h) < environment
// variables.
// Every key has three spellings, derived from its dotted name by one rule:
//
//   YAML (nested maps)        backend: {max_concurrent_calls: 300}   (or the dotted key itself)
//   App Configuration         Backend:MaxConcurrentCalls
//   environment variable      ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS   ("__" between levels)
//
// Wrong types, out-of-range values, malformed YAML and a missing config file are errors that name
// the key, the place (file:line or variable) and what is expected. Unknown keys are warnings that
// name the closest known key.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace artagent::platform {

struct ServerConfig {
  // Listener address "host:port"; port 0 picks a free port (tests). "[::1]:8080" for IPv6.
  std::string listen = "127.0.0.1:8080";
  // PEM certificate chain and private key; both empty = plain HTTP, both set = TLS.
  std::string tls_cert;
  std::string tls_key;
  // Directory of the web console's static files.
  std::string web_root = "web";
  // Threads running the I/O context; 0 = one per core.
  int io_threads = 0;
  // Largest HTTP request header block accepted (431 beyond it).
  int64_t max_header_bytes = 8192;
  // Largest HTTP request body accepted (413 beyond it).
  int64_t max_body_bytes = 1048576;
  // Largest WebSocket message accepted (close 1009 beyond it).
  int64_t max_ws_message_bytes = 16777216;
  // Bytes queued towards one WebSocket client before it is dropped as a slow reader.
  int64_t ws_send_queue_bytes = 8388608;
  // Seconds a connection may stay silent before it is closed.
  int idle_timeout_s = 60;
  // Seconds live turns get to finish on shutdown.
  int shutdown_grace_s = 10;
  // Keys accepted as "Authorization: Bearer KEY" or "api-key: KEY"; empty = no authentication.
  std::vector<std::string> api_keys;
};

struct BackendConfig {
  // Concurrent sessions; sessions beyond it are refused (HTTP 503 / WS close 1013).
  int max_concurrent_calls = 200;
};

struct ComputeConfig {
  // Threads of the compute pool (STT decoding, TTS synthesis); 0 = one per core.
  int threads = 0;
  // Tasks queued on the compute pool before new work is refused.
  int max_queue = 4096;
};

struct VadConfig {
  // Voice activity detector by provider name.
  std::string provider = "webrtc";
  // WebRTC VAD mode, 0 (least aggressive at filtering non-speech) to 3 (most).
  int aggressiveness = 2;
};

struct SttConfig {
  // Speech-to-text provider by name.
  std::string provider = "pocketsphinx";
  // Decoders kept warm for reuse by new sessions.
  int pool_size = 2;
  // Recognizer streams open at once (one per live session). Each pocketsphinx decoder with the
  // full language model holds ~100 MB, so this, not backend.max_concurrent_calls, is what bounds
  // sessions on the embedded STT. 0 = no limit.
  int max_streams = 64;
  // Final transcript of every caller turn with provider "passthrough" (load tests).
  std::string passthrough_transcript = "i want to file a claim";
};

struct TtsConfig {
  // Text-to-speech provider by name.
  std::string provider = "flite";
  // Voice name understood by the provider (flite: slt, kal16, rms, awb).
  std::string voice = "slt";
  // Milliseconds of tone per character of text with provider "tone" (load tests).
  int tone_ms_per_char = 60;
};

struct SpeechConfig {
  VadConfig vad;
  SttConfig stt;
  TtsConfig tts;
};

struct SessionConfig {
  // Caller silence that ends a turn.
  int end_of_turn_silence_ms = 500;
  // Sustained caller speech needed to interrupt the agent.
  int barge_in_min_speech_ms = 200;
  // Audio kept before speech onset and handed to STT with the turn.
  int prefix_padding_ms = 300;
  // Agent audio sent ahead of real time to absorb network jitter.
  int output_lead_ms = 100;
  // Longest caller turn; the turn is ended when it is reached.
  int max_turn_ms = 30000;
  // Seconds without caller audio or text before a session is closed.
  int idle_timeout_s = 300;
};

struct AgentsConfig {
  // Directory of agent and scenario YAML files.
  std::string dir = "agents";
  // Scenario new sessions start in (a client may ask for another: /v1/realtime?scenario=NAME).
  std::string scenario = "insurance";
  // Seconds between checks of the agent files for changes (new sessions get the new version;
  // a broken edit is logged and the previous version kept). 0 = never reload.
  int hot_reload_s = 2;
};

struct ModelConfig {
  // Model of agents that do not pin one in their YAML: "flow" (embedded) or "openai" (OpenAI,
  // Azure OpenAI or any compatible server).
  std::string provider = "flow";
  // Base URL: https://api.openai.com/v1, http://localhost:11434/v1 (Ollama),
  // https://NAME.openai.azure.com/openai/v1, or https://NAME.openai.azure.com/openai/deployments/D.
  std::string endpoint;
  // Model name (or Azure deployment name for the /openai/v1 form).
  std::string name;
  // API key; Azure hosts get it as "api-key", others as a bearer token. Prefer secret://NAME.
  std::string api_key;
  // Azure classic deployment URLs: the api-version query parameter.
  std::string api_version = "2024-10-21";
  // Seconds to wait for the first token of a reply.
  int timeout_s = 30;
  // Retries of a failed request (429 / 5xx / connection) before the caller hears an apology.
  int max_retries = 2;
  // Model rounds per reply that follow tool results.
  int max_tool_iterations = 5;
  // Circuit breaker of the endpoint (shared by every session): this many failed requests in a
  // row open it; while open, replies fail fast (the caller hears an apology) until breaker_open_s
  // have passed and one trial request succeeds.
  int breaker_failures = 5;
  int breaker_open_s = 30;
};

struct ToolsConfig {
  // SQLite database of the insurance scenario's demo back office (seeded on first use).
  std::string insurance_db = "data/insurance.db";
};

struct StoreConfig {
  // SQLite database file; parent directories are created.
  std::string path = "data/artagent.db";
  // Longest wait for the store to commit a turn before its end (Realtime response.done) is sent
  // anyway, unacknowledged (platform/store.h "Acknowledged").
  int ack_timeout_ms = 5000;
};

// OpenTelemetry export (platform/telemetry.h): traces, metrics and logs over OTLP/HTTP JSON.
struct TelemetryConfig {
  // Base URL of an OTLP/HTTP receiver, e.g. http://otel-collector:4318 (the signal paths
  // /v1/traces, /v1/metrics, /v1/logs are appended); empty = no export.
  std::string otlp_endpoint;
  // Headers sent with every export, "name=value" (e.g. "api-key=secret://OTLP_KEY"); values may be
  // secret:// references.
  std::vector<std::string> otlp_headers;
  std::string service_name = "artagent";
  // Phone numbers, transcripts and tool arguments in spans and logs.
  bool include_pii = false;
  // Least severe log line exported: debug | info | warn | error | off.
  std::string log_level = "info";
  int batch_size = 512;          // records per export request
  int flush_interval_ms = 2000;  // a batch leaves at least this often
  int max_queue = 2048;          // records per signal waiting; more are dropped and counted
  int metrics_interval_s = 30;   // a metrics snapshot this often; 0 = none
  // Application Insights (or env APPLICATIONINSIGHTS_CONNECTION_STRING): checked at start-up;
  // point an OpenTelemetry Collector's azuremonitor exporter at it and otlp_endpoint at the
  // collector (README, Telemetry).
  std::string app_insights_connection_string;
};

struct LogConfig {
  // "debug" | "info" | "warn" | "error" | "off".
  std::string level = "info";
  // "auto" (text on a terminal, JSON lines otherwise) | "text" | "json".
  std::string format = "auto";
};

// Secret references (secret://NAME in values such as model.api_key): where they are looked up
// after the environment (platform/secrets.h).
struct SecretsConfig {
  // Directory of one file per secret, e.g. /run/secrets; empty = not used.
  std::string dir;
  // Azure Key Vault URL (https://NAME.vault.azure.net); empty = not used.
  std::string key_vault_url;
  // Seconds a Key Vault value is used before it is fetched again.
  int refresh_s = 300;
};

// The identity artagent uses towards Azure services (platform/identity.h): a service principal
// from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, else the managed identity.
struct IdentityConfig {
  // Client id of a user-assigned managed identity; empty = system-assigned (or AZURE_CLIENT_ID).
  std::string client_id;
};

// Phone calls through Azure Communication Services (transport/acs/).
struct AcsConfig {
  // "endpoint=https://NAME.communication.azure.com/;accesskey=KEY"; empty = no Call Automation
  // (IncomingCall events are refused with 503). Prefer a secret:// reference.
  std::string connection_string;
  // Public base URL of this server as ACS reaches it ("https://agent.example.com"); callback and
  // media URLs are built from it. Empty = from the Host header of the Event Grid delivery.
  std::string callback_base_url;
  // Callers (E.164 numbers or raw ids) whose calls are answered; empty = everyone.
  std::vector<std::string> allowed_callers;
  // Media format asked for when answering: pcm16KMono or pcm24KMono.
  std::string audio_format = "pcm16KMono";
  // Call Automation REST API version.
  std::string api_version = "2025-05-15";
  // Our ACS number (E.164), the caller id of outbound calls.
  std::string source_caller_id;
  // The ACS resource's immutable id: ACS-signed JWTs on callbacks and media streams must carry it
  // as audience. Empty = no JWT validation (refused in the production environment).
  std::string jwt_audience;
  std::string jwt_issuer = "https://acscallautomation.communication.azure.com";
  std::string jwks_url = "https://acscallautomation.communication.azure.com/calling/keys";
};

// Where recordings and transcripts are uploaded (platform/blob_storage.h, platform/blob_outbox.h).
struct StorageConfig {
  // "local" (a directory) | "azure" (Blob Storage).
  std::string provider = "local";
  // The local provider's directory: blobs are LOCAL_DIR/CONTAINER/NAME.
  std::string local_dir = "data/blobs";
  // "DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...[;BlobEndpoint=...]" (SharedKey).
  // Prefer secret://NAME. Empty = token auth against account_url.
  std::string connection_string;
  // "https://ACCOUNT.blob.core.windows.net": with no connection string, requests carry a bearer
  // token of the default Azure credential (scope https://storage.azure.com/.default).
  std::string account_url;
  std::string recordings_container = "audio-recordings";
  std::string transcripts_container = "transcripts";
  std::string logs_container = "logs";
  // Bodies above this size go up as Put Block + Put Block List, in blocks of this size.
  int64_t block_size_bytes = 4 * 1024 * 1024;
  // Uploads not yet acknowledged by the storage: kept here across outages and restarts.
  std::string outbox_dir = "data/outbox";
  // Longest call recording.
  int recording_max_minutes = 120;
};

// Feature switches. Azure App Configuration feature flags drive them live: flag "CallRecording"
// (.appconfig.featureflag/CallRecording, or the plain key FeatureFlags:CallRecording) is
// features.call_recording (platform/app_config.h).
struct FeaturesConfig {
  // Record calls (caller and agent, two channels) and upload them.
  bool call_recording = false;
};

// Azure App Configuration as a live configuration layer (platform/app_config.h). Set endpoint
// (Entra token from the identity chain) or connection_string (HMAC access key) to use it.
struct AppConfigConfig {
  // https://NAME.azconfig.io; ignored when connection_string is set.
  std::string endpoint;
  // Endpoint=https://NAME.azconfig.io;Id=...;Secret=... Prefer a secret:// reference.
  std::string connection_string;
  // Label of the key-values read; empty = the environment name; "\0" = keys without a label.
  std::string label;
  // Key filter of the list request ("*" = all keys, "Backend:*" = a prefix).
  std::string key_filter = "*";
  // Seconds between checks of the sentinel key.
  int refresh_s = 30;
  // Key whose change (etag) triggers a reload of everything.
  std::string sentinel_key = "Backend:Sentinel";
  // Start on the file and environment alone when App Configuration cannot be read at start-up.
  bool optional = false;
  // REST api-version.
  std::string api_version = "1.0";
};

// Azure AI Speech, the "azure-speech" STT/TTS provider (speech/azure/azure_speech.h).
struct AzureSpeechConfig {
  // Azure region of the Speech resource ("westeurope"); or endpoint, which wins.
  std::string region;
  // One base URL serving the TTS, STT WebSocket and issueToken paths (local containers, sovereign
  // clouds, tests): "http://127.0.0.1:5000".
  std::string endpoint;
  // Resource key. Prefer a secret:// reference.
  std::string key;
  // The Speech resource's ARM id, for Entra auth ("aad#{resource_id}#{token}").
  std::string resource_id;
  // auto (key when set, else Entra) | key (Ocp-Apim-Subscription-Key) | token (issueToken
  // exchange, cached 9 minutes) | entra.
  std::string auth = "auto";
  std::string language = "en-US";
  // Default TTS voice ("name" or "name:style"); agents' Azure voices ("en-US-AriaNeural",
  // "azure:en-US-AriaNeural") override it, embedded voice names (slt, kal16) do not.
  std::string voice = "en-US-JennyNeural";
};

// E-mail through Azure Communication Services (platform/email.h): the post-call summary of a
// scenario with an `email:` block.
struct EmailConfig {
  // "endpoint=https://NAME.communication.azure.com/;accesskey=KEY" (HMAC). Prefer secret://.
  std::string connection_string;
  // https://NAME.communication.azure.com, used with an Entra token when there is no
  // connection string.
  std::string endpoint;
  // Sender address of a verified domain ("DoNotReply@contoso.com"); empty = no e-mail.
  std::string sender;
  std::string api_version = "2023-03-31";
  // Longest wait for the send operation to finish (polling Operation-Location).
  int poll_timeout_s = 120;
};

// Everything configurable, with the embedded defaults of the product.
struct Config {
  // Deployment name ("development", "production", ...); the App Configuration label.
  std::string environment = "development";
  ServerConfig server;
  BackendConfig backend;
  ComputeConfig compute;
  SpeechConfig speech;
  SessionConfig session;
  AgentsConfig agents;
  ModelConfig model;
  ToolsConfig tools;
  StoreConfig store;
  LogConfig log;
  TelemetryConfig telemetry;
  AcsConfig acs;
  SecretsConfig secrets;
  IdentityConfig identity;
  FeaturesConfig features;
  AppConfigConfig app_config;
  StorageConfig storage;
  AzureSpeechConfig azure_speech;
  EmailConfig email;
};

// A layer of flat key/value pairs between the file and the environment (Azure App
// Configuration). Keys may be spelled "Backend:MaxConcurrentCalls" or
// "backend.max_concurrent_calls" (matched case-insensitively); values are text, as in the
// environment (lists comma-separated; booleans true/false).
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Short name used in provenance and messages ("app_config").
  virtual std::string name() const = 0;
  // The pairs this source holds now. An error fails Load(). Must not block on the network:
  // sources fetch in the background and hand out their last good snapshot here.
  virtual core::Result<std::map<std::string, std::string>> Fetch() = 0;
  // The configuration key a pair's key stands for, when the source has its own naming
  // (".appconfig.featureflag/CallRecording" -> "features.call_recording"); provenance keeps the
  // source's key. Default: the key itself.
  virtual std::string ConfigKeyOf(const std::string& source_key) const { return source_key; }
};

// The three spellings of a dotted key.
std::string AppConfigKey(std::string_view dotted);  // "Backend:MaxConcurrentCalls"
std::string EnvVarName(std::string_view dotted);    // "ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS"

// One known key, for help output.
struct ConfigKeyInfo {
  std::string key;            // dotted
  std::string type;           // "string" | "integer" | "boolean" | "list"
  std::string default_value;  // as text; lists comma-separated
  std::string help;
};
std::vector<ConfigKeyInfo> ConfigKeys();

// Dotted keys whose values differ between two configurations (secrets compared, never shown).
std::vector<std::string> ChangedKeys(const Config& before, const Config& after);

// The dotted key closest to `key` (any spelling), if one is close enough to be a misspelling.
std::optional<std::string> ClosestConfigKey(std::string_view key);

// Builds a Config from the layers. Not thread-safe; use once at start-up (and again on refresh).
class ConfigLoader {
 public:
  void AddSource(std::unique_ptr<ConfigSource> source);

  // yaml_path: "" = no file; a path given but missing is an error. env: variables by name
  // (usually ProcessEnvironment()); only ARTAGENT_ names are read. Returns kInvalidArgument for
  // bad values or YAML, kNotFound for a missing file, or the error of a failing source.
  core::Result<Config> Load(const std::string& yaml_path,
                            const std::map<std::string, std::string>& env);

  // Unknown keys seen by the last Load(), one message each, for the caller to log.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // After a successful Load(): {"server.listen": {"value": "...", "source": "default"}, ...} for
  // every key. source is "default" | "file:PATH:LINE" | "env:NAME" | "SOURCE:KEY". Values of
  // secret-looking keys (api_keys, *secret*, *password*, *token*, ...) are "<redacted>".
  const nlohmann::json& Effective() const { return effective_; }

 private:
  std::vector<std::unique_ptr<ConfigSource>> sources_;
  std::vector<std::string> warnings_;
  nlohmann::json effective_ = nlohmann::json::object();
};

// The process's ARTAGENT_* environment variables.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace artagent::platform
