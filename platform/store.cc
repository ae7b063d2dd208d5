#include "platform/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>

#include "core/log.h"

namespace artagent::platform {
namespace {

using core::Status;
using Clock = std::chrono::steady_clock;

constexpr int kSchemaVersion = 2;

// kMigrations[v] takes the schema from user_version v to v + 1, in one transaction. Append only;
// never edit a step that has shipped.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  transport TEXT NOT NULL,
  scenario TEXT NOT NULL,
  agent TEXT NOT NULL,
  remote TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER NOT NULL
);
CREATE INDEX sessions_by_start ON sessions (started_at_ms, id);
CREATE INDEX sessions_active ON sessions (status) WHERE status = 'active';
CREATE TABLE transcript (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  role TEXT NOT NULL,
  text TEXT NOT NULL,
  interrupted INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  metrics_json TEXT NOT NULL
);
CREATE INDEX transcript_by_seq ON transcript (session_id, seq);
CREATE UNIQUE INDEX transcript_by_item ON transcript (session_id, item_id) WHERE item_id <> '';
)sql",
    // 1 -> 2: who spoke or acted, keypad input, tool and hand-off data; slots.
    R"sql(
ALTER TABLE transcript ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE transcript ADD COLUMN dtmf INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transcript ADD COLUMN data_json TEXT NOT NULL DEFAULT '{}';
CREATE TABLE slots (
  session_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  value_json TEXT NOT NULL,
  agent TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (session_id, name)
) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr const char* kUpsertSession = R"sql(
INSERT INTO sessions (id, transport, scenario, agent, remote, status, started_at_ms, ended_at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (id) DO UPDATE SET transport = excluded.transport, scenario = excluded.scenario,
  agent = excluded.agent, remote = excluded.remote, status = excluded.status,
  started_at_ms = excluded.started_at_ms, ended_at_ms = excluded.ended_at_ms)sql";

constexpr const char* kEndSession =
    "UPDATE sessions SET status = ?2, ended_at_ms = ?3 WHERE id = ?1";

constexpr const char* kUpsertEntry = R"sql(
INSERT INTO transcript (session_id, seq, item_id, role, text, interrupted, at_ms, metrics_json,
  agent, dtmf, data_json)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (session_id, item_id) WHERE item_id <> '' DO UPDATE SET seq = excluded.seq,
  role = excluded.role, text = excluded.text, interrupted = excluded.interrupted,
  at_ms = excluded.at_ms, metrics_json = excluded.metrics_json, agent = excluded.agent,
  dtmf = excluded.dtmf, data_json = excluded.data_json)sql";

constexpr const char* kUpsertSlot = R"sql(
INSERT INTO slots (session_id, name, type, value_json, agent, updated_at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (session_id, name) DO UPDATE SET type = excluded.type,
  value_json = excluded.value_json, agent = excluded.agent,
  updated_at_ms = excluded.updated_at_ms)sql";

// A session still 'active' when the store opens belonged to a process that died without ending
// it. Its end is estimated by its last transcript entry.
constexpr const char* kMarkCrashed = R"sql(
UPDATE sessions SET status = 'crashed', ended_at_ms = MAX(started_at_ms,
  COALESCE((SELECT MAX(at_ms) FROM transcript WHERE session_id = sessions.id), 0))
WHERE status = 'active')sql";

constexpr const char* kSessionColumns =
    "id, transport, scenario, agent, remote, status, started_at_ms, ended_at_ms";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Resets a reused prepared statement when a use of it ends, however it ends.
class StmtUse {
 public:
  explicit StmtUse(const Stmt& stmt) : stmt_(stmt.get()) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;

  // The text must outlive the use (SQLITE_STATIC: no copy).
  StmtUse& Bind(int index, const std::string& text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
    return *this;
  }
  StmtUse& Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3_stmt* stmt_;
};

// Errors that no retry can fix: the write itself is wrong.
bool IsPermanent(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return true;
    default:
      return false;
  }
}

Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view doing) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("store '{}': {}: {} (SQLite code {})", path, doing, detail, rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return core::UnavailableError(message + "; another program holds the database lock");
    case SQLITE_FULL:
      return core::ResourceExhaustedError(message + "; free disk space");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return core::UnavailableError(message + "; check permissions of the file and its directory");
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return core::UnavailableError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return core::FailedPreconditionError(
          message + "; the file is not a usable database: move it away or set store.path");
    default:
      if (IsPermanent(rc)) return core::InvalidArgumentError(std::move(message));
      return core::InternalError(std::move(message));
  }
}

