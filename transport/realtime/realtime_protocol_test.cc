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
  auto ev =
      MustParse(R"({"type":"session.update","session":{"output_modalities":["text"],)"
                R"("audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":null},)"
                R"("output":{"format":{"type":"audio/pcma"},"voice":"kal16","speed":1.2}}}})");
  auto& u = std::get<SessionUpdate>(ev.body);
  EXPECT_EQ(u.output_audio, false);
  EXPECT_EQ(u.input_format->encoding, AudioFormat::Encoding::kMulaw);
  EXPECT_EQ(u.input_format->rate, 8000);
  EXPECT_EQ(u.output_format->encoding, AudioFormat::Encoding::kAlaw);
  EXPECT_FALSE(u.turn_detection->enabled);
  EXPECT_EQ(u.voice, "kal16");

  auto beta = MustParse(R"({"type":"session.update","session":{"modalities":["text","audio"],)"
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
  // A rate beyond 32 bits must not wrap into a supported one (4294991296 = 2^32 + 24000).
  auto wrapped = MustFail(
      R"({"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcm","rate":4294991296}}}}})");
  EXPECT_EQ(wrapped.code, "invalid_value");
  EXPECT_NE(wrapped.message.find("4294991296"), std::string::npos) << wrapped.message;
  EXPECT_EQ(MustFail(R"({"no_type":1})").code, "missing_field");
  auto unknown = MustFail(R"({"type":"session.explode","event_id":"e1"})");
  EXPECT_EQ(unknown.code, "unknown_event");
  EXPECT_EQ(unknown.event_id, "e1");
  EXPECT_EQ(MustFail(R"({"type":"input_audio_buffer.append"})").code, "missing_field");
  auto rate = MustFail(
      R"({"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcm","rate":96000}}}}})");
  EXPECT_EQ(rate.code, "invalid_value");
  EXPECT_EQ(rate.param, "session.audio.input.format.rate");
  EXPECT_EQ(
      MustFail(
          R"({"type":"conversation.item.create","item":{"type":"message","role":"assistant","content":[{"type":"input_text","text":"x"}]}})")
          .code,
      "invalid_value");
}

TEST(RealtimeProtocolTest, UserTextTruncateAndResponseEvents) {
  auto t = MustParse(R"({"type":"conversation.item.create","item":{"type":"message","role":"user",)"
                     R"("content":[{"type":"input_text","text":"I want to file a claim"}]}})");
  EXPECT_EQ(std::get<UserText>(t.body).text, "I want to file a claim");
  auto tr = MustParse(
      R"({"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":1234.6})");
  EXPECT_EQ(std::get<Truncate>(tr.body).audio_end_ms, 1235);
  auto rc = MustParse(R"({"type":"response.create","response":{"output_modalities":["text"]}})");
  EXPECT_EQ(std::get<ResponseCreate>(rc.body).output_audio, false);
  EXPECT_TRUE(
      std::holds_alternative<ResponseCancel>(MustParse(R"({"type":"response.cancel"})").body));
}

