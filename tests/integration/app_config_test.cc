// The real server with Azure App Configuration as a configuration layer: a local fake store that
// checks every HMAC signature, values and feature flags that change while the server runs.

#include <thread>

#include <gtest/gtest.h>

#include "platform/testing/fake_app_config.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using nlohmann::json;
using platform::testing::FakeAppConfig;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kLabel[] = "development";  // the default environment is the label

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class AppConfigIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakeAppConfig::Start();
    ASSERT_TRUE(fake.ok()) << fake.status().message();
    fake_ = std::move(fake).value();
  }

  std::map<std::string, std::string> Env() {
    return {{"ARTAGENT_APP_CONFIG__CONNECTION_STRING", fake_->connection_string()},
            {"ARTAGENT_APP_CONFIG__REFRESH_S", "1"}};
  }

  json Config(const ServerProcess& server) {
    return HttpGet(server.port(), "/api/v1/config").Json();
  }

  // Waits (the server checks the sentinel every second) until `key` has `value`.
  bool WaitForValue(const ServerProcess& server, const std::string& key, const json& value) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      json config = Config(server);
      if (config.contains(key) && config[key]["value"] == value) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  std::unique_ptr<FakeAppConfig> fake_;
};

TEST_F(AppConfigIntegrationTest, ValuesShowWithTheirSourceAndAdmissionFollowsThemLive) {
  fake_->Set("Backend:MaxConcurrentCalls", "2", kLabel);
  fake_->Set("Backend:MaxConcurrentCalls", "50", "production");  // another label: not read
  fake_->Set("Session:EndOfTurnSilenceMs", "650", kLabel);
  fake_->Set("Backend:Sentinel", "1", kLabel);
  ServerProcess server(Env());
  ASSERT_TRUE(server.ok()) << server.StderrTail();

  json config = Config(server);
  EXPECT_EQ(config["backend.max_concurrent_calls"]["value"], 2);
  EXPECT_EQ(config["backend.max_concurrent_calls"]["source"],
            "app_config:Backend:MaxConcurrentCalls");
  EXPECT_EQ(config["session.end_of_turn_silence_ms"]["value"], 650);
  EXPECT_EQ(config["app_config.connection_string"]["value"], "<redacted>");
  for (const auto& r : fake_->requests()) EXPECT_EQ(r.status, 200) << r.target << r.auth_error;

  // Two sessions fit; a third is refused.
  WsClient a, b, c;
  ASSERT_TRUE(a.Connect(server.port(), "/v1/realtime"));
  ASSERT_TRUE(a.WaitFor("session.created"));
  ASSERT_TRUE(b.Connect(server.port(), "/v1/realtime"));
  ASSERT_TRUE(b.WaitFor("session.created"));
  EXPECT_FALSE(c.Connect(server.port(), "/v1/realtime")) << HttpGet(server.port(), "/readyz").body;
  EXPECT_EQ(c.http_status(), 503);

  // The limit goes up in App Configuration: the third session fits, without a restart.
  fake_->Set("Backend:MaxConcurrentCalls", "3", kLabel);
  fake_->Set("Backend:Sentinel", "2", kLabel);
  ASSERT_TRUE(WaitForValue(server, "backend.max_concurrent_calls", 3));
  WsClient c2;
  ASSERT_TRUE(c2.Connect(server.port(), "/v1/realtime"));
  ASSERT_TRUE(c2.WaitFor("session.created"));

  // It drops to 1: with three sessions live, the next one is refused with 503.
  fake_->Set("Backend:MaxConcurrentCalls", "1", kLabel);
  fake_->Set("Backend:Sentinel", "3", kLabel);
  ASSERT_TRUE(WaitForValue(server, "backend.max_concurrent_calls", 1));
  WsClient d;
  EXPECT_FALSE(d.Connect(server.port(), "/v1/realtime"));
  EXPECT_EQ(d.http_status(), 503);
  json ready = HttpGet(server.port(), "/readyz").Json();
  EXPECT_EQ(ready["checks"]["app_config"]["ok"], true) << ready.dump();

  // A setting that cannot change live is taken in, marked, and logged as needing a restart.
  fake_->Set("Model:TimeoutS", "45", kLabel);
  fake_->Set("Backend:Sentinel", "4", kLabel);
  ASSERT_TRUE(WaitForValue(server, "model.timeout_s", 45));
  EXPECT_EQ(Config(server)["model.timeout_s"]["restart_pending"], true);
  EXPECT_EQ(Config(server)["model.timeout_s"]["source"], "app_config:Model:TimeoutS");
  a.Close();
  b.Close();
  c2.Close();
  server.Stop();
  EXPECT_TRUE(Contains(server.StderrTail(), "needs restart")) << server.StderrTail();
}