struct EndWrite {
  std::string id;
  std::string status;
  int64_t ended_at_ms = 0;
};
using Write = std::variant<SessionRecord, EndWrite, TranscriptEntry, SlotRecord>;

// Writes that a newer write of the same key replaces: transcript entries with an item id, and
// slots. Key: (kind, session id, item id or slot name).
using ReplaceKey = std::tuple<char, std::string, std::string>;

std::optional<ReplaceKey> KeyOf(const Write& write) {
  if (const auto* entry = std::get_if<TranscriptEntry>(&write)) {
    if (entry->item_id.empty()) return std::nullopt;
    return ReplaceKey{'t', entry->session_id, entry->item_id};
  }
  if (const auto* slot = std::get_if<SlotRecord>(&write)) {
    return ReplaceKey{'s', slot->session_id, slot->name};
  }
  return std::nullopt;
}

struct QueuedWrite {
  uint64_t ticket;  // consecutive in the queue, in order of acceptance
  Write write;
};

std::string Describe(const Write& write) {
  if (const auto* session = std::get_if<SessionRecord>(&write)) {
    return fmt::format("creating session '{}'", session->id);
  }
  if (const auto* end = std::get_if<EndWrite>(&write)) {
    return fmt::format("ending session '{}'", end->id);
  }
  if (const auto* slot = std::get_if<SlotRecord>(&write)) {
    return fmt::format("setting slot '{}' of session '{}'", slot->name, slot->session_id);
  }
  const auto& entry = std::get<TranscriptEntry>(write);
  return fmt::format("appending entry {} ('{}') of session '{}'", entry.seq, entry.item_id,
                     entry.session_id);
}

SessionRecord ReadSession(const StmtUse& row) {
  SessionRecord session;
  session.id = row.Text(0);
  session.transport = row.Text(1);
  session.scenario = row.Text(2);
  session.agent = row.Text(3);
  session.remote = row.Text(4);
  session.status = row.Text(5);
  session.started_at_ms = row.Int(6);
  session.ended_at_ms = row.Int(7);
  return session;
}

}  // namespace

class Store::Impl {
 public:
  Impl(std::string path, StoreOptions options, int lock_fd)
      : path_(std::move(path)), options_(options), lock_fd_(lock_fd) {}

  ~Impl() {
    if (writer_.joinable()) {
      {
        std::lock_guard lock(mu_);
        stopping_ = true;
        close_deadline_ = Clock::now() + options_.close_timeout;
      }
      writer_cv_.notify_all();
      writer_.join();
    }
    // Statements before their connections, connections before the lock.
    writer_stmts_ = {};
    reader_stmts_ = {};
    writer_db_.reset();
    reader_db_.reset();
    ::close(lock_fd_);
  }

