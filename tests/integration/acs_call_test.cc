// A whole phone call through the ACS transport, against the real server binary, with the local
// ACS simulator playing Event Grid, Call Automation and the media stream.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "transport/acs/call_events.h"
#include "transport/acs/event_grid.h"
#include "transport/acs/simulator.h"

namespace artagent::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using transport::acs::AcsSimulator;

class AcsCallTest : public ::testing::Test {
 protected:
  void Start(std::map<std::string, std::string> env = {}, std::string jwt_audience = "") {
    transport::acs::SimulatorOptions so = sim_options_;
    so.jwt_audience = jwt_audience;
    auto sim = AcsSimulator::Start(so);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(sim).value();
    env["ARTAGENT_ACS__CONNECTION_STRING"] = sim_->connection_string();
    if (!jwt_audience.empty()) {
      env["ARTAGENT_ACS__JWT_AUDIENCE"] = jwt_audience;
      env["ARTAGENT_ACS__JWKS_URL"] = sim_->jwks_url();
    }
    server_ = std::make_unique<ServerProcess>(env);
    ASSERT_TRUE(server_->ok()) << "server did not start:\n" << server_->StderrTail();
    sim_->set_server_url(server_->url());
  }
  json Calls() {
    auto r = HttpGet(server_->port(), "/api/v1/calls");
    EXPECT_EQ(r.status, 200);
    return r.Json()["calls"];
  }
  std::string Metrics() { return HttpGet(server_->port(), "/metrics").body; }

