#include "agent/orchestrator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>

#include "agent/tools/insurance/insurance_tools.h"
#include "core/fake_executor.h"

namespace artagent::agent {
namespace {

using session::HistoryItem;

std::string SourceDir() {
  const char* d = std::getenv("ARTAGENT_SOURCE_DIR");
  return d ? d : ".";
}

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A model that replays scripted steps (text + tool calls) and records what it was asked.
class ScriptedModel : public Model {
 public:
  struct Step {
    std::string text;
    std::vector<ToolCall> calls;
    core::Status status;
  };
  ScriptedModel(std::shared_ptr<core::Executor> ex, std::deque<Step>* steps,
                std::vector<ModelRequest>* requests)
      : ex_(std::move(ex)), steps_(steps), requests_(requests) {}
  std::string name() const override { return "scripted"; }
  std::unique_ptr<ModelStream> Stream(const ModelRequest& request, ModelCallbacks cb) override {
    requests_->push_back(request);
    Step step = steps_->empty() ? Step{"(no more script)", {}, core::OkStatus()} : steps_->front();
    if (!steps_->empty()) steps_->pop_front();
    auto cancelled = std::make_shared<bool>(false);
    ex_->Post([cancelled, cb, step] {
      if (*cancelled) return;
      if (!step.text.empty()) cb.on_text(step.text);
      for (const auto& c : step.calls) cb.on_tool_call(c);
      ModelResult r;
      r.finish_reason = step.calls.empty() ? "stop" : "tool_calls";
      cb.on_done(step.status, r);
    });
    struct S : ModelStream {
      std::shared_ptr<bool> c;
      void Cancel() override { *c = true; }
      ~S() override { *c = true; }
    };
    auto s = std::make_unique<S>();
    s->c = cancelled;
    return s;
  }

 private:
  std::shared_ptr<core::Executor> ex_;
  std::deque<Step>* steps_;
  std::vector<ModelRequest>* requests_;
};

// A tool that answers only when the test says so (to barge in while it runs).
class ManualTool : public Tool {
 public:
  explicit ManualTool(std::string name) : spec_{std::move(name), "test tool", {}} {}
  const ToolSpec& spec() const override { return spec_; }
  std::chrono::milliseconds timeout() const override { return std::chrono::seconds(5); }
  std::unique_ptr<ToolRun> Invoke(const nlohmann::json& args, const ToolContext&,
                                  std::function<void(ToolResult)> done) override {
    last_args = args;
    pendings.push_back(done);
    pending = std::move(done);
    ++calls;
    struct R : ToolRun {
      bool* cancelled;
      void Cancel() override { *cancelled = true; }
    };
    auto r = std::make_unique<R>();
    r->cancelled = &cancelled;
    return r;
  }
  ToolSpec spec_;
  nlohmann::json last_args;
  std::function<void(ToolResult)> pending;  // the latest call's
  std::vector<std::function<void(ToolResult)>> pendings;
  int calls = 0;
  bool cancelled = false;
};

// Drives an orchestrator the way a session does: keeps the history, records every callback.
class Conversation {
 public:
  Conversation(std::shared_ptr<core::FakeExecutor> ex, Orchestrator* o) : ex_(ex), o_(o) {}

  struct Reply {
    std::string text;
    core::Status status;
    bool done = false;
    std::vector<session::ToolCallInfo> started, finished;
    std::vector<session::HandoffInfo> handoffs;
    std::vector<session::SlotInfo> slots;
    std::vector<session::CallControl> controls;
  };

  Reply Say(const std::string& text, bool dtmf = false) {
    HistoryItem u{"u" + std::to_string(history.size()), HistoryItem::Role::kUser, text};
    u.dtmf = dtmf;
    history.push_back(u);
    return Respond(false, false);
  }

  Reply Respond(bool greeting, bool no_input) {
    Reply reply;
    stream = Start(greeting, no_input, &reply);
    ex_->RunPending();
    Record(reply);
    return reply;
  }

