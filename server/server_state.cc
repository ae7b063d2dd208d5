#include "server/server_state.h"

namespace artagent::server {
namespace {

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

std::string CodeLabel(int status) {
  if (status < 100 || status > 599) return "other";
  return std::to_string(status / 100) + "xx";
}

}  // namespace

ServerState::Admission ServerState::Register(std::weak_ptr<Closable> connection, uint64_t* id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_.load(std::memory_order_relaxed)) return Admission::kStopping;
  if (live_.size() >= options.max_connections) return Admission::kFull;
  *id = next_id_++;
  live_.emplace(*id, std::move(connection));
  return Admission::kAdmitted;
}

void ServerState::Unregister(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(id);
  if (live_.empty()) idle_cv_.notify_all();
}

std::vector<std::shared_ptr<Closable>> ServerState::BeginStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true, std::memory_order_release);
  }
  return Live();
}

std::vector<std::shared_ptr<Closable>> ServerState::Live() const {
  std::vector<std::shared_ptr<Closable>> result;
  std::lock_guard<std::mutex> lock(mu_);
  result.reserve(live_.size());
  for (const auto& [id, weak] : live_) {
    if (auto connection = weak.lock()) result.push_back(std::move(connection));
  }
  return result;
}

bool ServerState::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [this] { return live_.empty(); });
}

void ServerState::CountRequest(std::string_view method, int status) {
  if (metrics == nullptr) return;
  metrics->http_requests_total
      .Add({{"method", std::string(MethodLabel(method))}, {"code", CodeLabel(status)}})
      .Increment();
}

void ServerState::CountProtocolError(std::string_view transport, std::string_view kind) {
  if (metrics == nullptr) return;
  metrics->protocol_errors_total
      .Add({{"transport", std::string(transport)}, {"kind", std::string(kind)}})
      .Increment();
}

void ServerState::CountRefused(std::string_view reason) {
  if (metrics == nullptr) return;
  metrics->refused_total.Add({{"reason", std::string(reason)}}).Increment();
}

prometheus::Gauge* ServerState::WsConnectionsGauge(const std::string& path) {
  if (metrics == nullptr) return nullptr;
  return &metrics->ws_connections_active.Add({{"path", path}});
}

}  // namespace artagent::server
