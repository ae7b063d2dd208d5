#include "transport/realtime/realtime_protocol.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace artagent::transport::realtime {
namespace {

using json = nlohmann::json;

ClientEvent MustParse(const std::string& text) {
  ProtocolError err;
  auto ev = ParseClientEvent(text, &err);
  EXPECT_TRUE(ev.has_value()) << err.code << ": " << err.message;
  return ev.value_or(ClientEvent{});
}

ProtocolError MustFail(const std::string& text) {
  ProtocolError err;
  auto ev = ParseClientEvent(text, &err);
  EXPECT_FALSE(ev.has_value()) << text;
  return err;
}

TEST(RealtimeProtocolTest, ParsesTheOfficialClientsSessionUpdate) {
  // As sent by the openai npm client (local-speech-stack.md §6a).
  auto ev = MustParse(
      R"({"type":"session.update","session":{"type":"realtime","instructions":"be brief",)"
      R"("audio":{"input":{"format":{"type":"audio/pcm","rate":24000}}}}})");
  auto& u = std::get<SessionUpdate>(ev.body);
  EXPECT_EQ(u.instructions, "be brief");
  ASSERT_TRUE(u.input_format);
  EXPECT_EQ(u.input_format->rate, 24000);
  EXPECT_FALSE(u.output_format);
}

TEST(RealtimeProtocolTest, ParsesGaAndBetaFormatsAndTurnDetection) {
  auto ev = MustParse(
      R"({"type":"session.update","session":{"output_modalities":["text"],)"
      R"("audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":null},)"
      R"("output":{"format":{"type":"audio/pcma"},"voice":"kal16","speed":1.2}}}})");
  auto& u = std::get<SessionUpdate>(ev.body);
  EXPECT_EQ(u.output_audio, false);
  EXPECT_EQ(u.input_format->encoding, AudioFormat::Encoding::kMulaw);
  EXPECT_EQ(u.input_format->rate, 8000);
  EXPECT_EQ(u.output_format->encoding, AudioFormat::Encoding::kAlaw);
  EXPECT_FALSE(u.turn_detection->enabled);
  EXPECT_EQ(u.voice, "kal16");

  auto beta = MustParse(
      R"({"type":"session.update","session":{"modalities":["text","audio"],)"
      R"("input_audio_format":"g711_ulaw","turn_detection":{"type":"server_vad",)"
      R"("silence_duration_ms":700,"create_response":false}}})");
  auto& b = std::get<SessionUpdate>(beta.body);
  EXPECT_EQ(b.output_audio, true);
  EXPECT_EQ(b.input_format->encoding, AudioFormat::Encoding::kMulaw);
  EXPECT_EQ(b.turn_detection->silence_duration_ms, 700);
  EXPECT_FALSE(b.turn_detection->create_response);
}

TEST(RealtimeProtocolTest, ClearErrorsForBadInput) {
  EXPECT_EQ(MustFail("{not json").code, "invalid_json");
  EXPECT_EQ(MustFail(R"({"no_type":1})").code, "missing_field");
  auto unknown = MustFail(R"({"type":"session.explode","event_id":"e1"})");
  EXPECT_EQ(unknown.code, "unknown_event");
  EXPECT_EQ(unknown.event_id, "e1");
  EXPECT_EQ(MustFail(R"({"type":"input_audio_buffer.append"})").code, "missing_field");
  auto rate = MustFail(
      R"({"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcm","rate":96000}}}}})");
  EXPECT_EQ(rate.code, "invalid_value");
  EXPECT_EQ(rate.param, "session.audio.input.format.rate");
  EXPECT_EQ(MustFail(R"({"type":"conversation.item.create","item":{"type":"message","role":"assistant","content":[{"type":"input_text","text":"x"}]}})").code,
            "invalid_value");
}

TEST(RealtimeProtocolTest, UserTextTruncateAndResponseEvents) {
  auto t = MustParse(
      R"({"type":"conversation.item.create","item":{"type":"message","role":"user",)"
      R"("content":[{"type":"input_text","text":"I want to file a claim"}]}})");
  EXPECT_EQ(std::get<UserText>(t.body).text, "I want to file a claim");
  auto tr = MustParse(
      R"({"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":1234.6})");
  EXPECT_EQ(std::get<Truncate>(tr.body).audio_end_ms, 1235);
  auto rc = MustParse(R"({"type":"response.create","response":{"output_modalities":["text"]}})");
  EXPECT_EQ(std::get<ResponseCreate>(rc.body).output_audio, false);
  EXPECT_TRUE(std::holds_alternative<ResponseCancel>(MustParse(R"({"type":"response.cancel"})").body));
}

TEST(RealtimeProtocolTest, AppendFastPathAndFullParserAgree) {
  const std::string cases[] = {
      R"({"type":"input_audio_buffer.append","audio":"AAEC"})",
      R"(  { "audio" : "AAEC", "event_id":"e1", "type" : "input_audio_buffer.append" } )",
      R"({"type":"input_audio_buffer.append","audio":"AA\/C"})",          // escape: full parser
      R"({"type":"input_audio_buffer.append","audio":"AAEC","extra":1})",  // other key: full parser
  };
  for (const auto& text : cases) {
    auto ev = MustParse(text);
    auto& a = std::get<AudioAppend>(ev.body);
    EXPECT_EQ(a.audio_base64, nlohmann::json::parse(text)["audio"].get<std::string>()) << text;
  }
  EXPECT_EQ(MustParse(cases[1]).event_id, "e1");
  // Broken JSON never gets through the fast path.
  EXPECT_EQ(MustFail(R"({"type":"input_audio_buffer.append","audio":"AAEC")").code, "invalid_json");
  EXPECT_EQ(MustFail(R"({"type":"input_audio_buffer.append","audio":"AAEC"} x)").code,
            "invalid_json");
  EXPECT_EQ(MustFail(R"({"type":"input_audio_buffer.append","audio":5})").code, "missing_field");
}

TEST(RealtimeProtocolTest, DecodesAudioInEachFormat) {
  audio::Samples out;
  int16_t pcm[3] = {1, -2, 300};
  ASSERT_TRUE(DecodeAudio(core::Base64Encode(pcm, sizeof pcm), AudioFormat{}, &out).ok());
  EXPECT_EQ(out, (audio::Samples{1, -2, 300}));
  out.clear();
  EXPECT_FALSE(DecodeAudio("AA==", AudioFormat{}, &out).ok());  // one byte: not 16-bit
  EXPECT_FALSE(DecodeAudio("!!!!", AudioFormat{}, &out).ok());
  out.clear();
  uint8_t ulaw[2] = {0xFF, 0x7F};  // both are (near) silence
  ASSERT_TRUE(DecodeAudio(core::Base64Encode(ulaw, 2),
                          AudioFormat{AudioFormat::Encoding::kMulaw, 8000}, &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], 0);
}

TEST(RealtimeProtocolTest, EncodesSessionAndResponseEvents) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  cfg.id = "sess_1";
  auto created = json::parse(enc.SessionCreated(cfg));
  EXPECT_EQ(created["type"], "session.created");
  EXPECT_EQ(created["session"]["audio"]["input"]["format"]["rate"], 24000);
  EXPECT_EQ(created["session"]["audio"]["input"]["turn_detection"]["type"], "server_vad");