  // A one-agent scenario whose agent transfers the caller right after its greeting.
  std::map<std::string, std::string> TransferScenario() {
    agents_dir_ = TempDir("acs-transfer-agents");
    std::filesystem::create_directories(agents_dir_ + "/desk");
    std::ofstream(agents_dir_ + "/desk/scenario.yaml") << "start_agent: desk\nagents: [desk.yaml]\n";
    std::ofstream(agents_dir_ + "/desk/desk.yaml") << R"(name: desk
greeting: Hello.
tools: [transfer_call]
flow:
  start: to_person
  nodes:
    - id: to_person
      prompt: Transferring you now.
      transfer: "+18005550199"
      reason: the caller wants a person
      on_failure: busy
    - id: busy
      prompt: Sorry, nobody is free right now. I can still help you.
      end: true
)";
    return {{"ARTAGENT_AGENTS__DIR", agents_dir_}, {"ARTAGENT_AGENTS__SCENARIO", "desk"}};
  }
  json Transcript(const std::string& session_id) {
    return HttpGet(server_->port(), "/api/v1/sessions/" + session_id).Json()["transcript"];
  }
  void TearDown() override {
    if (!agents_dir_.empty()) std::filesystem::remove_all(agents_dir_);
  }

  transport::acs::SimulatorOptions sim_options_;
  std::string agents_dir_;
  std::unique_ptr<AcsSimulator> sim_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AcsCallTest, WholeSimulatedCall) {
  Start();
  ASSERT_TRUE(sim_->PlaceCall().ok());
  const int rate = sim_->sample_rate();
  EXPECT_EQ(rate, 16000);

  // The answer was signed (checked by the simulator) and asked for bidirectional media.
  auto rest = sim_->rest_calls();
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest[0].target, "/calling/callConnections:answer?api-version=2025-05-15");
  EXPECT_TRUE(rest[0].signature_ok) << rest[0].signature_error;
  const json& media = rest[0].body["mediaStreamingOptions"];
  EXPECT_EQ(media["enableBidirectional"], true);
  EXPECT_EQ(media["audioFormat"], "pcm16KMono");
  EXPECT_NE(media["transportUrl"].get<std::string>().find("/api/v1/media/acs?call="),
            std::string::npos);

  json calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["state"], "connected");
  EXPECT_EQ(calls[0]["caller"], "+14255550123");
  EXPECT_EQ(calls[0]["call_connection_id"], sim_->call_connection_id());

  // Greeting: "Thank you for calling ... enter it on your keypad."
  ASSERT_TRUE(sim_->WaitForAgentAudio(1500, seconds(30)));
  ASSERT_TRUE(sim_->WaitForAgentQuiet(milliseconds(800), seconds(30)));
  const int64_t greeting_ms = sim_->agent_audio_ms();

  // The caller speaks; the agent answers.
  sim_->StreamAudio(SpeakWithFlite("I want to file a claim for my car.", rate, 300, 900));
  ASSERT_TRUE(sim_->WaitForAgentAudio(static_cast<int>(greeting_ms) + 600, seconds(30)));

  // The caller interrupts the reply: StopAudio comes back.
  EXPECT_TRUE(sim_->WaitForStops(0, milliseconds(0)));
  sim_->StreamAudio(SpeakWithFlite("Wait, hold on please, one moment.", rate, 0, 900));
  ASSERT_TRUE(sim_->WaitForStops(1, seconds(10)));
  ASSERT_TRUE(sim_->WaitForAgentQuiet(milliseconds(800), seconds(30)));

  // Keys fill the policy number slot: the digits, then 1 (yes) to the read-back.
  for (char k : std::string("40213587#")) sim_->SendDtmf(k);
  sim_->StreamSilence(600);
  ASSERT_TRUE(sim_->WaitForAgentQuiet(milliseconds(800), seconds(30)));
  for (char k : std::string("1#")) sim_->SendDtmf(k);
  sim_->StreamSilence(600);
  ASSERT_TRUE(sim_->WaitForAgentQuiet(milliseconds(800), seconds(30)));

  // Every frame the agent sent was exactly 20 ms.
  auto stats = transport::acs::ComputeMediaStats(sim_->frames(), rate, sim_->onsets());
  EXPECT_GT(stats.frames, 100u);
  EXPECT_EQ(stats.wrong_size_frames, 0u);
  // Measured, not asserted (BENCHMARKS.md): pacing and caller onset -> StopAudio on the wire.
  std::string barge;
  for (double ms : stats.barge_in_ms) barge += std::to_string(ms) + " ";
  std::printf(
      "acs media: %zu frames, interval p50 %.1f p99 %.1f max %.1f ms, jitter p50 %.1f "
      "p99 %.1f ms, barge-in %s ms\n",
      stats.frames, stats.interval_p50_ms, stats.interval_p99_ms, stats.interval_max_ms,
      stats.jitter_p50_ms, stats.jitter_p99_ms, barge.c_str());

  // A duplicated callback is ignored.
  ASSERT_TRUE(sim_->ResendLastCallback().ok());
  EXPECT_NE(Metrics().find(R"(kind="duplicate_event")"), std::string::npos);

  // The caller hangs up.
  ASSERT_TRUE(sim_->HangUp().ok());
  calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["state"], "ended");
  EXPECT_EQ(calls[0]["end_reason"], "disconnected");
  const std::string session_id = calls[0]["session_id"];
  ASSERT_FALSE(session_id.empty());
  int connected = 0;
  for (const auto& e : calls[0]["events"]) connected += e == "CallConnected";
  EXPECT_EQ(connected, 1);

  // Transcript, slot and call record in the store (the store writes asynchronously: poll).
  json session;
  for (int i = 0; i < 100; ++i) {
    session = HttpGet(server_->port(), "/api/v1/sessions/" + session_id).Json();
    bool has_record = false;
    for (const auto& t : session.value("transcript", json::array())) {
      if (t["role"] == "system" &&
          t["text"].get<std::string>().find("ended") != std::string::npos) {
        has_record = true;
      }
    }
    if (has_record && session.value("status", "") != "active") break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(session["transport"], "acs");
  std::string user_text;
  bool dtmf_entry = false, record = false;
  for (const auto& t : session["transcript"]) {
    if (t["role"] == "user") user_text += t["text"].get<std::string>() + " | ";
    if (t["role"] == "user" && t.value("dtmf", false)) dtmf_entry = true;
    if (t["role"] == "system" && t["text"].get<std::string>().find("phone call ended") == 0) {
      record = true;
    }
  }
  EXPECT_NE(user_text.find("claim"), std::string::npos) << user_text;
  EXPECT_TRUE(dtmf_entry) << session.dump();
  EXPECT_TRUE(record) << session.dump();
  ASSERT_TRUE(session.contains("slots")) << session.dump();
  EXPECT_EQ(session["slots"]["policy_number"]["value"], "40213587") << session["slots"].dump();
}

TEST_F(AcsCallTest, BusyRejectionAtTheConcurrencyLimit) {
  Start({{"ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS", "1"}});
  ASSERT_TRUE(sim_->PlaceCall().ok());
  core::Status second = sim_->PlaceCall(seconds(10));
  EXPECT_EQ(second.code(), core::StatusCode::kPermissionDenied) << second.ToString();
  EXPECT_NE(second.message().find("busy"), std::string::npos);
  json calls = Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["state"], "rejected");
  EXPECT_EQ(calls[1]["state"], "connected");
  EXPECT_NE(Metrics().find("artagent_refused_total"), std::string::npos);
}

