#include "platform/app_config.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/serial_thread_executor.h"
#include "net/acs_auth.h"
#include "platform/testing/fake_app_config.h"

namespace artagent::platform {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeAppConfig;
using testing::FakeAppConfigOptions;

// ---- protocols.md §6.2 vector ----

TEST(AppConfigAuthTest, SignsTheProtocolsVector) {
  const std::string path = AppConfigListPath("VoiceAgent:*", "prod", "1.0");
  EXPECT_EQ(path, "/kv?key=VoiceAgent%3A%2A&label=prod&api-version=1.0");
  auto headers = SignAppConfigRequest(
      "GET", path, "contoso.azconfig.io", "Tue, 02 Jan 2024 03:04:05 GMT", "",
      "AbCd-l0-s0:TestCredentialId", "YXBwY29uZmlnLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=");
  ASSERT_TRUE(headers.ok()) << headers.status().message();
  EXPECT_EQ(net::FindHeader(*headers, "x-ms-date"), "Tue, 02 Jan 2024 03:04:05 GMT");
  EXPECT_EQ(net::FindHeader(*headers, "x-ms-content-sha256"),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(net::FindHeader(*headers, "authorization"),
            "HMAC-SHA256 Credential=AbCd-l0-s0:TestCredentialId&SignedHeaders=x-ms-date;host;"
            "x-ms-content-sha256&Signature=mhchfeFYZJvlOLeypQ3R9kAOa5XSUf/lK+le3vY6W8Q=");
  EXPECT_FALSE(SignAppConfigRequest("GET", path, "h", "d", "", "id", "not base64!").ok());
}

TEST(AppConfigAuthTest, VerifierAcceptsTheSignedRequestAndRejectsTampering) {
  const std::string secret = "YXBwY29uZmlnLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=";
  const auto now = std::chrono::system_clock::now();
  const std::string date = net::HttpDate(now);
  const std::string path = "/kv?key=%2A&label=prod&api-version=1.0";
  auto h = SignAppConfigRequest("GET", path, "store.azconfig.io", date, "", "cred", secret);
  ASSERT_TRUE(h.ok());
  const std::string auth = net::FindHeader(*h, "authorization");
  const std::string hash = net::FindHeader(*h, "x-ms-content-sha256");
  AppConfigRequestView good{"GET", path, "store.azconfig.io", "", date, hash, auth};
  EXPECT_TRUE(VerifyAppConfigRequest(good, "cred", secret, now).ok());

  AppConfigRequestView other_path = good;
  other_path.path_and_query = "/kv?key=%2A&label=dev&api-version=1.0";
  EXPECT_EQ(VerifyAppConfigRequest(other_path, "cred", secret, now).code(),
            core::StatusCode::kUnauthenticated);
  EXPECT_FALSE(VerifyAppConfigRequest(good, "other-cred", secret, now).ok());
  EXPECT_FALSE(VerifyAppConfigRequest(good, "cred", "b3RoZXItc2VjcmV0", now).ok());
  EXPECT_FALSE(VerifyAppConfigRequest(good, "cred", secret, now + std::chrono::hours(1)).ok());
  AppConfigRequestView no_auth = good;
  no_auth.authorization = "";
  EXPECT_FALSE(VerifyAppConfigRequest(no_auth, "cred", secret, now).ok());
}

TEST(AppConfigWireTest, ConnectionString) {
  auto cs = ParseAppConfigConnectionString(
      "Endpoint=https://contoso.azconfig.io/;Id=AbCd-l0-s0:Id;Secret=YWJj");
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->endpoint, "https://contoso.azconfig.io");
  EXPECT_EQ(cs->id, "AbCd-l0-s0:Id");
  EXPECT_EQ(cs->secret, "YWJj");
  EXPECT_FALSE(ParseAppConfigConnectionString("Id=x;Secret=YWJj").ok());
  EXPECT_FALSE(ParseAppConfigConnectionString("Endpoint=https://a;Secret=YWJj").ok());
  auto bad = ParseAppConfigConnectionString("Endpoint=https://a;Id=x;Secret=%%%%topsecret");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("topsecret"), std::string::npos);  // never echoed
}

