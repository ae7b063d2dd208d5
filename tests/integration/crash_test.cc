// Crash safety, end to end: sessions run on the real server, the server is killed with SIGKILL in
// the middle of them, restarted on the same data directory, and every turn whose response.done a
// client received must be in the store (platform/store.h "Acknowledged"); the interrupted sessions
// are marked crashed and the restarted server takes new calls. Also: a store on a file system that
// fills up mid-call keeps the server up, reports it in /readyz and loses nothing once space is
// freed.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A session as its client saw it: the agent items whose response.done arrived.
struct ClientSession {
  std::string id;
  std::unique_ptr<WsClient> ws = std::make_unique<WsClient>();
  std::set<std::string> acknowledged;  // agent item ids
  void CollectAcknowledged() {
    for (const json& m : ws->AllOfType("response.done")) {
      for (const json& item : m["response"]["output"]) {
        if (item.value("role", "") == "assistant")
          acknowledged.insert(item["id"].get<std::string>());
      }
    }
  }
};

void SendText(WsClient& ws, const std::string& text) {
  ws.Send({{"type", "conversation.item.create"},
           {"item",
            {{"type", "message"},
             {"role", "user"},
             {"content", {{{"type", "input_text"}, {"text", text}}}}}}});
  ws.Send({{"type", "response.create"}});
}

// Opens a Realtime session (text-only unless `voice`) and waits for its greeting to end.
void Open(int port, ClientSession& s, bool voice) {
  ASSERT_TRUE(s.ws->Connect(port, "/v1/realtime?scenario=insurance"));
  auto created = s.ws->WaitFor("session.created");
  ASSERT_TRUE(created);
  s.id = (*created)["session"]["id"];
  if (!voice) {
    s.ws->Send({{"type", "session.update"}, {"session", {{"output_modalities", {"text"}}}}});
    ASSERT_TRUE(s.ws->WaitFor("session.updated"));
  }
  ASSERT_TRUE(s.ws->WaitFor("response.done", seconds(30)));
}

// The SQLite file as another program sees it.
class Database {
 public:
  explicit Database(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  }
  ~Database() { sqlite3_close(db_); }
  std::string Text(const std::string& sql, const std::string& a, const std::string& b = "") {
    sqlite3_stmt* stmt = nullptr;
    std::string out = "<none>";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, a.c_str(), -1, SQLITE_TRANSIENT);
      if (!b.empty()) sqlite3_bind_text(stmt, 2, b.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt, 0);
        out = text ? reinterpret_cast<const char*>(text) : "";
      }
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(CrashRecoveryTest, AcknowledgedTurnsSurviveKill9AndInterruptedSessionsAreMarkedCrashed) {
  const std::string data = TempDir("crash");
  const std::map<std::string, std::string> env = {
      {"ARTAGENT_STORE__PATH", data + "/artagent.db"},
      {"ARTAGENT_TOOLS__INSURANCE_DB", data + "/insurance.db"}};
  auto server = std::make_unique<ServerProcess>(env);
  ASSERT_TRUE(server->ok()) << server->StderrTail();

  // Three typed sessions with two finished turns each, and one spoken session with one.
  std::vector<ClientSession> sessions(4);
  for (int i = 0; i < 3; ++i) {
    ClientSession& s = sessions[i];
    Open(server->port(), s, /*voice=*/false);
    for (const char* text : {"4 0 2 1 3 5 8 7", "yes"}) {
      SendText(*s.ws, text);
      ASSERT_TRUE(s.ws->WaitFor("response.done", seconds(30))) << text;
    }
  }
  ClientSession& voice = sessions[3];
  Open(server->port(), voice, /*voice=*/true);
  voice.ws->StreamAudio(SpeakWithFlite("My policy number is four zero two one.", 24000), 24000);
  ASSERT_TRUE(voice.ws->WaitFor("response.done", seconds(30), [](const json& m) {
    return m["response"]["status"] == "completed";
  }));

  // Mid-call: every session has a turn in flight, the caller is still talking, then SIGKILL.
  for (int i = 0; i < 3; ++i) SendText(*sessions[i].ws, "I want to file a claim");
  audio::Samples more = SpeakWithFlite("I want to file a claim.", 24000, 0, 0);
  voice.ws->StreamAudio(audio::Samples(more.begin(), more.begin() + more.size() / 2), 24000);
  ASSERT_TRUE(sessions[0].ws->WaitFor("response.created", seconds(10)));
  server->Kill();
  size_t acknowledged = 0;
  for (ClientSession& s : sessions) {
    for (int i = 0; i < 200 && !s.ws->closed(); ++i) std::this_thread::sleep_for(milliseconds(10));
    s.CollectAcknowledged();
    acknowledged += s.acknowledged.size();
  }
  ASSERT_GE(acknowledged, 3u * 3 + 2) << "greetings and finished turns";

  // The restarted server on the same data: the record is complete, and it takes new calls.
  auto again = std::make_unique<ServerProcess>(env);
  ASSERT_TRUE(again->ok()) << again->StderrTail();
  HttpResult list = HttpGet(again->port(), "/api/v1/sessions?limit=100");
  ASSERT_EQ(list.status, 200) << list.body;
  std::map<std::string, std::string> status_by_id;
  const json listed = list.Json();  // range-for over a temporary's member would dangle
  for (const json& s : listed["sessions"]) status_by_id[s["id"]] = s["status"];
  Database db(data + "/artagent.db");
  for (ClientSession& s : sessions) {
    SCOPED_TRACE(s.id);
    EXPECT_EQ(status_by_id[s.id], "crashed");
    EXPECT_EQ(db.Text("SELECT status FROM sessions WHERE id = ?1", s.id), "crashed");
    HttpResult detail = HttpGet(again->port(), "/api/v1/sessions/" + s.id);
    ASSERT_EQ(detail.status, 200);
    std::set<std::string> stored;
    int users = 0;
    const json details = detail.Json();
    for (const json& e : details["transcript"]) {
      if (e["role"] == "agent") stored.insert(e["item_id"].get<std::string>());
      if (e["role"] == "user") ++users;
    }
    for (const std::string& item : s.acknowledged) {
      EXPECT_TRUE(stored.count(item)) << "acknowledged reply " << item << " is lost";
      EXPECT_EQ(
          db.Text("SELECT role FROM transcript WHERE session_id = ?1 AND item_id = ?2", s.id, item),
          "agent");
    }
    // Every caller turn answered before the kill is stored (replies may outnumber them: no-input
    // re-prompts are replies too).
    EXPECT_GE(users, &s == &sessions[3] ? 1 : 2) << "an answered caller turn is lost";
  }

  ClientSession fresh;
  Open(again->port(), fresh, /*voice=*/false);
  SendText(*fresh.ws, "4 0 2 1 3 5 8 7");
  auto done = fresh.ws->WaitFor("response.done", seconds(30));
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["response"]["status"], "completed");
}