  std::unique_ptr<session::ResponseStream> Start(bool greeting, bool no_input, Reply* reply) {
    session::ResponseRequest req;
    req.history = &history;
    req.greeting = greeting;
    req.no_input = no_input;
    req.client_tools = &client_tools;
    session::ResponseCallbacks cb;
    cb.on_text = [reply](std::string_view d) { reply->text += d; };
    cb.on_done = [reply](const core::Status& s) {
      reply->status = s;
      reply->done = true;
    };
    cb.on_tool_started = [reply](const session::ToolCallInfo& c) { reply->started.push_back(c); };
    cb.on_tool_finished = [this, reply](const session::ToolCallInfo& c) {
      reply->finished.push_back(c);
      HistoryItem h;
      h.id = c.call_id;
      h.role = HistoryItem::Role::kTool;
      h.tool = c;
      history.push_back(h);
    };
    cb.on_handoff = [this, reply](const session::HandoffInfo& h) {
      reply->handoffs.push_back(h);
      HistoryItem item;
      item.role = HistoryItem::Role::kHandoff;
      item.handoff = h;
      history.push_back(item);
    };
    cb.on_slot = [reply](const session::SlotInfo& s) { reply->slots.push_back(s); };
    cb.on_call_control = [reply](const session::CallControl& c) { reply->controls.push_back(c); };
    return o_->Respond(req, std::move(cb));
  }

  void Record(const Reply& reply) {
    if (!reply.text.empty()) {
      history.push_back(
          {"a" + std::to_string(history.size()), HistoryItem::Role::kAssistant, reply.text});
    }
  }

  std::vector<HistoryItem> history;
  std::vector<nlohmann::json> client_tools;
  std::unique_ptr<session::ResponseStream> stream;

 private:
  std::shared_ptr<core::FakeExecutor> ex_;
  Orchestrator* o_;
};

class InsuranceCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = LoadScenario(SourceDir() + "/agents", "insurance");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scenario_ = std::make_shared<ScenarioConfig>(std::move(s).value());
    auto data = InsuranceData::Open(":memory:", SourceDir() + "/agents/insurance/demo_data.json",
                                    {.random = nullptr, .today = [] { return "2026-11-24"; }});
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    data_ = *data;
    ASSERT_TRUE(RegisterInsuranceTools(&tools_, data_, ex_.get()).ok());
    OrchestratorDeps deps;
    deps.scenario = scenario_;
    deps.tools = &tools_;
    deps.executor = ex_;
    orch_ = std::make_unique<Orchestrator>(std::move(deps), OrchestratorOptions{"sess_test"});
    conv_ = std::make_unique<Conversation>(ex_, orch_.get());
  }

  std::shared_ptr<core::FakeExecutor> ex_ = std::make_shared<core::FakeExecutor>();
  std::shared_ptr<ScenarioConfig> scenario_;
  std::shared_ptr<InsuranceData> data_;
  ToolRegistry tools_;
  std::unique_ptr<Orchestrator> orch_;
  std::unique_ptr<Conversation> conv_;
};

