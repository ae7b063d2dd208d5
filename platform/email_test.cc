#include "platform/email.h"

#include <gtest/gtest.h>

#include <future>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/serial_thread_executor.h"
#include "net/acs_auth.h"
#include "net/testing/scripted_server.h"
#include "platform/identity.h"

namespace artagent::platform {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;

constexpr const char* kKey = "YWNzLXRlc3QtYWNjZXNzLWtleS0wMTIzNDU2Nzg5YWI=";

class EmailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ScriptedServer::Start().value();
    http_ = net::HttpClient::Create();
    executor_ = core::SerialThreadExecutor::Create("email-test");
    options_.connection_string = "endpoint=" + server_->base_url() + "/;accesskey=" + kKey;
    options_.sender = "DoNotReply@contoso.com";
    options_.backoff = {std::chrono::milliseconds(1), std::chrono::milliseconds(5), 2.0, 0.0};
    options_.max_retry_after = std::chrono::milliseconds(5);
    options_.default_poll_interval = std::chrono::milliseconds(1);
    options_.seed = 7;
  }

  std::string OperationUrl() const {
    return server_->base_url() + "/emails/operations/op-1?api-version=2023-03-31";
  }
  ScriptedResponse Accepted() const {
    return ScriptedResponse(202)
        .Header("Operation-Location", OperationUrl())
        .Header("Retry-After", "0")
        .Header("Content-Type", "application/json")
        .Write(R"({"id":"op-1","status":"Running"})");
  }
  static ScriptedResponse Status(const std::string& status, const std::string& extra = "") {
    return ScriptedResponse(200)
        .Header("Content-Type", "application/json")
        .Write(R"({"id":"op-1","status":")" + status + "\"" + extra + "}");
  }

  core::Result<EmailResult> Send(EmailMessage message) {
    auto sender = EmailSender::Create(options_, http_.get(), executor_);
    if (!sender.ok()) return sender.status();
    std::promise<core::Result<EmailResult>> done;
    (*sender)->Send(std::move(message),
                    [&done](core::Result<EmailResult> r) { done.set_value(std::move(r)); });
    auto result = done.get_future().get();
    executor_->RunSync([&] { sender->reset(); });
    return result;
  }

  static EmailMessage Summary() {
    EmailMessage m;
    m.to = {"claims@contoso.com"};
    m.subject = "Claim CLM-1001 filed";
    m.plain_text = "Claim number: CLM-1001";
    m.attachments.push_back({"transcript.txt", "text/plain", "Caller: hello\n"});
    m.correlation_id = "sess_1";
    return m;
  }

  // Checks the HMAC signature of a recorded request as ACS would.
  void ExpectSigned(const net::testing::RecordedRequest& r) {
    const std::string host = server_->base_url().substr(7);
    const std::string date = r.Header("x-ms-date");
    const std::string hash = r.Header("x-ms-content-sha256");
    const std::string auth = r.Header("authorization");
    net::AcsRequestView v{r.method, r.target, host, r.body, date, hash, auth};
    core::Status st = net::VerifyAcsRequest(v, kKey, std::chrono::system_clock::now());
    EXPECT_TRUE(st.ok()) << r.method << " " << r.target << ": " << st.ToString();
  }

  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  EmailOptions options_;
};

TEST_F(EmailTest, SendsSignedAndPollsUntilSucceeded) {
  server_->Enqueue(Accepted());
  server_->Enqueue(Status("Running"));
  server_->Enqueue(Status("Succeeded"));
  auto result = Send(Summary());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, "Succeeded");
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/emails:send?api-version=2023-03-31");
  EXPECT_TRUE(std::regex_match(requests[0].Header("Operation-Id"),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")))
      << requests[0].Header("Operation-Id");
  EXPECT_EQ(result->operation_id, requests[0].Header("Operation-Id"));
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["senderAddress"], "DoNotReply@contoso.com");
  EXPECT_EQ(body["recipients"]["to"][0]["address"], "claims@contoso.com");
  EXPECT_EQ(body["content"]["subject"], "Claim CLM-1001 filed");
  EXPECT_EQ(body["content"]["plainText"], "Claim number: CLM-1001");
  EXPECT_EQ(body["attachments"][0]["name"], "transcript.txt");
  EXPECT_EQ(body["attachments"][0]["contentInBase64"], core::Base64Encode("Caller: hello\n"));
  EXPECT_EQ(body["headers"]["ClientCorrelationId"], "sess_1");
  for (const auto& r : requests) ExpectSigned(r);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/emails/operations/op-1?api-version=2023-03-31");
  EXPECT_EQ(requests[2].target, requests[1].target);
}

