#include "platform/otlp_json.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "platform/testing/otlp_receiver.h"

namespace artagent::platform {
namespace {

using nlohmann::json;

// reference/protocols.md §8 [vector]: the minimal trace body.
constexpr const char* kVector =
    R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"voice-agent"}}]},
 "scopeSpans":[{"scope":{"name":"voice-agent","version":"1.0.0"},
 "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
 "parentSpanId":"EEE19B7EC3C1B173","name":"I'm a server span","kind":2,
 "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
 "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}],
 "status":{"code":1}}]}]}]})";

template <size_t N>
std::array<uint8_t, N> Bytes(std::string_view hex) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TelemetryResource VectorResource() {
  TelemetryResource r;
  r.service_name = "voice-agent";
  r.service_version = "1.0.0";
  return r;
}

SpanRecord VectorSpan() {
  SpanRecord s;
  s.context.trace_id.bytes = Bytes<16>("5B8EFFF798038103D269B633813FC60C");
  s.context.span_id.bytes = Bytes<8>("EEE19B7EC3C1B174");
  s.parent.bytes = Bytes<8>("EEE19B7EC3C1B173");
  s.name = "I'm a server span";
  s.kind = SpanKind::kServer;
  s.start_ns = 1544712660000000000;
  s.end_ns = 1544712661000000000;
  s.Attr("my.span.attr", "some value");
  s.status = SpanStatusCode::kOk;
  return s;
}

TEST(OtlpJsonTest, TraceEncoderMatchesTheProtocolVectorFieldByField) {
  const json want = json::parse(kVector);
  const json got = json::parse(EncodeTraces(VectorResource(), {VectorSpan()}));

  const json& want_rs = want["resourceSpans"][0];
  const json& got_rs = got["resourceSpans"][0];
  ASSERT_EQ(got["resourceSpans"].size(), 1u);
  // The resource carries service.name exactly as in the vector (and more attributes besides).
  const json& name_attr = want_rs["resource"]["attributes"][0];
  EXPECT_NE(std::find(got_rs["resource"]["attributes"].begin(),
                      got_rs["resource"]["attributes"].end(), name_attr),
            got_rs["resource"]["attributes"].end());
  EXPECT_EQ(got_rs["scopeSpans"][0]["scope"], want_rs["scopeSpans"][0]["scope"]);

  const json& want_span = want_rs["scopeSpans"][0]["spans"][0];
  const json& got_span = got_rs["scopeSpans"][0]["spans"][0];
  ASSERT_EQ(got_rs["scopeSpans"][0]["spans"].size(), 1u);
  EXPECT_EQ(got_span.size(), want_span.size()) << got_span.dump();
  for (const auto& [key, value] : want_span.items()) {
    ASSERT_TRUE(got_span.contains(key)) << key;
    if (key == "traceId" || key == "spanId" || key == "parentSpanId") {
      // Hex is case-insensitive in OTLP/JSON; we emit lower case like W3C traceparent.
      EXPECT_EQ(got_span[key], Lower(value.get<std::string>())) << key;
    } else {
      EXPECT_EQ(got_span[key], value) << key;
    }
  }
  EXPECT_TRUE(testing::ValidateOtlpBody("/v1/traces", got.dump()).empty());
  EXPECT_TRUE(testing::ValidateOtlpBody("/v1/traces", kVector).empty());
}

