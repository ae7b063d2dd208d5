#include "platform/blob_outbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace artagent::platform {
namespace {

namespace fs = std::filesystem;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

struct Item {
  std::string id;
  std::string container;
  std::string name;
  std::string content_type;
  int64_t enqueued_at_ms = 0;
};

}  // namespace

struct BlobOutbox::Core : std::enable_shared_from_this<BlobOutbox::Core> {
  BlobOutboxOptions options;
  BlobStorage* storage = nullptr;
  std::shared_ptr<core::Executor> executor;
  fs::path items_dir, data_dir, rejected_dir;
  std::mt19937_64 rng;

  // Executor state.
  std::deque<Item> queue;
  bool uploading = false;
  int consecutive_failures = 0;
  std::unique_ptr<core::Timer> retry_timer;

  // Any thread.
  std::atomic<uint64_t> next_seq{0};
  mutable std::mutex mu;
  mutable std::condition_variable idle_cv;
  size_t pending = 0;
  std::atomic<uint64_t> uploaded{0}, failed{0}, rejected{0};

  prometheus::Counter* ok_counter = nullptr;
  prometheus::Counter* failed_counter = nullptr;
  prometheus::Counter* rejected_counter = nullptr;
  prometheus::Gauge* pending_gauge = nullptr;
  int lock_fd = -1;  // flock on DIR/lock: one process per outbox

  ~Core() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  std::string NewItemId() {
    // Sorts by time, then by a per-process sequence; the pid keeps two processes apart.
    return fmt::format("{:013d}-{:06d}-{}", UnixMs(), next_seq++ % 1000000, ::getpid());
  }

  void SetPending(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mu);
      pending = n;
    }
    if (pending_gauge) pending_gauge->Set(static_cast<double>(n));
    idle_cv.notify_all();
  }
  void AddPending(int delta) {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(mu);
      pending = static_cast<size_t>(static_cast<int64_t>(pending) + delta);
      n = pending;
    }
    if (pending_gauge) pending_gauge->Set(static_cast<double>(n));
    idle_cv.notify_all();
  }

  static core::Result<Item> ReadItem(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return core::NotFoundError("cannot read " + path.string());
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j["container"].is_string() || !j["name"].is_string()) {
      return core::InvalidArgumentError("malformed outbox item " + path.string());
    }
    Item item;
    item.id = path.stem().string();
    item.container = j["container"];
    item.name = j["name"];
    item.content_type = j.value("content_type", "application/octet-stream");
    item.enqueued_at_ms = j.value("enqueued_at_ms", int64_t{0});
    return item;
  }

  core::Status Commit(const Item& item) {
    nlohmann::json j = {{"container", item.container},
                        {"name", item.name},
                        {"content_type", item.content_type},
                        {"enqueued_at_ms", item.enqueued_at_ms}};
    return WriteFileAtomically((items_dir / (item.id + ".json")).string(), j.dump());
  }

  // Executor: a new item is waiting.
  void Add(Item item) {
    queue.push_back(std::move(item));
    Drain();
  }

  void Drain() {
    if (uploading || retry_timer || queue.empty()) return;
    uploading = true;
    const Item item = queue.front();
    PutBlobRequest request;
    request.container = item.container;
    request.name = item.name;
    request.content_type = item.content_type;
    request.file_path = (data_dir / item.id).string();
    std::weak_ptr<Core> weak = weak_from_this();
    storage->Put(std::move(request), [weak, item](core::Status st) {
      if (auto self = weak.lock()) self->Done(item, st);
    });
  }

  void Done(const Item& item, const core::Status& st) {
    uploading = false;
    std::error_code ec;
    const fs::path data = data_dir / item.id;
    const fs::path manifest = items_dir / (item.id + ".json");
    if (st.ok()) {
      fs::remove(manifest, ec);  // the item first: a body without an item is cleaned up on Open
      SyncDir(items_dir);
      fs::remove(data, ec);
      queue.pop_front();
      consecutive_failures = 0;
      ++uploaded;
      if (ok_counter) ok_counter->Increment();
      AddPending(-1);
      core::LogInfo("blob", "uploaded {}/{} ({} ms after it was queued)", item.container, item.name,
                    UnixMs() - item.enqueued_at_ms);
      Drain();
      return;
    }
    const bool body_gone = !fs::exists(data, ec);
    if (st.code() == core::StatusCode::kInvalidArgument || body_gone) {
      // Retrying cannot help: set the item aside for a human rather than deleting it.
      fs::create_directories(rejected_dir, ec);
      fs::rename(manifest, rejected_dir / manifest.filename(), ec);
      if (!body_gone) fs::rename(data, rejected_dir / item.id, ec);
      queue.pop_front();
      ++rejected;
      if (rejected_counter) rejected_counter->Increment();
      AddPending(-1);
      core::LogError("blob", "upload of {}/{} rejected, kept in {}: {}", item.container, item.name,
                     rejected_dir.string(), body_gone ? "its body is missing" : st.message());
      Drain();
      return;
    }
    ++failed;
    if (failed_counter) failed_counter->Increment();
    const core::Duration delay = net::BackoffDelay(options.backoff, consecutive_failures++, rng);
    core::LogWarn("blob", "upload of {}/{} failed ({} pending), retrying in {} ms: {}",
                  item.container, item.name, queue.size(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                  st.message());
    std::weak_ptr<Core> weak = weak_from_this();
    retry_timer = executor->RunAfter(delay, [weak] {
      if (auto self = weak.lock()) {
        self->retry_timer.reset();
        self->Drain();
      }
    });
  }
};

