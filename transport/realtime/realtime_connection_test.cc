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

// A model that does more than talk, as the orchestrator does (agent/orchestrator.cc): asked about
// the weather it calls the client's get_weather tool (status "client": the response ends with
// the call pending); once the client answered, it reads the output back. "transfer me" hands the
// conversation to another agent, stores a slot and ends the call.
class ToolResponder : public session::Responder {
 public:
  explicit ToolResponder(core::Executor* ex) : ex_(ex) {}
  std::string agent_name() const override { return agent_; }

  std::vector<size_t> client_tools_seen;  // per response

  class Stream : public session::ResponseStream {
   public:
    void Cancel() override { *cancelled = true; }
    ~Stream() override { *cancelled = true; }
    std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
  };

  std::unique_ptr<session::ResponseStream> Respond(const session::ResponseRequest& req,
                                                   session::ResponseCallbacks callbacks) override {
    using session::HistoryItem;
    client_tools_seen.push_back(req.client_tools ? req.client_tools->size() : 0);
    auto stream = std::make_unique<Stream>();
    auto cancelled = stream->cancelled;
    auto cb = std::make_shared<session::ResponseCallbacks>(std::move(callbacks));
    const HistoryItem* last = nullptr;
    for (const auto& h : *req.history) {
      if (h.role == HistoryItem::Role::kUser || h.role == HistoryItem::Role::kTool) last = &h;
    }
    std::function<void()> act;
    if (req.greeting || !last) {
      act = [cb] { cb->on_text("Hi."); };
    } else if (last->role == HistoryItem::Role::kTool) {
      act = [cb, output = last->tool.output, status = last->tool.status] {
        cb->on_text("The tool said " + output + " (" + status + ").");
      };
    } else if (last->text == "weather in paris") {
      bool declared = false;
      if (req.client_tools) {
        for (const auto& t : *req.client_tools) declared |= t.value("name", "") == "get_weather";
      }
      act = [cb, declared, agent = agent_] {
        if (!declared) {
          cb->on_text("I cannot check the weather.");
          return;
        }
        session::ToolCallInfo call;
        call.call_id = "call_w1";
        call.name = "get_weather";
        call.arguments = R"({"city":"Paris"})";
        call.agent = agent;
        call.status = "client";
        cb->on_tool_started(call);
        call.duration_ms = 0;
        cb->on_tool_finished(call);
      };
    } else if (last->text == "transfer me") {
      act = [this, cb] {
        cb->on_slot(session::SlotInfo{"policy_number", "digits", R"("40213587")", agent_});
        session::HandoffInfo h{agent_, "closer", "discrete", true, "the caller asked"};
        agent_ = "closer";
        cb->on_handoff(h);
        cb->on_text("Goodbye.");
        cb->on_call_control(session::CallControl{session::CallControl::Kind::kEndCall, "", "done"});
      };
    } else {
      act = [cb] { cb->on_text("Okay."); };
    }
    ex_->Post([cancelled, cb, act] {
      if (*cancelled) return;
      act();
      if (!*cancelled) cb->on_done(core::OkStatus());
    });
    return stream;
  }

 private:
  core::Executor* ex_;
  std::string agent_ = "assistant";
};

class RealtimeConnectionTest : public ::testing::Test, public RealtimePeer {
 protected:
  virtual std::unique_ptr<session::Responder> MakeResponder() {
    return std::make_unique<EchoResponder>(ex_.get());
  }
  virtual session::SessionOptions Defaults() { return session::SessionOptions{}; }

  void SetUp() override {
    ex_ = std::make_shared<core::FakeExecutor>();
    SessionFactory factory =
        [this](session::SessionOptions opts,
               session::SessionOutput* out) -> core::Result<std::shared_ptr<session::Session>> {
      session::SessionDeps deps;
      deps.executor = ex_;
      deps.compute = ex_.get();
      deps.vad = std::make_unique<session::testing::EnergyVad>();
      deps.stt = &stt_;
      deps.tts = &tts_;
      deps.responder = MakeResponder();
      deps.metrics = &metrics_;
      deps.output = out;
      return session::Session::Create(std::move(deps), opts);
    };
    conn_ = std::make_unique<RealtimeConnection>(this, factory, Defaults(), &metrics_);
    conn_->Open();
    ex_->RunPending();
  }

