#include "platform/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace artagent::platform {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

SessionRecord MakeSession(const std::string& id, int64_t started_at_ms) {
  return SessionRecord{
      id, "realtime", "insurance", "auth", "127.0.0.1:5000", "active", started_at_ms, 0};
}

TranscriptEntry MakeEntry(const std::string& session_id, int64_t seq, const std::string& text) {
  TranscriptEntry entry;
  entry.session_id = session_id;
  entry.seq = seq;
  entry.item_id = "item-" + std::to_string(seq);
  entry.role = seq % 2 == 0 ? "user" : "agent";
  entry.text = text;
  entry.at_ms = 1000 + seq;
  return entry;
}

// Collects what the write observer reports, and lets a test wait for a kind of report.
class ObservedErrors {
 public:
  std::function<void(const core::Status&)> Observer() {
    return [this](const core::Status& status) {
      std::lock_guard lock(mu_);
      errors_.push_back(status);
      cv_.notify_all();
    };
  }
  void WaitFor(core::StatusCode code) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return Count(code) > 0; });
  }
  size_t CountOf(core::StatusCode code) {
    std::lock_guard lock(mu_);
    return Count(code);
  }
  std::vector<core::Status> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  size_t Count(core::StatusCode code) {
    return std::count_if(errors_.begin(), errors_.end(),
                         [&](const core::Status& s) { return s.code() == code; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<core::Status> errors_;
};

// A plain SQLite connection of the test's own, standing in for another program.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawConnection() { sqlite3_close(db_); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // The first column of the first row; -1 if there is none.
  int64_t QueryInt(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "store_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/data/artagent.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> OpenStore(const StoreOptions& options = {}) {
    auto store = Store::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StoreTest, RefusesInMemoryDatabase) {
  auto store = Store::Open(":memory:");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("store.path"));
}

TEST_F(StoreTest, CreatesParentDirectories) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(StoreTest, RoundTripsSessionAndTranscript) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 5000));
  TranscriptEntry user = MakeEntry("s1", 0, "I want to file a claim");
  TranscriptEntry agent = MakeEntry("s1", 1, "Sure, what happened?");
  agent.metrics_json = R"({"voice_to_voice_ms":380})";
  agent.interrupted = true;
  store->Append(user);
  store->Append(agent);
  store->EndSession("s1", "ended", 9000);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->pending_writes(), 0u);

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  EXPECT_EQ(detail->session.id, "s1");
  EXPECT_EQ(detail->session.transport, "realtime");
  EXPECT_EQ(detail->session.scenario, "insurance");
  EXPECT_EQ(detail->session.agent, "auth");
  EXPECT_EQ(detail->session.remote, "127.0.0.1:5000");
  EXPECT_EQ(detail->session.status, "ended");
  EXPECT_EQ(detail->session.started_at_ms, 5000);
  EXPECT_EQ(detail->session.ended_at_ms, 9000);
  ASSERT_THAT(detail->transcript, SizeIs(2));
  const TranscriptEntry& got = detail->transcript[1];
  EXPECT_EQ(got.session_id, "s1");
  EXPECT_EQ(got.seq, 1);
  EXPECT_EQ(got.item_id, "item-1");
  EXPECT_EQ(got.role, "agent");
  EXPECT_EQ(got.text, "Sure, what happened?");
  EXPECT_TRUE(got.interrupted);
  EXPECT_EQ(got.at_ms, 1001);
  EXPECT_EQ(got.metrics_json, R"({"voice_to_voice_ms":380})");
  EXPECT_FALSE(detail->transcript[0].interrupted);
  EXPECT_EQ(detail->transcript[0].metrics_json, "{}");
}

TEST_F(StoreTest, TranscriptIsOrderedBySeq) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  for (int64_t seq : {3, 0, 2, 1}) store->Append(MakeEntry("s1", seq, "t" + std::to_string(seq)));
  ASSERT_TRUE(store->Flush().ok());
  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  ASSERT_THAT(detail->transcript, SizeIs(4));
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(detail->transcript[i].seq, i);
}

