#include "agent/agent_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace artagent::agent {
namespace {

namespace fs = std::filesystem;

class AgentConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("agent_cfg_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "demo");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
  }
  fs::path dir_;
};

TEST_F(AgentConfigTest, LoadsTheShippedScenario) {
  const char* src = std::getenv("ARTAGENT_SOURCE_DIR");
  auto s = LoadScenario(std::string(src ? src : ".") + "/agents", "insurance");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_NE(s->StartAgent(), nullptr);
  EXPECT_EQ(s->StartAgent()->flow.start, "intent");
}

TEST_F(AgentConfigTest, BadTransitionNamesFileLineAndNode) {
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\n");
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      next: nowhere\n");
  auto s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("a.yaml:5"), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("'nowhere'"), std::string::npos);
}

TEST_F(AgentConfigTest, UnknownScenarioListsKnownOnes) {
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\n");
  auto s = LoadScenario(dir_.string(), "nope");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("demo"), std::string::npos);
}

TEST_F(AgentConfigTest, MalformedYamlGivesLine) {
  Write("demo/a.yaml", "name: a\nflow: [\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("a.yaml:"), std::string::npos);
}

TEST_F(AgentConfigTest, UnreachableNodeIsNamed) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      end: true\n    - id: orphan\n      prompt: never\n      end: true\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("a.yaml:8: flow node 'orphan' is unreachable"),
            std::string::npos)
      << a.status().ToString();
}

TEST_F(AgentConfigTest, UnknownSlotTypeIsRejected) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      slot: {name: x, type: colour}\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("unknown type 'colour'"), std::string::npos);
}

}  // namespace
}  // namespace artagent::agent
