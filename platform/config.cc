#include "platform/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <variant>

extern char** environ;  // NOLINT: POSIX

namespace artagent::platform {
namespace {

using core::InvalidArgumentError;
using core::Status;

constexpr std::string_view kEnvPrefix = "ARTAGENT_";
constexpr int64_t kGiB = int64_t{1} << 30;

// A key's field in Config, reached through a captureless accessor; one kind per value type.
using StringField = std::string& (*)(Config&);
using IntField = int& (*)(Config&);
using Int64Field = int64_t& (*)(Config&);
using ListField = std::vector<std::string>& (*)(Config&);
using BoolField = bool& (*)(Config&);
using Field = std::variant<StringField, IntField, Int64Field, ListField, BoolField>;

#define ARTAGENT_FIELD(path) \
  +[](Config & c) -> auto& { \
    return c.path;           \
  }

// Returns "" when a string value is acceptable, else what is expected instead.
using StringCheck = std::string (*)(std::string_view value);

// Azure's rule for container names: 3-63 characters, lower-case letters, digits and single
// hyphens, starting and ending with a letter or digit.
std::string ContainerName(std::string_view value) {
  constexpr std::string_view kExpected =
      "expected 3-63 lower-case letters, digits and single hyphens (an Azure container name)";
  if (value.size() < 3 || value.size() > 63 || value.front() == '-' || value.back() == '-' ||
      value.find("--") != std::string_view::npos) {
    return std::string(kExpected);
  }
  for (char c : value) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return std::string(kExpected);
    }
  }
  return "";
}

std::string OtlpEndpoint(std::string_view value) {
  if (value.empty() || value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0) return "";
  return "expected an http:// or https:// URL such as http://otel-collector:4318";
}

std::string NotEmpty(std::string_view value) {
  return value.empty() ? "expected a non-empty value" : "";
}

std::string HostPort(std::string_view value) {
  constexpr std::string_view kExpected = "expected host:port with a port from 0 to 65535";
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
    return std::string(kExpected);
  }
  std::string_view host = value.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return std::string(kExpected);
  std::string_view port = value.substr(colon + 1);
  int number = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc() || end != port.data() + port.size() || number < 0 || number > 65535) {
    return std::string(kExpected);
  }
  return "";
}

// One configuration key: the single table below drives parsing, the environment and App
// Configuration spellings, unknown-key detection, help and the effective-configuration dump.
struct KeySpec {
  std::string_view key;
  Field field;
  std::string_view help;
  int64_t min = 0;  // integers: inclusive range
  int64_t max = 0;
  std::vector<std::string_view> choices = {};  // strings: allowed values, if any
  StringCheck check = nullptr;                 // strings: further validation
};

