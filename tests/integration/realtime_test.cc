// The real server, the real speech stack, a Realtime client over loopback.

#include <gtest/gtest.h>

#include "core/base64.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class RealtimeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(env_);
    ASSERT_TRUE(server_->ok()) << "server did not start:\n" << server_->StderrTail();
  }
  std::map<std::string, std::string> env_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(RealtimeIntegrationTest, ConversationWithBargeInAndStoredTranscript) {
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server_->port(), "/v1/realtime?model=artagent"));
  EXPECT_EQ(ws.negotiated_subprotocol(), "realtime");
  auto created = ws.WaitFor("session.created");
  ASSERT_TRUE(created);
  const std::string session_id = (*created)["session"]["id"];
  ws.Send({{"type", "session.update"},
           {"session",
            {{"type", "realtime"},
             {"audio",
              {{"input", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}}},
               {"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}}}}}}}});
  ASSERT_TRUE(ws.WaitFor("session.updated"));

  // The greeting plays first.
  auto greeting = ws.WaitFor("response.done", seconds(30));
  ASSERT_TRUE(greeting);
  EXPECT_EQ((*greeting)["response"]["status"], "completed");

  // Caller turn 1, synthesised by flite now, streamed in real time.
  audio::Samples turn1 = SpeakWithFlite("I want to file a claim for my car.", 24000);
  ASSERT_FALSE(turn1.empty());
  ws.StreamAudio(turn1, 24000);
  ASSERT_TRUE(ws.WaitFor("input_audio_buffer.speech_started", seconds(10)));
  ASSERT_TRUE(ws.WaitFor("input_audio_buffer.speech_stopped", seconds(10)));
  auto transcript = ws.WaitFor("conversation.item.input_audio_transcription.completed",
                               seconds(20));
  ASSERT_TRUE(transcript);
  const std::string heard = (*transcript)["transcript"];
  EXPECT_TRUE(Contains(heard, "claim")) << heard;

  // The agent answers with audio.
  const std::string greeting_id = (*greeting)["response"]["id"];
  auto created2 = ws.WaitFor("response.created", seconds(10), [&](const json& j) {
    return j["response"]["id"] != greeting_id;
  });
  ASSERT_TRUE(created2);
  const std::string response_id = (*created2)["response"]["id"];
  auto first_audio = ws.WaitFor("response.output_audio.delta", seconds(10), [&](const json& j) {
    return j["response_id"] == response_id;
  });
  ASSERT_TRUE(first_audio);
  std::string pcm;
  ASSERT_TRUE(core::Base64Decode((*first_audio)["delta"].get<std::string>(), &pcm));
  EXPECT_GT(pcm.size(), 0u);
  auto metrics = ws.WaitFor("artagent.turn.metrics", seconds(10), [&](const json& j) {
    return j["response_id"] == response_id;
  });
  ASSERT_TRUE(metrics);
  ASSERT_TRUE((*metrics)["latency_ms"].contains("voice_to_voice")) << metrics->dump();
  EXPECT_GT((*metrics)["latency_ms"]["voice_to_voice"].get<double>(), 0);

  // Caller turn 2 while the agent is still speaking: barge-in.
  audio::Samples turn2 = SpeakWithFlite("My policy number is four five six seven.", 24000, 0);
  std::thread streamer([&] { ws.StreamAudio(turn2, 24000); });
  auto barge = ws.WaitFor("input_audio_buffer.speech_started", seconds(10));
  ASSERT_TRUE(barge);
  auto cancelled = ws.WaitFor("response.done", seconds(10), [&](const json& j) {
    return j["response"]["id"] == response_id;
  });
  streamer.join();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ((*cancelled)["response"]["id"], response_id);
  EXPECT_EQ((*cancelled)["response"]["status"], "cancelled");
  EXPECT_EQ((*cancelled)["response"]["status_details"]["reason"], "turn_detected");
  // No agent audio of the cancelled response after response.done.
  bool after_done = false, leaked = false;
  for (const auto& m : ws.All()) {
    if (m["type"] == "response.done" && m["response"]["id"] == response_id) after_done = true;
    if (after_done && m["type"] == "response.output_audio.delta" &&
        m["response_id"] == response_id) {
      leaked = true;
    }
  }
  EXPECT_FALSE(leaked);
  // What the agent had said is kept only up to what was heard.
  const std::string full_reply =
      "I can help you file a claim. Please tell me your policy number, one digit at a time.";
  const std::string kept = (*cancelled)["response"]["output"][0]["content"][0]["transcript"];
  EXPECT_LT(kept.size(), full_reply.size());

  // The barge-in turn is transcribed and answered.
  auto transcript2 = ws.WaitFor("conversation.item.input_audio_transcription.completed",
                                seconds(20));
  ASSERT_TRUE(transcript2);
  EXPECT_TRUE(Contains((*transcript2)["transcript"], "policy")) << (*transcript2)["transcript"];
  auto done3 = ws.WaitFor("response.done", seconds(30));
  ASSERT_TRUE(done3);

  // The transcript is in the store, through the API.
  ws.Close();
  json detail;
  for (int i = 0; i < 50; ++i) {
    auto r = HttpGet(server_->port(), "/api/v1/sessions/" + session_id);
    ASSERT_EQ(r.status, 200) << r.body;
    detail = r.Json();
    if (detail["status"] != "active") break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(detail["status"], "ended");
  bool user_claim = false, agent_interrupted = false;
  for (const auto& e : detail["transcript"]) {
    if (e["role"] == "user" && Contains(e["text"], "claim")) user_claim = true;
    if (e["role"] == "agent" && e["interrupted"] == true) agent_interrupted = true;
  }
  EXPECT_TRUE(user_claim) << detail.dump(2);
  EXPECT_TRUE(agent_interrupted) << detail.dump(2);
  auto list = HttpGet(server_->port(), "/api/v1/sessions").Json();
  ASSERT_FALSE(list["sessions"].empty());
  EXPECT_EQ(list["sessions"][0]["id"], session_id);
}

TEST_F(RealtimeIntegrationTest, TextChatInTextMode) {
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server_->port(), "/v1/realtime"));
  ASSERT_TRUE(ws.WaitFor("session.created"));
  ws.Send({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
  ASSERT_TRUE(ws.WaitFor("session.updated"));
  ws.Send({{"type", "conversation.item.create"},
           {"item",
            {{"type", "message"},
             {"role", "user"},
             {"content", {{{"type", "input_text"}, {"text", "I want to file a claim"}}}}}}});
  ws.Send({{"type", "response.create"}});
  // The greeting (audio, started at connect) may still be going; wait for the text reply.
  auto done = ws.WaitFor("response.done", seconds(30), [](const json& j) {
    return Contains(j["response"]["output"][0]["content"][0].value("text", ""), "policy number");
  });
  ASSERT_TRUE(done) << json(ws.All()).dump();
  EXPECT_EQ((*done)["response"]["status"], "completed");
  EXPECT_FALSE(ws.AllOfType("response.output_text.delta").empty());
}

TEST_F(RealtimeIntegrationTest, BadInputIsAnsweredAndCounted) {
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server_->port(), "/v1/realtime"));
  ASSERT_TRUE(ws.WaitFor("session.created"));
  ws.SendRaw("{this is not json");
  auto e1 = ws.WaitFor("error");
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["error"]["code"], "invalid_json");
  ws.Send({{"type", "input_audio_buffer.append"}, {"audio", "AA=="}});  // one byte: not PCM16
  auto e2 = ws.WaitFor("error");
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["error"]["code"], "invalid_audio");
  ws.Send({{"type", "made.up"}});
  auto e3 = ws.WaitFor("error");
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["error"]["code"], "unknown_event");
  // The connection is still usable.
  ws.Send({{"type", "session.update"}, {"session", {{"instructions", "be brief"}}}});
  ASSERT_TRUE(ws.WaitFor("session.updated"));
  auto metrics = HttpGet(server_->port(), "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "artagent_protocol_errors_total")) << metrics.body;
  EXPECT_TRUE(Contains(metrics.body, "kind=\"invalid_json\""));
}

TEST_F(RealtimeIntegrationTest, VanishedClientEndsItsSessionOthersUnharmed) {
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server_->port(), "/v1/realtime"));
  ASSERT_TRUE(b.Connect(server_->port(), "/v1/realtime"));
  auto ca = a.WaitFor("session.created");
  ASSERT_TRUE(ca);
  ASSERT_TRUE(b.WaitFor("session.created"));
  ASSERT_TRUE(a.WaitFor("response.output_audio.delta", seconds(20)));  // mid-greeting
  a.Abort();
  // b keeps getting its greeting to the end.
  auto done = b.WaitFor("response.done", seconds(30));
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["response"]["status"], "completed");
  json detail;
  for (int i = 0; i < 100; ++i) {
    detail = HttpGet(server_->port(), "/api/v1/sessions/" + (*ca)["session"]["id"].get<std::string>())
                 .Json();
    if (detail.value("status", "") == "vanished") break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(detail["status"], "vanished");
  EXPECT_FALSE(detail["transcript"].empty());  // the greeting, as far as it went
}

