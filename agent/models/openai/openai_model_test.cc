#include "agent/models/openai/openai_model.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::agent {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using net::testing::SerialThreadExecutor;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kWait{10000};  // upper bound for a callback to come; never reached

std::string Sse(const std::string& json_text) { return "data: " + json_text + "\n\n"; }

std::string TextChunk(const std::string& text) {
  return Sse(json({{"id", "chatcmpl-1"},
                   {"object", "chat.completion.chunk"},
                   {"choices",
                    {{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}}}})
                 .dump());
}

std::string FinishChunk(const std::string& reason) {
  return Sse(
      json({{"id", "chatcmpl-1"},
            {"object", "chat.completion.chunk"},
            {"choices", {{{"index", 0}, {"delta", json::object()}, {"finish_reason", reason}}}}})
          .dump());
}

std::string UsageChunk(int prompt, int completion) {
  return Sse(json({{"id", "chatcmpl-1"},
                   {"choices", json::array()},
                   {"usage",
                    {{"prompt_tokens", prompt},
                     {"completion_tokens", completion},
                     {"total_tokens", prompt + completion}}}})
                 .dump());
}

const char kDone[] = "data: [DONE]\n\n";

ScriptedResponse SseResponse() {
  ScriptedResponse r(200);
  r.Header("Content-Type", "text/event-stream").Chunked();
  return r;
}

// What a stream delivered, recorded on the executor thread.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> texts;
  std::vector<ToolCall> calls;
  std::vector<std::string> order;  // "text", "tool", "done"
  std::optional<core::Status> status;
  ModelResult result;
  int done_count = 0;

  ModelCallbacks Callbacks() {
    ModelCallbacks cb;
    cb.on_text = [this](std::string_view t) {
      std::lock_guard<std::mutex> lock(mu);
      texts.emplace_back(t);
      order.push_back("text");
      cv.notify_all();
    };
    cb.on_tool_call = [this](ToolCall c) {
      std::lock_guard<std::mutex> lock(mu);
      calls.push_back(std::move(c));
      order.push_back("tool");
      cv.notify_all();
    };
    cb.on_done = [this](const core::Status& st, const ModelResult& r) {
      std::lock_guard<std::mutex> lock(mu);
      status = st;
      result = r;
      ++done_count;
      order.push_back("done");
      cv.notify_all();
    };
    return cb;
  }
  core::Status WaitDone() {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, kWait, [&] { return status.has_value(); })) << "no on_done";
    return status.value_or(core::InternalError("no on_done"));
  }
  bool WaitText(size_t count) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kWait, [&] { return texts.size() >= count; });
  }
  std::string Text() {
    std::lock_guard<std::mutex> lock(mu);
    std::string all;
    for (const auto& t : texts) all += t;
    return all;
  }
};

class OpenAiModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ScriptedServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = net::HttpClient::Create();
    options_.base_url = server_->base_url() + "/v1";
    options_.model = "gpt-4o-mini";
    options_.api_key = "sk-test";
    options_.backoff = {milliseconds(5), milliseconds(50), 2.0, 0.0};
    options_.jitter_seed = 7;
  }
  void TearDown() override {
    ex_->RunSync([&] { stream_.reset(); });
    model_.reset();
    client_.reset();
    ex_->RunSync([] {});
  }

  Model& model() {
    if (!model_) {
      auto model = CreateOpenAiModel(options_, client_.get(), ex_);
      EXPECT_TRUE(model.ok()) << model.status().ToString();
      model_ = std::move(model).value();
    }
    return *model_;
  }

  static ModelRequest Hello() {
    ModelRequest request;
    request.messages.push_back({ChatMessage::Role::kSystem, "You are a phone agent."});
    request.messages.push_back({ChatMessage::Role::kUser, "Hello"});
    return request;
  }

  core::Status Run(const ModelRequest& request) {
    stream_ = model().Stream(request, rec_.Callbacks());
    return rec_.WaitDone();
  }

  std::shared_ptr<SerialThreadExecutor> ex_ = SerialThreadExecutor::Create();
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> client_;
  OpenAiModelOptions options_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<ModelStream> stream_;
  Recorder rec_;
};

