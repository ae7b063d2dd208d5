#include "platform/blob_outbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/serial_thread_executor.h"

namespace artagent::platform {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("artagent-outbox-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A local storage that can be switched off: while down every put fails as an outage would.
class SwitchableStorage final : public BlobStorage {
 public:
  SwitchableStorage(std::unique_ptr<BlobStorage> inner, std::shared_ptr<core::Executor> executor)
      : inner_(std::move(inner)), executor_(std::move(executor)) {}
  std::atomic<bool> down{false};
  std::atomic<int> attempts{0};

  std::string Describe() const override { return inner_->Describe(); }
  void Put(PutBlobRequest request, std::function<void(core::Status)> done) override {
    ++attempts;
    if (down) {
      executor_->Post([done] { done(core::UnavailableError("storage is down")); });
      return;
    }
    inner_->Put(std::move(request), std::move(done));
  }
  void Get(std::string c, std::string n,
           std::function<void(core::Result<std::string>)> done) override {
    inner_->Get(std::move(c), std::move(n), std::move(done));
  }
  void List(std::string c, std::string p,
            std::function<void(core::Result<std::vector<BlobInfo>>)> done) override {
    inner_->List(std::move(c), std::move(p), std::move(done));
  }
  BlobHealth Health() const override { return {!down, "test"}; }

 private:
  std::unique_ptr<BlobStorage> inner_;
  std::shared_ptr<core::Executor> executor_;
};

class BlobOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    executor_ = core::SerialThreadExecutor::Create("outbox-test");
    storage_ = std::make_unique<SwitchableStorage>(
        CreateLocalBlobStorage((root_ / "blobs").string(), executor_).value(), executor_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<BlobOutbox> Open(prometheus::Registry* registry = nullptr) {
    BlobOutboxOptions o;
    o.dir = (root_ / "outbox").string();
    o.backoff = {std::chrono::milliseconds(1), std::chrono::milliseconds(20), 2.0, 0.0};
    o.registry = registry;
    o.seed = 3;
    return BlobOutbox::Open(o, storage_.get(), executor_).value();
  }

  size_t FilesIn(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
      ++n;
    return n;
  }

  fs::path root_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  std::unique_ptr<SwitchableStorage> storage_;
};

TEST_F(BlobOutboxTest, UploadsFilesAndBytesThenForgetsThem) {
  prometheus::Registry registry;
  auto outbox = Open(&registry);
  const fs::path file = root_ / "rec.wav";
  std::ofstream(file, std::ios::binary) << "RIFF-data";
  ASSERT_TRUE(outbox->EnqueueFile("audio-recordings", "d/s1.wav", "audio/wav", file.string()).ok());
  EXPECT_FALSE(fs::exists(file));  // moved into the outbox
  ASSERT_TRUE(outbox->EnqueueBytes("transcripts", "d/s1.json", "application/json", "{}").ok());
  ASSERT_TRUE(outbox->WaitIdle(std::chrono::seconds(30)));
  EXPECT_EQ(outbox->uploaded(), 2u);
  EXPECT_EQ(storage_->GetBlocking("audio-recordings", "d/s1.wav").value(), "RIFF-data");
  EXPECT_EQ(storage_->GetBlocking("transcripts", "d/s1.json").value(), "{}");
  EXPECT_EQ(FilesIn(root_ / "outbox" / "items"), 0u);
  EXPECT_EQ(FilesIn(root_ / "outbox" / "data"), 0u);
  bool found = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "artagent_blob_uploads_total") continue;
    for (const auto& m : family.metric) {
      if (m.label[0].value == "ok") {
        EXPECT_EQ(m.counter.value, 2);
        found = true;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(BlobOutboxTest, PendingItemsSurviveAnOutageAndAReopen) {
  storage_->down = true;
  {
    auto outbox = Open();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(outbox
                      ->EnqueueBytes("transcripts", "d/" + std::to_string(i) + ".json",
                                     "application/json", "body " + std::to_string(i))
                      .ok());
    }
    EXPECT_EQ(outbox->pending(), 3u);
    // It keeps trying (and failing) while the storage is down.
    while (outbox->failed_attempts() < 3) std::this_thread::yield();
    EXPECT_EQ(outbox->uploaded(), 0u);
    EXPECT_EQ(outbox->pending(), 3u);
  }                           // the process "stops"
  executor_->RunSync([] {});  // the outbox's state is released on its executor
  EXPECT_EQ(FilesIn(root_ / "outbox" / "items"), 3u);
  // A body whose item was never written (crash mid-enqueue) is cleaned up on reopen.
  std::ofstream(root_ / "outbox" / "data" / "orphan") << "x";

  storage_->down = false;
  auto reopened = Open();
  ASSERT_TRUE(reopened->WaitIdle(std::chrono::seconds(30)));
  EXPECT_EQ(reopened->uploaded(), 3u);
  auto listed = storage_->ListBlocking("transcripts", "d/").value();
  ASSERT_EQ(listed.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(storage_->GetBlocking("transcripts", "d/" + std::to_string(i) + ".json").value(),
              "body " + std::to_string(i));
  }
  EXPECT_EQ(FilesIn(root_ / "outbox" / "data"), 0u);
}

TEST_F(BlobOutboxTest, ItemWhoseBodyVanishedIsSetAsideNotRetriedForever) {
  storage_->down = true;
  auto outbox = Open();
  ASSERT_TRUE(outbox->EnqueueBytes("logs", "a.txt", "text/plain", "a").ok());
  while (outbox->failed_attempts() < 1) std::this_thread::yield();
  for (const auto& entry : fs::directory_iterator(root_ / "outbox" / "data")) {
    fs::remove(entry.path());
  }
  storage_->down = false;
  ASSERT_TRUE(outbox->EnqueueBytes("logs", "b.txt", "text/plain", "b").ok());
  ASSERT_TRUE(outbox->WaitIdle(std::chrono::seconds(30)));
  EXPECT_EQ(outbox->rejected(), 1u);
  EXPECT_EQ(outbox->uploaded(), 1u);
  EXPECT_EQ(FilesIn(root_ / "outbox" / "rejected"), 1u);
  EXPECT_EQ(storage_->GetBlocking("logs", "b.txt").value(), "b");
}

TEST_F(BlobOutboxTest, OneOutboxPerDirectory) {
  auto outbox = Open();
  BlobOutboxOptions o;
  o.dir = (root_ / "outbox").string();
  auto second = BlobOutbox::Open(o, storage_.get(), executor_);
  EXPECT_EQ(second.status().code(), core::StatusCode::kFailedPrecondition);
  outbox.reset();
  executor_->RunSync([] {});  // the first one's state is released on the executor
  EXPECT_TRUE(BlobOutbox::Open(o, storage_.get(), executor_).ok());
}

TEST_F(BlobOutboxTest, RefusesBadNamesAndMissingFiles) {
  auto outbox = Open();
  EXPECT_EQ(outbox->EnqueueBytes("Bad_Container", "a", "", "x").code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->EnqueueBytes("logs", "../a", "", "x").code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->EnqueueFile("logs", "a", "", (root_ / "missing").string()).code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(outbox->pending(), 0u);
}

}  // namespace
}  // namespace artagent::platform
