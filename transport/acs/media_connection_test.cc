#include "transport/acs/media_connection.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/fake_executor.h"
#include "platform/metrics.h"
#include "session/fakes_for_test.h"

namespace artagent::transport::acs {
namespace {

using json = nlohmann::json;
using session::testing::EchoResponder;
using session::testing::ScriptedStt;
using session::testing::ToneTts;

// Says one line, then asks for a call-control action once that line has been spoken.
class ControlResponder : public session::Responder {
 public:
  ControlResponder(core::Executor* ex, session::CallControl control)
      : ex_(ex), control_(std::move(control)) {}
  std::string agent_name() const override { return "control"; }
  std::unique_ptr<session::ResponseStream> Respond(const session::ResponseRequest&,
                                                   session::ResponseCallbacks cb) override {
    auto shared = std::make_shared<session::ResponseCallbacks>(std::move(cb));
    auto control = control_;
    ex_->Post([shared, control] {
      shared->on_text("Transferring you now.");
      if (shared->on_call_control) shared->on_call_control(control);
      shared->on_done(core::OkStatus());
    });
    return std::make_unique<EchoResponder::Stream>();
  }

 private:
  core::Executor* ex_;
  session::CallControl control_;
};

class MediaConnectionTest : public ::testing::Test, public AcsMediaPeer, public AcsCallHooks {
 protected:
  void Open(int rate = 16000, std::optional<session::CallControl> control = std::nullopt) {
    ex_ = std::make_shared<core::FakeExecutor>();
    SessionFactory factory =
        [this, control](
            session::SessionOptions opts,
            session::SessionOutput* out) -> core::Result<std::shared_ptr<session::Session>> {
      session_options_ = opts;
      session::SessionDeps deps;
      deps.executor = ex_;
      deps.compute = ex_.get();
      deps.vad = std::make_unique<session::testing::EnergyVad>();
      deps.stt = &stt_;
      deps.tts = &tts_;
      if (control) {
        deps.responder = std::make_unique<ControlResponder>(ex_.get(), *control);
      } else {
        deps.responder = std::make_unique<EchoResponder>(ex_.get());
      }
      deps.metrics = &metrics_;
      deps.output = out;
      return session::Session::Create(std::move(deps), opts);
    };
    AcsMediaOptions options;
    options.call_id = "call_test";
    options.sample_rate = rate;
    conn_ = std::make_unique<AcsMediaConnection>(this, factory, session::SessionOptions{},
                                                 &metrics_, options, this);
    conn_->Open();
    ex_->RunPending();
  }
  void TearDown() override {
    conn_.reset();
    if (ex_) ex_->RunPending();
  }

  void SendText(std::string message) override { sent_.push_back(json::parse(message)); }
  void Close(uint16_t code, std::string) override { close_code_ = code; }
  void OnSessionStarted(const std::string& id) override { session_id_ = id; }
  void OnCallControl(const session::CallControl& c) override { controls_.push_back(c); }
  void OnSessionEnded(const std::string& reason) override { ended_ = reason; }

  void Caller(const std::string& frame) {
    conn_->OnMessage(frame, true);
    ex_->RunPending();
  }
  // Streams `pcm` as 20 ms AudioData packets in real time.
  void Stream(const audio::Samples& pcm, int rate) {
    const size_t frame = audio::SamplesPerFrame(rate);
    for (size_t i = 0; i + frame <= pcm.size(); i += frame) {
      conn_->OnMessage(EncodeInboundAudio({pcm.data() + i, frame}, false), true);
      ex_->AdvanceBy(core::milliseconds(20));
    }
  }
  void Wait(int ms) {
    for (int t = 0; t < ms; t += 20) ex_->AdvanceBy(core::milliseconds(20));
  }
  std::vector<size_t> AudioFrameSizes() const {
    std::vector<size_t> out;
    for (const auto& m : sent_) {
      MediaError err;
      auto o = ParseOutboundMessage(m.dump(), &err);
      if (o && std::holds_alternative<OutboundAudio>(*o)) {
        out.push_back(std::get<OutboundAudio>(*o).pcm.size());
      }
    }
    return out;
  }
  size_t StopCount() const {
    size_t n = 0;
    for (const auto& m : sent_) n += m["kind"] == "StopAudio";
    return n;
  }

