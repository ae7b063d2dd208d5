#include "app/loadgen_script.h"

#include <algorithm>
#include <cmath>

#include "audio/pcm.h"

namespace artagent::app {

namespace {
constexpr double kResolutionMs = 0.1;
constexpr size_t kBuckets = 600000;  // 60 s
}  // namespace

void LatencyHistogram::Add(double ms) {
  if (buckets_.empty()) buckets_.assign(kBuckets, 0);
  ms = std::max(0.0, ms);
  const size_t i = std::min(kBuckets - 1, static_cast<size_t>(std::lround(ms / kResolutionMs)));
  ++buckets_[i];
  ++count_;
  max_ = std::max(max_, ms);
}

double LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(p * double(count_))));
  size_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(max_, double(i) * kResolutionMs);
  }
  return max_;
}

nlohmann::json LatencyHistogram::Json() const {
  auto round = [](double v) { return std::round(v * 10) / 10; };
  return {{"count", count_},
          {"p50", round(Percentile(0.5))},
          {"p95", round(Percentile(0.95))},
          {"p99", round(Percentile(0.99))},
          {"max", round(max_)}};
}

ClipInfo AnalyseClip(const std::vector<int16_t>& pcm, int sample_rate) {
  ClipInfo info;
  const size_t frame = audio::SamplesPerFrame(sample_rate);
  info.frames = pcm.size() / frame;
  bool any = false;
  for (size_t f = 0; f < info.frames; ++f) {
    double sum = 0;
    for (size_t i = 0; i < frame; ++i) {
      const double s = pcm[f * frame + i];
      sum += s * s;
    }
    if (std::sqrt(sum / double(frame)) > 500) {
      if (!any) info.first_loud = f;
      info.last_loud = f;
      any = true;
    }
  }
  if (!any) info.frames = 0;
  return info;
}

CallerScript::CallerScript(const std::vector<ClipInfo>* clips, CallerOptions options, uint64_t seed,
                           LoadStats* stats)
    : clips_(clips), options_(options), rng_(seed), stats_(stats) {}

FrameChoice CallerScript::Tick(core::TimePoint now) {
  if (state_since_ == core::TimePoint{}) state_since_ = now;
  switch (state_) {
    case State::kGreeting: {
      const bool heard_all =
          greeting_heard_ && core::MillisBetween(last_audio_, now) >= options_.quiet_ms;
      // No greeting at all (an agent without one): start talking after a while.
      const bool none = !greeting_heard_ && core::MillisBetween(state_since_, now) >= 3000;
      if (heard_all || none) {
        state_ = State::kPause;
        pause_until_ = now;
      }
      return {};
    }
    case State::kPause:
      if (now < pause_until_) return {};
      StartTurn(now, false);
      return Tick(now);
    case State::kSpeaking: {
      const ClipInfo& clip = (*clips_)[clip_];
      const FrameChoice out{clip_, frame_};
      if (frame_ == clip.first_loud) {
        onset_ = now;
        awaiting_stop_ = speaking_is_barge_in_;
      }
      if (frame_ == clip.last_loud) speech_end_ = now + core::milliseconds(audio::kFrameMs);
      if (++frame_ >= clip.frames) {
        if (awaiting_stop_) {
          // The agent never stopped while the caller spoke over it (or its reply ended first).
          ++stats_->barge_ins_missed;
          awaiting_stop_ = false;
        }
        state_ = State::kAwaitReply;
        state_since_ = now;
      }
      return out;
    }
    case State::kAwaitReply:
      if (core::MillisBetween(speech_end_, now) >= options_.reply_timeout_ms) {
        FinishTurn(false, "no_reply");
        state_ = State::kPause;
        pause_until_ = now;
      }
      return {};
    case State::kReply:
      if (plan_barge_in_ && reply_audio_ms_ >= barge_after_ms_) {
        FinishReply(now, false);
        StartTurn(now, true);
        return Tick(now);
      }
      if (core::MillisBetween(last_audio_, now) >= options_.quiet_ms) FinishReply(now, false);
      return {};
  }
  return {};
}

