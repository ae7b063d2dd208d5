#include "speech/passthrough/passthrough.h"

#include <gtest/gtest.h>

#include <vector>

namespace artagent::speech {
namespace {

TEST(PassthroughSttTest, FinalIsTheCannedTranscriptOnlyWhenAudioWasFed) {
  PassthroughOptions options;
  options.transcript = "  Hello   THERE ";
  auto engine = CreatePassthroughStt(options);
  auto stream = engine->NewStream({});
  ASSERT_TRUE(stream.ok());
  SttStream& s = **stream;

  ASSERT_TRUE(s.StartUtterance().ok());
  auto empty = s.EndUtterance();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->text, "");

  ASSERT_TRUE(s.StartUtterance().ok());
  std::vector<int16_t> pcm(320, 100);
  auto partial = s.Feed(pcm);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(*partial, "");
  auto final_result = s.EndUtterance();
  ASSERT_TRUE(final_result.ok());
  EXPECT_EQ(final_result->text, "hello there");
  EXPECT_DOUBLE_EQ(final_result->confidence, 1.0);
  EXPECT_TRUE(s.UseGrammar("#JSGF V1.0; grammar g; public <a> = yes;", true).ok());
}

TEST(PassthroughSttTest, CallsOutsideAnUtteranceFail) {
  auto engine = CreatePassthroughStt({});
  auto stream = engine->NewStream({});
  ASSERT_TRUE(stream.ok());
  std::vector<int16_t> pcm(160, 0);
  EXPECT_EQ((*stream)->Feed(pcm).status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*stream)->EndUtterance().status().code(), core::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*stream)->StartUtterance().ok());
  (*stream)->CancelUtterance();
  EXPECT_EQ((*stream)->EndUtterance().status().code(), core::StatusCode::kFailedPrecondition);
}

TEST(ToneTtsTest, LastsMsPerCharacterInChunks) {
  PassthroughOptions options;
  options.ms_per_char = 50;
  auto tts = CreateToneTts(options);
  TtsRequest req;
  req.text = std::string(25, 'a');  // 1250 ms
  req.voice = "slt";                // any voice is accepted
  size_t samples = 0;
  int chunks = 0;
  bool loud = false;
  core::Status st = tts->Synthesize(req, [&](std::span<const int16_t> pcm, int rate) {
    EXPECT_EQ(rate, kToneSampleRate);
    EXPECT_LE(pcm.size(), static_cast<size_t>(kToneSampleRate / 10));
    for (int16_t v : pcm) loud = loud || v > 500;
    samples += pcm.size();
    ++chunks;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(samples, static_cast<size_t>(kToneSampleRate * 125 / 100));
  EXPECT_EQ(chunks, 13);
  EXPECT_TRUE(loud);
}

TEST(ToneTtsTest, SinkCanStopItAndEmptyTextIsRejected) {
  auto tts = CreateToneTts({});
  TtsRequest req;
  req.text = "a long reply that the caller interrupts";
  int chunks = 0;
  core::Status st =
      tts->Synthesize(req, [&](std::span<const int16_t>, int) { return ++chunks < 2; });
  EXPECT_EQ(st.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(chunks, 2);
  req.text.clear();
  EXPECT_EQ(tts->Synthesize(req, [](std::span<const int16_t>, int) { return true; }).code(),
            core::StatusCode::kInvalidArgument);
}

TEST(PassthroughProvidersTest, RegisteredByName) {
  SpeechProviders providers;
  RegisterPassthroughProviders(&providers, {});
  auto stt = providers.CreateStt("passthrough");
  ASSERT_TRUE(stt.ok());
  EXPECT_EQ((*stt)->name(), "passthrough");
  auto tts = providers.CreateTts("tone");
  ASSERT_TRUE(tts.ok());
  EXPECT_EQ((*tts)->name(), "tone");
}

}  // namespace
}  // namespace artagent::speech
