#include "transport/acs/event_grid.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace artagent::transport::acs {
namespace {

using json = nlohmann::json;

// protocols.md §1.1 vector.
constexpr char kIncomingCall[] = R"([{ "id": "e80026e7-e298-46ba-bc42-dab0eda92581",
 "topic": "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Communication/communicationServices/{acs}",
 "subject": "/caller/4:+14255550123/recipient/4:+18005550100", "data": {
 "to":   {"kind": "phoneNumber", "rawId": "4:+18005550100", "phoneNumber": {"value": "+18005550100"}},
 "from": {"kind": "phoneNumber", "rawId": "4:+14255550123", "phoneNumber": {"value": "+14255550123"}},
 "serverCallId": "aHR0cHM6Ly9jb252ZXJzYXRpb251cmwvdGVzdA", "callerDisplayName": "",
 "customContext": {"sipHeaders": {}, "voipHeaders": {}},
 "incomingCallContext": "eyJhbGciOiJub25lIn0.eyJ0ZXN0Ijp0cnVlfQ.",
 "correlationId": "53be6977-d832-4c42-8527-fb2aa4a78b74" },
 "eventType": "Microsoft.Communication.IncomingCall", "dataVersion": "1.0", "metadataVersion": "1",
 "eventTime": "2023-04-04T17:18:42.5542219Z" }])";

// protocols.md §1.2 vector.
constexpr char kValidation[] = R"([{ "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
 "topic": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "subject": "", "data": {
 "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
 "validationUrl": "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"
 }, "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
 "eventTime": "2018-01-25T22:12:19.4556811Z", "metadataVersion": "1", "dataVersion": "1" }])";

TEST(EventGridTest, IncomingCallVector) {
  auto d = ParseEventGridDelivery(kIncomingCall);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->calls.size(), 1u);
  const auto& c = d->calls[0];
  EXPECT_EQ(c.event_id, "e80026e7-e298-46ba-bc42-dab0eda92581");
  EXPECT_EQ(c.from.phone_number, "+14255550123");
  EXPECT_EQ(c.from.Display(), "+14255550123");
  EXPECT_EQ(c.to.raw_id, "4:+18005550100");
  EXPECT_EQ(c.incoming_call_context, "eyJhbGciOiJub25lIn0.eyJ0ZXN0Ijp0cnVlfQ.");
  EXPECT_EQ(c.correlation_id, "53be6977-d832-4c42-8527-fb2aa4a78b74");
  EXPECT_FALSE(d->validation);
  EXPECT_TRUE(d->errors.empty());
}

TEST(EventGridTest, VoipCallerWithoutKindOrDisplayName) {
  auto d = ParseEventGridDelivery(R"([{"id":"x","eventType":"Microsoft.Communication.IncomingCall",
    "data":{"from":{"rawId":"8:acs:abc","communicationUser":{"id":"8:acs:abc"}},
            "to":{"rawId":"4:+18005550100"},"incomingCallContext":"ctx",
            "customContext":{"sipHeaders":{"userToUser":"u2u"}}}}])");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->calls.size(), 1u);
  EXPECT_EQ(d->calls[0].from.kind, "communicationUser");
  EXPECT_EQ(d->calls[0].from.Display(), "8:acs:abc");
  EXPECT_EQ(d->calls[0].to.phone_number, "+18005550100");
  EXPECT_EQ(d->calls[0].sip_headers.at("userToUser"), "u2u");
}

TEST(EventGridTest, CloudEventsSchemaRoundTrip) {
  IncomingCallEvent call;
  call.event_id = "evt-1";
  call.from.kind = "phoneNumber";
  call.from.phone_number = "+14255550123";
  call.from.raw_id = "4:+14255550123";
  call.to.raw_id = "4:+18005550100";
  call.incoming_call_context = "ctx-1";
  for (const std::string& body :
       {EncodeIncomingCallCloudEvent(call), EncodeIncomingCallEventGrid(call)}) {
    auto d = ParseEventGridDelivery(body);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->calls.size(), 1u) << body;
    EXPECT_EQ(d->calls[0].event_id, "evt-1");
    EXPECT_EQ(d->calls[0].from.Display(), "+14255550123");
    EXPECT_EQ(d->calls[0].incoming_call_context, "ctx-1");
  }
}

TEST(EventGridTest, ValidationHandshake) {
  auto d = ParseEventGridDelivery(kValidation);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->validation);
  EXPECT_EQ(json::parse(ValidationResponseBody(*d->validation)),
            json::parse(R"({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})"));
  auto round = ParseEventGridDelivery(EncodeValidationEvent(*d->validation));
  ASSERT_TRUE(round.ok() && round->validation);
  EXPECT_EQ(round->validation->validation_code, "512d38b6-c7b8-40c8-89fe-f46f9e9622b6");
}

TEST(EventGridTest, WebhookOriginHandshake) {
  EXPECT_EQ(AllowedWebhookOrigin("eventgrid.azure.net", {}), "eventgrid.azure.net");
  EXPECT_EQ(AllowedWebhookOrigin("EventGrid.azure.net", {"eventgrid.azure.net"}),
            "EventGrid.azure.net");
  EXPECT_FALSE(AllowedWebhookOrigin("evil.example.com", {"eventgrid.azure.net"}));
  EXPECT_FALSE(AllowedWebhookOrigin("", {}));
}

TEST(EventGridTest, MalformedAndUnknownEvents) {
  EXPECT_EQ(ParseEventGridDelivery("{oops").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEventGridDelivery("42").status().code(), core::StatusCode::kInvalidArgument);
  auto d = ParseEventGridDelivery(R"([1, {"id":"a"},
      {"id":"b","eventType":"Microsoft.Communication.CallEnded","data":{}},
      {"id":"c","eventType":"Microsoft.Communication.IncomingCall","data":{"from":{}}},
      {"id":"d","eventType":"Microsoft.Communication.IncomingCall"}])");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->calls.empty());
  EXPECT_EQ(d->ignored, 1);
  EXPECT_EQ(d->errors.size(), 4u);
}

}  // namespace
}  // namespace artagent::transport::acs