TEST_F(AcsCallTest, ValidationHandshakesAndBadInput) {
  Start();
  auto v = sim_->Request("POST", "/api/v1/calls/events",
                         transport::acs::EncodeValidationEvent({"512d38b6-code", "https://x"}),
                         {{"aeg-event-type", "SubscriptionValidation"}});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->status, 200);
  EXPECT_EQ(json::parse(v->body), json::parse(R"({"validationResponse":"512d38b6-code"})"));

  auto o = sim_->Request("OPTIONS", "/api/v1/calls/events", "",
                         {{"WebHook-Request-Origin", "eventgrid.azure.net"}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->status, 200);
  EXPECT_EQ(o->Header("webhook-allowed-origin"), "eventgrid.azure.net");

  auto bad = sim_->Request("POST", "/api/v1/calls/events", "{not json");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  auto cb = sim_->Request("POST", "/api/v1/calls/callbacks?call=call_nope&token=x", "[]");
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->status, 404);

  // A media socket for an unknown call is refused.
  WsClient ws;
  EXPECT_FALSE(ws.Connect(server_->port(), "/api/v1/media/acs?call=call_nope&token=x", {}, ""));
  EXPECT_EQ(ws.http_status(), 404);

  // The server is fine afterwards: a call still goes through.
  ASSERT_TRUE(sim_->PlaceCall().ok());
  ASSERT_TRUE(sim_->WaitForAgentAudio(500, seconds(30)));
  std::string m = Metrics();
  EXPECT_NE(m.find(R"(kind="bad_event_grid_delivery")"), std::string::npos);
  EXPECT_NE(m.find(R"(kind="unknown_call")"), std::string::npos);
}

TEST_F(AcsCallTest, AcsJwtsAreValidatedOnCallbacksAndMedia) {
  Start({}, "acs-immutable-resource-id-1");
  ASSERT_TRUE(sim_->WaitForRestCall("GET /calling/keys", seconds(10)));
  // Signed callbacks and a signed media upgrade: the call goes through.
  ASSERT_TRUE(sim_->PlaceCall().ok());
  ASSERT_TRUE(sim_->WaitForAgentAudio(500, seconds(30)));
  const std::string event = transport::acs::EncodeCallbackEvent("evt-unsigned", "PlayCompleted",
                                                                sim_->call_connection_id(), "");
  auto unsigned_cb = sim_->Request("POST", "/api/v1/calls/callbacks", event);
  ASSERT_TRUE(unsigned_cb.ok());
  EXPECT_EQ(unsigned_cb->status, 401);
  auto forged = sim_->Request("POST", "/api/v1/calls/callbacks", event,
                              {{"Authorization", "Bearer " + sim_->SignToken() + "x"}});
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 401);
  auto good = sim_->Request("POST", "/api/v1/calls/callbacks", event,
                            {{"Authorization", "Bearer " + sim_->SignToken()}});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200) << good->body;
  // A media stream for the call without a token is refused.
  WsClient ws;
  EXPECT_FALSE(ws.Connect(server_->port(), "/api/v1/media/acs",
                          {{"x-ms-call-connection-id", sim_->call_connection_id()}}, ""));
  EXPECT_EQ(ws.http_status(), 401);
  EXPECT_NE(Metrics().find(R"(kind="jwt_rejected")"), std::string::npos);
}

TEST_F(AcsCallTest, DeleteHangsUpThroughCallAutomation) {
  Start();
  ASSERT_TRUE(sim_->PlaceCall().ok());
  const std::string id = Calls()[0]["id"];
  auto del = sim_->Request("DELETE", "/api/v1/calls/" + id, "");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 202);
  ASSERT_TRUE(sim_->WaitForRestCall("DELETE /calling/callConnections/" + sim_->call_connection_id(),
                                    seconds(10)));
  for (const auto& c : sim_->rest_calls()) EXPECT_TRUE(c.signature_ok) << c.target;
  ASSERT_TRUE(sim_->HangUp().ok());  // ACS confirms with CallDisconnected
  EXPECT_EQ(Calls()[0]["state"], "ended");
}


