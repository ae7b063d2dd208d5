// azure-speech STT: the real-time WebSocket protocol (protocols.md §4.3), one warm connection per
// stream. See azure_speech.h for the contract.

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "core/log.h"
#include "core/serial_thread_executor.h"
#include "net/websocket_client.h"
#include "speech/azure/azure_speech.h"
#include "speech/azure/speech_auth.h"
#include "speech/azure/speech_protocol.h"

namespace artagent::speech::azure {
namespace {

constexpr int kSampleRate = 16000;
// Audio of the current turn kept to replay on a new connection (two minutes).
constexpr size_t kMaxReplaySamples = kSampleRate * 120;
// One audio message carries at most this much PCM (100 ms), as the SDK sends it.
constexpr size_t kChunkSamples = kSampleRate / 10;
// How long a new turn waits for the service to close a cancelled one before reconnecting.
constexpr auto kDrainWait = std::chrono::seconds(2);

struct SttShared {
  AzureSpeechOptions options;
  SpeechEndpoints endpoints;
  std::shared_ptr<core::SerialThreadExecutor> executor;
  std::unique_ptr<SpeechAuth> auth;
  std::unique_ptr<net::WebSocketClient> ws;
  net::CircuitBreaker breaker;
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  explicit SttShared(const AzureSpeechOptions& o) : options(o), breaker(o.breaker) {}

  void Count(std::string_view kind) const {
    if (options.on_error) options.on_error("stt", kind);
  }
  core::Duration Backoff(int attempt) {
    std::lock_guard<std::mutex> lock(rng_mu);
    return net::BackoffDelay(options.backoff, attempt, rng);
  }
};

// What the service said about the current turn. Written on the WebSocket I/O thread, read by the
// stream's caller; guarded by `mu`.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;  // the live connection; older connections' events are ignored
  bool closed = false;
  core::Status close_status;
  std::string request_id;  // the turn being recognised
  std::string hypothesis;  // latest hypothesis of the segment in progress
  std::vector<std::string> phrases;
  core::Status phrase_error;
  bool turn_ended = false;
  std::string draining_id;  // a cancelled turn whose turn.end has not come yet

  void OnMessage(uint64_t gen, const std::string& frame, bool binary) {
    if (binary) return;  // the service sends text only
    auto msg = ParseTextMessage(frame);
    if (!msg.ok()) {
      core::LogWarn("azure-speech", "unparsable message from the service: {}",
                    msg.status().ToString());
      return;
    }
    const std::string path = msg->path();
    const std::string id = msg->request_id();
    std::lock_guard<std::mutex> lock(mu);
    if (gen != generation) return;
    if (!draining_id.empty() && id == draining_id) {
      if (path == "turn.end") {
        draining_id.clear();
        cv.notify_all();
      }
      return;
    }
    if (id != request_id || request_id.empty()) return;
    if (path == "speech.hypothesis" || path == "speech.fragment") {
      auto text = ParseHypothesisText(msg->body);
      if (text.ok()) hypothesis = *text;
    } else if (path == "speech.phrase") {
      auto phrase = ParseSpeechPhrase(msg->body);
      if (!phrase.ok()) {
        phrase_error = phrase.status();
      } else if (!phrase->text.empty()) {
        phrases.push_back(phrase->text);
      }
      hypothesis.clear();
    } else if (path == "turn.end") {
      turn_ended = true;
      cv.notify_all();
    }
  }

  void OnClosed(uint64_t gen, const core::Status& status) {
    std::lock_guard<std::mutex> lock(mu);
    if (gen != generation) return;
    closed = true;
    close_status = status;
    cv.notify_all();
  }
};

class AzureSttStream final : public SttStream {
 public:
  AzureSttStream(std::shared_ptr<SttShared> shared, SttOptions options)
      : shared_(std::move(shared)),
        options_(std::move(options)),
        inbox_(std::make_shared<Inbox>()) {}

  ~AzureSttStream() override {
    if (conn_) conn_->Close();
  }

  // Opens the connection ahead of the first turn. Only configuration errors are returned; an
  // unreachable service is retried when a turn starts.
  core::Status Warm() {
    core::Status st = EnsureConnected();
    if (st.code() == core::StatusCode::kUnauthenticated ||
        st.code() == core::StatusCode::kInvalidArgument) {
      return st;
    }
    if (!st.ok()) core::LogWarn("azure-speech", "STT not connected yet: {}", st.ToString());
    return core::Status();
  }

  core::Status StartUtterance() override {
    if (in_turn_) CancelUtterance();
    replay_.clear();
    turn_status_ = core::Status();
    in_turn_ = true;
    request_id_ = NewRequestId();
    if (!WaitForDrain()) DropConnection();
    {
      std::lock_guard<std::mutex> lock(inbox_->mu);
      inbox_->request_id = request_id_;
      inbox_->hypothesis.clear();
      inbox_->phrases.clear();
      inbox_->phrase_error = core::Status();
      inbox_->turn_ended = false;
    }
    core::Status st = EnsureConnected();
    if (st.ok()) SendTurnHead();
    turn_status_ = st;
    return st;
  }