TEST(AppConfigWireTest, PagesFollowNextLinkOrTheLinkHeader) {
  auto page = ParseAppConfigPage(
      R"({"items":[{"etag":"e1","key":"VoiceAgent:Greeting","label":"prod","content_type":null,
          "value":"Hello!","locked":"false","tags":{}},{"key":"A","label":null,"value":"1"}],
          "@nextLink":"/kv?after=abc&api-version=1.0"})",
      {});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].key, "VoiceAgent:Greeting");
  EXPECT_EQ(page->items[0].label, "prod");
  EXPECT_TRUE(page->items[0].has_label);
  EXPECT_FALSE(page->items[1].has_label);
  EXPECT_EQ(page->next_link, "/kv?after=abc&api-version=1.0");
  auto linked = ParseAppConfigPage(R"({"items":[]})",
                                   {{"Link", "</kv?after=xyz&api-version=1.0>; rel=\"next\""}});
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(linked->next_link, "/kv?after=xyz&api-version=1.0");
  EXPECT_FALSE(ParseAppConfigPage(R"({"value":1})", {}).ok());
}

TEST(AppConfigWireTest, KeyVaultReferences) {
  EXPECT_EQ(*KeyVaultReferenceToSecret(R"({"uri":"https://v.vault.azure.net/secrets/model-key"})"),
            "secret://model-key");
  EXPECT_EQ(*KeyVaultReferenceToSecret(R"({"uri":"https://v.vault.azure.net/secrets/k/0123abcd"})"),
            "secret://k");
  EXPECT_FALSE(KeyVaultReferenceToSecret(R"({"uri":"https://v.vault.azure.net/keys/k"})").ok());
  EXPECT_FALSE(KeyVaultReferenceToSecret("secret").ok());
}

TEST(AppConfigWireTest, OptionsFromConfig) {
  Config config;
  config.environment = "production";
  EXPECT_FALSE(AppConfigConfigured(config));
  config.app_config.connection_string =
      "Endpoint=https://contoso.azconfig.io;Id=cred;Secret=YWJjZA==";
  auto o = AppConfigOptionsFromConfig(config);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->endpoint, "https://contoso.azconfig.io");
  EXPECT_EQ(o->credential_id, "cred");
  EXPECT_EQ(o->label, "production");  // the environment by default
  EXPECT_EQ(o->refresh, seconds(30));
  config.app_config.label = "\\0";
  EXPECT_EQ(AppConfigOptionsFromConfig(config)->label, "");
  config.app_config.connection_string = "secret://APP-CONFIG";
  EXPECT_FALSE(AppConfigOptionsFromConfig(config).ok());
  config.app_config.connection_string = "";
  config.app_config.endpoint = "http://contoso.azconfig.io";
  auto insecure = AppConfigOptionsFromConfig(config);
  ASSERT_FALSE(insecure.ok());
  EXPECT_NE(insecure.status().message().find("app_config.endpoint"), std::string::npos);
  config.app_config.endpoint = "https://contoso.azconfig.io/";
  auto bearer = AppConfigOptionsFromConfig(config);
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(bearer->endpoint, "https://contoso.azconfig.io");
  EXPECT_TRUE(bearer->credential_id.empty());
}

// ---- The provider against the fake store ----

class AppConfigProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakeAppConfig::Start(fake_options_);
    ASSERT_TRUE(fake.ok()) << fake.status().message();
    fake_ = std::move(fake).value();
    executor_ = core::SerialThreadExecutor::Create("appconfig-test");
    http_ = net::HttpClient::Create();
    deps_.http = http_.get();
    deps_.executor = executor_;
    deps_.backoff = {milliseconds(1), milliseconds(5), 2.0, 0.0};
    deps_.max_retries = 2;
    deps_.seed = 7;
  }
  void TearDown() override {
    provider_.reset();
    resolver_.reset();
    fake_.reset();
  }

  AppConfigOptions Options(std::string label = "prod") {
    AppConfigOptions o;
    o.endpoint = fake_->endpoint();
    o.credential_id = fake_options_.credential_id;
    o.secret = fake_options_.secret;
    o.label = std::move(label);
    o.instance_id = "test-instance";
    o.request_timeout = seconds(5);
    o.failure_backoff = {milliseconds(1), milliseconds(20), 2.0, 0.0};
    return o;
  }

  std::shared_ptr<AppConfigProvider> Make(AppConfigOptions o) {
    AppConfigDeps d;
    d.http = deps_;
    d.secrets = resolver_.get();
    auto p = AppConfigProvider::Create(std::move(o), std::move(d));
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : nullptr;
  }

  ::testing::AssertionResult LoadOk() {
    core::Status st = provider_->LoadBlocking(seconds(30));
    if (st.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << st.message();
  }

  core::Status Check(AppConfigProvider& p) {
    std::promise<core::Status> done;
    p.CheckNow([&done](core::Status st) { done.set_value(std::move(st)); });
    auto f = done.get_future();
    if (f.wait_for(seconds(30)) != std::future_status::ready) {
      return core::DeadlineExceededError("no answer");
    }
    return f.get();
  }

  // The configuration the loader builds over the provider's snapshot.
  Config Load(AppConfigProvider& p, nlohmann::json* effective = nullptr,
              std::vector<std::string>* warnings = nullptr) {
    ConfigLoader loader;
    loader.AddSource(p.Source());
    auto config = loader.Load("", {});
    EXPECT_TRUE(config.ok()) << config.status().message();
    if (effective) *effective = loader.Effective();
    if (warnings) *warnings = loader.warnings();
    return config.ok() ? *config : Config{};
  }

  FakeAppConfigOptions fake_options_;
  std::unique_ptr<FakeAppConfig> fake_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  std::unique_ptr<net::HttpClient> http_;
  CredentialDeps deps_;
  std::unique_ptr<SecretResolver> resolver_;
  std::shared_ptr<AppConfigProvider> provider_;
};

TEST_F(AppConfigProviderTest, LoadsKeysOfItsLabelOntoTheKeyTableWithProvenance) {
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  fake_->Set("Backend:MaxConcurrentCalls", "99", "dev");
  fake_->Set("Backend:MaxConcurrentCalls", "55");  // no label
  fake_->Set("Session:EndOfTurnSilenceMs", "700", "prod");
  fake_->Set("Backend:Sentinel", "1", "prod");
  provider_ = Make(Options("prod"));
  ASSERT_TRUE(LoadOk());

  nlohmann::json effective;
  std::vector<std::string> warnings;
  Config config = Load(*provider_, &effective, &warnings);
  EXPECT_EQ(config.backend.max_concurrent_calls, 7);
  EXPECT_EQ(config.session.end_of_turn_silence_ms, 700);
  EXPECT_EQ(effective["backend.max_concurrent_calls"]["source"],
            "app_config:Backend:MaxConcurrentCalls");
  EXPECT_TRUE(warnings.empty()) << warnings[0];  // the sentinel is not a setting
  EXPECT_TRUE(provider_->health().loaded);
  // Every request was signed and accepted; the list asked for the label.
  for (const auto& r : fake_->requests()) EXPECT_EQ(r.status, 200) << r.target << r.auth_error;
  bool listed = false;
  for (const auto& r : fake_->requests()) {
    listed = listed || r.target == "/kv?key=%2A&label=prod&api-version=1.0";
  }
  EXPECT_TRUE(listed);
}

TEST_F(AppConfigProviderTest, NullLabelReadsUnlabelledKeys) {
  fake_->Set("Backend:MaxConcurrentCalls", "55");
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  provider_ = Make(Options(""));
  ASSERT_TRUE(LoadOk());
  EXPECT_EQ(Load(*provider_).backend.max_concurrent_calls, 55);
}

TEST_F(AppConfigProviderTest, FollowsEveryPage) {
  fake_.reset();
  fake_options_.page_size = 2;
  fake_ = std::move(FakeAppConfig::Start(fake_options_)).value();
  fake_->Set("Backend:MaxConcurrentCalls", "9", "prod");
  fake_->Set("Session:EndOfTurnSilenceMs", "800", "prod");
  fake_->Set("Session:BargeInMinSpeechMs", "250", "prod");
  fake_->Set("Session:MaxTurnMs", "20000", "prod");
  fake_->Set("Model:Name", "gpt-test", "prod");
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  EXPECT_EQ(provider_->Snapshot().size(), 5u);
  Config config = Load(*provider_);
  EXPECT_EQ(config.backend.max_concurrent_calls, 9);
  EXPECT_EQ(config.session.max_turn_ms, 20000);
  EXPECT_EQ(config.model.name, "gpt-test");
  int lists = 0;
  for (const auto& r : fake_->requests()) lists += r.target.starts_with("/kv?") ? 1 : 0;
  EXPECT_EQ(lists, 3);  // 2 + 2 + 1
}

TEST_F(AppConfigProviderTest, FeatureFlagsBecomeFeatureKeys) {
  fake_->SetFeatureFlag("CallRecording", {{"id", "CallRecording"}, {"enabled", true}}, "prod");
  fake_->SetFeatureFlag(
      "Regional",
      {{"id", "Regional"},
       {"enabled", true},
       {"conditions",
        {{"client_filters", {{{"name", "Contoso.Region"}, {"parameters", {{"Region", "EU"}}}}}}}}},
      "prod");
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  auto snapshot = provider_->Snapshot();
  EXPECT_EQ(snapshot[".appconfig.featureflag/CallRecording"], "true");
  EXPECT_EQ(snapshot[".appconfig.featureflag/Regional"], "false");  // unknown filter: off
  nlohmann::json effective;
  std::vector<std::string> warnings;
  Config config = Load(*provider_, &effective, &warnings);
  EXPECT_TRUE(config.features.call_recording);
  EXPECT_EQ(effective["features.call_recording"]["source"],
            "app_config:.appconfig.featureflag/CallRecording");
  // features.regional is not a key: reported, not fatal.
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(".appconfig.featureflag/Regional"), std::string::npos);
}

TEST_F(AppConfigProviderTest, PlainFeatureFlagsKeysAndUnknownKeysWithTheClosestOne) {
  fake_->Set("FeatureFlags:CallRecording", "true", "prod");
  fake_->Set("Backend:MaxConcurentCalls", "3", "prod");
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  std::vector<std::string> warnings;
  Config config = Load(*provider_, nullptr, &warnings);
  EXPECT_TRUE(config.features.call_recording);
  EXPECT_EQ(config.backend.max_concurrent_calls, 200);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Backend:MaxConcurrentCalls"), std::string::npos) << warnings[0];
}

TEST_F(AppConfigProviderTest, KeyVaultReferencesResolveThroughTheSecretResolver) {
  SecretsOptions so;
  so.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "model-key" || name == "MODEL_KEY") return "sk-resolved";
    return std::nullopt;
  };
  resolver_ = std::move(SecretResolver::Create(so, nullptr, deps_)).value();
  fake_->SetKeyVaultReference("Model:ApiKey", "model-key", "prod");
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  nlohmann::json effective;
  Config config = Load(*provider_, &effective);
  EXPECT_EQ(config.model.api_key, "sk-resolved");
  EXPECT_EQ(effective["model.api_key"]["value"], "<redacted>");
  EXPECT_EQ(effective["model.api_key"]["source"], "app_config:Model:ApiKey");

  // A reference to a secret that is nowhere fails the load and names the key.
  fake_->SetKeyVaultReference("Model:ApiKey", "missing-key", "prod");
  fake_->Set("Backend:Sentinel", "2", "prod");
  core::Status st = Check(*provider_);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Model:ApiKey"), std::string::npos) << st.message();
  EXPECT_EQ(Load(*provider_).model.api_key, "sk-resolved");  // the last good snapshot stays
}

