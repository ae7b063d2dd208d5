#include "session/call_recorder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "audio/wav.h"
#include "core/fake_executor.h"

namespace artagent::session {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kRate = CallRecorder::kSampleRate;

class CallRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("artagent-rec-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    start_ = pool_.Now();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CallRecorder> Make(int max_seconds = 3600) {
    CallRecorderOptions o;
    o.path = (dir_ / "call.wav").string();
    o.max_seconds = max_seconds;
    o.done = [this](core::Result<std::string> r) { result_ = std::move(r); };
    return std::make_unique<CallRecorder>(o, &pool_, start_);
  }

  core::TimePoint At(int ms) const { return start_ + milliseconds(ms); }

  // Ramp samples, distinct per channel, so that positions can be checked exactly.
  static audio::Samples Ramp(size_t n, int16_t first) {
    audio::Samples s(n);
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<int16_t>(first + static_cast<int>(i % 1000));
    return s;
  }

  audio::WavAudio Finish(CallRecorder& rec) {
    rec.Finish();
    pool_.RunPending();
    EXPECT_TRUE(result_.has_value());
    EXPECT_TRUE(result_->ok()) << result_->status().ToString();
    EXPECT_FALSE(fs::exists(dir_ / "call.wav.part"));
    auto wav = audio::ReadWavFile((dir_ / "call.wav").string());
    EXPECT_TRUE(wav.ok()) << wav.status().ToString();
    return wav.ok() ? *wav : audio::WavAudio{};
  }

  static int16_t Left(const audio::WavAudio& w, size_t frame) { return w.samples[frame * 2]; }
  static int16_t Right(const audio::WavAudio& w, size_t frame) { return w.samples[frame * 2 + 1]; }

  core::FakeExecutor pool_;
  fs::path dir_;
  core::TimePoint start_;
  std::optional<core::Result<std::string>> result_;
};

TEST_F(CallRecorderTest, CallerLeftAgentRightOnOneTimeline) {
  auto rec = Make();
  const audio::Samples caller = Ramp(320, 1000);
  const audio::Samples agent = Ramp(320, -2000);
  // 1.5 s of caller audio in 20 ms frames, arriving in real time; the agent speaks 0.5 s from
  // t = 0.5 s, sent in 20 ms frames.
  for (int i = 0; i < 75; ++i) {
    rec->AddCaller(caller, At(i * 20));
    if (i >= 25 && i < 50) rec->AddAgent(agent, kRate, At(i * 20));
  }

  audio::WavAudio wav = Finish(*rec);
  EXPECT_EQ(wav.sample_rate, kRate);
  ASSERT_EQ(wav.channels, 2);
  ASSERT_EQ(wav.samples.size(), static_cast<size_t>(75 * 320 * 2));
  for (size_t f = 0; f < 75 * 320; ++f) {
    ASSERT_EQ(Left(wav, f), caller[f % 320]) << f;
  }
  for (size_t f = 0; f < 8000; ++f) ASSERT_EQ(Right(wav, f), 0) << f;
  for (size_t f = 8000; f < 16000; ++f) ASSERT_EQ(Right(wav, f), agent[(f - 8000) % 320]) << f;
  for (size_t f = 16000; f < 75 * 320; ++f) ASSERT_EQ(Right(wav, f), 0) << f;
}

TEST_F(CallRecorderTest, AgentSilenceBetweenRepliesAndTheStopOfABargeIn) {
  auto rec = Make();
  const audio::Samples agent = Ramp(480, 100);  // 20 ms at 24 kHz
  // Sent ahead of real time (the output lead): frames stay back to back.
  for (int i = 0; i < 10; ++i) rec->AddAgent(agent, 24000, At(i * 10));
  // Cut off (barge-in): nothing more until a new reply 2 s later.
  for (int i = 0; i < 5; ++i) rec->AddAgent(agent, 24000, At(2000 + i * 20));
  audio::WavAudio wav = Finish(*rec);
  const size_t frames = wav.samples.size() / 2;
  EXPECT_NEAR(static_cast<double>(frames), 2000 * 16 + 5 * 320, 2);
  auto energy = [&](size_t from, size_t to) {
    int64_t sum = 0;
    for (size_t f = from; f < to; ++f) sum += std::abs(Right(wav, f));
    return sum;
  };
  EXPECT_GT(energy(0, 3200), 0);        // the first reply: 200 ms
  EXPECT_EQ(energy(3300, 32000), 0);    // silence after the cut (resampler tail aside)
  EXPECT_GT(energy(32000, frames), 0);  // the second reply
  for (size_t f = 0; f < frames; ++f) ASSERT_EQ(Left(wav, f), 0);
}