  std::shared_ptr<core::FakeExecutor> ex_;
  ScriptedStt stt_;
  ToneTts tts_;
  platform::Metrics metrics_;
  session::SessionOptions session_options_;
  std::unique_ptr<AcsMediaConnection> conn_;
  std::vector<json> sent_;
  int close_code_ = 0;
  std::string session_id_;
  std::vector<session::CallControl> controls_;
  std::string ended_;
};

TEST_F(MediaConnectionTest, GreetingGoesOutInExact20MsFramesAt16k) {
  Open(16000);
  EXPECT_EQ(session_options_.transport, "acs");
  EXPECT_EQ(session_options_.output_sample_rate, 16000);
  EXPECT_FALSE(session_id_.empty());
  Caller(EncodeAudioMetadata({"sub", "PCM", 16000, 1, 640}));
  Wait(3000);
  auto sizes = AudioFrameSizes();
  // 10 words x 100 ms = 1 s = 50 frames of 320 samples.
  ASSERT_EQ(sizes.size(), 50u);
  for (size_t s : sizes) EXPECT_EQ(s, 320u);
  EXPECT_EQ(conn_->frames_sent(), 50);
  EXPECT_EQ(StopCount(), 0u);
}

TEST_F(MediaConnectionTest, AgentAudioIsPacedInRealTimePlusTheLead) {
  Open(16000);
  Caller(EncodeAudioMetadata({"sub", "PCM", 16000, 1, 640}));
  // The 100 ms lead goes out at once, then one 20 ms frame per 20 ms: never more than real time
  // plus the lead (no bursts), never a gap while the reply lasts.
  for (int ms = 20; ms <= 800; ms += 20) {
    ex_->AdvanceBy(core::milliseconds(20));
    const size_t sent = AudioFrameSizes().size();
    EXPECT_LE(sent, static_cast<size_t>((ms + 100) / 20 + 1)) << "at " << ms << " ms";
    EXPECT_GE(sent, static_cast<size_t>(ms / 20)) << "at " << ms << " ms";
  }
}

TEST_F(MediaConnectionTest, MetadataAt24kSwitchesTheOutputRate) {
  Open(16000);
  // The greeting's first 100 ms (the playout lead) left at the answered rate already.
  const size_t early = AudioFrameSizes().size();
  Caller(EncodeAudioMetadata({"sub", "PCM", 24000, 1, 960}));
  EXPECT_EQ(conn_->sample_rate(), 24000);
  Wait(3000);
  auto sizes = AudioFrameSizes();
  // Still one second of greeting in 20 ms frames: no audio lost or doubled by the switch.
  EXPECT_NEAR(double(sizes.size()), 50, 1);
  for (size_t i = early; i < sizes.size(); ++i) EXPECT_EQ(sizes[i], 480u) << i;
  // The next reply is produced at 24 kHz directly.
  sent_.clear();
  Caller(EncodeDtmf('5'));
  Caller(EncodeDtmf('#'));
  Wait(2000);
  sizes = AudioFrameSizes();
  ASSERT_FALSE(sizes.empty());
  for (size_t s : sizes) EXPECT_EQ(s, 480u);
}

TEST_F(MediaConnectionTest, CallerSpeechDuringTheGreetingSendsStopAudio) {
  Open(16000);
  stt_.state->transcripts = {"i want to file a claim"};
  Caller(EncodeAudioMetadata({"sub", "PCM", 16000, 1, 640}));
  Wait(200);  // greeting under way
  ASSERT_FALSE(AudioFrameSizes().empty());
  Stream(session::testing::Tone(600), 16000);
  EXPECT_EQ(StopCount(), 1u);
  EXPECT_EQ(conn_->stops_sent(), 1);
  // The caller's turn ends after silence; the agent answers with more 20 ms frames.
  size_t before = AudioFrameSizes().size();
  Stream(session::testing::Silence(800), 16000);
  Wait(3000);
  auto sizes = AudioFrameSizes();
  EXPECT_GT(sizes.size(), before);
  for (size_t s : sizes) EXPECT_EQ(s, 320u);
  bool heard = false;
  for (const auto& h : conn_->session()->history()) {
    heard |= h.role == session::HistoryItem::Role::kUser && h.text == "i want to file a claim";
  }
  EXPECT_TRUE(heard);
}

TEST_F(MediaConnectionTest, DtmfReachesTheSessionAsOneTurn) {
  Open(16000);
  Wait(3000);
  Caller(EncodeDtmf('1'));
  Caller(EncodeDtmf('2'));
  Caller(EncodeDtmf('#'));
  Wait(500);
  std::string typed;
  for (const auto& h : conn_->session()->history()) {
    if (h.role == session::HistoryItem::Role::kUser) typed = h.text;
  }
  EXPECT_EQ(typed, "12");
}

TEST_F(MediaConnectionTest, BadFramesAreCountedAndTheCallGoesOn) {
  Open(16000);
  conn_->OnMessage("{oops", true);
  conn_->OnMessage(R"({"kind":"AudioData","audioData":{"data":"***"}})", true);
  conn_->OnMessage(R"({"kind":"Mystery"})", true);
  conn_->OnMessage("binary", false);
  EXPECT_EQ(conn_->bad_frames(), 4);
  EXPECT_EQ(close_code_, 0);
  std::string m = metrics_.Render();
  EXPECT_NE(m.find(R"(kind="invalid_audio",transport="acs")"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(kind="unknown_kind",transport="acs")"), std::string::npos);
  Wait(3000);
  EXPECT_EQ(AudioFrameSizes().size(), 50u);
}

TEST_F(MediaConnectionTest, TransferRequestReachesTheCallLayerAfterTheLastWords) {
  session::CallControl transfer;
  transfer.kind = session::CallControl::Kind::kTransfer;
  transfer.target = "+14255550199";
  transfer.reason = "caller asked for a human";
  Open(16000, transfer);
  Wait(3000);
  ASSERT_EQ(controls_.size(), 1u);
  EXPECT_EQ(controls_[0].kind, session::CallControl::Kind::kTransfer);
  EXPECT_EQ(controls_[0].target, "+14255550199");
  // "Transferring you now." = 3 words = 300 ms = 15 frames, all sent before the request.
  EXPECT_EQ(AudioFrameSizes().size(), 15u);
}

TEST_F(MediaConnectionTest, AgentEndingTheCallEndsTheSession) {
  session::CallControl end;
  end.kind = session::CallControl::Kind::kEndCall;
  Open(16000, end);
  Wait(3000);
  ASSERT_EQ(controls_.size(), 1u);
  EXPECT_EQ(controls_[0].kind, session::CallControl::Kind::kEndCall);
  EXPECT_EQ(ended_, "agent_ended_call");
  EXPECT_EQ(conn_->session(), nullptr);
}

TEST_F(MediaConnectionTest, CallerHangingUpClosesTheSession) {
  Open(16000);
  Wait(200);
  auto session = conn_->session();
  conn_->OnClose(1006);
  EXPECT_EQ(conn_->session(), nullptr);
  EXPECT_NE(metrics_.Render().find(R"(kind="vanished",transport="acs")"), std::string::npos);
  size_t n = sent_.size();
  Wait(2000);
  EXPECT_EQ(sent_.size(), n);
}

TEST_F(MediaConnectionTest, HangupFromTheCallLayerClosesTheSocket) {
  Open(16000);
  conn_->Hangup("ended");
  EXPECT_EQ(close_code_, 1000);
  EXPECT_EQ(conn_->session(), nullptr);
  conn_->OnMessage(EncodeDtmf('1'), true);  // ignored, no crash
}

}  // namespace
}  // namespace artagent::transport::acs
