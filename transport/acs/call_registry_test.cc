#include "transport/acs/call_registry.h"

#include <gtest/gtest.h>

namespace artagent::transport::acs {
namespace {

CallEvent Ev(CallEventKind kind, std::string id = "e") {
  CallEvent e;
  e.id = std::move(id);
  e.kind = kind;
  e.call_connection_id = "conn-1";
  return e;
}

CallInfo Answering() {
  CallInfo c;
  c.direction = "inbound";
  c.caller = "+14255550123";
  c.admitted = true;
  c.call_connection_id = "conn-1";
  return c;
}

TEST(CallStateMachineTest, ConnectedThenDisconnectedReleasesOnce) {
  CallInfo c = Answering();
  auto fx = ApplyCallEvent(c, Ev(CallEventKind::kCallConnected), 1000);
  EXPECT_TRUE(fx.applied);
  EXPECT_EQ(c.state, CallState::kConnected);
  EXPECT_EQ(c.connected_ms, 1000);
  fx = ApplyCallEvent(c, Ev(CallEventKind::kCallDisconnected), 5000);
  EXPECT_EQ(c.state, CallState::kEnded);
  EXPECT_TRUE(fx.end_session);
  EXPECT_TRUE(fx.release);
  EXPECT_EQ(c.ended_ms, 5000);
  EXPECT_EQ(c.end_reason, "disconnected");
  // A late, out-of-order CallConnected after the end changes nothing.
  fx = ApplyCallEvent(c, Ev(CallEventKind::kCallConnected), 6000);
  EXPECT_FALSE(fx.applied);
  EXPECT_FALSE(fx.release);
  EXPECT_EQ(c.state, CallState::kEnded);
  EXPECT_EQ(c.events,
            (std::vector<std::string>{"CallConnected", "CallDisconnected", "CallConnected"}));
}

TEST(CallStateMachineTest, DisconnectBeforeConnectEndsTheCall) {
  CallInfo c = Answering();
  auto fx = ApplyCallEvent(c, Ev(CallEventKind::kCallDisconnected), 10);
  EXPECT_EQ(c.state, CallState::kEnded);
  EXPECT_TRUE(fx.release);
}

TEST(CallStateMachineTest, AnswerFailedKeepsTheReason) {
  CallInfo c = Answering();
  CallEvent e = Ev(CallEventKind::kAnswerFailed);
  e.result_message = "media streaming url unreachable";
  auto fx = ApplyCallEvent(c, e, 10);
  EXPECT_EQ(c.state, CallState::kFailed);
  EXPECT_EQ(fx.session_status, "failed");
  EXPECT_NE(c.end_reason.find("unreachable"), std::string::npos);
}

TEST(CallStateMachineTest, TransferAcceptedEndsFailedReturnsToConnected) {
  CallInfo c = Answering();
  ApplyCallEvent(c, Ev(CallEventKind::kCallConnected), 1);
  c.state = CallState::kTransferring;
  auto fx = ApplyCallEvent(c, Ev(CallEventKind::kCallTransferFailed), 2);
  EXPECT_TRUE(fx.transfer_failed);
  EXPECT_EQ(c.state, CallState::kConnected);
  c.state = CallState::kTransferring;
  CallEvent acc = Ev(CallEventKind::kCallTransferAccepted);
  acc.transfer_target = "+14255550199";
  fx = ApplyCallEvent(c, acc, 3);
  EXPECT_EQ(c.state, CallState::kEnded);
  EXPECT_EQ(c.end_reason, "transferred");
  EXPECT_EQ(c.transfer_target, "+14255550199");
  EXPECT_TRUE(fx.release);
}

TEST(CallStateMachineTest, MediaFailureHangsUpDtmfIsForwardedParticipantsBySequence) {
  CallInfo c = Answering();
  CallEvent mf = Ev(CallEventKind::kMediaStreamingFailed);
  mf.media_streaming_status = "mediaStreamingFailed";
  EXPECT_TRUE(ApplyCallEvent(c, mf, 1).hang_up);
  CallEvent rc = Ev(CallEventKind::kRecognizeCompleted);
  rc.dtmf = "12#";
  EXPECT_EQ(ApplyCallEvent(c, rc, 2).dtmf, "12#");
  CallEvent p2 = Ev(CallEventKind::kParticipantsUpdated);
  p2.sequence_number = 2;
  p2.participant_count = 3;
  ApplyCallEvent(c, p2, 3);
  CallEvent p1 = p2;
  p1.sequence_number = 1;
  p1.participant_count = 2;
  ApplyCallEvent(c, p1, 4);  // older: ignored
  EXPECT_EQ(c.participants, 3);
}

TEST(CallRegistryTest, AddFindUpdateTokensAndTrim) {
  CallRegistry reg(/*keep_ended=*/1);
  std::string a = reg.Add(Answering());
  EXPECT_EQ(a.rfind("call_", 0), 0u);
  auto got = reg.Get(a);
  ASSERT_TRUE(got);
  EXPECT_TRUE(reg.CheckToken(a, got->token));
  EXPECT_FALSE(reg.CheckToken(a, got->token + "x"));
  EXPECT_FALSE(reg.CheckToken("call_unknown", got->token));
  EXPECT_EQ(reg.FindByConnection("conn-1")->id, a);
  EXPECT_TRUE(reg.Update(a, [](CallInfo& c) { c.state = CallState::kEnded; }));
  EXPECT_FALSE(reg.Update("nope", [](CallInfo&) {}));
  std::string b = reg.Add(Answering());
  reg.Update(b, [](CallInfo& c) { c.state = CallState::kEnded; });
  std::string live = reg.Add(Answering());
  auto list = reg.List();
  ASSERT_EQ(list.size(), 2u);  // the oldest ended call was dropped
  EXPECT_EQ(list[0].id, live);
  EXPECT_EQ(list[1].id, b);
  EXPECT_EQ(reg.live_count(), 1u);
  auto j = list[0].ToJson();
  EXPECT_FALSE(j.contains("token"));
  EXPECT_FALSE(j.contains("incoming_call_context"));
  EXPECT_EQ(j["state"], "answering");
}

}  // namespace
}  // namespace artagent::transport::acs
