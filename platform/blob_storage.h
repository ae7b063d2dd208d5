#pragma once
// BlobStorage: where call recordings, transcripts and logs end up — a local directory by default
// (LocalBlobStorage) or Azure Blob Storage (platform/azure_blob_storage.h). Blobs live in
// containers ("audio-recordings", "transcripts", "logs") under names that may contain '/' as
// virtual folders ("2026-11-24/sess_abc.json").
//
// Threading: a storage runs every operation on the serial Executor given at creation and posts
// each callback there, exactly once, never from inside the call. The blocking forms wait on the
// calling thread and must never be called from that executor. Destroying a storage drops the
// callbacks of operations still in flight.
//
// Errors say what to do: kInvalidArgument for a bad container or blob name (nothing will change
// that), kNotFound for a missing blob or local file, kUnavailable for an upstream that cannot be
// reached or keeps failing (retry later), kUnauthenticated / kPermissionDenied for credentials the
// upstream refuses. Secrets never appear in a Status.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/executor.h"
#include "core/status.h"

namespace artagent::platform {

struct PutBlobRequest {
  std::string container;
  std::string name;
  std::string content_type = "application/octet-stream";
  // The body: `file_path` when set (read as it is uploaded, block by block), else `bytes`.
  std::string bytes;
  std::string file_path;
};

struct BlobInfo {
  std::string name;
  int64_t size = 0;
};

// What /readyz shows for the storage.
struct BlobHealth {
  bool ok = true;
  std::string detail;
};

class BlobStorage {
 public:
  virtual ~BlobStorage() = default;

  // "local data/blobs" or "azure http://127.0.0.1:10000/devstoreaccount1" (never a secret).
  virtual std::string Describe() const = 0;
  // Creates or replaces the blob; readers never see a partial one.
  virtual void Put(PutBlobRequest request, std::function<void(core::Status)> done) = 0;
  // The whole blob. kNotFound when there is none.
  virtual void Get(std::string container, std::string name,
                   std::function<void(core::Result<std::string>)> done) = 0;
  // Blobs of `container` whose names start with `prefix`, by name. A missing container is empty.
  virtual void List(std::string container, std::string prefix,
                    std::function<void(core::Result<std::vector<BlobInfo>>)> done) = 0;
  // Thread-safe snapshot of whether the storage works as far as recent calls tell.
  virtual BlobHealth Health() const = 0;

  core::Status PutBlocking(PutBlobRequest request,
                           std::chrono::milliseconds timeout = std::chrono::minutes(5));
  core::Result<std::string> GetBlocking(
      std::string container, std::string name,
      std::chrono::milliseconds timeout = std::chrono::minutes(1));
  core::Result<std::vector<BlobInfo>> ListBlocking(
      std::string container, std::string prefix,
      std::chrono::milliseconds timeout = std::chrono::minutes(1));
};

// kInvalidArgument unless `name` is 3-63 lower-case letters, digits and single hyphens, starting
// and ending with a letter or digit (Azure's rule, applied to every provider).
core::Status CheckContainerName(std::string_view name);
// kInvalidArgument unless `name` is 1-1024 characters of '/'-separated segments, none empty, "."
// or "..", with no backslash or control character (safe as a relative path and a URL path).
core::Status CheckBlobName(std::string_view name);

// Writes `bytes` to `path` through a temporary file beside it, flushed to disk and renamed over
// `path`, then flushes the directory: the file appears whole or not at all, and survives a crash.
// Parent directories are created.
core::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Blobs as files: DIR/CONTAINER/NAME. A put writes a temporary file beside the target, flushes it
// to disk and renames it over the target (atomic on POSIX file systems). Temporary files start
// with '.' and are never listed.
core::Result<std::unique_ptr<BlobStorage>> CreateLocalBlobStorage(
    std::string dir, std::shared_ptr<core::Executor> executor);

}  // namespace artagent::platform
