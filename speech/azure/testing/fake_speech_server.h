#pragma once
// FakeSpeechServer: a local Azure AI Speech service for tests (protocols.md §4), on 127.0.0.1,
// port 0, plain HTTP/WebSocket:
//   * POST /sts/v1.0/issueToken  — key in, token out;
//   * GET  /stt/speech/universal/v2 (WebSocket) — checks the key or token on the upgrade, checks
//     every client message byte by byte (header lines and their order, 32-hex request ids,
//     ISO timestamps, speech.config before speech.context before audio, the 2-byte header length,
//     the 44-byte WAV header vector, an empty audio message ending the turn) and answers each turn
//     from a script: speech.startDetected, speech.hypothesis, speech.phrase, speech.endDetected,
//     turn.end;
//   * POST /cognitiveservices/v1 — checks auth, Content-Type and X-Microsoft-OutputFormat, reads
//   the
//     SSML and streams PCM (a 440 Hz tone, 20 ms per character of text) in chunks.
// Faults are queued and taken by the next request of their kind. Thread per connection; all
// methods are thread-safe. Violations are recorded (protocol_errors()), never thrown.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::speech::azure::testing {

struct FakeSpeechOptions {
  std::string key = "fake-speech-key";
  std::string issued_token = "fake-speech-token";
  // Accepted as "Bearer aad#{resource_id}#{entra_token}" (empty: Entra not accepted).
  std::string resource_id;
  std::string entra_token;
  // Turns with no queued transcript answer this ("" = NoMatch).
  std::string default_transcript;
  size_t tts_chunk_bytes = 1600;
};

enum class SttFault {
  kRefuse401,         // the next upgrade is refused with 401
  kRefuse429,         // ... with 429
  kDropBeforePhrase,  // the next turn's connection is closed (TCP reset) when its audio ends
  kErrorStatus,       // the next turn's phrase has RecognitionStatus "Error"
  kSilent,            // the next turn gets no answer at all (the client's timeout must fire)
};

struct TtsFault {
  enum class Kind { k401, k429, k503, kDrop, kTruncate } kind = Kind::k503;
  int retry_after_s = 0;  // k429/k503: Retry-After header when > 0
};

struct FakeSttTurn {
  std::string request_id;
  std::string context_body;  // speech.context JSON
  size_t pcm_bytes = 0;      // audio after the WAV header
  bool ended = false;        // the empty audio message arrived
  std::string answered;      // DisplayText sent ("" for NoMatch)
};

struct FakeTtsRequest {
  std::string auth;           // Ocp-Apim-Subscription-Key or Authorization value
  std::string output_format;  // X-Microsoft-OutputFormat
  std::string ssml;
  int status = 0;  // what the fake answered
};

class FakeSpeechServer {
 public:
  static core::Result<std::unique_ptr<FakeSpeechServer>> Start(FakeSpeechOptions options = {});
  ~FakeSpeechServer();

  // "http://127.0.0.1:PORT": azure_speech.endpoint for the client under test.
  std::string endpoint() const;

  // The next turn's DisplayText ("" = NoMatch), in order.
  void QueueTranscript(std::string display_text);
  void QueueSttFault(SttFault fault);
  void QueueTtsFault(TtsFault fault);

  std::vector<FakeSttTurn> stt_turns() const;
  std::vector<FakeTtsRequest> tts_requests() const;
  std::vector<std::string> protocol_errors() const;
  int token_requests() const;
  int stt_connections() const;  // upgrades accepted
  int speech_configs() const;   // speech.config messages received
  // Waits until `count` turns have ended (their answer sent) or `timeout` passed.
  bool WaitForEndedTurns(size_t count, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  explicit FakeSpeechServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace artagent::speech::azure::testing
