#pragma once
// Store: the conversation record (sessions, their transcripts and their slots) in SQLite.
//
// Writes never block the caller and never run SQLite on the caller's thread: CreateSession,
// EndSession, Append and SetSlot put the write on a bounded queue that the store's own writer
// thread drains, committing everything queued at that moment (up to StoreOptions::max_batch writes)
// in one transaction (group commit). Once committed, a write survives a crash of the process.
// Flush() waits until every write queued before it is committed.
//
// Failures: while SQLite fails (disk full, database locked by another program, I/O error) the
// writer keeps the writes queued and retries with exponential back-off; an accepted write is
// never dropped while the store is open. Each failure is reported through the write observer.
// When the queue is full (StoreOptions::max_pending_writes, counting the batch being written)
// new writes are refused: they are counted in dropped_writes() and reported through the observer
// as kResourceExhausted — loud, never silent. Blocking the caller instead would stall an I/O
// thread; the bound (100k writes by default, minutes of traffic) is only reached when the disk
// has failed for a long time.
//
// Acknowledged: a write is acknowledged once it is committed (it then survives a crash of the
// process; see Open() for what a crash leaves). OnCommitted() tells a caller when everything it
// wrote so far is acknowledged. The session engine uses it so that a turn's end is only announced
// after the turn is on disk: the Realtime `response.done` of a turn (and every event after it) is
// sent once the turn's transcript entries - the caller's line, its tool calls and hand-offs, the
// agent's reply - are committed. That wait is one group commit (milliseconds) and begins after the
// reply's last audio frame went out, so first-audio latency is untouched. While SQLite fails the
// wait is bounded (store.ack_timeout_ms): then response.done goes out unacknowledged (counted in
// artagent_provider_errors_total{provider="store",kind="ack_timeout"}) and the entries stay
// queued and retried as above.
// So: every turn whose response.done a client received within store.ack_timeout_ms of the reply's
// end is in the store, whatever happens to the process afterwards.
//
// Reads use their own connection (in WAL mode readers and the writer do not block each other)
// and see committed writes only: Flush() first to read your own writes.
//
// One Store per database file: Open() takes an exclusive lock on "PATH-lock" and fails if
// another process (or Store) holds it. On Open(), sessions still "active" were left by a process
// that crashed: their status becomes "crashed", ended_at_ms the time of their last transcript
// entry (or their start), and their transcript is kept.
//
// All methods are thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::platform {

struct SessionRecord {
  std::string id;
  std::string transport;  // "realtime" | "acs" | "converse"
  std::string scenario;
  std::string agent;          // the agent the session started with
  std::string remote;         // peer address or caller id
  std::string status;         // "active" | "ended" | "vanished" | "failed" | "crashed"
  int64_t started_at_ms = 0;  // unix time
  int64_t ended_at_ms = 0;    // unix time; 0 while active
};

// One line of the conversation record. `role` says what it is:
//   "user"    the caller (text recognised or typed; `dtmf` when typed on the keypad)
//   "agent"   the agent's reply (`metrics_json`: per-turn latency object)
//   "system"  a note of the session itself
//   "tool"    a tool call. data_json: {"call_id", "name", "arguments", "output", "status",
//             "duration_ms"}; appended with status "running" when the call starts and replaced
//             (same item_id) when it ends
//   "handoff" the conversation passed to another agent. data_json: {"from", "to", "type",
//             "share_context", "reason"}
// The store keeps metrics_json and data_json as given (JSON text) and never parses them.
struct TranscriptEntry {
  std::string session_id;
  int64_t seq = 0;  // order within the session, assigned by the caller
  // Conversation item id; an Append with the same (session_id, item_id) replaces the entry (the
  // agent's text shrinks to what was heard when the caller barges in; a tool call gets its
  // output). "" = never replaced.
  std::string item_id;
  std::string role;  // "user" | "agent" | "system" | "tool" | "handoff"
  std::string text;
  bool interrupted = false;
  int64_t at_ms = 0;                // unix time
  std::string metrics_json = "{}";  // per-turn latency object on agent entries
  std::string agent;                // who spoke or acted: the agent's name; "" for the caller
  bool dtmf = false;                // user entry typed on the keypad
  std::string data_json = "{}";     // what a tool or handoff entry carries (see above)
};