TEST_F(StoreTest, AppendReplacesEntryWithSameItemId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  TranscriptEntry agent = MakeEntry("s1", 1, "Your claim number is one two three four five.");
  store->Append(agent);
  ASSERT_TRUE(store->Flush().ok());
  agent.text = "Your claim number is";  // the caller barged in
  agent.interrupted = true;
  store->Append(agent);
  // Two versions queued back to back: the newest wins.
  TranscriptEntry user = MakeEntry("s1", 2, "wait");
  store->Append(user);
  user.text = "wait, what?";
  store->Append(user);
  // Entries without an item id never replace each other.
  TranscriptEntry system = MakeEntry("s1", 3, "transferred");
  system.item_id = "";
  store->Append(system);
  store->Append(system);
  ASSERT_TRUE(store->Flush().ok());

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  ASSERT_THAT(detail->transcript, SizeIs(4));
  EXPECT_EQ(detail->transcript[0].text, "Your claim number is");
  EXPECT_TRUE(detail->transcript[0].interrupted);
  EXPECT_EQ(detail->transcript[1].text, "wait, what?");
  EXPECT_EQ(detail->transcript[2].item_id, "");
  EXPECT_EQ(detail->transcript[3].item_id, "");
}

TranscriptEntry MakeToolEntry(const std::string& session_id, int64_t seq, const std::string& status,
                              const std::string& output) {
  TranscriptEntry entry;
  entry.session_id = session_id;
  entry.seq = seq;
  entry.item_id = "call_42";
  entry.role = "tool";
  entry.agent = "claims";
  entry.at_ms = 2000 + seq;
  entry.data_json = R"({"call_id":"call_42","name":"lookup_policy","arguments":"{\"id\":7}",)"
                    R"("output":")" +
                    output + R"(","status":")" + status + R"(","duration_ms":12.5})";
  return entry;
}

TEST_F(StoreTest, ToolHandoffAndKeypadEntriesRoundTripWithTheirData) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  TranscriptEntry user = MakeEntry("s1", 0, "1 2 3 4");
  user.dtmf = true;
  TranscriptEntry tool = MakeToolEntry("s1", 1, "completed", "ok");
  TranscriptEntry handoff;
  handoff.session_id = "s1";
  handoff.seq = 2;
  handoff.item_id = "handoff-1";
  handoff.role = "handoff";
  handoff.agent = "auth";
  handoff.at_ms = 3000;
  handoff.data_json =
      R"({"from":"auth","to":"claims","type":"discrete","share_context":true,"reason":"claim"})";
  TranscriptEntry agent = MakeEntry("s1", 3, "Let me file that claim.");
  agent.agent = "claims";
  for (const auto& e : {user, tool, handoff, agent}) store->Append(e);
  ASSERT_TRUE(store->Flush().ok());

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  ASSERT_THAT(detail->transcript, SizeIs(4));
  const auto& got = detail->transcript;
  EXPECT_EQ(got[0].role, "user");
  EXPECT_TRUE(got[0].dtmf);
  EXPECT_EQ(got[0].agent, "");
  EXPECT_EQ(got[0].data_json, "{}");
  EXPECT_EQ(got[1].role, "tool");
  EXPECT_EQ(got[1].agent, "claims");
  EXPECT_EQ(got[1].item_id, "call_42");
  EXPECT_EQ(got[1].data_json, tool.data_json);
  EXPECT_FALSE(got[1].dtmf);
  EXPECT_EQ(got[2].role, "handoff");
  EXPECT_EQ(got[2].agent, "auth");
  EXPECT_EQ(got[2].data_json, handoff.data_json);
  EXPECT_EQ(got[2].at_ms, 3000);
  EXPECT_EQ(got[3].agent, "claims");
  EXPECT_FALSE(got[3].dtmf);
}

