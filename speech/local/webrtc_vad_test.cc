#include "speech/local/webrtc_vad.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "speech/local/flite_tts.h"
#include "speech/local/speech_test_util.h"

namespace artagent::speech {
namespace {

constexpr size_t kFrame = 320;  // 20 ms at 16 kHz

std::unique_ptr<Vad> MakeVad(int aggressiveness = 2) {
  auto vad = CreateWebRtcVad({aggressiveness});
  EXPECT_TRUE(vad.ok()) << vad.status().ToString();
  return std::move(vad).value();
}

// Quiet background noise (about -60 dBFS), seeded.
std::vector<int16_t> Noise(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 30.0);
  std::vector<int16_t> out(n);
  for (int16_t& s : out) {
    s = static_cast<int16_t>(std::lround(dist(rng)));
  }
  return out;
}

double FrameDbfs(const int16_t* frame, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += double(frame[i]) * frame[i];
  }
  return 10.0 * std::log10(sum / n / (32768.0 * 32768.0) + 1e-12);
}

TEST(WebRtcVadTest, RejectsAggressivenessOutOfRange) {
  EXPECT_EQ(CreateWebRtcVad({4}).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateWebRtcVad({-1}).status().code(), core::StatusCode::kInvalidArgument);
  for (int mode = 0; mode <= 3; ++mode) {
    EXPECT_TRUE(CreateWebRtcVad({mode}).ok());
  }
}

// Digital silence is never speech. Stationary noise is flagged for the first ~100 ms while the
// VAD's noise model adapts (measured: 4-7 frames of 20 ms at modes 0-2), then never again.
constexpr int kAdaptationFrames = 10;

TEST(WebRtcVadTest, SilenceAndQuietNoiseAreNotSpeech) {
  std::vector<int16_t> zeros(2 * 16000, 0);
  std::vector<int16_t> noise = Noise(2 * 16000, 7);
  for (int mode = 0; mode <= 3; ++mode) {
    auto zeros_vad = MakeVad(mode);
    auto noise_vad = MakeVad(mode);
    for (size_t i = 0; i + kFrame <= zeros.size(); i += kFrame) {
      int frame = static_cast<int>(i / kFrame);
      EXPECT_FALSE(zeros_vad->IsSpeech({zeros.data() + i, kFrame})) << mode << ":" << frame;
      bool noise_speech = noise_vad->IsSpeech({noise.data() + i, kFrame});
      if (frame >= kAdaptationFrames) {
        EXPECT_FALSE(noise_speech) << "mode " << mode << ", frame " << frame;
      }
    }
  }
}

// 10, 20 and 30 ms frames classify a sentence alike; other lengths cannot be classified.
TEST(WebRtcVadTest, AcceptsTenTwentyAndThirtyMsFramesOnly) {
  auto flite = CreateFliteEngine();
  ASSERT_TRUE(flite.ok());
  test_audio::Audio speech = test_audio::Synthesize(**flite, "hello there, how are you", "kal16");
  ASSERT_GT(speech.samples.size(), 16000u);
  auto speech_fraction = [&](size_t frame) {
    auto vad = MakeVad();
    int speech_frames = 0, frames = 0;
    for (size_t i = 0; i + frame <= speech.samples.size(); i += frame, ++frames) {
      speech_frames += vad->IsSpeech({speech.samples.data() + i, frame});
    }
    return double(speech_frames) / frames;
  };
  double ten = speech_fraction(160), twenty = speech_fraction(320), thirty = speech_fraction(480);
  EXPECT_GT(twenty, 0.5);
  EXPECT_NEAR(ten, twenty, 0.15);
  EXPECT_NEAR(thirty, twenty, 0.15);
  EXPECT_EQ(speech_fraction(100), 0.0);
  EXPECT_EQ(speech_fraction(321), 0.0);
}

// Quiet noise, a synthesised sentence, quiet noise: after its noise adaptation the VAD turns on
// within 100 ms of the first loud frame (-40 dBFS, the energy truth of local-speech-stack.md §4b),
// flags most of the loud frames, and is off again for most of the trailing second.
TEST(WebRtcVadTest, MarksSynthesisedSpeechNearItsEnergyOnset) {
  auto flite = CreateFliteEngine();
  ASSERT_TRUE(flite.ok());
  test_audio::Audio sentence =
      test_audio::Synthesize(**flite, "i want to file a claim for my car", "kal16");
  ASSERT_EQ(sentence.sample_rate, 16000);
  std::vector<int16_t> signal = Noise(16000, 1);
  for (size_t i = 0; i < sentence.samples.size(); ++i) {
    signal.push_back(static_cast<int16_t>(
        std::clamp<int>(sentence.samples[i] + signal[i % 16000], -32768, 32767)));
  }
  std::vector<int16_t> tail = Noise(16000, 2);
  signal.insert(signal.end(), tail.begin(), tail.end());

  auto vad = MakeVad();
  int energy_onset = -1, vad_onset = -1, loud = 0, loud_and_speech = 0, tail_speech = 0;
  int frames = static_cast<int>(signal.size() / kFrame);
  int tail_start = static_cast<int>((16000 + sentence.samples.size()) / kFrame) + 10;
  for (int f = 0; f < frames; ++f) {
    const int16_t* frame = signal.data() + f * kFrame;
    bool is_loud = FrameDbfs(frame, kFrame) > -40.0;
    bool is_speech = vad->IsSpeech({frame, kFrame});
    if (is_loud && energy_onset < 0) energy_onset = f;
    if (is_speech && vad_onset < 0 && f >= kAdaptationFrames) vad_onset = f;
    loud += is_loud;
    loud_and_speech += is_loud && is_speech;
    if (f >= tail_start) tail_speech += is_speech;
  }
  ASSERT_GE(energy_onset, 45);  // the sentence starts after the first second
  ASSERT_GE(vad_onset, 0);
  EXPECT_LE(std::abs(vad_onset - energy_onset) * 20, 100)
      << "vad onset " << vad_onset * 20 << " ms, energy onset " << energy_onset * 20 << " ms";
  EXPECT_GE(loud_and_speech, loud * 9 / 10);
  EXPECT_LE(tail_speech, (frames - tail_start) / 4);
}

TEST(WebRtcVadTest, ResetKeepsTheMode) {
  auto vad = MakeVad(3);
  auto flite = CreateFliteEngine();
  ASSERT_TRUE(flite.ok());
  test_audio::Audio speech = test_audio::Synthesize(**flite, "yes that is correct", "kal16");
  auto count = [&] {
    int n = 0;
    for (size_t i = 0; i + kFrame <= speech.samples.size(); i += kFrame) {
      n += vad->IsSpeech({speech.samples.data() + i, kFrame});
    }
    return n;
  };
  int first = count();
  vad->Reset();
  EXPECT_EQ(count(), first);
  EXPECT_GT(first, 0);
}

}  // namespace
}  // namespace artagent::speech
