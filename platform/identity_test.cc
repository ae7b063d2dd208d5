#include "platform/identity.h"

#include <atomic>
#include <future>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::platform {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::SerialThreadExecutor;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kWait{10000};  // bound on waiting for a callback; never reached
constexpr char kVaultScope[] = "https://vault.azure.net/.default";
constexpr int64_t kStart = 1700000000;  // the fake wall clock's start, epoch seconds

ScriptedResponse Json(int status, std::string body) {
  ScriptedResponse r(status);
  r.Header("Content-Type", "application/json").Write(std::move(body));
  return r;
}

// "a=1&b=2" -> {a: 1, b: 2} (values left encoded).
std::map<std::string, std::string> FormFields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    out[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ScriptedServer::Start().value();
    http_ = net::HttpClient::Create();
    executor_ = SerialThreadExecutor::Create();
  }

  CredentialDeps Deps() {
    CredentialDeps deps;
    deps.http = http_.get();
    deps.executor = executor_;
    auto clock = clock_;
    deps.now = [clock] { return WallClock::time_point(seconds(clock->load())); };
    deps.backoff = {milliseconds(1), milliseconds(5), 2.0, 0.0};
    deps.max_retries = 3;
    deps.seed = 7;
    return deps;
  }

  ManagedIdentityOptions Imds() {
    ManagedIdentityOptions o;
    o.imds_endpoint = server_->base_url() + "/metadata/identity/oauth2/token";
    return o;
  }

  void Advance(seconds s) { clock_->fetch_add(s.count()); }

  std::shared_ptr<std::atomic<int64_t>> clock_ = std::make_shared<std::atomic<int64_t>>(kStart);
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<SerialThreadExecutor> executor_;
};

TEST_F(IdentityTest, ImdsTokenIsFetchedCachedAndRefreshedBeforeExpiry) {
  server_->Enqueue(Json(200, R"({"access_token":"tok-1","client_id":"c","expires_in":"3600",
      "expires_on":"1700003600","resource":"https://vault.azure.net","token_type":"Bearer"})"));
  auto credential = CreateManagedIdentityCredential(Imds(), Deps()).value();
  EXPECT_EQ(credential->name(), "ManagedIdentityCredential (IMDS)");

  auto first = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->token, "tok-1");
  EXPECT_EQ(first->expires_on, WallClock::time_point(seconds(kStart + 3600)));
  auto request = server_->requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target,
            "/metadata/identity/oauth2/token?api-version=2018-02-01"
            "&resource=https%3A%2F%2Fvault.azure.net");
  EXPECT_EQ(request.Header("Metadata"), "true");

  // Well before the refresh time: the cached token, no request.
  Advance(seconds(600));
  EXPECT_EQ(credential->GetTokenBlocking(kVaultScope, kWait)->token, "tok-1");

  // Inside the last 5 minutes: still the cached token, and a refresh goes out in the background.
  server_->Enqueue(Json(200, R"({"access_token":"tok-2","expires_in":3600})"));
  Advance(seconds(3360 - 600));
  EXPECT_EQ(credential->GetTokenBlocking(kVaultScope, kWait)->token, "tok-1");
  ASSERT_TRUE(server_->WaitForRequests(2, kWait));

  // About to expire: the old token is no longer handed out, the refreshed one is.
  Advance(seconds(230));
  EXPECT_EQ(credential->GetTokenBlocking(kVaultScope, kWait)->token, "tok-2");
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(IdentityTest, UserAssignedImdsIdentityIsNamedByClientId) {
  server_->Enqueue(Json(200, R"({"access_token":"t","expires_in":"86399"})"));
  auto options = Imds();
  options.client_id = "11111111-2222";
  auto credential = CreateManagedIdentityCredential(options, Deps()).value();
  ASSERT_TRUE(credential->GetTokenBlocking("https://storage.azure.com/.default", kWait).ok());
  EXPECT_EQ(server_->requests().at(0).target,
            "/metadata/identity/oauth2/token?api-version=2018-02-01"
            "&resource=https%3A%2F%2Fstorage.azure.com&client_id=11111111-2222");
}

