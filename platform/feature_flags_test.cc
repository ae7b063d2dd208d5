#include "platform/feature_flags.h"

#include <gtest/gtest.h>

#include "platform/identity.h"

namespace artagent::platform {
namespace {

using std::chrono::system_clock;

FeatureFlag Parse(const std::string& json) {
  auto flag = ParseFeatureFlag(json);
  EXPECT_TRUE(flag.ok()) << flag.status().message();
  return flag.ok() ? *flag : FeatureFlag{};
}

system_clock::time_point Date(const char* rfc1123) { return *ParseExpiresOn(rfc1123); }

TEST(FeatureFlagTest, EnabledWithoutFiltersIsOnDisabledIsOff) {
  FeatureContext context;
  EXPECT_TRUE(EvaluateFeatureFlag(Parse(R"({"id":"A","enabled":true})"), context).on);
  EXPECT_TRUE(EvaluateFeatureFlag(
                  Parse(R"({"id":"A","enabled":true,"conditions":{"client_filters":[]}})"), context)
                  .on);
  EXPECT_FALSE(EvaluateFeatureFlag(Parse(R"({"id":"A","enabled":false})"), context).on);
  // Disabled wins over filters that would say yes.
  EXPECT_FALSE(EvaluateFeatureFlag(Parse(R"({"id":"A","enabled":false,"conditions":{
      "client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":100}}]}})"),
                                   context)
                   .on);
}

TEST(FeatureFlagTest, MalformedFlagsAreErrors) {
  EXPECT_FALSE(ParseFeatureFlag("not json").ok());
  EXPECT_FALSE(ParseFeatureFlag(R"({"id":"A"})").ok());
  EXPECT_FALSE(ParseFeatureFlag(R"({"id":"A","enabled":"maybe"})").ok());
  EXPECT_FALSE(ParseFeatureFlag(R"({"id":"A","enabled":true,"conditions":{
      "requirement_type":"Most"}})")
                   .ok());
  EXPECT_FALSE(ParseFeatureFlag(R"({"id":"A","enabled":true,"conditions":{
      "client_filters":[{"parameters":{}}]}})")
                   .ok());
}

TEST(FeatureFlagTest, TimeWindowFromTheProtocolsExample) {
  FeatureFlag flag = Parse(R"({"id":"Barge-In","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.TimeWindow","parameters":{"Start":"Mon, 01 Jan 2024 00:00:00 GMT",
                                                   "End":"Tue, 31 Dec 2024 00:00:00 GMT"}}]}})");
  EXPECT_FALSE(EvaluateFeatureFlag(flag, {Date("Sun, 31 Dec 2023 23:59:59 GMT"), "i"}).on);
  EXPECT_TRUE(EvaluateFeatureFlag(flag, {Date("Mon, 01 Jan 2024 00:00:00 GMT"), "i"}).on);
  EXPECT_TRUE(EvaluateFeatureFlag(flag, {Date("Sat, 15 Jun 2024 12:00:00 GMT"), "i"}).on);
  EXPECT_FALSE(EvaluateFeatureFlag(flag, {Date("Tue, 31 Dec 2024 00:00:00 GMT"), "i"}).on);
}

TEST(FeatureFlagTest, PercentageIsStablePerInstanceAndRoughlyProportional) {
  FeatureFlag half = Parse(R"({"id":"Rollout","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":50}}]}})");
  int on = 0;
  for (int i = 0; i < 1000; ++i) {
    FeatureContext context{system_clock::now(), "instance-" + std::to_string(i)};
    const bool first = EvaluateFeatureFlag(half, context).on;
    EXPECT_EQ(EvaluateFeatureFlag(half, context).on, first);  // same instance, same answer
    on += first ? 1 : 0;
  }
  EXPECT_GT(on, 400);
  EXPECT_LT(on, 600);
  FeatureFlag none = Parse(R"({"id":"R","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":0}}]}})");
  FeatureFlag all = Parse(R"({"id":"R","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":"100"}}]}})");
  EXPECT_FALSE(EvaluateFeatureFlag(none, {system_clock::now(), "x"}).on);
  EXPECT_TRUE(EvaluateFeatureFlag(all, {system_clock::now(), "x"}).on);
}

TEST(FeatureFlagTest, RequirementTypeAnyAndAll) {
  const std::string filters = R"("client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":100}},
      {"name":"Microsoft.TimeWindow","parameters":{"End":"Mon, 01 Jan 2024 00:00:00 GMT"}}])";
  FeatureFlag any =
      Parse(R"({"id":"F","enabled":true,"conditions":{"requirement_type":"Any",)" + filters + "}}");
  FeatureFlag all =
      Parse(R"({"id":"F","enabled":true,"conditions":{"requirement_type":"All",)" + filters + "}}");
  FeatureContext later{Date("Tue, 02 Jan 2024 00:00:00 GMT"), "i"};
  EXPECT_TRUE(EvaluateFeatureFlag(any, later).on);   // percentage says yes
  EXPECT_FALSE(EvaluateFeatureFlag(all, later).on);  // the window has closed
}

TEST(FeatureFlagTest, TargetingUsesTheDefaultRolloutPercentage) {
  FeatureFlag everyone = Parse(R"({"id":"T","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Targeting","parameters":{"Audience":{"Users":["a"],
       "DefaultRolloutPercentage":100}}}]}})");
  FeatureFlag nobody = Parse(R"({"id":"T","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Targeting","parameters":{"Audience":{"DefaultRolloutPercentage":0}}}]}})");
  EXPECT_TRUE(EvaluateFeatureFlag(everyone, {system_clock::now(), "i"}).on);
  EXPECT_FALSE(EvaluateFeatureFlag(nobody, {system_clock::now(), "i"}).on);
}

TEST(FeatureFlagTest, UnknownFilterTurnsTheFlagOffAndIsNamed) {
  FeatureFlag flag = Parse(R"({"id":"F","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":100}},
      {"name":"Contoso.Region","parameters":{"Region":"EU"}}]}})");
  FeatureDecision d = EvaluateFeatureFlag(flag, {system_clock::now(), "i"});
  EXPECT_FALSE(d.on);
  EXPECT_EQ(d.unknown_filter, "Contoso.Region");
  // A known filter with unusable parameters is just as unknowable.
  FeatureFlag broken = Parse(R"({"id":"F","enabled":true,"conditions":{"client_filters":[
      {"name":"Microsoft.Percentage","parameters":{"Value":"lots"}}]}})");
  EXPECT_EQ(EvaluateFeatureFlag(broken, {system_clock::now(), "i"}).unknown_filter,
            "Microsoft.Percentage");
}

TEST(FeatureFlagTest, NamesMapOntoFeatureKeys) {
  EXPECT_EQ(FeatureConfigKey("CallRecording"), "features.call_recording");
  EXPECT_EQ(FeatureConfigKey("Call Recording"), "features.call_recording");
  EXPECT_EQ(FeatureConfigKey("call-recording"), "features.call_recording");
  EXPECT_EQ(FeatureConfigKey("call_recording"), "features.call_recording");
  EXPECT_EQ(FeatureConfigKey("FooBar"), "features.foo_bar");
  EXPECT_EQ(FeatureConfigKey("Foo Bar"), "features.foo_bar");
  EXPECT_EQ(FeatureConfigKey("DTMFValidation"), "features.dtmf_validation");
  EXPECT_EQ(FeatureConfigKey("Tts2Voice"), "features.tts2_voice");
}

}  // namespace
}  // namespace artagent::platform
