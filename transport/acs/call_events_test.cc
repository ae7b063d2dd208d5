#include "transport/acs/call_events.h"

#include <gtest/gtest.h>

namespace artagent::transport::acs {
namespace {

TEST(CallEventsTest, CallConnectedVector) {
  auto d = ParseCallbackEvents(R"([{"id":"7dec6eed-129c-43f3-a2bf-134ac1978168",
 "source":"calling/callConnections/441f1200-fd54-422e-9566-a867d187dca7",
 "type":"Microsoft.Communication.CallConnected",
 "data":{"callConnectionId":"441f1200-fd54-422e-9566-a867d187dca7",
 "serverCallId":"e42f9a50-c36d-493a-9cc0-2fc1cdc7b708",
 "correlationId":"7a659f41-bd0f-4bae-8ac0-6af79283e1bc",
 "operationContext":"answer-k1"},
 "time":"2022-06-24T15:12:41.5556858+00:00","specversion":"1.0",
 "datacontenttype":"application/json",
 "subject":"calling/callConnections/441f1200-fd54-422e-9566-a867d187dca7"}])");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  const auto& e = d->events[0];
  EXPECT_EQ(e.kind, CallEventKind::kCallConnected);
  EXPECT_EQ(e.id, "7dec6eed-129c-43f3-a2bf-134ac1978168");
  EXPECT_EQ(e.call_connection_id, "441f1200-fd54-422e-9566-a867d187dca7");
  EXPECT_EQ(e.operation_context, "answer-k1");
  EXPECT_EQ(CallEventKindName(e.kind), "CallConnected");
}

TEST(CallEventsTest, RecognizeCompletedInBothSpellings) {
  auto d =
      ParseCallbackEvents(R"([{"id":"e9cf1c71","type":"Microsoft.Communication.RecognizeCompleted",
 "source":"calling/callConnections/411f/RecognizeCompleted",
 "data":{"callConnectionId":"411f","operationContext":"pin-entry",
 "resultInformation":{"code":200,"subCode":8531,"message":"Action completed, max digits received."},
 "recognitionType":"dtmf","dtmfResult":{"tones":["nine","eight","zero","five","pound"]}}},
 {"id":"e2","type":"Microsoft.Communication.RecognizeCompleted",
 "data":{"callConnectionId":"411f","collectTonesResult":{"tones":["one","asterisk"]}}}])");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 2u);
  EXPECT_EQ(d->events[0].dtmf, "9805#");
  EXPECT_EQ(d->events[0].result_code, 200);
  EXPECT_EQ(d->events[0].result_sub_code, 8531);
  EXPECT_EQ(d->events[0].recognition_type, "dtmf");
  EXPECT_EQ(d->events[1].dtmf, "1*");
}

TEST(CallEventsTest, MediaStreamingParticipantsTransferAndUnknownTypes) {
  auto d =
      ParseCallbackEvents(EncodeCallbackEvent("m1", "MediaStreamingStarted", "c1", "",
                                              R"({"mediaStreamingUpdate":{"contentType":"Audio",
                          "mediaStreamingStatus":"mediaStreamingStarted",
                          "mediaStreamingStatusDetails":"subscriptionStarted"}})"));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].kind, CallEventKind::kMediaStreamingStarted);
  EXPECT_EQ(d->events[0].media_streaming_status, "mediaStreamingStarted");
  EXPECT_EQ(d->events[0].media_streaming_details, "subscriptionStarted");

  auto p = ParseCallbackEvents(EncodeCallbackEvent(
      "p1", "ParticipantsUpdated", "c1", "",
      R"({"sequenceNumber":3,"participants":[{"identifier":{"rawId":"4:+1"}},{"identifier":{}}]})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->events[0].participant_count, 2);
  EXPECT_EQ(p->events[0].sequence_number, 3);

  auto t = ParseCallbackEvents(EncodeCallbackEvent(
      "t1", "CallTransferAccepted", "c1", "transfer",
      R"({"transferTarget":{"rawId":"4:+14255550199","phoneNumber":{"value":"+14255550199"}}})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->events[0].kind, CallEventKind::kCallTransferAccepted);
  EXPECT_EQ(t->events[0].transfer_target, "+14255550199");

  auto u = ParseCallbackEvents(EncodeCallbackEvent("u1", "HoldFailed", "c1", ""));
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->events.size(), 1u);
  EXPECT_EQ(u->events[0].kind, CallEventKind::kOther);
  EXPECT_EQ(u->events[0].type, "Microsoft.Communication.HoldFailed");
}

TEST(CallEventsTest, MalformedEventsAreReportedAndSkipped) {
  EXPECT_FALSE(ParseCallbackEvents("not json").ok());
  EXPECT_FALSE(ParseCallbackEvents("\"str\"").ok());
  auto d = ParseCallbackEvents(R"([{"type":"Microsoft.Communication.CallConnected",
      "data":{"callConnectionId":"c"}}, {"id":"x","data":{"callConnectionId":"c"}},
      {"id":"y","type":"Microsoft.Communication.CallConnected","data":{}}, 7,
      {"id":"z","type":"Microsoft.Communication.CallDisconnected","data":{"callConnectionId":"c"}}])");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->errors.size(), 4u);
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].kind, CallEventKind::kCallDisconnected);
}

TEST(CallEventsTest, DeduplicatorIsBounded) {
  EventDeduplicator dedup(2);
  EXPECT_TRUE(dedup.FirstTime("a"));
  EXPECT_FALSE(dedup.FirstTime("a"));
  EXPECT_TRUE(dedup.FirstTime("b"));
  EXPECT_TRUE(dedup.FirstTime("c"));  // evicts "a"
  EXPECT_FALSE(dedup.FirstTime("c"));
  EXPECT_TRUE(dedup.FirstTime("a"));
  EXPECT_TRUE(dedup.FirstTime(""));
  EXPECT_TRUE(dedup.FirstTime(""));
}

TEST(CallEventsTest, ToneNames) {
  EXPECT_EQ(ToneToChar("pound"), '#');
  EXPECT_EQ(ToneToChar("Asterisk"), '*');
  EXPECT_EQ(ToneToChar("seven"), '7');
  EXPECT_EQ(ToneToChar("7"), '7');
  EXPECT_EQ(ToneToChar("b"), 'B');
  EXPECT_EQ(ToneToChar("eleven"), 0);
}

}  // namespace
}  // namespace artagent::transport::acs
