#pragma once
// OtlpReceiver: a fake OpenTelemetry collector for tests. It accepts OTLP/HTTP JSON on
// /v1/traces, /v1/logs and /v1/metrics (answering 200 "{}"), records every body, checks each one
// against the wire format of reference/protocols.md §8 (ValidateOtlpBody), and fails on cue
// (FailNext: 429 / 503 with an optional Retry-After; HangNext: no answer, to hit a timeout).
// Loopback, port 0; built on net::testing::ScriptedServer. Thread-safe.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "net/testing/scripted_server.h"

namespace artagent::platform::testing {

// What is wrong with one export body for `path` ("/v1/traces", "/v1/logs", "/v1/metrics"): every
// problem found (required fields, hex id lengths 32/16 and not all zero, integer kind / status
// code / severity, nanosecond times and 64-bit integers as decimal strings, histogram bucket
// counts = bounds + 1, ...). Empty when the body is valid.
std::vector<std::string> ValidateOtlpBody(const std::string& path, const std::string& body);

struct ReceivedSpan {
  std::string trace_id;  // hex, lower-cased
  std::string span_id;
  std::string parent_span_id;  // "" for a root
  std::string name;
  int kind = 0;
  int status_code = 0;
  std::string status_message;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::map<std::string, nlohmann::json> attributes;  // key -> AnyValue ({"stringValue": ...})
  std::map<std::string, std::string> resource;       // string resource attributes
  // The attribute as text (stringValue, or intValue's string), "" when absent.
  std::string Attr(const std::string& key) const;
};

struct ReceivedLog {
  std::string trace_id;
  std::string span_id;
  int severity = 0;
  std::string body;
  std::map<std::string, std::string> attributes;
};

class OtlpReceiver {
 public:
  static core::Result<std::unique_ptr<OtlpReceiver>> Start();

  // Base URL for telemetry.otlp_endpoint ("http://127.0.0.1:PORT").
  std::string endpoint() const;

  // The next `count` export requests are answered `status` (with Retry-After when given).
  void FailNext(int status, int count = 1, const std::string& retry_after = "");
  // The next `count` requests get no answer at all (the client times out).
  void HangNext(int count = 1);

  // Requests received on `path` so far (failed ones included).
  size_t RequestCount(const std::string& path) const;
  // Everything received on /v1/traces (answered 2xx or not), flattened.
  std::vector<ReceivedSpan> Spans() const;
  std::vector<ReceivedLog> Logs() const;
  // Metric names received on /v1/metrics.
  std::vector<std::string> MetricNames() const;
  // Bodies received on `path`, parsed.
  std::vector<nlohmann::json> Bodies(const std::string& path) const;
  // Problems found in any body received so far, each prefixed with its path; empty = all valid.
  std::vector<std::string> Errors() const;
  // Spans whose parentSpanId names no span received in the same trace ("name: parent X").
  std::vector<std::string> DanglingParents() const;

  // Polls `done` until it holds or `timeout` passes; true when it held.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) const;

  net::testing::ScriptedServer& server() { return *server_; }

 private:
  explicit OtlpReceiver(std::unique_ptr<net::testing::ScriptedServer> server);
  std::unique_ptr<net::testing::ScriptedServer> server_;
};

}  // namespace artagent::platform::testing
