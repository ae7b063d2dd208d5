#include "session/call_recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "audio/wav.h"
#include "core/log.h"

namespace artagent::session {
namespace {

constexpr int64_t kBlockFrames = CallRecorder::kSampleRate;  // one second per spilled block
constexpr int64_t kGapFrames = CallRecorder::kGapMs * CallRecorder::kSampleRate / 1000;
constexpr size_t kHeaderBytes = 44;
constexpr size_t kFreeBlocks = 4;

void PutLe32(uint8_t* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<uint8_t>(v >> (8 * i));
}

// A canonical stereo 16 kHz header for `data_bytes` of samples.
std::vector<uint8_t> Header(uint32_t data_bytes) {
  audio::WavAudio empty;
  empty.sample_rate = CallRecorder::kSampleRate;
  empty.channels = 2;
  std::vector<uint8_t> header = audio::EncodeWav(empty);
  header.resize(kHeaderBytes);
  PutLe32(header.data() + 4, 36 + data_bytes);
  PutLe32(header.data() + 40, data_bytes);
  return header;
}

core::Status Errno(const std::string& what, const std::string& path) {
  return core::UnavailableError(what + " '" + path + "': " + std::strerror(errno));
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// The file side, shared with the pool jobs that write it. Blocks are written in the order they
// were pushed, by one job at a time.
struct CallRecorder::Spill : std::enable_shared_from_this<CallRecorder::Spill> {
  std::string path;
  std::string part;
  std::function<void(core::Result<std::string>)> done;

  std::mutex mu;
  std::deque<std::vector<int16_t>> blocks;
  std::vector<std::vector<int16_t>> free;
  bool draining = false;
  bool finishing = false;
  bool finalized = false;

  // Pool side only (one job at a time).
  int fd = -1;
  uint64_t data_bytes = 0;
  core::Status error;

  std::vector<int16_t> TakeBuffer() {
    std::lock_guard<std::mutex> lock(mu);
    if (free.empty()) return {};
    std::vector<int16_t> b = std::move(free.back());
    free.pop_back();
    return b;
  }

  // Queues `block` (may be empty when only finishing) and makes sure a job is writing.
  void Push(std::vector<int16_t> block, bool finish, core::ComputePool* pool) {
    bool submit = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!block.empty()) blocks.push_back(std::move(block));
      finishing = finishing || finish;
      if (!draining) draining = submit = true;
    }
    if (!submit) return;
    auto self = shared_from_this();
    if (pool && pool->TrySubmit([self] { self->Run(); })) return;
    if (finish) {
      // The recording must not be lost because the pool is busy at that moment.
      std::thread([self] { self->Run(); }).detach();
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    draining = false;  // the next push tries again
  }

  void Run() {
    for (;;) {
      std::vector<int16_t> block;
      bool finalize = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (blocks.empty()) {
          draining = false;
          if (!finishing || finalized) return;
          finalized = finalize = true;
        } else {
          block = std::move(blocks.front());
          blocks.pop_front();
        }
      }
      if (finalize) {
        Finalize();
        return;
      }
      WriteBlock(block);
      block.clear();
      std::lock_guard<std::mutex> lock(mu);
      if (free.size() < kFreeBlocks) free.push_back(std::move(block));
    }
  }

  void Open() {
    if (fd >= 0 || !error.ok()) return;
    fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = Errno("cannot create the recording", part);
      return;
    }
    const std::vector<uint8_t> header = Header(0);
    if (!WriteAll(fd, header.data(), header.size())) error = Errno("cannot write", part);
  }

  void WriteBlock(const std::vector<int16_t>& block) {
    Open();
    if (!error.ok()) return;
    const size_t bytes = block.size() * sizeof(int16_t);
    if (data_bytes + bytes > 0xFFFFFFFFull - 36) return;  // beyond what RIFF can describe
    if (!WriteAll(fd, block.data(), bytes)) {
      error = Errno("cannot write", part);
      return;
    }
    data_bytes += bytes;
  }