TEST(RealtimeLimitsTest, OversizedMessageClosesTheConnectionOnly) {
  ServerProcess server(std::map<std::string, std::string>{{"ARTAGENT_SERVER__MAX_WS_MESSAGE_BYTES", "65536"}});
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server.port(), "/v1/realtime"));
  ASSERT_TRUE(ws.WaitFor("session.created"));
  std::string big(200000, 'A');
  ws.SendRaw(R"({"type":"input_audio_buffer.append","audio":")" + big + "\"}");
  for (int i = 0; i < 100 && !ws.closed(); ++i) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_TRUE(ws.closed());
  // 1009 is sent; a client still pushing the rest of the message may see the reset first.
  EXPECT_TRUE(ws.close_code() == 1009 || ws.close_code() == 1006) << ws.close_code();
  auto metrics = HttpGet(server.port(), "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "kind=\"message_too_big\"")) << metrics.body;
  // Others are unaffected.
  WsClient other;
  ASSERT_TRUE(other.Connect(server.port(), "/v1/realtime"));
  EXPECT_TRUE(other.WaitFor("session.created"));
}

TEST(RealtimeLimitsTest, CapacityAndApiKeysAreEnforced) {
  ServerProcess server(std::map<std::string, std::string>{{"ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS", "1"},
                        {"ARTAGENT_SERVER__API_KEYS", "sk-one"}});
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  WsClient anonymous;
  EXPECT_FALSE(anonymous.Connect(server.port(), "/v1/realtime"));
  WsClient first;
  ASSERT_TRUE(first.Connect(server.port(), "/v1/realtime", {{"Authorization", "Bearer sk-one"}}));
  ASSERT_TRUE(first.WaitFor("session.created"));
  WsClient second;
  EXPECT_FALSE(second.Connect(server.port(), "/v1/realtime", {{"Authorization", "Bearer sk-one"}}));
  // The browser form of the key (subprotocol) is accepted once capacity frees up.
  first.Close();
  bool connected = false;
  for (int i = 0; i < 150 && !connected; ++i) {
    WsClient third;
    connected = third.Connect(server.port(), "/v1/realtime", {},
                              "realtime, openai-insecure-api-key.sk-one");
    if (!connected) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(connected);
  auto metrics = HttpGet(server.port(), "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "reason=\"capacity\"")) << metrics.body;
  EXPECT_TRUE(Contains(metrics.body, "reason=\"unauthenticated\""));
}

