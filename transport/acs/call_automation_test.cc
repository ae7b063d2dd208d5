#include "transport/acs/call_automation.h"

#include <future>

#include <gtest/gtest.h>

#include "net/acs_auth.h"
#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::transport::acs {
namespace {

using json = nlohmann::json;
using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;

constexpr char kKey[] = "YWNzLXRlc3QtYWNjZXNzLWtleS0wMTIzNDU2Nzg5YWI=";

class CallAutomationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ScriptedServer::Start().value();
    executor_ = net::testing::SerialThreadExecutor::Create();
    http_ = net::HttpClient::Create();
    auto cfg = CallAutomationConfigFromConnectionString("endpoint=" + server_->base_url() +
                                                        "/;accesskey=" + kKey);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    config_ = *cfg;
    config_.backoff.initial = std::chrono::milliseconds(1);
    config_.backoff.max = std::chrono::milliseconds(5);
    config_.seed = 7;
  }
  void MakeClient() {
    client_ = std::make_unique<CallAutomationClient>(http_.get(), executor_, config_);
  }
  void TearDown() override {
    client_.reset();
    executor_.reset();
  }

  // Checks the request is signed for the server's host with the test key.
  void ExpectSigned(const net::testing::RecordedRequest& r) {
    const std::string host = r.Header("host"), date = r.Header("x-ms-date"),
                      hash = r.Header("x-ms-content-sha256"), auth = r.Header("authorization");
    net::AcsRequestView v{r.method, r.target, host, r.body, date, hash, auth};
    core::Status st = net::VerifyAcsRequest(v, kKey, std::chrono::system_clock::now());
    EXPECT_TRUE(st.ok()) << st.ToString() << " for " << r.method << " " << r.target;
  }

  core::Result<CallConnectionProperties> AnswerSync(const AnswerCallRequest& req) {
    std::promise<core::Result<CallConnectionProperties>> p;
    client_->Answer(req, [&](core::Result<CallConnectionProperties> r) { p.set_value(r); });
    return p.get_future().get();
  }
  core::Status Sync(std::function<void(CallAutomationClient::Done)> call) {
    std::promise<core::Status> p;
    call([&](const core::Status& st) { p.set_value(st); });
    return p.get_future().get();
  }

  std::unique_ptr<ScriptedServer> server_;
  std::shared_ptr<net::testing::SerialThreadExecutor> executor_;
  std::unique_ptr<net::HttpClient> http_;
  CallAutomationConfig config_;
  std::unique_ptr<CallAutomationClient> client_;
};

AnswerCallRequest SampleAnswer() {
  AnswerCallRequest req;
  req.incoming_call_context = "ctx-123";
  req.callback_uri = "https://app.example.com/api/v1/calls/callbacks?call=call_1";
  req.operation_context = "answer-call_1";
  req.media.transport_url = "wss://app.example.com/api/v1/media/acs?call=call_1";
  return req;
}

TEST_F(CallAutomationTest, AnswerIsSignedCarriesMediaStreamingAndRepeatability) {
  MakeClient();
  server_->Enqueue(ScriptedResponse(200).Write(
      R"({"callConnectionId":"18dea47f","serverCallId":"srv","callConnectionState":"connecting",
          "mediaStreamingSubscription":{"id":"m","state":"inactive"}})"));
  auto props = AnswerSync(SampleAnswer());
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_EQ(props->call_connection_id, "18dea47f");
  EXPECT_EQ(props->state, "connecting");
  EXPECT_EQ(props->media_streaming_state, "inactive");

  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/calling/callConnections:answer?api-version=2025-05-15");
  ExpectSigned(reqs[0]);
  EXPECT_EQ(reqs[0].Header("repeatability-request-id").size(), 36u);
  EXPECT_EQ(reqs[0].Header("repeatability-request-id")[14], '4');
  EXPECT_FALSE(reqs[0].Header("repeatability-first-sent").empty());
  json body = json::parse(reqs[0].body);
  EXPECT_EQ(body["incomingCallContext"], "ctx-123");
  EXPECT_EQ(body["callbackUri"], "https://app.example.com/api/v1/calls/callbacks?call=call_1");
  const json& m = body["mediaStreamingOptions"];
  EXPECT_EQ(m["transportType"], "websocket");
  EXPECT_EQ(m["transportUrl"], "wss://app.example.com/api/v1/media/acs?call=call_1");
  EXPECT_EQ(m["contentType"], "audio");
  EXPECT_EQ(m["audioChannelType"], "mixed");
  EXPECT_EQ(m["startMediaStreaming"], true);
  EXPECT_EQ(m["enableBidirectional"], true);
  EXPECT_EQ(m["audioFormat"], "pcm16KMono");
  EXPECT_EQ(m["enableDtmfTones"], true);
}

TEST_F(CallAutomationTest, RetriesOn503And429WithTheSameRepeatabilityId) {
  MakeClient();
  server_->Enqueue(ScriptedResponse(503).Write("{}"));
  server_->Enqueue(ScriptedResponse(429).Header("Retry-After", "0").Write("{}"));
  server_->Enqueue(ScriptedResponse(200).Write(R"({"callConnectionId":"c2"})"));
  auto props = AnswerSync(SampleAnswer());
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  const std::string id = reqs[0].Header("repeatability-request-id");
  for (const auto& r : reqs) {
    ExpectSigned(r);
    EXPECT_EQ(r.Header("repeatability-request-id"), id);
    EXPECT_EQ(r.Header("repeatability-first-sent"), reqs[0].Header("repeatability-first-sent"));
  }
}