TEST_F(OpenAiModelTest, StreamsPlainTextWithUsage) {
  server_->Enqueue(SseResponse()
                       .Write(TextChunk("Hel"))
                       .Write(TextChunk("lo there") + TextChunk("."))
                       .Write(FinishChunk("stop"))
                       .Write(UsageChunk(12, 3))
                       .Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  EXPECT_EQ(rec_.texts, (std::vector<std::string>{"Hel", "lo there", "."}));
  EXPECT_TRUE(rec_.calls.empty());
  EXPECT_EQ(rec_.result.finish_reason, "stop");
  EXPECT_EQ(rec_.result.usage.prompt_tokens, 12);
  EXPECT_EQ(rec_.result.usage.completion_tokens, 3);
  EXPECT_EQ(rec_.result.usage.total_tokens, 15);
  EXPECT_GE(rec_.result.first_token_ms, 0);
  EXPECT_EQ(rec_.result.attempts, 1);
  EXPECT_EQ(rec_.done_count, 1);
  EXPECT_EQ(model().name(), "openai:gpt-4o-mini");

  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].Header("authorization"), "Bearer sk-test");
  EXPECT_EQ(requests[0].Header("api-key"), "");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
}

TEST_F(OpenAiModelTest, TextIsDeliveredBeforeTheStreamEnds) {
  server_->Enqueue(SseResponse().Write(TextChunk("Early")).Hang());
  stream_ = model().Stream(Hello(), rec_.Callbacks());
  ASSERT_TRUE(rec_.WaitText(1));
  EXPECT_EQ(rec_.Text(), "Early");
  EXPECT_FALSE(rec_.status.has_value());
}

// protocols.md §3.3 test vector, split across writes at awkward places.
TEST_F(OpenAiModelTest, AssemblesAToolCallFromFragments) {
  const std::string stream =
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_balance","arguments":""}}]},"finish_reason":null}],"usage":null})"
      "\n\n"
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"acc"}}]},"finish_reason":null}],"usage":null})"
      "\n\n"
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ount\":\"123\"}"}}]},"finish_reason":null}],"usage":null})"
      "\n\n"
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null})"
      "\n\n"
      R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}})"
      "\n\n"
      "data: [DONE]\n\n";
  ScriptedResponse response = SseResponse();
  for (size_t i = 0; i < stream.size(); i += 97) response.Write(stream.substr(i, 97));
  server_->Enqueue(response);
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  ASSERT_EQ(rec_.calls.size(), 1u);
  EXPECT_EQ(rec_.calls[0].id, "call_abc");
  EXPECT_EQ(rec_.calls[0].name, "get_balance");
  EXPECT_EQ(rec_.calls[0].arguments, R"({"account":"123"})");
  EXPECT_TRUE(rec_.texts.empty());
  EXPECT_EQ(rec_.result.finish_reason, "tool_calls");
  EXPECT_EQ(rec_.result.usage.prompt_tokens, 50);
  EXPECT_EQ(rec_.result.usage.completion_tokens, 12);
  EXPECT_EQ(rec_.result.usage.total_tokens, 62);
  EXPECT_GE(rec_.result.first_token_ms, 0);
}

std::string ToolFragment(int index, const json& fields) {
  json call = fields;
  call["index"] = index;
  return Sse(
      json({{"choices",
             {{{"index", 0}, {"delta", {{"tool_calls", {call}}}}, {"finish_reason", nullptr}}}}})
          .dump());
}

