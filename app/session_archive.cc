#include "app/session_archive.h"

#include <time.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "app/routes.h"
#include "core/log.h"

namespace artagent::app {

struct SessionArchive::Shared {
  SessionArchiveOptions options;
  platform::Store* store = nullptr;
  std::mutex mu;
  platform::BlobOutbox* outbox = nullptr;  // null once the archive is gone (guarded by mu)
  std::atomic<uint64_t> transcripts{0}, recordings{0}, failures{0};

  void Failed(const std::string& what, const core::Status& st) {
    ++failures;
    core::LogError("archive", "{}: {}", what, st.ToString());
  }
};

std::string UtcDate(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

core::Result<std::unique_ptr<SessionArchive>> SessionArchive::Create(SessionArchiveOptions options,
                                                                     platform::Store* store,
                                                                     platform::BlobOutbox* outbox) {
  if (!outbox) return core::InvalidArgumentError("the session archive needs an outbox");
  std::error_code ec;
  std::filesystem::create_directories(options.recordings_dir, ec);
  if (ec) {
    return core::UnavailableError("cannot create '" + options.recordings_dir +
                                  "' for recordings: " + ec.message());
  }
  std::unique_ptr<SessionArchive> archive(new SessionArchive());
  archive->shared_ = std::make_shared<Shared>();
  archive->shared_->options = std::move(options);
  archive->shared_->store = store;
  archive->shared_->outbox = outbox;
  archive->worker_ = core::SerialThreadExecutor::Create("archive");
  archive->RecoverRecordings();
  return archive;
}

void SessionArchive::RecoverRecordings() {
  // Left by a crash (PATH.part: the header still says 0 bytes) or by a shutdown that came between
  // finishing a recording and queueing it (PATH): queue them now, dated by their last write.
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(shared_->options.recordings_dir, ec)) {
    fs::path path = entry.path();
    const std::string name = path.filename().string();
    if (name.ends_with(".wav.part")) {
      const uintmax_t size = entry.file_size(ec);
      const fs::path done = path.parent_path() / name.substr(0, name.size() - 5);
      if (ec || size < 44 || !session::CallRecorder::FixWavHeader(path.string(), size - 44) ||
          (fs::rename(path, done, ec), ec)) {
        core::LogWarn("archive", "cannot recover the recording {}", path.string());
        continue;
      }
      path = done;
    } else if (!name.ends_with(".wav")) {
      continue;
    }
    const auto written = fs::last_write_time(path, ec);
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::file_clock::to_sys(written).time_since_epoch())
                           .count();
    const std::string blob = UtcDate(ms) + "/" + path.filename().string();
    core::Status st = shared_->outbox->EnqueueFile(shared_->options.recordings_container, blob,
                                                   "audio/wav", path.string());
    if (st.ok()) {
      ++shared_->recordings;
      core::LogInfo("archive", "recovered the recording {}", blob);
    } else {
      shared_->Failed("recovering recording " + blob, st);
    }
  }
}

SessionArchive::~SessionArchive() {
  // Transcripts still queued are exported now: a shutdown right after a call must not lose it.
  worker_->RunSync([] {});
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->outbox = nullptr;
}

std::unique_ptr<session::CallRecorder> SessionArchive::NewRecorder(const std::string& session_id,
                                                                   core::ComputePool* pool,
                                                                   core::TimePoint start) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::string blob = UtcDate(now_ms) + "/" + session_id + ".wav";
  session::CallRecorderOptions o;
  o.path =
      (std::filesystem::path(shared_->options.recordings_dir) / (session_id + ".wav")).string();
  o.max_seconds = shared_->options.recording_max_minutes * 60;
  std::weak_ptr<Shared> weak = shared_;
  o.done = [weak, blob](core::Result<std::string> path) {
    auto shared = weak.lock();
    if (!shared) return;
    if (!path.ok()) return shared->Failed("recording " + blob, path.status());
    std::lock_guard<std::mutex> lock(shared->mu);
    if (!shared->outbox) return;  // shutting down: the file stays in recordings_dir
    core::Status st =
        shared->outbox->EnqueueFile(shared->options.recordings_container, blob, "audio/wav", *path);
    if (!st.ok()) return shared->Failed("queueing recording " + blob, st);
    ++shared->recordings;
  };
  return std::make_unique<session::CallRecorder>(std::move(o), pool, start);
}

void SessionArchive::SessionClosed(const std::string& session_id) {
  if (!shared_->store) return;
  std::shared_ptr<Shared> shared = shared_;
  worker_->Post([shared, session_id] {
    // The session's last writes (its end, the final agent entry) are queued before this: wait for
    // them, so that the archived transcript is the whole conversation.
    if (core::Status st = shared->store->Flush(std::chrono::seconds(30)); !st.ok()) {
      core::LogWarn("archive", "{}: the store is behind ({}); archiving what it has", session_id,
                    st.message());
    }
    auto detail = shared->store->GetSession(session_id);
    if (!detail.ok()) return shared->Failed("transcript of " + session_id, detail.status());
    const std::string blob = UtcDate(detail->session.started_at_ms) + "/" + session_id + ".json";
    const std::string body = SessionDetailJson(*detail).dump();
    std::lock_guard<std::mutex> lock(shared->mu);
    if (!shared->outbox) return;
    core::Status st = shared->outbox->EnqueueBytes(shared->options.transcripts_container, blob,
                                                   "application/json", body);
    if (!st.ok()) return shared->Failed("queueing transcript " + blob, st);
    ++shared->transcripts;
  });
}

uint64_t SessionArchive::transcripts_queued() const { return shared_->transcripts.load(); }
uint64_t SessionArchive::recordings_queued() const { return shared_->recordings.load(); }
uint64_t SessionArchive::failures() const { return shared_->failures.load(); }

}  // namespace artagent::app