TEST_F(InsuranceCallTest, VerifyFileAClaimAndHearItsNumber) {
  auto r = conv_->Respond(/*greeting=*/true, false);
  ASSERT_TRUE(r.done && r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(Has(r.text, "Thank you for calling Contoso Insurance. To get started")) << r.text;
  EXPECT_EQ(orch_->agent_name(), "auth_agent");

  r = conv_->Say("it's four zero two one three five eight seven");
  EXPECT_TRUE(Has(r.text, "I heard 4, 0, 2, 1, 3, 5, 8, 7. Is that right?")) << r.text;
  r = conv_->Say("yes");
  EXPECT_TRUE(Has(r.text, "date of birth, or your PIN")) << r.text;
  ASSERT_EQ(r.slots.size(), 1u);
  EXPECT_EQ(r.slots[0].name, "policy_number");
  EXPECT_EQ(r.slots[0].value, "\"40213587\"");

  r = conv_->Say("date of birth please");
  EXPECT_TRUE(Has(r.text, "first and last name")) << r.text;
  r = conv_->Say("my name is sarah johnson");
  EXPECT_TRUE(Has(r.text, "date of birth?")) << r.text;
  r = conv_->Say("march fourteenth nineteen eighty five");
  ASSERT_EQ(r.finished.size(), 1u) << r.text;
  EXPECT_EQ(r.finished[0].name, "verify_caller");
  EXPECT_EQ(r.finished[0].status, "completed");
  EXPECT_TRUE(Has(r.finished[0].arguments, "\"date_of_birth\":\"1985-03-14\""))
      << r.finished[0].arguments;
  EXPECT_TRUE(Has(r.text, "Thank you, Sarah, you're verified.")) << r.text;
  EXPECT_TRUE(Has(r.text, "file a claim, or do you have a question")) << r.text;
  EXPECT_TRUE(orch_->memory().Has("caller_name"));

  // Announced hand-off: the claims agent greets by name, in the same response.
  r = conv_->Say("i need to file a claim");
  ASSERT_EQ(r.handoffs.size(), 1u);
  EXPECT_EQ(r.handoffs[0].from, "auth_agent");
  EXPECT_EQ(r.handoffs[0].to, "fnol_agent");
  EXPECT_EQ(r.handoffs[0].type, "announced");
  EXPECT_EQ(orch_->agent_name(), "fnol_agent");
  EXPECT_EQ(orch_->speech().voice, "kal16");
  EXPECT_TRUE(Has(r.text, "claims specialist. Hi Sarah, I'm the claims specialist")) << r.text;
  EXPECT_TRUE(Has(r.text, "When did it happen?")) << r.text;
  // The hand-off call and its output are in the history before the new agent speaks.
  ASSERT_EQ(r.finished.size(), 1u);
  EXPECT_EQ(r.finished[0].name, "handoff_fnol_agent");

  r = conv_->Say("yesterday");
  EXPECT_TRUE(Has(r.text, "Where did it happen?")) << r.text;
  r = conv_->Say("on main street in redmond");
  r = conv_->Say("a truck hit my car while it was parked");
  EXPECT_TRUE(Has(r.text, "anyone injured")) << r.text;
  r = conv_->Say("no");
  r = conv_->Say("yes it can");
  EXPECT_TRUE(Has(r.text, "When: November 23rd, 2026. Where: on main street in redmond."))
      << r.text;
  r = conv_->Say("yes please file it");
  ASSERT_EQ(r.finished.size(), 1u) << r.text;
  EXPECT_EQ(r.finished[0].name, "create_claim");
  ASSERT_EQ(r.finished[0].status, "completed") << r.finished[0].output;
  auto out = nlohmann::json::parse(r.finished[0].output);
  const std::string number = out["claim_number"];
  ASSERT_EQ(number.size(), 8u);
  std::string spelled;
  for (char c : number) spelled += std::string(spelled.empty() ? "" : ", ") + c;
  EXPECT_TRUE(Has(r.text, "Your claim number is " + spelled)) << r.text;
  // The claim really is in the database, with what the caller said.
  auto claim = data_->FindClaim(number);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->policy_number, "40213587");
  EXPECT_EQ((*claim)->incident_date, "2026-11-23");
  EXPECT_TRUE(Has((*claim)->description, "truck hit my car"));
  EXPECT_FALSE((*claim)->injuries);

  // Back to policy questions (announced), then goodbye ends the call.
  r = conv_->Say("what is my deductible");
  EXPECT_EQ(orch_->agent_name(), "policy_agent");
  r = conv_->Say("my deductible");
  EXPECT_TRUE(Has(r.text, "Your deductible is")) << r.text;
  r = conv_->Say("no that's all");
  ASSERT_EQ(r.controls.size(), 1u) << r.text;
  EXPECT_EQ(r.controls[0].kind, session::CallControl::Kind::kEndCall);
  EXPECT_TRUE(Has(r.text, "Goodbye")) << r.text;
}

TEST_F(InsuranceCallTest, DiscreteHandoffCarriesTheQuestionOver) {
  conv_->Respond(true, false);
  conv_->Say("40213587", true);
  conv_->Say("yes");
  conv_->Say("pin");
  conv_->Say("4821", true);
  auto r = conv_->Say("i have a question about my deductible");
  ASSERT_EQ(r.handoffs.size(), 1u);
  EXPECT_EQ(r.handoffs[0].type, "discrete");
  EXPECT_EQ(orch_->agent_name(), "policy_agent");
  // No greeting, no "what would you like to know": the answer, straight away.
  EXPECT_FALSE(Has(r.text, "I can help with questions")) << r.text;
  EXPECT_FALSE(Has(r.text, "What would you like to know")) << r.text;
  EXPECT_TRUE(Has(r.text, "Your deductible is $500.")) << r.text;
  EXPECT_TRUE(Has(r.text, "Anything else about your policy?")) << r.text;
}