TEST(RealtimeProtocolTest, AppendFastPathAndFullParserAgree) {
  const std::string cases[] = {
      R"({"type":"input_audio_buffer.append","audio":"AAEC"})",
      R"(  { "audio" : "AAEC", "event_id":"e1", "type" : "input_audio_buffer.append" } )",
      R"({"type":"input_audio_buffer.append","audio":"AA\/C"})",           // escape: full parser
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

TEST(RealtimeProtocolTest, ParsesClientToolsAndRejectsMalformedOnes) {
  auto ev = MustParse(
      R"({"type":"session.update","session":{"tool_choice":"auto","tools":[{"type":"function",)"
      R"("name":"get_weather","description":"Weather in a city","parameters":{"type":"object",)"
      R"("properties":{"city":{"type":"string"}}}},{"name":"ping"}]}})");
  auto& u = std::get<SessionUpdate>(ev.body);
  ASSERT_TRUE(u.tools);
  ASSERT_EQ(u.tools->size(), 2u);
  EXPECT_EQ((*u.tools)[0]["name"], "get_weather");
  EXPECT_EQ((*u.tools)[0]["parameters"]["properties"]["city"]["type"], "string");
  EXPECT_EQ((*u.tools)[1]["type"], "function");  // filled in when left out
  // An empty list clears them; no key leaves them alone.
  EXPECT_TRUE(
      std::get<SessionUpdate>(MustParse(R"({"type":"session.update","session":{"tools":[]}})").body)
          .tools->empty());
  EXPECT_FALSE(std::get<SessionUpdate>(
                   MustParse(R"({"type":"session.update","session":{"voice":"x"}})").body)
                   .tools);

  auto not_array = MustFail(R"({"type":"session.update","session":{"tools":{"name":"x"}}})");
  EXPECT_EQ(not_array.code, "invalid_value");
  EXPECT_EQ(not_array.param, "session.tools");
  auto no_name =
      MustFail(R"({"type":"session.update","event_id":"e5","session":{"tools":[{"name":"a"},)"
               R"({"type":"function","description":"nameless"}]}})");
  EXPECT_EQ(no_name.code, "invalid_value");
  EXPECT_EQ(no_name.param, "session.tools[1].name");
  EXPECT_EQ(no_name.event_id, "e5");
  EXPECT_EQ(MustFail(R"({"type":"session.update","session":{"tools":["get_weather"]}})").param,
            "session.tools[0]");
  EXPECT_EQ(MustFail(R"({"type":"session.update","session":{"tools":[{"name":7}]}})").param,
            "session.tools[0].name");
  EXPECT_EQ(MustFail(R"({"type":"session.update","session":{"tools":[{"type":"mcp","name":"x"}]}})")
                .param,
            "session.tools[0].type");
  EXPECT_EQ(MustFail(R"({"type":"session.update","session":{"tool_choice":"required"}})").param,
            "session.tool_choice");
}

TEST(RealtimeProtocolTest, ParsesFunctionCallOutputItems) {
  auto ev = MustParse(R"({"type":"conversation.item.create","item":{"type":"function_call_output",)"
                      R"("call_id":"call_7","output":"{\"temp_c\":21}"}})");
  auto& f = std::get<FunctionCallOutput>(ev.body);
  EXPECT_EQ(f.call_id, "call_7");
  EXPECT_EQ(f.output, R"({"temp_c":21})");
  EXPECT_EQ(f.item_id, "");
  // A JSON value instead of a string is kept as its JSON text; the client's item id is kept.
  auto obj = MustParse(
      R"({"type":"conversation.item.create","item":{"id":"item_c1","type":"function_call_output",)"
      R"("call_id":"call_7","output":{"ok":true}}})");
  EXPECT_EQ(std::get<FunctionCallOutput>(obj.body).output, R"({"ok":true})");
  EXPECT_EQ(std::get<FunctionCallOutput>(obj.body).item_id, "item_c1");

  auto no_call = MustFail(
      R"({"type":"conversation.item.create","item":{"type":"function_call_output","output":"x"}})");
  EXPECT_EQ(no_call.code, "missing_field");
  EXPECT_EQ(no_call.param, "item.call_id");
  auto no_output = MustFail(
      R"({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c"}})");
  EXPECT_EQ(no_output.param, "item.output");
  EXPECT_EQ(MustFail(R"({"type":"conversation.item.create","item":{"type":"function_call",)"
                     R"("call_id":"c","name":"x","arguments":"{}"}})")
                .code,
            "unsupported_item");
}

