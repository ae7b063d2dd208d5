#include "audio/jitter_buffer.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace artagent::audio {
namespace {

Samples Counting(int begin, size_t n) {
  Samples s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(begin + static_cast<int>(i));
  }
  return s;
}

TEST(OutputQueueTest, PopsWholeFramesInOrder) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Counting(0, 700)).ok());
  Samples frame;
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, Counting(0, 320));
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, Counting(320, 320));
  EXPECT_EQ(queue.buffered(), 60u);
}

TEST(OutputQueueTest, PartialFrameWaitsForMoreAudio) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Counting(0, 100)).ok());
  Samples frame = {7};
  EXPECT_FALSE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, (Samples{7}));  // untouched
  ASSERT_TRUE(queue.Push(Counting(100, 220)).ok());
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, Counting(0, 320));
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueueTest, FlushTailPadsTheLastFrameWithSilence) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Counting(1, 400)).ok());
  queue.FlushTail();
  EXPECT_TRUE(queue.flush_requested());
  Samples frame;
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, Counting(1, 320));
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  ASSERT_EQ(frame.size(), 320u);
  EXPECT_TRUE(std::equal(frame.begin(), frame.begin() + 80, Counting(321, 80).begin()));
  EXPECT_TRUE(std::all_of(frame.begin() + 80, frame.end(), [](int16_t s) { return s == 0; }));
  EXPECT_FALSE(queue.PopFrame(320, &frame));  // nothing left, no endless silence
  EXPECT_FALSE(queue.flush_requested());
}

TEST(OutputQueueTest, PushAfterFlushTailCancelsIt) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Counting(0, 100)).ok());
  queue.FlushTail();
  ASSERT_TRUE(queue.Push(Counting(100, 100)).ok());
  EXPECT_FALSE(queue.flush_requested());
  Samples frame;
  EXPECT_FALSE(queue.PopFrame(320, &frame));
  ASSERT_TRUE(queue.Push({}).ok());  // empty push changes nothing
  queue.FlushTail();
  ASSERT_TRUE(queue.Push({}).ok());
  EXPECT_TRUE(queue.flush_requested());
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame[199], 199);
  EXPECT_EQ(frame[200], 0);
}

TEST(OutputQueueTest, ClearReportsDroppedSamples) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Counting(0, 1000)).ok());
  Samples frame;
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  queue.FlushTail();
  EXPECT_EQ(queue.Clear(), 680u);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.flush_requested());
  EXPECT_EQ(queue.Clear(), 0u);
  // Usable again after a barge-in.
  ASSERT_TRUE(queue.Push(Counting(5, 320)).ok());
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  EXPECT_EQ(frame, Counting(5, 320));
}

TEST(OutputQueueTest, BufferedMs) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Samples(8000, 0)).ok());
  EXPECT_EQ(queue.buffered_ms(16000), 500);
  EXPECT_EQ(queue.buffered_ms(8000), 1000);
  ASSERT_TRUE(queue.Push(Samples(15, 0)).ok());
  EXPECT_EQ(queue.buffered_ms(16000), 500);  // rounded down
}

TEST(OutputQueueTest, RefusesPushBeyondLimit) {
  OutputQueue queue(16, 1000);
  ASSERT_TRUE(queue.Push(Samples(900, 1)).ok());
  const core::Status st = queue.Push(Samples(101, 2));
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(queue.buffered(), 900u);  // nothing of the refused push was queued
  EXPECT_TRUE(queue.Push(Samples(100, 3)).ok());
  EXPECT_EQ(queue.buffered(), 1000u);
}

TEST(OutputQueueTest, ZeroFrameSizePopsNothing) {
  OutputQueue queue;
  ASSERT_TRUE(queue.Push(Samples(10, 1)).ok());
  queue.FlushTail();
  Samples frame;
  EXPECT_FALSE(queue.PopFrame(0, &frame));
  EXPECT_EQ(queue.buffered(), 10u);
}

// Random pushes and pops across wrap-around and growth behave like a plain FIFO.
TEST(OutputQueueTest, MatchesReferenceFifo) {
  OutputQueue queue(64);
  std::deque<int16_t> reference;
  std::mt19937 rng(99);
  int next = 0;
  Samples frame;
  for (int round = 0; round < 5000; ++round) {
    if (rng() % 2 == 0) {
      const Samples chunk = Counting(next, rng() % 500);
      next += static_cast<int>(chunk.size());
      ASSERT_TRUE(queue.Push(chunk).ok());
      reference.insert(reference.end(), chunk.begin(), chunk.end());
    } else {
      const size_t frame_samples = 1 + rng() % 400;
      const bool popped = queue.PopFrame(frame_samples, &frame);
      ASSERT_EQ(popped, reference.size() >= frame_samples);
      if (popped) {
        ASSERT_TRUE(std::equal(frame.begin(), frame.end(), reference.begin()));
        reference.erase(reference.begin(), reference.begin() + frame_samples);
      }
    }
    if (round % 1000 == 999) {
      EXPECT_EQ(queue.Clear(), reference.size());
      reference.clear();
    }
    ASSERT_EQ(queue.buffered(), reference.size());
  }
}

TEST(OutputQueueTest, SteadyStateReusesTheFrame) {
  OutputQueue queue;
  Samples frame;
  ASSERT_TRUE(queue.Push(Samples(640, 1)).ok());
  ASSERT_TRUE(queue.PopFrame(320, &frame));
  const int16_t* data = frame.data();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(queue.Push(Samples(320, 2)).ok());
    ASSERT_TRUE(queue.PopFrame(320, &frame));
  }
  EXPECT_EQ(frame.data(), data);
}

}  // namespace
}  // namespace artagent::audio
