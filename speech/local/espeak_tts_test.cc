#include "speech/local/espeak_tts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "speech/local/speech_test_util.h"

namespace artagent::speech {
namespace {

using test_audio::Audio;
using test_audio::Synthesize;

std::unique_ptr<TtsEngine> Espeak() {
  auto engine = CreateEspeakEngine();
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

TEST(EspeakTtsTest, SpeaksAt22050Hz) {
  auto espeak = Espeak();
  EXPECT_EQ(espeak->name(), "espeak-ng");
  Audio audio = Synthesize(*espeak, "thank you for calling, how can i help you today");
  EXPECT_EQ(audio.sample_rate, 22050);
  EXPECT_GE(audio.seconds(), 0.2 * 10);
  EXPECT_LE(audio.seconds(), 0.5 * 10);
  EXPECT_GT(audio.chunks, 1);  // streamed in ~20 ms buffers
  EXPECT_GT(*std::max_element(audio.samples.begin(), audio.samples.end()), 1000);
}

TEST(EspeakTtsTest, KnowsEnglishVoicesAndRejectsUnknownOnes) {
  auto espeak = Espeak();
  std::vector<std::string> voices = espeak->Voices();
  EXPECT_NE(std::find(voices.begin(), voices.end(), "en"), voices.end());
  EXPECT_NE(std::find(voices.begin(), voices.end(), "en-us"), voices.end());
  EXPECT_EQ(Synthesize(*espeak, "hello", "en-us").sample_rate, 22050);
  core::Status status = espeak->Synthesize({"hello", "klingon-xx", 1.0},
                                           [](std::span<const int16_t>, int) { return true; });
  EXPECT_EQ(status.code(), core::StatusCode::kNotFound);
}

TEST(EspeakTtsTest, RateScalesDuration) {
  auto espeak = Espeak();
  const std::string text = "please say the digits one at a time";
  double normal = Synthesize(*espeak, text, "en", 1.0).seconds();
  double fast = Synthesize(*espeak, text, "en", 2.0).seconds();
  EXPECT_LT(fast, normal * 0.7);
}

TEST(EspeakTtsTest, SinkReturningFalseStopsAndTheEngineRecovers) {
  auto espeak = Espeak();
  int calls = 0;
  core::Status status = espeak->Synthesize(
      {"I can help you file a claim for your car. First, I will need your policy number.", "en",
       1.0},
      [&](std::span<const int16_t>, int) {
        ++calls;
        return false;
      });
  EXPECT_EQ(status.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
  Audio after = Synthesize(*espeak, "hello again", "en");
  EXPECT_GT(after.seconds(), 0.4);
}

// espeak-ng is not bit-exact from run to run (a few samples of jitter), so each caller checks that
// it got one whole sentence of its own: a length within 1 % of the single-threaded one.
TEST(EspeakTtsTest, ConcurrentCallersAreSerialised) {
  auto espeak = Espeak();
  const std::string text = "my policy number is four five six seven";
  const double reference = static_cast<double>(Synthesize(*espeak, text, "en").samples.size());
  ASSERT_GT(reference, 22050.0);
  std::vector<int> mismatches(3, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 4; ++r) {
        double n = static_cast<double>(Synthesize(*espeak, text, "en").samples.size());
        if (std::abs(n - reference) > 0.01 * reference) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace artagent::speech