TEST_F(AppConfigIntegrationTest, FeatureFlagFlipsWithoutARestart) {
  fake_->SetFeatureFlag("CallRecording", {{"id", "CallRecording"}, {"enabled", false}}, kLabel);
  fake_->Set("Backend:Sentinel", "1", kLabel);
  ServerProcess server(Env());
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  json config = Config(server);
  EXPECT_EQ(config["features.call_recording"]["value"], false);
  EXPECT_EQ(config["features.call_recording"]["source"],
            "app_config:.appconfig.featureflag/CallRecording");

  fake_->SetFeatureFlag("CallRecording", {{"id", "CallRecording"}, {"enabled", true}}, kLabel);
  fake_->Set("Backend:Sentinel", "2", kLabel);
  EXPECT_TRUE(WaitForValue(server, "features.call_recording", true));
  EXPECT_FALSE(Config(server)["features.call_recording"].contains("restart_pending"));
}

TEST_F(AppConfigIntegrationTest, WrongCredentialsStopTheStartWithTheFixNamed) {
  auto env = Env();
  env["ARTAGENT_APP_CONFIG__CONNECTION_STRING"] =
      "Endpoint=" + fake_->endpoint() + ";Id=fake-credential-id;Secret=d3Jvbmctc2VjcmV0";
  ServerProcess server(env);
  EXPECT_FALSE(server.ok());
  EXPECT_EQ(server.Stop(), 1);
  const std::string log = server.StderrTail();
  EXPECT_TRUE(Contains(log, "app_config.connection_string")) << log;
  EXPECT_TRUE(Contains(log, "app_config.optional")) << log;
  EXPECT_FALSE(Contains(log, "d3Jvbmctc2VjcmV0")) << log;  // the secret is never logged
  ASSERT_FALSE(fake_->requests().empty());
  EXPECT_EQ(fake_->requests()[0].status, 401);
}

TEST_F(AppConfigIntegrationTest, OptionalStoreStartsWithoutItAndTakesItInWhenItAnswers) {
  fake_->Set("Backend:MaxConcurrentCalls", "5", kLabel);
  fake_->FailNext(503, 4);  // the start-up load, retries included
  auto env = Env();
  env["ARTAGENT_APP_CONFIG__OPTIONAL"] = "true";
  ServerProcess server(env);
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  // Either still failing (shown in /readyz, the server ready) or already recovered.
  json ready = HttpGet(server.port(), "/readyz").Json();
  EXPECT_EQ(ready["ready"], true) << ready.dump();
  ASSERT_TRUE(ready["checks"].contains("app_config")) << ready.dump();
  EXPECT_TRUE(WaitForValue(server, "backend.max_concurrent_calls", 5));
  ready = HttpGet(server.port(), "/readyz").Json();
  EXPECT_EQ(ready["checks"]["app_config"]["ok"], true) << ready.dump();
  const std::string metrics = HttpGet(server.port(), "/metrics").body;
  EXPECT_TRUE(Contains(metrics, "artagent_app_config_refreshes_total{outcome=\"reloaded\"}"))
      << metrics;
}

}  // namespace
}  // namespace artagent::testing
