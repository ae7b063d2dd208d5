#include "transport/acs/acs_media.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace artagent::transport::acs {
namespace {

using json = nlohmann::json;

TEST(AcsMediaTest, ParsesTheDocumentedAudioMetadata) {
  MediaError err;
  auto m = ParseMediaMessage(
      R"({"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"89e8cb59-b991-48b0-b154-1db84f16a077",
          "encoding":"PCM","sampleRate":16000,"channels":1,"length":640}})",
      &err);
  ASSERT_TRUE(m) << err.message;
  auto& meta = std::get<AudioMetadata>(*m);
  EXPECT_EQ(meta.subscription_id, "89e8cb59-b991-48b0-b154-1db84f16a077");
  EXPECT_EQ(meta.sample_rate, 16000);
  EXPECT_EQ(meta.length, 640);
}

TEST(AcsMediaTest, ParsesAudioDataWithItsExactCasingAndPascalCaseToo) {
  audio::Samples pcm = {1, -2, 300, -32768};
  std::string frame = EncodeInboundAudio(pcm, false, "2024-11-15T19:16:12.925Z", "8:acs:x");
  EXPECT_NE(frame.find("\"participantRawID\""), std::string::npos);
  MediaError err;
  auto m = ParseMediaMessage(frame, &err);
  ASSERT_TRUE(m) << err.message;
  auto& a = std::get<AudioData>(*m);
  EXPECT_EQ(a.pcm, pcm);
  EXPECT_EQ(a.participant_raw_id, "8:acs:x");
  EXPECT_EQ(a.timestamp, "2024-11-15T19:16:12.925Z");
  EXPECT_FALSE(a.silent);

  auto p = ParseMediaMessage(
      R"({"Kind":"AudioData","AudioData":{"Data":"AQD//w==","Silent":true}})", &err);
  ASSERT_TRUE(p) << err.message;
  EXPECT_EQ(std::get<AudioData>(*p).pcm, (audio::Samples{1, -1}));
  EXPECT_TRUE(std::get<AudioData>(*p).silent);
}

TEST(AcsMediaTest, SilentPacketWithoutDataIsAccepted) {
  MediaError err;
  auto m = ParseMediaMessage(R"({"kind":"AudioData","audioData":{"silent":true}})", &err);
  ASSERT_TRUE(m) << err.message;
  EXPECT_TRUE(std::get<AudioData>(*m).pcm.empty());
}

TEST(AcsMediaTest, DtmfDigitsAndToneNames) {
  MediaError err;
  for (auto [in, want] : std::vector<std::pair<std::string, char>>{
           {"3", '3'}, {"#", '#'}, {"*", '*'}, {"a", 'A'}, {"pound", '#'}, {"nine", '9'}}) {
    auto m =
        ParseMediaMessage(json{{"kind", "DtmfData"}, {"dtmfData", {{"data", in}}}}.dump(), &err);
    ASSERT_TRUE(m) << in << ": " << err.message;
    EXPECT_EQ(std::get<DtmfData>(*m).digit, want) << in;
  }
  EXPECT_EQ(std::get<DtmfData>(*ParseMediaMessage(EncodeDtmf('7'), &err)).digit, '7');
}

TEST(AcsMediaTest, BadInputGetsAClearError) {
  struct Case {
    std::string frame;
    std::string code;
  };
  std::vector<Case> cases = {
      {"{oops", "invalid_json"},
      {"[1,2]", "invalid_json"},
      {R"({"audioData":{}})", "missing_kind"},
      {R"({"kind":"VideoData"})", "unknown_kind"},
      {R"({"kind":"AudioData"})", "invalid_audio"},
      {R"({"kind":"AudioData","audioData":{"data":"***"}})", "invalid_audio"},
      {R"({"kind":"AudioData","audioData":{"data":"AQID"}})", "invalid_audio"},  // 3 bytes
      {R"({"kind":"AudioData","audioData":{"data":42}})", "invalid_audio"},
      {R"({"kind":"AudioData","audioData":{"silent":false}})", "invalid_audio"},
      {R"({"kind":"AudioMetadata","audioMetadata":{"sampleRate":8000,"length":320}})",
       "invalid_metadata"},
      {R"({"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"channels":2}})",
       "invalid_metadata"},
      {R"({"kind":"AudioMetadata","audioMetadata":{"encoding":"OPUS","sampleRate":16000}})",
       "invalid_metadata"},
      {R"({"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"length":641}})",
       "invalid_metadata"},
      {R"({"kind":"DtmfData","dtmfData":{"data":"12"}})", "invalid_dtmf"},
      {R"({"kind":"DtmfData","dtmfData":{"data":"x"}})", "invalid_dtmf"},
      {R"({"kind":"DtmfData"})", "invalid_dtmf"},
  };
  // Oversized packet: two seconds at 24 kHz.
  std::string big(96000 * 4 / 3 + 4, 'A');
  cases.push_back({R"({"kind":"AudioData","audioData":{"data":")" + big + "\"}}", "invalid_audio"});
  for (const auto& c : cases) {
    MediaError err;
    EXPECT_FALSE(ParseMediaMessage(c.frame, &err)) << c.frame.substr(0, 80);
    EXPECT_EQ(err.code, c.code) << c.frame.substr(0, 80);
    EXPECT_FALSE(err.message.empty());
  }
}

TEST(AcsMediaTest, TranscriptionKindsAreIgnoredNotErrors) {
  MediaError err;
  auto m =
      ParseMediaMessage(R"({"kind":"TranscriptionData","transcriptionData":{"text":"hi"}})", &err);
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<IgnoredMedia>(*m).kind, "TranscriptionData");
}

TEST(AcsMediaTest, OutboundFramesMatchTheVectors) {
  // protocols.md §2: 20 ms of silence at 16 kHz is 854 x 'A' + "==".
  audio::Samples silence16(320, 0);
  json j = json::parse(EncodeAudioData(silence16));
  EXPECT_EQ(j["kind"], "AudioData");
  EXPECT_TRUE(j["stopAudio"].is_null());
  EXPECT_EQ(j["audioData"]["data"], std::string(854, 'A') + "==");
  audio::Samples silence24(480, 0);
  EXPECT_EQ(json::parse(EncodeAudioData(silence24))["audioData"]["data"], std::string(1280, 'A'));
  json stop = json::parse(EncodeStopAudio());
  EXPECT_EQ(stop, json::parse(R"({"kind":"StopAudio","audioData":null,"stopAudio":{}})"));

  MediaError err;
  auto back = ParseOutboundMessage(EncodeAudioData(silence16), &err);
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<OutboundAudio>(*back).pcm.size(), 320u);
  EXPECT_TRUE(std::holds_alternative<OutboundStop>(*ParseOutboundMessage(EncodeStopAudio(), &err)));
  EXPECT_FALSE(ParseOutboundMessage(R"({"kind":"Nope"})", &err));
}

TEST(AcsMediaTest, AudioFormatNames) {
  EXPECT_EQ(AcsAudioFormatRate("pcm16KMono"), 16000);
  EXPECT_EQ(AcsAudioFormatRate("PCM24KMONO"), 24000);
  EXPECT_EQ(AcsAudioFormatRate("pcm8KMono"), 0);
  EXPECT_EQ(AcsAudioFormatName(24000), "pcm24KMono");
  EXPECT_EQ(AcsAudioFormatName(16000), "pcm16KMono");
}

}  // namespace
}  // namespace artagent::transport::acs
