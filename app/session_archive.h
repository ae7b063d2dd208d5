#pragma once
// SessionArchive: what is kept of a session once it ends, in blob storage — its transcript
// (TRANSCRIPTS/<date>/<session id>.json: the body of GET /api/v1/sessions/{id}, from the store)
// and, when the call was recorded, its audio (RECORDINGS/<date>/<session id>.wav: 16 kHz stereo,
// caller left, agent right). <date> is the session's start day (UTC, YYYY-MM-DD). Both go through
// the BlobOutbox, so a storage outage or a restart delays them but never loses them.
//
// Threading: NewRecorder and SessionClosed are called on session strands and only queue work.
// Transcripts are exported on the archive's own thread (it waits for the store to commit the
// session's end first); recordings are finished on the compute pool. Destroying the archive
// exports what is still queued first; the store and outbox must outlive it. Create() queues the
// recordings an earlier process left in recordings_dir (a crash mid-call, a shutdown).

#include <cstdint>
#include <memory>
#include <string>

#include "core/executor.h"
#include "core/serial_thread_executor.h"
#include "platform/blob_outbox.h"
#include "platform/store.h"
#include "session/call_recorder.h"

namespace artagent::app {

struct SessionArchiveOptions {
  std::string transcripts_container = "transcripts";
  std::string recordings_container = "audio-recordings";
  // Where recordings are written while the call runs (then moved into the outbox).
  std::string recordings_dir = "data/outbox/recording";
  int recording_max_minutes = 120;
};

// "2026-11-24" for a unix time in milliseconds (UTC).
std::string UtcDate(int64_t unix_ms);

class SessionArchive {
 public:
  // `store` may be null (no transcripts then). kUnavailable if recordings_dir cannot be created.
  static core::Result<std::unique_ptr<SessionArchive>> Create(SessionArchiveOptions options,
                                                              platform::Store* store,
                                                              platform::BlobOutbox* outbox);
  ~SessionArchive();

  // A recorder for the session `session_id` starting now (`start` on the session's clock);
  // its WAV is queued for upload when it is finished.
  std::unique_ptr<session::CallRecorder> NewRecorder(const std::string& session_id,
                                                     core::ComputePool* pool,
                                                     core::TimePoint start);
  // The session ended: its transcript is exported and queued for upload.
  void SessionClosed(const std::string& session_id);

  // Recordings and transcripts queued for upload so far, and exports that failed.
  uint64_t transcripts_queued() const;
  uint64_t recordings_queued() const;
  uint64_t failures() const;

  struct Shared;

 private:
  SessionArchive() = default;
  void RecoverRecordings();
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<core::SerialThreadExecutor> worker_;
};

}  // namespace artagent::app
