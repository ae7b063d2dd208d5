#pragma once
// EndpointDetector: turns per-frame VAD decisions into speech segments (turns). It counts in audio
// time (frames), not wall-clock time, so network jitter on the way in never shortens or stretches
// a pause, and tests need no clock.
//
//   onset:  `onset_frames` voiced frames within the last `onset_window_frames` frames
//   end:    `end_silence_frames` consecutive unvoiced frames after an onset (the hang-over)

#include <cstdint>
#include <deque>

namespace artagent::session {

struct EndpointConfig {
  int frame_ms = 20;
  int onset_window_ms = 100;
  int onset_voiced_ms = 60;
  int end_of_turn_silence_ms = 500;  // the Realtime API's default silence_duration_ms
  int max_turn_ms = 30000;           // a segment this long ends even without a pause
};

class EndpointDetector {
 public:
  enum class Event { kNone, kSpeechStarted, kSpeechStopped };

  explicit EndpointDetector(EndpointConfig config = {});

  // Feeds the decision for the next frame; returns what changed with it.
  Event Push(bool voiced);
  void Reset();  // forget any segment in progress (the frame counter keeps running)
  void set_end_of_turn_silence_ms(int ms);

  bool in_speech() const { return in_speech_; }
  int64_t frames_seen() const { return frame_index_; }
  // Index of the first voiced frame of the current (or last) segment.
  int64_t segment_start_frame() const { return segment_start_; }
  // Index of the last voiced frame of the current (or last) segment.
  int64_t last_voiced_frame() const { return last_voiced_; }
  // Voiced audio in the current segment so far, in ms (what barge-in waits for).
  int voiced_ms() const { return voiced_frames_ * config_.frame_ms; }
  const EndpointConfig& config() const { return config_; }

 private:
  EndpointConfig config_;
  std::deque<bool> window_;
  int window_voiced_ = 0;
  bool in_speech_ = false;
  int64_t frame_index_ = -1;
  int64_t segment_start_ = -1;
  int64_t last_voiced_ = -1;
  int silence_run_ = 0;
  int voiced_frames_ = 0;
};

}  // namespace artagent::session
