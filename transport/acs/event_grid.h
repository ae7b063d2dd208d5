#pragma once
// Event Grid deliveries to POST /api/v1/calls/events (protocols.md §1.1-1.2): the subscription
// validation handshake (Event Grid schema: answer {"validationResponse": code}; CloudEvents schema:
// the OPTIONS abuse-protection handshake) and Microsoft.Communication.IncomingCall in either
// schema. Pure parsing; deciding what to do with a call is the app's business.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace artagent::transport::acs {

// CommunicationIdentifierModel (§1.8). Parsers tolerate a missing kind (inferred from the
// sub-object or the rawId prefix: "4:" phone number, "8:" communication user).
struct CommunicationIdentifier {
  std::string kind;          // "phoneNumber" | "communicationUser" | "microsoftTeamsUser" | ...
  std::string raw_id;        // "4:+14255550123", "8:acs:..."
  std::string phone_number;  // E.164 for phone numbers
  std::string user_id;       // communicationUser.id / microsoftTeamsUser.userId
  // What to show and match an allow-list against: the phone number, else the raw id.
  std::string Display() const;
};

struct IncomingCallEvent {
  std::string event_id;
  CommunicationIdentifier to;
  CommunicationIdentifier from;
  std::string server_call_id;
  std::string caller_display_name;
  std::string incoming_call_context;  // opaque; passed back unchanged to answer/reject/redirect
  std::string correlation_id;
  std::map<std::string, std::string> sip_headers;
  std::map<std::string, std::string> voip_headers;
};

struct SubscriptionValidation {
  std::string validation_code;
  std::string validation_url;
};

struct EventGridDelivery {
  std::optional<SubscriptionValidation> validation;
  std::vector<IncomingCallEvent> calls;
  // Events of other types (counted, ignored) and malformed entries (one message each).
  int ignored = 0;
  std::vector<std::string> errors;
};

// Parses a delivery body: a JSON array of events (or one event object), Event Grid schema
// (`eventType`, `eventTime`, `data`) or CloudEvents 1.0 (`type`, `time`, `specversion`, `data`).
// kInvalidArgument when the body is not JSON or not an event/array of events; individual bad
// events are reported in `errors` and skipped.
core::Result<EventGridDelivery> ParseEventGridDelivery(std::string_view body);

// {"validationResponse":"<code>"}
std::string ValidationResponseBody(const SubscriptionValidation& validation);

// CloudEvents abuse protection: the value for WebHook-Allowed-Origin in answer to an OPTIONS
// request carrying WebHook-Request-Origin `origin`, or nullopt to refuse. `allowed` empty means
// any origin (Event Grid's is eventgrid.azure.net); otherwise the origin must be listed
// (case-insensitive).
std::optional<std::string> AllowedWebhookOrigin(std::string_view origin,
                                                const std::vector<std::string>& allowed);

// Builders for the Event Grid side (simulator, tests).
std::string EncodeIncomingCallEventGrid(const IncomingCallEvent& call);
std::string EncodeIncomingCallCloudEvent(const IncomingCallEvent& call);
std::string EncodeValidationEvent(const SubscriptionValidation& validation);

}  // namespace artagent::transport::acs