TEST_F(OpenAiModelTest, ParallelToolCallsArriveCompleteInIndexOrder) {
  server_->Enqueue(
      SseResponse()
          .Write(TextChunk("Checking both."))
          .Write(ToolFragment(1, {{"id", "call_2"},
                                  {"type", "function"},
                                  {"function", {{"name", "get_claim"}, {"arguments", ""}}}}))
          .Write(
              ToolFragment(0, {{"id", "call_1"},
                               {"type", "function"},
                               {"function", {{"name", "get_policy"}, {"arguments", "{\"id\""}}}}))
          .Write(ToolFragment(1, {{"function", {{"arguments", "{\"claim\":7}"}}}}))
          .Write(ToolFragment(0, {{"function", {{"arguments", ":\"P1\"}"}}}}))
          .Write(FinishChunk("tool_calls"))
          .Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  ASSERT_EQ(rec_.calls.size(), 2u);
  EXPECT_EQ(rec_.calls[0].id, "call_1");
  EXPECT_EQ(rec_.calls[0].name, "get_policy");
  EXPECT_EQ(rec_.calls[0].arguments, R"({"id":"P1"})");
  EXPECT_EQ(rec_.calls[1].id, "call_2");
  EXPECT_EQ(rec_.calls[1].name, "get_claim");
  EXPECT_EQ(rec_.calls[1].arguments, R"({"claim":7})");
  EXPECT_EQ(rec_.order, (std::vector<std::string>{"text", "tool", "tool", "done"}));
}

TEST_F(OpenAiModelTest, ToolCallsWithoutFinishReasonAreDeliveredAtDone) {
  server_->Enqueue(
      SseResponse()
          .Write(ToolFragment(0, {{"function", {{"name", "hang_up"}, {"arguments", "{}"}}}}))
          .Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  ASSERT_EQ(rec_.calls.size(), 1u);
  EXPECT_EQ(rec_.calls[0].name, "hang_up");
  EXPECT_EQ(rec_.calls[0].id.rfind("call_", 0), 0u) << rec_.calls[0].id;  // generated
}

TEST_F(OpenAiModelTest, AzureDeploymentUrlApiKeyAndFilterChunks) {
  options_.base_url = server_->base_url() + "/openai/deployments/gpt4o-prod";
  options_.api_version = "2024-10-21";
  options_.model.clear();
  options_.api_key = "azure-key";
  const std::string first =
      R"(data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]})"
      "\n\n";
  const std::string content =
      R"(data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-9","model":"gpt-4o","object":"chat.completion.chunk"})"
      "\n\n";
  const std::string annotation =
      R"(data: {"choices":[{"content_filter_offsets":{"check_offset":0},"content_filter_results":{},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-9","model":"gpt-4o","object":"chat.completion.chunk"})"
      "\n\n";
  server_->Enqueue(SseResponse()
                       .Write(first)
                       .Write(content)
                       .Write(annotation)
                       .Write(FinishChunk("stop"))
                       .Write(UsageChunk(9, 1))
                       .Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  EXPECT_EQ(rec_.Text(), "Hi");
  EXPECT_EQ(rec_.result.finish_reason, "stop");
  EXPECT_EQ(rec_.result.usage.total_tokens, 10);
  EXPECT_EQ(model().name(), "openai:gpt4o-prod");

  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target,
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(requests[0].Header("api-key"), "azure-key");
  EXPECT_EQ(requests[0].Header("authorization"), "");
  json body = json::parse(requests[0].body);
  EXPECT_FALSE(body.contains("model"));  // the deployment in the path selects it
}

TEST_F(OpenAiModelTest, AzureV1UrlWithTokenProvider) {
  options_.base_url = server_->base_url() + "/openai/v1/";
  options_.model = "my-deployment";
  options_.api_key.clear();
  int tokens_asked = 0;
  options_.token_provider = [&](std::function<void(core::Result<std::string>)> done) {
    ++tokens_asked;
    done(std::string("entra-token"));
  };
  server_->Enqueue(SseResponse().Write(TextChunk("ok")).Write(FinishChunk("stop")).Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/openai/v1/chat/completions");
  EXPECT_EQ(requests[0].Header("authorization"), "Bearer entra-token");
  EXPECT_EQ(json::parse(requests[0].body)["model"], "my-deployment");
  EXPECT_EQ(tokens_asked, 1);
}

TEST_F(OpenAiModelTest, TokenProviderFailureEndsTheCall) {
  options_.token_provider = [](std::function<void(core::Result<std::string>)> done) {
    done(core::UnauthenticatedError("managed identity endpoint unreachable"));
  };
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated) << st.ToString();
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(OpenAiModelTest, RetriesA429AfterTheServersRetryAfter) {
  server_->Enqueue(ScriptedResponse(429)
                       .Header("Content-Type", "application/json")
                       .Header("retry-after-ms", "300")
                       .Write(R"({"error":{"message":"Rate limit reached","type":"requests"}})"));
  server_->Enqueue(
      SseResponse().Write(TextChunk("Done waiting")).Write(FinishChunk("stop")).Write(kDone));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  EXPECT_EQ(rec_.Text(), "Done waiting");
  EXPECT_EQ(rec_.result.attempts, 2);
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1].received_at - requests[0].received_at, milliseconds(300));
  EXPECT_EQ(requests[1].body, requests[0].body);
}

