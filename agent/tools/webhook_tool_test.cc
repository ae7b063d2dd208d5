#include "agent/tools/webhook_tool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <map>

#include "core/log.h"
#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::agent {
namespace {

using core::StatusCode;
using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::ScriptedStep;
using net::testing::SerialThreadExecutor;
using nlohmann::json;

constexpr const char* kFile = "agents/demo/scenario.yaml";

core::Result<WebhookToolConfig> Parse(const std::string& yaml) {
  return ParseWebhookTool(YAML::Load(yaml), kFile);
}

void ExpectParseError(const std::string& yaml, const std::string& where, const std::string& what) {
  auto config = Parse(yaml);
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(where), std::string::npos) << config.status().message();
  EXPECT_NE(config.status().message().find(what), std::string::npos) << config.status().message();
}

// ---- Parsing ----

TEST(WebhookToolParseTest, ReadsEveryField) {
  auto config = Parse(R"(
name: lookup_order
description: Look up an order.
url: https://orders.example.com/api/lookup
method: post
parameters:
  type: object
  properties:
    order_number: {type: string, description: "8 digits"}
    max: {type: integer, maximum: 10, default: "2"}
    express: {type: boolean, default: true}
  required: [order_number]
headers:
  X-Api-Version: "2"
auth: {header: X-Api-Key, scheme: Token, secret: secret://ORDERS_KEY}
timeout_ms: 2500
idempotent: true
retries: 3
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->name, "lookup_order");
  EXPECT_EQ(config->description, "Look up an order.");
  EXPECT_EQ(config->url, "https://orders.example.com/api/lookup");
  EXPECT_EQ(config->method, "POST");
  EXPECT_EQ(config->parameters["required"], json::array({"order_number"}));
  EXPECT_EQ(config->parameters["properties"]["max"]["maximum"], 10);
  EXPECT_EQ(config->parameters["properties"]["max"]["default"], "2");  // quoted: a string
  EXPECT_EQ(config->parameters["properties"]["express"]["default"], true);
  ASSERT_EQ(config->headers.size(), 1u);
  EXPECT_EQ(config->headers[0], (std::pair<std::string, std::string>{"X-Api-Version", "2"}));
  ASSERT_TRUE(config->auth.has_value());
  EXPECT_EQ(config->auth->header, "X-Api-Key");
  EXPECT_EQ(config->auth->scheme, "Token");
  EXPECT_EQ(config->auth->secret_ref, "secret://ORDERS_KEY");
  EXPECT_EQ(config->timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(config->idempotent);
  EXPECT_EQ(config->retries, 3);
  EXPECT_EQ(config->file, kFile);
  EXPECT_EQ(config->line, 2);
}

TEST(WebhookToolParseTest, DefaultsDependOnTheMethod) {
  auto post = Parse("name: a\ndescription: d\nurl: http://127.0.0.1/x\n");
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  EXPECT_EQ(post->method, "POST");
  EXPECT_FALSE(post->idempotent);
  EXPECT_EQ(post->retries, 0);
  EXPECT_EQ(post->timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE(post->auth.has_value());
  EXPECT_EQ(post->parameters, (json{{"type", "object"}, {"properties", json::object()}}));

  auto get = Parse("name: a\ndescription: d\nurl: http://127.0.0.1/x\nmethod: GET\n");
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->idempotent);
  EXPECT_EQ(get->retries, 2);
  auto auth = Parse("name: a\ndescription: d\nurl: http://h/\nauth: {secret: secret://T}\n");
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->auth->header, "Authorization");
  EXPECT_EQ(auth->auth->scheme, "");
}

TEST(WebhookToolParseTest, ErrorsNameFileLineAndTool) {
  const std::string head = "name: t\ndescription: d\nurl: http://h/x\n";
  ExpectParseError(head + "timout_ms: 5\n", std::string(kFile) + ":4: tool 't'",
                   "unknown key 'timout_ms'");
  ExpectParseError("name: t\ndescription: d\n", std::string(kFile) + ":1", "'url' is required");
  ExpectParseError("name: t\nurl: http://h/\n", ":1", "'description' is required");
  ExpectParseError("description: d\nurl: http://h/\n", ":1", "'name' is required");
  ExpectParseError("name: get order\ndescription: d\nurl: http://h/\n", ":1",
                   "cannot be called by a model");
  ExpectParseError("name: t\ndescription: d\nurl: ftp://h/x\n", ":3", "http:// or https://");
  ExpectParseError(head + "method: DELETE\n", ":4", "not POST or GET");
  ExpectParseError(head + "auth:\n  secret: hunter2\n", ":5", "never the secret itself");
  ExpectParseError(head + "auth: {scheme: Bearer}\n", ":4", "needs 'secret");
  ExpectParseError(head + "retries: 2\n", ":4", "needs 'idempotent: true'");
  ExpectParseError(head + "idempotent: true\nretries: 9\n", ":5", "'retries'");
  ExpectParseError(head + "timeout_ms: 0\n", ":4", "'timeout_ms'");
  ExpectParseError(head + "timeout_ms: soon\n", ":4", "'timeout_ms'");
  ExpectParseError(head + "idempotent: maybe\n", ":4", "'idempotent'");
  ExpectParseError(head + "parameters: [a, b]\n", ":4", "'parameters'");
  ExpectParseError(head + "headers: {Content-Length: '5'}\n", ":4", "set by artagent");
  ExpectParseError(head + "headers: {Authorization: x}\nauth: {secret: secret://T}\n", ":4",
                   "also set by 'auth'");
  ExpectParseError("- a\n- b\n", ":1", "must be a map");
}

// ---- Calls against a scripted server ----

class WebhookToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SetLogLevel(core::LogLevel::kError);
    auto server = ScriptedServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = net::HttpClient::Create();
    executor_ = SerialThreadExecutor::Create();
  }
  void TearDown() override {
    executor_.reset();  // joins: no callback runs after this
    server_.reset();
    client_.reset();
  }

  WebhookToolConfig Config(const std::string& extra = "") {
    auto config =
        Parse("name: lookup_order\ndescription: Look up an order.\nurl: " + server_->base_url() +
              "/api/orders\n" + extra);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return config.ok() ? *config : WebhookToolConfig{};
  }

  std::unique_ptr<Tool> Make(WebhookToolConfig config, SecretResolver resolver = nullptr) {
    WebhookToolOptions options;
    options.backoff.initial = std::chrono::milliseconds(1);
    options.backoff.max = std::chrono::milliseconds(5);
    options.seed = 7;
    auto tool = MakeWebhookTool(std::move(config), client_.get(), resolver, options);
    EXPECT_TRUE(tool.ok()) << tool.status().ToString();
    return tool.ok() ? std::move(tool).value() : nullptr;
  }

  // Invokes on the executor, as the orchestrator does, and waits for `done`.
  ToolResult Run(Tool& tool, const json& args) {
    auto promise = std::make_shared<std::promise<ToolResult>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    std::unique_ptr<ToolRun> run;
    ToolContext context;
    context.session_id = "sess_abc";
    context.agent = "claims_agent";
    context.executor = executor_;
    executor_->RunSync([&] {
      run = tool.Invoke(args, context, [promise, calls](ToolResult result) {
        if (calls->fetch_add(1) == 0) promise->set_value(std::move(result));
      });
    });
    auto future = promise->get_future();
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "the tool never reported";
      executor_->RunSync([&] { run.reset(); });
      return ToolResult{core::InternalError("no result")};
    }
    ToolResult result = future.get();
    executor_->RunSync([&] { run.reset(); });  // after done: a second report would have counted
    EXPECT_EQ(calls->load(), 1);
    return result;
  }

  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> client_;
  std::shared_ptr<SerialThreadExecutor> executor_;
};