TEST_F(StoreTest, ToolEntryIsReplacedWhenTheCallEnds) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  store->Append(MakeEntry("s1", 0, "what does my policy cover?"));
  store->Append(MakeToolEntry("s1", 1, "running", ""));
  ASSERT_TRUE(store->Flush().ok());
  auto running = store->GetSession("s1");
  ASSERT_TRUE(running.ok());
  ASSERT_THAT(running->transcript, SizeIs(2));
  EXPECT_THAT(running->transcript[1].data_json, HasSubstr(R"("status":"running")"));

  store->Append(MakeEntry("s1", 2, "One moment."));
  store->Append(MakeToolEntry("s1", 1, "completed", "covered"));
  // A second call that starts and ends while both writes are still queued.
  TranscriptEntry second = MakeToolEntry("s1", 3, "running", "");
  second.item_id = "call_43";
  store->Append(second);
  second.data_json = R"({"call_id":"call_43","status":"timeout"})";
  store->Append(second);
  ASSERT_TRUE(store->Flush().ok());

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  ASSERT_THAT(detail->transcript, SizeIs(4));
  EXPECT_EQ(detail->transcript[1].item_id, "call_42");
  EXPECT_EQ(detail->transcript[1].seq, 1);
  EXPECT_THAT(detail->transcript[1].data_json, HasSubstr(R"("status":"completed")"));
  EXPECT_THAT(detail->transcript[1].data_json, HasSubstr(R"("output":"covered")"));
  EXPECT_EQ(detail->transcript[2].text, "One moment.");
  EXPECT_EQ(detail->transcript[3].item_id, "call_43");
  EXPECT_EQ(detail->transcript[3].data_json, R"({"call_id":"call_43","status":"timeout"})");
}

SlotRecord MakeSlot(const std::string& session_id, const std::string& name,
                    const std::string& value_json, int64_t at_ms) {
  return SlotRecord{session_id, name, "string", value_json, "auth", at_ms};
}

TEST_F(StoreTest, SlotsAreUpsertedByNameAndListedByName) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  store->CreateSession(MakeSession("s2", 2));
  store->SetSlot(MakeSlot("s1", "policy_id", R"("P-1")", 10));
  store->SetSlot(MakeSlot("s1", "caller_name", R"("Ann")", 11));
  store->SetSlot(MakeSlot("s2", "policy_id", R"("P-9")", 12));
  ASSERT_TRUE(store->Flush().ok());
  SlotRecord corrected{"s1", "policy_id", "policy_number", R"({"id":"P-2"})", "claims", 20};
  store->SetSlot(corrected);
  ASSERT_TRUE(store->Flush().ok());

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  ASSERT_THAT(detail->slots, SizeIs(2));
  EXPECT_EQ(detail->slots[0].name, "caller_name");
  EXPECT_EQ(detail->slots[0].value_json, R"("Ann")");
  const SlotRecord& got = detail->slots[1];
  EXPECT_EQ(got.session_id, "s1");
  EXPECT_EQ(got.name, "policy_id");
  EXPECT_EQ(got.type, "policy_number");
  EXPECT_EQ(got.value_json, R"({"id":"P-2"})");
  EXPECT_EQ(got.agent, "claims");
  EXPECT_EQ(got.updated_at_ms, 20);

  auto other = store->GetSession("s2");
  ASSERT_TRUE(other.ok());
  ASSERT_THAT(other->slots, SizeIs(1));
  EXPECT_EQ(other->slots[0].value_json, R"("P-9")");
}

