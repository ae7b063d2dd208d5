#include "platform/otlp_json.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace artagent::platform {
namespace {

using nlohmann::json;

json AnyValue(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return {{"stringValue", v}};
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return {{"intValue", std::to_string(v)}};
        } else if constexpr (std::is_same_v<T, double>) {
          return {{"doubleValue", v}};
        } else {
          return {{"boolValue", v}};
        }
      },
      value);
}

json KeyValue(std::string_view key, json value) {
  return {{"key", std::string(key)}, {"value", std::move(value)}};
}

json StringKeyValue(std::string_view key, std::string_view value) {
  return KeyValue(key, {{"stringValue", std::string(value)}});
}

json ResourceJson(const TelemetryResource& r) {
  json attrs = json::array();
  attrs.push_back(StringKeyValue("service.name", r.service_name));
  if (!r.service_version.empty()) {
    attrs.push_back(StringKeyValue("service.version", r.service_version));
  }
  if (!r.service_instance_id.empty()) {
    attrs.push_back(StringKeyValue("service.instance.id", r.service_instance_id));
  }
  if (!r.host_name.empty()) attrs.push_back(StringKeyValue("host.name", r.host_name));
  attrs.push_back(StringKeyValue("telemetry.sdk.name", "artagent"));
  attrs.push_back(StringKeyValue("telemetry.sdk.language", "cpp"));
  return {{"attributes", std::move(attrs)}};
}

// The instrumentation scope is the service itself (no third-party instrumentation libraries).
json ScopeJson(const TelemetryResource& r) {
  json scope = {{"name", r.service_name}};
  if (!r.service_version.empty()) scope["version"] = r.service_version;
  return scope;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string NanosText(int64_t ns) { return std::to_string(ns < 0 ? 0 : ns); }

std::string UnitOf(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with("_seconds") || ends_with("_seconds_total")) return "s";
  if (ends_with("_bytes") || ends_with("_bytes_total")) return "By";
  return "1";
}

json LabelAttributes(const prometheus::ClientMetric& m) {
  json attrs = json::array();
  for (const auto& label : m.label) attrs.push_back(StringKeyValue(label.name, label.value));
  return attrs;
}

}  // namespace

std::string EncodeTraces(const TelemetryResource& resource, const std::vector<SpanRecord>& spans) {
  json out = json::array();
  for (const SpanRecord& s : spans) {
    json span = {{"traceId", s.context.trace_id.Hex()},
                 {"spanId", s.context.span_id.Hex()},
                 {"name", s.name},
                 {"kind", static_cast<int>(s.kind)},
                 {"startTimeUnixNano", NanosText(s.start_ns)},
                 {"endTimeUnixNano", NanosText(std::max(s.end_ns, s.start_ns))}};
    if (s.parent.valid()) span["parentSpanId"] = s.parent.Hex();
    json attrs = json::array();
    for (size_t i = 0; i < s.attribute_count; ++i) {
      attrs.push_back(KeyValue(s.attributes[i].key, AnyValue(s.attributes[i].value)));
    }
    span["attributes"] = std::move(attrs);
    if (s.dropped_attributes > 0) span["droppedAttributesCount"] = s.dropped_attributes;
    json status = {{"code", static_cast<int>(s.status)}};
    if (s.status == SpanStatusCode::kError && !s.status_message.empty()) {
      status["message"] = s.status_message;
    }
    span["status"] = std::move(status);
    out.push_back(std::move(span));
  }
  json body = {{"resourceSpans",
                json::array({{{"resource", ResourceJson(resource)},
                              {"scopeSpans", json::array({{{"scope", ScopeJson(resource)},
                                                           {"spans", std::move(out)}}})}}})}};
  return Dump(body);
}

int SeverityNumber(core::LogLevel level) {
  switch (level) {
    case core::LogLevel::kDebug:
      return 5;
    case core::LogLevel::kInfo:
      return 9;
    case core::LogLevel::kWarn:
      return 13;
    case core::LogLevel::kError:
      return 17;
    case core::LogLevel::kOff:
      return 0;
  }
  return 0;
}

std::string_view SeverityText(core::LogLevel level) {
  switch (level) {
    case core::LogLevel::kDebug:
      return "DEBUG";
    case core::LogLevel::kInfo:
      return "INFO";
    case core::LogLevel::kWarn:
      return "WARN";
    case core::LogLevel::kError:
      return "ERROR";
    case core::LogLevel::kOff:
      return "";
  }
  return "";
}