TEST_F(OpenAiModelTest, RetryAfterLongerThanTheMaxWaitIsNotWaitedFor) {
  options_.max_retry_wait = milliseconds(1000);
  server_->Enqueue(ScriptedResponse(429)
                       .Header("Retry-After", "120")
                       .Write(R"({"error":{"message":"Rate limit reached"}})"));
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("Rate limit reached"), std::string::npos) << st.ToString();
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(OpenAiModelTest, ServerErrorsBeyondMaxRetriesFail) {
  options_.max_retries = 2;
  for (int i = 0; i < 3; ++i) {
    server_->Enqueue(ScriptedResponse(500).Write(R"({"error":{"message":"upstream broke"}})"));
  }
  server_->Enqueue(SseResponse().Write(TextChunk("too late")).Write(kDone));  // never asked for
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("HTTP 500"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("upstream broke"), std::string::npos) << st.ToString();
  EXPECT_EQ(rec_.result.attempts, 3);
  EXPECT_EQ(server_->request_count(), 3u);
  EXPECT_TRUE(rec_.texts.empty());
}

TEST_F(OpenAiModelTest, ClientErrorFailsAtOnceWithTheApiMessage) {
  server_->Enqueue(
      ScriptedResponse(400)
          .Header("Content-Type", "application/json")
          .Write(
              R"({"error":{"message":"Invalid 'messages[1].content'","type":"invalid_request_error"}})"));
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("Invalid 'messages[1].content'"), std::string::npos) << st.ToString();
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(OpenAiModelTest, WrongKeyIsUnauthenticated) {
  server_->Enqueue(ScriptedResponse(401).Write(R"({"error":{"message":"Incorrect API key"}})"));
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated) << st.ToString();
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(OpenAiModelTest, ConnectionRefusedIsRetriedThenFails) {
  options_.base_url = server_->base_url() + "/v1";
  server_.reset();
  options_.max_retries = 1;
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(rec_.result.attempts, 2);
}

TEST_F(OpenAiModelTest, StreamCutMidwayEndsWithErrorAfterTheText) {
  server_->Enqueue(SseResponse().Write(TextChunk("Your balance is")).Close());
  server_->Enqueue(SseResponse().Write(TextChunk("retried")).Write(kDone));  // must not be used
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(rec_.Text(), "Your balance is");
  EXPECT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(rec_.order.back(), "done");
}

TEST_F(OpenAiModelTest, StreamEndingWithoutFinishReasonOrDoneIsAnError) {
  options_.max_retries = 0;
  server_->Enqueue(SseResponse().Write(TextChunk("half")));  // ends cleanly, but incomplete
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("before finish_reason"), std::string::npos) << st.ToString();
  EXPECT_EQ(rec_.Text(), "half");
}

TEST_F(OpenAiModelTest, MalformedChunkEndsTheStream) {
  server_->Enqueue(SseResponse()
                       .Write(TextChunk("Sure"))
                       .Write("data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n")
                       .Write(TextChunk("never seen"))
                       .Write(kDone));
  core::Status st = Run(Hello());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("malformed JSON"), std::string::npos) << st.ToString();
  EXPECT_EQ(rec_.Text(), "Sure");
  EXPECT_EQ(rec_.done_count, 1);
}