  core::Result<std::string> Feed(std::span<const int16_t> pcm) override {
    if (!in_turn_ || !turn_status_.ok()) return std::string();
    const size_t room = kMaxReplaySamples - std::min(kMaxReplaySamples, replay_.size());
    replay_.insert(replay_.end(), pcm.begin(), pcm.begin() + std::min(room, pcm.size()));
    if (!conn_ || !conn_->is_open()) {
      // Dropped mid-turn: a new connection hears the whole turn again.
      shared_->Count("dropped");
      core::Status st = Reconnect();
      if (!st.ok()) {
        turn_status_ = st;
        return std::string();
      }
    } else {
      SendPcm(pcm);
    }
    return Partial();
  }

  core::Result<SttResult> EndUtterance() override {
    if (!in_turn_) return core::FailedPreconditionError("azure-speech: no utterance in progress");
    in_turn_ = false;
    if (!turn_status_.ok()) return turn_status_;
    for (int attempt = 0;; ++attempt) {
      if (!conn_ || !conn_->is_open()) {
        shared_->Count("dropped");
        ARTAGENT_RETURN_IF_ERROR(Reconnect());
      }
      conn_->Send(EncodeAudioMessage(request_id_, Now(), "", ""), /*binary=*/true);
      std::unique_lock<std::mutex> lock(inbox_->mu);
      const bool woke = inbox_->cv.wait_for(lock, shared_->options.final_timeout,
                                            [&] { return inbox_->turn_ended || inbox_->closed; });
      if (inbox_->turn_ended) {
        if (!inbox_->phrase_error.ok()) {
          shared_->Count("recognition");
          return inbox_->phrase_error;
        }
        std::string joined;
        for (const auto& p : inbox_->phrases) joined += (joined.empty() ? "" : " ") + p;
        inbox_->request_id.clear();
        SttResult result;
        result.text = NormalizeTranscript(joined);
        result.confidence = result.text.empty() ? 0.0 : 0.9;
        return result;
      }
      if (!woke) {
        lock.unlock();
        shared_->Count("timeout");
        DropConnection();
        return core::DeadlineExceededError("azure-speech: no recognition result within " +
                                           std::to_string(shared_->options.final_timeout.count()) +
                                           " ms after the end of the turn");
      }
      // The connection closed before the result: try the turn again on a new one.
      const core::Status why = inbox_->close_status;
      lock.unlock();
      if (attempt >= shared_->options.max_retries) {
        return core::UnavailableError("azure-speech: connection lost before the result (" +
                                      why.message() + ")");
      }
      conn_.reset();
    }
  }

  void CancelUtterance() override {
    if (!in_turn_) return;
    in_turn_ = false;
    replay_.clear();
    std::lock_guard<std::mutex> lock(inbox_->mu);
    inbox_->request_id.clear();
    if (conn_ && conn_->is_open() && turn_status_.ok()) {
      // End the turn's audio so the service closes it; its results are ignored.
      conn_->Send(EncodeAudioMessage(request_id_, Now(), "", ""), /*binary=*/true);
      inbox_->draining_id = request_id_;
    }
  }

  core::Status UseGrammar(const std::string&, bool) override {
    return core::FailedPreconditionError(
        "azure-speech recognises open vocabulary (phrase hints bias it; no JSGF grammars)");
  }
  void UseLanguageModel() override {}
  void UsePhraseHints(const std::vector<std::string>& hints) override {
    options_.phrase_hints = hints;  // sent with the next turn's speech.context
  }

 private:
  static std::string Now() { return IsoTimestamp(std::chrono::system_clock::now()); }

  std::string Partial() {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    std::string text;
    for (const auto& p : inbox_->phrases) text += (text.empty() ? "" : " ") + p;
    if (!inbox_->hypothesis.empty()) text += (text.empty() ? "" : " ") + inbox_->hypothesis;
    return NormalizeTranscript(text);
  }

  bool WaitForDrain() {
    std::unique_lock<std::mutex> lock(inbox_->mu);
    bool drained = inbox_->cv.wait_for(
        lock, kDrainWait, [&] { return inbox_->draining_id.empty() || inbox_->closed; });
    inbox_->draining_id.clear();
    return drained;
  }

  void DropConnection() {
    if (conn_) conn_->Close();
    conn_.reset();
  }

  void SendTurnHead() {
    if (!config_sent_) {
      conn_->Send(EncodeTextMessage("speech.config", request_id_, Now(), "application/json",
                                    SpeechConfigBody()),
                  /*binary=*/false);
      config_sent_ = true;
    }
    conn_->Send(EncodeTextMessage("speech.context", request_id_, Now(), "application/json",
                                  SpeechContextBody(options_.phrase_hints)),
                /*binary=*/false);
    conn_->Send(
        EncodeAudioMessage(request_id_, Now(), "audio/x-wav", StreamingWavHeader(kSampleRate)),
        /*binary=*/true);
  }