TEST_F(AcsCallTest, FailedTransferIsToldToTheCallerAndTheCallGoesOn) {
  sim_options_.transfer_outcome = "failed";
  Start(TransferScenario());
  ASSERT_TRUE(sim_->PlaceCall().ok());
  // "Hello. Transferring you now." then the transfer request, signed, to the number.
  ASSERT_TRUE(sim_->WaitForRestCall(":transferToParticipant", seconds(30)));
  const int64_t before_ms = sim_->agent_audio_ms();
  EXPECT_GT(before_ms, 500);
  for (const auto& c : sim_->rest_calls()) {
    EXPECT_TRUE(c.signature_ok) << c.target;
    if (c.target.find(":transferToParticipant") == std::string::npos) continue;
    EXPECT_EQ(c.body["targetParticipant"]["phoneNumber"]["value"], "+18005550199") << c.body;
  }
  // ACS reports the transfer failed: the agent tells the caller, who is still connected.
  ASSERT_TRUE(sim_->WaitForAgentAudio(static_cast<int>(before_ms) + 1000, seconds(30)));
  ASSERT_TRUE(sim_->WaitForAgentQuiet(milliseconds(800), seconds(30)));
  json call = Calls()[0];
  EXPECT_EQ(call["state"], "connected") << call;
  EXPECT_FALSE(sim_->media_closed());
  EXPECT_NE(Metrics().find(R"(kind="transfer_failed")"), std::string::npos);
  ASSERT_TRUE(call["session_id"].is_string()) << call;
  bool event = false, apology = false;
  const json transcript = Transcript(call["session_id"]);
  for (const auto& t : transcript) {
    const std::string text = t.value("text", "");
    if (t["role"] == "system" && text.find("transfer_failed") != std::string::npos &&
        text.find("+18005550199") != std::string::npos) {
      event = true;
    }
    if (t["role"] == "agent" && text.find("nobody is free") != std::string::npos) apology = true;
  }
  EXPECT_TRUE(event) << transcript.dump(1);
  EXPECT_TRUE(apology) << transcript.dump(1);
  ASSERT_TRUE(sim_->HangUp().ok());
}

TEST_F(AcsCallTest, AcceptedTransferEndsOurLegOfTheCall) {
  Start(TransferScenario());
  ASSERT_TRUE(sim_->PlaceCall().ok());
  ASSERT_TRUE(sim_->WaitForRestCall(":transferToParticipant", seconds(30)));
  json call;
  for (int i = 0; i < 100; ++i) {
    call = Calls()[0];
    if (call["state"] == "ended") break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(call["state"], "ended") << call;
  EXPECT_EQ(call["end_reason"], "transferred") << call;
  EXPECT_EQ(call["transfer_target"], "+18005550199") << call;
}

// `artagent call --simulate --mic`: a person on the line. The microphone and speaker programs are
// replaced by a file being read and a file being written (the machine has no sound card); the
// call must carry the caller's words to the agent and the agent's audio to the "speaker".
TEST(AcsCallCommandTest, MicrophoneModeTalksThroughCaptureAndPlaybackPrograms) {
  const std::string dir = TempDir("call-mic");
  const audio::Samples caller = SpeakWithFlite("I want to file a claim.", 16000, 500, 300);
  {
    std::ofstream raw(dir + "/caller.raw", std::ios::binary);
    raw.write(reinterpret_cast<const char*>(caller.data()),
              static_cast<std::streamsize>(caller.size() * sizeof(int16_t)));
  }
  const std::string cmd = "cd " + SourceDir() + " && ARTAGENT_STORE__PATH=" + dir + "/store.db" +
                          " ARTAGENT_MIC_COMMAND='cat " + dir + "/caller.raw'" +
                          " ARTAGENT_SPEAKER_COMMAND='cat > " + dir + "/speaker.raw'" + " " +
                          ArtagentBinary() + " call --simulate --mic --out " + dir +
                          "/agent.wav 2>" + dir + "/stderr.txt";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  json summary = json::parse(out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << out;
  // Every 20 ms of the "microphone" went out, and the caller was heard.
  EXPECT_EQ(summary["live"]["caller_frames"], caller.size() / 320);
  EXPECT_EQ(summary["live"]["interrupted"], false);
  EXPECT_EQ(summary["bad_signatures"], 0);
  bool heard = false;
  for (const auto& line : summary.value("transcript", json::array())) {
    const std::string text = line.get<std::string>();
    if (text.rfind("user: ", 0) == 0 && text.find("claim") != std::string::npos) heard = true;
  }
  EXPECT_TRUE(heard) << summary.dump(2);
  // The "speaker" played exactly what the agent sent.
  const int64_t agent_ms = summary["agent_audio_ms"];
  EXPECT_GT(agent_ms, 1000);
  EXPECT_EQ(summary["live"]["played_dropped_frames"], 0);
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(dir + "/speaker.raw")),
            static_cast<int64_t>(std::filesystem::file_size(dir + "/agent.wav")) - 44);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace artagent::testing
