#pragma once
// Telemetry: OpenTelemetry traces, metrics and logs exported over OTLP/HTTP JSON
// (reference/protocols.md §8) to `telemetry.otlp_endpoint` (an OpenTelemetry Collector, e.g. one
// whose azuremonitor exporter feeds Application Insights).
//
// Recording is for the hot path: a span is a small struct filled by the caller and moved into a
// bounded queue (one short lock, no JSON, no I/O). When a queue is full the record is dropped and
// counted (artagent_telemetry_dropped_total). An exporter thread of its own drains the queues in
// batches (max_batch records, or every flush_interval), encodes them (platform/otlp_json.h) and
// POSTs them to <endpoint>/v1/traces, /v1/logs and /v1/metrics (a cumulative snapshot of the
// Prometheus registry every metrics_interval), retrying 408/429/5xx and connection failures with
// back-off (Retry-After honoured) behind a circuit breaker.
//
// Also here: W3C trace context (`traceparent`), a net::HttpCallObserver that gives every outbound
// HTTP call a client span and propagates its context, and a core::LogSink that exports log lines
// with the trace and span of the session they name.
//
// Thread-safety: every method may be called from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/executor.h"
#include "core/log.h"
#include "core/status.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "platform/config.h"

namespace artagent::platform {

class Metrics;

// ---- W3C trace context ----

struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool valid() const;       // not all zero
  std::string Hex() const;  // 32 lower-case hex digits
  static TraceId Random();  // never all zero
  bool operator==(const TraceId&) const = default;
};

struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool valid() const;
  std::string Hex() const;  // 16 lower-case hex digits
  static SpanId Random();
  bool operator==(const SpanId&) const = default;
};

struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  bool sampled = true;
  bool valid() const { return trace_id.valid() && span_id.valid(); }
  // A new trace (random trace and span ids).
  static SpanContext NewRoot();
  // A child: same trace, a new span id.
  SpanContext Child() const;
};

// "00-<32 hex>-<16 hex>-<01|00>".
std::string FormatTraceparent(const SpanContext& context);
// Accepts version 00 (exactly 55 characters) and, per W3C, later versions with at least the
// same four fields; hex digits in lower case only; ids not all zero. nullopt otherwise.
std::optional<SpanContext> ParseTraceparent(std::string_view value);

// ---- time ----

// Nanoseconds since the Unix epoch of a steady-clock time point (the offset between the two
// clocks is taken once per process), and of now.
int64_t UnixNanos(core::TimePoint time);
int64_t NowUnixNanos();

// ---- spans ----

enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class SpanStatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, int64_t, double, bool>;
struct Attribute {
  std::string_view key;  // static storage (a literal)
  AttributeValue value;
};

// A finished span, as recorded. Attribute keys must be string literals (they are not copied).
struct SpanRecord {
  static constexpr size_t kMaxAttributes = 12;

  SpanContext context;  // trace id and this span's id
  SpanId parent;        // all zero for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_ns = 0;  // Unix epoch nanoseconds
  int64_t end_ns = 0;
  SpanStatusCode status = SpanStatusCode::kUnset;
  std::string status_message;  // for kError
  std::array<Attribute, kMaxAttributes> attributes;
  uint8_t attribute_count = 0;
  uint32_t dropped_attributes = 0;

  // Adds an attribute; beyond kMaxAttributes it is dropped and counted.
  SpanRecord& Attr(std::string_view key, AttributeValue value);
  SpanRecord& Attr(std::string_view key, std::string value) {
    return Attr(key, AttributeValue(std::move(value)));
  }
  SpanRecord& Attr(std::string_view key, const char* value) {
    return Attr(key, AttributeValue(std::string(value)));
  }
  SpanRecord& Attr(std::string_view key, int64_t value) { return Attr(key, AttributeValue(value)); }
  SpanRecord& Attr(std::string_view key, int value) {
    return Attr(key, AttributeValue(static_cast<int64_t>(value)));
  }
  SpanRecord& Attr(std::string_view key, double value) { return Attr(key, AttributeValue(value)); }
  SpanRecord& Attr(std::string_view key, bool value) { return Attr(key, AttributeValue(value)); }
  SpanRecord& Error(std::string message) {
    status = SpanStatusCode::kError;
    status_message = std::move(message);
    return *this;
  }
};

// A log line as exported.
struct LogRecord {
  int64_t time_ns = 0;
  core::LogLevel level = core::LogLevel::kInfo;
  std::string component;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
  TraceId trace_id;  // zero when unknown
  SpanId span_id;
};

// Who is reporting (OTLP resource attributes).
struct TelemetryResource {
  std::string service_name = "artagent";
  std::string service_version;      // empty = the build's version
  std::string service_instance_id;  // empty = random, per process
  std::string host_name;            // empty = gethostname()
};

