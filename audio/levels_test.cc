#include "audio/levels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace artagent::audio {
namespace {

std::vector<int16_t> Sine(double amplitude, size_t n = 16000) {
  std::vector<int16_t> s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * 1000 * i / 16000.0)));
  }
  return s;
}

TEST(LevelsTest, SilenceIsTheFloor) {
  const std::vector<int16_t> silence(320, 0);
  EXPECT_EQ(Rms(silence), 0.0);
  EXPECT_EQ(RmsDbfs(silence), kSilenceDbfs);
  EXPECT_EQ(Peak(silence), 0);
  EXPECT_EQ(Rms({}), 0.0);
  EXPECT_EQ(RmsDbfs({}), kSilenceDbfs);
  EXPECT_EQ(Peak({}), 0);
  EXPECT_TRUE(std::isfinite(RmsDbfs(silence)));
}

TEST(LevelsTest, FullScaleSquareIsZeroDbfs) {
  std::vector<int16_t> square(320);
  for (size_t i = 0; i < square.size(); ++i) {
    square[i] = (i / 20) % 2 ? int16_t{-32768} : int16_t{32767};
  }
  EXPECT_NEAR(RmsDbfs(square), 0.0, 0.001);
  EXPECT_NEAR(Rms(square), 1.0, 0.0001);
  EXPECT_EQ(Peak(square), 32767);
}

TEST(LevelsTest, SineLevels) {
  EXPECT_NEAR(RmsDbfs(Sine(32767)), -3.01, 0.01);
  EXPECT_NEAR(RmsDbfs(Sine(16384)), -9.03, 0.01);  // half amplitude: 6.02 dB lower
  EXPECT_NEAR(Rms(Sine(16384)), 0.5 / std::sqrt(2.0), 0.0005);
  EXPECT_NEAR(RmsDbfs(Sine(33)), -3.01 - 20 * std::log10(32768.0 / 33), 0.1);
  EXPECT_EQ(Peak(Sine(1000)), 1000);
}

TEST(LevelsTest, NearSilenceClampsToFloor) {
  std::vector<int16_t> one_lsb(480000, 0);  // 10 s at 48 kHz with one ±1 sample
  one_lsb[100] = -1;
  EXPECT_EQ(RmsDbfs(one_lsb), kSilenceDbfs);
  EXPECT_EQ(Peak(one_lsb), 1);
  EXPECT_GT(Rms(one_lsb), 0.0);
}

TEST(LevelsTest, PeakOfMostNegativeSampleFits) {
  const std::vector<int16_t> s = {3, -32768, 5};
  EXPECT_EQ(Peak(s), 32767);
  const std::vector<int16_t> t = {3, -200, 5};
  EXPECT_EQ(Peak(t), 200);
}

}  // namespace
}  // namespace artagent::audio
