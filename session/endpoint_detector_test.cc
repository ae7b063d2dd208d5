#include "session/endpoint_detector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace artagent::session {
namespace {

using Event = EndpointDetector::Event;

// Feeds a pattern of '#' (voiced) and '.' (silent) frames; returns the events with frame indexes.
std::vector<std::pair<Event, int64_t>> Feed(EndpointDetector& d, const std::string& pattern) {
  std::vector<std::pair<Event, int64_t>> out;
  for (char c : pattern) {
    Event e = d.Push(c == '#');
    if (e != Event::kNone) out.emplace_back(e, d.frames_seen());
  }
  return out;
}

TEST(EndpointDetectorTest, OnsetNeedsSustainedVoice) {
  EndpointDetector d(EndpointConfig{.end_of_turn_silence_ms = 100});
  // Isolated voiced frames (clicks) never start a turn.
  EXPECT_TRUE(Feed(d, "#..#...#..#....").empty());
  EXPECT_FALSE(d.in_speech());
}

TEST(EndpointDetectorTest, StartsAtFirstVoicedFrameAndEndsAfterSilence) {
  EndpointDetector d(EndpointConfig{.end_of_turn_silence_ms = 100});
  auto ev = Feed(d, "....###########.....");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].first, Event::kSpeechStarted);
  EXPECT_EQ(d.segment_start_frame(), 4);
  EXPECT_EQ(ev[1].first, Event::kSpeechStopped);
  EXPECT_EQ(d.last_voiced_frame(), 14);
  EXPECT_EQ(ev[1].second, 19);  // 5 silent frames = 100 ms
}

TEST(EndpointDetectorTest, ShortPausesDoNotEndTheTurn) {
  EndpointDetector d(EndpointConfig{.end_of_turn_silence_ms = 100});
  auto ev = Feed(d, "#####...####..#####.....");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].first, Event::kSpeechStopped);
  EXPECT_EQ(d.last_voiced_frame(), 18);
}

TEST(EndpointDetectorTest, CountsVoicedMilliseconds) {
  EndpointDetector d;
  Feed(d, "#####..###");
  EXPECT_TRUE(d.in_speech());
  EXPECT_EQ(d.voiced_ms(), 8 * 20);
}

TEST(EndpointDetectorTest, MaxTurnLengthForcesAnEnd) {
  EndpointDetector d(EndpointConfig{.max_turn_ms = 200});
  auto ev = Feed(d, std::string(30, '#'));
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[1].first, Event::kSpeechStopped);
}

TEST(EndpointDetectorTest, ConfigurableSilence) {
  EndpointDetector d;
  d.set_end_of_turn_silence_ms(500);
  auto ev = Feed(d, "#####" + std::string(24, '.'));
  EXPECT_EQ(ev.size(), 1u);  // 480 ms of silence: still in the turn
  EXPECT_EQ(Feed(d, ".").size(), 1u);
}

}  // namespace
}  // namespace artagent::session
