// The real `artagent` against local fakes of Azure AI Speech (speech/azure/testing) and ACS e-mail
// (a scripted HTTP server that checks the HMAC signature): a Realtime voice turn recognised and
// answered through azure-speech, and a whole insurance call whose claim summary is e-mailed.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "audio/wav.h"
#include "core/base64.h"
#include "net/acs_auth.h"
#include "net/testing/scripted_server.h"
#include "speech/azure/testing/fake_speech_server.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using json = nlohmann::json;
using speech::azure::testing::FakeSpeechServer;
using std::chrono::seconds;

constexpr const char* kAcsKey = "YWNzLXRlc3QtYWNjZXNzLWtleS0wMTIzNDU2Nzg5YWI=";

std::map<std::string, std::string> AzureSpeechEnv(const FakeSpeechServer& fake) {
  return {{"ARTAGENT_SPEECH__STT__PROVIDER", "azure-speech"},
          {"ARTAGENT_SPEECH__TTS__PROVIDER", "azure-speech"},
          {"ARTAGENT_AZURE_SPEECH__ENDPOINT", fake.endpoint()},
          {"ARTAGENT_AZURE_SPEECH__KEY", "fake-speech-key"}};
}

// The last messages the client received (for failure messages).
std::string Tail(const WsClient& ws) {
  std::string out;
  auto all = ws.All();
  for (size_t i = all.size() > 8 ? all.size() - 8 : 0; i < all.size(); ++i) {
    out += all[i].dump().substr(0, 300) + "\n";
  }
  return out;
}

std::string ReplyText(const json& done) {
  std::string text;
  for (const auto& item : done["response"]["output"]) {
    if (item.value("type", "") != "message") continue;
    for (const auto& part : item["content"]) {
      text += part.value("text", "") + part.value("transcript", "");
    }
  }
  return text;
}

