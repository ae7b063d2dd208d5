#include "app/routes.h"

#include "core/log.h"
#include "transport/realtime/realtime_connection.h"

namespace artagent::app {
namespace {

using nlohmann::json;
using server::HttpRequest;
using server::HttpResponse;

json SessionJson(const platform::SessionRecord& s) {
  return {{"id", s.id},
          {"transport", s.transport},
          {"scenario", s.scenario},
          {"agent", s.agent},
          {"status", s.status},
          {"started_at_ms", s.started_at_ms},
          {"ended_at_ms", s.ended_at_ms == 0 ? json(nullptr) : json(s.ended_at_ms)}};
}

// JSON text kept by the store; `fallback` if it does not parse.
json ParsedOr(const std::string& text, json fallback) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

// A transcript entry; tool and hand-off entries carry their data as "tool" / "handoff".
json TranscriptEntryJson(const platform::TranscriptEntry& e) {
  json j = {{"seq", e.seq},     {"item_id", e.item_id},
            {"role", e.role},   {"agent", e.agent},
            {"text", e.text},   {"interrupted", e.interrupted},
            {"at_ms", e.at_ms}, {"latency_ms", ParsedOr(e.metrics_json, json::object())}};
  if (e.role == "user") j["dtmf"] = e.dtmf;
  if (e.role == "tool") j["tool"] = ParsedOr(e.data_json, json::object());
  if (e.role == "handoff") j["handoff"] = ParsedOr(e.data_json, json::object());
  return j;
}

// {name: {type, value, agent, updated_at}}; a value that is not JSON is shown as its text.
json SlotsJson(const std::vector<platform::SlotRecord>& slots) {
  json out = json::object();
  for (const auto& slot : slots) {
    out[slot.name] = {{"type", slot.type},
                      {"value", ParsedOr(slot.value_json, json(slot.value_json))},
                      {"agent", slot.agent},
                      {"updated_at", slot.updated_at_ms}};
  }
  return out;
}

int IntQuery(const HttpRequest& req, const char* name, int fallback) {
  std::string_view v = req.Query(name);
  if (v.empty()) return fallback;
  try {
    return std::stoi(std::string(v));
  } catch (const std::exception&) {
    return -1;  // rejected by the store's range check
  }
}

json AgentJson(const agent::AgentConfig& a, const agent::ScenarioConfig& scenario,
               const std::string& default_provider) {
  std::string provider = a.model.provider.empty() ? default_provider : a.model.provider;
  if (provider == "flow" && a.flow.nodes.empty()) provider = "openai";
  json handoffs = json::array();
  for (const auto* e : agent::EdgesFrom(scenario, a.name)) {
    handoffs.push_back(
        {{"to", e->to}, {"type", e->type}, {"tool", e->tool}, {"share_context", e->share_context}});
  }
  return {{"name", a.name},
          {"description", a.description},
          {"voice", a.voice},
          {"scenario", scenario.name},
          {"start", a.name == scenario.start_agent},
          {"model", provider},
          {"tools", a.tools},
          {"handoffs", handoffs},
          {"flow_nodes", a.flow.nodes.size()}};
}

// Glue between the server's WebSocket and the transport-neutral RealtimeConnection.
class RealtimeSocket : public server::WebSocketHandler, public transport::realtime::RealtimePeer {
 public:
  RealtimeSocket(const std::shared_ptr<server::WebSocketConnection>& ws, Runtime* runtime,
                 const std::string& scenario)
      : ws_(ws.get()),
        runtime_(runtime),
        conn_(this, MakeFactory(ws, runtime), Defaults(runtime, ws->remote_address(), scenario),
              &runtime->metrics()) {}
  ~RealtimeSocket() override { Release(); }

  void OnOpen() override { conn_.Open(); }
  void OnMessage(std::string_view data, bool is_text) override { conn_.OnMessage(data, is_text); }
  void OnClose(uint16_t code) override {
    conn_.OnClose(code);
    Release();
  }
  void SendText(std::string message) override { ws_->SendText(std::move(message)); }
  void Close(uint16_t code, std::string reason) override { ws_->Close(code, std::move(reason)); }

 private:
  static session::SessionOptions Defaults(Runtime* rt, const std::string& remote,
                                          const std::string& scenario) {
    session::SessionOptions o = rt->SessionDefaults();
    o.remote = remote;
    if (!scenario.empty()) o.scenario = scenario;
    return o;
  }
  // The session's executor is the connection's strand. The session holds it through an aliasing
  // pointer that keeps the connection (and so the strand) alive while decoding or synthesis jobs
  // are still in flight; the factory itself holds only a weak reference (no ownership cycle).
  static transport::realtime::SessionFactory MakeFactory(
      std::weak_ptr<server::WebSocketConnection> weak, Runtime* rt) {
    return
        [weak, rt](session::SessionOptions opts,
                   session::SessionOutput* out) -> core::Result<std::shared_ptr<session::Session>> {
          auto ws = weak.lock();
          if (!ws) return core::CancelledError("the connection is gone");
          std::shared_ptr<core::Executor> executor(ws, &ws->executor());
          return rt->NewSession(std::move(executor), std::move(opts), out);
        };
  }
  void Release() {
    if (!released_) {
      released_ = true;
      runtime_->Release();
    }
  }