  Status Init() {
    ARTAGENT_RETURN_IF_ERROR(Connect(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &writer_db_));
    // WAL: readers see a snapshot and never block the writer (or each other). synchronous=NORMAL
    // writes each commit into the WAL file before returning, so a committed transaction survives
    // a crash of the process (the data sits in the OS page cache); only an OS crash or power
    // loss can lose the last commits, and never corrupts the database. FULL would fsync every
    // commit, which the conversation record does not need.
    ARTAGENT_ASSIGN_OR_RETURN(std::string mode, QueryText("PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return core::UnavailableError(fmt::format(
          "store '{}': cannot use WAL mode (journal_mode is '{}'); put store.path on a local "
          "file system",
          path_, mode));
    }
    ARTAGENT_RETURN_IF_ERROR(Exec(writer_db_.get(), "PRAGMA synchronous = NORMAL"));
    ARTAGENT_RETURN_IF_ERROR(Migrate());
    ARTAGENT_RETURN_IF_ERROR(Exec(writer_db_.get(), kMarkCrashed));
    if (int crashed = sqlite3_changes(writer_db_.get()); crashed > 0) {
      core::LogWarn("store", "{} session(s) left active by a previous process marked 'crashed'",
                    crashed);
    }
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), "BEGIN IMMEDIATE", &writer_stmts_.begin));
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), "COMMIT", &writer_stmts_.commit));
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), kUpsertSession, &writer_stmts_.session));
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), kEndSession, &writer_stmts_.end));
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), kUpsertEntry, &writer_stmts_.entry));
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), kUpsertSlot, &writer_stmts_.slot));

    ARTAGENT_RETURN_IF_ERROR(Connect(SQLITE_OPEN_READWRITE, &reader_db_));
    ARTAGENT_RETURN_IF_ERROR(Exec(reader_db_.get(), "PRAGMA query_only = 1"));
    sqlite3* db = reader_db_.get();
    ARTAGENT_RETURN_IF_ERROR(Prepare(db, "BEGIN", &reader_stmts_.begin));
    ARTAGENT_RETURN_IF_ERROR(Prepare(db, "COMMIT", &reader_stmts_.commit));
    ARTAGENT_RETURN_IF_ERROR(
        Prepare(db,
                fmt::format("SELECT {} FROM sessions ORDER BY started_at_ms DESC, id DESC LIMIT ?1 "
                            "OFFSET ?2",
                            kSessionColumns),
                &reader_stmts_.list));
    ARTAGENT_RETURN_IF_ERROR(
        Prepare(db, fmt::format("SELECT {} FROM sessions WHERE id = ?1", kSessionColumns),
                &reader_stmts_.session));
    ARTAGENT_RETURN_IF_ERROR(
        Prepare(db,
                "SELECT session_id, seq, item_id, role, text, interrupted, at_ms, metrics_json, "
                "agent, dtmf, data_json FROM transcript WHERE session_id = ?1 ORDER BY seq, rowid",
                &reader_stmts_.transcript));
    ARTAGENT_RETURN_IF_ERROR(Prepare(db,
                                     "SELECT session_id, name, type, value_json, agent, "
                                     "updated_at_ms FROM slots WHERE session_id = ?1 ORDER BY name",
                                     &reader_stmts_.slots));
    return core::OkStatus();
  }

  void Start() {
    writer_ = std::thread([this] { WriterLoop(); });
  }

  void Enqueue(Write write) {
    std::function<void(const Status&)> observer;
    Status refused;
    {
      std::lock_guard lock(mu_);
      std::optional<ReplaceKey> key = KeyOf(write);
      if (key) {
        // A newer version of an entry or slot still waiting in the queue takes its place: one
        // write.
        if (auto it = queued_items_.find(*key); it != queued_items_.end()) {
          queue_[it->second - queue_.front().ticket].write = std::move(write);
          return;
        }
      }
      if (queue_.size() + in_flight_ < options_.max_pending_writes) {
        uint64_t ticket = ++last_ticket_;
        if (key) queued_items_.emplace(std::move(*key), ticket);
        queue_.push_back({ticket, std::move(write)});
        writer_cv_.notify_one();
        return;
      }
      ++dropped_;
      refused = core::ResourceExhaustedError(fmt::format(
          "store '{}': {} refused: {} writes are pending (the limit); {} refused so far{}", path_,
          Describe(write), options_.max_pending_writes, dropped_,
          last_error_.ok() ? "" : "; last error: " + last_error_.message()));
      observer = observer_;
      // One line per power of two keeps the log readable while the disk is down.
      if ((dropped_ & (dropped_ - 1)) == 0) core::LogError("store", "{}", refused.message());
    }
    if (observer) observer(refused);
  }

  Status Flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    uint64_t target = last_ticket_;
    if (flushed_cv_.wait_for(lock, timeout, [&] { return committed_ticket_ >= target; })) {
      return core::OkStatus();
    }
    return core::DeadlineExceededError(fmt::format(
        "store '{}': {} writes still pending after {} ms{}", path_, queue_.size() + in_flight_,
        timeout.count(), last_error_.ok() ? "" : "; last error: " + last_error_.message()));
  }

  core::Result<std::vector<SessionRecord>> ListSessions(int limit, int offset) {
    if (limit < 1 || limit > 1000 || offset < 0) {
      return core::InvalidArgumentError(fmt::format(
          "list sessions: limit must be 1..1000 and offset >= 0, got limit {} offset {}", limit,
          offset));
    }
    std::lock_guard lock(read_mu_);
    StmtUse use(reader_stmts_.list);
    use.Bind(1, int64_t{limit}).Bind(2, int64_t{offset});
    std::vector<SessionRecord> sessions;
    int rc;
    while ((rc = use.Step()) == SQLITE_ROW) sessions.push_back(ReadSession(use));
    if (rc != SQLITE_DONE) return SqliteError(reader_db_.get(), rc, path_, "listing sessions");
    return sessions;
  }

  core::Result<SessionDetail> GetSession(const std::string& id) {
    std::lock_guard lock(read_mu_);
    // One read transaction: the session and its transcript come from the same snapshot.
    int rc = StmtUse(reader_stmts_.begin).Step();
    if (rc != SQLITE_DONE) return SqliteError(reader_db_.get(), rc, path_, "reading a session");
    struct EndRead {
      const Stmt& commit;
      ~EndRead() { StmtUse(commit).Step(); }
    } end_read{reader_stmts_.commit};

    SessionDetail detail;
    {
      StmtUse use(reader_stmts_.session);
      use.Bind(1, id);
      rc = use.Step();
      if (rc == SQLITE_DONE) {
        return core::NotFoundError(fmt::format("session '{}' not found", id));
      }
      if (rc != SQLITE_ROW) {
        return SqliteError(reader_db_.get(), rc, path_, "reading session '" + id + "'");
      }
      detail.session = ReadSession(use);
    }
    StmtUse use(reader_stmts_.transcript);
    use.Bind(1, id);
    while ((rc = use.Step()) == SQLITE_ROW) {
      TranscriptEntry entry;
      entry.session_id = use.Text(0);
      entry.seq = use.Int(1);
      entry.item_id = use.Text(2);
      entry.role = use.Text(3);
      entry.text = use.Text(4);
      entry.interrupted = use.Int(5) != 0;
      entry.at_ms = use.Int(6);
      entry.metrics_json = use.Text(7);
      entry.agent = use.Text(8);
      entry.dtmf = use.Int(9) != 0;
      entry.data_json = use.Text(10);
      detail.transcript.push_back(std::move(entry));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(reader_db_.get(), rc, path_, "reading the transcript of '" + id + "'");
    }
    StmtUse slots(reader_stmts_.slots);
    slots.Bind(1, id);
    while ((rc = slots.Step()) == SQLITE_ROW) {
      SlotRecord slot;
      slot.session_id = slots.Text(0);
      slot.name = slots.Text(1);
      slot.type = slots.Text(2);
      slot.value_json = slots.Text(3);
      slot.agent = slots.Text(4);
      slot.updated_at_ms = slots.Int(5);
      detail.slots.push_back(std::move(slot));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(reader_db_.get(), rc, path_, "reading the slots of '" + id + "'");
    }
    return detail;
  }

  void OnCommitted(std::function<void()> done) {
    {
      std::lock_guard lock(mu_);
      if (committed_ticket_ < last_ticket_) {
        commit_waiters_.push_back({last_ticket_, std::move(done)});
        return;
      }
    }
    done();
  }

  size_t pending_writes() const {
    std::lock_guard lock(mu_);
    return queue_.size() + in_flight_;
  }

  Status write_health() const {
    std::lock_guard lock(mu_);
    return last_error_;
  }

  uint64_t dropped_writes() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

  void SetWriteObserver(std::function<void(const Status&)> observer) {
    std::lock_guard lock(mu_);
    observer_ = std::move(observer);
  }

 private:
  struct WriterStatements {
    Stmt begin, commit, session, end, entry, slot;
  };
  struct ReaderStatements {
    Stmt begin, commit, list, session, transcript, slots;
  };

  Status Connect(int flags, Db* out) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    out->reset(db);  // closed even when opening failed
    if (rc != SQLITE_OK) return SqliteError(db, rc, path_, "opening");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options_.busy_timeout.count()));
    return core::OkStatus();
  }

  Status Exec(sqlite3* db, const std::string& sql) {
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, path_, "running '" + sql.substr(0, 40) + "'");
    return core::OkStatus();
  }

  core::Result<std::string> QueryText(const std::string& sql) {
    Stmt stmt;
    ARTAGENT_RETURN_IF_ERROR(Prepare(writer_db_.get(), sql, &stmt));
    StmtUse use(stmt);
    int rc = use.Step();
    if (rc != SQLITE_ROW) return SqliteError(writer_db_.get(), rc, path_, "running '" + sql + "'");
    return use.Text(0);
  }

  Status Prepare(sqlite3* db, const std::string& sql, Stmt* out) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    out->reset(stmt);
    if (rc != SQLITE_OK) return SqliteError(db, rc, path_, "preparing '" + sql + "'");
    return core::OkStatus();
  }

  Status Migrate() {
    ARTAGENT_ASSIGN_OR_RETURN(std::string text, QueryText("PRAGMA user_version"));
    int version = std::stoi(text);
    if (version > kSchemaVersion) {
      return core::FailedPreconditionError(fmt::format(
          "store '{}' has schema version {}, newer than this artagent's ({}); run a newer "
          "artagent or set store.path to another file",
          path_, version, kSchemaVersion));
    }
    sqlite3* db = writer_db_.get();
    for (; version < kSchemaVersion; ++version) {
      ARTAGENT_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
      Status status = Exec(db, kMigrations[version]);
      if (status.ok()) status = Exec(db, fmt::format("PRAGMA user_version = {}", version + 1));
      if (status.ok()) status = Exec(db, "COMMIT");
      if (!status.ok()) {
        if (!sqlite3_get_autocommit(db)) (void)Exec(db, "ROLLBACK");
        return status.WithContext(
            fmt::format("migrating schema from version {} to {}", version, version + 1));
      }
    }
    return core::OkStatus();
  }

  void Report(const Status& status) {
    std::function<void(const Status&)> observer;
    {
      std::lock_guard lock(mu_);
      observer = observer_;
    }
    if (observer) observer(status);
  }

  // Runs one write inside the open transaction. SQLITE_DONE on success.
  int Apply(const Write& write, Status* rejected) {
    if (const auto* session = std::get_if<SessionRecord>(&write)) {
      StmtUse use(writer_stmts_.session);
      use.Bind(1, session->id).Bind(2, session->transport).Bind(3, session->scenario);
      use.Bind(4, session->agent).Bind(5, session->remote).Bind(6, session->status);
      use.Bind(7, session->started_at_ms).Bind(8, session->ended_at_ms);
      return use.Step();
    }
    if (const auto* end = std::get_if<EndWrite>(&write)) {
      StmtUse use(writer_stmts_.end);
      use.Bind(1, end->id).Bind(2, end->status).Bind(3, end->ended_at_ms);
      int rc = use.Step();
      if (rc == SQLITE_DONE && sqlite3_changes(writer_db_.get()) == 0) {
        *rejected = core::NotFoundError(fmt::format(
            "store '{}': {}: no such session (it was never created, or its creation was "
            "refused)",
            path_, Describe(write)));
      }
      return rc;
    }
    if (const auto* slot = std::get_if<SlotRecord>(&write)) {
      StmtUse use(writer_stmts_.slot);
      use.Bind(1, slot->session_id).Bind(2, slot->name).Bind(3, slot->type);
      use.Bind(4, slot->value_json).Bind(5, slot->agent).Bind(6, slot->updated_at_ms);
      return use.Step();
    }
    const auto& entry = std::get<TranscriptEntry>(write);
    StmtUse use(writer_stmts_.entry);
    use.Bind(1, entry.session_id).Bind(2, entry.seq).Bind(3, entry.item_id).Bind(4, entry.role);
    use.Bind(5, entry.text).Bind(6, int64_t{entry.interrupted}).Bind(7, entry.at_ms);
    use.Bind(8, entry.metrics_json).Bind(9, entry.agent).Bind(10, int64_t{entry.dtmf});
    use.Bind(11, entry.data_json);
    return use.Step();
  }

  // One transaction for the whole batch. Writes SQLite rejects for good are skipped and listed in
  // `rejected`; any other failure rolls the batch back, to be retried whole.
  Status CommitBatch(const std::vector<QueuedWrite>& batch, std::vector<Status>* rejected) {
    sqlite3* db = writer_db_.get();
    int rc = StmtUse(writer_stmts_.begin).Step();
    if (rc != SQLITE_DONE) return SqliteError(db, rc, path_, "starting a transaction");
    Status failure;
    for (const QueuedWrite& queued : batch) {
      Status problem;
      rc = Apply(queued.write, &problem);
      if (rc != SQLITE_DONE && IsPermanent(rc)) {
        problem = SqliteError(db, rc, path_, Describe(queued.write));
      } else if (rc != SQLITE_DONE) {
        failure = SqliteError(db, rc, path_, Describe(queued.write));
        break;
      }
      if (!problem.ok()) rejected->push_back(std::move(problem));
    }
    if (failure.ok()) {
      rc = StmtUse(writer_stmts_.commit).Step();
      if (rc == SQLITE_DONE) return core::OkStatus();
      failure = SqliteError(db, rc, path_, "committing");
    }
    if (!sqlite3_get_autocommit(db)) (void)Exec(db, "ROLLBACK");
    return failure;
  }

  // Retries a failing batch with exponential back-off until it commits, or until close_timeout
  // has passed once the store is closing. Returns whether it committed.
  bool CommitWithRetry(const std::vector<QueuedWrite>& batch) {
    auto delay = std::chrono::milliseconds(10);
    for (int attempt = 1;; ++attempt) {
      std::vector<Status> rejected;
      Status status = CommitBatch(batch, &rejected);
      if (status.ok()) {
        for (const Status& problem : rejected) {
          core::LogWarn("store", "write rejected: {}", problem.message());
          Report(problem);
        }
        return true;
      }
      status = status.WithContext(
          fmt::format("{} writes not committed yet (attempt {}, retrying)", batch.size(), attempt));
      core::LogWarn("store", "{}", status.message());
      {
        std::lock_guard lock(mu_);
        last_error_ = status;
      }
      Report(status);
      std::unique_lock lock(mu_);
      if (stopping_ && Clock::now() >= close_deadline_) return false;
      // New writes must not cut the back-off short; closing does.
      bool was_stopping = stopping_;
      auto wake = Clock::now() + delay;
      if (stopping_) wake = std::min(wake, close_deadline_);
      writer_cv_.wait_until(lock, wake, [&] { return stopping_ != was_stopping; });
      delay = std::min(delay * 2, options_.max_retry_delay);
    }
  }

  void WriterLoop() {
    std::vector<QueuedWrite> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        writer_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closing, and everything is committed
        size_t count = std::min(queue_.size(), options_.max_batch);
        for (size_t i = 0; i < count; ++i) {
          QueuedWrite& queued = queue_.front();
          if (std::optional<ReplaceKey> key = KeyOf(queued.write)) {
            auto it = queued_items_.find(*key);
            if (it != queued_items_.end() && it->second == queued.ticket) queued_items_.erase(it);
          }
          batch.push_back(std::move(queued));
          queue_.pop_front();
        }
        in_flight_ = batch.size();
      }
      bool committed = CommitWithRetry(batch);
      {
        std::lock_guard lock(mu_);
        committed_ticket_ = batch.back().ticket;
        in_flight_ = 0;
        if (committed) last_error_ = core::OkStatus();
      }
      // Waiters first: when Flush() returns, the OnCommitted() callbacks it covers have run.
      NotifyCommitWaiters();
      flushed_cv_.notify_all();
      if (!committed) {
        GiveUp(batch.size());
        return;
      }
      batch.clear();
    }
  }

  // Closing while SQLite still fails: what is left cannot be kept any longer; say so loudly.
  void GiveUp(size_t in_batch) {
    Status lost;
    {
      std::lock_guard lock(mu_);
      lost = core::UnavailableError(fmt::format(
          "store '{}' closed with {} writes not committed after {} ms of retries; last error: {}",
          path_, in_batch + queue_.size(), options_.close_timeout.count(), last_error_.message()));
      queue_.clear();
      queued_items_.clear();
      committed_ticket_ = last_ticket_;
    }
    NotifyCommitWaiters();
    flushed_cv_.notify_all();
    core::LogError("store", "{}", lost.message());
    Report(lost);
  }

  // Calls the OnCommitted() callbacks whose writes are all committed (waiters are in ticket order).
  void NotifyCommitWaiters() {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mu_);
      while (!commit_waiters_.empty() && commit_waiters_.front().ticket <= committed_ticket_) {
        ready.push_back(std::move(commit_waiters_.front().done));
        commit_waiters_.pop_front();
      }
    }
    for (auto& done : ready) done();
  }

  const std::string path_;
  const StoreOptions options_;
  const int lock_fd_;

  Db writer_db_;  // used by Init(), then by the writer thread only
  WriterStatements writer_stmts_;
  std::mutex read_mu_;  // guards the read connection and its statements
  Db reader_db_;
  ReaderStatements reader_stmts_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable writer_cv_;
  std::condition_variable flushed_cv_;
  std::deque<QueuedWrite> queue_;
  // Replaceable writes (entries with an item id, slots) waiting in queue_: their ticket.
  std::map<ReplaceKey, uint64_t> queued_items_;
  uint64_t last_ticket_ = 0;       // ticket of the newest accepted write
  uint64_t committed_ticket_ = 0;  // every write up to this ticket is committed
  size_t in_flight_ = 0;           // writes taken by the writer, not yet committed
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  Clock::time_point close_deadline_;
  Status last_error_;
  std::function<void(const Status&)> observer_;
  struct CommitWaiter {
    uint64_t ticket;  // called once committed_ticket_ reaches it
    std::function<void()> done;
  };
  std::deque<CommitWaiter> commit_waiters_;  // by ticket
  std::thread writer_;
};

