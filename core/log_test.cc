#include "core/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace artagent::core {
namespace {

TEST(LogTest, JsonLinesAreParseableWithFields) {
  std::string line =
      FormatLogLine(LogFormat::kJson, LogLevel::kWarn, "session", "stt \"failed\"\n",
                    {{"session", "sess_1"}});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["component"], "session");
  EXPECT_EQ(j["msg"], "stt \"failed\"\n");
  EXPECT_EQ(j["session"], "sess_1");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, TextLineHasLevelComponentAndMessage) {
  std::string line = FormatLogLine(LogFormat::kText, LogLevel::kInfo, "server", "listening", {});
  EXPECT_NE(line.find("info"), std::string::npos);
  EXPECT_NE(line.find("server"), std::string::npos);
  EXPECT_NE(line.find("listening"), std::string::npos);
}

TEST(LogTest, ParsesLevels) {
  LogLevel l;
  ASSERT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace artagent::core
