#include "platform/telemetry.h"

#include <gtest/gtest.h>

#include <future>
#include <set>

#include "core/serial_thread_executor.h"
#include "net/testing/scripted_server.h"
#include "platform/metrics.h"
#include "platform/testing/otlp_receiver.h"

namespace artagent::platform {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::OtlpReceiver;

// ---- traceparent ----

TEST(TraceparentTest, ParsesTheW3cExample) {
  auto c = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id.Hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled);
  EXPECT_EQ(FormatTraceparent(*c), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled);
}

TEST(TraceparentTest, RejectsMalformedValues) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",   // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 is exactly 55
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
  // A later version may append fields.
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")
                  .has_value());
}

TEST(TraceparentTest, NewContextsAreRandomAndRoundTrip) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    SpanContext root = SpanContext::NewRoot();
    ASSERT_TRUE(root.valid());
    SpanContext child = root.Child();
    EXPECT_EQ(child.trace_id, root.trace_id);
    EXPECT_NE(child.span_id, root.span_id);
    const std::string tp = FormatTraceparent(child);
    ASSERT_EQ(tp.size(), 55u);
    auto back = ParseTraceparent(tp);
    ASSERT_TRUE(back.has_value()) << tp;
    EXPECT_EQ(back->trace_id, child.trace_id);
    EXPECT_EQ(back->span_id, child.span_id);
    seen.insert(root.trace_id.Hex());
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TelemetryTest, RedactsLongDigitRuns) {
  EXPECT_EQ(RedactDigits("call from +1 (425) 555-0100 ended"), "call from [redacted] ended");
  EXPECT_EQ(RedactDigits("policy 40213587 verified"), "policy [redacted] verified");
  EXPECT_EQ(RedactDigits("turn 12 took 530 ms"), "turn 12 took 530 ms");
  EXPECT_EQ(RedactDigits("born 1985-03-14"), "born [redacted]");  // dates of birth too
  EXPECT_EQ(RedactDigits("+ 12"), "+ 12");
}

// ---- the exporter, against the fake receiver ----

class TelemetryExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = OtlpReceiver::Start();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    receiver_ = std::move(r).value();
  }
  void TearDown() override {
    telemetry_.reset();
    EXPECT_TRUE(receiver_->Errors().empty()) << receiver_->Errors().front();
  }

  TelemetryOptions Options() {
    TelemetryOptions o;
    o.otlp_endpoint = receiver_->endpoint();
    o.flush_interval = std::chrono::hours(1);  // batches leave by size or Flush() only
    o.metrics_interval = core::Duration(0);
    o.export_logs = false;
    o.backoff = net::BackoffPolicy{milliseconds(1), milliseconds(5), 2.0, 0.0};
    return o;
  }

  void Start(TelemetryOptions o) {
    auto t = Telemetry::Create(std::move(o), &metrics_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    telemetry_ = std::move(t).value();
  }

  static SpanRecord Span(const std::string& name) {
    SpanRecord s;
    s.context = SpanContext::NewRoot();
    s.name = name;
    s.start_ns = NowUnixNanos();
    s.end_ns = s.start_ns + 1000;
    return s;
  }

  size_t SpansIn(const nlohmann::json& body) {
    return body["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
  }

  double Counter(const std::string& family, const std::map<std::string, std::string>& labels) {
    for (const auto& f : metrics_.Snapshot()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        std::map<std::string, std::string> have;
        for (const auto& l : m.label) have[l.name] = l.value;
        if (have == labels) return m.counter.value;
      }
    }
    return 0;
  }

  Metrics metrics_;
  std::unique_ptr<OtlpReceiver> receiver_;
  std::unique_ptr<Telemetry> telemetry_;
};

TEST_F(TelemetryExportTest, RejectsAnEndpointThatIsNotAUrl) {
  TelemetryOptions o = Options();
  o.otlp_endpoint = "collector:4318";
  auto t = Telemetry::Create(o, nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("telemetry.otlp_endpoint"), std::string::npos);
}

