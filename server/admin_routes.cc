#include "server/admin_routes.h"

#include <exception>
#include <utility>

#include "core/log.h"

namespace artagent::server {

void AddAdminRoutes(Router& router, platform::Metrics* metrics,
                    std::function<nlohmann::json()> readiness) {
  router.Add("GET", "/healthz", [](const HttpRequest&) {
    return HttpResponse::Json(200, {{"status", "ok"}});
  });

  router.Add("GET", "/readyz", [readiness = std::move(readiness)](const HttpRequest&) {
    nlohmann::json report;
    if (readiness) {
      try {
        report = readiness();
      } catch (const std::exception& e) {
        core::LogError("server", "readiness check failed: {}", e.what());
        report = {{"ready", false},
                  {"checks", {{"readiness", {{"ok", false}, {"detail", e.what()}}}}}};
      }
    } else {
      report = {{"ready", true}, {"checks", nlohmann::json::object()}};
    }
    const auto ready = report.find("ready");
    const bool ok = ready != report.end() && ready->is_boolean() && ready->get<bool>();
    return HttpResponse::Json(ok ? 200 : 503, report);
  });

  if (metrics != nullptr) {
    router.Add("GET", "/metrics", [metrics](const HttpRequest&) {
      return HttpResponse::Text(200, metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
}

}  // namespace artagent::server
