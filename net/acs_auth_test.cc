#include "net/acs_auth.h"

#include <gtest/gtest.h>

namespace artagent::net {
namespace {

constexpr char kKey[] = "YWNzLXRlc3QtYWNjZXNzLWtleS0wMTIzNDU2Nzg5YWI=";
constexpr char kDate[] = "Tue, 02 Jan 2024 03:04:05 GMT";
constexpr char kHost[] = "contoso.communication.azure.com";
constexpr char kAnswerPath[] = "/calling/callConnections:answer?api-version=2025-05-15";
constexpr char kAnswerBody[] =
    R"({"incomingCallContext":"ctx","callbackUri":"https://app.example.com/api/callbacks"})";

std::chrono::system_clock::time_point VectorTime() {
  std::chrono::system_clock::time_point t;
  EXPECT_TRUE(ParseHttpDate(kDate, &t));
  return t;
}

TEST(AcsAuthTest, AnswerVectorFromProtocolsMd) {
  auto s = SignAcsRequest("POST", kAnswerPath, kHost, kDate, kAnswerBody, kKey);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->content_sha256, "dx98jqau9ClY06r4Rsyk/jvPhEGU75Hs4BRIdWDHQf0=");
  EXPECT_EQ(s->authorization,
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
            "7rq3Q7j9rDCMVC+clXaO5VTxWY96KCB6nb7Sb8jM2Bg=");
  EXPECT_EQ(s->date, kDate);
}

TEST(AcsAuthTest, DeleteVectorWithEmptyBody) {
  auto s = SignAcsRequest(
      "delete",
      "/calling/callConnections/18dea47f-b081-4107-9a5c-4300819d2c6c?api-version=2025-05-15", kHost,
      kDate, "", kKey);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->content_sha256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_NE(s->authorization.find("Signature=b2FyIzsw1cka5kKD77slV+LEH0+QDlktToqqiaUaJo8="),
            std::string::npos);
}

TEST(AcsAuthTest, HttpDateRoundTrips) {
  auto t = VectorTime();
  EXPECT_EQ(HttpDate(t), kDate);
  std::chrono::system_clock::time_point out;
  EXPECT_FALSE(ParseHttpDate("2024-01-02T03:04:05Z", &out));
  EXPECT_FALSE(ParseHttpDate("Tue, 02 Foo 2024 03:04:05 GMT", &out));
}

TEST(AcsAuthTest, VerifyAcceptsTheVectorAndRejectsTampering) {
  auto s = SignAcsRequest("POST", kAnswerPath, kHost, kDate, kAnswerBody, kKey);
  ASSERT_TRUE(s.ok());
  AcsRequestView r{"POST",  kAnswerPath,       kHost,           kAnswerBody,
                   s->date, s->content_sha256, s->authorization};
  const auto now = VectorTime() + std::chrono::seconds(30);
  EXPECT_TRUE(VerifyAcsRequest(r, kKey, now).ok());

  auto expect_reject = [&](AcsRequestView bad, std::string_view why) {
    core::Status st = VerifyAcsRequest(bad, kKey, now);
    EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated) << why;
    EXPECT_EQ(st.message().find(kKey), std::string::npos);
  };
  AcsRequestView body = r;
  body.body = R"({"incomingCallContext":"ctx2"})";
  expect_reject(body, "body changed");
  AcsRequestView path = r;
  path.path_and_query = "/calling/callConnections:reject?api-version=2025-05-15";
  expect_reject(path, "path changed");
  AcsRequestView host = r;
  host.host = "evil.example.com";
  expect_reject(host, "host changed");
  AcsRequestView none = r;
  none.authorization = "";
  expect_reject(none, "no auth");
  AcsRequestView bearer = r;
  bearer.authorization = "Bearer abc";
  expect_reject(bearer, "bearer");
  EXPECT_FALSE(VerifyAcsRequest(r, "b3RoZXIta2V5", now).ok());
  EXPECT_FALSE(VerifyAcsRequest(r, kKey, now + std::chrono::hours(1)).ok()) << "stale date";
}

TEST(AcsAuthTest, ConnectionStringParsing) {
  auto c = ParseAcsConnectionString(
      std::string("endpoint=https://contoso.communication.azure.com/;accesskey=") + kKey);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->endpoint, "https://contoso.communication.azure.com");
  EXPECT_EQ(c->host, "contoso.communication.azure.com");
  EXPECT_EQ(c->access_key, kKey);

  auto local = ParseAcsConnectionString(std::string("AccessKey=") + kKey +
                                        "; Endpoint=http://127.0.0.1:4711/");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->host, "127.0.0.1:4711");
  auto default_port =
      ParseAcsConnectionString(std::string("endpoint=https://a.b:443/;accesskey=") + kKey);
  ASSERT_TRUE(default_port.ok());
  EXPECT_EQ(default_port->host, "a.b");

  for (std::string bad : {std::string("accesskey=") + kKey, std::string("endpoint=https://a.b/"),
                          std::string("endpoint=ftp://a.b/;accesskey=") + kKey,
                          std::string("endpoint=https://a.b/;accesskey=***")}) {
    auto r = ParseAcsConnectionString(bad);
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().find(kKey), std::string::npos);
  }
}

}  // namespace
}  // namespace artagent::net