struct TelemetryOptions {
  std::string otlp_endpoint;  // base URL, e.g. "http://127.0.0.1:4318"; "" = export nothing
  net::Headers headers;       // sent with every export (e.g. an API key)
  TelemetryResource resource;
  // Phone numbers, transcripts and tool arguments may appear in spans and logs only when true;
  // otherwise log text is exported with long digit runs redacted.
  bool include_pii = false;
  core::LogLevel log_level = core::LogLevel::kInfo;  // least severe log line exported
  bool export_logs = true;                           // install the log sink

  size_t max_queue = 2048;  // records per signal waiting for export
  size_t max_batch = 512;   // records per request
  core::Duration flush_interval = std::chrono::seconds(2);
  core::Duration metrics_interval = std::chrono::seconds(30);  // 0 = no metrics export
  int max_attempts = 5;                                        // per batch, the first try included
  net::BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::seconds(30), 2.0, 0.2};
  net::CircuitBreakerOptions breaker{5, std::chrono::seconds(30)};
  std::chrono::milliseconds request_timeout{10000};
  net::HttpClientOptions http;  // the exporter's own client (never observed)
};

// Counters since start (also in the Prometheus registry, when one was given).
struct TelemetryStats {
  uint64_t spans_exported = 0;
  uint64_t logs_exported = 0;
  uint64_t metric_points_exported = 0;
  uint64_t spans_dropped = 0;  // queue full, or their batch given up
  uint64_t logs_dropped = 0;
  uint64_t export_requests = 0;  // POSTs made, retries included
  uint64_t export_failures = 0;  // POSTs that failed (status or transport)
  uint64_t retries = 0;
  uint64_t rejected = 0;  // records the receiver refused (4xx or partialSuccess)
};

class Telemetry {
 public:
  // kInvalidArgument for an endpoint that is not an http(s) URL. `metrics`: the registry exported
  // as OTLP metrics and where telemetry counts itself; may be null. Starts the exporter thread.
  static core::Result<std::unique_ptr<Telemetry>> Create(TelemetryOptions options,
                                                         Metrics* metrics);
  // Removes the log sink, exports what is queued (for at most a few seconds) and stops.
  ~Telemetry();

  const TelemetryOptions& options() const;
  bool include_pii() const;

  // Queues a finished span; false (and counted) when the queue is full.
  bool RecordSpan(SpanRecord span);
  // Queues a log record (level >= log_level); false when filtered out or the queue is full.
  bool RecordLog(LogRecord record);

  // Log lines naming a session (a "session" field, or its id "sess_..." in the text) are
  // exported with that session's trace and span.
  void BindSession(const std::string& session_id, const SpanContext& context);
  void UnbindSession(const std::string& session_id);

  // Client spans for outbound calls: install in net::HttpClientOptions::observer.
  std::shared_ptr<net::HttpCallObserver> http_observer();

  // Exports everything queued now and a metrics snapshot, and waits until it has been sent or
  // given up, at most `timeout`. True when nothing was left.
  bool Flush(std::chrono::milliseconds timeout);

  TelemetryStats stats() const;
  net::CircuitBreaker::State breaker_state() const;

  struct Impl;

 private:
  explicit Telemetry(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// An HttpCallObserver for clients created before the Telemetry exists (start-up creates its HTTP
// client first: secrets may be needed to configure telemetry). Forwards to the target once set;
// observes nothing before.
class LateHttpObserver final : public net::HttpCallObserver {
 public:
  void SetTarget(std::shared_ptr<net::HttpCallObserver> target) {
    target_.store(std::move(target));
  }
  std::unique_ptr<net::HttpCallScope> OnCallStart(net::HttpRequestSpec& request) override {
    auto target = target_.load();
    return target ? target->OnCallStart(request) : nullptr;
  }

 private:
  std::atomic<std::shared_ptr<net::HttpCallObserver>> target_;
};

// The telemetry the configuration asks for: nullptr when telemetry.otlp_endpoint is empty.
// Checks telemetry.app_insights_connection_string (or the environment's
// APPLICATIONINSIGHTS_CONNECTION_STRING, read through `env`) and fails start-up on a malformed
// one; resolves secret:// values of telemetry.otlp_headers with `resolve_secret`.
core::Result<std::unique_ptr<Telemetry>> TelemetryFromConfig(
    const TelemetryConfig& config, Metrics* metrics,
    const std::function<core::Result<std::string>(const std::string&)>& resolve_secret,
    const std::function<std::string(const std::string&)>& env);

// Replaces runs of 7 or more digits (phone numbers, account numbers; spaces, dashes, dots and
// brackets between them allowed, a leading '+' included) with "[redacted]".
std::string RedactDigits(std::string_view text);

}  // namespace artagent::platform
