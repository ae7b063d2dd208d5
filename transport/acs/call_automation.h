#pragma once
// CallAutomationClient: the ACS Call Automation REST API (protocols.md §1.3-1.5) over
// net::HttpClient — answer (with bidirectional media streaming to our WebSocket), reject,
// redirect, create (outbound), hang up, terminate, transfer, play, cancel media operations,
// start/stop recording.
//
// Every request is signed with HMAC-SHA256 (§1.6) from the connection string's access key, or
// carries an Entra bearer token from `bearer_token`. Answer, create, reject, redirect and transfer
// carry Repeatability-Request-ID / Repeatability-First-Sent (the same values on every retry, so a
// retried request is applied once). Retries with exponential back-off (and the server's
// Retry-After) on 408/429/5xx and connection failures, at most `max_attempts` in all; one circuit
// breaker for the ACS endpoint makes calls fail fast (kUnavailable) while it is open.
//
// Thread-safe. Callbacks are posted to the executor given at construction. The client may be
// destroyed with calls in flight: their callbacks then still run (with the outcome so far or
// kCancelled), never after the executor is gone.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/executor.h"
#include "core/status.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "net/retry.h"

namespace artagent::transport::acs {

struct CallAutomationConfig {
  std::string endpoint;    // "https://NAME.communication.azure.com" (no trailing '/')
  std::string host;        // the authority signed in the HMAC string
  std::string access_key;  // base64; empty when bearer_token is used
  // Entra token for https://communication.azure.com//.default (platform/identity provides it).
  std::function<core::Result<std::string>()> bearer_token;
  std::string api_version = "2025-05-15";
  int max_attempts = 3;
  net::BackoffPolicy backoff;
  net::CircuitBreakerOptions breaker;
  std::chrono::milliseconds timeout{10000};  // per attempt, total
  // Wall clock for x-ms-date and Repeatability-First-Sent (tests pin it).
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  uint64_t seed = 0;  // back-off jitter; 0 = random
};

// From "endpoint=...;accesskey=...". kInvalidArgument naming the problem.
core::Result<CallAutomationConfig> CallAutomationConfigFromConnectionString(std::string_view cs);

struct MediaStreamingSettings {
  std::string transport_url;  // wss://our.host/api/v1/media/acs?call=ID
  int sample_rate = 16000;    // 16000 -> pcm16KMono, 24000 -> pcm24KMono
  bool bidirectional = true;
  bool start_immediately = true;
  bool dtmf = true;
  std::string audio_channel = "mixed";
};

struct AnswerCallRequest {
  std::string incoming_call_context;
  std::string callback_uri;
  std::string operation_context;
  MediaStreamingSettings media;
  std::string cognitive_services_endpoint;  // optional
};

struct CreateCallRequest {
  std::string target;            // "+14255550123", "sip:..." or a raw id ("8:acs:...")
  std::string source_caller_id;  // our ACS number, E.164 (needed for PSTN targets)
  std::string callback_uri;
  std::string operation_context;
  MediaStreamingSettings media;
};

struct PlayRequest {
  std::string text;        // text to speak (needs cognitive services on the call) ...
  std::string voice_name;  // ... in this voice ("en-US-JennyNeural"); or
  std::string file_uri;    // a WAV to play
  std::string operation_context;
  bool interrupt = false;  // interruptCallMediaOperation
};

struct StartRecordingRequest {
  std::string server_call_id;
  std::string content = "audio";  // "audio" | "audioVideo"
  std::string channel = "mixed";
  std::string format = "wav";
  // The storage seam: when set, ACS writes the recording straight into this Blob container
  // (recordingStorage azureBlobStorage); otherwise it stays in ACS storage.
  std::string blob_container_url;
};

struct CallConnectionProperties {
  std::string call_connection_id;
  std::string server_call_id;
  std::string state;  // callConnectionState
  std::string correlation_id;
  std::string media_streaming_state;  // mediaStreamingSubscription.state
};

// A transfer/create target as a CommunicationIdentifierModel: "+..." phone number, "sip:"/"sips:"
// URI, "8:..." communication user, else a raw id.
nlohmann::json TargetIdentifier(const std::string& target);
// The JSON bodies (exposed for tests and the simulator's checks).
nlohmann::json AnswerCallBody(const AnswerCallRequest& request);
nlohmann::json MediaStreamingBody(const MediaStreamingSettings& media);

class CallAutomationClient {
 public:
  using Done = std::function<void(const core::Status&)>;
  using PropertiesDone = std::function<void(core::Result<CallConnectionProperties>)>;
  using RecordingDone = std::function<void(core::Result<std::string> recording_id)>;

  // `http` must outlive the client; callbacks go to `executor`.
  CallAutomationClient(net::HttpClient* http, std::shared_ptr<core::Executor> executor,
                       CallAutomationConfig config);
  ~CallAutomationClient();

  void Answer(const AnswerCallRequest& request, PropertiesDone done);
  // reason: "none" | "busy" | "forbidden".
  void Reject(const std::string& incoming_call_context, const std::string& reason, Done done);
  void Redirect(const std::string& incoming_call_context, const std::string& target, Done done);
  void CreateCall(const CreateCallRequest& request, PropertiesDone done);
  // Leaves the call (DELETE); Terminate ends it for everyone.
  void HangUp(const std::string& call_connection_id, Done done);
  void Terminate(const std::string& call_connection_id, Done done);
  void Transfer(const std::string& call_connection_id, const std::string& target,
                const std::string& operation_context, Done done);
  void Play(const std::string& call_connection_id, const PlayRequest& request, Done done);
  void CancelMediaOperations(const std::string& call_connection_id, Done done);
  void StartRecording(const StartRecordingRequest& request, RecordingDone done);
  void StopRecording(const std::string& recording_id, Done done);

  net::CircuitBreaker::State breaker_state() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace artagent::transport::acs