  void SendPcm(std::span<const int16_t> pcm) {
    for (size_t at = 0; at < pcm.size(); at += kChunkSamples) {
      const size_t n = std::min(kChunkSamples, pcm.size() - at);
      std::string_view bytes(reinterpret_cast<const char*>(pcm.data() + at), n * 2);
      conn_->Send(EncodeAudioMessage(request_id_, Now(), "", bytes), /*binary=*/true);
    }
  }

  // A new connection for the turn in progress: its head again, then every sample so far.
  core::Status Reconnect() {
    conn_.reset();
    {
      std::lock_guard<std::mutex> lock(inbox_->mu);
      inbox_->hypothesis.clear();
      inbox_->phrases.clear();
      inbox_->phrase_error = core::Status();
      inbox_->turn_ended = false;
    }
    ARTAGENT_RETURN_IF_ERROR(EnsureConnected());
    SendTurnHead();
    SendPcm(replay_);
    return core::Status();
  }

  core::Status EnsureConnected() {
    if (conn_ && conn_->is_open()) return core::Status();
    conn_.reset();
    core::Status st;
    for (int attempt = 0;; ++attempt) {
      if (!shared_->breaker.Allow(core::Clock::now())) {
        shared_->Count("circuit_open");
        return core::UnavailableError(
            "azure-speech STT: circuit open after repeated connection failures");
      }
      st = OpenOnce();
      if (st.ok()) {
        shared_->breaker.RecordSuccess();
        return st;
      }
      shared_->breaker.RecordFailure(core::Clock::now());
      if (st.code() == core::StatusCode::kUnauthenticated) {
        shared_->Count("refused");
        if (shared_->options.auth != SpeechAuthMode::kToken || attempt > 0) return st;
        shared_->auth->Invalidate();  // a stale token: one more try with a fresh one
      } else {
        shared_->Count(st.code() == core::StatusCode::kResourceExhausted ? "throttled" : "connect");
      }
      if (attempt >= shared_->options.max_retries) return st;
      std::this_thread::sleep_for(shared_->Backoff(attempt));
    }
  }

  core::Status OpenOnce() {
    auto headers = shared_->auth->Headers();
    if (!headers.ok()) return headers.status();
    headers->emplace_back("X-ConnectionId", NewRequestId());
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lock(inbox_->mu);
      gen = ++inbox_->generation;
      inbox_->closed = false;
      inbox_->close_status = core::Status();
      inbox_->draining_id.clear();
    }
    std::weak_ptr<Inbox> weak = inbox_;
    net::WebSocketHandlers handlers;
    handlers.on_message = [weak, gen](std::string message, bool binary) {
      if (auto inbox = weak.lock()) inbox->OnMessage(gen, message, binary);
    };
    handlers.on_closed = [weak, gen](const core::Status& status) {
      if (auto inbox = weak.lock()) inbox->OnClosed(gen, status);
    };
    auto conn = shared_->ws->Connect(shared_->endpoints.stt_url, *headers,
                                     shared_->options.connect_timeout, std::move(handlers));
    if (!conn.ok()) return conn.status();
    conn_ = std::move(conn).value();
    config_sent_ = false;
    return core::Status();
  }

  std::shared_ptr<SttShared> shared_;
  SttOptions options_;
  std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<net::WebSocketConnection> conn_;
  bool config_sent_ = false;
  bool in_turn_ = false;
  core::Status turn_status_;
  std::string request_id_;
  std::vector<int16_t> replay_;
};

class AzureSttEngine final : public SttEngine {
 public:
  explicit AzureSttEngine(std::shared_ptr<SttShared> shared) : shared_(std::move(shared)) {}
  std::string name() const override { return "azure-speech"; }
  core::Result<std::unique_ptr<SttStream>> NewStream(const SttOptions& options) override {
    SttOptions o = options;
    if (o.language.empty()) o.language = shared_->options.language;
    auto stream = std::make_unique<AzureSttStream>(shared_, std::move(o));
    ARTAGENT_RETURN_IF_ERROR(stream->Warm());
    return std::unique_ptr<SttStream>(std::move(stream));
  }

 private:
  std::shared_ptr<SttShared> shared_;
};

}  // namespace

core::Result<std::unique_ptr<SttEngine>> CreateAzureStt(AzureSpeechOptions options,
                                                        net::HttpClient* http) {
  ARTAGENT_RETURN_IF_ERROR(ValidateOptions(options));
  auto endpoints = ResolveEndpoints(options);
  if (!endpoints.ok()) return endpoints.status();
  auto shared = std::make_shared<SttShared>(options);
  shared->endpoints = *endpoints;
  shared->executor = core::SerialThreadExecutor::Create("azure-stt");
  shared->auth = std::make_unique<SpeechAuth>(options, *endpoints, http, shared->executor);
  shared->ws = net::WebSocketClient::Create();
  return std::unique_ptr<SttEngine>(new AzureSttEngine(std::move(shared)));
}

}  // namespace artagent::speech::azure