TEST_F(WebhookToolTest, PostsTheArgumentsAndReturnsTheJsonAnswer) {
  server_->Enqueue(ScriptedResponse(200)
                       .Header("Content-Type", "application/json")
                       .Write(R"({"status": "shipped", "eta": "2026-12-01"})"));
  auto tool = Make(Config("headers: {X-Api-Version: '2'}\n"));
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->spec().name, "lookup_order");
  EXPECT_EQ(tool->spec().description, "Look up an order.");
  EXPECT_FALSE(tool->idempotent());

  json args = {{"order_number", "12345678"}, {"express", true}};
  ToolResult result = Run(*tool, args);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.output, (json{{"status", "shipped"}, {"eta", "2026-12-01"}}));

  ASSERT_EQ(server_->request_count(), 1u);
  auto request = server_->requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/orders");
  EXPECT_EQ(json::parse(request.body), args);
  EXPECT_EQ(request.Header("Content-Type"), "application/json");
  EXPECT_EQ(request.Header("X-Artagent-Session"), "sess_abc");
  EXPECT_EQ(request.Header("X-Artagent-Agent"), "claims_agent");
  EXPECT_EQ(request.Header("X-Api-Version"), "2");
  EXPECT_EQ(request.Header("Authorization"), "");
}

TEST_F(WebhookToolTest, GetPutsTheArgumentsInTheQueryString) {
  server_->Enqueue(ScriptedResponse(200).Write(R"({"ok": true})"));
  auto tool = Make(Config("method: GET\n"));
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, {{"q", "red car & more"}, {"limit", 3}});
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  auto request = server_->requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/api/orders?limit=3&q=red%20car%20%26%20more");
  EXPECT_EQ(request.body, "");
}