TEST_F(InsuranceCallTest, DtmfAnswersDigitSlotsAndMenus) {
  conv_->Respond(true, false);
  auto r = conv_->Say("40213587", /*dtmf=*/true);
  EXPECT_TRUE(Has(r.text, "I heard 4, 0, 2, 1, 3, 5, 8, 7")) << r.text;
  r = conv_->Say("1", true);  // keypad "1" confirms
  EXPECT_TRUE(Has(r.text, "press 1 for date of birth")) << r.text;
  r = conv_->Say("2", true);  // PIN
  EXPECT_TRUE(Has(r.text, "four digit PIN")) << r.text;
  r = conv_->Say("4821", true);
  ASSERT_EQ(r.finished.size(), 1u);
  EXPECT_TRUE(Has(r.text, "you're verified")) << r.text;
}

TEST_F(InsuranceCallTest, NoMatchAndNoInputReprompt) {
  conv_->Respond(true, false);
  auto r = conv_->Say("i don't know it");
  EXPECT_TRUE(Has(r.text, "eight digit policy number")) << r.text;
  r = conv_->Respond(false, /*no_input=*/true);
  EXPECT_TRUE(Has(r.text, "Are you still there?")) << r.text;
  r = conv_->Say("one two three");
  EXPECT_TRUE(Has(r.text, "Sorry")) << r.text;
  // After max_retries the node gives up: goodbye and the call ends.
  r = conv_->Say("no idea");
  ASSERT_EQ(r.controls.size(), 1u) << r.text;
  EXPECT_TRUE(Has(r.text, "Goodbye")) << r.text;
}

TEST_F(InsuranceCallTest, WrongDetailsAreNotVerified) {
  conv_->Respond(true, false);
  conv_->Say("40213587", true);
  conv_->Say("yes");
  conv_->Say("pin");
  auto r = conv_->Say("1111", true);
  ASSERT_EQ(r.finished.size(), 1u);
  EXPECT_TRUE(Has(r.text, "doesn't match our records")) << r.text;
  EXPECT_TRUE(Has(r.text, "date of birth, or your PIN")) << r.text;
  EXPECT_EQ(orch_->agent_name(), "auth_agent");
}

// ---- the tool loop with a scripted LLM ----

class ToolLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = std::make_shared<ScenarioConfig>();
    s->name = "t";
    s->start_agent = "front";
    AgentConfig front;
    front.name = "front";
    front.model.provider = "openai";
    front.greeting = "Hello.";
    front.instructions = "You help {{caller_name}}.";
    front.tools = {"lookup", "end_call"};
    AgentConfig back;
    back.name = "back";
    back.model.provider = "openai";
    back.greeting = "Back office here.";
    s->agents.emplace("front", front);
    s->agents.emplace("back", back);
    s->edges.push_back({"front", "back", "announced", false, "handoff_back", "", 1});
    s->remember = {"caller_name"};
    scenario_ = s;
    auto tool = std::make_unique<ManualTool>("lookup");
    tool_ = tool.get();
    ASSERT_TRUE(tools_.Register(std::move(tool)).ok());
    OrchestratorDeps deps;
    deps.scenario = scenario_;
    deps.tools = &tools_;
    deps.executor = ex_;
    deps.model_factory =
        [this](const AgentConfig&,
               std::shared_ptr<core::Executor> ex) -> core::Result<std::unique_ptr<Model>> {
      return std::unique_ptr<Model>(new ScriptedModel(ex, &steps_, &requests_));
    };
    orch_ = std::make_unique<Orchestrator>(std::move(deps), OrchestratorOptions{"sess_t"});
    conv_ = std::make_unique<Conversation>(ex_, orch_.get());
  }
  std::shared_ptr<core::FakeExecutor> ex_ = std::make_shared<core::FakeExecutor>();
  std::shared_ptr<ScenarioConfig> scenario_;
  ToolRegistry tools_;
  ManualTool* tool_ = nullptr;
  std::deque<ScriptedModel::Step> steps_;
  std::vector<ModelRequest> requests_;
  std::unique_ptr<Orchestrator> orch_;
  std::unique_ptr<Conversation> conv_;
};

