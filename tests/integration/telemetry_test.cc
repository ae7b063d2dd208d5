// Telemetry end to end: the real `artagent serve` exports OTLP/HTTP JSON to a fake collector
// (platform/testing/otlp_receiver.h, which validates every body) while a Realtime client has a
// typed turn (the model calls a webhook tool) and a spoken turn (flite audio). The collector must
// get the session span, its turns and their stages with consistent parents, client spans for the
// model and webhook calls, metrics and logs; the model and webhook requests carry a W3C
// traceparent of the session's trace.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "net/testing/scripted_server.h"
#include "platform/testing/otlp_receiver.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;
using nlohmann::json;
using platform::testing::OtlpReceiver;
using platform::testing::ReceivedSpan;
using std::chrono::seconds;

std::string Sse(const json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

json Chunk(const json& delta, const json& finish_reason = nullptr) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion.chunk"},
          {"model", "fake"},
          {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}};
}

ScriptedResponse Reply(const std::string& text) {
  ScriptedResponse r(200);
  r.Header("Content-Type", "text/event-stream").Chunked();
  r.Write(Sse(Chunk({{"content", text}})));
  r.Write(Sse(Chunk(json::object(), "stop"))).Write("data: [DONE]\n\n");
  return r;
}

ScriptedResponse CallTool(const std::string& call_id, const std::string& name, const json& args) {
  ScriptedResponse r(200);
  r.Header("Content-Type", "text/event-stream").Chunked();
  r.Write(Sse(Chunk({{"role", "assistant"},
                     {"tool_calls",
                      {{{"index", 0},
                        {"id", call_id},
                        {"type", "function"},
                        {"function", {{"name", name}, {"arguments", args.dump()}}}}}}})));
  r.Write(Sse(Chunk(json::object(), "tool_calls"))).Write("data: [DONE]\n\n");
  return r;
}

std::string WriteScenario(const std::string& tool_url) {
  const std::string dir = TempDir("telemetry-agents");
  std::filesystem::create_directories(dir + "/orders");
  std::ofstream scenario(dir + "/orders/scenario.yaml");
  scenario << "description: Order line.\n"
              "start_agent: helper\n"
              "agents: [helper.yaml]\n"
              "tools:\n"
              "  - name: lookup_order\n"
              "    description: Finds an order by number.\n"
              "    url: "
           << tool_url
           << "/lookup\n"
              "    method: POST\n"
              "    parameters: {type: object, properties: {order: {type: string}}, required: "
              "[order]}\n"
              "    timeout_ms: 3000\n";
  std::ofstream agent(dir + "/orders/helper.yaml");
  agent << "name: helper\n"
           "description: Answers questions about orders.\n"
           "greeting: Hello.\n"
           "model: {provider: openai}\n"
           "tools: [lookup_order]\n"
           "instructions: You answer questions about orders.\n";
  return dir;
}

const ReceivedSpan* Find(const std::vector<ReceivedSpan>& spans,
                         const std::function<bool(const ReceivedSpan&)>& pred) {
  for (const auto& s : spans) {
    if (pred(s)) return &s;
  }
  return nullptr;
}

