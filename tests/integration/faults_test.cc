// Upstream faults, end to end: the real server with model.provider=openai pointed at a scripted
// fake OpenAI endpoint (and a webhook tool at a scripted fake service) that fails on cue. Each
// time the caller hears a spoken recovery, and the next turn is answered once the fake recovers.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/testing/scripted_server.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::ScriptedStep;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kApology[] = "I'm sorry, I ran into a problem on my side.";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Sse(const json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

json Chunk(const json& delta, const json& finish_reason = nullptr) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion.chunk"},
          {"model", "fake"},
          {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}};
}

ScriptedResponse SseHead() {
  ScriptedResponse r(200);
  r.Header("Content-Type", "text/event-stream").Chunked();
  return r;
}

// A streamed reply, one chunk per word.
ScriptedResponse Reply(const std::string& text) {
  ScriptedResponse r = SseHead();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start + 1);
    if (end == std::string::npos) end = text.size();
    r.Write(Sse(Chunk({{"content", text.substr(start, end - start)}})));
    start = end;
  }
  r.Write(Sse(Chunk(json::object(), "stop"))).Write("data: [DONE]\n\n");
  return r;
}

// The model calls one tool.
ScriptedResponse CallTool(const std::string& call_id, const std::string& name,
                          const json& arguments) {
  ScriptedResponse r = SseHead();
  r.Write(Sse(Chunk({{"role", "assistant"},
                     {"tool_calls",
                      {{{"index", 0},
                        {"id", call_id},
                        {"type", "function"},
                        {"function", {{"name", name}, {"arguments", arguments.dump()}}}}}}})));
  r.Write(Sse(Chunk(json::object(), "tool_calls"))).Write("data: [DONE]\n\n");
  return r;
}

ScriptedResponse Error(int status, const std::string& message) {
  ScriptedResponse r(status);
  r.Header("Content-Type", "application/json")
      .Write(json{{"error", {{"message", message}, {"type", "server_error"}}}}.dump());
  return r;
}

// The connection is dropped before any answer (a reset as the client sees it).
ScriptedResponse Reset() {
  ScriptedResponse r(200);
  r.BeforeHead({{ScriptedStep::Kind::kClose, "", {}}});
  return r;
}

// No answer at all: the request hangs until the client gives up.
ScriptedResponse Hang() {
  ScriptedResponse r(200);
  r.BeforeHead({{ScriptedStep::Kind::kHang, "", {}}});
  return r;
}

