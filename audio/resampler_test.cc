#include "audio/resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

namespace artagent::audio {
namespace {

Samples Sine(double freq, int rate, size_t count, double amplitude = 0.5, double phase = 0.0) {
  Samples out(count);
  for (size_t i = 0; i < count; ++i) {
    const double t = static_cast<double>(i) / rate;
    out[i] = static_cast<int16_t>(
        std::lround(amplitude * 32767.0 * std::sin(2 * std::numbers::pi * freq * t + phase)));
  }
  return out;
}

Samples Noise(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-12000, 12000);
  Samples out(count);
  for (auto& s : out) {
    s = static_cast<int16_t>(dist(rng));
  }
  return out;
}

// Frequency from the number of sign changes in [begin, end).
double ZeroCrossingFrequency(const Samples& s, size_t begin, size_t end, int rate) {
  int crossings = 0;
  for (size_t i = begin + 1; i < end; ++i) {
    if ((s[i - 1] < 0) != (s[i] < 0)) {
      ++crossings;
    }
  }
  return crossings / 2.0 * rate / static_cast<double>(end - begin);
}

// Relative power at `freq` (Goertzel), normalised by the total power of the block.
double GoertzelShare(const Samples& s, size_t begin, size_t end, double freq, int rate) {
  const double w = 2 * std::numbers::pi * freq / rate;
  const double coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0, energy = 0;
  for (size_t i = begin; i < end; ++i) {
    const double x = s[i];
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const double n = static_cast<double>(end - begin);
  return power / (energy * n / 2);  // a pure tone at a bin-centred frequency gives ~1
}

double RmsOf(const Samples& s, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) {
    sum += static_cast<double>(s[i]) * s[i];
  }
  return std::sqrt(sum / static_cast<double>(end - begin));
}

Samples Stream(int in_rate, int out_rate, const Samples& in, size_t chunk) {
  auto resampler = Resampler::Create(in_rate, out_rate);
  EXPECT_TRUE(resampler.ok()) << resampler.status().ToString();
  Samples out;
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    const size_t n = std::min(chunk, in.size() - pos);
    (*resampler)->Process(std::span<const int16_t>(in).subspan(pos, n), &out);
  }
  return out;
}

struct RatePair {
  int in;
  int out;
};

class ResamplerRateTest : public testing::TestWithParam<RatePair> {};

TEST_P(ResamplerRateTest, ResampleAllKeepsToneLengthAndTiming) {
  const auto [in_rate, out_rate] = GetParam();
  const Samples in = Sine(1000, in_rate, static_cast<size_t>(in_rate));  // 1 s
  const Samples out = ResampleAll(in, in_rate, out_rate);
  ASSERT_EQ(out.size(), static_cast<size_t>(std::lround(1.0 * out_rate)));

  const size_t margin = out.size() / 10;  // edges see the filter's ramp
  const size_t begin = margin, end = out.size() - margin;
  EXPECT_NEAR(ZeroCrossingFrequency(out, begin, end, out_rate), 1000.0, 3.0);
  EXPECT_GT(GoertzelShare(out, begin, end, 1000, out_rate), 0.95);
  EXPECT_LT(GoertzelShare(out, begin, end, 1500, out_rate), 0.01);
  EXPECT_NEAR(RmsOf(out, begin, end) / RmsOf(in, in.size() / 10, in.size() * 9 / 10), 1.0, 0.03);

  // Time-aligned: the output matches the same tone generated directly at the output rate.
  const Samples ideal = Sine(1000, out_rate, out.size());
  double max_error = 0;
  for (size_t i = begin; i < end; ++i) {
    max_error = std::max(max_error, std::abs(static_cast<double>(out[i]) - ideal[i]));
  }
  EXPECT_LT(max_error, 0.01 * 16384) << "output is not aligned with the input";
}

TEST_P(ResamplerRateTest, StreamingKeepsToneAndRate) {
  const auto [in_rate, out_rate] = GetParam();
  const Samples in = Sine(1000, in_rate, static_cast<size_t>(in_rate) * 2);  // 2 s
  const Samples out = Stream(in_rate, out_rate, in, SamplesPerFrame(in_rate));
  const double expected = static_cast<double>(in.size()) * out_rate / in_rate;
  EXPECT_NEAR(static_cast<double>(out.size()), expected, 1.0);

  const size_t margin = out.size() / 10;
  EXPECT_NEAR(ZeroCrossingFrequency(out, margin, out.size() - margin, out_rate), 1000.0, 3.0);
  EXPECT_GT(GoertzelShare(out, margin, out.size() - margin, 1000, out_rate), 0.95);
}

TEST_P(ResamplerRateTest, OutputDoesNotDependOnChunking) {
  const auto [in_rate, out_rate] = GetParam();
  const Samples in = Noise(static_cast<size_t>(in_rate) / 4, 7);
  const Samples by_frame = Stream(in_rate, out_rate, in, 320);
  EXPECT_EQ(Stream(in_rate, out_rate, in, 1), by_frame);
  EXPECT_EQ(Stream(in_rate, out_rate, in, 7), by_frame);
  EXPECT_EQ(Stream(in_rate, out_rate, in, in.size()), by_frame);

  // Irregular chunks, as a WebSocket delivers them.
  auto resampler = Resampler::Create(in_rate, out_rate);
  ASSERT_TRUE(resampler.ok());
  std::mt19937 rng(3);
  Samples irregular;
  for (size_t pos = 0; pos < in.size();) {
    const size_t n = std::min<size_t>(rng() % 900, in.size() - pos);
    (*resampler)->Process(std::span<const int16_t>(in).subspan(pos, n), &irregular);
    pos += n;
  }
  EXPECT_EQ(irregular, by_frame);
}

