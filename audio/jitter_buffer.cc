#include "audio/jitter_buffer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace artagent::audio {

OutputQueue::OutputQueue(size_t initial_capacity, size_t max_samples) : max_samples_(max_samples) {
  ring_.resize(std::bit_ceil(std::max<size_t>(initial_capacity, 1)));
}

core::Status OutputQueue::Push(std::span<const int16_t> pcm) {
  if (pcm.empty()) {
    return core::OkStatus();
  }
  if (pcm.size() > max_samples_ - std::min(size_, max_samples_)) {
    return core::ResourceExhaustedError(
        "output queue full: " + std::to_string(size_) + " samples queued, push of " +
        std::to_string(pcm.size()) + " would exceed the limit of " + std::to_string(max_samples_));
  }
  if (size_ + pcm.size() > ring_.size()) {
    Grow(size_ + pcm.size());
  }
  const size_t capacity = ring_.size();
  const size_t tail = (head_ + size_) & (capacity - 1);
  const size_t first = std::min(pcm.size(), capacity - tail);
  std::memcpy(ring_.data() + tail, pcm.data(), first * sizeof(int16_t));
  std::memcpy(ring_.data(), pcm.data() + first, (pcm.size() - first) * sizeof(int16_t));
  size_ += pcm.size();
  flush_tail_ = false;
  return core::OkStatus();
}

void OutputQueue::FlushTail() { flush_tail_ = true; }

bool OutputQueue::PopFrame(size_t frame_samples, Samples* out) {
  if (frame_samples == 0 || size_ == 0) {
    return false;
  }
  if (size_ >= frame_samples) {
    out->resize(frame_samples);
    Take(frame_samples, out->data());
    return true;
  }
  if (!flush_tail_) {
    return false;
  }
  const size_t have = size_;
  out->resize(frame_samples);
  Take(have, out->data());
  std::fill(out->begin() + static_cast<std::ptrdiff_t>(have), out->end(), int16_t{0});
  flush_tail_ = false;  // the stream's end has been played out
  return true;
}

size_t OutputQueue::Clear() {
  const size_t dropped = size_;
  head_ = 0;
  size_ = 0;
  flush_tail_ = false;
  return dropped;
}

void OutputQueue::Grow(size_t min_capacity) {
  Samples bigger(std::bit_ceil(min_capacity));
  const size_t count = size_;
  Take(count, bigger.data());  // linearise at the front of the new ring
  ring_.swap(bigger);
  head_ = 0;
  size_ = count;
}

void OutputQueue::Take(size_t count, int16_t* dst) {
  const size_t capacity = ring_.size();
  const size_t first = std::min(count, capacity - head_);
  std::memcpy(dst, ring_.data() + head_, first * sizeof(int16_t));
  std::memcpy(dst + first, ring_.data(), (count - first) * sizeof(int16_t));
  head_ = (head_ + count) & (capacity - 1);
  size_ -= count;
}

}  // namespace artagent::audio