// A typed value the agent collected during a session (its memory), one per (session_id, name).
struct SlotRecord {
  std::string session_id;
  std::string name;
  std::string type;                 // the slot's declared type ("string", "date", ...)
  std::string value_json = "null";  // JSON text, kept as given
  std::string agent;                // the agent that set it
  int64_t updated_at_ms = 0;        // unix time
};

struct SessionDetail {
  SessionRecord session;
  std::vector<TranscriptEntry> transcript;  // by seq, then by first insertion
  std::vector<SlotRecord> slots;            // by name
};

struct StoreOptions {
  // Writes accepted but not yet committed before new ones are refused.
  size_t max_pending_writes = 100000;
  // Writes committed in one transaction at most.
  size_t max_batch = 512;
  // How long SQLite waits for a lock held by another connection before reporting it busy.
  std::chrono::milliseconds busy_timeout{5000};
  // Longest delay between two attempts of a failing batch.
  std::chrono::milliseconds max_retry_delay{2000};
  // How long the destructor keeps retrying failed writes before giving up on them (reported).
  std::chrono::milliseconds close_timeout{10000};
};

class Store {
 public:
  // Opens or creates the database at `path` (parent directories are created) and migrates its
  // schema (a database written by an older artagent is upgraded in place and keeps its data).
  // ":memory:" is refused (nothing would survive). kFailedPrecondition if the file is in use or was
  // written by a newer artagent; kUnavailable if it cannot be opened.
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                                   const StoreOptions& options = {});

  // Commits what is queued (for up to close_timeout if SQLite fails), then closes.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Queued writes. CreateSession on an existing id updates it.
  void CreateSession(SessionRecord session);
  void EndSession(std::string id, std::string status, int64_t ended_at_ms);
  void Append(TranscriptEntry entry);
  // Sets a slot: replaces the slot of the same (session_id, name) if there is one. While an
  // earlier value is still queued the newer one takes its place (one write, not two).
  void SetSlot(SlotRecord slot);

  // Waits until every write queued before the call is committed. kDeadlineExceeded (naming the
  // last SQLite error) if that takes longer than `timeout`.
  core::Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Newest first (by started_at_ms). limit 1..1000, offset >= 0, else kInvalidArgument.
  core::Result<std::vector<SessionRecord>> ListSessions(int limit, int offset);
  // kNotFound if there is no such session.
  core::Result<SessionDetail> GetSession(const std::string& id);

  // Calls `done` once every write accepted before this call is committed (acknowledged), or has
  // been rejected for good or given up at close (both reported through the write observer).
  // Called on the writer thread without the store's locks held, or at once on the caller's thread
  // if nothing is pending. It must be quick and must not call back into the store's writes. A
  // Flush() that returns OK returns after the callbacks of the writes it waited for have run.
  void OnCommitted(std::function<void()> done);

  // Writes accepted and not yet committed.
  size_t pending_writes() const;
  // OK while writes commit; the last error while a batch is failing and being retried (disk
  // full, database locked, I/O error). For readiness checks.
  core::Status write_health() const;
  // Writes refused because the queue was full, since Open().
  uint64_t dropped_writes() const;

  // Called with each write error: a failed batch attempt (retried), a refused write (queue full)
  // or a write SQLite rejects for good (e.g. EndSession of an unknown id). Called on the writer
  // thread, or on the caller's thread for a refused write, without the store's locks held; it
  // must be quick and must not call back into the store's writes.
  void SetWriteObserver(std::function<void(const core::Status&)> observer);

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artagent::platform