BlobOutbox::BlobOutbox(std::shared_ptr<Core> core) : core_(std::move(core)) {}

BlobOutbox::~BlobOutbox() {
  // The timer and the upload callbacks belong to the executor: release the state there.
  auto core = std::move(core_);
  // The lock goes now: a later Open of the directory must not depend on when the executor runs.
  if (core->lock_fd >= 0) ::close(std::exchange(core->lock_fd, -1));
  core->executor->Post([core] { core->retry_timer.reset(); });
}

core::Result<std::unique_ptr<BlobOutbox>> BlobOutbox::Open(
    BlobOutboxOptions options, BlobStorage* storage, std::shared_ptr<core::Executor> executor) {
  if (!storage || !executor) {
    return core::InvalidArgumentError("the blob outbox needs a storage and an executor");
  }
  auto core = std::make_shared<Core>();
  core->options = std::move(options);
  core->storage = storage;
  core->executor = std::move(executor);
  const fs::path dir(core->options.dir);
  core->items_dir = dir / "items";
  core->data_dir = dir / "data";
  core->rejected_dir = dir / "rejected";
  core->rng.seed(core->options.seed != 0 ? core->options.seed : std::random_device{}());
  std::error_code ec;
  fs::create_directories(core->items_dir, ec);
  if (!ec) fs::create_directories(core->data_dir, ec);
  if (ec) {
    return core::UnavailableError("cannot create the outbox directory '" + dir.string() +
                                  "': " + ec.message() + " (storage.outbox_dir)");
  }
  // Two processes draining one outbox would upload items twice and race on their files.
  core->lock_fd = ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (core->lock_fd < 0 || ::flock(core->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return core::FailedPreconditionError(
        "the outbox '" + dir.string() +
        "' is in use by another artagent; give this one its own storage.outbox_dir");
  }
  if (prometheus::Registry* registry = core->options.registry) {
    auto& uploads = prometheus::BuildCounter()
                        .Name("artagent_blob_uploads_total")
                        .Help("Blob uploads from the outbox, by outcome (ok, failed, rejected)")
                        .Register(*registry);
    core->ok_counter = &uploads.Add({{"outcome", "ok"}});
    core->failed_counter = &uploads.Add({{"outcome", "failed"}});
    core->rejected_counter = &uploads.Add({{"outcome", "rejected"}});
    core->pending_gauge = &prometheus::BuildGauge()
                               .Name("artagent_blob_outbox_pending")
                               .Help("Uploads waiting in the outbox (survive restarts)")
                               .Register(*registry)
                               .Add({});
  }

  // Items of earlier processes, oldest first; bodies nobody points at are leftovers.
  std::vector<Item> items;
  std::set<std::string> ids;
  for (const auto& entry : fs::directory_iterator(core->items_dir, ec)) {
    const fs::path& path = entry.path();
    if (path.extension() != ".json" || path.filename().string().starts_with(".")) continue;
    auto item = Core::ReadItem(path);
    if (!item.ok()) {
      core::LogError("blob", "{}: skipped", item.status().message());
      continue;
    }
    ids.insert(item->id);
    items.push_back(std::move(item).value());
  }
  if (ec)
    return core::UnavailableError("cannot read '" + core->items_dir.string() +
                                  "': " + ec.message());
  for (const auto& entry : fs::directory_iterator(core->data_dir, ec)) {
    if (!ids.count(entry.path().filename().string())) fs::remove(entry.path(), ec);
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  if (!items.empty()) {
    core::LogInfo("blob", "resuming {} upload(s) left in {}", items.size(), dir.string());
  }
  core->SetPending(items.size());
  std::weak_ptr<Core> weak = core;
  core->executor->Post([weak, items = std::move(items)]() mutable {
    auto self = weak.lock();
    if (!self) return;
    for (Item& item : items) self->queue.push_back(std::move(item));
    self->Drain();
  });
  return std::unique_ptr<BlobOutbox>(new BlobOutbox(std::move(core)));
}

core::Status BlobOutbox::EnqueueFile(const std::string& container, const std::string& name,
                                     const std::string& content_type, const std::string& file) {
  ARTAGENT_RETURN_IF_ERROR(CheckContainerName(container));
  ARTAGENT_RETURN_IF_ERROR(CheckBlobName(name));
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return core::NotFoundError("no file '" + file + "' to upload");
  Item item{core_->NewItemId(), container, name, content_type, UnixMs()};
  const fs::path data = core_->data_dir / item.id;
  fs::rename(file, data, ec);
  if (ec) {
    // Another file system: copy, flush, then remove the original.
    ec.clear();
    fs::copy_file(file, data, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return core::UnavailableError("cannot copy '" + file + "' into the outbox: " + ec.message());
    }
    int fd = ::open(data.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::remove(file, ec);
  }
  SyncDir(core_->data_dir);
  if (core::Status st = core_->Commit(item); !st.ok()) {
    fs::rename(data, file, ec);
    return st;
  }
  core_->AddPending(1);
  std::weak_ptr<Core> weak = core_;
  core_->executor->Post([weak, item]() mutable {
    if (auto self = weak.lock()) self->Add(std::move(item));
  });
  return core::OkStatus();
}

core::Status BlobOutbox::EnqueueBytes(const std::string& container, const std::string& name,
                                      const std::string& content_type, std::string_view bytes) {
  ARTAGENT_RETURN_IF_ERROR(CheckContainerName(container));
  ARTAGENT_RETURN_IF_ERROR(CheckBlobName(name));
  Item item{core_->NewItemId(), container, name, content_type, UnixMs()};
  ARTAGENT_RETURN_IF_ERROR(WriteFileAtomically((core_->data_dir / item.id).string(), bytes));
  if (core::Status st = core_->Commit(item); !st.ok()) {
    std::error_code ec;
    fs::remove(core_->data_dir / item.id, ec);
    return st;
  }
  core_->AddPending(1);
  std::weak_ptr<Core> weak = core_;
  core_->executor->Post([weak, item]() mutable {
    if (auto self = weak.lock()) self->Add(std::move(item));
  });
  return core::OkStatus();
}

size_t BlobOutbox::pending() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->pending;
}
uint64_t BlobOutbox::uploaded() const { return core_->uploaded.load(); }
uint64_t BlobOutbox::failed_attempts() const { return core_->failed.load(); }
uint64_t BlobOutbox::rejected() const { return core_->rejected.load(); }

bool BlobOutbox::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(core_->mu);
  return core_->idle_cv.wait_for(lock, timeout, [&] { return core_->pending == 0; });
}

void BlobOutbox::RetryNow() {
  std::weak_ptr<Core> weak = core_;
  core_->executor->Post([weak] {
    auto self = weak.lock();
    if (!self || !self->retry_timer) return;
    self->retry_timer.reset();
    self->Drain();
  });
}

}  // namespace artagent::platform
