#pragma once
// AcsMediaConnection: one ACS bidirectional media WebSocket bound to one Session, the telephony
// twin of realtime::RealtimeConnection. ACS is the WebSocket client; it streams the caller's audio
// (AudioMetadata first, then AudioData every 20 ms, DtmfData on key presses) and plays whatever
// AudioData we send back. The connection only translates:
//   caller audio  -> Session::PushAudio at the stream's rate (16 or 24 kHz)
//   DtmfData      -> Session::PushDtmf
//   AudioChunk    -> AudioData frames of exactly 20 ms at the stream's rate (the session paces
//   them) AudioCleared  -> StopAudio (barge-in: ACS drops what it has buffered)
//   CallControlRequested / SessionEnded -> AcsCallHooks (the call layer transfers or hangs up)
// Other session events are not part of the media protocol and are ignored.
//
// It knows nothing of sockets: the app's glue hands it messages and gives it a peer to write to.
// Every call comes on the connection's strand, which is also the session's executor. Bad frames
// are counted (protocol_errors_total{transport="acs"}) and dropped; ACS cannot be sent errors.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audio/frame_assembler.h"
#include "audio/resampler.h"
#include "session/session.h"
#include "transport/acs/acs_media.h"

namespace artagent::platform {
class Metrics;
}

namespace artagent::transport::acs {

class AcsMediaPeer {
 public:
  virtual ~AcsMediaPeer() = default;
  virtual void SendText(std::string message) = 0;
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// What the call layer learns from the media connection. Called on the connection's strand.
class AcsCallHooks {
 public:
  virtual ~AcsCallHooks() = default;
  virtual void OnSessionStarted(const std::string& session_id) = 0;
  // The agent asked to end or transfer the call; its last words have been sent.
  virtual void OnCallControl(const session::CallControl& control) = 0;
  // The session ended itself ("idle_timeout", "agent_ended_call").
  virtual void OnSessionEnded(const std::string& reason) = 0;
};

using SessionFactory = std::function<core::Result<std::shared_ptr<session::Session>>(
    session::SessionOptions options, session::SessionOutput* output)>;

struct AcsMediaOptions {
  std::string call_id;                      // ours, for logs
  int sample_rate = kAcsDefaultSampleRate;  // negotiated in the answer (audioFormat)
};

class AcsMediaConnection : public session::SessionOutput {
 public:
  // `hooks` and `metrics` may be null; both must outlive the connection.
  AcsMediaConnection(AcsMediaPeer* peer, SessionFactory factory, session::SessionOptions defaults,
                     platform::Metrics* metrics, AcsMediaOptions options, AcsCallHooks* hooks);
  ~AcsMediaConnection() override;

  // Creates and starts the session (the greeting begins). On failure closes with 1011.
  void Open();
  void OnMessage(std::string_view data, bool is_text);
  // The socket is gone: the caller hung up (1000) or the stream dropped (anything else).
  void OnClose(uint16_t code);
  // Ends the session from the call layer (CallDisconnected, DELETE /api/v1/calls/{id}) and closes
  // the socket with 1000.
  void Hangup(const std::string& status);
  // A key the caller pressed that reached us another way (a RecognizeCompleted callback).
  void PushDtmf(char digit);
  // Something the call layer must tell the agent (Session::Notify), e.g. a failed transfer.
  void NotifyAgent(const std::string& event);

  void OnSessionEvent(session::SessionEvent event) override;

  const std::shared_ptr<session::Session>& session() const { return session_; }
  int sample_rate() const { return rate_; }
  bool metadata_seen() const { return metadata_seen_; }
  int64_t frames_sent() const { return frames_sent_; }
  int64_t stops_sent() const { return stops_sent_; }
  int64_t bad_frames() const { return bad_frames_; }

 private:
  void Count(const std::string& kind);
  void Send(std::string message);
  void SendAudio(std::span<const int16_t> pcm, int rate);
  void FlushTail();
  void HandleCallControl(const session::CallControl& control);

  AcsMediaPeer* peer_;
  SessionFactory factory_;
  session::SessionOptions defaults_;
  platform::Metrics* metrics_;
  AcsMediaOptions options_;
  AcsCallHooks* hooks_;
  std::shared_ptr<session::Session> session_;
  int rate_;
  bool metadata_seen_ = false;
  bool closed_ = false;
  std::optional<audio::FrameAssembler> out_frames_;  // 20 ms at rate_
  audio::Samples silence_;
  // Agent audio produced at another rate (a reply begun before AudioMetadata changed the rate).
  std::unique_ptr<audio::Resampler> resampler_;
  audio::Samples resampled_;
  int64_t frames_sent_ = 0;
  int64_t stops_sent_ = 0;
  int64_t bad_frames_ = 0;
};

}  // namespace artagent::transport::acs