TEST_P(ResamplerRateTest, StreamingDelayIsLatencySamples) {
  const auto [in_rate, out_rate] = GetParam();
  auto resampler = Resampler::Create(in_rate, out_rate);
  ASSERT_TRUE(resampler.ok());
  const int latency = (*resampler)->latency_samples();
  EXPECT_GT(latency, 0);
  EXPECT_LE(latency * 1000, out_rate * 4) << "more than 4 ms of look-ahead";

  // A click in the input shows up latency_samples() late in the output.
  const size_t click_at = static_cast<size_t>(in_rate) / 10;
  Samples in(static_cast<size_t>(in_rate) / 5, 0);
  in[click_at] = 20000;
  Samples out;
  (*resampler)->Process(in, &out);
  size_t peak = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::abs(out[i]) > std::abs(out[peak])) {
      peak = i;
    }
  }
  const double expected = static_cast<double>(click_at) * out_rate / in_rate + latency;
  EXPECT_NEAR(static_cast<double>(peak), expected, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Rates, ResamplerRateTest,
                         testing::Values(RatePair{8000, 16000}, RatePair{16000, 8000},
                                         RatePair{16000, 24000}, RatePair{24000, 16000},
                                         RatePair{16000, 48000}, RatePair{48000, 16000},
                                         RatePair{22050, 16000}),
                         [](const testing::TestParamInfo<RatePair>& info) {
                           return std::to_string(info.param.in) + "To" +
                                  std::to_string(info.param.out);
                         });

TEST(ResamplerTest, RejectsRatesOutsideRange) {
  for (const auto& [in, out] :
       {std::pair{7999, 16000}, std::pair{16000, 48001}, std::pair{0, 16000},
        std::pair{16000, -8000}, std::pair{96000, 48000}}) {
    auto r = Resampler::Create(in, out);
    ASSERT_FALSE(r.ok()) << in << " -> " << out;
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(Resampler::Create(8000, 48000).ok());
  EXPECT_TRUE(Resampler::Create(48000, 8000).ok());
}

TEST(ResamplerTest, RejectsQualityOutsideRange) {
  EXPECT_EQ(Resampler::Create(8000, 16000, -1).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resampler::Create(8000, 16000, 11).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Resampler::Create(8000, 16000, 0).ok());
  EXPECT_TRUE(Resampler::Create(8000, 16000, 10).ok());
}

TEST(ResamplerTest, EqualRatesCopy) {
  auto r = Resampler::Create(16000, 16000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->latency_samples(), 0);
  const Samples in = Noise(1000, 1);
  Samples out = {42};
  (*r)->Process(in, &out);
  ASSERT_EQ(out.size(), 1001u);
  EXPECT_EQ(out[0], 42);
  EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin() + 1));
  EXPECT_EQ(ResampleAll(in, 16000, 16000), in);
}

TEST(ResamplerTest, ProcessAppends) {
  auto r = Resampler::Create(8000, 16000);
  ASSERT_TRUE(r.ok());
  Samples out = {1, 2, 3};
  (*r)->Process({}, &out);
  EXPECT_EQ(out, (Samples{1, 2, 3}));
  (*r)->Process(Sine(500, 8000, 160), &out);
  EXPECT_EQ(out.size(), 3u + 320u);
  EXPECT_EQ(out[0], 1);
}

TEST(ResamplerTest, ResetForgetsHistory) {
  auto fresh = Resampler::Create(24000, 16000);
  auto used = Resampler::Create(24000, 16000);
  ASSERT_TRUE(fresh.ok() && used.ok());
  Samples discard;
  (*used)->Process(Noise(1234, 5), &discard);
  (*used)->Reset();

  const Samples in = Noise(4800, 6);
  Samples a, b;
  (*fresh)->Process(in, &a);
  (*used)->Process(in, &b);
  EXPECT_EQ(a, b);
}

TEST(ResamplerTest, ResampleAllLengthIsRounded) {
  // 22050 -> 16000: 441 samples in become exactly 320 out; 100 become round(72.56) = 73.
  EXPECT_EQ(ResampleAll(Noise(441, 1), 22050, 16000).size(), 320u);
  EXPECT_EQ(ResampleAll(Noise(100, 1), 22050, 16000).size(), 73u);
  EXPECT_EQ(ResampleAll(Noise(3, 1), 24000, 16000).size(), 2u);
  EXPECT_EQ(ResampleAll(Noise(1, 1), 8000, 48000).size(), 6u);
  EXPECT_TRUE(ResampleAll({}, 8000, 16000).empty());
}

TEST(ResamplerTest, ResampleAllRejectsBadRatesWithEmptyOutput) {
  EXPECT_TRUE(ResampleAll(Noise(100, 1), 4000, 16000).empty());
  EXPECT_TRUE(ResampleAll(Noise(100, 1), 16000, 96000).empty());
}

TEST(ResamplerTest, SilenceStaysSilent) {
  const Samples out = ResampleAll(Samples(16000, 0), 16000, 24000);
  EXPECT_EQ(out, Samples(24000, 0));
}

}  // namespace
}  // namespace artagent::audio