// Disk full for real: the store on a tiny tmpfs (needs root to mount; skipped otherwise).
TEST(StoreFaultsTest, DiskFullKeepsTheServerUpAndLosesNothingOnceSpaceIsFreed) {
  const std::string data = TempDir("diskfull");
  const std::string mount_dir = data + "/tiny";
  std::filesystem::create_directories(mount_dir);
  if (geteuid() != 0 ||
      std::system(("mount -t tmpfs -o size=4m tmpfs '" + mount_dir + "' 2>/dev/null").c_str()) !=
          0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { (void)std::system(("umount -l '" + dir + "'").c_str()); }
  } unmount{mount_dir};
  const std::map<std::string, std::string> env = {
      {"ARTAGENT_STORE__PATH", mount_dir + "/artagent.db"},
      {"ARTAGENT_STORE__ACK_TIMEOUT_MS", "1000"},
      {"ARTAGENT_TOOLS__INSURANCE_DB", data + "/insurance.db"}};
  auto server = std::make_unique<ServerProcess>(env);
  ASSERT_TRUE(server->ok()) << server->StderrTail();
  ClientSession s;
  Open(server->port(), s, /*voice=*/false);
  EXPECT_EQ(HttpGet(server->port(), "/readyz").Json()["checks"]["store"]["ok"], true);

  // Fill the file system to the last byte, then keep talking.
  const std::string filler = mount_dir + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(4096, 'x');
    while (out.write(block.data(), block.size())) {
    }
  }
  for (int i = 0; i < 4; ++i) {
    SendText(*s.ws, i % 2 ? "what was that" : "4 0 2 1 3 5 8 7");
    auto done = s.ws->WaitFor("response.done", seconds(30));
    ASSERT_TRUE(done) << "the session goes on while the disk is full";
  }
  json ready = HttpGet(server->port(), "/readyz").Json();
  EXPECT_EQ(ready["checks"]["store"]["ok"], false) << ready.dump();
  EXPECT_NE(ready["checks"]["store"]["detail"].get<std::string>().find("disk"), std::string::npos)
      << ready.dump();
  EXPECT_EQ(HttpGet(server->port(), "/healthz").status, 200) << "the server stays up";
  HttpResult metrics = HttpGet(server->port(), "/metrics");
  EXPECT_NE(metrics.body.find("provider=\"store\""), std::string::npos);

  std::filesystem::remove(filler);
  for (int i = 0; i < 300; ++i) {
    if (HttpGet(server->port(), "/readyz").Json()["checks"]["store"]["ok"] == true) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(HttpGet(server->port(), "/readyz").Json()["checks"]["store"]["ok"], true);
  SendText(*s.ws, "thank you");
  ASSERT_TRUE(s.ws->WaitFor("response.done", seconds(30)));
  s.CollectAcknowledged();
  s.ws->Close();
  EXPECT_EQ(server->Stop(), 0);

  Database db(mount_dir + "/artagent.db");
  for (const std::string& item : s.acknowledged) {
    EXPECT_EQ(
        db.Text("SELECT role FROM transcript WHERE session_id = ?1 AND item_id = ?2", s.id, item),
        "agent")
        << item << " written while the disk was full is lost";
  }
  EXPECT_EQ(s.acknowledged.size(), 6u);  // greeting + 5 replies
  EXPECT_EQ(db.Text("SELECT status FROM sessions WHERE id = ?1", s.id), "ended");
}

}  // namespace
}  // namespace artagent::testing
