#include "platform/secrets.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"
#include "platform/config.h"

namespace artagent::platform {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::SerialThreadExecutor;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kValue[] = "hunter2-the-value";

ScriptedResponse Json(int status, std::string body) {
  ScriptedResponse r(status);
  r.Header("Content-Type", "application/json").Write(std::move(body));
  return r;
}

std::string SecretBody(const std::string& value) {
  return R"({"value":")" + value +
         R"(","id":"https://v.vault.azure.net/secrets/x/4387e9f3","attributes":{"enabled":true}})";
}

// Hands out "token-for-SCOPE" and records the scopes asked for.
class FakeCredential final : public TokenCredential {
 public:
  explicit FakeCredential(std::shared_ptr<core::Executor> executor)
      : executor_(std::move(executor)) {}
  std::string name() const override { return "FakeCredential"; }
  void GetToken(const std::string& scope, TokenCallback done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      scopes_.push_back(scope);
    }
    executor_->Post([scope, done = std::move(done)] {
      AccessToken token;
      token.token = "token-for-" + scope;
      token.expires_on = WallClock::now() + std::chrono::hours(1);
      token.refresh_on = token.expires_on;
      done(token);
    });
  }
  std::vector<std::string> scopes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return scopes_;
  }

 private:
  std::shared_ptr<core::Executor> executor_;
  mutable std::mutex mu_;
  std::vector<std::string> scopes_;
};

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ScriptedServer::Start().value();
    http_ = net::HttpClient::Create();
    executor_ = SerialThreadExecutor::Create();
    credential_ = std::make_shared<FakeCredential>(executor_);
    dir_ = std::filesystem::temp_directory_path() /
           ("artagent-secrets-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
  }

  std::unique_ptr<SecretResolver> Resolver(bool vault = true) {
    SecretsOptions o;
    o.dir = dir_.string();
    if (vault) o.key_vault_url = server_->base_url() + "/";
    o.refresh = seconds(300);
    o.blocking_timeout = milliseconds(10000);
    auto env = env_;
    o.getenv = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env->find(name);
      if (it == env->end()) return std::nullopt;
      return it->second;
    };
    CredentialDeps deps;
    deps.http = http_.get();
    deps.executor = executor_;
    auto clock = clock_;
    deps.now = [clock] { return WallClock::time_point(seconds(clock->load())); };
    deps.backoff = {milliseconds(1), milliseconds(5), 2.0, 0.0};
    deps.max_retries = 3;
    deps.seed = 3;
    return SecretResolver::Create(std::move(o), credential_, deps).value();
  }

  std::shared_ptr<std::map<std::string, std::string>> env_ =
      std::make_shared<std::map<std::string, std::string>>();
  std::shared_ptr<std::atomic<int64_t>> clock_ = std::make_shared<std::atomic<int64_t>>(1700000000);
  std::filesystem::path dir_;
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<SerialThreadExecutor> executor_;
  std::shared_ptr<FakeCredential> credential_;
};