// A scenario of one LLM agent, written for the test (the webhook tool's URL is only known now).
std::string WriteScenario(const std::string& tool_url = "") {
  const std::string dir = TempDir("agents");
  std::filesystem::create_directories(dir + "/faults");
  std::ofstream scenario(dir + "/faults/scenario.yaml");
  scenario << "description: Fault injection line.\n"
              "start_agent: helper\n"
              "agents: [helper.yaml]\n";
  if (!tool_url.empty()) {
    scenario << "tools:\n"
                "  - name: lookup_order\n"
                "    description: Finds an order by number.\n"
                "    url: "
             << tool_url
             << "/lookup\n"
                "    method: POST\n"
                "    parameters: {type: object, properties: {order: {type: string}}, required: "
                "[order]}\n"
                "    timeout_ms: 1500\n";
  }
  std::ofstream agent(dir + "/faults/helper.yaml");
  agent << "name: helper\n"
           "description: Answers questions.\n"
           "greeting: Hello, this is the test line.\n"
           "model: {provider: openai}\n"
        << (tool_url.empty() ? "" : "tools: [lookup_order]\n")
        << "instructions: You answer questions about orders.\n";
  return dir;
}

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = ScriptedServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status().ToString();
    model_ = std::move(fake).value();
  }

  // `env` adds to (and overrides) the defaults of these tests.
  void StartServer(std::map<std::string, std::string> env = {}, const std::string& tool_url = "") {
    env.emplace("ARTAGENT_MODEL__PROVIDER", "openai");
    env.emplace("ARTAGENT_MODEL__ENDPOINT", model_->base_url() + "/v1");
    env.emplace("ARTAGENT_MODEL__NAME", "fake-model");
    env.emplace("ARTAGENT_MODEL__TIMEOUT_S", "2");
    env.emplace("ARTAGENT_AGENTS__DIR", WriteScenario(tool_url));
    env.emplace("ARTAGENT_AGENTS__SCENARIO", "faults");
    env.emplace("ARTAGENT_AGENTS__HOT_RELOAD_S", "0");
    server_ = std::make_unique<ServerProcess>(env);
    ASSERT_TRUE(server_->ok()) << "server did not start:\n" << server_->StderrTail();
  }

  // A text-only Realtime session past its greeting.
  void Connect(WsClient& ws) {
    ASSERT_TRUE(ws.Connect(server_->port(), "/v1/realtime"));
    ASSERT_TRUE(ws.WaitFor("session.created"));
    ws.Send({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
    ASSERT_TRUE(ws.WaitFor("session.updated"));
    auto greeting = ws.WaitFor("response.done", seconds(30));
    ASSERT_TRUE(greeting);
    EXPECT_TRUE(Contains(ReplyText(*greeting), "test line")) << greeting->dump();
  }

  static std::string ReplyText(const json& done) {
    std::string text;
    for (const auto& item : done["response"]["output"]) {
      for (const auto& part : item.value("content", json::array())) {
        text += part.value("text", "") + part.value("transcript", "");
      }
    }
    return text;
  }

  // A typed caller turn; returns the response.done that ends the agent's reply.
  json Say(WsClient& ws, const std::string& text) {
    ws.Send({{"type", "conversation.item.create"},
             {"item",
              {{"type", "message"},
               {"role", "user"},
               {"content", {{{"type", "input_text"}, {"text", text}}}}}}});
    ws.Send({{"type", "response.create"}});
    auto done = ws.WaitFor("response.done", seconds(40));
    EXPECT_TRUE(done) << "no response.done after '" << text << "'";
    return done ? *done : json::object();
  }

  json Ready() {
    HttpResult r = HttpGet(server_->port(), "/readyz");
    return r.Json();
  }

  // The value of a Prometheus sample whose line starts with `prefix` and contains `label`.
  double Metric(const std::string& name, const std::string& label) {
    HttpResult r = HttpGet(server_->port(), "/metrics");
    std::istringstream lines(r.body);
    std::string line;
    double sum = 0;
    while (std::getline(lines, line)) {
      if (line.starts_with(name + "{") && Contains(line, label)) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return sum;
  }

  std::unique_ptr<ScriptedServer> model_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FaultsTest, RetryableModelFailuresAreRetriedAndTheTurnIsAnswered) {
  StartServer({{"ARTAGENT_MODEL__MAX_RETRIES", "2"}});
  WsClient ws;
  Connect(ws);

  // 503, then success: retried, answered.
  model_->Enqueue(Error(503, "overloaded"));
  model_->Enqueue(Reply("Your order ships tomorrow."));
  json done = Say(ws, "where is my order");
  EXPECT_EQ(done["response"]["status"], "completed") << done.dump();
  EXPECT_EQ(ReplyText(done), "Your order ships tomorrow.");
  EXPECT_EQ(model_->request_count(), 2u);

  // 429 with Retry-After: the retry waits as asked, then the turn is answered.
  ScriptedResponse limited = Error(429, "rate limited");
  limited.Header("Retry-After", "1");
  model_->Enqueue(std::move(limited));
  model_->Enqueue(Reply("It is in the warehouse."));
  done = Say(ws, "and now");
  EXPECT_EQ(ReplyText(done), "It is in the warehouse.");
  auto requests = model_->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_GE(requests[3].received_at - requests[2].received_at, milliseconds(900))
      << "Retry-After: 1 was not honoured";

  // A connection reset before any answer is retried too.
  model_->Enqueue(Reset());
  model_->Enqueue(Reply("Anything else?"));
  done = Say(ws, "thanks");
  EXPECT_EQ(ReplyText(done), "Anything else?");
  EXPECT_EQ(model_->request_count(), 6u);
  EXPECT_GE(Metric("artagent_model_retries_total", "fake-model"), 3);
  EXPECT_EQ(Ready()["checks"]["model"]["ok"], true);
}

TEST_F(FaultsTest, FailedRepliesEndInAnApologyAndTheNextTurnIsAnswered) {
  StartServer({{"ARTAGENT_MODEL__MAX_RETRIES", "0"}, {"ARTAGENT_MODEL__BREAKER_FAILURES", "50"}});
  WsClient ws;
  Connect(ws);

  // A stream cut off mid-reply: what was said stays, an apology follows.
  ScriptedResponse truncated = SseHead();
  truncated.Write(Sse(Chunk({{"content", "Your order"}}))).Close();
  model_->Enqueue(std::move(truncated));
  json done = Say(ws, "where is my order");
  std::string text = ReplyText(done);
  EXPECT_TRUE(text.starts_with("Your order")) << text;
  EXPECT_TRUE(Contains(text, kApology)) << text;
  model_->Enqueue(Reply("It ships tomorrow."));
  EXPECT_EQ(ReplyText(Say(ws, "say again")), "It ships tomorrow.");

  // A connection reset, with no retries left.
  model_->Enqueue(Reset());
  EXPECT_TRUE(Contains(ReplyText(Say(ws, "hello?")), kApology));
  model_->Enqueue(Reply("I am here."));
  EXPECT_EQ(ReplyText(Say(ws, "are you there")), "I am here.");

  // A 500 with no retries left.
  model_->Enqueue(Error(500, "internal error"));
  EXPECT_TRUE(Contains(ReplyText(Say(ws, "hello again")), kApology));

  // No first token within model.timeout_s (2 s): the caller is not left waiting in silence.
  model_->Enqueue(Hang());
  done = Say(ws, "are you still there");
  EXPECT_EQ(done["response"]["status"], "completed");
  EXPECT_TRUE(Contains(ReplyText(done), kApology)) << done.dump();
  model_->Enqueue(Reply("Yes, still here."));
  EXPECT_EQ(ReplyText(Say(ws, "ok")), "Yes, still here.");

  // Every failure was reported to the client and counted; the session is still the same one.
  EXPECT_EQ(ws.AllOfType("error").size(), 4u);
  EXPECT_FALSE(ws.closed());
  EXPECT_GE(Metric("artagent_model_requests_total", "status=\"error\""), 4);
}

TEST_F(FaultsTest, RepeatedFailuresOpenTheBreakerAndItClosesAfterTheCoolDown) {
  StartServer({{"ARTAGENT_MODEL__MAX_RETRIES", "0"},
               {"ARTAGENT_MODEL__BREAKER_FAILURES", "2"},
               {"ARTAGENT_MODEL__BREAKER_OPEN_S", "2"}});
  WsClient ws;
  Connect(ws);
  EXPECT_EQ(Ready()["checks"]["model"]["ok"], true);

  model_->Enqueue(Error(503, "down"));
  model_->Enqueue(Error(503, "down"));
  EXPECT_TRUE(Contains(ReplyText(Say(ws, "one")), kApology));
  EXPECT_TRUE(Contains(ReplyText(Say(ws, "two")), kApology));
  json ready = Ready();
  EXPECT_EQ(ready["ready"], false);
  EXPECT_EQ(ready["checks"]["model"]["ok"], false);
  EXPECT_TRUE(Contains(ready["checks"]["model"]["detail"], "circuit open")) << ready.dump();
  HttpResult readyz = HttpGet(server_->port(), "/readyz");
  EXPECT_EQ(readyz.status, 503);

  // Open: the caller still hears an apology at once, and the endpoint is left alone.
  EXPECT_TRUE(Contains(ReplyText(Say(ws, "three")), kApology));
  EXPECT_EQ(model_->request_count(), 2u);
  EXPECT_GE(Metric("artagent_model_requests_total", "status=\"error\""), 3);

  // After the cool-down one trial request goes out; it succeeds and the breaker closes.
  model_->Enqueue(Reply("Back in business."));
  std::string text;
  for (int i = 0; i < 40 && model_->request_count() == 2u; ++i) {
    std::this_thread::sleep_for(milliseconds(250));  // the cool-down is time itself
    text = ReplyText(Say(ws, "still there?"));
  }
  EXPECT_EQ(text, "Back in business.");
  ready = Ready();
  EXPECT_EQ(ready["checks"]["model"]["ok"], true) << ready.dump();
  EXPECT_TRUE(Contains(ready["checks"]["model"]["detail"], "circuit closed")) << ready.dump();
  EXPECT_EQ(ready["ready"], true) << ready.dump();
}

TEST_F(FaultsTest, WebhookToolFailuresReachTheModelAsErrorsAndTheSessionGoesOn) {
  auto tool_server = ScriptedServer::Start();
  ASSERT_TRUE(tool_server.ok());
  auto& tool = *tool_server;
  StartServer({{"ARTAGENT_MODEL__MAX_RETRIES", "0"}}, tool->base_url());
  WsClient ws;
  Connect(ws);

  struct Case {
    std::string name;
    ScriptedResponse answer;
    std::string in_error;  // what the model is told
  };
  ScriptedResponse hang(200);
  hang.BeforeHead({{ScriptedStep::Kind::kHang, "", {}}});
  std::vector<Case> cases;
  cases.push_back({"500", Error(500, "database down"), "500"});
  cases.push_back({"timeout", std::move(hang), "time"});
  cases.push_back({"reset", Reset(), ""});
  int turn = 0;
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    const size_t before = model_->request_count();
    tool->Enqueue(std::move(c.answer));
    model_->Enqueue(CallTool("call_" + c.name, "lookup_order", {{"order", "A1"}}));
    model_->Enqueue(Reply("I could not look that up right now."));
    json done = Say(ws, "where is order A1, turn " + std::to_string(++turn));
    EXPECT_EQ(done["response"]["status"], "completed") << done.dump();
    EXPECT_EQ(ReplyText(done), "I could not look that up right now.");
    auto completed = ws.WaitFor("artagent.tool.completed", seconds(5));
    ASSERT_TRUE(completed);
    EXPECT_EQ((*completed)["name"], "lookup_order");
    EXPECT_NE((*completed)["status"], "completed") << completed->dump();
    // The model's second request carries the tool's error as the call's result.
    ASSERT_EQ(model_->request_count(), before + 2);
    json second = json::parse(model_->requests()[before + 1].body);
    const json& last = second["messages"].back();
    EXPECT_EQ(last["role"], "tool") << last.dump();
    EXPECT_EQ(last["tool_call_id"], "call_" + c.name);
    const std::string content = last["content"];
    EXPECT_TRUE(Contains(content, "error")) << content;
    if (!c.in_error.empty()) {
      EXPECT_TRUE(Contains(content, c.in_error)) << content;
    }
  }
  // The service recovers: the same tool works in the same session.
  ScriptedResponse ok(200);
  ok.Header("Content-Type", "application/json").Write(R"({"status":"shipped"})");
  tool->Enqueue(std::move(ok));
  model_->Enqueue(CallTool("call_ok", "lookup_order", {{"order", "A1"}}));
  model_->Enqueue(Reply("Order A1 has shipped."));
  EXPECT_EQ(ReplyText(Say(ws, "try again")), "Order A1 has shipped.");
  EXPECT_FALSE(ws.closed());
  EXPECT_EQ(Metric("artagent_tool_calls_total", "tool=\"lookup_order\""), 4);
}

}  // namespace
}  // namespace artagent::testing