TEST_F(AppConfigProviderTest, WrongCredentialsAreUnauthenticated) {
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  AppConfigOptions o = Options();
  o.secret = "d3Jvbmctc2VjcmV0";  // "wrong-secret"
  provider_ = Make(o);
  core::Status st = provider_->LoadBlocking(seconds(30));
  EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated) << st.message();
  EXPECT_NE(st.message().find("signature"), std::string::npos) << st.message();
  ASSERT_FALSE(fake_->requests().empty());
  EXPECT_EQ(fake_->requests()[0].status, 401);
  EXPECT_EQ(fake_->request_count(), 1u);  // a 401 is not retried
  EXPECT_FALSE(provider_->health().loaded);
  EXPECT_TRUE(provider_->Snapshot().empty());
}

TEST_F(AppConfigProviderTest, ThrottlingIsRetriedAfterTheHint) {
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  fake_->FailNext(429, 1, 5);
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  EXPECT_EQ(fake_->requests()[0].status, 429);
  EXPECT_EQ(Load(*provider_).backend.max_concurrent_calls, 7);
}

TEST_F(AppConfigProviderTest, ServerErrorsAndTimeoutsFailTheStartUpLoad) {
  fake_->FailNext(503, 3);  // the first attempt and both retries
  provider_ = Make(Options());
  core::Status st = provider_->LoadBlocking(seconds(30));
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.message();
  EXPECT_NE(st.message().find("503"), std::string::npos) << st.message();

  deps_.max_retries = 0;
  AppConfigOptions o = Options();
  o.request_timeout = milliseconds(300);
  fake_->StallNext(seconds(20));
  auto slow = Make(o);
  st = slow->LoadBlocking(seconds(30));
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.message();
  slow.reset();
}

