#pragma once
// The HTTP and WebSocket routes of `artagent serve` that need the runtime: the session and agent
// API, and the Realtime endpoint.

#include "app/runtime.h"
#include "server/router.h"

namespace artagent::app {

// A session with its transcript (roles, agents, timestamps, latency), tool calls, hand-offs and
// slots: the body of GET /api/v1/sessions/{id} and of the archived transcripts/<date>/<id>.json.
nlohmann::json SessionDetailJson(const platform::SessionDetail& detail);

// GET /api/v1/sessions[/{id}], /api/v1/agents, /api/v1/scenarios, /api/v1/config.
void AddApiRoutes(server::Router& router, Runtime* runtime);
// GET /v1/realtime (WebSocket, subprotocol "realtime"), with API-key checks and admission control.
void AddRealtimeRoute(server::Router& router, Runtime* runtime);

}  // namespace artagent::app