TEST_F(WebhookToolTest, SendsTheResolvedSecretInTheAuthHeader) {
  server_->Enqueue(ScriptedResponse(200).Write("{}"));
  std::map<std::string, std::string> vault = {{"secret://ORDERS_TOKEN", "tok-123"}};
  std::vector<std::string> asked;
  SecretResolver resolver = [&](const std::string& ref) -> core::Result<std::string> {
    asked.push_back(ref);
    auto it = vault.find(ref);
    if (it == vault.end()) return core::NotFoundError("no secret " + ref);
    return it->second;
  };
  auto tool = Make(Config("auth: {scheme: Bearer, secret: secret://ORDERS_TOKEN}\n"), resolver);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(asked, std::vector<std::string>{"secret://ORDERS_TOKEN"});
  ToolResult result = Run(*tool, json::object());
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(server_->requests().at(0).Header("Authorization"), "Bearer tok-123");

  auto missing =
      MakeWebhookTool(Config("auth: {secret: secret://NOPE}\n"), client_.get(), resolver);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("secret://NOPE"), std::string::npos);
  EXPECT_NE(missing.status().message().find("lookup_order"), std::string::npos);
}

TEST(WebhookSecretTest, ResolvesSecretReferencesFromTheEnvironment) {
  ::setenv("ARTAGENT_TEST_WEBHOOK_SECRET", "from-env", 1);
  auto value = ResolveSecretFromEnvironment("secret://ARTAGENT_TEST_WEBHOOK_SECRET");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "from-env");
  ::unsetenv("ARTAGENT_TEST_WEBHOOK_SECRET");
  auto unset = ResolveSecretFromEnvironment("secret://ARTAGENT_TEST_WEBHOOK_SECRET");
  EXPECT_EQ(unset.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unset.status().message().find("ARTAGENT_TEST_WEBHOOK_SECRET"), std::string::npos);
  EXPECT_EQ(ResolveSecretFromEnvironment("ARTAGENT_TEST_WEBHOOK_SECRET").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WebhookToolTest, TimesOutWhenTheServerNeverAnswers) {
  server_->Enqueue(
      ScriptedResponse(200).BeforeHead({ScriptedStep{ScriptedStep::Kind::kHang, "", {}}}));
  auto tool = Make(Config("timeout_ms: 300\n"));
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->timeout(), std::chrono::milliseconds(1300));
  ToolResult result = Run(*tool, json::object());
  EXPECT_EQ(result.status.code(), StatusCode::kDeadlineExceeded) << result.status.ToString();
  EXPECT_NE(result.status.message().find("lookup_order"), std::string::npos);
}

TEST_F(WebhookToolTest, ANonJsonAnswerIsAnError) {
  server_->Enqueue(ScriptedResponse(200).Header("Content-Type", "text/html").Write("<html>hi"));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, json::object());
  ASSERT_FALSE(result.status.ok());
  EXPECT_NE(result.status.message().find("tool returned invalid JSON"), std::string::npos)
      << result.status.ToString();
  EXPECT_EQ(result.output.value("error", ""), result.status.message());
}

TEST_F(WebhookToolTest, NonObjectAndEmptyAnswersStillReadAsObjects) {
  server_->Enqueue(ScriptedResponse(200).Write("[1, 2]"));
  server_->Enqueue(ScriptedResponse(204));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  ToolResult list = Run(*tool, json::object());
  ASSERT_TRUE(list.status.ok()) << list.status.ToString();
  EXPECT_EQ(list.output, (json{{"result", {1, 2}}}));
  ToolResult empty = Run(*tool, json::object());
  ASSERT_TRUE(empty.status.ok()) << empty.status.ToString();
  EXPECT_EQ(empty.output, json::object());
}

TEST_F(WebhookToolTest, AnErrorStatusGivesTheStatusAndTheStartOfTheBody) {
  server_->Enqueue(ScriptedResponse(404).Write("no such order: 12345678"));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, json::object());
  EXPECT_EQ(result.status.code(), StatusCode::kNotFound);
  EXPECT_NE(result.status.message().find("HTTP 404"), std::string::npos);
  EXPECT_NE(result.status.message().find("no such order: 12345678"), std::string::npos);

  server_->Enqueue(ScriptedResponse(400).Write(std::string(5000, 'x')));
  ToolResult long_body = Run(*tool, json::object());
  EXPECT_EQ(long_body.status.code(), StatusCode::kInvalidArgument);
  EXPECT_LT(long_body.status.message().size(), 400u);
}

