#pragma once
// Azure AI Speech providers, registered as "azure-speech" for both STT and TTS:
//
//  * STT: the real-time WebSocket protocol (protocols.md §4.3). One connection per SttStream (one
//    per session), opened when the stream is created and kept warm across turns: each turn sends
//    speech.context + a WAV header + PCM + an empty audio message under a new X-RequestId, so a
//    turn pays no TLS/WebSocket handshake. partials come from speech.hypothesis, the final from
//    speech.phrase (NoMatch / InitialSilenceTimeout / BabbleTimeout: an empty final). A dropped
//    connection is reopened with back-off and the current turn's audio replayed; when that fails
//    (or the breaker is open, or no phrase arrives in time) the turn's final is an error, which
//    the session reports and carries on — a turn never hangs.
//  * TTS: REST POST of SSML (§4.1) asking for headerless PCM; the body is streamed to the sink as
//    it arrives. Retried (429 / 5xx / connection errors, honouring Retry-After) only before the
//    first audio byte was handed out.
//
// Auth: the key (Ocp-Apim-Subscription-Key), a token from the key (issueToken, cached 9 minutes,
// re-fetched after a 401), or Entra ("aad#{resource_id}#{token}"). Keys and tokens never appear in
// a log line or a Status.
//
// Threading: engines are thread-safe and share one I/O thread for their sockets; SttStream and
// Synthesize block their caller (the compute pool), as the speech interfaces require.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/circuit_breaker.h"
#include "net/retry.h"
#include "speech/registry.h"

namespace artagent::net {
class HttpClient;
}

namespace artagent::speech::azure {

enum class SpeechAuthMode {
  kKey,    // Ocp-Apim-Subscription-Key on every request
  kToken,  // the key exchanged for a 10-minute token (issueToken), sent as a bearer token
  kEntra,  // Authorization: Bearer aad#{resource_id}#{Entra token}
};

struct AzureSpeechOptions {
  std::string region;    // e.g. "westeurope": {region}.tts/.stt.speech.microsoft.com
  std::string endpoint;  // overrides region: one base URL ("http://127.0.0.1:8123") serving the
                         // TTS, STT WebSocket and issueToken paths (tests, containers, sovereign)
  std::string key;
  std::string resource_id;  // Entra: the Speech resource's ARM id
  SpeechAuthMode auth = SpeechAuthMode::kKey;
  // Entra access token for https://cognitiveservices.azure.com/.default; may block (called on
  // the compute pool). Required for kEntra.
  std::function<core::Result<std::string>()> entra_token;

  std::string language = "en-US";           // STT recognition language
  std::string voice = "en-US-JennyNeural";  // TTS default voice ("name[:style]")
  int tts_sample_rate = 24000;              // 16000 or 24000 (raw-*khz-16bit-mono-pcm)

  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_byte_timeout{10000};
  // Longest wait for speech.phrase after the end of a turn's audio.
  std::chrono::milliseconds final_timeout{10000};
  net::BackoffPolicy backoff{std::chrono::milliseconds(200), std::chrono::seconds(2), 2.0, 0.2};
  int max_retries = 2;  // TTS before the first byte; STT reconnects within one turn
  core::Duration max_retry_after = std::chrono::seconds(3);
  net::CircuitBreakerOptions breaker{5, std::chrono::seconds(30)};
  std::chrono::seconds token_lifetime{540};  // issueToken tokens live 10 minutes; reuse 9

  // Counted failures ("stt"/"tts"/"auth", kind: "connect", "http_429", "dropped", ...).
  std::function<void(std::string_view what, std::string_view kind)> on_error;
  // Wall clock for the token cache (tests inject one).
  std::function<std::chrono::system_clock::time_point()> now;
};

// Validates the options (a region or an endpoint; a key for kKey/kToken; a resource id and a token
// source for kEntra) and the URLs they give. kInvalidArgument naming the config key to fix.
core::Status ValidateOptions(const AzureSpeechOptions& options);

// `http` must outlive the engines.
core::Result<std::unique_ptr<SttEngine>> CreateAzureStt(AzureSpeechOptions options,
                                                        net::HttpClient* http);
core::Result<std::unique_ptr<TtsEngine>> CreateAzureTts(AzureSpeechOptions options,
                                                        net::HttpClient* http);

// Registers stt and tts "azure-speech". Nothing connects until a stream or request needs it.
void RegisterAzureSpeechProviders(SpeechProviders* providers, AzureSpeechOptions options,
                                  net::HttpClient* http);

}  // namespace artagent::speech::azure
