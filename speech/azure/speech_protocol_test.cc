#include "speech/azure/speech_protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace artagent::speech::azure {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST(SpeechProtocolTest, AudioFrameHeaderMatchesTheVector) {
  // protocols.md §4.3: these header lines are 126 bytes -> prefix 00 7e.
  const std::string frame = EncodeAudioMessage("0123456789ABCDEF0123456789ABCDEF",
                                               "2024-01-02T03:04:05.678Z", "audio/x-wav", "xy");
  const std::string headers =
      "Path: audio\r\nX-RequestId: 0123456789ABCDEF0123456789ABCDEF\r\nX-Timestamp: "
      "2024-01-02T03:04:05.678Z\r\nContent-Type: audio/x-wav\r\n";
  ASSERT_EQ(headers.size(), 126u);
  EXPECT_EQ(Hex(frame.substr(0, 2)), "007e");
  EXPECT_EQ(frame.substr(2, 126), headers);
  EXPECT_EQ(frame.substr(128), "xy");

  auto parsed = ParseAudioMessage(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->path(), "audio");
  EXPECT_EQ(parsed->request_id(), "0123456789ABCDEF0123456789ABCDEF");
  EXPECT_EQ(parsed->Header("content-type"), "audio/x-wav");
  EXPECT_EQ(parsed->body, "xy");
}

TEST(SpeechProtocolTest, PcmAndEndOfAudioFramesHaveNoContentType) {
  const std::string pcm = EncodeAudioMessage("0123456789ABCDEF0123456789ABCDEF",
                                             "2024-01-02T03:04:05.678Z", "", std::string(4, '\1'));
  // 126 - "Content-Type: audio/x-wav\r\n" (27) = 99 = 0x63.
  EXPECT_EQ(Hex(pcm.substr(0, 2)), "0063");
  EXPECT_EQ(pcm.size(), 2u + 99u + 4u);
  const std::string end =
      EncodeAudioMessage("0123456789ABCDEF0123456789ABCDEF", "2024-01-02T03:04:05.678Z", "", "");
  EXPECT_EQ(end.size(), 2u + 99u);
  auto parsed = ParseAudioMessage(end);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->body.empty());
  EXPECT_EQ(parsed->Header("Content-Type"), "");
}

TEST(SpeechProtocolTest, WavHeaderMatchesTheVector) {
  EXPECT_EQ(Hex(StreamingWavHeader(16000)),
            "524946460000000057415645666d74201000000001000100803e0000007d0000020010006461746100000"
            "000");
}

TEST(SpeechProtocolTest, TextMessageRoundTrip) {
  const std::string frame = EncodeTextMessage("speech.context", "0123456789ABCDEF0123456789ABCDEF",
                                              "2024-01-02T03:04:05.678Z", "application/json", "{}");
  EXPECT_EQ(frame,
            "Path: speech.context\r\nX-RequestId: 0123456789ABCDEF0123456789ABCDEF\r\n"
            "X-Timestamp: 2024-01-02T03:04:05.678Z\r\nContent-Type: application/json\r\n\r\n{}");
  // The service writes "Name:value" without a space.
  auto parsed = ParseTextMessage(
      "X-RequestId:ABC\r\nPath:speech.phrase\r\nContent-Type:application/json\r\n\r\n{\"a\":1}");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->path(), "speech.phrase");
  EXPECT_EQ(parsed->request_id(), "ABC");
  EXPECT_EQ(parsed->body, "{\"a\":1}");
  EXPECT_FALSE(ParseTextMessage("Path: x\r\n{}").ok());
  EXPECT_FALSE(ParseTextMessage("no colon\r\n\r\n").ok());
  EXPECT_FALSE(ParseAudioMessage(std::string("\x00\x7f", 2) + "short").ok());
}

TEST(SpeechProtocolTest, IdsAndTimestamps) {
  const std::string id = NewRequestId();
  ASSERT_EQ(id.size(), 32u);
  for (char c : id) EXPECT_TRUE(std::isdigit(c) || (c >= 'A' && c <= 'F')) << id;
  EXPECT_NE(NewRequestId(), id);
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1704164645678));
  EXPECT_EQ(IsoTimestamp(t), "2024-01-02T03:04:05.678Z");
}