TEST(TelemetryIntegrationTest, ExportsSessionTurnStageAndClientSpansMetricsAndLogs) {
  auto receiver_or = OtlpReceiver::Start();
  ASSERT_TRUE(receiver_or.ok());
  auto receiver = std::move(receiver_or).value();
  auto model = ScriptedServer::Start().value();
  auto tool = ScriptedServer::Start().value();

  ServerProcess server({{"ARTAGENT_MODEL__PROVIDER", "openai"},
                        {"ARTAGENT_MODEL__ENDPOINT", model->base_url() + "/v1"},
                        {"ARTAGENT_MODEL__NAME", "fake-model"},
                        {"ARTAGENT_MODEL__MAX_RETRIES", "0"},
                        {"ARTAGENT_AGENTS__DIR", WriteScenario(tool->base_url())},
                        {"ARTAGENT_AGENTS__SCENARIO", "orders"},
                        {"ARTAGENT_AGENTS__HOT_RELOAD_S", "0"},
                        {"ARTAGENT_TELEMETRY__OTLP_ENDPOINT", receiver->endpoint()},
                        {"ARTAGENT_TELEMETRY__OTLP_HEADERS", "x-otlp-key=k123"},
                        {"ARTAGENT_TELEMETRY__FLUSH_INTERVAL_MS", "100"},
                        {"ARTAGENT_TELEMETRY__METRICS_INTERVAL_S", "1"}});
  ASSERT_TRUE(server.ok()) << server.StderrTail();

  WsClient ws;
  ASSERT_TRUE(ws.Connect(server.port(), "/v1/realtime"));
  auto created = ws.WaitFor("session.created");
  ASSERT_TRUE(created);
  const std::string session_id = (*created)["session"]["id"];
  ASSERT_TRUE(ws.WaitFor("response.done", seconds(30))) << server.StderrTail();  // the greeting

  // A typed turn: the model calls the webhook tool, then answers.
  tool->Enqueue(ScriptedResponse(200)
                    .Header("Content-Type", "application/json")
                    .Write(R"({"status":"shipped"})"));
  model->Enqueue(CallTool("call_1", "lookup_order", {{"order", "A1"}}));
  model->Enqueue(Reply("Order A1 has shipped."));
  ws.Send({{"type", "conversation.item.create"},
           {"item",
            {{"type", "message"},
             {"role", "user"},
             {"content", {{{"type", "input_text"}, {"text", "where is order A1"}}}}}}});
  ws.Send({{"type", "response.create"}});
  ASSERT_TRUE(ws.WaitFor("response.done", seconds(40)));

  // A spoken turn.
  model->Enqueue(Reply("It ships tomorrow."));
  ws.StreamAudio(SpeakWithFlite("I would like to check my order please.", 24000), 24000);
  ASSERT_TRUE(ws.WaitFor("input_audio_buffer.speech_stopped", seconds(20)));
  ASSERT_TRUE(ws.WaitFor("response.done", seconds(40)));
  ws.Close();

  // The session span is recorded when the session closes.
  ASSERT_TRUE(receiver->WaitUntil(
      [&] {
        return Find(receiver->Spans(), [](const ReceivedSpan& s) { return s.name == "session"; });
      },
      seconds(30)))
      << server.StderrTail();
  ASSERT_TRUE(receiver->WaitUntil([&] { return !receiver->MetricNames().empty(); }, seconds(10)));
  ASSERT_TRUE(receiver->WaitUntil([&] { return !receiver->Logs().empty(); }, seconds(10)));

  EXPECT_TRUE(receiver->Errors().empty()) << receiver->Errors().front();
  EXPECT_EQ(receiver->server().requests()[0].Header("x-otlp-key"), "k123");
  const auto spans = receiver->Spans();

  // The session: a server span, root of its trace.
  const ReceivedSpan* session =
      Find(spans, [](const ReceivedSpan& s) { return s.name == "session"; });
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->kind, 2);
  EXPECT_TRUE(session->parent_span_id.empty());
  EXPECT_EQ(session->Attr("session.id"), session_id);
  EXPECT_EQ(session->Attr("artagent.transport"), "realtime");
  EXPECT_EQ(session->Attr("artagent.scenario"), "orders");
  EXPECT_FALSE(session->Attr("artagent.outcome").empty());
  EXPECT_EQ(session->resource.at("service.name"), "artagent");
  const std::string trace = session->trace_id;

  // Its turns.
  std::map<std::string, const ReceivedSpan*> turns;  // kind -> span
  for (const auto& s : spans) {
    if (s.name != "turn") continue;
    EXPECT_EQ(s.trace_id, trace);
    EXPECT_EQ(s.parent_span_id, session->span_id);
    turns[s.Attr("artagent.turn.kind")] = &s;
  }
  ASSERT_TRUE(turns.count("text")) << "no text turn";
  ASSERT_TRUE(turns.count("voice")) << "no voice turn";
  ASSERT_TRUE(turns.count("greeting")) << "no greeting";
  const ReceivedSpan* text = turns["text"];
  const ReceivedSpan* voice = turns["voice"];

  auto children_of = [&](const ReceivedSpan* parent) {
    std::multiset<std::string> names;
    for (const auto& s : spans) {
      if (s.parent_span_id == parent->span_id && s.trace_id == parent->trace_id) {
        names.insert(s.name);
      }
    }
    return names;
  };
  // Stages of the spoken turn (endpointing, recognition, the model, synthesis, playout) and of
  // the typed one (the model, the tool).
  const auto voice_children = children_of(voice);
  for (const char* stage : {"endpointing", "stt", "model", "model.first_token", "tts", "playout"}) {
    EXPECT_TRUE(voice_children.count(stage)) << "voice turn has no " << stage << " span";
  }
  const auto text_children = children_of(text);
  for (const char* stage : {"model", "tool"}) {
    EXPECT_TRUE(text_children.count(stage)) << "text turn has no " << stage << " span";
  }
  const ReceivedSpan* tool_span = Find(spans, [&](const ReceivedSpan& s) {
    return s.name == "tool" && s.parent_span_id == text->span_id;
  });
  ASSERT_NE(tool_span, nullptr);
  EXPECT_EQ(tool_span->Attr("artagent.tool.name"), "lookup_order");
  EXPECT_EQ(tool_span->Attr("artagent.tool.status"), "completed");
  // No PII by default: no tool arguments, no transcript anywhere.
  for (const auto& s : spans) {
    EXPECT_EQ(s.Attr("artagent.tool.arguments"), "") << s.name;
    for (const auto& [key, value] : s.attributes) {
      EXPECT_EQ(value.dump().find("where is order"), std::string::npos) << s.name << " " << key;
      EXPECT_EQ(value.dump().find("check my order"), std::string::npos) << s.name << " " << key;
    }
  }

  // Outbound calls: client spans under the turn that made them, with the traceparent sent.
  auto check_propagated = [&](const net::testing::RecordedRequest& request,
                              const ReceivedSpan* turn) {
    const std::string tp = request.Header("traceparent");
    ASSERT_EQ(tp.size(), 55u) << "no traceparent on " << request.target;
    EXPECT_EQ(tp.substr(3, 32), trace) << tp;
    const std::string client_id = tp.substr(36, 16);
    const ReceivedSpan* client =
        Find(spans, [&](const ReceivedSpan& s) { return s.span_id == client_id; });
    ASSERT_NE(client, nullptr) << "no client span " << client_id;
    EXPECT_EQ(client->kind, 3);
    EXPECT_EQ(client->trace_id, trace);
    EXPECT_EQ(client->parent_span_id, turn->span_id);
    EXPECT_EQ(client->Attr("http.request.method"), "POST");
  };
  const auto model_requests = model->requests();
  ASSERT_EQ(model_requests.size(), 3u);
  check_propagated(model_requests[0], text);
  check_propagated(model_requests[1], text);
  check_propagated(model_requests[2], voice);
  ASSERT_EQ(tool->requests().size(), 1u);
  check_propagated(tool->requests()[0], text);
  const ReceivedSpan* webhook = Find(spans, [&](const ReceivedSpan& s) {
    return s.span_id == tool->requests()[0].Header("traceparent").substr(36, 16);
  });
  ASSERT_NE(webhook, nullptr);
  EXPECT_EQ(webhook->Attr("http.response.status_code"), "200");
  EXPECT_TRUE(receiver->DanglingParents().empty()) << receiver->DanglingParents().front();

  // Metrics (the Prometheus registry's values) and logs.
  const auto names = receiver->MetricNames();
  for (const char* want : {"artagent_turn_latency_seconds", "artagent_sessions_active",
                           "artagent_circuit_breaker_state", "artagent_turns_total"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_FALSE(receiver->Logs().empty());
}

}  // namespace
}  // namespace artagent::testing