TEST_F(IdentityTest, AppServiceFormSendsIdentityHeader) {
  server_->Enqueue(Json(200, R"({"access_token":"app-tok","expires_on":"1700007200",
      "resource":"https://vault.azure.net","token_type":"Bearer","client_id":"5E29463D"})"));
  ManagedIdentityOptions options;
  options.identity_endpoint = server_->base_url() + "/msi/token";
  options.identity_header = "header-value";
  options.imds_endpoint = "http://127.0.0.1:9/never";  // must not be used
  EXPECT_EQ(ManagedIdentitySource(options), "App Service");
  auto credential = CreateManagedIdentityCredential(options, Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->token, "app-tok");
  EXPECT_EQ(token->expires_on, WallClock::time_point(seconds(1700007200)));
  auto request = server_->requests().at(0);
  EXPECT_EQ(request.target,
            "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net");
  EXPECT_EQ(request.Header("X-IDENTITY-HEADER"), "header-value");
  EXPECT_EQ(request.Header("Metadata"), "");
}

TEST_F(IdentityTest, AppServiceEndpointWithoutHeaderIsAConfigurationError) {
  ManagedIdentityOptions options;
  options.identity_endpoint = server_->base_url() + "/msi/token";
  auto credential = CreateManagedIdentityCredential(options, Deps());
  EXPECT_EQ(credential.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(credential.status().message().find("IDENTITY_HEADER"), std::string::npos);
}

TEST_F(IdentityTest, ClientSecretPostsTheClientCredentialsForm) {
  server_->Enqueue(Json(200, R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,
                    "access_token":"sp-tok"})"));
  ClientSecretOptions options{"tenant-1", "app-1", "s3cr3t&=+ /x", server_->base_url()};
  auto credential = CreateClientSecretCredential(options, Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->token, "sp-tok");
  EXPECT_EQ(token->expires_on, WallClock::time_point(seconds(kStart + 3599)));

  auto request = server_->requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/tenant-1/oauth2/v2.0/token");
  EXPECT_EQ(request.Header("Content-Type"), "application/x-www-form-urlencoded");
  auto fields = FormFields(request.body);
  EXPECT_EQ(fields["grant_type"], "client_credentials");
  EXPECT_EQ(fields["client_id"], "app-1");
  EXPECT_EQ(fields["client_secret"], "s3cr3t%26%3D%2B%20%2Fx");
  EXPECT_EQ(fields["scope"], "https%3A%2F%2Fvault.azure.net%2F.default");
}

TEST_F(IdentityTest, ClientSecretRefusedNamesTheCredentialAndTheFixButNotTheSecret) {
  server_->Enqueue(Json(401, R"({"error":"invalid_client",
      "error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"})"));
  ClientSecretOptions options{"tenant-1", "app-1", "very-secret-value", server_->base_url()};
  auto credential = CreateClientSecretCredential(options, Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_EQ(token.status().code(), core::StatusCode::kUnauthenticated);
  const std::string& message = token.status().message();
  EXPECT_NE(message.find("ClientSecretCredential"), std::string::npos) << message;
  EXPECT_NE(message.find("AADSTS7000215"), std::string::npos) << message;
  EXPECT_NE(message.find("AZURE_CLIENT_SECRET"), std::string::npos) << message;
  EXPECT_EQ(message.find("very-secret-value"), std::string::npos) << message;
  EXPECT_EQ(server_->request_count(), 1u);  // a refusal is not retried
}

TEST_F(IdentityTest, AuthorityHostMustBeHttpsUnlessLoopback) {
  ClientSecretOptions options{"t", "c", "s", "http://login.example.com"};
  EXPECT_EQ(CreateClientSecretCredential(options, Deps()).status().code(),
            core::StatusCode::kInvalidArgument);
  options.authority_host = "https://login.example.com/";
  EXPECT_TRUE(CreateClientSecretCredential(options, Deps()).ok());
  options.client_secret = "";
  auto missing = CreateClientSecretCredential(options, Deps());
  EXPECT_NE(missing.status().message().find("AZURE_CLIENT_SECRET"), std::string::npos);
}

TEST_F(IdentityTest, ThrottlingAndServerErrorsAreRetried) {
  server_->Enqueue(ScriptedResponse(429).Header("Retry-After", "0").Write("slow down"));
  server_->Enqueue(ScriptedResponse(503).Header("retry-after-ms", "2").Write("busy"));
  server_->Enqueue(Json(200, R"({"access_token":"after-retries","expires_in":"3600"})"));
  auto credential = CreateManagedIdentityCredential(Imds(), Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->token, "after-retries");
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(IdentityTest, PersistentServerErrorsEndInUnavailableAfterTheRetries) {
  for (int i = 0; i < 4; ++i) server_->Enqueue(Json(500, R"({"error":"boom"})"));
  ClientSecretOptions options{"t", "c", "s", server_->base_url()};
  auto credential = CreateClientSecretCredential(options, Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_EQ(token.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(token.status().message().find("4 attempt(s)"), std::string::npos)
      << token.status().message();
  EXPECT_EQ(server_->request_count(), 4u);
}

TEST_F(IdentityTest, ConcurrentRequestsForOneScopeShareOneFetch) {
  server_->Enqueue(Json(200, R"({"access_token":"shared","expires_in":"3600"})"));
  auto credential = CreateManagedIdentityCredential(Imds(), Deps()).value();
  std::vector<std::future<core::Result<AccessToken>>> results;
  // Issued from one task on the executor: all five are queued before the fetch can answer.
  executor_->RunSync([&] {
    for (int i = 0; i < 5; ++i) {
      auto promise = std::make_shared<std::promise<core::Result<AccessToken>>>();
      results.push_back(promise->get_future());
      credential->GetToken(kVaultScope, [promise](core::Result<AccessToken> r) {
        promise->set_value(std::move(r));
      });
    }
  });
  for (auto& f : results) {
    ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->token, "shared");
  }
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(IdentityTest, ImdsProbeThatNobodyAnswersIsNotRetried) {
  std::string closed_url;
  {
    auto gone = ScriptedServer::Start().value();
    closed_url = gone->base_url() + "/metadata/identity/oauth2/token";
  }
  ManagedIdentityOptions options;
  options.imds_endpoint = closed_url;
  auto credential = CreateManagedIdentityCredential(options, Deps()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_EQ(token.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(token.status().message().find("1 attempt(s)"), std::string::npos)
      << token.status().message();
  EXPECT_NE(token.status().message().find("ManagedIdentityCredential (IMDS)"), std::string::npos);
}

TEST_F(IdentityTest, DefaultChainUsesTheClientSecretWhenConfigured) {
  server_->Enqueue(Json(200, R"({"access_token":"from-sp","expires_in":3599})"));
  CredentialEnvironment env;
  env.vars = {{"AZURE_TENANT_ID", "t"},
              {"AZURE_CLIENT_ID", "c"},
              {"AZURE_CLIENT_SECRET", "s"},
              {"AZURE_AUTHORITY_HOST", server_->base_url()}};
  auto credential = CreateDefaultCredential(env, Deps(), Imds()).value();
  EXPECT_EQ(credential->GetTokenBlocking(kVaultScope, kWait)->token, "from-sp");
  EXPECT_EQ(server_->requests().at(0).method, "POST");
}

TEST_F(IdentityTest, DefaultChainFallsBackToManagedIdentityAndSticksToIt) {
  server_->Enqueue(Json(200, R"({"access_token":"from-mi","expires_in":"3600"})"));
  server_->Enqueue(Json(200, R"({"access_token":"from-mi-2","expires_in":"3600"})"));
  auto credential = CreateDefaultCredential(CredentialEnvironment{}, Deps(), Imds()).value();
  EXPECT_EQ(credential->name(), "DefaultAzureCredential");
  EXPECT_EQ(credential->GetTokenBlocking(kVaultScope, kWait)->token, "from-mi");
  EXPECT_EQ(credential->GetTokenBlocking("https://storage.azure.com/.default", kWait)->token,
            "from-mi-2");
  ASSERT_EQ(server_->request_count(), 2u);
  EXPECT_EQ(server_->requests()[1].Header("Metadata"), "true");
}

TEST_F(IdentityTest, ChainTriesTheNextCredentialWhenOneFails) {
  server_->Enqueue(Json(401, R"({"error":"unauthorized_client"})"));
  server_->Enqueue(Json(200, R"({"access_token":"second","expires_in":"3600"})"));
  std::vector<std::unique_ptr<TokenCredential>> members;
  members.push_back(
      CreateClientSecretCredential({"t", "c", "s", server_->base_url()}, Deps()).value());
  members.push_back(CreateManagedIdentityCredential(Imds(), Deps()).value());
  auto chain = CreateChainedCredential("chain", std::move(members), executor_).value();
  EXPECT_EQ(chain->GetTokenBlocking(kVaultScope, kWait)->token, "second");
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[1].method, "GET");
}

TEST_F(IdentityTest, ChainFailureNamesEveryCredentialAndWhatToSet) {
  server_->Enqueue(
      Json(400, R"({"error":"invalid_request","error_description":"Identity not found"})"));
  auto credential = CreateDefaultCredential(CredentialEnvironment{}, Deps(), Imds()).value();
  auto token = credential->GetTokenBlocking(kVaultScope, kWait);
  ASSERT_EQ(token.status().code(), core::StatusCode::kUnauthenticated);
  const std::string& message = token.status().message();
  EXPECT_NE(message.find("EnvironmentCredential"), std::string::npos) << message;
  EXPECT_NE(message.find("AZURE_CLIENT_SECRET"), std::string::npos) << message;
  EXPECT_NE(message.find("ManagedIdentityCredential (IMDS)"), std::string::npos) << message;
  EXPECT_NE(message.find("Identity not found"), std::string::npos) << message;
  EXPECT_NE(message.find("identity.client_id"), std::string::npos) << message;
}

TEST(TokenResponseTest, AcceptsEveryExpiryForm) {
  const auto now = WallClock::time_point(seconds(kStart));
  auto number = ParseTokenResponse(R"({"access_token":"a","expires_in":3599})", now);
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(number->expires_on, now + seconds(3599));
  EXPECT_EQ(number->refresh_on, now + seconds(3599 - 300));

  auto text = ParseTokenResponse(R"({"access_token":"a","expires_in":"86399"})", now);
  EXPECT_EQ(text->expires_on, now + seconds(86399));

  auto epoch = ParseTokenResponse(R"({"access_token":"a","expires_on":"1506484173"})", now);
  EXPECT_EQ(epoch->expires_on, WallClock::time_point(seconds(1506484173)));
  auto epoch_number = ParseTokenResponse(R"({"access_token":"a","expires_on":1506484173})", now);
  EXPECT_EQ(epoch_number->expires_on, WallClock::time_point(seconds(1506484173)));

  auto rfc3339 =
      ParseTokenResponse(R"({"access_token":"a","expires_on":"2020-04-20T21:05:35Z"})", now);
  ASSERT_TRUE(rfc3339.ok()) << rfc3339.status().ToString();
  EXPECT_EQ(rfc3339->expires_on, WallClock::time_point(seconds(1587416735)));
  EXPECT_EQ(ParseExpiresOn("2020-04-20T23:05:35.123+02:00"),
            WallClock::time_point(seconds(1587416735)));
  EXPECT_EQ(ParseExpiresOn("Mon, 20 Apr 2020 21:05:35 GMT"),
            WallClock::time_point(seconds(1587416735)));
  EXPECT_EQ(ParseExpiresOn("soon"), std::nullopt);

  auto refresh =
      ParseTokenResponse(R"({"access_token":"a","expires_in":86399,"refresh_in":43199})", now);
  EXPECT_EQ(refresh->refresh_on, now + seconds(43199));
}

TEST(TokenResponseTest, ShortLivedTokensRefreshAtHalfTheirLifetime) {
  const auto now = WallClock::time_point(seconds(kStart));
  auto token = ParseTokenResponse(R"({"access_token":"a","expires_in":240})", now);
  EXPECT_EQ(token->refresh_on, now + seconds(120));
}

TEST(TokenResponseTest, MalformedAnswersNameTheFieldNotTheToken) {
  const auto now = WallClock::time_point(seconds(kStart));
  EXPECT_EQ(ParseTokenResponse("not json", now).status().code(), core::StatusCode::kInternal);
  EXPECT_NE(ParseTokenResponse(R"({"expires_in":1})", now).status().message().find("access_token"),
            std::string::npos);
  auto bad = ParseTokenResponse(R"({"access_token":"tok-xyz","expires_in":"later"})", now);
  EXPECT_NE(bad.status().message().find("expires_in"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("tok-xyz"), std::string::npos);
  auto none = ParseTokenResponse(R"({"access_token":"tok-xyz"})", now);
  EXPECT_EQ(none.status().code(), core::StatusCode::kInternal);
}

TEST(IdentityHelpersTest, EncodesAndStripsScopes) {
  EXPECT_EQ(PercentEncode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
  EXPECT_EQ(ScopeToResource("https://vault.azure.net/.default"), "https://vault.azure.net");
  EXPECT_EQ(ScopeToResource("api://x"), "api://x");
}

}  // namespace
}  // namespace artagent::platform
