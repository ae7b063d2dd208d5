#pragma once
// Application Insights connection strings (reference/protocols.md §8):
//   InstrumentationKey=<guid>;IngestionEndpoint=https://<region>.in.applicationinsights.azure.com/;
//   LiveEndpoint=...;ApplicationId=...
// artagent does not send OTLP to the ingestion endpoint: the supported path is an OpenTelemetry
// Collector whose `azuremonitor` exporter holds the connection string, fed by
// telemetry.otlp_endpoint (README, Telemetry). The string is still parsed and checked at start-up
// so that a malformed one fails fast with a message naming the problem.

#include <string>
#include <string_view>

#include "core/status.h"

namespace artagent::platform {

struct AppInsightsConnection {
  std::string instrumentation_key;  // a GUID
  std::string ingestion_endpoint;   // always ends with '/'
  std::string live_endpoint;        // "" when neither given nor derivable
  // Where classic envelopes go: {IngestionEndpoint}v2.1/track.
  std::string TrackUrl() const { return ingestion_endpoint + "v2.1/track"; }
};

// `key=value` pairs separated by ';' (keys case-insensitive, blanks around them ignored), at most
// 4096 characters. InstrumentationKey is required (a GUID). IngestionEndpoint wins; otherwise
// EndpointSuffix gives https://dc.{suffix}/ (and https://live.{suffix}/); otherwise
// https://dc.services.visualstudio.com/. Authorization, if present, must be "ikey".
// ApplicationId, ProfilerEndpoint and SnapshotEndpoint are accepted and ignored. kInvalidArgument
// with the reason otherwise (the value itself is never echoed: it is a secret).
core::Result<AppInsightsConnection> ParseAppInsightsConnectionString(std::string_view text);

}  // namespace artagent::platform