  std::vector<std::string> out;
  enc.Encode(session::ResponseStarted{"resp_1"}, cfg, &out);
  auto samples = std::make_shared<audio::Samples>(audio::Samples{0, 1, -1});
  enc.Encode(session::AudioChunk{"resp_1", "item_9", samples, 24000}, cfg, &out);
  enc.Encode(session::ResponseDone{"resp_1", "item_9", "cancelled", "turn_detected", "Hi"}, cfg,
             &out);
  ASSERT_EQ(out.size(), 3u);
  auto delta = json::parse(out[1]);
  EXPECT_EQ(delta["type"], "response.output_audio.delta");
  EXPECT_EQ(delta["item_id"], "item_9");
  std::string raw;
  ASSERT_TRUE(core::Base64Decode(delta["delta"].get<std::string>(), &raw));
  EXPECT_EQ(raw.size(), 6u);
  auto done = json::parse(out[2]);
  EXPECT_EQ(done["response"]["status"], "cancelled");
  EXPECT_EQ(done["response"]["status_details"]["reason"], "turn_detected");
  EXPECT_NE(json::parse(out[0])["event_id"], done["event_id"]);
}

TEST(RealtimeProtocolTest, TextResponsesUseTextEvents) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  cfg.output_audio = false;
  std::vector<std::string> out;
  enc.Encode(session::ResponseStarted{"r"}, cfg, &out);
  enc.Encode(session::TextDelta{"r", "i", "Hello"}, cfg, &out);
  EXPECT_EQ(json::parse(out.back())["type"], "response.output_text.delta");
  enc.Encode(session::OutputItemDone{"r", "i", "Hello", 0, false}, cfg, &out);
  bool saw_text_done = false;
  for (const auto& m : out) saw_text_done |= json::parse(m)["type"] == "response.output_text.done";
  EXPECT_TRUE(saw_text_done);
}

}  // namespace
}  // namespace artagent::transport::realtime