TEST_F(AppConfigProviderTest, ReloadsOnlyWhenTheSentinelChanges) {
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  fake_->Set("Backend:Sentinel", "1", "prod");
  provider_ = Make(Options());
  ASSERT_TRUE(LoadOk());
  const size_t after_load = fake_->request_count();

  fake_->Set("Backend:MaxConcurrentCalls", "3", "prod");
  ASSERT_TRUE(Check(*provider_).ok());
  EXPECT_EQ(fake_->request_count(), after_load + 1);  // the sentinel only
  EXPECT_EQ(Load(*provider_).backend.max_concurrent_calls, 7);

  fake_->Set("Backend:Sentinel", "2", "prod");
  ASSERT_TRUE(Check(*provider_).ok());
  EXPECT_EQ(Load(*provider_).backend.max_concurrent_calls, 3);
  EXPECT_EQ(provider_->health().reloads, 2);
}

TEST_F(AppConfigProviderTest, RefreshKeepsTheLastGoodSnapshotThroughFailuresAndRecovers) {
  fake_->Set("Backend:MaxConcurrentCalls", "7", "prod");
  fake_->Set("Backend:Sentinel", "1", "prod");
  deps_.max_retries = 0;
  AppConfigOptions o = Options();
  o.refresh = milliseconds(10);
  provider_ = Make(o);
  ASSERT_TRUE(LoadOk());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> outcomes;
  int changes = 0;
  fake_->FailNext(500, 3);
  fake_->Set("Backend:MaxConcurrentCalls", "4", "prod");
  fake_->Set("Backend:Sentinel", "2", "prod");
  provider_->Start(
      [&] {
        std::lock_guard lock(mu);
        ++changes;
        cv.notify_all();
      },
      [&](std::string_view outcome) {
        std::lock_guard lock(mu);
        outcomes.emplace_back(outcome);
        if (outcome == "failed") {
          // While failing, the old values stay.
          EXPECT_EQ(provider_->Snapshot()["Backend:MaxConcurrentCalls"], "7");
        }
        cv.notify_all();
      });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(30), [&] { return changes >= 1; }));
    ASSERT_GE(outcomes.size(), 4u);
    EXPECT_EQ(outcomes[0], "failed");
    EXPECT_EQ(outcomes[1], "failed");
    EXPECT_EQ(outcomes[2], "failed");
    EXPECT_EQ(outcomes[3], "reloaded");
  }
  provider_->Stop();
  EXPECT_EQ(provider_->Snapshot()["Backend:MaxConcurrentCalls"], "4");
  AppConfigHealth health = provider_->health();
  EXPECT_TRUE(health.ok);
  EXPECT_EQ(health.consecutive_failures, 0);
}