TEST(OtlpJsonTest, TraceEncoderWritesErrorsIntsAndRootSpans) {
  SpanRecord s = VectorSpan();
  s.parent = {};
  s.kind = SpanKind::kClient;
  s.Attr("count", int64_t{9007199254740993});  // above 2^53: must survive as a string
  s.Attr("ok", true);
  s.Attr("ratio", 0.5);
  s.Error("upstream said 503");
  const json span = json::parse(
      EncodeTraces(VectorResource(), {s}))["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_EQ(span["kind"], 3);
  EXPECT_EQ(span["status"], (json{{"code", 2}, {"message", "upstream said 503"}}));
  EXPECT_EQ(span["attributes"][1]["value"], (json{{"intValue", "9007199254740993"}}));
  EXPECT_EQ(span["attributes"][2]["value"], (json{{"boolValue", true}}));
  EXPECT_EQ(span["attributes"][3]["value"], (json{{"doubleValue", 0.5}}));
}

TEST(OtlpJsonTest, TooManyAttributesAreCountedAsDropped) {
  SpanRecord s = VectorSpan();
  for (int i = 0; i < 20; ++i) s.Attr("k", i);
  const json span = json::parse(
      EncodeTraces(VectorResource(), {s}))["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["attributes"].size(), SpanRecord::kMaxAttributes);
  EXPECT_EQ(span["droppedAttributesCount"], 21 - SpanRecord::kMaxAttributes);
}

TEST(OtlpJsonTest, LogEncoderUsesSeverityNumbersAndIds) {
  LogRecord l;
  l.time_ns = 1544712660000000000;
  l.level = core::LogLevel::kWarn;
  l.component = "session";
  l.message = "stt stream failed";
  l.fields = {{"session", "sess_1"}};
  l.trace_id.bytes = Bytes<16>("5B8EFFF798038103D269B633813FC60C");
  l.span_id.bytes = Bytes<8>("EEE19B7EC3C1B174");
  LogRecord anonymous = l;
  anonymous.trace_id = {};
  anonymous.span_id = {};
  anonymous.level = core::LogLevel::kInfo;
  const std::string body = EncodeLogs(VectorResource(), {l, anonymous});
  EXPECT_TRUE(testing::ValidateOtlpBody("/v1/logs", body).empty())
      << testing::ValidateOtlpBody("/v1/logs", body)[0];
  const json recs = json::parse(body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["timeUnixNano"], "1544712660000000000");
  EXPECT_EQ(recs[0]["severityNumber"], 13);
  EXPECT_EQ(recs[0]["severityText"], "WARN");
  EXPECT_EQ(recs[0]["body"], (json{{"stringValue", "stt stream failed"}}));
  EXPECT_EQ(recs[0]["traceId"], "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(recs[0]["spanId"], "eee19b7ec3c1b174");
  EXPECT_EQ(recs[0]["attributes"][0],
            (json{{"key", "artagent.component"}, {"value", {{"stringValue", "session"}}}}));
  EXPECT_EQ(recs[0]["attributes"][1],
            (json{{"key", "session"}, {"value", {{"stringValue", "sess_1"}}}}));
  EXPECT_EQ(recs[1]["severityNumber"], 9);
  EXPECT_FALSE(recs[1].contains("traceId"));
}

TEST(OtlpJsonTest, MetricsEncoderConvertsPrometheusFamilies) {
  prometheus::Registry registry;
  auto& counter = prometheus::BuildCounter().Name("x_total").Help("h").Register(registry);
  counter.Add({{"kind", "a"}}).Increment(3);
  auto& gauge = prometheus::BuildGauge().Name("x_active").Help("g").Register(registry);
  gauge.Add({}).Set(2);
  auto& hist = prometheus::BuildHistogram().Name("x_seconds").Help("s").Register(registry);
  auto& h = hist.Add({{"stage", "stt"}}, prometheus::Histogram::BucketBoundaries{0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.7);
  h.Observe(5);
  size_t points = 0;
  const std::string body = EncodeMetrics(VectorResource(), registry.Collect(), 1544712660000000000,
                                         1544712661000000000, &points);
  EXPECT_EQ(points, 3u);
  EXPECT_TRUE(testing::ValidateOtlpBody("/v1/metrics", body).empty());
  const json metrics = json::parse(body)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
  std::map<std::string, json> by_name;
  for (const auto& m : metrics) by_name[m["name"]] = m;
  ASSERT_EQ(by_name.size(), 3u);
  const json& sum = by_name["x_total"]["sum"];
  EXPECT_EQ(sum["aggregationTemporality"], 2);
  EXPECT_EQ(sum["isMonotonic"], true);
  EXPECT_EQ(sum["dataPoints"][0]["asDouble"], 3.0);
  EXPECT_EQ(sum["dataPoints"][0]["startTimeUnixNano"], "1544712660000000000");
  EXPECT_EQ(sum["dataPoints"][0]["timeUnixNano"], "1544712661000000000");
  EXPECT_EQ(sum["dataPoints"][0]["attributes"][0]["key"], "kind");
  EXPECT_EQ(by_name["x_active"]["gauge"]["dataPoints"][0]["asDouble"], 2.0);
  const json& hp = by_name["x_seconds"]["histogram"]["dataPoints"][0];
  EXPECT_EQ(by_name["x_seconds"]["unit"], "s");
  EXPECT_EQ(by_name["x_seconds"]["histogram"]["aggregationTemporality"], 2);
  EXPECT_EQ(hp["count"], "4");
  EXPECT_DOUBLE_EQ(hp["sum"].get<double>(), 6.25);
  EXPECT_EQ(hp["explicitBounds"], (json{0.1, 1.0}));
  EXPECT_EQ(hp["bucketCounts"], (json{"1", "2", "1"}));  // per bucket, not cumulative
}

TEST(OtlpJsonTest, RejectedCountReadsPartialSuccess) {
  EXPECT_EQ(RejectedCount("{}"), 0);
  EXPECT_EQ(RejectedCount(""), 0);
  EXPECT_EQ(RejectedCount("not json"), 0);
  EXPECT_EQ(RejectedCount(R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"x"}})"), 3);
  EXPECT_EQ(RejectedCount(R"({"partialSuccess":{"rejectedLogRecords":2}})"), 2);
  EXPECT_EQ(RejectedCount(R"({"partialSuccess":{}})"), 0);
}

// The fake receiver's validator catches what a real collector would refuse.
TEST(OtlpJsonTest, ValidatorRejectsMalformedBodies) {
  json good = json::parse(kVector);
  auto errors_with = [&](auto mutate) {
    json j = good;
    mutate(j["resourceSpans"][0]["scopeSpans"][0]["spans"][0]);
    return testing::ValidateOtlpBody("/v1/traces", j.dump());
  };
  EXPECT_FALSE(errors_with([](json& s) { s["traceId"] = "W47/95gDgQPSabYzgT/GDA=="; }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["traceId"] = std::string(32, '0'); }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["spanId"] = "EEE19B7EC3C1B1"; }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["kind"] = "SPAN_KIND_SERVER"; }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["startTimeUnixNano"] = 1544712660000000000; }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["status"]["code"] = "STATUS_CODE_OK"; }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s.erase("name"); }).empty());
  EXPECT_FALSE(errors_with([](json& s) { s["endTimeUnixNano"] = "1544712650000000000"; }).empty());
  EXPECT_FALSE(errors_with([](json& s) {
                 s["attributes"][0]["value"] = json{{"intValue", 5}};
               }).empty());
  EXPECT_FALSE(testing::ValidateOtlpBody("/v1/traces", "{").empty());
  EXPECT_FALSE(testing::ValidateOtlpBody("/v1/logs", R"({"resourceLogs":[]})").empty());
}

}  // namespace
}  // namespace artagent::platform