TEST(AzureSpeechIntegrationTest, RealtimeTurnRecognisedAndSpokenByAzureSpeech) {
  auto fake = FakeSpeechServer::Start().value();
  ServerProcess server(AzureSpeechEnv(*fake));
  ASSERT_TRUE(server.ok()) << "server did not start:\n" << server.StderrTail();
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server.port(), "/v1/realtime?scenario=insurance"));
  ASSERT_TRUE(ws.WaitFor("session.created"));
  ws.Send({{"type", "session.update"},
           {"session",
            {{"type", "realtime"},
             {"audio",
              {{"input", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}}},
               {"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}}}}}}}});
  ASSERT_TRUE(ws.WaitFor("session.updated")) << Tail(ws) << server.StderrTail();
  auto greeting = ws.WaitFor("response.done", seconds(30));
  ASSERT_TRUE(greeting);
  ASSERT_EQ((*greeting)["response"]["status"], "completed") << greeting->dump();
  // The greeting was synthesised by the (fake) service: SSML with the default voice.
  auto tts = fake->tts_requests();
  ASSERT_FALSE(tts.empty());
  EXPECT_EQ(tts[0].status, 200);
  EXPECT_NE(tts[0].ssml.find("name='en-US-JennyNeural'"), std::string::npos) << tts[0].ssml;
  EXPECT_NE(tts[0].ssml.find("Contoso Insurance"), std::string::npos) << tts[0].ssml;

  // The caller speaks; the fake service recognises what its script says.
  fake->QueueTranscript("4021 3587.");
  audio::Samples turn = SpeakWithFlite("four zero two one three five eight seven", 24000);
  ws.StreamAudio(turn, 24000);
  auto transcript =
      ws.WaitFor("conversation.item.input_audio_transcription.completed", seconds(30));
  ASSERT_TRUE(transcript) << server.StderrTail();
  EXPECT_EQ((*transcript)["transcript"], "4021 3587");

  // The agent reads the number back, in audio from the fake's TTS.
  const std::string greeting_id = (*greeting)["response"]["id"];
  auto reply = ws.WaitFor("response.done", seconds(30),
                          [&](const json& j) { return j["response"]["id"] != greeting_id; });
  ASSERT_TRUE(reply) << server.StderrTail();
  const std::string text = ReplyText(*reply);
  EXPECT_NE(text.find("4, 0, 2, 1, 3, 5, 8, 7"), std::string::npos) << text;
  const std::string reply_id = (*reply)["response"]["id"];
  size_t audio_bytes = 0;
  for (const auto& m : ws.AllOfType("response.output_audio.delta")) {
    if (m["response_id"] != reply_id) continue;
    std::string pcm;
    ASSERT_TRUE(core::Base64Decode(m["delta"].get<std::string>(), &pcm));
    audio_bytes += pcm.size();
  }
  EXPECT_GT(audio_bytes, 24000u * 2 / 2);  // more than half a second of the fake's tone
  // The reply went to the service clause by clause (the chunker splits at commas): together the
  // requests after the greeting hold the read-back.
  std::string spoken;
  for (const auto& r : fake->tts_requests()) spoken += r.ssml;
  EXPECT_NE(spoken.find("I heard 4"), std::string::npos) << spoken;
  EXPECT_NE(spoken.find("Is that right?"), std::string::npos) << spoken;

  auto turns = fake->stt_turns();
  ASSERT_GE(turns.size(), 1u);
  EXPECT_TRUE(turns[0].ended);
  EXPECT_GT(turns[0].pcm_bytes, 16000u);  // the caller's audio reached the service (16 kHz)
  EXPECT_EQ(fake->stt_connections(), 1);  // one warm connection for the session
  EXPECT_TRUE(fake->protocol_errors().empty()) << fake->protocol_errors().front();
  ws.Close();
}

std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

// A whole insurance call (`artagent converse`), recognised and spoken by azure-speech (the fake
// recognises each caller turn from its script); the claim it files is e-mailed to the claims desk
// through a fake ACS e-mail endpoint, which checks the HMAC signature.
TEST(AzureEmailIntegrationTest, ClaimSummaryIsEmailedAfterTheCall) {
  const std::string dir = TempDir("azure_email");
  auto fake = FakeSpeechServer::Start().value();
  auto acs = net::testing::ScriptedServer::Start().value();
  acs->Enqueue(net::testing::ScriptedResponse(202)
                   .Header("Operation-Location",
                           acs->base_url() + "/emails/operations/op-7?api-version=2023-03-31")
                   .Header("Retry-After", "0")
                   .Write(R"({"id":"op-7","status":"Running"})"));
  acs->Enqueue(net::testing::ScriptedResponse(200).Write(R"({"id":"op-7","status":"Succeeded"})"));

  // What the caller says, and what the fake service recognises of it.
  const std::vector<std::pair<std::string, std::string>> turns = {
      {"yes", "Yes."},                                         // confirms the keyed policy number
      {"I want to file a claim.", "I want to file a claim."},  // hand-off to the claims agent
      {"yesterday", "Yesterday."},
      {"on main street", "On Main Street."},
      {"a tree fell on my car", "A tree fell on my car."},
      {"no", "No."},    // injuries
      {"yes", "Yes."},  // drivable
      {"yes", "Yes."},  // file it
      {"no thank you, goodbye", "No, thank you. Goodbye."}};
  std::string cmd = "cd " + SourceDir() + " && ARTAGENT_TOOLS__INSURANCE_DB=" + dir +
                    "/insurance.db ARTAGENT_SPEECH__STT__PROVIDER=azure-speech "
                    "ARTAGENT_SPEECH__TTS__PROVIDER=azure-speech ARTAGENT_AZURE_SPEECH__ENDPOINT=" +
                    fake->endpoint() +
                    " ARTAGENT_AZURE_SPEECH__KEY=fake-speech-key "
                    "ARTAGENT_EMAIL__CONNECTION_STRING='endpoint=" +
                    acs->base_url() + "/;accesskey=" + kAcsKey +
                    "' ARTAGENT_EMAIL__SENDER=DoNotReply@contoso.com " + ArtagentBinary() +
                    " converse --scenario insurance --dtmf 40213587#";
  for (size_t i = 0; i < turns.size(); ++i) {
    fake->QueueTranscript(turns[i].second);
    audio::WavAudio w{16000, 1, SpeakWithFlite(turns[i].first, 16000, 300, 200)};
    const std::string wav = dir + "/turn" + std::to_string(i) + ".wav";
    ASSERT_TRUE(audio::WriteWavFile(wav, w).ok());
    cmd += " --in " + wav;
    if (i == 0) cmd += " --dtmf 2 --dtmf 4821#";  // PIN after the confirmed policy number
  }
  cmd += " --no-pacing 2>" + dir + "/err.log";
  int status = 0;
  const std::string out = RunCommand(cmd, &status);
  ASSERT_EQ(status, 0) << out;

  // The claim number as filed.
  std::string claim;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("tool_calls")) continue;
    for (const auto& c : j["tool_calls"]) {
      if (c["name"] == "create_claim" && c["status"] == "completed") {
        claim = c["output"]["claim_number"];
      }
    }
  }
  ASSERT_FALSE(claim.empty()) << out;
  EXPECT_TRUE(fake->protocol_errors().empty()) << fake->protocol_errors().front();

  // The e-mail: sent (signed), polled until Succeeded, with the claim in subject and body.
  auto requests = acs->requests();
  ASSERT_EQ(requests.size(), 2u) << out;
  const auto& send = requests[0];
  EXPECT_EQ(send.method, "POST");
  EXPECT_EQ(send.target, "/emails:send?api-version=2023-03-31");
  EXPECT_FALSE(send.Header("Operation-Id").empty());
  const std::string host = acs->base_url().substr(7);
  const std::string date = send.Header("x-ms-date");
  const std::string hash = send.Header("x-ms-content-sha256");
  const std::string auth = send.Header("authorization");
  net::AcsRequestView view{send.method, send.target, host, send.body, date, hash, auth};
  core::Status signed_ok = net::VerifyAcsRequest(view, kAcsKey, std::chrono::system_clock::now());
  EXPECT_TRUE(signed_ok.ok()) << signed_ok.ToString();
  auto body = json::parse(send.body);
  EXPECT_EQ(body["senderAddress"], "DoNotReply@contoso.com");
  EXPECT_EQ(body["recipients"]["to"][0]["address"], "claims@contoso.com");
  const std::string subject = body["content"]["subject"];
  const std::string text = body["content"]["plainText"];
  EXPECT_NE(subject.find(claim), std::string::npos) << subject;
  EXPECT_NE(text.find("Claim number: " + claim), std::string::npos) << text;
  EXPECT_NE(text.find("Sarah"), std::string::npos) << text;
  EXPECT_NE(text.find("a tree fell on my car"), std::string::npos) << text;
  ASSERT_EQ(body["attachments"].size(), 1u);
  std::string transcript;
  ASSERT_TRUE(core::Base64Decode(body["attachments"][0]["contentInBase64"].get<std::string>(),
                                 &transcript));
  EXPECT_NE(transcript.find("Caller: i want to file a claim"), std::string::npos) << transcript;
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/emails/operations/op-7?api-version=2023-03-31");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace artagent::testing