TEST_F(CallRecorderTest, LongRecordingIsSpilledInBlocksAndStaysExact) {
  auto rec = Make();
  const audio::Samples caller = Ramp(320, 7);
  for (int i = 0; i < 300; ++i) {  // 6 s
    rec->AddCaller(caller, At(i * 20));
    if (i % 50 == 49) pool_.RunPending();  // the pool writes whole seconds as they are final
  }
  EXPECT_TRUE(fs::exists(dir_ / "call.wav.part"));
  EXPECT_GE(fs::file_size(dir_ / "call.wav.part"), 44u + 4u * 16000u * 4u);
  audio::WavAudio wav = Finish(*rec);
  ASSERT_EQ(wav.samples.size(), static_cast<size_t>(300 * 320 * 2));
  for (size_t f = 0; f < 300 * 320; ++f) ASSERT_EQ(Left(wav, f), caller[f % 320]) << f;
}

TEST_F(CallRecorderTest, StopsAtTheMaximumLength) {
  auto rec = Make(/*max_seconds=*/1);
  const audio::Samples caller = Ramp(320, 1);
  for (int i = 0; i < 100; ++i) rec->AddCaller(caller, At(i * 20));  // 2 s
  EXPECT_TRUE(rec->truncated());
  audio::WavAudio wav = Finish(*rec);
  EXPECT_EQ(wav.samples.size(), static_cast<size_t>(kRate * 2));
}

TEST_F(CallRecorderTest, NothingAddedAfterFinishAndFinishIsIdempotent) {
  auto rec = Make();
  rec->AddCaller(Ramp(320, 1), At(0));
  audio::WavAudio wav = Finish(*rec);
  EXPECT_EQ(wav.samples.size(), 640u);
  rec->AddCaller(Ramp(320, 1), At(20));
  rec->Finish();
  pool_.RunPending();
  EXPECT_EQ(rec->frames(), 320);
}

TEST_F(CallRecorderTest, PartFileLeftByACrashIsRepaired) {
  // What a crash leaves: the placeholder header (0 bytes of data), whole frames and half of one.
  const std::string part = (dir_ / "crashed.wav.part").string();
  audio::WavAudio empty;
  empty.channels = 2;
  std::vector<uint8_t> bytes = audio::EncodeWav(empty);
  for (int i = 0; i < 1000 * 2 + 1; ++i) {
    bytes.push_back(static_cast<uint8_t>(i));
    bytes.push_back(0);
  }
  {
    std::ofstream out(part, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ASSERT_TRUE(CallRecorder::FixWavHeader(part, bytes.size() - 44));
  auto wav = audio::ReadWavFile(part);
  ASSERT_TRUE(wav.ok()) << wav.status().ToString();
  EXPECT_EQ(wav->channels, 2);
  EXPECT_EQ(wav->samples.size(), 2000u);
  EXPECT_EQ(fs::file_size(part), 44u + 4000u);
  EXPECT_FALSE(CallRecorder::FixWavHeader((dir_ / "none").string(), 4));
}

TEST_F(CallRecorderTest, UnwritableDirectoryIsReported) {
  CallRecorderOptions o;
  o.path = (dir_ / "missing" / "call.wav").string();
  o.done = [this](core::Result<std::string> r) { result_ = std::move(r); };
  {
    CallRecorder rec(o, &pool_, start_);
    rec.AddCaller(Ramp(320, 1), At(0));
  }  // destroying finishes it
  pool_.RunPending();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->status().code(), core::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace artagent::session