TEST_F(WebhookToolTest, AnIdempotentToolIsRetriedAfterA500) {
  server_->Enqueue(ScriptedResponse(500).Write("try again"));
  server_->Enqueue(ScriptedResponse(200).Write(R"({"status": "shipped"})"));
  auto tool = Make(Config("idempotent: true\nretries: 2\n"));
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, {{"order_number", "1"}});
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.output, (json{{"status", "shipped"}}));
  ASSERT_EQ(server_->request_count(), 2u);
  auto requests = server_->requests();
  EXPECT_EQ(requests[0].body, requests[1].body);
}

TEST_F(WebhookToolTest, RetriesEndWithTheLastError) {
  for (int i = 0; i < 4; ++i) server_->Enqueue(ScriptedResponse(503).Write("busy"));
  auto tool = Make(Config("idempotent: true\nretries: 2\n"));
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, json::object());
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status.message().find("HTTP 503"), std::string::npos);
  EXPECT_NE(result.status.message().find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(WebhookToolTest, ANonIdempotentToolIsSentOnce) {
  server_->Enqueue(ScriptedResponse(500).Write("oops"));
  server_->Enqueue(ScriptedResponse(200).Write("{}"));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, json::object());
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status.message().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 1u);

  // A connection cut short is not retried either.
  server_.reset();
  auto fresh = ScriptedServer::Start();
  ASSERT_TRUE(fresh.ok());
  server_ = std::move(fresh).value();
  server_->Enqueue(ScriptedResponse(200).Header("Content-Length", "100").Write("{").Close());
  server_->Enqueue(ScriptedResponse(200).Write("{}"));
  auto cut_tool = Make(Config());
  ASSERT_NE(cut_tool, nullptr);
  ToolResult cut = Run(*cut_tool, json::object());
  EXPECT_EQ(cut.status.code(), StatusCode::kUnavailable) << cut.status.ToString();
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(WebhookToolTest, AConnectionFailureIsRetriedForAnIdempotentTool) {
  server_->Enqueue(ScriptedResponse(200).Header("Content-Length", "100").Write("{").Close());
  server_->Enqueue(ScriptedResponse(200).Write(R"({"n": 2})"));
  auto tool = Make(Config("idempotent: true\n"));
  ASSERT_NE(tool, nullptr);
  ToolResult result = Run(*tool, json::object());
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.output, (json{{"n", 2}}));
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(WebhookToolTest, AnswersOver64KiBAreRefused) {
  std::string big = "{\"x\": \"" + std::string(70 * 1024, 'a') + "\"}";
  server_->Enqueue(ScriptedResponse(200).Write(big));
  server_->Enqueue(
      ScriptedResponse(200).Chunked().Write(big.substr(0, 40000)).Write(big.substr(40000)));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  ToolResult with_length = Run(*tool, json::object());
  EXPECT_EQ(with_length.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(with_length.status.message().find("64 KiB"), std::string::npos);
  ToolResult chunked = Run(*tool, json::object());
  EXPECT_EQ(chunked.status.code(), StatusCode::kResourceExhausted);

  std::string fits = "{\"x\": \"" + std::string(60 * 1024, 'a') + "\"}";
  server_->Enqueue(ScriptedResponse(200).Write(fits));
  EXPECT_TRUE(Run(*tool, json::object()).status.ok());
}

TEST_F(WebhookToolTest, ACancelledCallNeverReports) {
  server_->Enqueue(
      ScriptedResponse(200).BeforeHead({ScriptedStep{ScriptedStep::Kind::kHang, "", {}}}));
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  std::atomic<int> calls{0};
  std::unique_ptr<ToolRun> run;
  ToolContext context;
  context.executor = executor_;
  executor_->RunSync(
      [&] { run = tool->Invoke(json::object(), context, [&](ToolResult) { ++calls; }); });
  ASSERT_TRUE(server_->WaitForRequests(1, std::chrono::seconds(10)));
  executor_->RunSync([&] { run->Cancel(); });
  server_.reset();  // closes the hung connection: the client sees it end
  executor_->RunSync([] {});
  client_.reset();  // joins the client's I/O threads: nothing is left to deliver
  executor_->RunSync([] {});
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(WebhookToolTest, WithoutAnExecutorTheCallFailsAtOnce) {
  auto tool = Make(Config());
  ASSERT_NE(tool, nullptr);
  int calls = 0;
  ToolResult got;
  auto run = tool->Invoke(json::object(), ToolContext{}, [&](ToolResult r) {
    ++calls;
    got = std::move(r);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.status.code(), StatusCode::kInternal);
  EXPECT_EQ(server_->request_count(), 0u);
}

}  // namespace
}  // namespace artagent::agent