const std::vector<KeySpec>& Specs() {
  static const auto* const specs = new std::vector<KeySpec>{
      {"environment",
       ARTAGENT_FIELD(environment),
       "Deployment name (development, production, ...); the App Configuration label",
       0,
       0,
       {},
       NotEmpty},
      {"server.listen",
       ARTAGENT_FIELD(server.listen),
       "Listener address host:port; port 0 picks a free port",
       0,
       0,
       {},
       HostPort},
      {"server.tls_cert", ARTAGENT_FIELD(server.tls_cert),
       "PEM certificate chain file; set together with server.tls_key to serve TLS"},
      {"server.tls_key", ARTAGENT_FIELD(server.tls_key),
       "PEM private key file; set together with server.tls_cert to serve TLS"},
      {"server.web_root",
       ARTAGENT_FIELD(server.web_root),
       "Directory of the web console's static files",
       0,
       0,
       {},
       NotEmpty},
      {"server.io_threads", ARTAGENT_FIELD(server.io_threads), "I/O threads; 0 = one per core", 0,
       1024},
      {"server.max_header_bytes", ARTAGENT_FIELD(server.max_header_bytes),
       "Largest HTTP request header block accepted", 1024, 1 << 20},
      {"server.max_body_bytes", ARTAGENT_FIELD(server.max_body_bytes),
       "Largest HTTP request body accepted", 1, kGiB},
      {"server.max_ws_message_bytes", ARTAGENT_FIELD(server.max_ws_message_bytes),
       "Largest WebSocket message accepted", 1, kGiB},
      {"server.ws_send_queue_bytes", ARTAGENT_FIELD(server.ws_send_queue_bytes),
       "Bytes queued towards one WebSocket client before it is dropped as too slow", 1, kGiB},
      {"server.idle_timeout_s", ARTAGENT_FIELD(server.idle_timeout_s),
       "Seconds a silent connection is kept open", 1, 86400},
      {"server.shutdown_grace_s", ARTAGENT_FIELD(server.shutdown_grace_s),
       "Seconds live turns get to finish on shutdown", 0, 3600},
      {"server.api_keys", ARTAGENT_FIELD(server.api_keys),
       "API keys accepted (Bearer or api-key header); empty = no authentication"},
      {"backend.max_concurrent_calls", ARTAGENT_FIELD(backend.max_concurrent_calls),
       "Concurrent sessions; more are refused", 1, 1000000},
      {"compute.threads", ARTAGENT_FIELD(compute.threads),
       "Compute pool threads (STT, TTS); 0 = one per core", 0, 1024},
      {"compute.max_queue", ARTAGENT_FIELD(compute.max_queue),
       "Tasks queued on the compute pool before work is refused", 1, 10000000},
      {"speech.vad.provider",
       ARTAGENT_FIELD(speech.vad.provider),
       "Voice activity detector",
       0,
       0,
       {},
       NotEmpty},
      {"speech.vad.aggressiveness", ARTAGENT_FIELD(speech.vad.aggressiveness),
       "WebRTC VAD mode, 0 (keeps most audio as speech) to 3 (filters most)", 0, 3},
      {"speech.stt.provider",
       ARTAGENT_FIELD(speech.stt.provider),
       "Speech-to-text provider",
       0,
       0,
       {},
       NotEmpty},
      {"speech.stt.pool_size", ARTAGENT_FIELD(speech.stt.pool_size),
       "Speech-to-text decoders kept warm", 0, 1024},
      {"speech.stt.max_streams", ARTAGENT_FIELD(speech.stt.max_streams),
       "Recognizer streams open at once (sessions on this STT); 0 = no limit", 0, 100000},
      {"speech.stt.passthrough_transcript", ARTAGENT_FIELD(speech.stt.passthrough_transcript),
       "Final transcript of every caller turn with the passthrough STT (load tests)"},
      {"speech.tts.provider",
       ARTAGENT_FIELD(speech.tts.provider),
       "Text-to-speech provider",
       0,
       0,
       {},
       NotEmpty},
      {"speech.tts.voice",
       ARTAGENT_FIELD(speech.tts.voice),
       "Voice of the text-to-speech provider",
       0,
       0,
       {},
       NotEmpty},
      {"speech.tts.tone_ms_per_char", ARTAGENT_FIELD(speech.tts.tone_ms_per_char),
       "Milliseconds of audio per text character with the tone TTS (load tests)", 1, 1000},
      {"session.end_of_turn_silence_ms", ARTAGENT_FIELD(session.end_of_turn_silence_ms),
       "Caller silence that ends a turn", 100, 10000},
      {"session.barge_in_min_speech_ms", ARTAGENT_FIELD(session.barge_in_min_speech_ms),
       "Caller speech needed to interrupt the agent", 0, 10000},
      {"session.prefix_padding_ms", ARTAGENT_FIELD(session.prefix_padding_ms),
       "Audio kept before speech onset", 0, 5000},
      {"session.output_lead_ms", ARTAGENT_FIELD(session.output_lead_ms),
       "Agent audio sent ahead of real time", 0, 5000},
      {"session.max_turn_ms", ARTAGENT_FIELD(session.max_turn_ms), "Longest caller turn", 1000,
       600000},
      {"session.idle_timeout_s", ARTAGENT_FIELD(session.idle_timeout_s),
       "Seconds without caller input before a session is closed", 1, 86400},
      {"agents.dir",
       ARTAGENT_FIELD(agents.dir),
       "Directory of agent and scenario YAML",
       0,
       0,
       {},
       NotEmpty},
      {"agents.scenario",
       ARTAGENT_FIELD(agents.scenario),
       "Scenario new sessions start in",
       0,
       0,
       {},
       NotEmpty},
      {"agents.hot_reload_s", ARTAGENT_FIELD(agents.hot_reload_s),
       "Seconds between checks of agent files for changes; 0 = never reload", 0, 3600},
      {"model.provider",
       ARTAGENT_FIELD(model.provider),
       "Model of agents that do not pin one: flow (embedded) or openai (any compatible API)",
       0,
       0,
       {"flow", "openai"}},
      {"model.endpoint", ARTAGENT_FIELD(model.endpoint),
       "Chat completions base URL (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp)"},
      {"model.name", ARTAGENT_FIELD(model.name), "Model or Azure deployment name"},
      {"model.api_key", ARTAGENT_FIELD(model.api_key), "API key of the model endpoint"},
      {"model.api_version", ARTAGENT_FIELD(model.api_version),
       "api-version of Azure OpenAI deployment URLs"},
      {"model.timeout_s", ARTAGENT_FIELD(model.timeout_s),
       "Seconds to wait for the first token of a reply", 1, 600},
      {"model.max_retries", ARTAGENT_FIELD(model.max_retries),
       "Retries of a failed model request (429, 5xx, connection)", 0, 10},
      {"model.max_tool_iterations", ARTAGENT_FIELD(model.max_tool_iterations),
       "Model rounds per reply that follow tool results", 1, 50},
      {"model.breaker_failures", ARTAGENT_FIELD(model.breaker_failures),
       "Failed model requests in a row that open the endpoint's circuit breaker", 1, 1000},
      {"model.breaker_open_s", ARTAGENT_FIELD(model.breaker_open_s),
       "Seconds an open model circuit breaker fails calls fast before a trial request", 1, 3600},
      {"tools.insurance_db", ARTAGENT_FIELD(tools.insurance_db),
       "SQLite database of the insurance demo back office", 0, 0, {}, NotEmpty},
      {"store.path", ARTAGENT_FIELD(store.path), "SQLite database file", 0, 0, {}, NotEmpty},
      {"store.ack_timeout_ms", ARTAGENT_FIELD(store.ack_timeout_ms),
       "Longest wait for the store to commit a turn before its response.done is sent anyway", 0,
       600000},
      {"secrets.dir", ARTAGENT_FIELD(secrets.dir),
       "Directory of secret files (e.g. /run/secrets) for secret://NAME; empty = not used"},
      {"secrets.key_vault_url", ARTAGENT_FIELD(secrets.key_vault_url),
       "Azure Key Vault URL for secret://NAME (https://NAME.vault.azure.net); empty = not used"},
      {"secrets.refresh_s", ARTAGENT_FIELD(secrets.refresh_s),
       "Seconds a Key Vault secret is cached before it is fetched again", 1, 86400},
      {"identity.client_id", ARTAGENT_FIELD(identity.client_id),
       "Client id of a user-assigned managed identity; empty = system-assigned"},
      {"log.level",
       ARTAGENT_FIELD(log.level),
       "Least severe log level written",
       0,
       0,
       {"debug", "info", "warn", "error", "off"}},
      {"log.format",
       ARTAGENT_FIELD(log.format),
       "Log format: auto (text on a terminal, JSON otherwise), text or json",
       0,
       0,
       {"auto", "text", "json"}},
      {"telemetry.otlp_endpoint", ARTAGENT_FIELD(telemetry.otlp_endpoint),
       "OTLP/HTTP receiver base URL for traces, metrics and logs (e.g. http://collector:4318); "
       "empty = no export",
       0,
       0,
       {},
       OtlpEndpoint},
      {"telemetry.otlp_headers", ARTAGENT_FIELD(telemetry.otlp_headers),
       "Headers of every OTLP export, name=value (values may be secret://NAME)"},
      {"telemetry.service_name", ARTAGENT_FIELD(telemetry.service_name),
       "OpenTelemetry service.name", 0, 0, {}, NotEmpty},
      {"telemetry.include_pii", ARTAGENT_FIELD(telemetry.include_pii),
       "Allow phone numbers, transcripts and tool arguments in spans and logs"},
      {"telemetry.log_level",
       ARTAGENT_FIELD(telemetry.log_level),
       "Least severe log line exported over OTLP",
       0,
       0,
       {"debug", "info", "warn", "error", "off"}},
      {"telemetry.batch_size", ARTAGENT_FIELD(telemetry.batch_size),
       "Spans or log records per OTLP request", 1, 8192},
      {"telemetry.flush_interval_ms", ARTAGENT_FIELD(telemetry.flush_interval_ms),
       "Milliseconds between OTLP exports of what is queued", 10, 600000},
      {"telemetry.max_queue", ARTAGENT_FIELD(telemetry.max_queue),
       "Spans or log records waiting for export; more are dropped and counted", 1, 1000000},
      {"telemetry.metrics_interval_s", ARTAGENT_FIELD(telemetry.metrics_interval_s),
       "Seconds between OTLP metrics snapshots; 0 = no metrics export", 0, 86400},
      {"telemetry.app_insights_connection_string",
       ARTAGENT_FIELD(telemetry.app_insights_connection_string),
       "Application Insights connection string (also APPLICATIONINSIGHTS_CONNECTION_STRING); "
       "checked at start-up, exported through an OpenTelemetry Collector"},
      {"acs.connection_string", ARTAGENT_FIELD(acs.connection_string),
       "ACS connection string (endpoint=...;accesskey=...); empty = no phone calls"},
      {"acs.callback_base_url", ARTAGENT_FIELD(acs.callback_base_url),
       "Public base URL ACS calls back; empty = the Host of the Event Grid delivery"},
      {"acs.allowed_callers", ARTAGENT_FIELD(acs.allowed_callers),
       "Callers whose calls are answered (E.164 or raw ids); empty = everyone"},
      {"acs.audio_format",
       ARTAGENT_FIELD(acs.audio_format),
       "Media streaming format: pcm16KMono or pcm24KMono",
       0,
       0,
       {"pcm16KMono", "pcm24KMono"}},
      {"acs.api_version", ARTAGENT_FIELD(acs.api_version), "Call Automation API version", 0, 0,
       {}, NotEmpty},
      {"acs.source_caller_id", ARTAGENT_FIELD(acs.source_caller_id),
       "Our ACS phone number (E.164): the caller id of outbound calls"},
      {"acs.jwt_audience", ARTAGENT_FIELD(acs.jwt_audience),
       "ACS immutable resource id: validate ACS JWTs for it; empty = off (not in production)"},
      {"acs.jwt_issuer", ARTAGENT_FIELD(acs.jwt_issuer), "Issuer of ACS JWTs", 0, 0, {}, NotEmpty},
      {"acs.jwks_url", ARTAGENT_FIELD(acs.jwks_url), "Where ACS publishes its JWT keys", 0, 0, {},
       NotEmpty},
      {"storage.provider",
       ARTAGENT_FIELD(storage.provider),
       "Where recordings and transcripts go: local (a directory) or azure (Blob Storage)",
       0,
       0,
       {"local", "azure"}},
      {"storage.local_dir", ARTAGENT_FIELD(storage.local_dir),
       "Directory of the local provider (CONTAINER/BLOB under it)", 0, 0, {}, NotEmpty},
      {"storage.connection_string", ARTAGENT_FIELD(storage.connection_string),
       "Azure Storage connection string (SharedKey); prefer secret://NAME"},
      {"storage.account_url", ARTAGENT_FIELD(storage.account_url),
       "Blob endpoint for token auth (https://ACCOUNT.blob.core.windows.net), used when "
       "storage.connection_string is empty"},
      {"storage.recordings_container", ARTAGENT_FIELD(storage.recordings_container),
       "Container of call recordings", 0, 0, {}, ContainerName},
      {"storage.transcripts_container", ARTAGENT_FIELD(storage.transcripts_container),
       "Container of session transcripts", 0, 0, {}, ContainerName},
      {"storage.logs_container", ARTAGENT_FIELD(storage.logs_container), "Container of logs", 0,
       0, {}, ContainerName},
      {"storage.block_size_bytes", ARTAGENT_FIELD(storage.block_size_bytes),
       "Bodies larger than this are uploaded in blocks of this size (Put Block + Put Block List)",
       1024, 100 * 1024 * 1024},
      {"storage.outbox_dir", ARTAGENT_FIELD(storage.outbox_dir),
       "Uploads waiting to be sent (survive outages and restarts)", 0, 0, {}, NotEmpty},
      {"storage.recording_max_minutes", ARTAGENT_FIELD(storage.recording_max_minutes),
       "Longest call recording; the rest of a longer call is not recorded", 1, 1440},
      {"features.call_recording", ARTAGENT_FIELD(features.call_recording),
       "Record calls (stereo WAV: caller left, agent right) to storage.recordings_container; "
       "read when a session starts"},
      {"app_config.endpoint", ARTAGENT_FIELD(app_config.endpoint),
       "Azure App Configuration endpoint (https://NAME.azconfig.io), read with an Entra token; "
       "empty = not used"},
      {"app_config.connection_string", ARTAGENT_FIELD(app_config.connection_string),
       "App Configuration connection string (Endpoint=...;Id=...;Secret=...); prefer secret://"},
      {"app_config.label", ARTAGENT_FIELD(app_config.label),
       "Label of the key-values read; empty = the environment name, \\0 = no label"},
      {"app_config.key_filter", ARTAGENT_FIELD(app_config.key_filter),
       "Key filter of the App Configuration list request (* = all, Backend:* = a prefix)", 0, 0,
       {}, NotEmpty},
      {"app_config.refresh_s", ARTAGENT_FIELD(app_config.refresh_s),
       "Seconds between checks of the App Configuration sentinel key", 1, 86400},
      {"app_config.sentinel_key", ARTAGENT_FIELD(app_config.sentinel_key),
       "App Configuration key whose change reloads every key", 0, 0, {}, NotEmpty},
      {"app_config.optional", ARTAGENT_FIELD(app_config.optional),
       "Start on file and environment alone when App Configuration is unreachable at start-up"},
      {"app_config.api_version", ARTAGENT_FIELD(app_config.api_version),
       "App Configuration REST api-version", 0, 0, {}, NotEmpty},
      {"azure_speech.region", ARTAGENT_FIELD(azure_speech.region),
       "Azure region of the Speech resource (westeurope) for the azure-speech provider"},
      {"azure_speech.endpoint", ARTAGENT_FIELD(azure_speech.endpoint),
       "Speech base URL overriding the region (containers, sovereign clouds, tests)"},
      {"azure_speech.key", ARTAGENT_FIELD(azure_speech.key),
       "Speech resource key; prefer secret://NAME"},
      {"azure_speech.resource_id", ARTAGENT_FIELD(azure_speech.resource_id),
       "Speech resource ARM id, for Entra auth (aad#RESOURCE#TOKEN)"},
      {"azure_speech.auth",
       ARTAGENT_FIELD(azure_speech.auth),
       "Speech auth: auto (key if set, else entra), key, token (issueToken exchange) or entra",
       0,
       0,
       {"auto", "key", "token", "entra"}},
      {"azure_speech.language", ARTAGENT_FIELD(azure_speech.language),
       "Recognition language of azure-speech STT (en-US)", 0, 0, {}, NotEmpty},
      {"azure_speech.voice", ARTAGENT_FIELD(azure_speech.voice),
       "Default azure-speech TTS voice (name or name:style)", 0, 0, {}, NotEmpty},
      {"email.connection_string", ARTAGENT_FIELD(email.connection_string),
       "ACS connection string for e-mail (endpoint=...;accesskey=...); prefer secret://NAME"},
      {"email.endpoint", ARTAGENT_FIELD(email.endpoint),
       "ACS endpoint for e-mail with an Entra token (https://NAME.communication.azure.com)"},
      {"email.sender", ARTAGENT_FIELD(email.sender),
       "Sender address (verified domain); empty = no post-call e-mail"},
      {"email.api_version", ARTAGENT_FIELD(email.api_version), "ACS e-mail API version", 0, 0,
       {}, NotEmpty},
      {"email.poll_timeout_s", ARTAGENT_FIELD(email.poll_timeout_s),
       "Longest wait for an e-mail send operation to finish", 1, 3600},
  };
  return *specs;
}

