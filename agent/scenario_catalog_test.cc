#include "agent/scenario_catalog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace artagent::agent {
namespace {

namespace fs = std::filesystem;

class ScenarioCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("catalog_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "demo");
    Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\n");
    WriteAgent("Hello.");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
    // Editors save within the same second: move the time on so the change is seen.
    static int tick = 0;
    fs::last_write_time(dir_ / rel,
                        fs::file_time_type::clock::now() + std::chrono::seconds(++tick));
  }
  void WriteAgent(const std::string& greeting) {
    Write("demo/a.yaml", "name: a\ngreeting: " + greeting +
                             "\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
                             "      end: true\n");
  }
  fs::path dir_;
};

TEST_F(ScenarioCatalogTest, EditsAreReloadedAndBrokenEditsKeepTheOldVersion) {
  auto c = ScenarioCatalog::Load(dir_.string(), nullptr, std::chrono::seconds(0));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto v1 = (*c)->Get("demo");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->StartAgent()->greeting, "Hello.");
  EXPECT_EQ((*c)->ReloadChanged(), 0);

  WriteAgent("Welcome back.");
  EXPECT_EQ((*c)->ReloadChanged(), 1);
  auto v2 = (*c)->Get("demo");
  EXPECT_EQ(v2->StartAgent()->greeting, "Welcome back.");
  EXPECT_EQ(v1->StartAgent()->greeting, "Hello.") << "a session keeps the version it started with";

  Write("demo/a.yaml", "name: a\nflow: [\n");
  EXPECT_EQ((*c)->ReloadChanged(), 0);
  EXPECT_EQ((*c)->Get("demo")->StartAgent()->greeting, "Welcome back.");
  EXPECT_EQ((*c)->reloads(), 1u);
}

TEST_F(ScenarioCatalogTest, StartUpFailsOnAnyBrokenScenarioOrFailedCheck) {
  fs::create_directories(dir_ / "bad");
  Write("bad/scenario.yaml", "start_agent: nobody\nagents: [a.yaml]\n");
  Write("bad/a.yaml", "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      end: true\n");
  auto c = ScenarioCatalog::Load(dir_.string(), nullptr, std::chrono::seconds(0));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad/scenario.yaml:1: start_agent 'nobody'"),
            std::string::npos)
      << c.status().ToString();
  fs::remove_all(dir_ / "bad");
  auto checked = ScenarioCatalog::Load(
      dir_.string(), [](const ScenarioConfig&) { return std::vector<std::string>{"x.yaml:3: no"}; },
      std::chrono::seconds(0));
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.status().message().find("x.yaml:3: no"), std::string::npos);
}

}  // namespace
}  // namespace artagent::agent
