#include "audio/pcm.h"

#include <gtest/gtest.h>

namespace artagent::audio {
namespace {

TEST(PcmTest, BytesAreLittleEndian) {
  const std::vector<uint8_t> bytes = {0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80, 0xFF, 0x7F};
  Samples samples;
  BytesToSamples(bytes, &samples);
  EXPECT_EQ(samples, (Samples{1, -1, -32768, 32767}));
}

TEST(PcmTest, OddTrailingByteIsDropped) {
  const std::vector<uint8_t> bytes = {0x34, 0x12, 0x99};
  Samples samples;
  BytesToSamples(bytes, &samples);
  EXPECT_EQ(samples, (Samples{0x1234}));
}

TEST(PcmTest, ConversionsAppend) {
  Samples samples = {7};
  const std::vector<uint8_t> bytes = {0x02, 0x00};
  BytesToSamples(bytes, &samples);
  EXPECT_EQ(samples, (Samples{7, 2}));

  std::vector<uint8_t> out = {0xAA};
  SamplesToBytes(samples, &out);
  EXPECT_EQ(out, (std::vector<uint8_t>{0xAA, 0x07, 0x00, 0x02, 0x00}));
}

TEST(PcmTest, RoundTripsEveryValue) {
  Samples all;
  for (int v = -32768; v <= 32767; ++v) {
    all.push_back(static_cast<int16_t>(v));
  }
  std::vector<uint8_t> bytes;
  SamplesToBytes(all, &bytes);
  ASSERT_EQ(bytes.size(), all.size() * 2);
  Samples back;
  BytesToSamples(bytes, &back);
  EXPECT_EQ(back, all);
}

TEST(PcmTest, FrameArithmetic) {
  EXPECT_EQ(kEngineFrameSamples, 320u);
  EXPECT_EQ(SamplesPerFrame(8000), 160u);
  EXPECT_EQ(SamplesPerFrame(24000, 10), 240u);
  EXPECT_EQ(SamplesToMs(16000, 16000), 1000);
  EXPECT_EQ(SamplesToMs(159, 8000), 19);
  EXPECT_EQ(MsToSamples(20, 48000), 960u);
}

}  // namespace
}  // namespace artagent::audio
