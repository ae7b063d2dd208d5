// The shipped insurance scenario over the Realtime protocol in text mode, against the real server:
// verification (policy number typed, PIN on the keypad), the hand-off to the claims agent, the
// first notice of loss and the claim filed by the create_claim tool; then the session as the API
// shows it (tool calls, hand-offs, slots).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// "4, 5, 6" for "456": how the agent reads a number back.
std::string Spelled(const std::string& digits) {
  std::string out;
  for (char c : digits) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

class RealtimeInsuranceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_dir_ = TempDir("insurance");
    server_ = std::make_unique<ServerProcess>(std::map<std::string, std::string>{
        {"ARTAGENT_TOOLS__INSURANCE_DB", db_dir_ + "/insurance.db"}});
    ASSERT_TRUE(server_->ok()) << "server did not start:\n" << server_->StderrTail();
  }

  // The text of the response that `done` (a response.done) finished.
  static std::string ReplyText(const json& done) {
    std::string text;
    for (const auto& item : done["response"]["output"]) {
      if (item.value("type", "") != "message") continue;
      // The greeting may have started before the switch to text: then it has a transcript.
      for (const auto& part : item["content"]) {
        text += part.value("text", "") + part.value("transcript", "");
      }
    }
    return text;
  }

  // Waits for the next response.done and returns its text ("" and a test failure if none came).
  std::string NextReply(WsClient& ws) {
    auto done = ws.WaitFor("response.done", seconds(30));
    EXPECT_TRUE(done) << "no response.done; the last messages: " << Tail(ws);
    if (!done) return "";
    EXPECT_EQ((*done)["response"]["status"], "completed") << done->dump();
    return ReplyText(*done);
  }

  // A typed caller turn: the item, then response.create; returns the agent's reply.
  std::string Say(WsClient& ws, const std::string& text) {
    ws.Send({{"type", "conversation.item.create"},
             {"item",
              {{"type", "message"},
               {"role", "user"},
               {"content", {{{"type", "input_text"}, {"text", text}}}}}}});
    ws.Send({{"type", "response.create"}});
    std::string reply = NextReply(ws);
    transcript_ += "caller: " + text + "\nagent: " + reply + "\n";
    return reply;
  }

  static std::string Tail(WsClient& ws) {
    auto all = ws.All();
    json tail = json::array();
    for (size_t i = all.size() > 12 ? all.size() - 12 : 0; i < all.size(); ++i) {
      json m = all[i];
      if (m.contains("delta") && m["delta"].is_string() &&
          m["delta"].get<std::string>().size() > 80)
        m["delta"] = "...";
      tail.push_back(m);
    }
    return tail.dump(1);
  }

  std::string db_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string transcript_;  // for failure messages
};