  server::WebSocketConnection* ws_;  // owns this handler
  Runtime* runtime_;
  transport::realtime::RealtimeConnection conn_;
  bool released_ = false;
};

// The key a client presents: "Authorization: Bearer K", "api-key: K", or the browser's
// "openai-insecure-api-key.K" subprotocol.
std::string PresentedKey(const HttpRequest& req) {
  std::string_view auth = req.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) return std::string(auth.substr(7));
  if (!req.Header("api-key").empty()) return std::string(req.Header("api-key"));
  std::string_view protos = req.Header("sec-websocket-protocol");
  const std::string_view marker = "openai-insecure-api-key.";
  if (auto p = protos.find(marker); p != std::string_view::npos) {
    auto rest = protos.substr(p + marker.size());
    return std::string(rest.substr(0, rest.find_first_of(", ")));
  }
  return {};
}

}  // namespace

json SessionDetailJson(const platform::SessionDetail& detail) {
  json j = SessionJson(detail.session);
  json transcript = json::array();
  json tool_calls = json::array();
  json handoffs = json::array();
  for (const auto& e : detail.transcript) {
    json entry = TranscriptEntryJson(e);
    if (e.role == "tool") tool_calls.push_back(entry);
    if (e.role == "handoff") handoffs.push_back(entry);
    transcript.push_back(std::move(entry));
  }
  j["transcript"] = std::move(transcript);
  j["tool_calls"] = std::move(tool_calls);
  j["handoffs"] = std::move(handoffs);
  j["slots"] = SlotsJson(detail.slots);
  return j;
}

void AddApiRoutes(server::Router& router, Runtime* rt) {
  router.Add("GET", "/api/v1/sessions", [rt](const HttpRequest& req) {
    if (!rt->store()) return HttpResponse::Error(503, "store_disabled", "no store is configured");
    auto list = rt->store()->ListSessions(IntQuery(req, "limit", 50), IntQuery(req, "offset", 0));
    if (!list.ok()) return HttpResponse::FromStatus(list.status());
    json out = json::array();
    for (const auto& s : *list) out.push_back(SessionJson(s));
    return HttpResponse::Json(200, {{"sessions", out}});
  });
  router.Add("GET", "/api/v1/sessions/{id}", [rt](const HttpRequest& req) {
    if (!rt->store()) return HttpResponse::Error(503, "store_disabled", "no store is configured");
    auto detail = rt->store()->GetSession(std::string(req.Param("id")));
    if (!detail.ok()) return HttpResponse::FromStatus(detail.status());
    return HttpResponse::Json(200, SessionDetailJson(*detail));
  });
  // ?scenario=NAME (default: every scenario's agents).
  router.Add("GET", "/api/v1/agents", [rt](const HttpRequest& req) {
    json out = json::array();
    std::string only(req.Query("scenario"));
    for (const auto& name : rt->ScenarioNames()) {
      if (!only.empty() && name != only) continue;
      auto s = rt->Scenario(name);
      if (!s) continue;
      for (const auto& [agent_name, a] : s->agents) {
        out.push_back(AgentJson(a, *s, rt->config().model.provider));
      }
    }
    if (!only.empty() && out.empty()) {
      return HttpResponse::Json(
          404, {{"error", {{"code", "not_found"}, {"message", "no scenario '" + only + "'"}}}});
    }
    return HttpResponse::Json(200, {{"agents", out}});
  });
  router.Add("GET", "/api/v1/scenarios", [rt](const HttpRequest&) {
    json out = json::array();
    for (const auto& name : rt->ScenarioNames()) {
      auto s = rt->Scenario(name);
      if (!s) continue;
      json entry = {{"name", name},
                    {"default", name == rt->config().agents.scenario},
                    {"active", name == rt->config().agents.scenario},
                    {"description", s->description},
                    {"start_agent", s->start_agent}};
      json agents = json::array();
      for (const auto& [agent_name, a] : s->agents) agents.push_back(agent_name);
      entry["agents"] = agents;
      json edges = json::array();
      for (const auto& e : s->edges) {
        edges.push_back(
            {{"from", e.from}, {"to", e.to}, {"type", e.type}, {"share_context", e.share_context}});
      }
      entry["handoffs"] = edges;
      out.push_back(entry);
    }
    return HttpResponse::Json(200, {{"scenarios", out}});
  });
  // The current values (App Configuration refreshes included) and where each came from.
  router.Add("GET", "/api/v1/config", [rt](const HttpRequest&) {
    return HttpResponse::Json(200, rt->EffectiveConfig());
  });
}

void AddRealtimeRoute(server::Router& router, Runtime* rt) {
  server::WebSocketRoute route;
  route.subprotocols = {"realtime"};
  route.accept = [rt](const HttpRequest& req, std::shared_ptr<server::WebSocketConnection> ws)
      -> core::Result<std::unique_ptr<server::WebSocketHandler>> {
    const auto& keys = rt->config().server.api_keys;
    if (!keys.empty()) {
      const std::string key = PresentedKey(req);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        rt->metrics().refused_total.Add({{"reason", "unauthenticated"}}).Increment();
        return core::UnauthenticatedError(
            key.empty() ? "an API key is required (Authorization: Bearer <key>)"
                        : "the API key is not valid");
      }
    }
    // /v1/realtime?scenario=NAME picks the scenario (the console's picker).
    std::string scenario(req.Query("scenario"));
    if (!scenario.empty() && !rt->Scenario(scenario)) {
      return core::NotFoundError("no scenario '" + scenario + "'");
    }
    std::string reason;
    if (!rt->TryAdmit(&reason)) {
      rt->metrics().refused_total.Add({{"reason", reason}}).Increment();
      return core::ResourceExhaustedError("the server is at capacity (" + reason +
                                          "); try again later");
    }
    return std::unique_ptr<server::WebSocketHandler>(
        std::make_unique<RealtimeSocket>(ws, rt, scenario));
  };
  router.AddWebSocket("/v1/realtime", std::move(route));
}

}  // namespace artagent::app
