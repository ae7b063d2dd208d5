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
  EXPECT_EQ(s->start_agent, "auth_agent");
  EXPECT_EQ(s->agents.size(), 3u);
  const HandoffEdge* e = s->Edge("auth_agent", "handoff_fnol_agent");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, "announced");
  ASSERT_NE(s->Edge("auth_agent", "handoff_policy_agent"), nullptr);
  EXPECT_EQ(s->Edge("auth_agent", "handoff_policy_agent")->type, "discrete");
  EXPECT_EQ(s->Find("fnol_agent")->voice, "kal16");
  // Every tool the shipped agents use exists once the insurance tools are registered.
  EXPECT_TRUE(CheckScenarioTools(*s, {"verify_caller", "get_policy", "create_claim",
                                      "get_claim_status"})
                  .empty());
}

TEST_F(AgentConfigTest, UnknownToolsAndUnlistedFlowToolsAreNamed) {
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\n");
  Write("demo/a.yaml",
        "name: a\ntools: [lookup, teleport]\nflow:\n  start: one\n  nodes:\n"
        "    - id: one\n      tool: fetch\n      next: two\n"
        "    - id: two\n      prompt: bye\n      end: true\n");
  auto s = LoadScenario(dir_.string(), "demo");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto problems = CheckScenarioTools(*s, {"lookup"});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("a.yaml:2: agent 'a': unknown tool 'teleport'"), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find("a.yaml:6: flow node 'one' calls tool 'fetch'"), std::string::npos)
      << problems[1];
}

TEST_F(AgentConfigTest, BadEdgesAreRejected) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      handoff: b\n");
  Write("demo/b.yaml", "name: b\nflow:\n  start: one\n  nodes:\n    - id: one\n      end: true\n");
  Write("demo/scenario.yaml",
        "start_agent: a\nagents: [a.yaml, b.yaml]\nhandoffs:\n  - {from: a, to: c}\n");
  auto s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("scenario.yaml:4: hand-off edge names agent 'c'"),
            std::string::npos)
      << s.status().ToString();
  Write("demo/scenario.yaml",
        "start_agent: a\nagents: [a.yaml, b.yaml]\nhandoffs:\n  - {from: a, to: b, type: loud}\n");
  s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("hand-off type 'loud'"), std::string::npos);
  // A flow hand-off without an edge.
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml, b.yaml]\n");
  s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("a.yaml:5: flow node 'one' hands off to 'b' but the "
                                      "scenario has no edge"),
            std::string::npos)
      << s.status().ToString();
  Write("demo/scenario.yaml",
        "start_agent: a\nagents: [a.yaml, b.yaml]\nhandoffs:\n  - {from: a, to: b}\n");
  s = LoadScenario(dir_.string(), "demo");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->edges[0].tool, "handoff_b");
  EXPECT_EQ(s->edges[0].type, "announced");
}

TEST_F(AgentConfigTest, ScenarioEmailIsParsedAndChecked) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      end: true\n");
  Write("demo/scenario.yaml",
        "start_agent: a\nagents: [a.yaml]\nemail:\n  to: \"{{email}}\"\n  subject: Claim "
        "{{claim_number}}\n"
        "  body: \"Caller {{caller_name}}\"\n  when: claim_number\n  attach_transcript: false\n");
  auto s = LoadScenario(dir_.string(), "demo");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(s->email.has_value());
  EXPECT_EQ(s->email->to, "{{email}}");
  EXPECT_EQ(s->email->subject, "Claim {{claim_number}}");
  EXPECT_EQ(s->email->when, "claim_number");
  EXPECT_FALSE(s->email->attach_transcript);

  Write("demo/scenario.yaml",
        "start_agent: a\nagents: [a.yaml]\nemail:\n  to: x@y.z\n  subject: s\n  body: b\n  cc: "
        "z@y.z\n");
  s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("scenario.yaml:7: unknown key 'cc' in 'email'"),
            std::string::npos)
      << s.status().ToString();
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\nemail:\n  to: x@y.z\n  body: b\n");
  EXPECT_FALSE(LoadScenario(dir_.string(), "demo").ok());  // subject is required
}

TEST_F(AgentConfigTest, UnknownKeysAreMistakes) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      nomatch: say again\n      end: true\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("a.yaml:7: unknown key 'nomatch' in a flow node"),
            std::string::npos)
      << a.status().ToString();
}

TEST_F(AgentConfigTest, SlotSpecsAreChecked) {
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      slot: {name: kind, type: enumeration}\n      next: one\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("a.yaml:7: slot 'kind'"), std::string::npos)
      << a.status().ToString();
  Write("demo/a.yaml",
        "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
        "      slot: {name: kind, type: enumeration, choices: {collision: [crash], theft: "
        "[stolen]}}\n      next: one\n");
  a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->flow.nodes[0].slot->spec.choices.size(), 2u);
  EXPECT_EQ(a->flow.nodes[0].slot->spec.choices[0].keywords[0], "crash");
}

TEST_F(AgentConfigTest, LlmOnlyAgentNeedsNoFlow) {
  Write("demo/a.yaml", "name: a\nmodel: openai\ninstructions: be brief\n");
  auto a = LoadAgentFile((dir_ / "demo/a.yaml").string());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->flow.nodes.empty());
  Write("demo/a.yaml", "name: a\ninstructions: be brief\n");
  EXPECT_FALSE(LoadAgentFile((dir_ / "demo/a.yaml").string()).ok());
}

TEST_F(AgentConfigTest, OnFailureBelongsToATransferAndMustLeadSomewhere) {
  Write("demo/scenario.yaml", "start_agent: a\nagents: [a.yaml]\n");
  Write("demo/a.yaml",
        "name: a\ntools: [transfer_call]\nflow:\n  start: one\n  nodes:\n"
        "    - id: one\n      prompt: hi\n      next: two\n      on_failure: two\n"
        "    - id: two\n      prompt: bye\n      end: true\n");
  auto s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("'on_failure' needs a 'transfer'"), std::string::npos)
      << s.status().ToString();
  Write("demo/a.yaml",
        "name: a\ntools: [transfer_call]\nflow:\n  start: one\n  nodes:\n"
        "    - id: one\n      prompt: hi\n      transfer: '+18005550199'\n"
        "      on_failure: nowhere\n");
  s = LoadScenario(dir_.string(), "demo");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("'nowhere'"), std::string::npos) << s.status().ToString();
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