void CallerScript::OnAgentAudio(core::TimePoint at, double frame_ms) {
  ++stats_->frames_received;
  const bool had_audio = last_audio_ != core::TimePoint{};
  const double interval = had_audio ? core::MillisBetween(last_audio_, at) : 1e9;
  // A new run of audio starts after a pause longer than the reply-end detection allows for.
  const bool new_run = interval >= options_.quiet_ms || run_ == 0;
  if (!new_run) {
    // The first frames of a run are the playout lead, sent at once: steady state after them.
    if (run_ >= 6) stats_->jitter.Add(std::fabs(interval - prev_frame_ms_));
    if (interval > 2.5 * prev_frame_ms_) ++stats_->gaps;
    if (state_ == State::kReply && interval > options_.max_gap_ms) gap_ = true;
  }
  run_ = new_run ? 1 : run_ + 1;
  last_audio_ = at;
  prev_frame_ms_ = frame_ms;

  switch (state_) {
    case State::kGreeting:
      greeting_heard_ = true;
      break;
    case State::kAwaitReply:
      // The reply is the first new run of audio after the caller's speech ended (the tail of an
      // earlier reply that was not stopped does not count).
      if (at >= speech_end_ && (new_run || interval > 100)) {
        const double latency = core::MillisBetween(speech_end_, at);
        stats_->turn_latency.Add(latency);
        (stats_->refused_yet ? stats_->turn_latency_after_refusal
                             : stats_->turn_latency_before_refusal)
            .Add(latency);
        got_audio_ = true;
        reply_audio_ms_ = frame_ms;
        state_ = State::kReply;
        state_since_ = at;
      }
      break;
    case State::kReply:
      reply_audio_ms_ += frame_ms;
      break;
    default:
      break;
  }
}

void CallerScript::OnAudioStopped(core::TimePoint at) {
  run_ = 0;
  if (awaiting_stop_) {
    stats_->barge_in_latency.Add(core::MillisBetween(onset_, at));
    awaiting_stop_ = false;
  }
  if (state_ == State::kReply) FinishReply(at, true);
}

void CallerScript::OnTranscript(const std::string& text) {
  if (!text.empty()) got_transcript_ = true;
}

void CallerScript::OnReplyText(const std::string& text) {
  if (!text.empty()) got_reply_text_ = true;
}

void CallerScript::End() { turn_open_ = false; }

void CallerScript::StartTurn(core::TimePoint now, bool barge_in) {
  std::uniform_int_distribution<size_t> pick(0, clips_->size() - 1);
  clip_ = static_cast<int>(pick(rng_));
  frame_ = 0;
  state_ = State::kSpeaking;
  state_since_ = now;
  speaking_is_barge_in_ = barge_in;
  awaiting_stop_ = false;
  speech_end_ = {};
  if (barge_in) ++stats_->barge_ins;
  turn_open_ = true;
  got_transcript_ = got_reply_text_ = got_audio_ = gap_ = false;
  reply_audio_ms_ = 0;
  plan_barge_in_ = std::bernoulli_distribution(options_.barge_in_fraction)(rng_);
  barge_after_ms_ = std::uniform_real_distribution<double>(300, 800)(rng_);
}

void CallerScript::FinishReply(core::TimePoint now, bool stopped) {
  std::string failure;
  if (!got_audio_) {
    failure = "no_audio";
  } else if (gap_) {
    failure = "audio_gap";
  } else if (!stopped && reply_audio_ms_ < 200) {
    failure = "short_reply";
  } else if (options_.transcripts && !got_transcript_) {
    failure = "no_transcript";
  } else if (options_.transcripts && !got_reply_text_) {
    failure = "no_reply_text";
  }
  FinishTurn(failure.empty(), failure);
  ++turns_done_;
  state_ = State::kPause;
  std::uniform_int_distribution<int> pause(options_.min_pause_ms,
                                           std::max(options_.min_pause_ms, options_.max_pause_ms));
  pause_until_ = now + core::milliseconds(pause(rng_));
}

void CallerScript::FinishTurn(bool ok, const std::string& failure) {
  if (!turn_open_) return;
  turn_open_ = false;
  if (ok) {
    ++stats_->turns_ok;
    if (!had_ok_turn_) ++stats_->callers_with_ok_turn;
    had_ok_turn_ = true;
  } else {
    ++stats_->turns_failed;
    stats_->Error("turn_" + failure);
  }
}

}  // namespace artagent::app
