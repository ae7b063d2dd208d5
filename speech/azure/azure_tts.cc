// azure-speech TTS: SSML over REST (protocols.md §4.1), the PCM body streamed to the sink as it
// arrives. See azure_speech.h for the contract.

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "core/log.h"
#include "core/serial_thread_executor.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "speech/azure/azure_speech.h"
#include "speech/azure/speech_auth.h"
#include "speech/azure/speech_protocol.h"

namespace artagent::speech::azure {
namespace {

constexpr size_t kMaxErrorBody = 2048;

// One HTTP call as the synthesizing thread sees it; filled on the HTTP executor.
struct CallState {
  std::mutex mu;
  std::condition_variable cv;
  int http_status = 0;
  net::Headers headers;
  std::deque<std::string> chunks;
  std::string error_body;
  bool done = false;
  core::Status status;
};

class AzureTtsEngine final : public TtsEngine {
 public:
  AzureTtsEngine(AzureSpeechOptions options, SpeechEndpoints endpoints, net::HttpClient* http)
      : options_(std::move(options)),
        endpoints_(std::move(endpoints)),
        http_(http),
        executor_(core::SerialThreadExecutor::Create("azure-tts")),
        auth_(options_, endpoints_, http_, executor_),
        breaker_(options_.breaker),
        rng_(std::random_device{}()) {}

  std::string name() const override { return "azure-speech"; }
  std::vector<std::string> Voices() const override { return {options_.voice}; }

  core::Status Synthesize(const TtsRequest& request, const TtsAudioSink& sink) override {
    if (request.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return core::InvalidArgumentError("azure-speech: nothing to say (empty text)");
    }
    const AzureVoice voice = ResolveVoice(request.voice, options_.voice);
    const std::string ssml = BuildSsml(request.text, voice, std::clamp(request.rate, 0.5, 2.0));
    core::Status last;
    for (int attempt = 0;; ++attempt) {
      if (!breaker_.Allow(core::Clock::now())) {
        Count("circuit_open");
        return core::UnavailableError("azure-speech TTS: circuit open after repeated failures");
      }
      bool delivered = false;
      core::Duration retry_after{0};
      last = Attempt(ssml, sink, &delivered, &retry_after);
      if (last.ok() || last.code() == core::StatusCode::kCancelled) return last;
      const bool retryable = last.code() == core::StatusCode::kUnavailable ||
                             last.code() == core::StatusCode::kResourceExhausted ||
                             last.code() == core::StatusCode::kDeadlineExceeded ||
                             (last.code() == core::StatusCode::kUnauthenticated &&
                              options_.auth == SpeechAuthMode::kToken && attempt == 0);
      // Audio already handed out cannot be taken back: no retry after the first byte.
      if (delivered || !retryable || attempt >= options_.max_retries) return last;
      core::Duration delay;
      {
        std::lock_guard<std::mutex> lock(rng_mu_);
        delay = net::BackoffDelay(options_.backoff, attempt, rng_);
      }
      delay = std::max(delay, std::min(retry_after, options_.max_retry_after));
      std::this_thread::sleep_for(delay);
    }
  }

 private:
  void Count(std::string_view kind) const {
    if (options_.on_error) options_.on_error("tts", kind);
  }

