#include "app/loadgen_script.h"

#include <gtest/gtest.h>

namespace artagent::app {
namespace {

using std::chrono::milliseconds;

TEST(LatencyHistogramTest, NearestRankPercentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0);
  for (int i = 1; i <= 100; ++i) h.Add(i);
  EXPECT_DOUBLE_EQ(h.Percentile(0.5), 50);
  EXPECT_DOUBLE_EQ(h.Percentile(0.99), 99);
  EXPECT_DOUBLE_EQ(h.Percentile(1.0), 100);
  EXPECT_DOUBLE_EQ(h.max(), 100);
  EXPECT_EQ(h.Json()["count"], 100);
}

TEST(AnalyseClipTest, FindsTheSpeech) {
  std::vector<int16_t> pcm(16000 / 50 * 10, 0);  // 10 frames at 16 kHz
  for (size_t i = 320 * 3; i < 320 * 6; ++i) pcm[i] = (i % 2) ? 3000 : -3000;
  ClipInfo info = AnalyseClip(pcm, 16000);
  EXPECT_EQ(info.frames, 10u);
  EXPECT_EQ(info.first_loud, 3u);
  EXPECT_EQ(info.last_loud, 5u);
  EXPECT_EQ(AnalyseClip(std::vector<int16_t>(3200, 0), 16000).frames, 0u);
}

// Drives one caller on a fake clock: ticks every 20 ms, the "agent" answers as told.
class CallerScriptTest : public ::testing::Test {
 protected:
  CallerScriptTest() { clips_.push_back({10, 2, 7}); }

  CallerScript Make(double barge_in) {
    options_.barge_in_fraction = barge_in;
    options_.min_pause_ms = options_.max_pause_ms = 100;
    options_.quiet_ms = 400;
    return CallerScript(&clips_, options_, 7, &stats_);
  }
  // Ticks until the caller has sent a whole clip; returns the time its speech ended.
  core::TimePoint SpeakOneClip(CallerScript& s) {
    core::TimePoint speech_end{};
    for (int i = 0; i < 500; ++i) {
      FrameChoice c = s.Tick(now_);
      now_ += milliseconds(20);
      if (c.clip == 0 && c.index == clips_[0].last_loud) speech_end = now_;
      if (c.clip == 0 && c.index + 1 == clips_[0].frames) return speech_end;
    }
    ADD_FAILURE() << "the caller never spoke";
    return speech_end;
  }
  // The agent sends `frames` of audio, 20 ms apart, starting now; the caller ticks alongside.
  void AgentSpeaks(CallerScript& s, int frames) {
    for (int i = 0; i < frames; ++i) {
      s.OnAgentAudio(now_, 20);
      s.Tick(now_);
      now_ += milliseconds(20);
    }
  }
  void Idle(CallerScript& s, int ms) {
    for (int t = 0; t < ms; t += 20) {
      s.Tick(now_);
      now_ += milliseconds(20);
    }
  }

  std::vector<ClipInfo> clips_;
  CallerOptions options_;
  LoadStats stats_;
  core::TimePoint now_ = core::TimePoint{} + std::chrono::hours(1);
};

TEST_F(CallerScriptTest, MeasuresTheTurnFromEndOfSpeechToFirstAudio) {
  CallerScript s = Make(0);
  AgentSpeaks(s, 20);  // greeting
  Idle(s, 500);
  const core::TimePoint end = SpeakOneClip(s);
  Idle(s, 200);
  const double expected = core::MillisBetween(end, now_);
  AgentSpeaks(s, 30);
  Idle(s, 600);
  EXPECT_EQ(stats_.turns_ok, 1);
  EXPECT_EQ(stats_.turns_failed, 0);
  ASSERT_EQ(stats_.turn_latency.count(), 1u);
  EXPECT_NEAR(stats_.turn_latency.max(), expected, 0.2);
  EXPECT_GT(stats_.jitter.count(), 0u);
  EXPECT_EQ(stats_.jitter.max(), 0);  // perfectly paced
  EXPECT_EQ(stats_.gaps, 0);
}

TEST_F(CallerScriptTest, ATurnWithoutAReplyFails) {
  options_.reply_timeout_ms = 1000;
  CallerScript s = Make(0);
  Idle(s, 3100);  // no greeting: the caller starts on its own
  SpeakOneClip(s);
  Idle(s, 1200);
  EXPECT_EQ(stats_.turns_ok, 0);
  EXPECT_EQ(stats_.turns_failed, 1);
  EXPECT_EQ(stats_.errors["turn_no_reply"], 1);
}

TEST_F(CallerScriptTest, AGapInTheReplyFailsTheTurn) {
  CallerScript s = Make(0);
  AgentSpeaks(s, 5);
  Idle(s, 500);
  SpeakOneClip(s);
  AgentSpeaks(s, 10);
  Idle(s, 200);  // 200 ms of nothing inside the reply
  AgentSpeaks(s, 10);
  Idle(s, 600);
  EXPECT_EQ(stats_.turns_failed, 1);
  EXPECT_EQ(stats_.errors["turn_audio_gap"], 1);
  EXPECT_GE(stats_.gaps, 1);
}

TEST_F(CallerScriptTest, BargeInLatencyIsOnsetToStop) {
  CallerScript s = Make(1.0);  // every reply is interrupted
  AgentSpeaks(s, 5);
  Idle(s, 500);
  SpeakOneClip(s);
  // The reply plays until the caller starts speaking over it (after 300-800 ms of it).
  FrameChoice c;
  int guard = 0;
  do {
    s.OnAgentAudio(now_, 20);
    c = s.Tick(now_);
    now_ += milliseconds(20);
  } while (c.clip < 0 && ++guard < 100);
  ASSERT_EQ(c.clip, 0);
  EXPECT_EQ(stats_.turns_ok, 1);  // the interrupted reply had arrived
  EXPECT_EQ(stats_.barge_ins, 1);
  // Onset is the clip's first loud frame (index 2); the agent stops 100 ms later.
  core::TimePoint onset{};
  for (int i = 0; i < 3; ++i) {
    if (i == 1) onset = now_;
    s.OnAgentAudio(now_, 20);
    s.Tick(now_);
    now_ += milliseconds(20);
  }
  now_ += milliseconds(80);
  s.OnAudioStopped(now_);
  ASSERT_EQ(stats_.barge_in_latency.count(), 1u);
  EXPECT_NEAR(stats_.barge_in_latency.max(), core::MillisBetween(onset, now_), 0.2);
  EXPECT_EQ(stats_.barge_ins_missed, 0);
}

TEST_F(CallerScriptTest, TranscriptsAreRequiredWhenTheTransportHasThem) {
  options_.transcripts = true;
  CallerScript s = Make(0);
  AgentSpeaks(s, 5);
  Idle(s, 500);
  SpeakOneClip(s);
  s.OnReplyText("hello");  // but no transcript of the caller
  AgentSpeaks(s, 20);
  Idle(s, 600);
  EXPECT_EQ(stats_.errors["turn_no_transcript"], 1);
}

}  // namespace
}  // namespace artagent::app