TEST_F(ToolLoopTest, ScriptedGreetingNeedsNoModelCall) {
  auto r = conv_->Respond(true, false);
  EXPECT_EQ(r.text, "Hello.");
  EXPECT_TRUE(requests_.empty());
}

TEST_F(ToolLoopTest, ParallelCallsRunTogetherAndFeedTheModel) {
  steps_.push_back(
      {"Let me check.", {{"c1", "lookup", R"({"q":1})"}, {"c2", "lookup", R"({"q":2})"}}});
  steps_.push_back({"Found it, Ann.", {}});
  conv_->history.push_back({"u1", HistoryItem::Role::kUser, "find my order"});
  Conversation::Reply reply;
  auto stream = conv_->Start(false, false, &reply);
  ex_->RunPending();
  // Both calls are out; answer the first, then the second.
  ASSERT_EQ(reply.started.size(), 2u);
  ASSERT_TRUE(tool_->pending);
  EXPECT_EQ(tool_->calls, 2);
  ASSERT_EQ(tool_->pendings.size(), 2u);
  tool_->pendings[1](ToolResult{core::OkStatus(), {{"caller_name", "Ann"}, {"order", "shipped"}}});
  ex_->RunPending();
  EXPECT_FALSE(reply.done) << "one call is still running";
  EXPECT_EQ(reply.finished.size(), 1u);
  tool_->pendings[0](ToolResult{core::OkStatus(), {{"order", "shipped"}}});
  ex_->RunPending();
  ASSERT_TRUE(reply.done);
  EXPECT_EQ(reply.text, "Let me check. Found it, Ann.");
  ASSERT_EQ(requests_.size(), 2u);
  const auto& msgs = requests_[1].messages;
  // system, user, assistant(tool_calls x2), tool, tool
  ASSERT_GE(msgs.size(), 5u);
  EXPECT_EQ(msgs[msgs.size() - 3].tool_calls.size(), 2u);
  EXPECT_EQ(msgs.back().role, ChatMessage::Role::kTool);
  EXPECT_EQ(msgs.back().tool_call_id, "c2");
  EXPECT_EQ(reply.slots.size(), 1u);  // caller_name remembered
  EXPECT_EQ(reply.slots[0].name, "caller_name");
  // The next request's system prompt knows it.
  conv_->Record(reply);
  steps_.push_back({"Anything else?", {}});
  conv_->Say("thanks");
  EXPECT_TRUE(Has(requests_.back().messages[0].content, "You help Ann."))
      << requests_.back().messages[0].content;
  EXPECT_TRUE(Has(requests_.back().messages[0].content, "- caller_name: Ann"));
}

TEST_F(ToolLoopTest, BadArgumentsUnknownToolsAndTimeoutsGoBackToTheModel) {
  steps_.push_back({"", {{"c1", "lookup", "{not json"}, {"c2", "teleport", "{}"}}});
  steps_.push_back({"", {{"c3", "lookup", "{}"}}});
  steps_.push_back({"Sorry, that did not work.", {}});
  auto r = conv_->Say("go");
  ASSERT_FALSE(r.done) << "waiting for c3";
  ASSERT_EQ(r.finished.size(), 2u);
  EXPECT_EQ(r.finished[0].status, "failed");
  EXPECT_TRUE(Has(r.finished[0].output, "not a JSON object"));
  EXPECT_EQ(r.finished[1].status, "failed");
  EXPECT_TRUE(Has(r.finished[1].output, "no tool named 'teleport'"));
  ex_->AdvanceBy(std::chrono::seconds(6));  // c3 times out
  EXPECT_TRUE(tool_->cancelled);
}