TEST_F(OpenAiModelTest, ErrorEventInTheStreamEndsIt) {
  server_->Enqueue(
      SseResponse()
          .Write(TextChunk("a"))
          .Write(Sse(
              R"({"error":{"message":"The server had an error while processing your request"}})")));
  core::Status st = Run(Hello());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("had an error"), std::string::npos) << st.ToString();
}

TEST_F(OpenAiModelTest, HungUpstreamHitsTheIdleTimeout) {
  options_.idle_timeout = milliseconds(200);
  server_->Enqueue(SseResponse().Write(TextChunk("Let me")).Hang());
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_NE(st.message().find("idle timeout"), std::string::npos) << st.ToString();
  EXPECT_EQ(rec_.Text(), "Let me");
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(OpenAiModelTest, BreakerOpensAfterRepeatedFailuresAndFailsFast) {
  options_.max_retries = 0;
  options_.breaker = {2, std::chrono::seconds(60)};
  for (int i = 0; i < 3; ++i) server_->Enqueue(ScriptedResponse(503).Write("busy"));
  for (int i = 0; i < 2; ++i) {
    Recorder rec;
    stream_ = model().Stream(Hello(), rec.Callbacks());
    EXPECT_EQ(rec.WaitDone().code(), core::StatusCode::kUnavailable);
  }
  core::Status st = Run(Hello());
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("circuit open"), std::string::npos) << st.ToString();
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(OpenAiModelTest, SharedBreakerIsUsedAndClosedBySuccess) {
  auto breaker = std::make_shared<net::CircuitBreaker>(net::CircuitBreakerOptions{1, {}});
  options_.shared_breaker = breaker;
  breaker->RecordFailure(core::Clock::now());  // open, but with a zero cool-down
  server_->Enqueue(SseResponse().Write(TextChunk("back")).Write(FinishChunk("stop")));
  ASSERT_TRUE(Run(Hello()).ok()) << rec_.status->ToString();
  EXPECT_EQ(breaker->state(), net::CircuitBreaker::State::kClosed);
}

TEST_F(OpenAiModelTest, NoCallbackAfterCancel) {
  server_->Enqueue(SseResponse()
                       .Write(TextChunk("one"))
                       .Wait(milliseconds(50))
                       .Write(TextChunk("two"))
                       .Write(FinishChunk("stop"))
                       .Write(kDone));
  std::atomic<int> after_cancel{0};
  std::atomic<bool> cancelled{false};
  ModelCallbacks cb;
  cb.on_text = [&](std::string_view) {
    if (cancelled) {
      ++after_cancel;
      return;
    }
    stream_->Cancel();  // barge-in from inside a callback
    cancelled = true;
  };
  cb.on_done = [&](const core::Status&, const ModelResult&) { ++after_cancel; };
  Model& m = model();
  ex_->RunSync([&] { stream_ = m.Stream(Hello(), cb); });
  ASSERT_TRUE(server_->WaitForRequests(1, kWait));
  while (!cancelled) std::this_thread::yield();
  client_.reset();  // joins the I/O thread: nothing more can arrive
  ex_->RunSync([] {});
  EXPECT_EQ(after_cancel.load(), 0);
}

TEST_F(OpenAiModelTest, RequestBodyShape) {
  options_.temperature = 0.3;
  options_.max_tokens = 256;
  ModelRequest request;
  request.messages.push_back({ChatMessage::Role::kSystem, "You are a phone agent."});
  request.messages.push_back({ChatMessage::Role::kUser, "What's my balance?"});
  ChatMessage assistant{ChatMessage::Role::kAssistant, ""};
  assistant.tool_calls.push_back({"call_abc", "get_balance", R"({"account":"123"})"});
  request.messages.push_back(assistant);
  ChatMessage tool{ChatMessage::Role::kTool, R"({"balance":42.1})"};
  tool.tool_call_id = "call_abc";
  tool.name = "get_balance";
  request.messages.push_back(tool);
  request.tools.push_back(
      {"get_balance", "Look up a balance",
       json::parse(
           R"({"type":"object","properties":{"account":{"type":"string"}},"required":["account"]})")});
  server_->Enqueue(SseResponse().Write(TextChunk("42.1")).Write(FinishChunk("stop")));
  ASSERT_TRUE(Run(request).ok()) << rec_.status->ToString();

  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  const json body = json::parse(requests[0].body);
  const json expected = json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [
      {"role": "system", "content": "You are a phone agent."},
      {"role": "user", "content": "What's my balance?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
        "function": {"name": "get_balance", "arguments": "{\"account\":\"123\"}"}}]},
      {"role": "tool", "tool_call_id": "call_abc", "content": "{\"balance\":42.1}"}],
    "tools": [{"type": "function", "function": {"name": "get_balance",
      "description": "Look up a balance", "parameters": {"type": "object",
      "properties": {"account": {"type": "string"}}, "required": ["account"]}}}],
    "tool_choice": "auto",
    "parallel_tool_calls": true,
    "temperature": 0.3,
    "max_tokens": 256,
    "stream": true,
    "stream_options": {"include_usage": true}
  })");
  EXPECT_EQ(body, expected) << body.dump(2);
}