#undef ARTAGENT_FIELD

std::optional<size_t> FindSpec(std::string_view dotted) {
  const auto& specs = Specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].key == dotted) return i;
  }
  return std::nullopt;
}

// "server" and "speech.vad" are sections: prefixes of keys, holding maps.
bool IsSection(std::string_view dotted) {
  for (const KeySpec& spec : Specs()) {
    if (spec.key.size() > dotted.size() && spec.key.starts_with(dotted) &&
        spec.key[dotted.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::vector<std::string> SectionNames() {
  std::vector<std::string> sections;
  for (const KeySpec& spec : Specs()) {
    for (size_t dot = spec.key.find('.'); dot != std::string_view::npos;
         dot = spec.key.find('.', dot + 1)) {
      std::string section(spec.key.substr(0, dot));
      if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
        sections.push_back(std::move(section));
      }
    }
  }
  return sections;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate closest to `word`, if close enough to be a plausible misspelling.
std::optional<std::string> Closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, word.size() / 4) + 1;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// Case- and underscore-insensitive form shared by every spelling: "backend.maxconcurrentcalls".
std::string Normalize(std::string_view key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == ':') {
      out += '.';
    } else if (c == '_' && i + 1 < key.size() && key[i + 1] == '_') {
      out += '.';
      ++i;
    } else if (c != '_') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

// Where a value came from: `where` for messages ("artagent.yaml:4"), `source` for provenance
// ("file:artagent.yaml:4").
struct Origin {
  std::string where;
  std::string source;
};

Origin FileOrigin(const std::string& path, const YAML::Mark& mark) {
  std::string place = fmt::format("{}:{}", path, mark.line + 1);
  return {place, "file:" + place};
}

std::string TypeNoun(const Field& field) {
  switch (field.index()) {
    case 0:
      return "a string";
    case 1:
    case 2:
      return "an integer";
    case 4:
      return "a boolean";
    default:
      return "a list of strings";
  }
}

Status Invalid(const KeySpec& spec, std::string_view problem, const Origin& origin) {
  return InvalidArgumentError(fmt::format("{}: {} ({})", spec.key, problem, origin.where));
}

Status SetString(const KeySpec& spec, std::string value, const Origin& origin, Config& config) {
  if (!spec.choices.empty() &&
      std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
    return Invalid(
        spec, fmt::format("expected one of {}, got '{}'", fmt::join(spec.choices, ", "), value),
        origin);
  }
  if (spec.check != nullptr) {
    if (std::string problem = spec.check(value); !problem.empty()) {
      return Invalid(spec, fmt::format("{}, got '{}'", problem, value), origin);
    }
  }
  std::get<StringField>(spec.field)(config) = std::move(value);
  return core::OkStatus();
}

Status SetInteger(const KeySpec& spec, std::string_view text, const Origin& origin,
                  Config& config) {
  std::string trimmed = Trim(text);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
  if (trimmed.empty() || ec != std::errc() || end != trimmed.data() + trimmed.size()) {
    return Invalid(spec, fmt::format("expected an integer, got '{}'", text), origin);
  }
  if (value < spec.min || value > spec.max) {
    return Invalid(
        spec,
        fmt::format("{} is out of range; use a value from {} to {}", value, spec.min, spec.max),
        origin);
  }
  if (const auto* field = std::get_if<IntField>(&spec.field)) {
    (*field)(config) = static_cast<int>(value);
  } else {
    std::get<Int64Field>(spec.field)(config) = value;
  }
  return core::OkStatus();
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  std::stringstream stream{std::string(text)};
  for (std::string item; std::getline(stream, item, ',');) {
    if (std::string trimmed = Trim(item); !trimmed.empty()) items.push_back(std::move(trimmed));
  }
  return items;
}

// true/false, also yes/no, on/off and 1/0 (any case), as YAML, environments and App Configuration
// feature flags spell them.
Status SetBool(const KeySpec& spec, std::string_view text, const Origin& origin, Config& config) {
  const std::string value = Lower(Trim(text));
  bool parsed = false;
  if (value == "true" || value == "yes" || value == "on" || value == "1") {
    parsed = true;
  } else if (!(value == "false" || value == "no" || value == "off" || value == "0")) {
    return Invalid(spec, fmt::format("expected true or false, got '{}'", text), origin);
  }
  std::get<BoolField>(spec.field)(config) = parsed;
  return core::OkStatus();
}

// A value given as text (environment, flat sources, YAML scalars); lists are comma-separated.
Status SetFromText(const KeySpec& spec, std::string_view text, const Origin& origin,
                   Config& config) {
  switch (spec.field.index()) {
    case 0:
      return SetString(spec, std::string(text), origin, config);
    case 1:
    case 2:
      return SetInteger(spec, text, origin, config);
    case 4:
      return SetBool(spec, text, origin, config);
    default:
      std::get<ListField>(spec.field)(config) = SplitList(text);
      return core::OkStatus();
  }
}

Status SetFromNode(const KeySpec& spec, const YAML::Node& node, const Origin& origin,
                   Config& config) {
  bool is_list = std::holds_alternative<ListField>(spec.field);
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return SetFromText(spec, node.Scalar(), origin, config);
    case YAML::NodeType::Sequence: {
      if (!is_list)
        return Invalid(spec, "expected " + TypeNoun(spec.field) + ", got a list", origin);
      std::vector<std::string> items;
      for (const YAML::Node& item : node) {
        if (!item.IsScalar()) {
          return Invalid(spec, "expected a list of strings, got a nested collection", origin);
        }
        items.push_back(item.Scalar());
      }
      std::get<ListField>(spec.field)(config) = std::move(items);
      return core::OkStatus();
    }
    case YAML::NodeType::Map:
      return Invalid(spec, "expected " + TypeNoun(spec.field) + ", got a map", origin);
    default:  // null: "key:" with nothing after it
      if (std::holds_alternative<StringField>(spec.field)) {
        return SetString(spec, "", origin, config);
      }
      if (is_list) {
        std::get<ListField>(spec.field)(config).clear();
        return core::OkStatus();
      }
      return Invalid(spec, "expected " + TypeNoun(spec.field) + ", got nothing", origin);
  }
}

std::string UnknownKeyWarning(std::string_view key, std::string_view where,
                              const std::optional<std::string>& suggestion) {
  if (suggestion) {
    return fmt::format("unknown key '{}' ({}); did you mean '{}'?", key, where, *suggestion);
  }
  return fmt::format("unknown key '{}' ({}); it is ignored", key, where);
}

std::vector<std::string> LeafKeys() {
  std::vector<std::string> keys;
  for (const KeySpec& spec : Specs()) keys.emplace_back(spec.key);
  return keys;
}

// Reads a YAML file into `config`, layer by layer of nested maps. Dotted map keys
// ("backend.max_concurrent_calls: 3") work too: the path is the same.
class YamlLayer {
 public:
  YamlLayer(const std::string& path, Config& config, std::vector<std::string>& sources,
            std::vector<std::string>& warnings)
      : path_(path), config_(config), sources_(sources), warnings_(warnings) {}

  Status Apply(const YAML::Node& root) {
    if (root.IsNull()) return core::OkStatus();  // an empty file
    if (!root.IsMap()) {
      return InvalidArgumentError(
          fmt::format("{}:{}: expected a map of settings at the top level (key: value lines)",
                      path_, root.Mark().line + 1));
    }
    return Walk(root, "");
  }

 private:
  Status Walk(const YAML::Node& map, const std::string& prefix) {
    for (const auto& pair : map) {
      const YAML::Node& key_node = pair.first;
      const YAML::Node& value = pair.second;
      Origin origin = FileOrigin(path_, key_node.Mark());
      if (!key_node.IsScalar()) {
        return InvalidArgumentError(
            fmt::format("{}: a key must be a plain name, not a collection", origin.where));
      }
      std::string key = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();
      if (std::optional<size_t> index = FindSpec(key)) {
        ARTAGENT_RETURN_IF_ERROR(SetFromNode(Specs()[*index], value, origin, config_));
        sources_[*index] = origin.source;
      } else if (IsSection(key)) {
        if (value.IsMap()) {
          ARTAGENT_RETURN_IF_ERROR(Walk(value, key));
        } else if (!value.IsNull()) {
          return InvalidArgumentError(fmt::format(
              "{}: expected a map of settings ({}: followed by indented key: value lines), got {} "
              "({})",
              key, key, value.IsSequence() ? "a list" : "'" + value.Scalar() + "'", origin.where));
        }
      } else {
        std::vector<std::string> candidates = LeafKeys();
        for (std::string& section : SectionNames()) candidates.push_back(std::move(section));
        warnings_.push_back(UnknownKeyWarning(key, origin.where, Closest(key, candidates)));
      }
    }
    return core::OkStatus();
  }

  const std::string& path_;
  Config& config_;
  std::vector<std::string>& sources_;
  std::vector<std::string>& warnings_;
};

core::Result<YAML::Node> ReadYaml(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return core::NotFoundError(fmt::format(
        "config file '{}' does not exist; fix the path, or give none to run on the defaults",
        path));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(
        fmt::format("config file '{}' is a directory; give the path of a YAML file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError(fmt::format(
        "config file '{}' cannot be read ({}); check its permissions", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(fmt::format("{}:{}:{}: malformed YAML: {}; fix the syntax there",
                                            path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

bool IsSecretKey(std::string_view dotted) {
  std::string_view leaf = dotted.substr(dotted.rfind('.') + 1);
  if (leaf == "key") return true;  // azure_speech.key
  if (leaf == "otlp_headers") return true;  // API keys of the telemetry receiver
  for (std::string_view marker : {"secret", "password", "token", "credential", "connection_string",
                                  "api_key", "access_key", "account_key"}) {
    if (leaf.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

nlohmann::json ValueJson(const KeySpec& spec, Config& config) {
  return std::visit([&](auto field) { return nlohmann::json(field(config)); }, spec.field);
}

std::string ValueText(const KeySpec& spec, Config& config) {
  switch (spec.field.index()) {
    case 0:
      return std::get<StringField>(spec.field)(config);
    case 1:
      return std::to_string(std::get<IntField>(spec.field)(config));
    case 2:
      return std::to_string(std::get<Int64Field>(spec.field)(config));
    case 4:
      return std::get<BoolField>(spec.field)(config) ? "true" : "false";
    default:
      return fmt::format("{}", fmt::join(std::get<ListField>(spec.field)(config), ","));
  }
}

Status CheckConsistency(const Config& config, const std::vector<std::string>& sources) {
  if (config.server.tls_cert.empty() != config.server.tls_key.empty()) {
    bool cert_set = !config.server.tls_cert.empty();
    std::string_view set_key = cert_set ? "server.tls_cert" : "server.tls_key";
    std::string_view missing_key = cert_set ? "server.tls_key" : "server.tls_cert";
    return InvalidArgumentError(fmt::format(
        "{} is set ({}) but {} is empty; set both to serve TLS, or neither for plain HTTP", set_key,
        sources[*FindSpec(set_key)], missing_key));
  }
  return core::OkStatus();
}

}  // namespace

std::string AppConfigKey(std::string_view dotted) {
  std::string out;
  bool upper_next = true;
  for (char c : dotted) {
    if (c == '.') {
      out += ':';
      upper_next = true;
    } else if (c == '_') {
      upper_next = true;
    } else {
      out += upper_next ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper_next = false;
    }
  }
  return out;
}

std::string EnvVarName(std::string_view dotted) {
  std::string out(kEnvPrefix);
  for (char c : dotted) {
    if (c == '.') {
      out += "__";
    } else {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::vector<ConfigKeyInfo> ConfigKeys() {
  Config defaults;
  std::vector<ConfigKeyInfo> keys;
  for (const KeySpec& spec : Specs()) {
    std::string type = TypeNoun(spec.field);
    type = type.substr(type.find(' ') + 1);  // "a string" -> "string"
    if (type == "list of strings") type = "list";
    keys.push_back(
        {std::string(spec.key), type, ValueText(spec, defaults), std::string(spec.help)});
  }
  return keys;
}

std::vector<std::string> ChangedKeys(const Config& before, const Config& after) {
  Config a = before;
  Config b = after;
  std::vector<std::string> changed;
  for (const KeySpec& spec : Specs()) {
    if (ValueJson(spec, a) != ValueJson(spec, b)) changed.emplace_back(spec.key);
  }
  return changed;
}

std::optional<std::string> ClosestConfigKey(std::string_view key) {
  std::vector<std::string> candidates;
  for (const KeySpec& spec : Specs()) candidates.push_back(Normalize(spec.key));
  std::optional<std::string> closest = Closest(Normalize(key), candidates);
  if (!closest) return std::nullopt;
  for (const KeySpec& spec : Specs()) {
    if (Normalize(spec.key) == *closest) return std::string(spec.key);
  }
  return std::nullopt;
}

void ConfigLoader::AddSource(std::unique_ptr<ConfigSource> source) {
  sources_.push_back(std::move(source));
}

core::Result<Config> ConfigLoader::Load(const std::string& yaml_path,
                                        const std::map<std::string, std::string>& env) {
  const auto& specs = Specs();
  warnings_.clear();
  effective_ = nlohmann::json::object();
  Config config;
  std::vector<std::string> provenance(specs.size(), "default");

  if (!yaml_path.empty()) {
    ARTAGENT_ASSIGN_OR_RETURN(YAML::Node root, ReadYaml(yaml_path));
    try {
      ARTAGENT_RETURN_IF_ERROR(YamlLayer(yaml_path, config, provenance, warnings_).Apply(root));
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError(
          fmt::format("{}:{}: {}; fix the value there", yaml_path, e.mark.line + 1, e.msg));
    }
  }

  for (const auto& source : sources_) {
    core::Result<std::map<std::string, std::string>> pairs = source->Fetch();
    if (!pairs.ok()) return pairs.status().WithContext("config source " + source->name());
    for (const auto& [key, value] : *pairs) {
      std::string normalized = Normalize(source->ConfigKeyOf(key));
      Origin origin{source->name() + " " + key, source->name() + ":" + key};
      auto match = std::find_if(specs.begin(), specs.end(), [&](const KeySpec& spec) {
        return Normalize(spec.key) == normalized;
      });
      if (match == specs.end()) {
        std::vector<std::string> candidates;
        for (const KeySpec& spec : specs) candidates.push_back(Normalize(spec.key));
        std::optional<std::string> closest = Closest(normalized, candidates);
        std::optional<std::string> suggestion;
        if (closest) {
          for (const KeySpec& spec : specs) {
            if (Normalize(spec.key) == *closest) suggestion = AppConfigKey(spec.key);
          }
        }
        warnings_.push_back(UnknownKeyWarning(key, source->name(), suggestion));
        continue;
      }
      ARTAGENT_RETURN_IF_ERROR(SetFromText(*match, value, origin, config));
      provenance[match - specs.begin()] = origin.source;
    }
  }

  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    std::string rest = name.substr(kEnvPrefix.size());
    std::string dotted = Lower(rest);
    for (size_t at = dotted.find("__"); at != std::string::npos; at = dotted.find("__", at + 1)) {
      dotted.replace(at, 2, ".");
    }
    Origin origin{"environment variable " + name, "env:" + name};
    if (std::optional<size_t> index = FindSpec(dotted)) {
      ARTAGENT_RETURN_IF_ERROR(SetFromText(specs[*index], value, origin, config));
      provenance[*index] = origin.source;
      continue;
    }
    // ARTAGENT_ names without "__" outside the key table belong to tooling (ARTAGENT_SOURCE_DIR,
    // ...); they are reported only when they look like a misspelt key.
    std::optional<std::string> closest = Closest(dotted, LeafKeys());
    if (rest.find("__") != std::string::npos || closest) {
      std::optional<std::string> suggestion;
      if (closest) suggestion = EnvVarName(*closest);
      warnings_.push_back(UnknownKeyWarning(name, "environment", suggestion));
    }
  }

  ARTAGENT_RETURN_IF_ERROR(CheckConsistency(config, provenance));

  for (size_t i = 0; i < specs.size(); ++i) {
    nlohmann::json value = ValueJson(specs[i], config);
    if (IsSecretKey(specs[i].key) && !value.empty() && value != "") value = "<redacted>";
    effective_[std::string(specs[i].key)] = {{"value", std::move(value)},
                                             {"source", provenance[i]}};
  }
  return config;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos || !text.starts_with(kEnvPrefix)) continue;
    env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

}  // namespace artagent::platform