TEST_F(CallAutomationTest, GivesUpAfterMaxAttemptsAndDoesNotRetryClientErrors) {
  MakeClient();
  for (int i = 0; i < 3; ++i) server_->Enqueue(ScriptedResponse(500).Write("{}"));
  auto failed = AnswerSync(SampleAnswer());
  EXPECT_EQ(failed.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(server_->request_count(), 3u);

  server_->Enqueue(ScriptedResponse(400).Write(
      R"({"error":{"code":"8523","message":"Invalid request: incomingCallContext expired"}})"));
  auto bad = AnswerSync(SampleAnswer());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("incomingCallContext expired"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 4u);
}

TEST_F(CallAutomationTest, CircuitOpensAndCallsFailFast) {
  config_.max_attempts = 1;
  config_.breaker.failure_threshold = 2;
  config_.breaker.open_duration = std::chrono::hours(1);
  MakeClient();
  server_->Enqueue(ScriptedResponse(502).Write("{}"));
  server_->Enqueue(ScriptedResponse(502).Write("{}"));
  EXPECT_FALSE(Sync([&](auto d) { client_->HangUp("c1", d); }).ok());
  EXPECT_FALSE(Sync([&](auto d) { client_->HangUp("c1", d); }).ok());
  EXPECT_EQ(client_->breaker_state(), net::CircuitBreaker::State::kOpen);
  core::Status st = Sync([&](auto d) { client_->HangUp("c1", d); });
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("circuit open"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(CallAutomationTest, MidCallOperationsUseTheDocumentedShapes) {
  MakeClient();
  for (int i = 0; i < 7; ++i)
    server_->Enqueue(
        ScriptedResponse(i == 5 ? 200 : 202)
            .Write(i == 5 ? R"({"recordingId":"rec-1","recordingState":"active"})" : "{}"));
  ASSERT_TRUE(Sync([&](auto d) { client_->HangUp("c/1", d); }).ok());
  ASSERT_TRUE(Sync([&](auto d) { client_->Transfer("c1", "+14255550199", "escalate", d); }).ok());
  ASSERT_TRUE(Sync([&](auto d) { client_->Reject("ctx", "busy", d); }).ok());
  PlayRequest play;
  play.text = "Hello!";
  play.voice_name = "en-US-JennyNeural";
  ASSERT_TRUE(Sync([&](auto d) { client_->Play("c1", play, d); }).ok());
  ASSERT_TRUE(Sync([&](auto d) { client_->Terminate("c1", d); }).ok());
  std::promise<core::Result<std::string>> rec;
  StartRecordingRequest sr;
  sr.server_call_id = "srv-1";
  client_->StartRecording(sr, [&](core::Result<std::string> r) { rec.set_value(r); });
  auto rec_id = rec.get_future().get();
  ASSERT_TRUE(rec_id.ok()) << rec_id.status().ToString();
  EXPECT_EQ(*rec_id, "rec-1");
  ASSERT_TRUE(Sync([&](auto d) { client_->StopRecording("rec-1", d); }).ok());

  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 7u);
  for (const auto& r : reqs) ExpectSigned(r);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].target, "/calling/callConnections/c%2F1?api-version=2025-05-15");
  EXPECT_EQ(reqs[0].Header("x-ms-content-sha256"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(reqs[1].target,
            "/calling/callConnections/c1:transferToParticipant?api-version=2025-05-15");
  EXPECT_EQ(json::parse(reqs[1].body),
            json::parse(R"({"targetParticipant":{"kind":"phoneNumber","phoneNumber":
                {"value":"+14255550199"}},"operationContext":"escalate"})"));
  EXPECT_FALSE(reqs[1].Header("repeatability-request-id").empty());
  EXPECT_EQ(json::parse(reqs[2].body)["callRejectReason"], "busy");
  EXPECT_EQ(json::parse(reqs[3].body)["playSources"][0]["text"]["voiceName"], "en-US-JennyNeural");
  EXPECT_EQ(reqs[4].target, "/calling/callConnections/c1:terminate?api-version=2025-05-15");
  EXPECT_EQ(json::parse(reqs[5].body)["callLocator"]["id"], "srv-1");
  EXPECT_EQ(reqs[6].method, "DELETE");
  EXPECT_EQ(reqs[6].target, "/calling/recordings/rec-1?api-version=2025-05-15");
}

TEST_F(CallAutomationTest, BearerTokenInsteadOfHmac) {
  config_.access_key.clear();
  config_.bearer_token = []() -> core::Result<std::string> { return std::string("tok-1"); };
  MakeClient();
  server_->Enqueue(ScriptedResponse(204));
  ASSERT_TRUE(Sync([&](auto d) { client_->HangUp("c1", d); }).ok());
  EXPECT_EQ(server_->requests()[0].Header("authorization"), "Bearer tok-1");
}

TEST(CallAutomationBodies, TargetsAnd24kFormat) {
  EXPECT_EQ(TargetIdentifier("+1425")["phoneNumber"]["value"], "+1425");
  EXPECT_EQ(TargetIdentifier("8:acs:x")["communicationUser"]["id"], "8:acs:x");
  EXPECT_EQ(TargetIdentifier("sip:agent@pbx.example.com")["rawId"], "sip:agent@pbx.example.com");
  MediaStreamingSettings m;
  m.sample_rate = 24000;
  EXPECT_EQ(MediaStreamingBody(m)["audioFormat"], "pcm24KMono");
}

}  // namespace
}  // namespace artagent::transport::acs
