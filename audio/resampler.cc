#include "audio/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <string>

namespace artagent::audio {

struct Resampler::SpeexState {
  explicit SpeexState(SpeexResamplerState* s) : st(s) {}
  ~SpeexState() { speex_resampler_destroy(st); }
  SpeexState(const SpeexState&) = delete;
  SpeexState& operator=(const SpeexState&) = delete;

  SpeexResamplerState* const st;
};

namespace {

bool RateInRange(int rate) { return rate >= kMinResampleRate && rate <= kMaxResampleRate; }

// Runs `in` through `st` and appends everything the filter emits to `out`. speex consumes as much
// input as the output buffer allows, so size the buffer for the whole chunk (plus the fractional
// phase carry) and loop in case it still stops early.
void Run(SpeexResamplerState* st, int in_rate, int out_rate, std::span<const int16_t> in,
         Samples* out) {
  // speex counts in uint32; cap each call far below that so the arithmetic below cannot wrap.
  constexpr size_t kMaxCall = size_t{1} << 20;
  while (!in.empty()) {
    const size_t take = std::min(in.size(), kMaxCall);
    const size_t room = take * static_cast<size_t>(out_rate) / static_cast<size_t>(in_rate) + 8;
    const size_t base = out->size();
    out->resize(base + room);
    spx_uint32_t in_len = static_cast<spx_uint32_t>(take);
    spx_uint32_t out_len = static_cast<spx_uint32_t>(room);
    speex_resampler_process_int(st, 0, in.data(), &in_len, out->data() + base, &out_len);
    out->resize(base + out_len);
    if (in_len == 0 && out_len == 0) {
      break;  // cannot happen with a valid state; never spin
    }
    in = in.subspan(in_len);
  }
}

SpeexResamplerState* NewSpeex(int in_rate, int out_rate, int quality) {
  int err = RESAMPLER_ERR_SUCCESS;
  SpeexResamplerState* st = speex_resampler_init(
      1, static_cast<spx_uint32_t>(in_rate), static_cast<spx_uint32_t>(out_rate), quality, &err);
  if (err != RESAMPLER_ERR_SUCCESS && st != nullptr) {
    speex_resampler_destroy(st);
    return nullptr;
  }
  return st;
}

}  // namespace

core::Result<std::unique_ptr<Resampler>> Resampler::Create(int in_rate, int out_rate, int quality) {
  if (!RateInRange(in_rate) || !RateInRange(out_rate)) {
    return core::InvalidArgumentError("resampler: rates " + std::to_string(in_rate) + " -> " +
                                      std::to_string(out_rate) + " Hz outside the supported " +
                                      std::to_string(kMinResampleRate) + ".." +
                                      std::to_string(kMaxResampleRate) + " Hz");
  }
  if (quality < 0 || quality > 10) {
    return core::InvalidArgumentError("resampler: quality " + std::to_string(quality) +
                                      " outside 0..10");
  }
  std::unique_ptr<SpeexState> state;
  if (in_rate != out_rate) {
    SpeexResamplerState* st = NewSpeex(in_rate, out_rate, quality);
    if (st == nullptr) {
      return core::InternalError("resampler: speex_resampler_init failed for " +
                                 std::to_string(in_rate) + " -> " + std::to_string(out_rate));
    }
    state = std::make_unique<SpeexState>(st);
  }
  return std::unique_ptr<Resampler>(new Resampler(in_rate, out_rate, std::move(state)));
}

Resampler::Resampler(int in_rate, int out_rate, std::unique_ptr<SpeexState> state)
    : in_rate_(in_rate), out_rate_(out_rate), state_(std::move(state)) {
  if (state_ != nullptr) {
    latency_samples_ = speex_resampler_get_output_latency(state_->st);
  }
}

Resampler::~Resampler() = default;

void Resampler::Process(std::span<const int16_t> in, Samples* out) {
  if (state_ == nullptr) {
    out->insert(out->end(), in.begin(), in.end());
    return;
  }
  Run(state_->st, in_rate_, out_rate_, in, out);
}

void Resampler::Reset() {
  if (state_ != nullptr) {
    speex_resampler_reset_mem(state_->st);
  }
}

Samples ResampleAll(std::span<const int16_t> in, int in_rate, int out_rate) {
  if (!RateInRange(in_rate) || !RateInRange(out_rate)) {
    return {};
  }
  if (in_rate == out_rate) {
    return Samples(in.begin(), in.end());
  }
  // Rounded to nearest in integers: (2 * n * out + in) / (2 * in).
  const uint64_t n = in.size();
  const size_t target = static_cast<size_t>(
      (2 * n * static_cast<uint64_t>(out_rate) + static_cast<uint64_t>(in_rate)) /
      (2 * static_cast<uint64_t>(in_rate)));
  Samples out;
  if (target == 0) {
    return out;
  }
  SpeexResamplerState* raw = NewSpeex(in_rate, out_rate, kDefaultResampleQuality);
  if (raw == nullptr) {
    return out;
  }
  const std::unique_ptr<SpeexResamplerState, void (*)(SpeexResamplerState*)> st(
      raw, speex_resampler_destroy);
  // skip_zeros drops the warm-up so output sample 0 lines up with input sample 0; the signal's
  // tail is then pushed out with silence.
  speex_resampler_skip_zeros(st.get());
  out.reserve(target + 16);
  Run(st.get(), in_rate, out_rate, in, &out);
  const Samples zeros(static_cast<size_t>(speex_resampler_get_input_latency(st.get())) + 8, 0);
  for (int round = 0; out.size() < target && round < 4; ++round) {
    Run(st.get(), in_rate, out_rate, zeros, &out);
  }
  out.resize(target, 0);
  return out;
}

}  // namespace artagent::audio