TEST(RealtimeProtocolTest, ParsesDtmfAndRejectsKeysThatAreNotOnAKeypad) {
  auto ev = MustParse(R"({"type":"artagent.input_dtmf","digits":"0123456789*#ABCD"})");
  EXPECT_EQ(std::get<InputDtmf>(ev.body).digits, "0123456789*#ABCD");
  for (const char* bad : {R"({"type":"artagent.input_dtmf","digits":"12x"})",
                          R"({"type":"artagent.input_dtmf","digits":"1 2"})",
                          R"({"type":"artagent.input_dtmf","digits":"a"})"}) {
    auto err = MustFail(bad);
    EXPECT_EQ(err.code, "invalid_value") << bad;
    EXPECT_EQ(err.param, "digits");
  }
  EXPECT_EQ(MustFail(R"({"type":"artagent.input_dtmf","digits":""})").code, "missing_field");
  EXPECT_EQ(MustFail(R"({"type":"artagent.input_dtmf","digits":42})").code, "missing_field");
  EXPECT_EQ(MustFail(R"({"type":"artagent.input_dtmf"})").code, "missing_field");
}

// Every message the encoder produced, parsed.
std::vector<json> Parsed(const std::vector<std::string>& out) {
  std::vector<json> j;
  for (const auto& m : out) j.push_back(json::parse(m));
  return j;
}

TEST(RealtimeProtocolTest, EchoesClientToolsInSessionEvents) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  auto none = json::parse(enc.SessionCreated(cfg));
  EXPECT_EQ(none["session"]["tools"], json::array());
  EXPECT_EQ(none["session"]["tool_choice"], "auto");
  cfg.tools.push_back({{"type", "function"}, {"name", "get_weather"}});
  auto updated = json::parse(enc.SessionUpdated(cfg));
  ASSERT_EQ(updated["session"]["tools"].size(), 1u);
  EXPECT_EQ(updated["session"]["tools"][0]["name"], "get_weather");
}

TEST(RealtimeProtocolTest, EncodesServerToolCallsWithParsedArgumentsAndOutput) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  std::vector<std::string> out;
  session::ToolCallInfo call;
  call.call_id = "call_1";
  call.name = "verify_caller";
  call.arguments = R"({"policy_number":"40213587","pin":"4821"})";
  call.agent = "auth_agent";
  enc.Encode(session::ToolCallStarted{"resp_1", call}, cfg, &out);
  call.status = "completed";
  call.output = R"({"verified":true,"first_name":"Sarah"})";
  call.duration_ms = 3.5;
  enc.Encode(session::ToolCallFinished{"resp_1", call}, cfg, &out);
  call.call_id = "call_2";
  call.arguments = "not json";
  call.status = "failed";
  call.output = "";
  call.duration_ms = -1;
  enc.Encode(session::ToolCallFinished{"resp_1", call}, cfg, &out);
  auto msgs = Parsed(out);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["type"], "artagent.tool.started");
  EXPECT_EQ(msgs[0]["response_id"], "resp_1");
  EXPECT_EQ(msgs[0]["call_id"], "call_1");
  EXPECT_EQ(msgs[0]["name"], "verify_caller");
  EXPECT_EQ(msgs[0]["arguments"]["pin"], "4821");  // an object, not a JSON string
  EXPECT_EQ(msgs[0]["agent"], "auth_agent");
  EXPECT_EQ(msgs[1]["type"], "artagent.tool.completed");
  EXPECT_EQ(msgs[1]["status"], "completed");
  EXPECT_EQ(msgs[1]["output"]["first_name"], "Sarah");
  EXPECT_DOUBLE_EQ(msgs[1]["duration_ms"].get<double>(), 3.5);
  EXPECT_EQ(msgs[1]["agent"], "auth_agent");
  EXPECT_EQ(msgs[2]["status"], "failed");
  EXPECT_TRUE(msgs[2]["duration_ms"].is_null());
  EXPECT_EQ(msgs[2]["output"], "");
}