TEST_F(StoreTest, QueuedSlotIsReplacedByANewerValue) {
  StoreOptions options;
  options.busy_timeout = std::chrono::milliseconds(5);
  options.max_retry_delay = std::chrono::milliseconds(20);
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());

  RawConnection other(path_);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  store->CreateSession(MakeSession("s1", 1));
  observed.WaitFor(core::StatusCode::kUnavailable);  // the writer holds that batch, retrying
  store->SetSlot(MakeSlot("s1", "date", R"("yesterday")", 10));
  store->SetSlot(MakeSlot("s1", "date", R"("2026-11-23")", 11));
  EXPECT_EQ(store->pending_writes(), 2u);  // the session, and the slot once
  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(store->Flush().ok());

  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  ASSERT_THAT(detail->slots, SizeIs(1));
  EXPECT_EQ(detail->slots[0].value_json, R"("2026-11-23")");
  EXPECT_EQ(detail->slots[0].updated_at_ms, 11);
}

TEST_F(StoreTest, MigratesAVersion1DatabaseKeepingItsData) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  {
    // The schema and rows as the first release wrote them.
    RawConnection old(path_);
    ASSERT_EQ(old.Exec(R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE sessions (id TEXT PRIMARY KEY, transport TEXT NOT NULL, scenario TEXT NOT NULL,
  agent TEXT NOT NULL, remote TEXT NOT NULL, status TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL, ended_at_ms INTEGER NOT NULL);
CREATE INDEX sessions_by_start ON sessions (started_at_ms, id);
CREATE INDEX sessions_active ON sessions (status) WHERE status = 'active';
CREATE TABLE transcript (session_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT NOT NULL,
  role TEXT NOT NULL, text TEXT NOT NULL, interrupted INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  metrics_json TEXT NOT NULL);
CREATE INDEX transcript_by_seq ON transcript (session_id, seq);
CREATE UNIQUE INDEX transcript_by_item ON transcript (session_id, item_id) WHERE item_id <> '';
INSERT INTO sessions VALUES ('old', 'acs', 'insurance', 'auth', '+15550100', 'ended', 100, 900);
INSERT INTO transcript VALUES ('old', 0, 'item-0', 'user', 'hello', 0, 200, '{}');
INSERT INTO transcript VALUES ('old', 1, 'item-1', 'agent', 'Hi, how can I help?', 1, 300,
  '{"voice_to_voice_ms":410}');
PRAGMA user_version = 1;
)sql"),
              SQLITE_OK);
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto detail = store->GetSession("old");
    ASSERT_TRUE(detail.ok()) << detail.status().ToString();
    EXPECT_EQ(detail->session.transport, "acs");
    EXPECT_EQ(detail->session.status, "ended");
    EXPECT_EQ(detail->session.ended_at_ms, 900);
    ASSERT_THAT(detail->transcript, SizeIs(2));
    EXPECT_EQ(detail->transcript[0].text, "hello");
    EXPECT_EQ(detail->transcript[1].text, "Hi, how can I help?");
    EXPECT_TRUE(detail->transcript[1].interrupted);
    EXPECT_EQ(detail->transcript[1].metrics_json, R"({"voice_to_voice_ms":410})");
    for (const auto& e : detail->transcript) {
      EXPECT_EQ(e.agent, "");
      EXPECT_FALSE(e.dtmf);
      EXPECT_EQ(e.data_json, "{}");
    }
    EXPECT_TRUE(detail->slots.empty());

    // Old rows are still replaced by item id, and the new tables take writes.
    TranscriptEntry heard = MakeEntry("old", 1, "Hi");
    heard.agent = "auth";
    store->Append(heard);
    store->SetSlot(MakeSlot("old", "caller_name", R"("Ann")", 950));
    ASSERT_TRUE(store->Flush().ok());
    detail = store->GetSession("old");
    ASSERT_TRUE(detail.ok());
    ASSERT_THAT(detail->transcript, SizeIs(2));
    EXPECT_EQ(detail->transcript[1].text, "Hi");
    EXPECT_EQ(detail->transcript[1].agent, "auth");
    ASSERT_THAT(detail->slots, SizeIs(1));
  }
  EXPECT_EQ(RawConnection(path_).QueryInt("PRAGMA user_version"), 2);
}

