#pragma once
// OTLP/HTTP JSON encoding (reference/protocols.md §8): the proto3 JSON mapping with lowerCamelCase
// names, trace and span ids as hex strings, enums as integers and 64-bit integers as strings.
// Pure functions, run on the telemetry exporter's thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "platform/telemetry.h"

namespace artagent::platform {

// ExportTraceServiceRequest: one resourceSpans, one scopeSpans (scope = service name, version).
std::string EncodeTraces(const TelemetryResource& resource, const std::vector<SpanRecord>& spans);

// ExportLogsServiceRequest. The component and fields become attributes; the ids are left out
// when unknown.
std::string EncodeLogs(const TelemetryResource& resource, const std::vector<LogRecord>& logs);

// ExportMetricsServiceRequest from a Prometheus snapshot: counters as cumulative monotonic sums,
// gauges as gauges, histograms as cumulative explicit-bucket histograms (bucket counts per
// bucket, not cumulative). `start_ns`: when counting began. `*points` gets the data point count.
std::string EncodeMetrics(const TelemetryResource& resource,
                          const std::vector<prometheus::MetricFamily>& families, int64_t start_ns,
                          int64_t now_ns, size_t* points);

// Records an Export*ServiceResponse says it refused (partialSuccess.rejectedSpans /
// rejectedLogRecords / rejectedDataPoints); 0 for "{}", an empty body or anything unparsable.
int64_t RejectedCount(std::string_view response_body);

// OTLP severityNumber of a log level (DEBUG 5, INFO 9, WARN 13, ERROR 17) and its text.
int SeverityNumber(core::LogLevel level);
std::string_view SeverityText(core::LogLevel level);

}  // namespace artagent::platform
