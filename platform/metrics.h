#pragma once
// Metrics: the process-wide Prometheus registry and the instruments every module shares.
// Instruments are thread-safe (prometheus-cpp uses atomics). Label values must come from small
// fixed sets (never ids or user text).

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace artagent::platform {

class Metrics {
 public:
  Metrics();

  // Text exposition format 0.0.4, process CPU and memory refreshed first.
  std::string Render();
  // The same values as families (the OTLP metrics export), refreshed the same way.
  std::vector<prometheus::MetricFamily> Snapshot();
  // Runs before every Render() and Snapshot(), e.g. to set a gauge from a state owned elsewhere
  // (a circuit breaker). Must be cheap and thread-safe; it must outlive this registry's use.
  void AddRefresher(std::function<void()> refresh);
  prometheus::Registry& registry() { return *registry_; }

 private:
  // Declared first: the instrument families below are registered in it during construction.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  // Sessions by transport ("realtime", "acs", "converse").
  prometheus::Family<prometheus::Gauge>& sessions_active;
  prometheus::Family<prometheus::Counter>& sessions_total;
  // Sessions or connections refused, by reason ("capacity", "unauthenticated", ...).
  prometheus::Family<prometheus::Counter>& refused_total;
  // Bad input from outside, by transport and kind ("malformed_json", "unknown_event",
  // "bad_audio", "message_too_big", "slow_reader", "vanished", ...).
  prometheus::Family<prometheus::Counter>& protocol_errors_total;
  // HTTP requests by method class and status code class ("2xx", "4xx", ...).
  prometheus::Family<prometheus::Counter>& http_requests_total;
  prometheus::Family<prometheus::Gauge>& ws_connections_active;
  // Turn latency by stage ("stt_final", "model_first_token", "tts_first_audio", "voice_to_voice",
  // "barge_in_stop"), seconds.
  prometheus::Family<prometheus::Histogram>& turn_latency_seconds;
  prometheus::Family<prometheus::Counter>& turns_total;
  prometheus::Family<prometheus::Counter>& barge_ins_total;
  // Failures of our own providers (stt, tts, model, store), by provider and kind.
  prometheus::Family<prometheus::Counter>& provider_errors_total;

  // Tool calls by tool name and outcome ("completed", "failed", "timeout", "cancelled",
  // "client"). Tool names come from the scenario's YAML (a fixed set), never from the model:
  // an unknown name the model made up is counted as tool="unknown".
  prometheus::Family<prometheus::Counter>& tool_calls_total;
  // Time from a tool call's start to its end, by tool name, seconds (DurationBuckets()).
  prometheus::Family<prometheus::Histogram>& tool_duration_seconds;
  // Conversations passed between agents, by from, to (agent names) and type ("announced",
  // "discrete").
  prometheus::Family<prometheus::Counter>& handoffs_total;
  // Model requests by model (the configured deployment or model name, or "flow") and outcome
  // ("ok", "error", "timeout", "cancelled", "circuit_open").
  prometheus::Family<prometheus::Counter>& model_requests_total;
  // Tokens the model reported, by model and kind ("prompt", "completion").
  prometheus::Family<prometheus::Counter>& model_tokens_total;
  // Time from sending a model request to its first streamed token, by model, seconds
  // (LatencyBuckets()).
  prometheus::Family<prometheus::Histogram>& model_first_token_seconds;
  // Model requests sent again after a retryable failure, by model.
  prometheus::Family<prometheus::Counter>& model_retries_total;

  // Circuit breakers by upstream ("model", "otlp"): 0 closed, 1 open, 2 half-open.
  prometheus::Family<prometheus::Gauge>& circuit_breaker_state;
  // Telemetry records dropped, by signal ("traces", "logs", "metrics") and reason ("queue_full",
  // "export_failed", "rejected"), and exported, by signal.
  prometheus::Family<prometheus::Counter>& telemetry_dropped_total;
  prometheus::Family<prometheus::Counter>& telemetry_exported_total;
  // OTLP export requests that failed, by signal and reason ("status_429", "status_503",
  // "transport", "circuit_open", ...).
  prometheus::Family<prometheus::Counter>& telemetry_export_failures_total;

  // Buckets for stage latencies of a turn: 5 ms to 5 s.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
  // Buckets for operations that may take longer (tool calls, webhooks): 5 ms to 60 s.
  static const prometheus::Histogram::BucketBoundaries& DurationBuckets();

 private:
  prometheus::Gauge* cpu_seconds_;
  prometheus::Gauge* resident_bytes_;
  prometheus::Gauge* threads_;
  std::mutex refreshers_mu_;
  std::vector<std::function<void()>> refreshers_;
  void Refresh();
};

}  // namespace artagent::platform
