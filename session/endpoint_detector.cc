#include "session/endpoint_detector.h"

#include <algorithm>

namespace artagent::session {

EndpointDetector::EndpointDetector(EndpointConfig config) : config_(config) {}

void EndpointDetector::set_end_of_turn_silence_ms(int ms) {
  config_.end_of_turn_silence_ms = std::max(ms, config_.frame_ms);
}

void EndpointDetector::Reset() {
  window_.clear();
  window_voiced_ = 0;
  in_speech_ = false;
  silence_run_ = 0;
  voiced_frames_ = 0;
}

EndpointDetector::Event EndpointDetector::Push(bool voiced) {
  ++frame_index_;
  const int window_frames = std::max(1, config_.onset_window_ms / config_.frame_ms);
  const int onset_frames = std::max(1, config_.onset_voiced_ms / config_.frame_ms);
  const int end_frames = std::max(1, config_.end_of_turn_silence_ms / config_.frame_ms);
  const int max_frames = std::max(1, config_.max_turn_ms / config_.frame_ms);

  if (!in_speech_) {
    window_.push_back(voiced);
    if (voiced) ++window_voiced_;
    if (static_cast<int>(window_.size()) > window_frames) {
      if (window_.front()) --window_voiced_;
      window_.pop_front();
    }
    if (window_voiced_ < onset_frames) return Event::kNone;
    // Onset: the segment starts at the first voiced frame still in the window.
    int64_t first = frame_index_ - static_cast<int64_t>(window_.size()) + 1;
    for (bool v : window_) {
      if (v) break;
      ++first;
    }
    in_speech_ = true;
    segment_start_ = first;
    last_voiced_ = frame_index_;
    voiced_frames_ = window_voiced_;
    silence_run_ = 0;
    window_.clear();
    window_voiced_ = 0;
    return Event::kSpeechStarted;
  }

  if (voiced) {
    last_voiced_ = frame_index_;
    ++voiced_frames_;
    silence_run_ = 0;
  } else {
    ++silence_run_;
  }
  const bool too_long = frame_index_ - segment_start_ + 1 >= max_frames;
  if (silence_run_ >= end_frames || too_long) {
    in_speech_ = false;
    silence_run_ = 0;
    return Event::kSpeechStopped;
  }
  return Event::kNone;
}

}  // namespace artagent::session