TEST(OpenAiModelOptionsTest, UrlForms) {
  OpenAiModelOptions o;
  o.base_url = "https://api.openai.com/v1";
  EXPECT_EQ(ChatCompletionsUrl(o).value(), "https://api.openai.com/v1/chat/completions");
  o.base_url = "http://localhost:11434/v1/";
  EXPECT_EQ(ChatCompletionsUrl(o).value(), "http://localhost:11434/v1/chat/completions");
  o.base_url = "https://r.openai.azure.com/openai/v1/chat/completions";
  EXPECT_EQ(ChatCompletionsUrl(o).value(), "https://r.openai.azure.com/openai/v1/chat/completions");
  o.base_url = "https://r.openai.azure.com/openai/deployments/d1";
  o.api_version = "2024-10-21";
  EXPECT_EQ(ChatCompletionsUrl(o).value(),
            "https://r.openai.azure.com/openai/deployments/d1/chat/completions"
            "?api-version=2024-10-21");
  o.base_url =
      "https://r.openai.azure.com/openai/deployments/d1/chat/completions"
      "?api-version=2025-01-01-preview";
  EXPECT_EQ(ChatCompletionsUrl(o).value(), o.base_url);
}

TEST(OpenAiModelOptionsTest, FactoryNamesTheBadSetting) {
  auto client = net::HttpClient::Create();
  auto ex = SerialThreadExecutor::Create();
  auto error_of = [&](const OpenAiModelOptions& o) {
    auto model = CreateOpenAiModel(o, client.get(), ex);
    return model.ok() ? std::string("ok") : model.status().message();
  };
  OpenAiModelOptions good;
  good.base_url = "https://api.openai.com/v1";
  good.model = "gpt-4o-mini";
  EXPECT_EQ(error_of(good), "ok");

  OpenAiModelOptions o = good;
  o.base_url.clear();
  EXPECT_NE(error_of(o).find("base_url"), std::string::npos);
  o.base_url = "api.openai.com/v1";
  EXPECT_NE(error_of(o).find("base_url"), std::string::npos);
  o = good;
  o.model.clear();
  EXPECT_NE(error_of(o).find("model"), std::string::npos);
  o = good;
  o.base_url = "https://r.openai.azure.com/openai/deployments/d1";
  o.model.clear();
  EXPECT_NE(error_of(o).find("api_version"), std::string::npos);
  o.api_version = "2024-10-21";
  EXPECT_EQ(error_of(o), "ok");
  o = good;
  o.temperature = 3.5;
  EXPECT_NE(error_of(o).find("temperature"), std::string::npos);
  o = good;
  o.max_retries = -1;
  EXPECT_NE(error_of(o).find("max_retries"), std::string::npos);
  o = good;
  o.idle_timeout = milliseconds(0);
  EXPECT_NE(error_of(o).find("idle_timeout"), std::string::npos);
  EXPECT_FALSE(CreateOpenAiModel(good, nullptr, ex).ok());
  EXPECT_FALSE(CreateOpenAiModel(good, client.get(), nullptr).ok());
}

}  // namespace
}  // namespace artagent::agent