  void Finalize() {
    Open();
    if (error.ok()) {
      const std::vector<uint8_t> header = Header(static_cast<uint32_t>(data_bytes));
      if (::pwrite(fd, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
        error = Errno("cannot write the header of", part);
      } else if (::fsync(fd) != 0) {
        error = Errno("cannot flush", part);
      }
    }
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (error.ok() && ::rename(part.c_str(), path.c_str()) != 0) {
      error = Errno("cannot rename the recording to", path);
    }
    if (!error.ok()) ::unlink(part.c_str());
    if (done) {
      if (error.ok()) {
        done(path);
      } else {
        done(error);
      }
    }
  }
};

CallRecorder::CallRecorder(CallRecorderOptions options, core::ComputePool* pool,
                           core::TimePoint start)
    : options_(std::move(options)),
      pool_(pool),
      start_(start),
      max_frames_(static_cast<int64_t>(std::max(1, options_.max_seconds)) * kSampleRate),
      spill_(std::make_shared<Spill>()) {
  spill_->path = options_.path;
  spill_->part = options_.path + ".part";
  spill_->done = std::move(options_.done);
  window_.reserve(static_cast<size_t>(2 * kBlockFrames * 2));
}

CallRecorder::~CallRecorder() { Finish(); }

bool CallRecorder::FixWavHeader(const std::string& path, uint64_t data_bytes) {
  data_bytes = std::min<uint64_t>(data_bytes, 0xFFFFFFFFull - 36) / 4 * 4;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::vector<uint8_t> header = Header(static_cast<uint32_t>(data_bytes));
  const bool ok = ::pwrite(fd, header.data(), header.size(), 0) ==
                      static_cast<ssize_t>(header.size()) &&
                  ::ftruncate(fd, static_cast<off_t>(kHeaderBytes + data_bytes)) == 0 &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

int64_t CallRecorder::TimeFrame(core::TimePoint now) const {
  const int64_t us = std::chrono::duration_cast<core::Duration>(now - start_).count();
  return std::max<int64_t>(0, us) * kSampleRate / 1000000;
}

int64_t CallRecorder::Floor(Channel channel, int64_t time_frame) const {
  return time_frame > next_[channel] + kGapFrames ? time_frame : next_[channel];
}

void CallRecorder::AddCaller(std::span<const int16_t> pcm, core::TimePoint now) {
  Write(kCaller, pcm, now);
}

void CallRecorder::AddAgent(std::span<const int16_t> pcm, int sample_rate, core::TimePoint now) {
  if (finished_) return;
  if (sample_rate != kSampleRate) {
    if (!agent_resampler_ || agent_resampler_->in_rate() != sample_rate) {
      auto created = audio::Resampler::Create(sample_rate, kSampleRate);
      if (!created.ok()) return;  // the session validated the rate; nothing sensible to record
      agent_resampler_ = std::move(created).value();
    }
    agent_scratch_.clear();
    agent_resampler_->Process(pcm, &agent_scratch_);
    pcm = agent_scratch_;
  }
  Write(kAgent, pcm, now);
}

void CallRecorder::Write(Channel channel, std::span<const int16_t> pcm, core::TimePoint now) {
  if (finished_) return;
  const int64_t t = TimeFrame(now);
  int64_t pos = std::max(Floor(channel, t), base_);
  int64_t n = static_cast<int64_t>(pcm.size());
  if (pos + n > max_frames_) {
    if (!truncated_) {
      core::LogWarn("recording", "{}: longer than {} s; the rest is not recorded", options_.path,
                    max_frames_ / kSampleRate);
    }
    truncated_ = true;
    n = std::max<int64_t>(0, max_frames_ - pos);
  }
  if (n > 0) {
    const size_t need = static_cast<size_t>((pos + n - base_) * 2);
    if (window_.size() < need) window_.resize(need, 0);
    int16_t* out = window_.data() + (pos - base_) * 2 + channel;
    for (int64_t i = 0; i < n; ++i) out[i * 2] = pcm[static_cast<size_t>(i)];
    next_[channel] = pos + n;
    end_ = std::max(end_, pos + n);
  }
  FlushBefore(std::min({Floor(kCaller, t), Floor(kAgent, t), max_frames_}));
}

void CallRecorder::FlushBefore(int64_t frame) {
  const size_t block_samples = static_cast<size_t>(kBlockFrames * 2);
  while (frame - base_ >= kBlockFrames) {
    if (window_.size() < block_samples) window_.resize(block_samples, 0);
    std::vector<int16_t> block = spill_->TakeBuffer();
    block.assign(window_.begin(), window_.begin() + static_cast<ptrdiff_t>(block_samples));
    window_.erase(window_.begin(), window_.begin() + static_cast<ptrdiff_t>(block_samples));
    base_ += kBlockFrames;
    end_ = std::max(end_, base_);
    spill_->Push(std::move(block), /*finish=*/false, pool_);
  }
}

void CallRecorder::Finish() {
  if (finished_) return;
  finished_ = true;
  const int64_t last = std::max(end_, base_);
  window_.resize(static_cast<size_t>((last - base_) * 2), 0);
  const size_t block_samples = static_cast<size_t>(kBlockFrames * 2);
  for (size_t at = 0; at < window_.size(); at += block_samples) {
    const size_t len = std::min(block_samples, window_.size() - at);
    spill_->Push(std::vector<int16_t>(window_.begin() + static_cast<ptrdiff_t>(at),
                                      window_.begin() + static_cast<ptrdiff_t>(at + len)),
                 /*finish=*/false, pool_);
  }
  window_.clear();
  window_.shrink_to_fit();
  base_ = last;
  spill_->Push({}, /*finish=*/true, pool_);
}

}  // namespace artagent::session
