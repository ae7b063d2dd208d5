#include "app/session_archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "audio/wav.h"
#include "core/thread_pool.h"

namespace artagent::app {
namespace {

namespace fs = std::filesystem;

class SessionArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("artagent-archive-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    executor_ = core::SerialThreadExecutor::Create("archive-test");
    storage_ = platform::CreateLocalBlobStorage((root_ / "blobs").string(), executor_).value();
    platform::BlobOutboxOptions o;
    o.dir = (root_ / "outbox").string();
    outbox_ = platform::BlobOutbox::Open(o, storage_.get(), executor_).value();
    store_ = platform::Store::Open((root_ / "store.db").string()).value();
    options_.recordings_dir = (root_ / "outbox" / "recording").string();
  }
  void TearDown() override {
    outbox_.reset();
    executor_->RunSync([] {});
    fs::remove_all(root_);
  }

  fs::path root_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  std::unique_ptr<platform::BlobStorage> storage_;
  std::unique_ptr<platform::BlobOutbox> outbox_;
  std::unique_ptr<platform::Store> store_;
  SessionArchiveOptions options_;
};

TEST(UtcDateTest, FormatsTheUtcDay) {
  EXPECT_EQ(UtcDate(0), "1970-01-01");
  EXPECT_EQ(UtcDate(1704164645000), "2024-01-02");  // 2024-01-02T03:04:05Z
}

TEST_F(SessionArchiveTest, TranscriptAndRecordingOfAnEndedSessionAreUploaded) {
  auto archive = SessionArchive::Create(options_, store_.get(), outbox_.get()).value();
  const int64_t started = 1704164645000;
  store_->CreateSession({"sess_1", "realtime", "insurance", "auth", "127.0.0.1", "active",
                         started, 0});
  platform::TranscriptEntry user;
  user.session_id = "sess_1";
  user.seq = 0;
  user.role = "user";
  user.text = "i want to file a claim";
  user.at_ms = started + 1000;
  store_->Append(user);
  platform::TranscriptEntry tool;
  tool.session_id = "sess_1";
  tool.seq = 1;
  tool.role = "tool";
  tool.agent = "claims";
  tool.at_ms = started + 2000;
  tool.data_json = R"({"name":"file_claim","status":"completed"})";
  store_->Append(tool);
  store_->EndSession("sess_1", "ended", started + 3000);

  core::ThreadPool pool(1, 16, "archive-pool");
  const core::TimePoint t0 = core::Clock::now();
  auto recorder = archive->NewRecorder("sess_1", &pool, t0);
  audio::Samples caller(320, 1000), agent(480, -1000);
  for (int i = 0; i < 50; ++i) {
    recorder->AddCaller(caller, t0 + std::chrono::milliseconds(20 * i));
    recorder->AddAgent(agent, 24000, t0 + std::chrono::milliseconds(20 * i));
  }
  recorder->Finish();
  archive->SessionClosed("sess_1");
  // The recording is finished on the pool and queued while the archive is alive (a recording that
  // finishes after the archive is gone stays on disk as a .part and is queued at the next start).
  pool.Shutdown();
  archive.reset();  // exports what is queued
  ASSERT_TRUE(outbox_->WaitIdle(std::chrono::seconds(30)));

  auto transcripts = storage_->ListBlocking("transcripts", "").value();
  ASSERT_EQ(transcripts.size(), 1u);
  EXPECT_EQ(transcripts[0].name, "2024-01-02/sess_1.json");
  auto body = nlohmann::json::parse(storage_->GetBlocking("transcripts", transcripts[0].name).value());
  EXPECT_EQ(body["id"], "sess_1");
  EXPECT_EQ(body["status"], "ended");
  ASSERT_EQ(body["transcript"].size(), 2u);
  EXPECT_EQ(body["transcript"][0]["role"], "user");
  EXPECT_EQ(body["tool_calls"][0]["tool"]["name"], "file_claim");
  EXPECT_EQ(body["tool_calls"][0]["agent"], "claims");

  auto recordings = storage_->ListBlocking("audio-recordings", "").value();
  ASSERT_EQ(recordings.size(), 1u);
  EXPECT_TRUE(recordings[0].name.ends_with("/sess_1.wav"));
  const std::string wav = storage_->GetBlocking("audio-recordings", recordings[0].name).value();
  auto parsed = audio::ParseWav(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wav.data()), wav.size()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->channels, 2);
  EXPECT_NEAR(static_cast<double>(parsed->samples.size() / 2), 50 * 320, 2);
}

TEST_F(SessionArchiveTest, RecordingsLeftByAnEarlierProcessAreQueuedOnStart) {
  fs::create_directories(options_.recordings_dir);
  audio::WavAudio audio;
  audio.channels = 2;
  audio.samples.assign(3200, 7);
  std::vector<uint8_t> bytes = audio::EncodeWav(audio);
  bytes[40] = bytes[41] = bytes[42] = bytes[43] = 0;  // a crash: the header was never fixed
  {
    std::ofstream out(fs::path(options_.recordings_dir) / "sess_crashed.wav.part",
                      std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ASSERT_TRUE(audio::WriteWavFile((fs::path(options_.recordings_dir) / "sess_done.wav").string(),
                                  audio)
                  .ok());
  auto archive = SessionArchive::Create(options_, store_.get(), outbox_.get()).value();
  EXPECT_EQ(archive->recordings_queued(), 2u);
  ASSERT_TRUE(outbox_->WaitIdle(std::chrono::seconds(30)));
  auto recordings = storage_->ListBlocking("audio-recordings", "").value();
  ASSERT_EQ(recordings.size(), 2u);
  for (const auto& r : recordings) {
    const std::string wav = storage_->GetBlocking("audio-recordings", r.name).value();
    auto parsed = audio::ParseWav(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wav.data()), wav.size()));
    ASSERT_TRUE(parsed.ok()) << r.name;
    EXPECT_EQ(parsed->samples.size(), 3200u) << r.name;
  }
  EXPECT_TRUE(fs::is_empty(options_.recordings_dir));
}

}  // namespace
}  // namespace artagent::app
