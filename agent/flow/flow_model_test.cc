#include "agent/flow/flow_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/fake_executor.h"

namespace artagent::agent {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A one-agent scenario written to a temporary directory.
class FlowModelTest : public ::testing::Test {
 protected:
  void Load(const std::string& agent_yaml) {
    dir_ = fs::temp_directory_path() /
           ("flow_model_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_ / "s");
    std::ofstream(dir_ / "s/scenario.yaml") << "start_agent: a\nagents: [a.yaml]\n";
    std::ofstream(dir_ / "s/a.yaml") << agent_yaml;
    auto s = LoadScenario(dir_.string(), "s");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scenario_ = std::move(s).value();
    model_ = std::make_unique<FlowModel>(&scenario_, scenario_.StartAgent(), &memory_, ex_);
    model_->SetToday({2026, 11, 24});
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::shared_ptr<core::FakeExecutor> ex_ = std::make_shared<core::FakeExecutor>();
  ScenarioConfig scenario_;
  Memory memory_;
  std::unique_ptr<FlowModel> model_;
};

TEST_F(FlowModelTest, EnumerationSlotConfirmationAndToolBranches) {
  Load(R"(name: a
tools: [lookup]
flow:
  start: kind
  nodes:
    - id: kind
      prompt: What kind of damage?
      slot: {name: kind, type: enumeration, choices: {collision: [crash, hit], theft: [stolen]}}
      confirm: So it was {{kind}}?
      next: check
    - id: check
      prompt: Checking.
      tool: lookup
      args: {kind: "{{kind}}", fixed: "k-{{kind}}"}
      on_result:
        - {when: "covered == true", say: "Covered, {{result.plan}}.", set: {plan: "{{result.plan}}"}, next: done}
        - {when: error, say: "The lookup failed.", next: kind}
        - {say: "Not covered.", next: done}
    - id: done
      prompt: Bye.
      end: true
)");
  auto step = model_->Start();
  EXPECT_EQ(step.text, "What kind of damage?");
  step = model_->Hear("somebody stole it, it was stolen", false);
  EXPECT_EQ(step.text, "So it was theft?");
  EXPECT_FALSE(memory_.Has("kind")) << "not stored before the caller confirms";
  // An answer that is neither yes nor no: the re-prompt reads back the value still waiting.
  step = model_->Hear("what was that", false);
  EXPECT_EQ(step.text, "Please say yes or no. So it was theft?");
  step = model_->Hear("no", false);
  EXPECT_TRUE(Has(step.text, "Let's try that again. What kind of damage?")) << step.text;
  step = model_->Hear("another car hit me", false);
  step = model_->Hear("yes", false);
  EXPECT_EQ(step.text, "Checking.");
  ASSERT_TRUE(step.call);
  EXPECT_EQ(step.call->name, "lookup");
  EXPECT_EQ(nlohmann::json::parse(step.call->arguments),
            nlohmann::json({{"kind", "collision"}, {"fixed", "k-collision"}}));
  EXPECT_EQ(model_->current_node(), "check");
  step = model_->ToolResult(R"({"covered": true, "plan": "gold"})");
  EXPECT_EQ(step.text, "Covered, gold. Bye.");
  EXPECT_EQ(memory_.Values()["plan"], "gold");
  EXPECT_EQ(model_->current_node(), "done");
}

TEST_F(FlowModelTest, ToolErrorsBranchAndUnhandledOutcomesRecover) {
  Load(R"(name: a
tools: [lookup]
flow:
  start: check
  nodes:
    - id: check
      tool: lookup
      on_result:
        - {when: found, say: "Found.", next: done}
    - id: done
      prompt: Bye.
      end: true
)");
  auto step = model_->Start();
  ASSERT_TRUE(step.call);
  step = model_->ToolResult(R"({"error": "database down"})");
  EXPECT_EQ(step.text, "I'm sorry, I couldn't complete that just now.");
  // The caller's next words retry the node's call.
  step = model_->Hear("hello?", false);
  ASSERT_TRUE(step.call);
  step = model_->ToolResult(R"({"found": true})");
  EXPECT_EQ(step.text, "Found. Bye.");
}

TEST_F(FlowModelTest, FailedTransferGoesToOnFailureOrBackToTheStart) {
  Load(R"(name: a
tools: [transfer_call]
flow:
  start: menu
  nodes:
    - id: menu
      prompt: Say billing or operator.
      answers:
        - {name: billing, keywords: [billing], next: billing}
        - {name: operator, keywords: [operator], next: to_operator}
    - id: billing
      prompt: Billing desk.
      transfer: "sip:billing@contoso.com"
    - id: to_operator
      prompt: Transferring you.
      transfer: "+18005550199"
      reason: asked for a person
      on_failure: busy
    - id: busy
      prompt: Everyone is busy.
      next: menu
)");
  auto step = model_->Start();
  step = model_->Hear("operator please", false);
  EXPECT_EQ(step.text, "Transferring you.");
  ASSERT_TRUE(step.call);
  EXPECT_EQ(step.call->name, "transfer_call");
  EXPECT_EQ(nlohmann::json::parse(step.call->arguments)["destination"], "+18005550199");
  // The phone line could not transfer: the caller is still with us.
  step = model_->Event("transfer_failed: busy");
  EXPECT_EQ(step.text, "Everyone is busy. Say billing or operator.");
  EXPECT_FALSE(step.call);
  EXPECT_EQ(model_->current_node(), "menu");
  // Without on_failure: an apology and the start node.
  step = model_->Hear("billing", false);
  ASSERT_TRUE(step.call);
  EXPECT_EQ(nlohmann::json::parse(step.call->arguments)["destination"],
            "sip:billing@contoso.com");
  step = model_->Event("transfer_failed: no answer");
  EXPECT_EQ(step.text, "I'm sorry, I couldn't transfer your call just now. Say billing or operator.");
  // Any other event repeats where the conversation is.
  step = model_->Event("something_else: x");
  EXPECT_EQ(step.text, "Say billing or operator.");
}

TEST_F(FlowModelTest, StreamsWordsThenTheCall) {
  Load(R"(name: a
tools: [lookup]
flow:
  start: check
  nodes:
    - id: check
      prompt: One moment please.
      tool: lookup
      next: done
    - id: done
      prompt: Done.
      end: true
)");
  std::vector<std::string> deltas;
  std::vector<ToolCall> calls;
  std::string finish;
  ModelCallbacks cb;
  cb.on_text = [&](std::string_view d) { deltas.emplace_back(d); };
  cb.on_tool_call = [&](ToolCall c) { calls.push_back(c); };
  cb.on_done = [&](const core::Status& s, const ModelResult& r) {
    ASSERT_TRUE(s.ok());
    finish = r.finish_reason;
  };
  ModelRequest req;
  req.greeting = true;
  auto stream = model_->Stream(req, cb);
  EXPECT_TRUE(deltas.empty()) << "nothing inside Stream()";
  ex_->RunPending();
  EXPECT_EQ(deltas, (std::vector<std::string>{"One", " moment", " please."}));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(finish, "tool_calls");
  // A cancelled stream says nothing more.
  deltas.clear();
  ChatMessage tool{ChatMessage::Role::kTool, "{}"};
  req = ModelRequest{};
  req.messages = {tool};
  stream = model_->Stream(req, cb);
  stream->Cancel();
  ex_->RunPending();
  EXPECT_TRUE(deltas.empty());
}

TEST_F(FlowModelTest, ShippedGrammarsFollowTheNode) {
  Load(R"(name: a
speech: {grammar: true}
flow:
  start: number
  nodes:
    - id: number
      prompt: Your number?
      slot: {name: n, type: digits, min_length: 4, max_length: 4}
      next: name
    - id: name
      prompt: Your name?
      slot: {name: who, type: name}
      next: number
)");
  model_->Start();
  EXPECT_TRUE(Has(model_->ExpectedGrammar(), "#JSGF")) << "digits: closed grammar";
  model_->Hear("one two three four", false);
  EXPECT_EQ(model_->current_node(), "name");
  EXPECT_EQ(model_->ExpectedGrammar(), "") << "names: open vocabulary";
}

}  // namespace
}  // namespace artagent::agent