TEST(SpeechProtocolTest, ContextCarriesPhraseHints) {
  EXPECT_EQ(SpeechContextBody({}), "{}");
  auto body = nlohmann::json::parse(SpeechContextBody({"Contoso", "", "deductible"}));
  const auto& items = body["dgi"]["Groups"][0]["Items"];
  EXPECT_EQ(body["dgi"]["Groups"][0]["Type"], "Generic");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["Text"], "Contoso");
  EXPECT_EQ(items[1]["Text"], "deductible");
  auto config = nlohmann::json::parse(SpeechConfigBody());
  EXPECT_EQ(config["context"]["system"]["name"], "SpeechSDK");
}

TEST(SpeechProtocolTest, PhraseStatuses) {
  auto ok = ParseSpeechPhrase(
      R"({"RecognitionStatus":"Success","DisplayText":"File a claim.","Offset":1,"Duration":2})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->text, "File a claim.");
  for (const char* empty : {"NoMatch", "InitialSilenceTimeout", "BabbleTimeout"}) {
    auto r = ParseSpeechPhrase(std::string(R"({"RecognitionStatus":")") + empty + "\"}");
    ASSERT_TRUE(r.ok()) << empty;
    EXPECT_EQ(r->text, "") << empty;
    EXPECT_EQ(r->status, empty);
  }
  auto err = ParseSpeechPhrase(R"({"RecognitionStatus":"Error"})");
  EXPECT_EQ(err.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(ParseSpeechPhrase("{}").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSpeechPhrase("not json").status().code(), core::StatusCode::kInvalidArgument);
  auto detailed = ParseSpeechPhrase(
      R"({"RecognitionStatus":"Success","NBest":[{"Confidence":0.75,"Display":"Yes."}]})");
  ASSERT_TRUE(detailed.ok());
  EXPECT_EQ(detailed->text, "Yes.");
  EXPECT_DOUBLE_EQ(detailed->confidence, 0.75);
  EXPECT_EQ(ParseHypothesisText(R"({"Text":"file a","Offset":1})").value(), "file a");
}

TEST(SpeechProtocolTest, TranscriptsAreNormalised) {
  EXPECT_EQ(NormalizeTranscript("Hello, I'd like to file a claim."),
            "hello i'd like to file a claim");
  EXPECT_EQ(NormalizeTranscript("  4021-3587?  "), "4021 3587");
  EXPECT_EQ(NormalizeTranscript("'quoted'"), "quoted");
  EXPECT_EQ(NormalizeTranscript(""), "");
}

TEST(SpeechProtocolTest, VoicesResolve) {
  auto v = ResolveVoice("en-GB-SoniaNeural", "en-US-JennyNeural");
  EXPECT_EQ(v.name, "en-GB-SoniaNeural");
  EXPECT_EQ(v.language, "en-GB");
  EXPECT_EQ(v.style, "");
  v = ResolveVoice("azure:en-US-AriaNeural:cheerful", "en-US-JennyNeural");
  EXPECT_EQ(v.name, "en-US-AriaNeural");
  EXPECT_EQ(v.style, "cheerful");
  // An embedded engine's voice (agent YAML: voice: slt) falls back to the configured default.
  v = ResolveVoice("slt", "de-DE-KatjaNeural");
  EXPECT_EQ(v.name, "de-DE-KatjaNeural");
  EXPECT_EQ(v.language, "de-DE");
  EXPECT_EQ(ResolveVoice("", "en-US-JennyNeural").name, "en-US-JennyNeural");
}

TEST(SpeechProtocolTest, SsmlIsEscapedAndCarriesStyleAndRate) {
  EXPECT_EQ(XmlEscape("a<b & 'c' \"d\">"), "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;");
  AzureVoice voice{"en-US-JennyNeural", "", "en-US"};
  EXPECT_EQ(BuildSsml("Hello! How can I help?", voice, 1.0),
            "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
            "xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='en-US'><voice xml:lang='en-US' "
            "name='en-US-JennyNeural'>Hello! How can I help?</voice></speak>");
  voice.style = "cheerful";
  const std::string ssml = BuildSsml("Tom & Jerry <3", voice, 1.25);
  EXPECT_NE(ssml.find("<mstts:express-as style='cheerful'><prosody rate='+25%'>Tom &amp; Jerry "
                      "&lt;3</prosody></mstts:express-as>"),
            std::string::npos)
      << ssml;
  EXPECT_NE(BuildSsml("x", voice, 0.8).find("rate='-20%'"), std::string::npos);
  EXPECT_EQ(BuildSsml("injected</voice><voice name='x'>", voice, 1.0).find("</voice><voice"),
            std::string::npos);
}

}  // namespace
}  // namespace artagent::speech::azure
