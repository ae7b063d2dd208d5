#pragma once
// AcsSimulator: the ACS side of a phone call, played locally so that a developer (and the tests)
// can call an agent "by phone" without Azure. It
//   * serves the Call Automation REST API the server calls (answer, reject, hang up, terminate,
//     transfer, play, cancel, create, recordings) on 127.0.0.1, checking every HMAC signature
//     against the access key of connection_string();
//   * posts Microsoft.Communication.IncomingCall to the server's Event Grid endpoint;
//   * sends the Call Automation callbacks (CallConnected, MediaStreamingStarted, CallDisconnected)
//     to the callback URI the server gave in its answer;
//   * connects to the media WebSocket the server asked for, sends AudioMetadata, streams caller
//     audio as 20 ms AudioData frames in real time, sends DtmfData, and records every AudioData
//     and StopAudio frame the agent sends back, with arrival times.
// Blocking API, for one call at a time; thread-safe accessors.

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"
#include "core/executor.h"
#include "core/status.h"
#include "net/http_client.h"

namespace artagent::transport::acs {

struct SimulatorOptions {
  std::string server_url;  // the artagent server: "http://127.0.0.1:8080"
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // the fake ACS endpoint; 0 = any free port
  // Access key the server must sign with (base64). The default is a fixed development key.
  std::string access_key = "c2ltdWxhdG9yLWFjY2Vzcy1rZXktMDEyMzQ1Njc4OWFi";
  std::string caller = "+14255550123";
  std::string callee = "+18005550100";
  bool cloud_events_schema = false;  // IncomingCall as CloudEvents instead of Event Grid schema
  // Non-empty: sign callbacks and the media upgrade with RS256 JWTs for this audience, as ACS
  // does, and publish the key at jwks_url().
  std::string jwt_audience;
  // What becomes of a transfer the server asks for (transferToParticipant): "accepted"
  // (CallTransferAccepted, then CallDisconnected: the caller has left us) or "failed"
  // (CallTransferFailed: the caller stays on the line).
  std::string transfer_outcome = "accepted";
};

// One REST call the server made.
struct SimulatedRestCall {
  std::string method;
  std::string target;
  nlohmann::json body;
  bool signature_ok = false;
  std::string signature_error;
};

// One frame the agent sent on the media socket.
struct ReceivedMediaFrame {
  core::TimePoint at;
  bool stop = false;   // StopAudio
  size_t samples = 0;  // AudioData: samples in the frame
};

class AcsSimulator {
 public:
  static core::Result<std::unique_ptr<AcsSimulator>> Start(SimulatorOptions options);
  ~AcsSimulator();

  // "endpoint=http://127.0.0.1:PORT/;accesskey=KEY": configure the server with it.
  std::string connection_string() const;
  // The simulator's JWKS document URL (for acs.jwks_url).
  std::string jwks_url() const;
  // A token as ACS would sign it (empty without jwt_audience).
  std::string SignToken() const;
  // The server to call, when it was not known at Start() (it needs connection_string() first).
  void set_server_url(const std::string& url);
  // A raw request to the server (tests of bad input, handshakes). Path like "/api/v1/calls".
  core::Result<net::HttpResponse> Request(const std::string& method, const std::string& path,
                                          const std::string& body,
                                          const net::Headers& headers = {});

  // Rings the server: posts IncomingCall, waits for its answer (signature checked), sends
  // CallConnected and MediaStreamingStarted, opens the media WebSocket and sends AudioMetadata.
  // kUnavailable/kDeadlineExceeded/kPermissionDenied (rejected) with what went wrong.
  core::Status PlaceCall(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends a duplicate of the last callback (idempotency checks).
  core::Status ResendLastCallback();
  // Streams caller audio at the stream rate as 20 ms frames, in real time. The first loud frame
  // of each call marks a speech onset (for barge-in latency).
  void StreamAudio(const audio::Samples& pcm);
  void StreamSilence(int ms);
  void SendDtmf(char key);
  // Called on the simulator's reader thread with each AudioData frame the agent sends (after it
  // was recorded), and with an empty span for StopAudio. Must not block (live playback writes to
  // a non-blocking pipe). Set before PlaceCall.
  void SetAgentAudioSink(std::function<void(std::span<const int16_t>)> sink);
  // The caller hangs up: CallDisconnected, then the media socket closes.
  core::Status HangUp();

  // Waits until the agent has sent at least `ms` of audio in total / `count` StopAudio frames.
  bool WaitForAgentAudio(int ms, std::chrono::milliseconds timeout);
  bool WaitForStops(size_t count, std::chrono::milliseconds timeout);
  // Waits until the agent has been silent (no AudioData) for `quiet` after sending audio.
  bool WaitForAgentQuiet(std::chrono::milliseconds quiet, std::chrono::milliseconds timeout);
  // Waits for a REST call whose target contains `needle`.
  bool WaitForRestCall(const std::string& needle, std::chrono::milliseconds timeout);

  int sample_rate() const;
  std::string call_connection_id() const;
  std::vector<SimulatedRestCall> rest_calls() const;
  std::vector<ReceivedMediaFrame> frames() const;
  audio::Samples agent_audio() const;  // everything the agent sent, concatenated
  int64_t agent_audio_ms() const;
  // Speech onsets in the caller audio streamed so far (send times of the first loud frame after
  // at least 300 ms of quiet).
  std::vector<core::TimePoint> onsets() const;
  bool media_closed() const;
  int media_close_code() const;

  struct Impl;

 private:
  explicit AcsSimulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Statistics over the agent's frames, for benchmarks and `artagent call --simulate`.
struct MediaStats {
  size_t frames = 0;
  size_t wrong_size_frames = 0;  // not exactly 20 ms
  double interval_p50_ms = 0, interval_p99_ms = 0, interval_max_ms = 0;
  // |interval - 20 ms| over steady-state frames (bursts at the start of a reply excluded).
  double jitter_p50_ms = 0, jitter_p99_ms = 0;
  std::vector<double> barge_in_ms;  // per StopAudio: the latest caller onset before it -> it
};
MediaStats ComputeMediaStats(const std::vector<ReceivedMediaFrame>& frames, int sample_rate,
                             const std::vector<core::TimePoint>& onsets);

}  // namespace artagent::transport::acs