core::Result<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                 const StoreOptions& options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return core::InvalidArgumentError(fmt::format(
        "store.path '{}' is not allowed: the conversation record must be a file that survives "
        "restarts; set store.path to a file such as data/artagent.db",
        path));
  }
  if (options.max_pending_writes == 0 || options.max_batch == 0) {
    return core::InvalidArgumentError(
        "store options: max_pending_writes and max_batch must be > 0");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::create_directories(parent, ec) && ec) {
    return core::UnavailableError(
        fmt::format("store.path '{}': cannot create directory '{}': {}; fix its permissions or set "
                    "store.path to another place",
                    path, parent.string(), ec.message()));
  }
  std::string lock_path = path + "-lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return core::UnavailableError(fmt::format("store.path '{}': cannot open '{}': {}", path,
                                              lock_path, std::strerror(errno)));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return core::FailedPreconditionError(fmt::format(
        "store '{}' is in use by another artagent process (or another Store in this one): '{}' "
        "is locked; stop the other one or set store.path to another file",
        path, lock_path));
  }
  auto impl = std::make_unique<Impl>(path, options, lock_fd);
  ARTAGENT_RETURN_IF_ERROR(impl->Init());
  impl->Start();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

void Store::CreateSession(SessionRecord session) { impl_->Enqueue(std::move(session)); }

void Store::EndSession(std::string id, std::string status, int64_t ended_at_ms) {
  impl_->Enqueue(EndWrite{std::move(id), std::move(status), ended_at_ms});
}

void Store::Append(TranscriptEntry entry) { impl_->Enqueue(std::move(entry)); }

void Store::SetSlot(SlotRecord slot) { impl_->Enqueue(std::move(slot)); }

core::Status Store::Flush(std::chrono::milliseconds timeout) { return impl_->Flush(timeout); }

core::Result<std::vector<SessionRecord>> Store::ListSessions(int limit, int offset) {
  return impl_->ListSessions(limit, offset);
}

core::Result<SessionDetail> Store::GetSession(const std::string& id) {
  return impl_->GetSession(id);
}

size_t Store::pending_writes() const { return impl_->pending_writes(); }
uint64_t Store::dropped_writes() const { return impl_->dropped_writes(); }
core::Status Store::write_health() const { return impl_->write_health(); }

void Store::OnCommitted(std::function<void()> done) { impl_->OnCommitted(std::move(done)); }

void Store::SetWriteObserver(std::function<void(const core::Status&)> observer) {
  impl_->SetWriteObserver(std::move(observer));
}

}  // namespace artagent::platform