TEST_F(SecretsTest, EnvironmentVariableComesFirstThenItsUpperCaseAlias) {
  (*env_)["ACS_CONNECTION_STRING"] = "from-alias";
  WriteFile("ACS-CONNECTION-STRING", "from-file");
  auto resolver = Resolver();
  EXPECT_EQ(resolver->Resolve("secret://ACS-CONNECTION-STRING").value(), "from-alias");
  EXPECT_EQ(resolver->Resolve("secret://acs-connection-string").value(), "from-alias");
  (*env_)["ACS-CONNECTION-STRING"] = "from-exact-name";
  EXPECT_EQ(resolver->Resolve("secret://ACS-CONNECTION-STRING").value(), "from-exact-name");
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(SecretsTest, SecretsDirectoryFileIsUsedTrimmedWhenTheEnvironmentHasNone) {
  WriteFile("model-key", "  sk-from-file\n");
  (*env_)["MODEL_KEY"] = "";  // empty counts as unset
  auto resolver = Resolver();
  EXPECT_EQ(resolver->Resolve("secret://model-key").value(), "sk-from-file");
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(SecretsTest, KeyVaultGetSecretSendsBearerTokenAndApiVersionAndCaches) {
  server_->Enqueue(Json(200, SecretBody(kValue)));
  auto resolver = Resolver();
  auto value = resolver->Resolve("secret://DB_PASSWORD");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, kValue);
  auto request = server_->requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/secrets/DB-PASSWORD?api-version=7.4");
  EXPECT_EQ(request.Header("Authorization"), "Bearer token-for-https://vault.azure.net/.default");
  EXPECT_EQ(credential_->scopes(), std::vector<std::string>{"https://vault.azure.net/.default"});

  // Cached within secrets.refresh_s ...
  clock_->fetch_add(299);
  EXPECT_EQ(resolver->Resolve("secret://DB_PASSWORD").value(), kValue);
  EXPECT_EQ(server_->request_count(), 1u);
  // ... fetched again after it.
  server_->Enqueue(Json(200, SecretBody("rotated")));
  clock_->fetch_add(2);
  EXPECT_EQ(resolver->Resolve("secret://DB_PASSWORD").value(), "rotated");
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(SecretsTest, MissingEverywhereIsNotFoundNamingEveryPlace) {
  server_->Enqueue(Json(404, R"({"error":{"code":"SecretNotFound",
      "message":"A secret with (name/id) api-key was not found in this key vault."}})"));
  auto resolver = Resolver();
  auto value = resolver->Resolve("secret://api-key");
  ASSERT_EQ(value.status().code(), core::StatusCode::kNotFound);
  const std::string& message = value.status().message();
  EXPECT_NE(message.find("environment variable api-key"), std::string::npos) << message;
  EXPECT_NE(message.find("environment variable API_KEY"), std::string::npos) << message;
  EXPECT_NE(message.find((dir_ / "api-key").string()), std::string::npos) << message;
  EXPECT_NE(message.find(server_->base_url()), std::string::npos) << message;
  EXPECT_NE(message.find("SecretNotFound"), std::string::npos) << message;
}

TEST_F(SecretsTest, WithoutKeyVaultTheMessageSaysHowToConfigureIt) {
  auto resolver = Resolver(/*vault=*/false);
  auto value = resolver->Resolve("secret://api-key");
  ASSERT_EQ(value.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(value.status().message().find("secrets.key_vault_url not set"), std::string::npos);
}

TEST_F(SecretsTest, ThrottledKeyVaultIsRetriedAfterRetryAfter) {
  server_->Enqueue(Json(429, R"({"error":{"code":"Throttled","message":"slow down"}})")
                       .Header("Retry-After", "0"));
  server_->Enqueue(Json(200, SecretBody(kValue)));
  auto resolver = Resolver();
  auto value = resolver->Resolve("secret://api-key");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, kValue);
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(SecretsTest, ForbiddenSaysWhichRoleIsMissing) {
  server_->Enqueue(Json(403, R"({"error":{"code":"Forbidden","message":"no get permission"}})"));
  auto resolver = Resolver();
  auto value = resolver->Resolve("secret://api-key");
  ASSERT_EQ(value.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_NE(value.status().message().find("Key Vault Secrets User"), std::string::npos);
  EXPECT_NE(value.status().message().find("FakeCredential"), std::string::npos);
}

TEST_F(SecretsTest, ChallengeSwitchesToTheScopeItNames) {
  server_->Enqueue(Json(401, R"({"error":{"code":"Unauthorized"}})")
                       .Header("WWW-Authenticate",
                               "Bearer authorization=\"https://login.microsoftonline.com/"
                               "tenant-9\", resource=\"https://127.0.0.1\""));
  server_->Enqueue(Json(200, SecretBody(kValue)));
  auto resolver = Resolver();
  EXPECT_EQ(resolver->Resolve("secret://api-key").value(), kValue);
  EXPECT_EQ(credential_->scopes(), (std::vector<std::string>{"https://vault.azure.net/.default",
                                                             "https://127.0.0.1/.default"}));
  EXPECT_EQ(server_->requests().at(1).Header("Authorization"),
            "Bearer token-for-https://127.0.0.1/.default");
}

TEST_F(SecretsTest, ChallengeForAForeignHostIsRefused) {
  server_->Enqueue(Json(401, "{}").Header("WWW-Authenticate",
                                          "Bearer authorization_uri=\"https://login.example/t\", "
                                          "scope=\"https://evil.example/.default\""));
  auto resolver = Resolver();
  auto value = resolver->Resolve("secret://api-key");
  ASSERT_EQ(value.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(credential_->scopes().size(), 1u);
}

TEST_F(SecretsTest, AFailedRefreshKeepsTheCachedValue) {
  server_->Enqueue(Json(200, SecretBody(kValue)));
  auto resolver = Resolver();
  ASSERT_TRUE(resolver->Resolve("secret://api-key").ok());
  for (int i = 0; i < 4; ++i) server_->Enqueue(Json(503, "{}"));
  clock_->fetch_add(301);
  EXPECT_EQ(resolver->Resolve("secret://api-key").value(), kValue);
  EXPECT_EQ(server_->request_count(), 5u);
}

TEST_F(SecretsTest, TheValueNeverAppearsInAStatus) {
  auto resolver = Resolver();
  std::vector<core::Status> statuses;
  // A value that is not a reference is not echoed.
  statuses.push_back(resolver->Resolve(kValue).status());
  // A malformed Key Vault answer is not echoed.
  server_->Enqueue(Json(200, std::string(R"({"value":")") + kValue));
  statuses.push_back(resolver->Resolve("secret://truncated").status());
  server_->Enqueue(Json(200, std::string(R"({"value":{"nested":")") + kValue + "\"}}"));
  statuses.push_back(resolver->Resolve("secret://nested").status());
  // A path that tries to leave the secrets directory is refused.
  statuses.push_back(resolver->Resolve("secret://../etc/passwd").status());
  ASSERT_EQ(statuses.size(), 4u);
  EXPECT_EQ(statuses[0].code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(statuses[1].code(), core::StatusCode::kInternal);
  EXPECT_EQ(statuses[2].code(), core::StatusCode::kInternal);
  EXPECT_EQ(statuses[3].code(), core::StatusCode::kInvalidArgument);
  for (const auto& st : statuses) {
    EXPECT_EQ(st.ToString().find(kValue), std::string::npos) << st.ToString();
  }
}

TEST_F(SecretsTest, PlainValuesPassThroughResolveValue) {
  auto resolver = Resolver();
  EXPECT_EQ(resolver->ResolveValue("sk-plain").value(), "sk-plain");
  (*env_)["K"] = "v";
  EXPECT_EQ(resolver->ResolveValue("secret://K").value(), "v");
}

TEST_F(SecretsTest, KeyVaultUrlMustBeAUrl) {
  SecretsOptions o;
  o.key_vault_url = "myvault";
  CredentialDeps deps;
  deps.http = http_.get();
  deps.executor = executor_;
  EXPECT_EQ(SecretResolver::Create(o, credential_, deps).status().code(),
            core::StatusCode::kInvalidArgument);
  o.key_vault_url = "https://myvault.vault.azure.net";
  EXPECT_EQ(SecretResolver::Create(o, nullptr, deps).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST(SecretsConfigTest, KeysHaveDefaultsAndEnvironmentSpellings) {
  ConfigLoader defaults;
  auto config = defaults.Load("", {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->secrets.dir, "");
  EXPECT_EQ(config->secrets.key_vault_url, "");
  EXPECT_EQ(config->secrets.refresh_s, 300);
  EXPECT_EQ(config->identity.client_id, "");

  ConfigLoader loader;
  auto set = loader.Load("", {{"ARTAGENT_SECRETS__DIR", "/run/secrets"},
                              {"ARTAGENT_SECRETS__KEY_VAULT_URL", "https://kv.vault.azure.net"},
                              {"ARTAGENT_SECRETS__REFRESH_S", "60"},
                              {"ARTAGENT_IDENTITY__CLIENT_ID", "abc"}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->secrets.dir, "/run/secrets");
  EXPECT_EQ(set->secrets.key_vault_url, "https://kv.vault.azure.net");
  EXPECT_EQ(set->secrets.refresh_s, 60);
  EXPECT_EQ(set->identity.client_id, "abc");
  EXPECT_EQ(loader.Effective()["secrets.key_vault_url"]["value"], "https://kv.vault.azure.net");

  ConfigLoader bad;
  EXPECT_EQ(bad.Load("", {{"ARTAGENT_SECRETS__REFRESH_S", "0"}}).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST(KeyVaultChallengeTest, ParsesBothSpellings) {
  auto a = ParseKeyVaultChallenge(
      "Bearer authorization=\"https://login.microsoftonline.com/72f988bf\", "
      "resource=\"https://vault.azure.net\"");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->scope, "https://vault.azure.net/.default");
  EXPECT_EQ(a->tenant_id, "72f988bf");
  auto b = ParseKeyVaultChallenge(
      "Bearer authorization_uri=\"https://login.windows.net/tid/\", "
      "scope=\"https://myvault.vault.azure.net/.default\"");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->scope, "https://myvault.vault.azure.net/.default");
  EXPECT_EQ(b->tenant_id, "tid");
  EXPECT_FALSE(ParseKeyVaultChallenge("Basic realm=\"x\"").has_value());
  EXPECT_FALSE(ParseKeyVaultChallenge("Bearer authorization=\"https://l/t\"").has_value());
}

}  // namespace
}  // namespace artagent::platform