TEST_F(TelemetryExportTest, BatchesBySizeAndSendsTheRestOnFlush) {
  TelemetryOptions o = Options();
  o.max_batch = 3;
  o.headers = {{"api-key", "s3cret"}};
  ASSERT_NO_FATAL_FAILURE(Start(o));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(telemetry_->RecordSpan(Span("s" + std::to_string(i))));
  // Two full batches leave without a flush.
  ASSERT_TRUE(receiver_->WaitUntil([&] { return receiver_->RequestCount("/v1/traces") >= 2; },
                                   seconds(10)));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  const auto bodies = receiver_->Bodies("/v1/traces");
  ASSERT_EQ(bodies.size(), 3u);
  size_t total = 0;
  for (const auto& b : bodies) {
    EXPECT_LE(SpansIn(b), 3u);
    total += SpansIn(b);
  }
  EXPECT_EQ(total, 7u);
  EXPECT_EQ(receiver_->Spans().size(), 7u);
  EXPECT_EQ(receiver_->server().requests()[0].Header("api-key"), "s3cret");
  EXPECT_EQ(telemetry_->stats().spans_exported, 7u);
  EXPECT_EQ(Counter("artagent_telemetry_exported_total", {{"signal", "traces"}}), 7);
  // Resource attributes.
  const auto span = receiver_->Spans()[0];
  EXPECT_EQ(span.resource.at("service.name"), "artagent");
  EXPECT_FALSE(span.resource.at("service.version").empty());
  EXPECT_FALSE(span.resource.at("service.instance.id").empty());
  EXPECT_FALSE(span.resource.at("host.name").empty());
}

TEST_F(TelemetryExportTest, SendsOnTheIntervalWithoutAFlush) {
  TelemetryOptions o = Options();
  o.flush_interval = milliseconds(20);
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("a")));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("b")));
  ASSERT_TRUE(receiver_->WaitUntil([&] { return receiver_->Spans().size() == 2; }, seconds(10)));
}

TEST_F(TelemetryExportTest, AFullQueueDropsAndCounts) {
  TelemetryOptions o = Options();
  o.max_queue = 4;
  o.max_batch = 100;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += telemetry_->RecordSpan(Span("s")) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(telemetry_->stats().spans_dropped, 6u);
  EXPECT_EQ(
      Counter("artagent_telemetry_dropped_total", {{"signal", "traces"}, {"reason", "queue_full"}}),
      6);
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  EXPECT_EQ(receiver_->Spans().size(), 4u);
  // The queue has room again.
  EXPECT_TRUE(telemetry_->RecordSpan(Span("s")));
}

TEST_F(TelemetryExportTest, RetriesA503ThenSucceeds) {
  receiver_->FailNext(503, 2);
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("kept")));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  EXPECT_EQ(receiver_->RequestCount("/v1/traces"), 3u);
  const auto stats = telemetry_->stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.export_failures, 2u);
  EXPECT_EQ(stats.spans_exported, 1u);
  EXPECT_EQ(stats.spans_dropped, 0u);
  EXPECT_EQ(Counter("artagent_telemetry_export_failures_total",
                    {{"signal", "traces"}, {"reason", "status_503"}}),
            2);
  // The same body each time.
  const auto requests = receiver_->server().requests();
  EXPECT_EQ(requests[0].body, requests[2].body);
}

TEST_F(TelemetryExportTest, HonoursRetryAfterOn429AndRetriesATimeout) {
  receiver_->FailNext(429, 1, "0");
  receiver_->HangNext(1);
  TelemetryOptions o = Options();
  o.request_timeout = milliseconds(300);
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("kept")));
  ASSERT_TRUE(telemetry_->Flush(seconds(20)));
  EXPECT_EQ(receiver_->RequestCount("/v1/traces"), 3u);
  EXPECT_EQ(telemetry_->stats().spans_exported, 1u);
  EXPECT_EQ(Counter("artagent_telemetry_export_failures_total",
                    {{"signal", "traces"}, {"reason", "status_429"}}),
            1);
  EXPECT_EQ(Counter("artagent_telemetry_export_failures_total",
                    {{"signal", "traces"}, {"reason", "timeout"}}),
            1);
}

