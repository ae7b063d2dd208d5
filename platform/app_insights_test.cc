#include "platform/app_insights.h"

#include <gtest/gtest.h>

namespace artagent::platform {
namespace {

TEST(AppInsightsTest, ParsesTheDocumentedConnectionString) {
  auto c = ParseAppInsightsConnectionString(
      "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
      "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;"
      "LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;"
      "ApplicationId=11111111-2222-3333-4444-555555555555");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->instrumentation_key, "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(c->ingestion_endpoint, "https://westeurope-5.in.applicationinsights.azure.com/");
  EXPECT_EQ(c->TrackUrl(), "https://westeurope-5.in.applicationinsights.azure.com/v2.1/track");
  EXPECT_EQ(c->live_endpoint, "https://westeurope.livediagnostics.monitor.azure.com/");
}

TEST(AppInsightsTest, KeysAreCaseInsensitiveAndEndpointsGetASlash) {
  auto c = ParseAppInsightsConnectionString(
      " instrumentationkey = 0a1b2c3d-0000-4000-8000-00000000abcd ; "
      "ingestionendpoint=https://eastus.in.applicationinsights.azure.com;");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingestion_endpoint, "https://eastus.in.applicationinsights.azure.com/");
  EXPECT_EQ(c->live_endpoint, "");
}

TEST(AppInsightsTest, EndpointSuffixAndDefault) {
  auto suffix = ParseAppInsightsConnectionString(
      "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
      "EndpointSuffix=applicationinsights.azure.cn");
  ASSERT_TRUE(suffix.ok());
  EXPECT_EQ(suffix->ingestion_endpoint, "https://dc.applicationinsights.azure.cn/");
  EXPECT_EQ(suffix->live_endpoint, "https://live.applicationinsights.azure.cn/");
  // An explicit IngestionEndpoint wins over the suffix.
  auto both = ParseAppInsightsConnectionString(
      "InstrumentationKey=00000000-0000-0000-0000-000000000000;EndpointSuffix=example.com;"
      "IngestionEndpoint=https://custom.example.com/");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->ingestion_endpoint, "https://custom.example.com/");
  auto plain =
      ParseAppInsightsConnectionString("InstrumentationKey=00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->ingestion_endpoint, "https://dc.services.visualstudio.com/");
  auto ikey = ParseAppInsightsConnectionString(
      "Authorization=ikey;InstrumentationKey=00000000-0000-0000-0000-000000000000");
  EXPECT_TRUE(ikey.ok());
}

TEST(AppInsightsTest, MalformedStringsFailWithAClearMessage) {
  const std::string key = "InstrumentationKey=00000000-0000-0000-0000-000000000000";
  for (const std::string& bad : {
           std::string(""),
           std::string("IngestionEndpoint=https://x.in.applicationinsights.azure.com/"),
           std::string("InstrumentationKey=not-a-guid"),
           std::string("InstrumentationKey"),
           key + ";IngestionEndpoint=ftp://x/",
           key + ";IngestionEndpoint=",
           key + ";Authorization=aad",
           key + ";EndpointSuffix=https://bad/",
           key + ";" + key,
           key + ";ApplicationId=" + std::string(5000, 'x'),
       }) {
    auto c = ParseAppInsightsConnectionString(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("telemetry.app_insights_connection_string"),
              std::string::npos);
    // The secret is never echoed.
    EXPECT_EQ(c.status().message().find("00000000-0000"), std::string::npos);
  }
}

}  // namespace
}  // namespace artagent::platform
