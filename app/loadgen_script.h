#pragma once
// The transport-independent half of `artagent loadgen`: what one simulated caller says and when,
// what it checks in every turn, and the statistics of all callers together. No I/O and no clock
// of its own: the transports (loadgen_realtime.cc, loadgen_acs.cc) call Tick() every 20 ms with
// the time and report what the agent sent, so the same code is driven by a fake clock in tests.
//
// A caller's life: it listens to the greeting, then loops turns: a pause, one clip of caller
// speech (the WAV as given: leading and trailing silence included), silence until the agent
// answers, silence while it speaks. A configurable fraction of turns are barge-ins: while the
// agent's reply plays, the caller starts the next clip, and the agent must stop (ACS StopAudio,
// Realtime output_audio_buffer.cleared or response.done cancelled).

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/executor.h"

namespace artagent::app {

// Millisecond values with 0.1 ms resolution up to 60 s (larger values count as 60 s): exact
// enough percentiles, constant memory however long the run.
class LatencyHistogram {
 public:
  void Add(double ms);
  size_t count() const { return count_; }
  // p in (0, 1]; 0 when empty.
  double Percentile(double p) const;
  double max() const { return max_; }
  // {"count", "p50", "p95", "p99", "max"} in ms, rounded to 0.1.
  nlohmann::json Json() const;

 private:
  std::vector<uint32_t> buckets_;
  size_t count_ = 0;
  double max_ = 0;
};

// Everything the callers measured, merged.
struct LoadStats {
  int sessions_started = 0;    // connection attempts
  int sessions_connected = 0;  // admitted and streaming
  int sessions_refused = 0;    // 503 / 1013 / ACS reject
  int sessions_dropped = 0;    // ended by the server or the network before the end of the run
  int sessions_peak = 0;       // connected at once, at most
  int turns_ok = 0;
  int turns_failed = 0;
  int callers_with_ok_turn = 0;   // callers that completed at least one turn
  int barge_ins = 0;              // barge-in turns started (caller spoke over the agent)
  int barge_ins_missed = 0;       // the reply ended on its own before the agent reacted
  LatencyHistogram turn_latency;  // end of caller speech -> first agent audio received
  LatencyHistogram turn_latency_before_refusal;  // turns that ended before the first refusal
  LatencyHistogram turn_latency_after_refusal;   // and after it
  LatencyHistogram barge_in_latency;             // caller onset -> audio stopped
  LatencyHistogram jitter;                       // |inter-arrival - frame duration|, steady state
  int64_t frames_received = 0;
  int64_t gaps = 0;                   // inter-arrivals inside a reply longer than 2.5 frames
  std::map<std::string, int> errors;  // by kind
  std::map<std::string, int> refusals;
  bool refused_yet = false;

  void Error(const std::string& kind) { ++errors[kind]; }
};

// One clip of caller audio, already cut into 20 ms frames by the transport (which pre-encodes
// them). `first_loud` / `last_loud`: frame indices of the first and last frames of speech.
struct ClipInfo {
  size_t frames = 0;
  size_t first_loud = 0;
  size_t last_loud = 0;
};

// Finds the speech in 20 ms frames of PCM16 (RMS above a fixed level). nullopt-like: frames == 0
// when the clip has no loud frame.
ClipInfo AnalyseClip(const std::vector<int16_t>& pcm, int sample_rate);

struct CallerOptions {
  double barge_in_fraction = 0.2;
  int min_pause_ms = 400;  // pause between the end of a reply and the next turn
  int max_pause_ms = 1200;
  int reply_timeout_ms = 8000;  // end of speech -> first audio
  int quiet_ms = 400;           // no agent audio for this long ends a reply (transports without
                                // an explicit end event)
  int max_gap_ms = 150;         // a silence inside a reply longer than this fails the turn
  bool transcripts = false;     // the transport reports the caller's transcript (Realtime)
};

// What to send in the next 20 ms: a frame of a clip, or silence.
struct FrameChoice {
  int clip = -1;  // -1: silence
  size_t index = 0;
};

class CallerScript {
 public:
  CallerScript(const std::vector<ClipInfo>* clips, CallerOptions options, uint64_t seed,
               LoadStats* stats);

  // Called every 20 ms once the call is up; returns what to send now.
  FrameChoice Tick(core::TimePoint now);
  // A frame of agent audio lasting `frame_ms` arrived at `at`.
  void OnAgentAudio(core::TimePoint at, double frame_ms);
  // The agent stopped its audio (StopAudio, output_audio_buffer.cleared, response.done cancelled).
  void OnAudioStopped(core::TimePoint at);
  // The caller's transcript of the current turn (Realtime).
  void OnTranscript(const std::string& text);
  // The agent's text of the current reply.
  void OnReplyText(const std::string& text);
  // The call ended: the turn in progress, if any, is neither ok nor failed.
  void End();

  int turns_done() const { return turns_done_; }

 private:
  enum class State { kGreeting, kPause, kSpeaking, kAwaitReply, kReply };
  void StartTurn(core::TimePoint now, bool barge_in);
  void FinishReply(core::TimePoint now, bool stopped);
  void FinishTurn(bool ok, const std::string& failure);

  const std::vector<ClipInfo>* clips_;
  CallerOptions options_;
  std::mt19937_64 rng_;
  LoadStats* stats_;

  State state_ = State::kGreeting;
  core::TimePoint state_since_{};
  core::TimePoint pause_until_{};
  int clip_ = 0;
  size_t frame_ = 0;
  bool speaking_is_barge_in_ = false;
  core::TimePoint onset_{};  // send time of the clip's first loud frame
  bool awaiting_stop_ = false;
  core::TimePoint speech_end_{};
  // The current turn (from the caller's speech to the end of the agent's reply).
  bool turn_open_ = false;
  bool got_transcript_ = false;
  bool got_reply_text_ = false;
  bool got_audio_ = false;
  bool gap_ = false;
  bool plan_barge_in_ = false;
  double barge_after_ms_ = 0;  // of reply audio received
  double reply_audio_ms_ = 0;
  core::TimePoint last_audio_{};
  int run_ = 0;  // frames in the current run of audio
  double prev_frame_ms_ = 20;
  int turns_done_ = 0;
  bool greeting_heard_ = false;
  bool had_ok_turn_ = false;
};

}  // namespace artagent::app