TEST_F(TelemetryExportTest, GivesUpAfterMaxAttemptsAndCountsTheDrop) {
  receiver_->FailNext(503, 3);
  TelemetryOptions o = Options();
  o.max_attempts = 3;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("a")));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("b")));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  EXPECT_EQ(receiver_->RequestCount("/v1/traces"), 3u);
  EXPECT_EQ(telemetry_->stats().spans_dropped, 2u);
  EXPECT_EQ(Counter("artagent_telemetry_dropped_total",
                    {{"signal", "traces"}, {"reason", "export_failed"}}),
            2);
  // The exporter carries on with the next batch.
  ASSERT_TRUE(telemetry_->RecordSpan(Span("c")));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  EXPECT_EQ(telemetry_->stats().spans_exported, 1u);
}

TEST_F(TelemetryExportTest, ABadRequestIsNotRetried) {
  receiver_->FailNext(400, 1);
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("a")));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  EXPECT_EQ(receiver_->RequestCount("/v1/traces"), 1u);
  EXPECT_EQ(telemetry_->stats().rejected, 1u);
  EXPECT_EQ(telemetry_->stats().retries, 0u);
}

TEST_F(TelemetryExportTest, TheBreakerOpensAfterRepeatedFailures) {
  receiver_->FailNext(503, 10);
  TelemetryOptions o = Options();
  o.max_attempts = 10;
  o.breaker = net::CircuitBreakerOptions{2, std::chrono::hours(1)};
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_TRUE(telemetry_->RecordSpan(Span("a")));
  // The batch cannot go out while the breaker is open: the flush gives up, nothing is dropped.
  EXPECT_FALSE(telemetry_->Flush(milliseconds(500)));
  EXPECT_EQ(telemetry_->breaker_state(), net::CircuitBreaker::State::kOpen);
  EXPECT_EQ(receiver_->RequestCount("/v1/traces"), 2u);
  EXPECT_EQ(telemetry_->stats().spans_dropped, 0u);
  EXPECT_GE(Counter("artagent_telemetry_export_failures_total",
                    {{"signal", "traces"}, {"reason", "circuit_open"}}),
            1);
  bool found = false;
  for (const auto& f : metrics_.Snapshot()) {
    if (f.name != "artagent_circuit_breaker_state") continue;
    for (const auto& m : f.metric) {
      if (m.label.size() == 1 && m.label[0].value == "otlp") {
        found = true;
        EXPECT_EQ(m.gauge.value, 1);
      }
    }
  }
  EXPECT_TRUE(found);
  receiver_->server().SetDefaultResponse(net::testing::ScriptedResponse(200).Write("{}"));
  telemetry_.reset();  // shutdown must not hang on the open breaker
}

TEST_F(TelemetryExportTest, ExportsAMetricsSnapshot) {
  metrics_.turn_latency_seconds.Add({{"stage", "voice_to_voice"}}, Metrics::LatencyBuckets())
      .Observe(0.4);
  metrics_.sessions_active.Add({{"transport", "realtime"}}).Set(1);
  TelemetryOptions o = Options();
  o.metrics_interval = std::chrono::hours(1);  // the flush exports a snapshot
  ASSERT_NO_FATAL_FAILURE(Start(o));
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  const auto names = receiver_->MetricNames();
  for (const char* want : {"artagent_turn_latency_seconds", "artagent_sessions_active",
                           "artagent_circuit_breaker_state"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_GT(telemetry_->stats().metric_points_exported, 0u);
}

TEST_F(TelemetryExportTest, LogsCarryTheirSessionsTraceAndAreRedactedByDefault) {
  TelemetryOptions o = Options();
  EXPECT_FALSE(o.include_pii);  // the default
  o.export_logs = true;
  o.log_level = core::LogLevel::kWarn;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  const SpanContext session = SpanContext::NewRoot();
  telemetry_->BindSession("sess_AbCdEfGhIjKlMnOpQrSt", session);
  core::LogWarn("test", "sess_AbCdEfGhIjKlMnOpQrSt: caller +14255550100 said hello");
  core::LogInfo("test", "below telemetry.log_level");
  core::LogError("test", "no session here");
  telemetry_->UnbindSession("sess_AbCdEfGhIjKlMnOpQrSt");
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  const auto logs = receiver_->Logs();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].body, "sess_AbCdEfGhIjKlMnOpQrSt: caller [redacted] said hello");
  EXPECT_EQ(logs[0].trace_id, session.trace_id.Hex());
  EXPECT_EQ(logs[0].span_id, session.span_id.Hex());
  EXPECT_EQ(logs[0].severity, 13);
  EXPECT_EQ(logs[0].attributes.at("artagent.component"), "test");
  EXPECT_EQ(logs[1].body, "no session here");
  EXPECT_TRUE(logs[1].trace_id.empty());
}