TEST(RealtimeProtocolTest, EncodesClientToolCallsAsStandardFunctionCallEvents) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  cfg.output_audio = false;
  std::vector<std::string> out;
  session::ToolCallInfo call;
  call.call_id = "call_9";
  call.name = "get_weather";
  call.arguments = R"({"city":"Paris"})";
  call.agent = "assistant";
  call.status = "client";
  enc.Encode(session::ResponseStarted{"resp_1"}, cfg, &out);
  enc.Encode(session::OutputItemStarted{"resp_1", "item_1", "assistant"}, cfg, &out);
  out.clear();
  enc.Encode(session::ToolCallStarted{"resp_1", call}, cfg, &out);
  enc.Encode(session::ToolCallFinished{"resp_1", call}, cfg, &out);
  enc.Encode(session::OutputItemDone{"resp_1", "item_1", "", 0, false}, cfg, &out);
  enc.Encode(session::ResponseDone{"resp_1", "item_1", "completed", "", ""}, cfg, &out);
  auto msgs = Parsed(out);
  std::vector<std::string> types;
  for (const auto& m : msgs) types.push_back(m["type"]);
  const std::vector<std::string> expected_head = {
      "response.output_item.added", "conversation.item.created",
      "response.function_call_arguments.delta", "response.function_call_arguments.done",
      "response.output_item.done"};
  ASSERT_GE(types.size(), expected_head.size() + 1);
  EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 5), expected_head);
  EXPECT_EQ(types.back(), "response.done");
  for (const auto& t : types) EXPECT_EQ(t.rfind("artagent.tool", 0), std::string::npos) << t;

  const json& added = msgs[0];
  EXPECT_EQ(added["response_id"], "resp_1");
  EXPECT_EQ(added["output_index"], 1);  // after the assistant message
  EXPECT_EQ(added["item"]["type"], "function_call");
  EXPECT_EQ(added["item"]["status"], "in_progress");
  EXPECT_EQ(added["item"]["name"], "get_weather");
  EXPECT_EQ(added["item"]["call_id"], "call_9");
  EXPECT_EQ(added["item"]["arguments"], "");
  const std::string item_id = added["item"]["id"];
  EXPECT_FALSE(item_id.empty());
  EXPECT_EQ(msgs[1]["item"]["id"], item_id);
  EXPECT_EQ(msgs[2]["item_id"], item_id);
  EXPECT_EQ(msgs[2]["call_id"], "call_9");
  EXPECT_EQ(msgs[2]["delta"], R"({"city":"Paris"})");
  const json& args_done = msgs[3];
  EXPECT_EQ(args_done["item_id"], item_id);
  EXPECT_EQ(args_done["output_index"], 1);
  EXPECT_EQ(args_done["call_id"], "call_9");
  EXPECT_EQ(args_done["name"], "get_weather");
  EXPECT_EQ(args_done["arguments"], R"({"city":"Paris"})");  // a JSON string, as OpenAI sends
  EXPECT_EQ(msgs[4]["item"]["status"], "completed");
  EXPECT_EQ(msgs[4]["item"]["arguments"], R"({"city":"Paris"})");

  const json& output = msgs.back()["response"]["output"];
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0]["type"], "message");
  EXPECT_EQ(output[1]["type"], "function_call");
  EXPECT_EQ(output[1]["call_id"], "call_9");
  EXPECT_EQ(output[1]["status"], "completed");

  // The next response starts clean.
  out.clear();
  enc.Encode(session::ResponseStarted{"resp_2"}, cfg, &out);
  enc.Encode(session::ResponseDone{"resp_2", "item_2", "completed", "", "ok"}, cfg, &out);
  EXPECT_EQ(json::parse(out.back())["response"]["output"].size(), 1u);
}

TEST(RealtimeProtocolTest, AClientCallCutOffEndsIncompleteWithoutArguments) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  std::vector<std::string> out;
  session::ToolCallInfo call;
  call.call_id = "call_3";
  call.name = "get_weather";
  call.arguments = "{}";
  call.status = "client";
  enc.Encode(session::ResponseStarted{"r"}, cfg, &out);
  enc.Encode(session::ToolCallStarted{"r", call}, cfg, &out);
  out.clear();
  call.status = "cancelled";
  enc.Encode(session::ToolCallFinished{"r", call}, cfg, &out);
  auto msgs = Parsed(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["type"], "response.output_item.done");
  EXPECT_EQ(msgs[0]["item"]["status"], "incomplete");
}

