#pragma once
// BlobOutbox: uploads that survive outages and restarts. A recording or transcript is handed over
// as a local file; the outbox keeps it on disk until the BlobStorage has acknowledged the upload,
// retrying with back-off for as long as that takes — across storage outages and process restarts.
//
// Why a directory and not a table in the SQLite store: the payloads are files already. Keeping
// each queue entry beside its file on one file system lets a rename make both durable together
// (no window where the database says "pending" but the file is gone, or the reverse), costs no
// schema migration in a database other modules own, and keeps uploads going when SQLite is the
// thing that is failing (or absent, as in `converse`).
//
// Layout under `dir`: data/ID (the body), items/ID.json (what to upload where; written after
// the body, atomically, so an item never points at a missing or partial body), rejected/ (items
// the storage can never accept: bad names, a body that vanished — kept for a human, not deleted).
// IDs sort by enqueue time, and items are uploaded in that order, one at a time.
//
// An item is deleted only after its upload succeeded. On Open, items left by an earlier process
// are resumed, and bodies without an item (a crash mid-enqueue) are removed.
//
// Threading: Enqueue and the getters may be called from any thread (Enqueue does file I/O on
// the calling thread: call it off the I/O threads). Uploads run on the executor given to Open —
// the storage's executor. The storage and executor must outlive the outbox.
//
// Metrics (when a registry is given): artagent_blob_uploads_total{outcome="ok"|"failed"|
// "rejected"}, artagent_blob_outbox_pending (items not yet uploaded).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/registry.h>

#include "core/executor.h"
#include "core/status.h"
#include "net/retry.h"
#include "platform/blob_storage.h"

namespace artagent::platform {

struct BlobOutboxOptions {
  std::string dir = "data/outbox";
  // Delay between attempts of an item that keeps failing.
  net::BackoffPolicy backoff{std::chrono::seconds(1), std::chrono::minutes(2), 2.0, 0.2};
  prometheus::Registry* registry = nullptr;  // optional
  uint64_t seed = 0;                         // back-off jitter; 0 = random
};

class BlobOutbox {
 public:
  // Creates the directories, locks the outbox (one process per directory), loads pending items
  // and starts uploading them. kUnavailable if the directory cannot be created or read,
  // kFailedPrecondition if another outbox (in this or another process) has it open.
  static core::Result<std::unique_ptr<BlobOutbox>> Open(BlobOutboxOptions options,
                                                        BlobStorage* storage,
                                                        std::shared_ptr<core::Executor> executor);
  // Stops uploading and releases the directory; pending items stay on disk for the next Open.
  ~BlobOutbox();

  // Takes `file` (moved into the outbox: the caller no longer owns it) to be uploaded as
  // container/name. Returns once the item is durable. kInvalidArgument for bad names,
  // kNotFound for a missing file, kUnavailable for disk errors (the file is left where it was).
  core::Status EnqueueFile(const std::string& container, const std::string& name,
                           const std::string& content_type, const std::string& file);
  // The same for a body in memory.
  core::Status EnqueueBytes(const std::string& container, const std::string& name,
                            const std::string& content_type, std::string_view bytes);

  // Items not yet uploaded (the one being uploaded included).
  size_t pending() const;
  uint64_t uploaded() const;
  uint64_t failed_attempts() const;
  uint64_t rejected() const;
  // Waits until nothing is pending; false if `timeout` passed first.
  bool WaitIdle(std::chrono::milliseconds timeout) const;
  // Cuts the current back-off short: the next item is tried now (e.g. when storage is back).
  void RetryNow();

  struct Core;

 private:
  explicit BlobOutbox(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace artagent::platform
