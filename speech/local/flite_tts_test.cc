#include "speech/local/flite_tts.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "speech/local/speech_test_util.h"

namespace artagent::speech {
namespace {

using test_audio::Audio;
using test_audio::Synthesize;

std::unique_ptr<TtsEngine> Flite() {
  auto engine = CreateFliteEngine();
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

TEST(FliteTtsTest, ListsItsVoices) {
  auto flite = Flite();
  EXPECT_EQ(flite->name(), "flite");
  EXPECT_EQ(flite->Voices(), (std::vector<std::string>{"slt", "kal16", "rms", "awb", "kal"}));
}

TEST(FliteTtsTest, DefaultVoiceIsSltAt16kHzWithPlausibleLength) {
  auto flite = Flite();
  const std::string text = "my policy number is four five six seven";  // 8 words
  Audio audio = Synthesize(*flite, text);
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_GE(audio.seconds(), 0.3 * 8);
  EXPECT_LE(audio.seconds(), 0.5 * 8);
  // The default is slt: the same number of samples as asking for slt by name (durations come
  // from a CART, so they are deterministic even though the excitation noise is not).
  EXPECT_EQ(Synthesize(*flite, text, "slt").samples.size(), audio.samples.size());
}

TEST(FliteTtsTest, EveryVoiceSpeaksAtItsNativeRate) {
  auto flite = Flite();
  for (const std::string& voice : flite->Voices()) {
    Audio audio = Synthesize(*flite, "i want to file a claim", voice);
    EXPECT_EQ(audio.sample_rate, voice == "kal" ? 8000 : 16000) << voice;
    EXPECT_GE(audio.seconds(), 0.25 * 6) << voice;  // 1.72-1.79 s measured
    EXPECT_LE(audio.seconds(), 0.5 * 6) << voice;
  }
}

TEST(FliteTtsTest, StreamsALongReplyInManyChunks) {
  auto flite = Flite();
  const std::string text =
      "I can help you file a claim for your car. First, I will need your policy number. "
      "Please say the digits one at a time.";
  Audio audio = Synthesize(*flite, text, "slt");
  EXPECT_GE(audio.seconds(), 5.0);
  // ~20 ms chunks while synthesising (clustergen), not one buffer at the end.
  EXPECT_GE(audio.chunks, 100);
  EXPECT_LE(audio.samples.size() / audio.chunks, 1024u);
}

TEST(FliteTtsTest, SinkReturningFalseStopsSynthesis) {
  auto flite = Flite();
  int calls = 0;
  size_t samples = 0;
  core::Status status =
      flite->Synthesize({"I can help you file a claim for your car. First, I will need your "
                         "policy number. Please say the digits one at a time.",
                         "slt", 1.0},
                        [&](std::span<const int16_t> pcm, int) {
                          ++calls;
                          samples += pcm.size();
                          return false;
                        });
  EXPECT_EQ(status.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
  EXPECT_LT(samples, 16000u);
  // The engine is still usable.
  EXPECT_GT(Synthesize(*flite, "hello", "slt").samples.size(), 0u);
}

TEST(FliteTtsTest, RejectsUnknownVoiceEmptyTextAndBadRate) {
  auto flite = Flite();
  auto sink = [](std::span<const int16_t>, int) { return true; };
  core::Status unknown = flite->Synthesize({"hello", "nobody", 1.0}, sink);
  EXPECT_EQ(unknown.code(), core::StatusCode::kNotFound);
  EXPECT_NE(unknown.message().find("slt"), std::string::npos) << unknown.message();
  EXPECT_EQ(flite->Synthesize({"  \n ", "", 1.0}, sink).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(flite->Synthesize({"hello", "", 3.0}, sink).code(), core::StatusCode::kInvalidArgument);
}

TEST(FliteTtsTest, RateScalesDuration) {
  auto flite = Flite();
  const std::string text = "thank you for calling, how can i help you today";
  double normal = Synthesize(*flite, text, "kal16", 1.0).seconds();
  double fast = Synthesize(*flite, text, "kal16", 2.0).seconds();
  double slow = Synthesize(*flite, text, "kal16", 0.5).seconds();
  EXPECT_NEAR(fast / normal, 0.5, 0.1);
  EXPECT_NEAR(slow / normal, 2.0, 0.3);
}

// Determinism for golden tests: kal16 is bit-exact; slt is bit-exact once rand() is seeded.
TEST(FliteTtsTest, Kal16IsDeterministicAndSltIsWithSrand) {
  auto flite = Flite();
  const std::string text = "please say the digits one at a time";
  EXPECT_EQ(Synthesize(*flite, text, "kal16").samples, Synthesize(*flite, text, "kal16").samples);
  std::srand(7);
  std::vector<int16_t> first = Synthesize(*flite, text, "slt").samples;
  std::srand(7);
  EXPECT_EQ(Synthesize(*flite, text, "slt").samples, first);
}

// Requests for the same voice at once, with different sinks and rates: each gets its own audio.
// kal16 must be bit-identical to the single-threaded result; slt (random excitation) must have
// its single-threaded length at its own rate, which fails if a rate or a sink leaked between
// requests through the shared voice.
TEST(FliteTtsTest, ConcurrentRequestsForOneVoiceStayIndependent) {
  auto flite = Flite();
  const std::string text = "my car was hit in the parking lot";
  std::vector<int16_t> kal16 = Synthesize(*flite, text, "kal16").samples;
  size_t slt_normal = Synthesize(*flite, text, "slt", 1.0).samples.size();
  size_t slt_fast = Synthesize(*flite, text, "slt", 1.6).samples.size();
  ASSERT_NE(slt_normal, slt_fast);

  constexpr int kThreads = 4, kRounds = 5;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        if (Synthesize(*flite, text, "kal16").samples != kal16) ++failures[t];
        double rate = (t % 2 == 0) ? 1.0 : 1.6;
        size_t expected = (t % 2 == 0) ? slt_normal : slt_fast;
        if (Synthesize(*flite, text, "slt", rate).samples.size() != expected) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  }
}

}  // namespace
}  // namespace artagent::speech
