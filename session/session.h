#pragma once
// Session: one conversation, the engine shared by every transport (Realtime WebSocket, ACS media,
// the `converse` CLI). It detects turns, transcribes, asks the Responder for a reply, cuts the
// reply into clauses, synthesises them, paces the audio out in 20 ms frames and handles barge-in.
//
// Threading: a Session lives on one serial Executor (a strand). Every public method must be called
// on it, and every SessionOutput event is emitted on it. Decoding and synthesis run on the
// ComputePool; their results are posted back. No locks.
//
// Lifetime: create with Session::Create (shared_ptr; work in flight holds weak references), call
// Start(), feed it, and call Close() when the transport goes away. After Close() no event is
// emitted.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"
#include "core/executor.h"
#include "session/call_recorder.h"
#include "session/events.h"
#include "session/responder.h"
#include "speech/stt.h"
#include "speech/tts.h"
#include "speech/vad.h"

namespace artagent::platform {
class Store;
class Metrics;
class Telemetry;
}  // namespace artagent::platform

namespace artagent::session {

struct SessionOptions {
  std::string id;         // empty: generated ("sess_...")
  std::string transport;  // "realtime" | "acs" | "converse": store and metrics label
  std::string scenario;
  std::string remote;  // peer address, for the store

  bool output_audio = true;        // false: text-only responses (Realtime output_modalities text)
  int output_sample_rate = 24000;  // rate of AudioChunk events
  std::string voice;               // TTS voice; empty = engine default
  double speech_rate = 1.0;

  bool server_vad = true;          // false: the client commits turns itself
  bool create_response = true;     // reply automatically at the end of each caller turn
  bool interrupt_response = true;  // caller speech cancels the agent's reply (barge-in)
  int end_of_turn_silence_ms = 500;
  int prefix_padding_ms = 300;
  int barge_in_min_speech_ms = 200;
  int max_turn_ms = 30000;
  int output_lead_ms = 100;  // agent audio sent ahead of real time (absorbs network jitter)
  int idle_timeout_s = 0;    // end the session after this long without caller speech or text
                             // while the agent is silent; 0 = never
  bool speak_greeting = true;
  int dtmf_timeout_ms = 3000;  // keys pressed end as one turn after this pause (or at '#')
  // With a store: a response's end (ResponseDone, and every event after it) is emitted once the
  // turn's transcript entries are committed (acknowledged, platform/store.h), or after this long
  // if the store is failing (then counted as provider_errors_total{store,ack_timeout}).
  int store_ack_timeout_ms = 5000;
};

struct SessionDeps {
  // The session's strand. Shared so that work still in flight when the transport goes away keeps
  // it alive until it has posted its (then ignored) result.
  std::shared_ptr<core::Executor> executor;
  core::ComputePool* compute = nullptr;
  std::unique_ptr<speech::Vad> vad;
  speech::SttEngine* stt = nullptr;
  speech::TtsEngine* tts = nullptr;
  std::unique_ptr<Responder> responder;
  platform::Store* store = nullptr;      // optional
  platform::Metrics* metrics = nullptr;  // optional
  // Optional: spans of the session (server span), each turn and its stages (endpointing, stt,
  // model, tools, tts, playout), built from the turn's timestamps when the turn ends.
  platform::Telemetry* telemetry = nullptr;
  SessionOutput* output = nullptr;       // must outlive the session or Close() must come first
  // Optional: the call recording tap (caller audio as received, agent audio as sent); finished
  // when the session closes.
  std::unique_ptr<CallRecorder> recorder;
  // Optional: called once, on the strand, when the session closes (after its end is queued to the
  // store), with the Close status. Must be cheap: hand work to another thread.
  std::function<void(const std::string& status)> on_closed;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  static std::shared_ptr<Session> Create(SessionDeps deps, SessionOptions options);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens the recognizer, records the session and speaks the greeting.
  void Start();
  // Caller audio, mono PCM16 at any rate from 8 to 48 kHz.
  void PushAudio(std::span<const int16_t> pcm, int sample_rate);
  // Manual turn-taking (server VAD off): end the caller's turn now / drop the audio so far.
  void CommitInput();
  void ClearInput();
  // A typed caller turn. It goes through the same response pipeline as speech.
  void AddUserText(const std::string& text);
  // A key the caller pressed (0-9, *, #, A-D). Keys collect into one caller turn that ends at '#'
  // or after options().dtmf_timeout_ms without a key; a key interrupts the agent at once.
  void PushDtmf(char key);
  // Tools the Realtime client runs itself (session.update "tools", OpenAI function shape).
  void SetClientTools(std::vector<nlohmann::json> tools);
  // The output of a client-run tool call (Realtime function_call_output item). False if no call
  // with that id is waiting for one.
  bool AddToolOutput(const std::string& call_id, const std::string& output);
  // Tells the agent about something that happened outside the conversation and lets it react
  // at once (or right after the current response): e.g. the transport could not transfer the
  // call. `event` is "<kind>: <what happened>", kind a word such as transfer_failed; it enters
  // the history (and the store) as a system item.
  void Notify(const std::string& event);
  // Starts a response now (or right after the current one). `instructions` are per-response.
  void CreateResponse(const std::string& instructions = "");
  // Cancels the response in progress, if any (reason "client_cancelled").
  void CancelResponse();
  // The client played only `audio_end_ms` of an agent item: history keeps only that much. Values
  // beyond the audio sent are clamped, never an error. Returns false for an unknown item.
  bool Truncate(const std::string& item_id, int64_t audio_end_ms);
  // Drops queued agent audio without cancelling the response text (Realtime
  // output_audio_buffer.clear).
  void ClearOutputAudio();

  // Settings that may change mid-session (Realtime session.update).
  void SetOutputAudio(bool audio);
  void SetOutputSampleRate(int rate);
  void SetTurnDetection(bool server_vad, int silence_ms, int prefix_padding_ms,
                        bool create_response, bool interrupt_response);
  void SetVoice(const std::string& voice, double speech_rate);

  // Ends the session: cancels work in flight, records the end. Idempotent.
  // `status`: "ended" (normal), "vanished" (client disappeared), "failed".
  void Close(const std::string& status);

  const std::string& id() const;
  const SessionOptions& options() const;
  std::string agent_name() const;
  bool response_active() const;
  const std::vector<HistoryItem>& history() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artagent::session