  void SendText(std::string message) override { sent_.push_back(json::parse(message)); }
  void Close(uint16_t code, std::string reason) override {
    close_code_ = code;
    close_reason_ = reason;
  }

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
  std::string close_reason_;
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

TEST_F(RealtimeConnectionTest, KeypadDigitsBecomeOneDtmfTurnAndBadKeysPushNothing) {
  Wait(3000);  // the greeting
  Client({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
  const size_t items_before = OfType("conversation.item.created").size();
  Client({{"type", "artagent.input_dtmf"}, {"digits", "12x#"}, {"event_id", "k1"}});
  auto errors = OfType("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["error"]["code"], "invalid_value");
  EXPECT_EQ(errors[0]["error"]["event_id"], "k1");
  Wait(5000);  // longer than the DTMF pause: nothing was pushed, so no turn
  EXPECT_EQ(OfType("conversation.item.created").size(), items_before);

  Client({{"type", "artagent.input_dtmf"}, {"digits", "48"}});
  Client({{"type", "artagent.input_dtmf"}, {"digits", "21#"}});
  Wait(200);
  std::vector<json> dtmf_items;
  for (const auto& m : OfType("conversation.item.created")) {
    if (m["item"].value("artagent_dtmf", false)) dtmf_items.push_back(m);
  }
  ASSERT_EQ(dtmf_items.size(), 1u);
  EXPECT_EQ(dtmf_items[0]["item"]["content"][0]["type"], "input_text");
  EXPECT_EQ(dtmf_items[0]["item"]["content"][0]["text"], "4821");
  std::string text;
  for (const auto& d : OfType("response.output_text.delta")) text += d["delta"];
  EXPECT_EQ(text, "You said 4821.");
  ASSERT_FALSE(conn_->session()->history().empty());
}

class RealtimeClientToolTest : public RealtimeConnectionTest {
 protected:
  std::unique_ptr<session::Responder> MakeResponder() override {
    auto r = std::make_unique<ToolResponder>(ex_.get());
    responder_ = r.get();
    return r;
  }
  session::SessionOptions Defaults() override {
    session::SessionOptions o;
    o.output_audio = false;
    o.speak_greeting = false;
    return o;
  }
  void Say(const std::string& text) {
    Client({{"type", "conversation.item.create"},
            {"item",
             {{"type", "message"},
              {"role", "user"},
              {"content", {{{"type", "input_text"}, {"text", text}}}}}}});
    Client({{"type", "response.create"}});
    Wait(100);
  }
  std::string LastResponseText() {
    auto done = OfType("response.done");
    if (done.empty()) return "";
    return done.back()["response"]["output"][0]["content"][0].value("text", "");
  }
  ToolResponder* responder_ = nullptr;
};

TEST_F(RealtimeClientToolTest, AClientToolCallRoundTrips) {
  Client({{"type", "session.update"},
          {"session",
           {{"output_modalities", {"text"}},
            {"tools",
             {{{"type", "function"},
               {"name", "get_weather"},
               {"description", "Current weather in a city"},
               {"parameters",
                {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}}}}});
  auto updated = OfType("session.updated");
  ASSERT_EQ(updated.size(), 1u);
  ASSERT_EQ(updated[0]["session"]["tools"].size(), 1u);
  EXPECT_EQ(updated[0]["session"]["tools"][0]["name"], "get_weather");

  // The model calls the client's tool: the standard function-call events, no artagent.tool.*.
  Say("weather in paris");
  EXPECT_EQ(responder_->client_tools_seen.back(), 1u);
  auto args_done = OfType("response.function_call_arguments.done");
  ASSERT_EQ(args_done.size(), 1u);
  EXPECT_EQ(args_done[0]["call_id"], "call_w1");
  EXPECT_EQ(args_done[0]["name"], "get_weather");
  EXPECT_EQ(json::parse(args_done[0]["arguments"].get<std::string>())["city"], "Paris");
  EXPECT_TRUE(OfType("artagent.tool.started").empty());
  EXPECT_TRUE(OfType("artagent.tool.completed").empty());
  auto done = OfType("response.done");
  ASSERT_EQ(done.size(), 1u);
  const json& output = done[0]["response"]["output"];
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[1]["type"], "function_call");
  EXPECT_EQ(output[1]["call_id"], "call_w1");

  // An answer for a call nobody made is refused.
  Client({{"type", "conversation.item.create"},
          {"event_id", "o1"},
          {"item", {{"type", "function_call_output"}, {"call_id", "call_nope"}, {"output", "x"}}}});
  auto errors = OfType("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["error"]["code"], "unknown_call_id");
  EXPECT_EQ(errors[0]["error"]["event_id"], "o1");

  // The client runs it and sends the output, then asks for the next response.
  Client({{"type", "conversation.item.create"},
          {"item",
           {{"type", "function_call_output"},
            {"call_id", "call_w1"},
            {"output", R"({"temp_c":21})"}}}});
  std::vector<json> outputs;
  for (const auto& m : OfType("conversation.item.created")) {
    if (m["item"]["type"] == "function_call_output") outputs.push_back(m);
  }
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0]["item"]["call_id"], "call_w1");
  EXPECT_FALSE(outputs[0]["item"]["id"].get<std::string>().empty());

  bool found = false;
  for (const auto& h : conn_->session()->history()) {
    if (h.role == session::HistoryItem::Role::kTool && h.tool.call_id == "call_w1") {
      found = true;
      EXPECT_EQ(h.tool.output, R"({"temp_c":21})");
      EXPECT_EQ(h.tool.status, "completed");
    }
  }
  EXPECT_TRUE(found);
  Client({{"type", "response.create"}});
  Wait(100);
  EXPECT_EQ(LastResponseText(), R"(The tool said {"temp_c":21} (completed).)");

  // Answered once; a second answer is refused.
  Client({{"type", "conversation.item.create"},
          {"item", {{"type", "function_call_output"}, {"call_id", "call_w1"}, {"output", "y"}}}});
  EXPECT_EQ(OfType("error").size(), 2u);
  EXPECT_EQ(OfType("error").back()["error"]["code"], "unknown_call_id");
}

TEST_F(RealtimeClientToolTest, WithoutDeclaredToolsTheModelDoesNotCallOne) {
  Client({{"type", "session.update"},
          {"session", {{"tools", {{{"type", "function"}, {"name", "get_weather"}}}}}}});
  Client({{"type", "session.update"}, {"session", {{"tools", json::array()}}}});
  EXPECT_EQ(OfType("session.updated").back()["session"]["tools"], json::array());
  Say("weather in paris");
  EXPECT_EQ(responder_->client_tools_seen.back(), 0u);
  EXPECT_TRUE(OfType("response.function_call_arguments.done").empty());
  EXPECT_EQ(LastResponseText(), "I cannot check the weather.");
  // Malformed tools are refused and change nothing.
  Client({{"type", "session.update"}, {"session", {{"tools", {{{"type", "function"}}}}}}});
  ASSERT_EQ(OfType("error").size(), 1u);
  EXPECT_EQ(OfType("error")[0]["error"]["param"], "session.tools[0].name");
  EXPECT_EQ(OfType("session.updated").size(), 2u);
}

TEST_F(RealtimeClientToolTest, HandoffSlotAndEndOfCallReachTheClientThenTheSocketCloses) {
  Say("transfer me");
  auto handoff = OfType("artagent.handoff");
  ASSERT_EQ(handoff.size(), 1u);
  EXPECT_EQ(handoff[0]["from"], "assistant");
  EXPECT_EQ(handoff[0]["to"], "closer");
  EXPECT_EQ(handoff[0]["handoff_type"], "discrete");
  auto agent = OfType("artagent.agent");
  ASSERT_FALSE(agent.empty());
  EXPECT_EQ(agent.back()["name"], "closer");
  auto slot = OfType("artagent.slot");
  ASSERT_EQ(slot.size(), 1u);
  EXPECT_EQ(slot[0]["name"], "policy_number");
  EXPECT_EQ(slot[0]["value"], "40213587");
  Wait(500);
  auto end = OfType("artagent.call.end");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0]["reason"], "done");
  EXPECT_EQ(close_code_, 1000);
  EXPECT_EQ(close_reason_, "agent_ended_call");
  // The reply before it went out in full first.
  size_t end_at = 0, done_at = 0;
  for (size_t i = 0; i < sent_.size(); ++i) {
    if (sent_[i]["type"] == "artagent.call.end") end_at = i;
    if (sent_[i]["type"] == "response.done") done_at = i;
  }
  EXPECT_LT(done_at, end_at);
}

}  // namespace
}  // namespace artagent::transport::realtime
