// The insurance scenario on the LLM path: the orchestrator with the real OpenAI-compatible model
// over real HTTP against a local server replaying documented chat-completions SSE streams
// (protocols.md §3), and the real insurance tools on SQLite.

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "agent/models/openai/openai_model.h"
#include "agent/orchestrator.h"
#include "agent/tools/insurance/insurance_tools.h"
#include "core/thread_pool.h"
#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::agent {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::SerialThreadExecutor;
using nlohmann::json;
using session::HistoryItem;

std::string SourceDir() {
  const char* d = std::getenv("ARTAGENT_SOURCE_DIR");
  return d ? d : ".";
}

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string Sse(const json& j) { return "data: " + j.dump() + "\n\n"; }
std::string Text(const std::string& t) {
  return Sse(
      {{"id", "c"},
       {"object", "chat.completion.chunk"},
       {"choices", {{{"index", 0}, {"delta", {{"content", t}}}, {"finish_reason", nullptr}}}}});
}
std::string Finish(const std::string& reason) {
  return Sse({{"id", "c"},
              {"object", "chat.completion.chunk"},
              {"choices", {{{"index", 0}, {"delta", json::object()}, {"finish_reason", reason}}}}});
}
// The first fragment of a call carries its id and name; the arguments follow in pieces.
std::string CallStart(int index, const std::string& id, const std::string& name) {
  return Sse({{"id", "c"},
              {"choices",
               {{{"index", 0},
                 {"delta",
                  {{"tool_calls",
                    {{{"index", index},
                      {"id", id},
                      {"type", "function"},
                      {"function", {{"name", name}, {"arguments", ""}}}}}}}},
                 {"finish_reason", nullptr}}}}});
}
std::string CallArgs(int index, const std::string& piece) {
  return Sse(
      {{"id", "c"},
       {"choices",
        {{{"index", 0},
          {"delta", {{"tool_calls", {{{"index", index}, {"function", {{"arguments", piece}}}}}}}},
          {"finish_reason", nullptr}}}}});
}
// Azure OpenAI's first chunk: no choices, only the prompt's content-filter results.
const std::string kAzureFirst =
    Sse({{"id", ""},
         {"choices", json::array()},
         {"prompt_filter_results",
          {{{"prompt_index", 0}, {"content_filter_results", json::object()}}}}});
const char kDone[] = "data: [DONE]\n\n";

ScriptedResponse Stream() {
  ScriptedResponse r(200);
  r.Header("Content-Type", "text/event-stream").Chunked();
  return r;
}

class InsuranceLlmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ScriptedServer::Start();
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    http_ = net::HttpClient::Create();
    auto s = LoadScenario(SourceDir() + "/agents", "insurance");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scenario_ = std::make_shared<ScenarioConfig>(std::move(s).value());
    auto data = InsuranceData::Open(":memory:", SourceDir() + "/agents/insurance/demo_data.json");
    ASSERT_TRUE(data.ok());
    data_ = *data;
    ASSERT_TRUE(RegisterInsuranceTools(&tools_, data_, &pool_).ok());
    OrchestratorDeps deps;
    deps.scenario = scenario_;
    deps.tools = &tools_;
    deps.executor = ex_;
    deps.model_factory =
        [this](const AgentConfig&,
               std::shared_ptr<core::Executor> ex) -> core::Result<std::unique_ptr<Model>> {
      OpenAiModelOptions o;
      // The Azure deployment URL form, with its api-key header.
      o.base_url = server_->base_url() + "/openai/deployments/gpt-4o";
      o.api_version = "2024-10-21";
      o.api_key = "azure-key";
      o.max_retries = 2;
      o.backoff.initial = std::chrono::milliseconds(10);
      o.idle_timeout = std::chrono::milliseconds(2000);
      return CreateOpenAiModel(o, http_.get(), std::move(ex));
    };
    OrchestratorOptions oo;
    oo.session_id = "sess_llm";
    oo.default_provider = "openai";
    orch_ = std::make_unique<Orchestrator>(std::move(deps), oo);
  }
  void TearDown() override {
    ex_->RunSync([this] {
      stream_.reset();
      orch_.reset();
    });
  }

  struct Reply {
    std::string text;
    core::Status status;
    std::vector<session::ToolCallInfo> tools;
    std::vector<session::HandoffInfo> handoffs;
  };

  // One caller turn, the way the session drives it: history in, callbacks on the strand.
  Reply Say(const std::string& text, bool greeting = false) {
    if (!greeting)
      history_.push_back({"u" + std::to_string(history_.size()), HistoryItem::Role::kUser, text});
    auto reply = std::make_shared<Reply>();
    auto done = std::make_shared<std::promise<void>>();
    ex_->RunSync([&] {
      session::ResponseRequest req;
      req.history = &history_;
      req.greeting = greeting;
      session::ResponseCallbacks cb;
      cb.on_text = [reply](std::string_view d) { reply->text += d; };
      cb.on_tool_finished = [this, reply](const session::ToolCallInfo& c) {
        reply->tools.push_back(c);
        HistoryItem h;
        h.id = c.call_id;
        h.role = HistoryItem::Role::kTool;
        h.tool = c;
        history_.push_back(h);
      };
      cb.on_handoff = [this, reply](const session::HandoffInfo& h) {
        reply->handoffs.push_back(h);
        HistoryItem item;
        item.role = HistoryItem::Role::kHandoff;
        item.handoff = h;
        history_.push_back(item);
      };
      cb.on_done = [reply, done](const core::Status& s) {
        reply->status = s;
        done->set_value();
      };
      stream_ = orch_->Respond(req, std::move(cb));
    });
    EXPECT_EQ(done->get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
    ex_->RunSync([&] {
      if (!reply->text.empty()) {
        history_.push_back(
            {"a" + std::to_string(history_.size()), HistoryItem::Role::kAssistant, reply->text});
      }
    });
    return *reply;
  }

  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<SerialThreadExecutor> ex_ = SerialThreadExecutor::Create();
  core::ThreadPool pool_{2, 64, "tools"};
  std::shared_ptr<ScenarioConfig> scenario_;
  std::shared_ptr<InsuranceData> data_;
  ToolRegistry tools_;
  std::unique_ptr<Orchestrator> orch_;
  std::unique_ptr<session::ResponseStream> stream_;
  std::vector<HistoryItem> history_;
};

