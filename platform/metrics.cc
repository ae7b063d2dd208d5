#include "platform/metrics.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace artagent::platform {
Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      sessions_active(prometheus::BuildGauge()
                          .Name("artagent_sessions_active")
                          .Help("Sessions currently open, by transport")
                          .Register(*registry_)),
      sessions_total(prometheus::BuildCounter()
                         .Name("artagent_sessions_total")
                         .Help("Sessions opened, by transport")
                         .Register(*registry_)),
      refused_total(prometheus::BuildCounter()
                        .Name("artagent_refused_total")
                        .Help("Sessions or connections refused, by reason")
                        .Register(*registry_)),
      protocol_errors_total(prometheus::BuildCounter()
                                .Name("artagent_protocol_errors_total")
                                .Help("Bad input from clients, by transport and kind")
                                .Register(*registry_)),
      http_requests_total(prometheus::BuildCounter()
                              .Name("artagent_http_requests_total")
                              .Help("HTTP requests by method and status class")
                              .Register(*registry_)),
      ws_connections_active(prometheus::BuildGauge()
                                .Name("artagent_ws_connections_active")
                                .Help("Open WebSocket connections, by path")
                                .Register(*registry_)),
      turn_latency_seconds(prometheus::BuildHistogram()
                               .Name("artagent_turn_latency_seconds")
                               .Help("Per-turn latency from end of caller speech, by stage")
                               .Register(*registry_)),
      turns_total(prometheus::BuildCounter()
                      .Name("artagent_turns_total")
                      .Help("Completed caller turns, by transport")
                      .Register(*registry_)),
      barge_ins_total(prometheus::BuildCounter()
                          .Name("artagent_barge_ins_total")
                          .Help("Agent responses interrupted by the caller")
                          .Register(*registry_)),
      provider_errors_total(prometheus::BuildCounter()
                                .Name("artagent_provider_errors_total")
                                .Help("Failures of speech, model and store providers")
                                .Register(*registry_)),
      tool_calls_total(prometheus::BuildCounter()
                           .Name("artagent_tool_calls_total")
                           .Help("Tool calls, by tool and outcome")
                           .Register(*registry_)),
      tool_duration_seconds(prometheus::BuildHistogram()
                                .Name("artagent_tool_duration_seconds")
                                .Help("Tool call duration from start to end, by tool, seconds")
                                .Register(*registry_)),
      handoffs_total(prometheus::BuildCounter()
                         .Name("artagent_handoffs_total")
                         .Help("Conversations handed from one agent to another, by type")
                         .Register(*registry_)),
      model_requests_total(prometheus::BuildCounter()
                               .Name("artagent_model_requests_total")
                               .Help("Model requests, by model and outcome")
                               .Register(*registry_)),
      model_tokens_total(prometheus::BuildCounter()
                             .Name("artagent_model_tokens_total")
                             .Help("Tokens reported by the model, by model and kind")
                             .Register(*registry_)),
      model_first_token_seconds(prometheus::BuildHistogram()
                                    .Name("artagent_model_first_token_seconds")
                                    .Help("Time from model request to first token, seconds")
                                    .Register(*registry_)),
      model_retries_total(prometheus::BuildCounter()
                              .Name("artagent_model_retries_total")
                              .Help("Model requests retried after a retryable failure")
                              .Register(*registry_)),
      circuit_breaker_state(prometheus::BuildGauge()
                                .Name("artagent_circuit_breaker_state")
                                .Help("Circuit breaker by upstream: 0 closed, 1 open, 2 half-open")
                                .Register(*registry_)),
      telemetry_dropped_total(prometheus::BuildCounter()
                                  .Name("artagent_telemetry_dropped_total")
                                  .Help("Telemetry records dropped, by signal and reason")
                                  .Register(*registry_)),
      telemetry_exported_total(prometheus::BuildCounter()
                                   .Name("artagent_telemetry_exported_total")
                                   .Help("Telemetry records exported over OTLP, by signal")
                                   .Register(*registry_)),
      telemetry_export_failures_total(prometheus::BuildCounter()
                                          .Name("artagent_telemetry_export_failures_total")
                                          .Help("OTLP export requests that failed, by reason")
                                          .Register(*registry_)) {
  cpu_seconds_ = &prometheus::BuildGauge()
                      .Name("artagent_process_cpu_seconds")
                      .Help("User plus system CPU time of the process, seconds")
                      .Register(*registry_)
                      .Add({});
  resident_bytes_ = &prometheus::BuildGauge()
                         .Name("artagent_process_resident_memory_bytes")
                         .Help("Resident set size of the process, bytes")
                         .Register(*registry_)
                         .Add({});
  threads_ = &prometheus::BuildGauge()
                  .Name("artagent_process_threads")
                  .Help("Threads in the process")
                  .Register(*registry_)
                  .Add({});
}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0};
  return kBuckets;
}

const prometheus::Histogram::BucketBoundaries& Metrics::DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0};
  return kBuckets;
}

void Metrics::AddRefresher(std::function<void()> refresh) {
  std::lock_guard lock(refreshers_mu_);
  refreshers_.push_back(std::move(refresh));
}

std::string Metrics::Render() { return prometheus::TextSerializer().Serialize(Snapshot()); }

std::vector<prometheus::MetricFamily> Metrics::Snapshot() {
  Refresh();
  return registry_->Collect();
}

void Metrics::Refresh() {
  {
    std::lock_guard lock(refreshers_mu_);
    for (const auto& refresh : refreshers_) refresh();
  }
  // /proc/self/stat fields 14 (utime), 15 (stime), 20 (num_threads), 24 (rss pages).
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = content.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(content.substr(close_paren + 2));
    std::string f[30];
    for (int i = 3; i <= 24 && fields >> f[i % 30]; ++i) {
    }
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    try {
      cpu_seconds_->Set((std::stod(f[14]) + std::stod(f[15])) / tick);
      threads_->Set(std::stod(f[20]));
      resident_bytes_->Set(std::stod(f[24]) * page);
    } catch (const std::exception&) {
      // /proc unreadable: leave the previous values.
    }
  }
}

}  // namespace artagent::platform
