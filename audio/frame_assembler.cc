#include "audio/frame_assembler.h"

#include <algorithm>

namespace artagent::audio {

FrameAssembler::FrameAssembler(size_t frame_samples)
    : frame_samples_(std::max<size_t>(frame_samples, 1)) {
  buffer_.reserve(frame_samples_ * 4);
}

void FrameAssembler::Push(std::span<const int16_t> chunk) {
  if (chunk.empty()) {
    return;
  }
  // Make room by compacting before growing, so capacity only rises when a chunk is genuinely
  // larger than anything seen before.
  if (read_ > 0 && buffer_.size() + chunk.size() > buffer_.capacity()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_));
    read_ = 0;
  }
  buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
}

bool FrameAssembler::Next(Samples* frame) {
  if (buffered() < frame_samples_) {
    return false;
  }
  const auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(read_);
  frame->assign(first, first + static_cast<std::ptrdiff_t>(frame_samples_));
  read_ += frame_samples_;
  Compact();
  return true;
}

void FrameAssembler::Clear() {
  buffer_.clear();
  read_ = 0;
}

void FrameAssembler::Compact() {
  if (read_ == buffer_.size()) {
    buffer_.clear();
    read_ = 0;
    return;
  }
  // Shifting costs the unread remainder (< one frame in steady state); do it only once the dead
  // prefix is at least as large, so the amortised cost per sample stays constant.
  if (read_ >= frame_samples_ && read_ >= buffered()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_));
    read_ = 0;
  }
}

}  // namespace artagent::audio
