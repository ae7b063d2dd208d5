#include "transport/realtime/realtime_connection.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/fake_executor.h"
#include "platform/metrics.h"
#include "session/fakes_for_test.h"

namespace artagent::transport::realtime {
namespace {

using json = nlohmann::json;
using session::testing::EchoResponder;
using session::testing::ScriptedStt;
using session::testing::ToneTts;

class RealtimeConnectionTest : public ::testing::Test, public RealtimePeer {
 protected:
  void SetUp() override {
    ex_ = std::make_shared<core::FakeExecutor>();
    SessionFactory factory = [this](session::SessionOptions opts, session::SessionOutput* out)
        -> core::Result<std::shared_ptr<session::Session>> {
      session::SessionDeps deps;
      deps.executor = ex_;
      deps.compute = ex_.get();
      deps.vad = std::make_unique<session::testing::EnergyVad>();
      deps.stt = &stt_;
      deps.tts = &tts_;
      deps.responder = std::make_unique<EchoResponder>(ex_.get());
      deps.metrics = &metrics_;
      deps.output = out;
      return session::Session::Create(std::move(deps), opts);
    };
    conn_ = std::make_unique<RealtimeConnection>(this, factory, session::SessionOptions{},
                                                 &metrics_);
    conn_->Open();
    ex_->RunPending();
  }

  void SendText(std::string message) override { sent_.push_back(json::parse(message)); }
  void Close(uint16_t code, std::string) override { close_code_ = code; }

  void Client(const json& j) {
    conn_->OnMessage(j.dump(), true);
    ex_->RunPending();
  }
  std::vector<json> OfType(const std::string& type) const {
    std::vector<json> out;
    for (const auto& m : sent_) {
      if (m["type"] == type) out.push_back(m);
    }
    return out;
  }
  void Wait(int ms) {
    for (int t = 0; t < ms; t += 20) ex_->AdvanceBy(core::milliseconds(20));
  }

  std::shared_ptr<core::FakeExecutor> ex_;
  ScriptedStt stt_;
  ToneTts tts_;
  platform::Metrics metrics_;
  std::unique_ptr<RealtimeConnection> conn_;
  std::vector<json> sent_;
  int close_code_ = 0;
};

TEST_F(RealtimeConnectionTest, SessionCreatedFirstThenGreetingAudioAt24k) {
  ASSERT_FALSE(sent_.empty());
  EXPECT_EQ(sent_[0]["type"], "session.created");
  Wait(3000);
  auto deltas = OfType("response.output_audio.delta");
  ASSERT_FALSE(deltas.empty());
  size_t bytes = 0;
  for (const auto& d : deltas) {
    std::string raw;
    ASSERT_TRUE(core::Base64Decode(d["delta"].get<std::string>(), &raw));
    bytes += raw.size();
  }
  // 1 s of greeting (10 words x 100 ms) at 24 kHz, 16-bit, resampled from 16 kHz.
  EXPECT_NEAR(static_cast<double>(bytes) / 2, 24000, 24000 * 0.03);
  auto done = OfType("response.done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["response"]["status"], "completed");
}

TEST_F(RealtimeConnectionTest, BadInputGetsErrorsAndTheSessionGoesOn) {
  conn_->OnMessage("{oops", true);
  conn_->OnMessage(R"({"type":"nope.nope","event_id":"evt_7"})", true);
  conn_->OnMessage(R"({"type":"input_audio_buffer.append","audio":"***"})", true);
  conn_->OnMessage("binary", false);
  auto errors = OfType("error");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0]["error"]["code"], "invalid_json");
  EXPECT_EQ(errors[1]["error"]["code"], "unknown_event");
  EXPECT_EQ(errors[1]["error"]["event_id"], "evt_7");
  EXPECT_EQ(errors[2]["error"]["code"], "invalid_audio");
  EXPECT_EQ(close_code_, 0);
  std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find(R"(kind="unknown_event")"), std::string::npos);
  // Still works.
  Client({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
  EXPECT_EQ(OfType("session.updated").size(), 1u);
}

TEST_F(RealtimeConnectionTest, TextChatAndTruncateBeyondAudioIsClamped) {
  Wait(3000);
  auto greeting_item = OfType("response.done")[0]["response"]["output"][0]["id"];
  Client({{"type", "conversation.item.truncate"},
          {"item_id", greeting_item},
          {"content_index", 0},
          {"audio_end_ms", 60000}});
  auto truncated = OfType("conversation.item.truncated");
  ASSERT_EQ(truncated.size(), 1u);
  EXPECT_EQ(truncated[0]["audio_end_ms"], 1000);
  EXPECT_TRUE(OfType("error").empty());

  Client({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
  Client({{"type", "conversation.item.create"},
          {"item",
           {{"type", "message"},
            {"role", "user"},
            {"content", {{{"type", "input_text"}, {"text", "hello there"}}}}}}});
  Client({{"type", "response.create"}});
  Wait(200);
  std::string text;
  for (const auto& d : OfType("response.output_text.delta")) text += d["delta"];
  EXPECT_EQ(text, "You said hello there.");
  EXPECT_EQ(OfType("response.done").size(), 2u);
}

TEST_F(RealtimeConnectionTest, VanishedClientClosesTheSession) {
  auto session = conn_->session();
  conn_->OnClose(1006);
  EXPECT_EQ(conn_->session(), nullptr);
  EXPECT_NE(metrics_.Render().find(R"(kind="vanished")"), std::string::npos);
  size_t n = sent_.size();
  Wait(2000);
  EXPECT_EQ(sent_.size(), n);
}

}  // namespace
}  // namespace artagent::transport::realtime