TEST_F(AppConfigProviderTest, BearerTokenWhenThereIsNoConnectionString) {
  fake_.reset();
  fake_options_.bearer_token = "token-for-the-store";
  fake_ = std::move(FakeAppConfig::Start(fake_options_)).value();
  fake_->Set("Backend:MaxConcurrentCalls", "11", "prod");

  class StaticCredential final : public TokenCredential {
   public:
    explicit StaticCredential(std::shared_ptr<core::Executor> e) : executor_(std::move(e)) {}
    std::string name() const override { return "StaticCredential"; }
    void GetToken(const std::string& scope, TokenCallback done) override {
      scope_ = scope;
      executor_->Post([done = std::move(done)] {
        AccessToken t;
        t.token = "token-for-the-store";
        t.expires_on = WallClock::now() + std::chrono::hours(1);
        done(t);
      });
    }
    std::string scope_;

   private:
    std::shared_ptr<core::Executor> executor_;
  };
  auto credential = std::make_shared<StaticCredential>(executor_);
  AppConfigOptions o = Options();
  o.credential_id.clear();
  o.secret.clear();
  AppConfigDeps d;
  d.http = deps_;
  d.credential = credential;
  provider_ = *AppConfigProvider::Create(o, d);
  ASSERT_TRUE(LoadOk());
  EXPECT_EQ(credential->scope_, fake_->endpoint() + "/.default");
  EXPECT_EQ(Load(*provider_).backend.max_concurrent_calls, 11);
}

}  // namespace
}  // namespace artagent::platform