  core::Status Attempt(const std::string& ssml, const TtsAudioSink& sink, bool* delivered,
                       core::Duration* retry_after) {
    auto auth = auth_.Headers();
    if (!auth.ok()) return auth.status();
    net::HttpRequestSpec req;
    req.method = "POST";
    req.url = endpoints_.tts_url;
    req.headers = std::move(auth).value();
    req.headers.emplace_back("Content-Type", "application/ssml+xml");
    req.headers.emplace_back("X-Microsoft-OutputFormat", options_.tts_sample_rate == 16000
                                                             ? "raw-16khz-16bit-mono-pcm"
                                                             : "raw-24khz-16bit-mono-pcm");
    req.body = ssml;
    req.connect_timeout = options_.connect_timeout;
    req.first_byte_timeout = options_.first_byte_timeout;
    req.idle_timeout = options_.first_byte_timeout;
    req.total_timeout = std::chrono::minutes(10);

    auto state = std::make_shared<CallState>();
    net::HttpCallbacks cb;
    cb.on_head = [state](const net::HttpResponseHead& head) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->http_status = head.status;
      state->headers = head.headers;
    };
    cb.on_body = [state](std::string_view chunk) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->http_status == 200) {
        state->chunks.emplace_back(chunk);
        state->cv.notify_all();
      } else if (state->error_body.size() < kMaxErrorBody) {
        state->error_body.append(chunk.substr(0, kMaxErrorBody - state->error_body.size()));
      }
    };
    cb.on_done = [state](const core::Status& status) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->done = true;
      state->status = status;
      state->cv.notify_all();
    };
    std::shared_ptr<net::HttpCall> call = http_->Send(std::move(req), std::move(cb), executor_);
    // The call is cancelled and released on its executor, as the client requires.
    auto release = [this, &call](bool cancel) {
      executor_->Post([c = std::move(call), cancel] {
        if (cancel) c->Cancel();
      });
    };

    std::string carry;  // an odd byte left from the previous chunk
    std::vector<int16_t> pcm;
    for (;;) {
      std::deque<std::string> chunks;
      bool done;
      core::Status status;
      {
        std::unique_lock<std::mutex> lock(state->mu);
        state->cv.wait(lock, [&] { return state->done || !state->chunks.empty(); });
        chunks.swap(state->chunks);
        done = state->done;
        status = state->status;
      }
      for (auto& chunk : chunks) {
        carry += chunk;
        const size_t samples = carry.size() / 2;
        if (samples == 0) continue;
        pcm.resize(samples);
        std::memcpy(pcm.data(), carry.data(), samples * 2);
        carry.erase(0, samples * 2);
        *delivered = true;
        if (!sink(pcm, options_.tts_sample_rate)) {
          release(/*cancel=*/true);
          return core::CancelledError("azure-speech: synthesis stopped by the listener");
        }
      }
      if (!done) continue;
      release(/*cancel=*/false);
      std::lock_guard<std::mutex> lock(state->mu);
      return Finish(*state, status, *delivered, retry_after);
    }
  }

  core::Status Finish(const CallState& state, const core::Status& status, bool delivered,
                      core::Duration* retry_after) {
    if (!status.ok()) {
      breaker_.RecordFailure(core::Clock::now());
      Count(delivered ? "truncated" : "connect");
      return core::UnavailableError(std::string("azure-speech TTS ") +
                                    (delivered ? "cut short: " : "failed: ") + status.message());
    }
    const int code = state.http_status;
    if (code == 200) {
      breaker_.RecordSuccess();
      return core::Status();
    }
    Count("http_" + std::to_string(code));
    if (auto hint = net::RetryAfterFromHeaders(state.headers, std::chrono::system_clock::now())) {
      *retry_after = *hint;
    }
    const std::string what = "azure-speech TTS: HTTP " + std::to_string(code);
    if (code == 401 || code == 403) {
      auth_.Invalidate();
      return core::UnauthenticatedError(what +
                                        ": the service refused the credential (check "
                                        "azure_speech.key / azure_speech.auth)");
    }
    if (code == 429) {
      breaker_.RecordSuccess();  // the service is up, just busy
      return core::ResourceExhaustedError(what + " (throttled)");
    }
    if (net::IsRetryableStatus(code)) {
      breaker_.RecordFailure(core::Clock::now());
      return core::UnavailableError(what);
    }
    // 400 (bad SSML or voice), 415: ours to fix, not worth a retry.
    breaker_.RecordSuccess();
    core::LogWarn("azure-speech", "TTS request rejected: HTTP {} {}", code,
                  state.error_body.substr(0, 200));
    return core::InvalidArgumentError(what + " (request rejected: check the voice name)");
  }

  AzureSpeechOptions options_;
  SpeechEndpoints endpoints_;
  net::HttpClient* http_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  SpeechAuth auth_;
  net::CircuitBreaker breaker_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace

core::Result<std::unique_ptr<TtsEngine>> CreateAzureTts(AzureSpeechOptions options,
                                                        net::HttpClient* http) {
  ARTAGENT_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.tts_sample_rate != 16000 && options.tts_sample_rate != 24000) {
    return core::InvalidArgumentError("azure-speech TTS: sample rate must be 16000 or 24000");
  }
  auto endpoints = ResolveEndpoints(options);
  if (!endpoints.ok()) return endpoints.status();
  return std::unique_ptr<TtsEngine>(
      new AzureTtsEngine(std::move(options), std::move(endpoints).value(), http));
}

core::Status ValidateOptions(const AzureSpeechOptions& options) {
  auto endpoints = ResolveEndpoints(options);
  if (!endpoints.ok()) return endpoints.status();
  switch (options.auth) {
    case SpeechAuthMode::kKey:
    case SpeechAuthMode::kToken:
      if (options.key.empty()) {
        return core::InvalidArgumentError(
            "azure_speech.key must be set (as secret://NAME) for the azure-speech provider, or "
            "azure_speech.resource_id with azure_speech.auth: entra");
      }
      break;
    case SpeechAuthMode::kEntra:
      if (options.resource_id.empty()) {
        return core::InvalidArgumentError(
            "azure_speech.resource_id must be set for azure_speech.auth: entra");
      }
      break;
  }
  return core::Status();
}

void RegisterAzureSpeechProviders(SpeechProviders* providers, AzureSpeechOptions options,
                                  net::HttpClient* http) {
  providers->RegisterStt("azure-speech", [options, http] { return CreateAzureStt(options, http); });
  providers->RegisterTts("azure-speech", [options, http] { return CreateAzureTts(options, http); });
}

}  // namespace artagent::speech::azure