TEST_F(TelemetryExportTest, IncludePiiKeepsLogTextAsIs) {
  TelemetryOptions o = Options();
  o.export_logs = true;
  o.include_pii = true;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  core::LogWarn("test", "caller +14255550100");
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));
  ASSERT_EQ(receiver_->Logs().size(), 1u);
  EXPECT_EQ(receiver_->Logs()[0].body, "caller +14255550100");
}

// Every outbound call gets a client span, child of the caller's context, propagated upstream.
TEST_F(TelemetryExportTest, HttpCallsGetClientSpansAndPropagateTraceparent) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  auto upstream = net::testing::ScriptedServer::Start().value();
  upstream->Enqueue(net::testing::ScriptedResponse(200).Write("ok"));
  upstream->Enqueue(net::testing::ScriptedResponse(503).Write("busy"));
  net::HttpClientOptions ho;
  ho.observer = telemetry_->http_observer();
  auto client = net::HttpClient::Create(ho);
  auto executor = core::SerialThreadExecutor::Create("test");
  const SpanContext parent = SpanContext::NewRoot();

  auto fetch = [&](const std::string& traceparent) {
    net::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = upstream->base_url() + "/v1/chat/completions?api-key=secret";
    spec.traceparent = traceparent;
    std::promise<core::Result<net::HttpResponse>> done;
    auto call = client->Fetch(
        spec, [&](core::Result<net::HttpResponse> r) { done.set_value(std::move(r)); }, executor);
    return done.get_future().get();
  };
  ASSERT_TRUE(fetch(FormatTraceparent(parent)).ok());
  ASSERT_TRUE(fetch("").ok());
  ASSERT_TRUE(telemetry_->Flush(seconds(10)));

  const auto requests = upstream->requests();
  ASSERT_EQ(requests.size(), 2u);
  auto sent = ParseTraceparent(requests[0].Header("traceparent"));
  ASSERT_TRUE(sent.has_value()) << requests[0].Header("traceparent");
  EXPECT_EQ(sent->trace_id, parent.trace_id);
  EXPECT_NE(sent->span_id, parent.span_id);

  const auto spans = receiver_->Spans();
  ASSERT_EQ(spans.size(), 2u);
  const auto& first = spans[0].span_id == sent->span_id.Hex() ? spans[0] : spans[1];
  const auto& second = &first == &spans[0] ? spans[1] : spans[0];
  EXPECT_EQ(first.trace_id, parent.trace_id.Hex());
  EXPECT_EQ(first.parent_span_id, parent.span_id.Hex());
  EXPECT_EQ(first.kind, 3);
  EXPECT_EQ(first.name, "POST");
  EXPECT_EQ(first.Attr("http.response.status_code"), "200");
  EXPECT_EQ(first.Attr("url.full"), upstream->base_url() + "/v1/chat/completions");
  EXPECT_EQ(first.Attr("server.address"), "127.0.0.1");
  EXPECT_EQ(first.status_code, 0);
  // No parent: a trace of its own; a 503 is an error.
  EXPECT_TRUE(second.parent_span_id.empty());
  EXPECT_NE(second.trace_id, parent.trace_id.Hex());
  EXPECT_EQ(second.status_code, 2);
  EXPECT_EQ(second.Attr("error.type"), "503");
  auto second_sent = ParseTraceparent(requests[1].Header("traceparent"));
  ASSERT_TRUE(second_sent.has_value());
  EXPECT_EQ(second_sent->span_id.Hex(), second.span_id);
}

}  // namespace
}  // namespace artagent::platform