std::string EncodeLogs(const TelemetryResource& resource, const std::vector<LogRecord>& logs) {
  json out = json::array();
  for (const LogRecord& l : logs) {
    json attrs = json::array({StringKeyValue("artagent.component", l.component)});
    for (const auto& [k, v] : l.fields) attrs.push_back(StringKeyValue(k, v));
    json rec = {{"timeUnixNano", NanosText(l.time_ns)},
                {"observedTimeUnixNano", NanosText(l.time_ns)},
                {"severityNumber", SeverityNumber(l.level)},
                {"severityText", std::string(SeverityText(l.level))},
                {"body", {{"stringValue", l.message}}},
                {"attributes", std::move(attrs)}};
    if (l.trace_id.valid() && l.span_id.valid()) {
      rec["traceId"] = l.trace_id.Hex();
      rec["spanId"] = l.span_id.Hex();
    }
    out.push_back(std::move(rec));
  }
  json body = {{"resourceLogs",
                json::array({{{"resource", ResourceJson(resource)},
                              {"scopeLogs", json::array({{{"scope", ScopeJson(resource)},
                                                          {"logRecords", std::move(out)}}})}}})}};
  return Dump(body);
}

std::string EncodeMetrics(const TelemetryResource& resource,
                          const std::vector<prometheus::MetricFamily>& families, int64_t start_ns,
                          int64_t now_ns, size_t* points) {
  size_t count = 0;
  json metrics = json::array();
  const std::string start = NanosText(start_ns);
  const std::string now = NanosText(now_ns);
  for (const auto& family : families) {
    if (family.metric.empty()) continue;
    json data_points = json::array();
    json metric = {
        {"name", family.name}, {"description", family.help}, {"unit", UnitOf(family.name)}};
    switch (family.type) {
      case prometheus::MetricType::Counter: {
        for (const auto& m : family.metric) {
          data_points.push_back({{"asDouble", m.counter.value},
                                 {"startTimeUnixNano", start},
                                 {"timeUnixNano", now},
                                 {"attributes", LabelAttributes(m)}});
        }
        metric["sum"] = {{"dataPoints", std::move(data_points)},
                         {"aggregationTemporality", 2},
                         {"isMonotonic", true}};
        break;
      }
      case prometheus::MetricType::Gauge:
      case prometheus::MetricType::Untyped: {
        for (const auto& m : family.metric) {
          const double v =
              family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.untyped.value;
          data_points.push_back(
              {{"asDouble", v}, {"timeUnixNano", now}, {"attributes", LabelAttributes(m)}});
        }
        metric["gauge"] = {{"dataPoints", std::move(data_points)}};
        break;
      }
      case prometheus::MetricType::Histogram: {
        for (const auto& m : family.metric) {
          json bounds = json::array();
          json counts = json::array();
          uint64_t previous = 0;
          for (const auto& b : m.histogram.bucket) {
            if (std::isfinite(b.upper_bound)) bounds.push_back(b.upper_bound);
            const uint64_t c = b.cumulative_count >= previous ? b.cumulative_count - previous : 0;
            counts.push_back(std::to_string(c));
            previous = std::max(previous, b.cumulative_count);
          }
          // prometheus-cpp always ends with the +Inf bucket; keep counts = bounds + 1.
          while (counts.size() < bounds.size() + 1) counts.push_back("0");
          data_points.push_back({{"startTimeUnixNano", start},
                                 {"timeUnixNano", now},
                                 {"count", std::to_string(m.histogram.sample_count)},
                                 {"sum", m.histogram.sample_sum},
                                 {"bucketCounts", std::move(counts)},
                                 {"explicitBounds", std::move(bounds)},
                                 {"attributes", LabelAttributes(m)}});
        }
        metric["histogram"] = {{"dataPoints", std::move(data_points)},
                               {"aggregationTemporality", 2}};
        break;
      }
      default:
        continue;  // summaries: none registered
    }
    count += family.metric.size();
    metrics.push_back(std::move(metric));
  }
  if (points) *points = count;
  json body = {
      {"resourceMetrics",
       json::array({{{"resource", ResourceJson(resource)},
                     {"scopeMetrics", json::array({{{"scope", ScopeJson(resource)},
                                                    {"metrics", std::move(metrics)}}})}}})}};
  return Dump(body);
}

int64_t RejectedCount(std::string_view response_body) {
  if (response_body.empty()) return 0;
  json j = json::parse(response_body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  auto it = j.find("partialSuccess");
  if (it == j.end() || !it->is_object()) return 0;
  for (const char* key : {"rejectedSpans", "rejectedLogRecords", "rejectedDataPoints"}) {
    auto v = it->find(key);
    if (v == it->end()) continue;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (v->is_string()) {
      try {
        return std::stoll(v->get<std::string>());
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

}  // namespace artagent::platform
