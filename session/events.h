#pragma once
// What a Session tells its transport. Small value types in a std::variant, moved, not shared
// (audio payloads are immutable shared buffers). Transports translate them to their wire format.

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"
#include "session/responder.h"

namespace artagent::session {

// The caller started speaking (server VAD). `audio_start_ms` counts from the first input sample of
// the session and includes the prefix padding.
struct SpeechStarted {
  std::string item_id;
  int64_t audio_start_ms = 0;
};
struct SpeechStopped {
  std::string item_id;
  int64_t audio_end_ms = 0;
};
// The caller's audio became a user item (end of turn or a manual commit).
struct InputCommitted {
  std::string item_id;
  std::string previous_item_id;
};
struct InputCleared {};
// A user item created from text (Realtime conversation.item.create).
struct UserTextItem {
  std::string item_id;
  std::string previous_item_id;
  std::string text;
  bool dtmf = false;  // keys the caller pressed ("1234"), not typed text
};
// The current best hypothesis for the caller's utterance (replaces the previous one).
struct TranscriptPartial {
  std::string item_id;
  std::string text;
};
struct TranscriptFinal {
  std::string item_id;
  std::string text;
};
struct TranscriptFailed {
  std::string item_id;
  std::string message;
};
struct ResponseStarted {
  std::string response_id;
};
struct OutputItemStarted {
  std::string response_id;
  std::string item_id;
  std::string agent;
};
// Text of the agent's reply as it is produced (transcript of the audio in audio sessions).
struct TextDelta {
  std::string response_id;
  std::string item_id;
  std::string delta;
};
// Agent audio, mono PCM16 at the session's output rate, paced in real time (plus a small lead).
struct AudioChunk {
  std::string response_id;
  std::string item_id;
  audio::PcmBuffer samples;
  int sample_rate = 0;
};
// Queued agent audio was dropped (barge-in or cancel): the transport tells the far end to stop
// playing what it has buffered (ACS StopAudio, Realtime output_audio_buffer.cleared).
struct AudioCleared {
  std::string response_id;
};
struct OutputItemDone {
  std::string response_id;
  std::string item_id;
  std::string text;      // the reply as it stands in history (heard part only if interrupted)
  int64_t audio_ms = 0;  // agent audio sent for this item
  bool interrupted = false;
};
struct ResponseDone {
  std::string response_id;
  std::string item_id;
  std::string status;  // "completed" | "cancelled" | "failed"
  std::string reason;  // cancelled: "turn_detected" | "client_cancelled"; failed: error text
  std::string text;
};
struct ItemTruncated {
  std::string item_id;
  int64_t audio_end_ms = 0;
  std::string text;  // what remains (heard)
};
// Per-turn latency, milliseconds. Stage values are the time each stage took (from the end of the
// previous one); voice_to_voice is the total from the caller's last voiced frame (or the text
// turn's arrival) to the first agent audio handed to the transport.
struct TurnMetrics {
  std::string response_id;
  std::string item_id;
  std::string user_item_id;
  double endpointing_ms = -1;
  double stt_final_ms = -1;
  double model_first_token_ms = -1;
  double first_clause_ms = -1;
  double tts_first_audio_ms = -1;
  double first_audio_sent_ms = -1;
  double voice_to_voice_ms = -1;
  double barge_in_stop_ms = -1;  // the previous response's barge-in: onset -> audio cleared
  bool text_turn = false;
};
// {"endpointing":500.0,"stt_final":14.8,...,"voice_to_voice":531.0}: the stages that happened,
// in milliseconds rounded to 0.1 (stages that did not happen are left out).
nlohmann::json LatencyJson(const TurnMetrics& metrics);

struct AgentChanged {
  std::string agent;
};
struct SessionError {
  std::string code;  // stable machine-readable: "stt_failed", "model_failed", "bad_request", ...
  std::string message;
};

// A tool call began / ended (server-side tools; `call.status` "client" for a call the Realtime
// client must run itself: its output comes back as a function_call_output item).
struct ToolCallStarted {
  std::string response_id;
  ToolCallInfo call;
};
struct ToolCallFinished {
  std::string response_id;
  ToolCallInfo call;
};
// Another agent took over the conversation (AgentChanged follows).
struct HandoffOccurred {
  std::string response_id;
  HandoffInfo handoff;
};
// The agent stored a typed value in the session's memory.
struct SlotSet {
  SlotInfo slot;
};
// The agent asked to end the call or transfer it. Emitted once the reply before it has been sent
// in full; for kEndCall the session then ends (SessionEnded "agent_ended_call").
struct CallControlRequested {
  CallControl control;
};

// The session ends itself (e.g. nobody spoke for session.idle_timeout_s): the transport should say
// goodbye on its wire and close. The session is already closed when this arrives.
struct SessionEnded {
  std::string reason;  // "idle_timeout" | "agent_ended_call"
};

using SessionEvent =
    std::variant<SpeechStarted, SpeechStopped, InputCommitted, InputCleared, UserTextItem,
                 TranscriptPartial, TranscriptFinal, TranscriptFailed, ResponseStarted,
                 OutputItemStarted, TextDelta, AudioChunk, AudioCleared, OutputItemDone,
                 ResponseDone, ItemTruncated, TurnMetrics, AgentChanged, SessionError, SessionEnded,
                 ToolCallStarted, ToolCallFinished, HandoffOccurred, SlotSet, CallControlRequested>;

// Implemented by transports. Called on the session's executor.
class SessionOutput {
 public:
  virtual ~SessionOutput() = default;
  virtual void OnSessionEvent(SessionEvent event) = 0;
};

}  // namespace artagent::session