TEST(RealtimeProtocolTest, EncodesHandoffSlotCallControlAndDtmfItems) {
  ServerEventEncoder enc("t_");
  SessionConfig cfg;
  std::vector<std::string> out;
  session::HandoffInfo h;
  h.from = "auth_agent";
  h.to = "fnol_agent";
  h.type = "announced";
  h.share_context = true;
  h.reason = "the caller wants to file a claim";
  enc.Encode(session::HandoffOccurred{"resp_4", h}, cfg, &out);
  enc.Encode(session::SlotSet{{"policy_number", "digits", R"("40213587")", "auth_agent"}}, cfg,
             &out);
  enc.Encode(session::SlotSet{{"claim", "json", R"({"claim_number":"45"})", "fnol_agent"}}, cfg,
             &out);
  session::CallControl end;
  end.reason = "the caller is done";
  enc.Encode(session::CallControlRequested{end}, cfg, &out);
  session::CallControl transfer;
  transfer.kind = session::CallControl::Kind::kTransfer;
  transfer.target = "+14255550100";
  transfer.reason = "asked for a person";
  enc.Encode(session::CallControlRequested{transfer}, cfg, &out);
  enc.Encode(session::UserTextItem{"item_5", "item_4", "4821", true}, cfg, &out);
  enc.Encode(session::UserTextItem{"item_6", "item_5", "hello", false}, cfg, &out);
  auto msgs = Parsed(out);
  ASSERT_EQ(msgs.size(), 7u);

  EXPECT_EQ(msgs[0]["type"], "artagent.handoff");
  EXPECT_EQ(msgs[0]["response_id"], "resp_4");
  EXPECT_EQ(msgs[0]["from"], "auth_agent");
  EXPECT_EQ(msgs[0]["to"], "fnol_agent");
  EXPECT_EQ(msgs[0]["handoff_type"], "announced");
  EXPECT_EQ(msgs[0]["share_context"], true);
  EXPECT_EQ(msgs[0]["reason"], "the caller wants to file a claim");

  EXPECT_EQ(msgs[1]["type"], "artagent.slot");
  EXPECT_EQ(msgs[1]["name"], "policy_number");
  EXPECT_EQ(msgs[1]["slot_type"], "digits");
  EXPECT_EQ(msgs[1]["value"], "40213587");  // the JSON string's value, not its quoted text
  EXPECT_EQ(msgs[1]["agent"], "auth_agent");
  EXPECT_EQ(msgs[2]["value"]["claim_number"], "45");

  EXPECT_EQ(msgs[3]["type"], "artagent.call.end");
  EXPECT_EQ(msgs[3]["reason"], "the caller is done");
  EXPECT_EQ(msgs[4]["type"], "artagent.call.transfer");
  EXPECT_EQ(msgs[4]["target"], "+14255550100");
  EXPECT_EQ(msgs[4]["reason"], "asked for a person");

  EXPECT_EQ(msgs[5]["type"], "conversation.item.created");
  EXPECT_EQ(msgs[5]["previous_item_id"], "item_4");
  EXPECT_EQ(msgs[5]["item"]["artagent_dtmf"], true);
  EXPECT_EQ(msgs[5]["item"]["role"], "user");
  EXPECT_EQ(msgs[5]["item"]["content"][0]["type"], "input_text");
  EXPECT_EQ(msgs[5]["item"]["content"][0]["text"], "4821");
  EXPECT_FALSE(msgs[6]["item"].contains("artagent_dtmf"));
}

TEST(RealtimeProtocolTest, EncodesTheFunctionCallOutputItem) {
  ServerEventEncoder enc("t_");
  auto j = json::parse(enc.FunctionCallOutputCreated({"", "call_9", R"({"temp_c":21})"}, "item_x"));
  EXPECT_EQ(j["type"], "conversation.item.created");
  EXPECT_EQ(j["item"]["id"], "item_x");
  EXPECT_EQ(j["item"]["type"], "function_call_output");
  EXPECT_EQ(j["item"]["call_id"], "call_9");
  EXPECT_EQ(j["item"]["output"], R"({"temp_c":21})");
}

}  // namespace
}  // namespace artagent::transport::realtime