TEST(RealtimeLimitsTest, RecognizerStreamsBoundSessions) {
  ServerProcess server(
      std::map<std::string, std::string>{{"ARTAGENT_SPEECH__STT__MAX_STREAMS", "1"}});
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  WsClient first;
  ASSERT_TRUE(first.Connect(server.port(), "/v1/realtime"));
  ASSERT_TRUE(first.WaitFor("session.created"));
  WsClient second;
  EXPECT_FALSE(second.Connect(server.port(), "/v1/realtime"));
  auto ready = HttpGet(server.port(), "/readyz").Json();
  EXPECT_EQ(ready["checks"]["capacity"]["detail"], "1/1 sessions") << ready.dump();
}

TEST(ServerBasicsTest, HealthReadinessConsoleAndApi) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  EXPECT_EQ(HttpGet(server.port(), "/healthz").status, 200);
  auto ready = HttpGet(server.port(), "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Json()["ready"], true);
  auto index = HttpGet(server.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(Contains(index.body, "<html")) << index.body.substr(0, 200);
  auto agents = HttpGet(server.port(), "/api/v1/agents").Json();
  ASSERT_EQ(agents["agents"].size(), 3u) << agents;
  EXPECT_EQ(agents["agents"][0]["name"], "auth_agent");
  EXPECT_EQ(agents["agents"][0]["start"], true);
  EXPECT_EQ(agents["agents"][0]["handoffs"].size(), 2u);
  EXPECT_EQ(agents["agents"][1]["name"], "fnol_agent");
  EXPECT_EQ(agents["agents"][1]["voice"], "kal16");
  auto scenarios = HttpGet(server.port(), "/api/v1/scenarios").Json();
  EXPECT_EQ(scenarios["scenarios"][0]["name"], "insurance");
  EXPECT_EQ(HttpGet(server.port(), "/api/v1/sessions/sess_nope").status, 404);
  // Graceful shutdown exits 0.
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace artagent::testing
