#pragma once
// The HTTP and WebSocket routes of `artagent serve` that need the runtime: the session and agent
// API, and the Realtime endpoint.

#include "app/runtime.h"
#include "server/router.h"

namespace artagent::app {

// GET /api/v1/sessions[/{id}], /api/v1/agents, /api/v1/scenarios, /api/v1/config.
void AddApiRoutes(server::Router& router, Runtime* runtime, nlohmann::json effective_config);
// GET /v1/realtime (WebSocket, subprotocol "realtime"), with API-key checks and admission control.
void AddRealtimeRoute(server::Router& router, Runtime* runtime);

}  // namespace artagent::app
