#pragma once
// The built-in operational endpoints: liveness, readiness and Prometheus metrics.

#include <functional>

#include <nlohmann/json.hpp>

#include "platform/metrics.h"
#include "server/router.h"

namespace artagent::server {

// Registers on `router`:
//   GET /healthz  200 {"status":"ok"} while the process serves requests.
//   GET /readyz   the JSON that `readiness` builds,
//                 {"ready":bool,"checks":{name:{"ok":bool,"detail":...}}}, with 200 when "ready" is
//                 true and 503 otherwise. An empty `readiness` means always ready.
//   GET /metrics  metrics->Render() as Prometheus text 0.0.4 (not registered if metrics is null).
// `metrics` must outlive the router. `readiness` runs on an I/O thread: it must be quick and must
// not block (read cached dependency states, do not probe them here).
void AddAdminRoutes(Router& router, platform::Metrics* metrics,
                    std::function<nlohmann::json()> readiness);

}  // namespace artagent::server
