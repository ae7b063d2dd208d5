#include "audio/frame_assembler.h"

#include <gtest/gtest.h>

#include <random>

namespace artagent::audio {
namespace {

Samples Counting(size_t begin, size_t n) {
  Samples s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>((begin + i) % 30000);
  }
  return s;
}

TEST(FrameAssemblerTest, EmitsFixedFramesFromArbitraryChunks) {
  FrameAssembler assembler(320);
  std::mt19937 rng(11);
  Samples pushed, emitted, frame;
  size_t frames = 0;
  for (int round = 0; round < 500; ++round) {
    const Samples chunk = Counting(pushed.size(), rng() % 1000);
    pushed.insert(pushed.end(), chunk.begin(), chunk.end());
    assembler.Push(chunk);
    while (assembler.Next(&frame)) {
      ASSERT_EQ(frame.size(), 320u);
      emitted.insert(emitted.end(), frame.begin(), frame.end());
      ++frames;
    }
    ASSERT_LT(assembler.buffered(), 320u);
    ASSERT_EQ(emitted.size() + assembler.buffered(), pushed.size());
  }
  EXPECT_EQ(frames, pushed.size() / 320);
  EXPECT_TRUE(std::equal(emitted.begin(), emitted.end(), pushed.begin()));
}

TEST(FrameAssemblerTest, WaitsForAWholeFrame) {
  FrameAssembler assembler(4);
  Samples frame = {99};
  assembler.Push(Samples{1, 2, 3});
  EXPECT_FALSE(assembler.Next(&frame));
  EXPECT_EQ(frame, (Samples{99}));  // untouched
  EXPECT_EQ(assembler.buffered(), 3u);
  assembler.Push(Samples{4, 5});
  ASSERT_TRUE(assembler.Next(&frame));
  EXPECT_EQ(frame, (Samples{1, 2, 3, 4}));
  EXPECT_FALSE(assembler.Next(&frame));
  EXPECT_EQ(assembler.buffered(), 1u);
}

TEST(FrameAssemblerTest, CallbackFormEmitsEveryFrame) {
  FrameAssembler assembler(3);
  std::vector<Samples> frames;
  auto collect = [&](std::span<const int16_t> f) { frames.emplace_back(f.begin(), f.end()); };
  EXPECT_EQ(assembler.Push(Samples{1, 2}, collect), 0u);
  EXPECT_EQ(assembler.Push(Samples{3, 4, 5, 6, 7, 8, 9, 10}, collect), 3u);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], (Samples{1, 2, 3}));
  EXPECT_EQ(frames[2], (Samples{7, 8, 9}));
  EXPECT_EQ(assembler.buffered(), 1u);
  Samples frame;
  EXPECT_EQ(assembler.Push(Samples{11, 12}, collect), 1u);
  EXPECT_EQ(frames.back(), (Samples{10, 11, 12}));
  EXPECT_FALSE(assembler.Next(&frame));
}

TEST(FrameAssemblerTest, ClearDropsPartialFrame) {
  FrameAssembler assembler(320);
  assembler.Push(Counting(0, 500));
  Samples frame;
  ASSERT_TRUE(assembler.Next(&frame));
  EXPECT_EQ(assembler.buffered(), 180u);
  assembler.Clear();
  EXPECT_EQ(assembler.buffered(), 0u);
  assembler.Push(Counting(1000, 320));
  ASSERT_TRUE(assembler.Next(&frame));
  EXPECT_EQ(frame, Counting(1000, 320));
}

TEST(FrameAssemblerTest, SteadyStateDoesNotGrow) {
  FrameAssembler assembler(320);
  Samples frame;
  frame.reserve(320);
  // Warm up with the largest chunk size, then check the frame buffer is reused.
  for (int i = 0; i < 1000; ++i) {
    assembler.Push(Counting(0, 1 + (i * 37) % 700));
    while (assembler.Next(&frame)) {
    }
  }
  const int16_t* data = frame.data();
  for (int i = 0; i < 100; ++i) {
    assembler.Push(Counting(0, 160));
    while (assembler.Next(&frame)) {
    }
  }
  EXPECT_EQ(frame.data(), data);
}

TEST(FrameAssemblerTest, ZeroFrameSizeMeansOne) {
  FrameAssembler assembler(0);
  EXPECT_EQ(assembler.frame_samples(), 1u);
  assembler.Push(Samples{5, 6});
  Samples frame;
  ASSERT_TRUE(assembler.Next(&frame));
  EXPECT_EQ(frame, (Samples{5}));
}

TEST(FrameAssemblerTest, DefaultIsEngineFrame) {
  EXPECT_EQ(FrameAssembler().frame_samples(), kEngineFrameSamples);
}

}  // namespace
}  // namespace artagent::audio