TEST_F(StoreTest, ListsSessionsNewestFirstWithLimitAndOffset) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 5; ++i) store->CreateSession(MakeSession("s" + std::to_string(i), i * 1000));
  ASSERT_TRUE(store->Flush().ok());

  auto ids = [&](int limit, int offset) {
    std::vector<std::string> out;
    auto sessions = store->ListSessions(limit, offset);
    EXPECT_TRUE(sessions.ok()) << sessions.status().ToString();
    if (sessions.ok()) {
      for (const auto& s : *sessions) out.push_back(s.id);
    }
    return out;
  };
  EXPECT_EQ(ids(2, 0), (std::vector<std::string>{"s5", "s4"}));
  EXPECT_EQ(ids(2, 2), (std::vector<std::string>{"s3", "s2"}));
  EXPECT_EQ(ids(10, 4), (std::vector<std::string>{"s1"}));
  EXPECT_TRUE(ids(10, 5).empty());
  EXPECT_EQ(store->ListSessions(0, 0).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListSessions(10, -1).status().code(), core::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, GetSessionOfUnknownIdIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto detail = store->GetSession("nope");
  ASSERT_FALSE(detail.ok());
  EXPECT_EQ(detail.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(detail.status().message(), HasSubstr("'nope'"));
}

TEST_F(StoreTest, FlushWaitsForEveryQueuedWrite) {
  StoreOptions options;
  options.max_batch = 64;  // many transactions
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  store->CreateSession(MakeSession("s1", 1));
  for (int i = 0; i < 2000; ++i) store->Append(MakeEntry("s1", i, "line"));
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->pending_writes(), 0u);
  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  EXPECT_THAT(detail->transcript, SizeIs(2000));
  EXPECT_TRUE(store->Flush().ok());  // nothing queued: returns at once
}

TEST_F(StoreTest, DataSurvivesCloseAndReopen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    store->CreateSession(MakeSession("s1", 1));
    store->Append(MakeEntry("s1", 0, "hello"));
    store->EndSession("s1", "ended", 2);
    // No Flush: closing commits what is queued.
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  EXPECT_EQ(detail->session.status, "ended");
  ASSERT_THAT(detail->transcript, SizeIs(1));
  EXPECT_EQ(detail->transcript[0].text, "hello");
}

TEST_F(StoreTest, OneStorePerFile) {
  auto first = OpenStore();
  ASSERT_NE(first, nullptr);
  auto second = Store::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  first.reset();
  EXPECT_TRUE(Store::Open(path_).ok());
}

TEST_F(StoreTest, FlushedEntriesSurviveAKilledProcess) {
  constexpr int kFlushed = 300;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child reports through its exit status only; it dies without running destructors.
    auto store = Store::Open(path_);
    if (!store.ok()) _exit(2);
    (*store)->CreateSession(MakeSession("done", 1));
    (*store)->EndSession("done", "ended", 50);
    (*store)->CreateSession(MakeSession("live", 2));
    for (int i = 0; i < kFlushed; ++i) (*store)->Append(MakeEntry("live", i, "said"));
    if (!(*store)->Flush().ok()) _exit(3);
    // Writes still queued or half-written when the process dies.
    for (int i = kFlushed; i < kFlushed + 200; ++i) (*store)->Append(MakeEntry("live", i, "x"));
    raise(SIGKILL);
    _exit(4);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exited with " << WEXITSTATUS(wait_status);
  ASSERT_EQ(WTERMSIG(wait_status), SIGKILL);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto live = store->GetSession("live");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  // The session the crash interrupted is marked, with its end at its last entry.
  EXPECT_EQ(live->session.status, "crashed");
  ASSERT_GE(live->transcript.size(), static_cast<size_t>(kFlushed));
  // Every flushed entry is there; what else committed is a prefix, in order (group commit is
  // all or nothing per transaction).
  for (size_t i = 0; i < live->transcript.size(); ++i) {
    ASSERT_EQ(live->transcript[i].seq, static_cast<int64_t>(i));
  }
  EXPECT_EQ(live->session.ended_at_ms, live->transcript.back().at_ms);
  auto done = store->GetSession("done");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->session.status, "ended");
  EXPECT_EQ(done->session.ended_at_ms, 50);
}