TEST_F(RealtimeInsuranceTest, VerifyByKeypadHandOffAndFileAClaim) {
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server_->port(), "/v1/realtime?scenario=insurance"));
  auto created = ws.WaitFor("session.created");
  ASSERT_TRUE(created);
  const std::string session_id = (*created)["session"]["id"];
  ws.Send({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
  ASSERT_TRUE(ws.WaitFor("session.updated"));
  auto first_agent = ws.WaitFor("artagent.agent", seconds(10));
  ASSERT_TRUE(first_agent);
  EXPECT_EQ((*first_agent)["name"], "auth_agent");

  // The greeting (started at connect) asks for the policy number.
  std::string reply = NextReply(ws);
  EXPECT_TRUE(Contains(reply, "policy number")) << reply;

  reply = Say(ws, "4 0 2 1 3 5 8 7");
  EXPECT_TRUE(Contains(reply, "4, 0, 2, 1, 3, 5, 8, 7")) << transcript_;
  reply = Say(ws, "yes");
  EXPECT_TRUE(Contains(reply, "PIN")) << transcript_;
  reply = Say(ws, "pin");
  EXPECT_TRUE(Contains(reply, "PIN")) << transcript_;

  // The PIN on the keypad: '#' ends the entry and the turn answers itself (no response.create).
  ws.Send({{"type", "artagent.input_dtmf"}, {"digits", "4821#"}});
  auto dtmf_item = ws.WaitFor("conversation.item.created", seconds(10), [](const json& j) {
    return j["item"].value("artagent_dtmf", false);
  });
  ASSERT_TRUE(dtmf_item) << Tail(ws);
  EXPECT_EQ((*dtmf_item)["item"]["content"][0]["type"], "input_text");
  EXPECT_EQ((*dtmf_item)["item"]["content"][0]["text"], "4821");
  auto verify = ws.WaitFor("artagent.tool.completed", seconds(20),
                           [](const json& j) { return j["name"] == "verify_caller"; });
  ASSERT_TRUE(verify) << Tail(ws);
  EXPECT_EQ((*verify)["status"], "completed");
  EXPECT_EQ((*verify)["output"]["verified"], true) << verify->dump();
  EXPECT_EQ((*verify)["agent"], "auth_agent");
  reply = NextReply(ws);
  transcript_ += "caller: (keypad) 4821#\nagent: " + reply + "\n";
  EXPECT_TRUE(Contains(reply, "verified")) << transcript_;
  EXPECT_TRUE(Contains(reply, "claim")) << transcript_;

  // Bad keys are refused and change nothing.
  ws.Send({{"type", "artagent.input_dtmf"}, {"digits", "9x"}});
  auto bad = ws.WaitFor("error", seconds(10));
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["error"]["code"], "invalid_value");

  // The hand-off to the claims agent, who greets the caller and asks the first question.
  reply = Say(ws, "I want to file a claim");
  auto handoff = ws.WaitFor("artagent.handoff", seconds(5));
  ASSERT_TRUE(handoff) << Tail(ws);
  EXPECT_EQ((*handoff)["from"], "auth_agent");
  EXPECT_EQ((*handoff)["to"], "fnol_agent");
  EXPECT_EQ((*handoff)["handoff_type"], "announced");
  auto agent = ws.WaitFor("artagent.agent", seconds(5));
  ASSERT_TRUE(agent);
  EXPECT_EQ((*agent)["name"], "fnol_agent");
  EXPECT_TRUE(Contains(reply, "When did it happen")) << transcript_;

  Say(ws, "yesterday");
  Say(ws, "on main street");
  Say(ws, "a tree fell on my car");
  Say(ws, "no");
  reply = Say(ws, "yes");
  EXPECT_TRUE(Contains(reply, "file the claim")) << transcript_;
  reply = Say(ws, "yes");

  auto claim = ws.WaitFor("artagent.tool.completed", seconds(5),
                          [](const json& j) { return j["name"] == "create_claim"; });
  ASSERT_TRUE(claim) << transcript_ << Tail(ws);
  EXPECT_EQ((*claim)["status"], "completed");
  EXPECT_EQ((*claim)["agent"], "fnol_agent");
  ASSERT_TRUE((*claim)["output"].contains("claim_number")) << claim->dump();
  const std::string claim_number = (*claim)["output"]["claim_number"];
  ASSERT_FALSE(claim_number.empty());
  EXPECT_TRUE(Contains(reply, Spelled(claim_number))) << claim_number << "\n" << transcript_;

  std::set<std::string> slot_events;
  for (const auto& s : ws.AllOfType("artagent.slot")) slot_events.insert(s["name"]);
  for (const char* name : {"policy_number", "incident_date", "claim_number"}) {
    EXPECT_TRUE(slot_events.count(name)) << name;
  }
  EXPECT_TRUE(ws.AllOfType("error").size() == 1u) << json(ws.AllOfType("error")).dump();

  // The session as the API shows it, once the store has it.
  ws.Close();
  json detail;
  for (int i = 0; i < 100; ++i) {
    auto r = HttpGet(server_->port(), "/api/v1/sessions/" + session_id);
    ASSERT_EQ(r.status, 200) << r.body;
    detail = r.Json();
    if (detail["status"] != "active") break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(detail["scenario"], "insurance");
  std::set<std::string> tools;
  for (const auto& t : detail["tool_calls"]) tools.insert(t["tool"].value("name", t["text"]));
  for (const char* name : {"verify_caller", "handoff_fnol_agent", "create_claim"}) {
    EXPECT_TRUE(tools.count(name)) << name << " missing from " << detail["tool_calls"].dump(1);
  }
  ASSERT_EQ(detail["handoffs"].size(), 1u) << detail["handoffs"].dump(1);
  EXPECT_EQ(detail["handoffs"][0]["handoff"]["from"], "auth_agent");
  EXPECT_EQ(detail["handoffs"][0]["handoff"]["to"], "fnol_agent");
  for (const char* name : {"policy_number", "incident_date", "claim_number"}) {
    EXPECT_TRUE(detail["slots"].contains(name)) << name << " in " << detail["slots"].dump(1);
  }
  EXPECT_EQ(detail["slots"]["claim_number"]["value"], claim_number);
  bool dtmf_entry = false;
  for (const auto& e : detail["transcript"]) {
    if (e["role"] == "user" && e.value("dtmf", false) && e["text"] == "4821") dtmf_entry = true;
  }
  EXPECT_TRUE(dtmf_entry) << detail["transcript"].dump(1);
}

TEST_F(RealtimeInsuranceTest, AnUnknownScenarioIsRefusedAtTheHandshake) {
  WsClient ws;
  EXPECT_FALSE(ws.Connect(server_->port(), "/v1/realtime?scenario=nope"));
  EXPECT_EQ(ws.http_status(), 404);
  // The catalogue lists the real one, marked default, with its hand-off edges.
  auto r = HttpGet(server_->port(), "/api/v1/scenarios");
  ASSERT_EQ(r.status, 200);
  bool listed = false;
  const json catalogue = r.Json();
  for (const auto& s : catalogue["scenarios"]) {
    if (s["name"] == "insurance") {
      listed = true;
      EXPECT_EQ(s["default"], true);
      EXPECT_EQ(s["start_agent"], "auth_agent");
    }
  }
  EXPECT_TRUE(listed) << r.body;
  WsClient ok;
  EXPECT_TRUE(ok.Connect(server_->port(), "/v1/realtime?scenario=insurance"));
}

}  // namespace
}  // namespace artagent::testing