TEST_F(EmailTest, ThrottledAndFailingSendsAreRetriedWithTheSameOperationId) {
  server_->Enqueue(ScriptedResponse(429).Header("Retry-After", "0"));
  server_->Enqueue(ScriptedResponse(503));
  server_->Enqueue(Accepted());
  server_->Enqueue(ScriptedResponse(500));  // a poll that fails is retried too
  server_->Enqueue(Status("Succeeded"));
  auto result = Send(Summary());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 5u);
  const std::string id = requests[0].Header("Operation-Id");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(requests[1].Header("Operation-Id"), id);
  EXPECT_EQ(requests[2].Header("Operation-Id"), id);
  for (const auto& r : requests) ExpectSigned(r);
}

TEST_F(EmailTest, RetriesAreBounded) {
  for (int i = 0; i < 5; ++i) server_->Enqueue(ScriptedResponse(503));
  auto result = Send(Summary());
  EXPECT_EQ(result.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(server_->request_count(), 5u);  // 1 + max_retries
}

TEST_F(EmailTest, BadRequestIsFinalAndNamesTheError) {
  server_->Enqueue(ScriptedResponse(400).Write(
      R"({"error":{"code":"InvalidSenderAddress","message":"sender not verified"}})"));
  auto result = Send(Summary());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("InvalidSenderAddress"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(EmailTest, RefusedKeyIsUnauthenticated) {
  server_->Enqueue(ScriptedResponse(401));
  auto result = Send(Summary());
  EXPECT_EQ(result.status().code(), core::StatusCode::kUnauthenticated);
  EXPECT_EQ(result.status().message().find(kKey), std::string::npos);
}

TEST_F(EmailTest, FailedOperationCarriesTheServiceError) {
  server_->Enqueue(Accepted());
  server_->Enqueue(
      Status("Failed", R"(,"error":{"code":"EmailDroppedAllRecipientsSuppressed","message":"x"})"));
  auto result = Send(Summary());
  EXPECT_EQ(result.status().code(), core::StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("EmailDroppedAllRecipientsSuppressed"),
            std::string::npos);
}

TEST_F(EmailTest, PollingGivesUpAfterThePollTimeout) {
  options_.poll_timeout = std::chrono::seconds(0);
  options_.default_poll_interval = std::chrono::milliseconds(5);
  server_->Enqueue(Accepted());
  auto result = Send(Summary());
  EXPECT_EQ(result.status().code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->request_count(), 1u);
}

class FixedCredential : public TokenCredential {
 public:
  std::string name() const override { return "FixedCredential"; }
  void GetToken(const std::string& scope, TokenCallback done) override {
    scopes.push_back(scope);
    AccessToken t;
    t.token = "entra-token";
    done(t);
  }
  std::vector<std::string> scopes;
};

TEST_F(EmailTest, EntraTokenWhenThereIsNoConnectionString) {
  auto credential = std::make_shared<FixedCredential>();
  options_.connection_string.clear();
  options_.endpoint = server_->base_url() + "/";
  options_.credential = credential;
  server_->Enqueue(Accepted());
  server_->Enqueue(Status("Succeeded"));
  ASSERT_TRUE(Send(Summary()).ok());
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer entra-token");
  EXPECT_EQ(requests[1].Header("Authorization"), "Bearer entra-token");
  EXPECT_EQ(credential->scopes[0], "https://communication.azure.com/.default");
}

TEST_F(EmailTest, OptionsAreValidated) {
  EmailOptions o;
  o.connection_string = options_.connection_string;
  EXPECT_EQ(EmailSender::Create(o, http_.get(), executor_).status().code(),
            core::StatusCode::kInvalidArgument);  // no sender
  o.sender = "a@b.c";
  o.connection_string = "endpoint=https://x.communication.azure.com/";  // no key
  EXPECT_EQ(EmailSender::Create(o, http_.get(), executor_).status().code(),
            core::StatusCode::kInvalidArgument);
  o.connection_string.clear();
  o.endpoint = "https://x.communication.azure.com";  // no identity
  EXPECT_EQ(EmailSender::Create(o, http_.get(), executor_).status().code(),
            core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace artagent::platform