TEST_F(StoreTest, ActiveSessionWithoutTranscriptEndsAtItsStart) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    store->CreateSession(MakeSession("quiet", 777));
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto detail = store->GetSession("quiet");
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail->session.status, "crashed");
  EXPECT_EQ(detail->session.ended_at_ms, 777);
}

TEST_F(StoreTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 4;
  constexpr int kEntries = 500;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&store, t] {
      std::string id = "s" + std::to_string(t);
      store->CreateSession(MakeSession(id, t));
      for (int i = 0; i < kEntries; ++i) store->Append(MakeEntry(id, i, "thread line"));
      store->EndSession(id, "ended", 10000 + t);
      EXPECT_TRUE(store->Flush().ok());
    });
  }
  std::thread reader([&store] {
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(store->ListSessions(10, 0).ok());
      auto detail = store->GetSession("s0");
      EXPECT_TRUE(detail.ok() || detail.status().code() == core::StatusCode::kNotFound);
    }
  });
  for (auto& writer : writers) writer.join();
  reader.join();

  auto sessions = store->ListSessions(10, 0);
  ASSERT_TRUE(sessions.ok());
  EXPECT_THAT(*sessions, SizeIs(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    auto detail = store->GetSession("s" + std::to_string(t));
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->session.status, "ended");
    ASSERT_THAT(detail->transcript, SizeIs(kEntries));
    for (int i = 0; i < kEntries; ++i) EXPECT_EQ(detail->transcript[i].seq, i);
  }
}

TEST_F(StoreTest, RetriesWhileDatabaseIsLockedAndLosesNothing) {
  StoreOptions options;
  options.busy_timeout = std::chrono::milliseconds(5);
  options.max_retry_delay = std::chrono::milliseconds(20);
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());

  RawConnection other(path_);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);  // holds the write lock
  store->CreateSession(MakeSession("s1", 1));
  for (int i = 0; i < 50; ++i) store->Append(MakeEntry("s1", i, "queued while locked"));
  observed.WaitFor(core::StatusCode::kUnavailable);
  core::Status flush = store->Flush(std::chrono::milliseconds(10));
  EXPECT_EQ(flush.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(flush.message(), HasSubstr("lock"));
  EXPECT_EQ(store->pending_writes(), 51u);

  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(store->Flush().ok());
  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  EXPECT_THAT(detail->transcript, SizeIs(50));
  EXPECT_EQ(store->dropped_writes(), 0u);
}