TEST_F(ToolLoopTest, ToolTimeoutIsReportedAndTheTurnEnds) {
  steps_.push_back({"", {{"c1", "lookup", "{}"}}});
  steps_.push_back({"It is taking too long.", {}});
  conv_->history.push_back({"u1", HistoryItem::Role::kUser, "go"});
  Conversation::Reply reply;
  auto stream = conv_->Start(false, false, &reply);
  ex_->RunPending();
  ex_->AdvanceBy(std::chrono::seconds(6));
  ASSERT_TRUE(reply.done);
  ASSERT_EQ(reply.finished.size(), 1u);
  EXPECT_EQ(reply.finished[0].status, "timeout");
  EXPECT_TRUE(Has(reply.finished[0].output, "timed out"));
  EXPECT_EQ(reply.text, "It is taking too long.");
  // A late answer from the tool is ignored.
  tool_->pending(ToolResult{core::OkStatus(), {}});
  ex_->RunPending();
  EXPECT_EQ(reply.finished.size(), 1u);
}

TEST_F(ToolLoopTest, CancelDuringAToolStopsEverything) {
  steps_.push_back({"One moment.", {{"c1", "lookup", "{}"}}});
  conv_->history.push_back({"u1", HistoryItem::Role::kUser, "go"});
  Conversation::Reply reply;
  auto stream = conv_->Start(false, false, &reply);
  ex_->RunPending();
  ASSERT_EQ(reply.started.size(), 1u);
  stream.reset();  // barge-in
  EXPECT_TRUE(tool_->cancelled);
  tool_->pending(ToolResult{core::OkStatus(), {}});
  ex_->RunPending();
  EXPECT_FALSE(reply.done);
  EXPECT_TRUE(reply.finished.empty());
  EXPECT_EQ(requests_.size(), 1u);
}

TEST_F(ToolLoopTest, HandoffWithoutSharedContextAndEndCall) {
  steps_.push_back({"Transferring.", {{"h1", "handoff_back", R"({"reason":"billing"})"}}});
  conv_->history.push_back({"u0", HistoryItem::Role::kUser, "hello there"});
  conv_->history.push_back({"a0", HistoryItem::Role::kAssistant, "hi"});
  auto r = conv_->Say("i need the back office");
  ASSERT_TRUE(r.done);
  ASSERT_EQ(r.handoffs.size(), 1u);
  EXPECT_FALSE(r.handoffs[0].share_context);
  EXPECT_EQ(r.handoffs[0].reason, "billing");
  EXPECT_EQ(r.text, "Transferring. Back office here.");
  EXPECT_EQ(orch_->agent_name(), "back");
  // The back office sees only the caller's last request and what followed the hand-off.
  steps_.push_back({"Sure.", {}});
  conv_->Say("about my bill");
  const auto& msgs = requests_.back().messages;
  for (const auto& m : msgs) EXPECT_FALSE(Has(m.content, "hello there")) << m.content;
  bool saw_request = false;
  for (const auto& m : msgs) saw_request = saw_request || m.content == "i need the back office";
  EXPECT_TRUE(saw_request);
  // The back agent does not list end_call: refused; front could.
  EXPECT_TRUE(orch_->ToolsFor(*scenario_->Find("back")).empty());
  EXPECT_EQ(orch_->ToolsFor(*scenario_->Find("front")).size(), 3u);  // lookup, end_call, handoff
}

TEST_F(ToolLoopTest, ClientToolsEndTheResponseWithTheCallPending) {
  conv_->client_tools.push_back(
      {{"type", "function"}, {"name", "get_weather"}, {"parameters", {{"type", "object"}}}});
  steps_.push_back({"", {{"w1", "get_weather", R"({"city":"Oslo"})"}}});
  auto r = conv_->Say("weather in oslo?");
  ASSERT_TRUE(r.done);
  ASSERT_EQ(r.finished.size(), 1u);
  EXPECT_EQ(r.finished[0].status, "client");
  EXPECT_EQ(requests_.size(), 1u);
  bool offered = false;
  for (const auto& t : requests_[0].tools) offered = offered || t.name == "get_weather";
  EXPECT_TRUE(offered);
}

TEST_F(ToolLoopTest, ModelFailureAndEndlessToolCallsEndTheTurnWithAnError) {
  steps_.push_back({"Half a sent", {}, core::UnavailableError("stream cut")});
  auto r = conv_->Say("hi");
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.text, "Half a sent");
  for (int i = 0; i < 10; ++i) steps_.push_back({"", {{"", "end_call", "{}"}}});
  r = conv_->Say("loop");
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(Has(r.status.message(), "still calling tools"));
}

}  // namespace
}  // namespace artagent::agent