TEST_F(InsuranceLlmTest, ToolLoopHandoffRetryParallelCallsAndRecovery) {
  // The scripted greeting needs no model call.
  auto r = Say("", /*greeting=*/true);
  EXPECT_EQ(r.text, "Thank you for calling Contoso Insurance.");
  EXPECT_EQ(server_->request_count(), 0u);

  // Verification: Azure's empty first chunk, then one tool call in fragments.
  server_->Enqueue(Stream()
                       .Write(kAzureFirst)
                       .Write(CallStart(0, "call_v", "verify_caller"))
                       .Write(CallArgs(0, R"({"policy_number":"4021)"))
                       .Write(CallArgs(0, R"(3587","pin":"4821"})"))
                       .Write(Finish("tool_calls"))
                       .Write(kDone));
  server_->Enqueue(Stream()
                       .Write(Text("Thanks Sarah, you're verified. "))
                       .Write(Text("Claim or policy question?"))
                       .Write(Finish("stop"))
                       .Write(kDone));
  r = Say("my policy number is 40213587 and my pin is 4821");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "verify_caller");
  EXPECT_TRUE(Has(r.tools[0].output, "\"verified\":true")) << r.tools[0].output;
  EXPECT_EQ(r.text, "Thanks Sarah, you're verified. Claim or policy question?");
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target,
            "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(requests[0].Header("api-key"), "azure-key");
  json first = json::parse(requests[0].body);
  EXPECT_TRUE(first["stream"].get<bool>());
  EXPECT_TRUE(Has(first["messages"][0]["content"], "Contoso Insurance")) << "rendered prompt";
  bool offered_handoff = false;
  for (const auto& t : first["tools"]) {
    offered_handoff = offered_handoff || t["function"]["name"] == "handoff_fnol_agent";
  }
  EXPECT_TRUE(offered_handoff);
  // The second request carries the call and its result.
  json second = json::parse(requests[1].body);
  const json& msgs = second["messages"];
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_EQ(msgs[msgs.size() - 2]["tool_calls"][0]["function"]["name"], "verify_caller");
  EXPECT_EQ(msgs.back()["role"], "tool");
  EXPECT_EQ(msgs.back()["tool_call_id"], "call_v");

  // Announced hand-off to the claims agent: its scripted greeting, by name from memory.
  server_->Enqueue(Stream()
                       .Write(CallStart(0, "call_h", "handoff_fnol_agent"))
                       .Write(CallArgs(0, R"({"reason":"car accident"})"))
                       .Write(Finish("tool_calls"))
                       .Write(kDone));
  r = Say("I want to file a claim");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.handoffs.size(), 1u);
  EXPECT_EQ(r.handoffs[0].to, "fnol_agent");
  EXPECT_EQ(r.text, "Hi Sarah, I'm the claims specialist. I'll take down what happened.");
  EXPECT_EQ(orch_->agent_name(), "fnol_agent");

  // 429 with retry-after, then parallel calls (policy lookup + claim), then the read-back.
  server_->Enqueue(ScriptedResponse(429)
                       .Header("Content-Type", "application/json")
                       .Header("retry-after-ms", "50")
                       .Write(R"({"error":{"message":"Rate limit reached","code":"429"}})"));
  server_->Enqueue(
      Stream()
          .Write(CallStart(0, "call_p", "get_policy"))
          .Write(CallStart(1, "call_c", "create_claim"))
          .Write(CallArgs(0, R"({"policy_number":"40213587"})"))
          .Write(CallArgs(1, R"({"policy_number":"40213587","incident_date":"2026-11-20",)"))
          .Write(CallArgs(
              1, R"("location":"Main Street, Redmond","description":"A tree fell on the car",)"))
          .Write(CallArgs(1, R"("injuries":false,"vehicle_drivable":true})"))
          .Write(Finish("tool_calls"))
          .Write(kDone));
  server_->Enqueue(Stream().Write(Text("Your claim is filed.")).Write(Finish("stop")).Write(kDone));
  r = Say("a tree fell on my car on main street in redmond last friday, nobody hurt, it drives");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.tools.size(), 2u);
  std::string claim_number;
  for (const auto& t : r.tools) {
    EXPECT_EQ(t.status, "completed") << t.name << ": " << t.output;
    if (t.name == "create_claim") claim_number = json::parse(t.output)["claim_number"];
  }
  ASSERT_EQ(claim_number.size(), 8u);
  auto claim = data_->FindClaim(claim_number);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->location, "Main Street, Redmond");
  EXPECT_EQ(r.text, "Your claim is filed.");
  EXPECT_EQ(server_->request_count(), 6u) << "3 before + 429 + retry + the read-back";

  // A stream that stops mid-way: the text so far stays, the turn ends with an error.
  server_->Enqueue(Stream().Write(Text("Let me also")).Close());
  r = Say("thanks, anything else?");
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.text, "Let me also");
  // ... and the next turn works again.
  server_->Enqueue(Stream().Write(Text("Goodbye.")).Write(Finish("stop")).Write(kDone));
  r = Say("no, bye");
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.text, "Goodbye.");
}

}  // namespace
}  // namespace artagent::agent