// A latch for OnCommitted callbacks, which arrive on the writer thread.
class CommitLatch {
 public:
  std::function<void()> Callback() {
    return [this] {
      std::lock_guard lock(mu_);
      ++count_;
      cv_.notify_all();
    };
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  bool WaitFor(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST_F(StoreTest, OnCommittedRunsOnlyOnceEarlierWritesAreOnDisk) {
  StoreOptions options;
  options.busy_timeout = std::chrono::milliseconds(5);
  options.max_retry_delay = std::chrono::milliseconds(20);
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());

  CommitLatch idle;
  store->OnCommitted(idle.Callback());  // nothing pending: at once
  EXPECT_EQ(idle.count(), 1);

  RawConnection other(path_);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  store->CreateSession(MakeSession("s1", 1));
  store->Append(MakeEntry("s1", 0, "said before the lock went away"));
  CommitLatch latch;
  store->OnCommitted(latch.Callback());
  observed.WaitFor(core::StatusCode::kUnavailable);  // a failed attempt: still not committed
  EXPECT_EQ(latch.count(), 0);
  EXPECT_EQ(store->write_health().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(other.QueryInt("SELECT COUNT(*) FROM transcript"), 0);

  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(latch.WaitFor(1));
  // The callback promised the entry is committed: another connection sees it.
  EXPECT_EQ(other.QueryInt("SELECT COUNT(*) FROM transcript WHERE session_id = 's1'"), 1);
  EXPECT_TRUE(store->write_health().ok());
}

// Disk full for real: the store lives on a tiny tmpfs (needs root to mount; skipped otherwise).
TEST_F(StoreTest, DiskFullIsRetriedUntilSpaceIsFreedAndLosesNothing) {
  const std::string mount_dir = dir_ + "/tiny";
  std::filesystem::create_directories(mount_dir);
  const std::string mount_cmd = "mount -t tmpfs -o size=2m tmpfs '" + mount_dir + "' 2>/dev/null";
  if (geteuid() != 0 || std::system(mount_cmd.c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { (void)std::system(("umount -l '" + dir + "'").c_str()); }
  } unmount{mount_dir};
  path_ = mount_dir + "/artagent.db";
  StoreOptions options;
  options.max_retry_delay = std::chrono::milliseconds(20);
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());
  store->CreateSession(MakeSession("s1", 1));
  ASSERT_TRUE(store->Flush().ok());

  // Fill the file system to the last byte.
  const std::string filler = mount_dir + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(4096, 'x');
    while (out.write(block.data(), block.size())) {
    }
  }
  const std::string text(2000, 'w');
  for (int i = 0; i < 200; ++i) store->Append(MakeEntry("s1", i, text));
  CommitLatch latch;
  store->OnCommitted(latch.Callback());
  observed.WaitFor(core::StatusCode::kResourceExhausted);
  EXPECT_EQ(latch.count(), 0);
  EXPECT_THAT(store->write_health().message(), HasSubstr("free disk space"));
  EXPECT_EQ(store->Flush(std::chrono::milliseconds(10)).code(),
            core::StatusCode::kDeadlineExceeded);

  std::filesystem::remove(filler);
  ASSERT_TRUE(latch.WaitFor(1));
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_TRUE(store->write_health().ok());
  EXPECT_EQ(store->dropped_writes(), 0u);
  store.reset();
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  auto detail = reopened->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  EXPECT_THAT(detail->transcript, SizeIs(200));
}

TEST_F(StoreTest, FullQueueRefusesWritesLoudly) {
  StoreOptions options;
  options.max_pending_writes = 5;
  options.busy_timeout = std::chrono::milliseconds(5);
  options.max_retry_delay = std::chrono::milliseconds(20);
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());

  RawConnection other(path_);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  store->CreateSession(MakeSession("s1", 1));
  for (int i = 0; i < 7; ++i) store->Append(MakeEntry("s1", i, "x"));
  EXPECT_EQ(store->dropped_writes(), 3u);
  EXPECT_EQ(store->pending_writes(), 5u);
  EXPECT_EQ(observed.CountOf(core::StatusCode::kResourceExhausted), 3u);
  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);

  ASSERT_TRUE(store->Flush().ok());
  auto detail = store->GetSession("s1");
  ASSERT_TRUE(detail.ok());
  EXPECT_THAT(detail->transcript, SizeIs(4));  // the first four accepted entries
}

TEST_F(StoreTest, EndingAnUnknownSessionIsReported) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ObservedErrors observed;
  store->SetWriteObserver(observed.Observer());
  store->EndSession("ghost", "ended", 1);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(observed.CountOf(core::StatusCode::kNotFound), 1u);
}

TEST_F(StoreTest, RefusesDatabaseFromNewerSchema) {
  { ASSERT_NE(OpenStore(), nullptr); }
  {
    RawConnection other(path_);
    ASSERT_EQ(other.Exec("PRAGMA user_version = 99"), SQLITE_OK);
  }
  auto store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
}

TEST_F(StoreTest, RefusesFileThatIsNotADatabase) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << "this is not a database, it is a text file of some length........"
                          "..............................................................";
  auto store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("store.path"));
}

}  // namespace
}  // namespace artagent::platform
