#include "session/session.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audio/frame_assembler.h"
#include "audio/jitter_buffer.h"
#include "audio/resampler.h"
#include "core/ids.h"
#include "core/log.h"
#include "platform/metrics.h"
#include "platform/telemetry.h"
#include "platform/store.h"
#include "session/clause_chunker.h"
#include "session/endpoint_detector.h"
#include "session/heard_text.h"
#include "session/recognizer_pipe.h"

namespace artagent::session {
namespace {

using core::Duration;
using core::TimePoint;

constexpr char kApology[] = "I'm sorry, I ran into a problem on my side. Could you say that again?";

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Ms(std::optional<TimePoint> from, std::optional<TimePoint> to) {
  if (!from || !to) return -1;
  return std::max(0.0, core::MillisBetween(*from, *to));
}

// When each stage of a turn happened (wall clock).
struct TurnTimes {
  std::optional<TimePoint> speech_end;   // arrival of the caller's last voiced frame
  std::optional<TimePoint> end_of_turn;  // the silence was long enough
  std::optional<TimePoint> stt_final;
  std::optional<TimePoint> text_arrived;  // typed turn
  std::optional<TimePoint> response_start;
  std::optional<TimePoint> first_token;
  std::optional<TimePoint> first_clause;
  std::optional<TimePoint> tts_first_audio;
  std::optional<TimePoint> first_sent;
  std::string user_item_id;
};

}  // namespace

struct Session::Impl {
  SessionDeps deps;
  SessionOptions opts;
  std::weak_ptr<Session> self;
  bool started = false;
  bool closed = false;

  // ---- input ----
  std::unique_ptr<audio::Resampler> in_resampler;
  int in_rate = 0;
  audio::Samples resampled;                                     // scratch for input at other rates
  audio::FrameAssembler frames_in{audio::kEngineFrameSamples};  // 16 kHz -> 20 ms frames
  std::deque<audio::Samples> prefix;  // the last frames before an onset (prefix padding)
  EndpointDetector endpoint;
  int64_t input_frames = 0;
  std::optional<TimePoint> last_voiced_at;
  std::optional<TimePoint> onset_at;  // estimated arrival of the segment's first voiced frame

  // The caller utterance being recognised.
  struct Utterance {
    uint64_t id = 0;
    std::string item_id;
    bool announced = false;  // SpeechStarted emitted (deferred while a barge-in is unconfirmed)
    bool barge_candidate = false;
    std::string last_partial;
    TurnTimes times;
  };
  std::optional<Utterance> utt;
  uint64_t next_utt = 1;
  bool manual_open = false;  // manual mode: an utterance is open and takes all audio

  // ---- recognizer ----
  std::unique_ptr<RecognizerPipe> recognizer;
  std::string current_grammar;
  std::vector<std::string> phrase_hints;  // the answering agent's speech.phrase_hints
  // utterance id -> item/times, for finals that arrive after the turn has moved on
  std::map<uint64_t, Utterance> finishing;

  // ---- response ----
  struct Response {
    uint64_t gen = 0;
    std::string id;
    std::string item_id;
    std::unique_ptr<ResponseStream> stream;
    bool model_done = false;
    bool greeting = false;
    std::string text;  // everything the model said
    ClauseChunker chunker;
    struct Clause {
      std::string text;
      std::string voice;  // the voice of the agent who said it (hand-offs change it mid-reply)
    };
    std::deque<Clause> clauses;  // waiting for TTS
    std::string synthesizing;    // the clause in TTS now
    bool tts_busy = false;
    std::shared_ptr<std::atomic<bool>> tts_cancel = std::make_shared<std::atomic<bool>>(false);
    // Synthesised, not yet sent. Bounded: five minutes of agent audio at up to 48 kHz.
    audio::OutputQueue queue{audio::kEngineSampleRate, 48000 * 300};
    int64_t sent = 0;  // samples handed to the transport
    bool playing = false;
    bool starved = false;
    TimePoint playout_start;
    ItemAudio audio;
    TurnTimes times;
    bool metrics_sent = false;
    platform::SpanContext turn_span;        // telemetry: valid when on
    std::optional<TimePoint> model_done_at;  // the model's last token
    std::string metrics_json = "{}";
    size_t history_start = 0;  // history size when the response began
    int64_t entry_seq = -1;    // the store position reserved for the agent's entry
    std::map<std::string, ToolCallInfo> open_tools;  // started, not yet finished
    std::optional<CallControl> control;              // carried out once the reply is sent
  };
  std::unique_ptr<Response> resp;
  uint64_t next_gen = 1;
  std::unique_ptr<core::Timer> pace_timer;
  audio::Samples frame_buf;  // reused by Pace()
  struct PendingResponse {
    std::string instructions;
    TurnTimes times;
  };
  std::optional<PendingResponse> pending_response;
  double last_barge_in_ms = -1;
  std::map<std::string, ItemAudio> item_audio;  // recent agent items, for late truncation
  std::deque<std::string> item_audio_order;

  // ---- DTMF ----
  std::string dtmf_digits;
  std::unique_ptr<core::Timer> dtmf_timer;

  // ---- conversation ----
  std::vector<HistoryItem> history;
  std::vector<nlohmann::json> client_tools;  // Realtime session.update "tools"
  bool voice_from_client = false;  // session.update chose a voice: agents do not override it
  bool silence_from_client = false;
  std::unique_ptr<core::Timer> control_timer;
  std::unique_ptr<core::Timer> no_input_timer;
  bool next_no_input = false;  // the next response re-prompts a silent caller
  std::string next_event;      // the next response reacts to this (Notify)
  int64_t seq = 0;
  platform::SpanContext session_span;  // telemetry: valid when on
  int64_t session_start_ns = 0;
  int turn_count = 0;
  std::string agent;

  Impl(SessionDeps d, SessionOptions o)
      : deps(std::move(d)),
        opts(std::move(o)),
        endpoint(EndpointConfig{.end_of_turn_silence_ms = opts.end_of_turn_silence_ms,
                                .max_turn_ms = opts.max_turn_ms}) {}

  core::Executor& ex() { return *deps.executor; }
  TimePoint Now() { return deps.executor->Now(); }

  void Emit(SessionEvent ev) {
    if (closed || !deps.output) return;
    if (!held.empty()) {
      held.push_back({0, std::move(ev)});
      return;
    }
    deps.output->OnSessionEvent(std::move(ev));
  }

  // ---- acknowledgement (platform/store.h) ----
  // Events held back until the store has committed what the session wrote before them: a barrier
  // (its number) at the front waits for its acknowledgement; events queue behind it in order.
  struct Held {
    uint64_t barrier = 0;  // != 0: a barrier, released once acked_barrier reaches it
    std::optional<SessionEvent> event;
  };
  std::deque<Held> held;
  uint64_t last_barrier = 0;
  uint64_t acked_barrier = 0;
  std::map<uint64_t, std::unique_ptr<core::Timer>> ack_timers;

  // What is emitted from now on waits until every store write made so far is committed, or
  // opts.store_ack_timeout_ms has passed (then it goes out unacknowledged, counted and logged).
  void HoldUntilCommitted() {
    if (!deps.store || closed || !deps.output) return;
    const uint64_t barrier = ++last_barrier;
    held.push_back({barrier, std::nullopt});
    std::weak_ptr<Session> weak = self;
    ack_timers[barrier] =
        ex().RunAfter(core::milliseconds(std::max(0, opts.store_ack_timeout_ms)), [weak, barrier] {
          auto s = weak.lock();
          if (!s || s->impl_->closed || s->impl_->acked_barrier >= barrier) return;
          Impl& im = *s->impl_;
          im.CountProviderError("store", "ack_timeout");
          core::LogWarn("session",
                        "{}: the store has not committed the turn after {} ms (see the store's "
                        "errors); sending its end unacknowledged, the writes stay queued",
                        im.opts.id, im.opts.store_ack_timeout_ms);
          im.Acknowledge(barrier);
        });
    std::shared_ptr<core::Executor> executor = deps.executor;
    deps.store->OnCommitted([weak, executor, barrier] {
      executor->Post([weak, barrier] {
        if (auto s = weak.lock()) s->impl_->Acknowledge(barrier);
      });
    });
  }

  void Acknowledge(uint64_t barrier) {
    if (barrier <= acked_barrier) return;
    acked_barrier = barrier;
    ack_timers.erase(ack_timers.begin(), ack_timers.upper_bound(barrier));
    ReleaseHeld();
  }

  void ReleaseHeld() {
    while (!held.empty() && !closed && deps.output) {
      if (held.front().barrier != 0) {
        if (held.front().barrier > acked_barrier) return;
        held.pop_front();
        continue;
      }
      SessionEvent ev = std::move(*held.front().event);
      held.pop_front();
      deps.output->OnSessionEvent(std::move(ev));
    }
  }

  void Error(std::string code, std::string message) {
    core::LogWarn("session", "{}: {}: {}", opts.id, code, message);
    Emit(SessionError{std::move(code), std::move(message)});
  }

  void Record(const std::string& item_id, const std::string& role, const std::string& text,
              bool interrupted, const std::string& metrics_json = "{}", int64_t at_seq = -1,
              const std::string& data_json = "{}", bool dtmf = false) {
    if (!deps.store) return;
    platform::TranscriptEntry e;
    e.agent = role == "user" ? "" : agent;
    e.data_json = data_json;
    e.dtmf = dtmf;
    e.session_id = opts.id;
    e.seq = at_seq >= 0 ? at_seq : seq++;
    e.item_id = item_id;
    e.role = role;
    e.text = text;
    e.interrupted = interrupted;
    e.at_ms = UnixMs();
    e.metrics_json = metrics_json;
    deps.store->Append(std::move(e));
  }

  std::string PreviousItemId() const { return history.empty() ? "" : history.back().id; }

  // ======================= start / close =======================

  void Start() {
    if (started) return;
    started = true;
    agent = deps.responder ? deps.responder->agent_name() : "";
    if (deps.store) {
      platform::SessionRecord rec;
      rec.id = opts.id;
      rec.transport = opts.transport;
      rec.scenario = opts.scenario;
      rec.agent = agent;
      rec.remote = opts.remote;
      rec.status = "active";
      rec.started_at_ms = UnixMs();
      deps.store->CreateSession(std::move(rec));
    }
    if (deps.metrics) {
      deps.metrics->sessions_active.Add({{"transport", opts.transport}}).Increment();
      deps.metrics->sessions_total.Add({{"transport", opts.transport}}).Increment();
    }
    StartSessionSpan();
    if (!agent.empty()) Emit(AgentChanged{agent});
    ApplyAgentSpeech();
    OpenRecognizer();
    ArmIdleTimer();
    if (opts.speak_greeting && deps.responder) StartResponse(/*greeting=*/true, "", TurnTimes{});
  }

  // Restarted by caller activity; when it fires while the agent is silent the session ends.
  void ArmIdleTimer() {
    if (opts.idle_timeout_s <= 0 || closed) return;
    std::weak_ptr<Session> weak = self;
    idle_timer = ex().RunAfter(std::chrono::seconds(opts.idle_timeout_s), [weak] {
      auto s = weak.lock();
      if (!s || s->impl_->closed) return;
      Impl& im = *s->impl_;
      if (im.resp || im.utt) {
        im.ArmIdleTimer();  // mid-turn: not idle
        return;
      }
      core::LogInfo("session", "{}: no caller activity for {} s: ending", im.opts.id,
                    im.opts.idle_timeout_s);
      SessionOutput* out = im.deps.output;
      im.Close("idle");
      if (out) out->OnSessionEvent(SessionEnded{"idle_timeout"});
    });
  }
  std::unique_ptr<core::Timer> idle_timer;

  void OpenRecognizer() {
    std::weak_ptr<Session> weak = self;
    recognizer = std::make_unique<RecognizerPipe>(deps.executor, deps.compute, deps.stt,
                                                  [weak](const RecognizerPipe::Outcome& o) {
                                                    auto s = weak.lock();
                                                    if (s && !s->impl_->closed)
                                                      s->impl_->OnRecognizer(o);
                                                  });
    recognizer->Open();
    if (!phrase_hints.empty()) recognizer->UsePhraseHints(phrase_hints);
  }

  void OnRecognizer(const RecognizerPipe::Outcome& o) {
    using Kind = RecognizerPipe::Outcome::Kind;
    switch (o.kind) {
      case Kind::kPartial:
        OnSttPartial(o.utterance, o.partial);
        break;
      case Kind::kFinal:
        OnSttFinal(o.utterance, o.status, o.result);
        break;
      case Kind::kOpenFailed:
        CountProviderError("stt", "open");
        Error("stt_failed", "speech recognizer unavailable: " + o.status.ToString());
        break;
      case Kind::kFailed:
        CountProviderError("stt", "decode");
        core::LogWarn("session", "{}: recognizer: {}", opts.id, o.status.ToString());
        break;
    }
  }

  void Close(const std::string& status) {
    if (closed) return;
    pending_response.reset();
    // A reply cut off by the end of the session keeps what the caller heard of it.
    if (resp) FinishResponse("cancelled", "session_closed", HeardNow(*resp));
    // The transport still listening gets what was held for the store, unacknowledged or not:
    // the session's last events must not vanish.
    acked_barrier = last_barrier;
    ack_timers.clear();
    ReleaseHeld();
    held.clear();
    pace_timer.reset();
    idle_timer.reset();
    dtmf_timer.reset();
    control_timer.reset();
    no_input_timer.reset();
    recognizer.reset();  // its stream is released when its last job finishes
    closed = true;
    if (deps.store) {
      deps.store->EndSession(opts.id, status, UnixMs());
    }
    EndSessionSpan(status);
    if (deps.metrics && started) {
      deps.metrics->sessions_active.Add({{"transport", opts.transport}}).Decrement();
    }
    if (deps.recorder) deps.recorder->Finish();
    if (deps.on_closed) std::exchange(deps.on_closed, nullptr)(status);
    resp.reset();
    deps.output = nullptr;
  }

  // ---- telemetry: spans built from the timestamps the session records anyway ----

  void StartSessionSpan() {
    if (!deps.telemetry) return;
    session_span = platform::SpanContext::NewRoot();
    session_start_ns = platform::NowUnixNanos();
    deps.telemetry->BindSession(opts.id, session_span);
  }

  void EndSessionSpan(const std::string& status) {
    if (!deps.telemetry || !session_span.valid()) return;
    platform::SpanRecord s;
    s.context = session_span;
    s.name = "session";
    s.kind = platform::SpanKind::kServer;
    s.start_ns = session_start_ns;
    s.end_ns = platform::NowUnixNanos();
    s.Attr("session.id", opts.id)
        .Attr("artagent.transport", opts.transport)
        .Attr("artagent.scenario", opts.scenario)
        .Attr("artagent.outcome", status)
        .Attr("artagent.turns", turn_count)
        .Attr("artagent.agent", agent);
    if (status == "failed") s.Error("session failed");
    deps.telemetry->RecordSpan(std::move(s));
    deps.telemetry->UnbindSession(opts.id);
    session_span = {};
  }

  platform::SpanRecord StageSpan(const Response& r, const char* name, TimePoint start,
                                 TimePoint end) const {
    platform::SpanRecord s;
    s.context = r.turn_span.Child();
    s.parent = r.turn_span.span_id;
    s.name = name;
    s.start_ns = platform::UnixNanos(start);
    s.end_ns = platform::UnixNanos(std::max(start, end));
    return s;
  }

  void RecordToolSpan(const Response& r, const ToolCallInfo& call) {
    if (!deps.telemetry || !r.turn_span.valid()) return;
    const TimePoint end = Now();
    const TimePoint start =
        call.duration_ms >= 0
            ? end - std::chrono::duration_cast<core::Duration>(
                        std::chrono::duration<double, std::milli>(call.duration_ms))
            : end;
    platform::SpanRecord s = StageSpan(r, "tool", start, end);
    s.Attr("artagent.tool.name", call.name)
        .Attr("artagent.tool.status", call.status)
        .Attr("artagent.tool.call_id", call.call_id)
        .Attr("artagent.agent", call.agent);
    if (deps.telemetry->include_pii()) s.Attr("artagent.tool.arguments", call.arguments);
    if (call.status == "failed" || call.status == "timeout") s.Error("tool " + call.status);
    deps.telemetry->RecordSpan(std::move(s));
  }

  // The turn (child of the session) and its stages (children of the turn). Transcripts and reply
  // text never go into spans.
  void RecordTurnSpans(const Response& r, const std::string& status, const std::string& reason,
                       int64_t audio_ms) {
    if (!deps.telemetry || !r.turn_span.valid()) return;
    ++turn_count;
    const TurnTimes& t = r.times;
    const TimePoint end = Now();
    const TimePoint begin = t.speech_end     ? *t.speech_end
                            : t.text_arrived ? *t.text_arrived
                                             : t.response_start.value_or(end);
    platform::SpanRecord turn;
    turn.context = r.turn_span;
    turn.parent = session_span.span_id;
    turn.name = "turn";
    turn.start_ns = platform::UnixNanos(begin);
    turn.end_ns = platform::UnixNanos(end);
    turn.Attr("artagent.turn.kind", r.greeting        ? "greeting"
                                    : t.text_arrived ? "text"
                                    : t.speech_end   ? "voice"
                                                     : "response")
        .Attr("artagent.response_id", r.id)
        .Attr("artagent.agent", agent)
        .Attr("artagent.status", status)
        .Attr("artagent.audio_ms", audio_ms);
    if (!reason.empty() && status == "cancelled") turn.Attr("artagent.cancel_reason", reason);
    if (t.speech_end && t.first_sent) {
      turn.Attr("artagent.latency.voice_to_voice_ms", core::MillisBetween(*t.speech_end, *t.first_sent));
    }
    if (status == "failed") turn.Error(reason.empty() ? "response failed" : reason);
    deps.telemetry->RecordSpan(std::move(turn));

    auto stage = [&](const char* name, const std::optional<TimePoint>& from,
                     const std::optional<TimePoint>& to) {
      if (!from || !to) return;
      deps.telemetry->RecordSpan(StageSpan(r, name, *from, *to));
    };
    stage("endpointing", t.speech_end, t.end_of_turn);
    stage("stt", t.end_of_turn, t.stt_final);
    const std::optional<TimePoint> model_from =
        t.stt_final ? t.stt_final : (t.text_arrived ? t.text_arrived : t.response_start);
    if (model_from) {
      platform::SpanRecord model = StageSpan(r, "model", *model_from, r.model_done_at.value_or(end));
      if (t.first_token) {
        model.Attr("artagent.model.first_token_ms", core::MillisBetween(*model_from, *t.first_token));
      }
      if (status == "failed") model.Error(reason.empty() ? "model failed" : reason);
      deps.telemetry->RecordSpan(std::move(model));
    }
    stage("model.first_token", model_from, t.first_token);
    stage("tts", t.first_clause, t.tts_first_audio);
    if (t.first_sent && opts.output_audio) {
      platform::SpanRecord playout = StageSpan(r, "playout", *t.first_sent, end);
      playout.Attr("artagent.audio_ms", audio_ms).Attr("artagent.interrupted", status == "cancelled");
      deps.telemetry->RecordSpan(std::move(playout));
    }
  }

  void CountProviderError(const char* provider, const char* kind) {
    if (deps.metrics) {
      deps.metrics->provider_errors_total.Add({{"provider", provider}, {"kind", kind}}).Increment();
    }
  }

  // ======================= input audio =======================

  void PushAudio(std::span<const int16_t> pcm, int rate) {
    if (closed) return;
    if (rate != audio::kEngineSampleRate) {
      if (!in_resampler || in_rate != rate) {
        auto r = audio::Resampler::Create(rate, audio::kEngineSampleRate);
        if (!r.ok()) {
          Error("bad_audio", r.status().message());
          return;
        }
        in_resampler = std::move(r).value();
        in_rate = rate;
      }
      resampled.clear();
      in_resampler->Process(pcm, &resampled);
      pcm = resampled;
    }
    if (deps.recorder) deps.recorder->AddCaller(pcm, Now());
    frames_in.Push(pcm, [this](std::span<const int16_t> frame) {
      if (!closed) OnFrame(frame);
    });
  }

  void OnFrame(std::span<const int16_t> frame) {
    ++input_frames;
    if (!opts.server_vad) {
      if (!manual_open) {
        manual_open = true;
        BeginUtterance(/*announce=*/false, /*candidate=*/false);
      }
      SttFeed(frame);
      return;
    }
    const bool voiced = deps.vad ? deps.vad->IsSpeech(frame) : false;
    if (voiced) last_voiced_at = Now();
    auto ev = endpoint.Push(voiced);
    if (ev == EndpointDetector::Event::kSpeechStarted) {
      const int64_t back = endpoint.frames_seen() - endpoint.segment_start_frame();
      onset_at = Now() - core::milliseconds(back * audio::kFrameMs);
      const bool candidate = AgentSpeaking() && opts.interrupt_response;
      BeginUtterance(/*announce=*/!candidate, candidate);
      // The prefix padding: frames kept from before the onset, then this one.
      for (auto& f : prefix) SttFeed(f);
      prefix.clear();
      SttFeed(frame);
      if (candidate) CheckBargeIn();
      return;
    }
    if (endpoint.in_speech()) {
      SttFeed(frame);
      if (utt && utt->barge_candidate) CheckBargeIn();
      return;
    }
    if (ev == EndpointDetector::Event::kSpeechStopped) {
      SttFeed(frame);
      EndOfTurn();
      return;
    }
    // Silence outside a turn: keep it as possible prefix padding.
    const size_t keep = static_cast<size_t>(std::max(0, opts.prefix_padding_ms / audio::kFrameMs));
    if (keep > 0) {
      prefix.emplace_back(frame.begin(), frame.end());
      while (prefix.size() > keep) prefix.pop_front();
    }
  }

  bool AgentSpeaking() const { return resp && opts.output_audio; }

  void BeginUtterance(bool announce, bool candidate) {
    if (utt) CancelUtterance();
    no_input_timer.reset();
    Utterance u;
    u.id = next_utt++;
    u.item_id = core::NewId("item");
    u.barge_candidate = candidate;
    utt = std::move(u);
    if (recognizer) recognizer->Start(utt->id);
    if (announce) Announce();
  }

  void Announce() {
    if (!utt || utt->announced) return;
    utt->announced = true;
    ArmIdleTimer();
    int64_t start_ms = 0;
    if (opts.server_vad) {
      start_ms = std::max<int64_t>(
          0, endpoint.segment_start_frame() * audio::kFrameMs - opts.prefix_padding_ms);
    }
    Emit(SpeechStarted{utt->item_id, start_ms});
  }

  void CheckBargeIn() {
    if (!utt || !utt->barge_candidate) return;
    const bool sustained = endpoint.voiced_ms() >= opts.barge_in_min_speech_ms;
    const bool heard_words = !utt->last_partial.empty();
    if (!sustained && !heard_words) return;
    utt->barge_candidate = false;
    if (resp) {
      const TimePoint now = Now();
      BargeIn();
      last_barge_in_ms = onset_at ? core::MillisBetween(*onset_at, now) : -1;
      if (deps.metrics) {
        deps.metrics->barge_ins_total.Add({{"transport", opts.transport}}).Increment();
        if (last_barge_in_ms >= 0) {
          deps.metrics->turn_latency_seconds
              .Add({{"stage", "barge_in_stop"}}, platform::Metrics::LatencyBuckets())
              .Observe(last_barge_in_ms / 1000.0);
        }
      }
    }
    Announce();
  }

  void CancelUtterance() {
    if (!utt) return;
    if (recognizer) recognizer->Cancel(utt->id);
    utt.reset();
  }

  void EndOfTurn() {
    if (!utt) return;
    if (utt->barge_candidate) {
      // Too short to interrupt the agent (a cough, "mm-hmm"): not a turn.
      CancelUtterance();
      return;
    }
    Utterance u = std::move(*utt);
    utt.reset();
    u.times.speech_end = last_voiced_at.value_or(Now());
    u.times.end_of_turn = Now();
    const int64_t end_ms = opts.server_vad ? (endpoint.last_voiced_frame() + 1) * audio::kFrameMs
                                           : input_frames * audio::kFrameMs;
    if (opts.server_vad) Emit(SpeechStopped{u.item_id, end_ms});
    Emit(InputCommitted{u.item_id, PreviousItemId()});
    const uint64_t id = u.id;
    finishing.emplace(id, std::move(u));
    if (recognizer) recognizer->End(id);
  }

  void CommitInput() {
    if (opts.server_vad) {
      if (utt) {
        utt->barge_candidate = false;
        Announce();
        EndOfTurn();
      }
      return;
    }
    if (!manual_open || !utt) {
      Error("input_audio_buffer_commit_empty", "there is no input audio to commit");
      return;
    }
    manual_open = false;
    EndOfTurn();
  }

  void ClearInput() {
    frames_in.Clear();
    prefix.clear();
    CancelUtterance();
    manual_open = false;
    endpoint.Reset();
    Emit(InputCleared{});
  }

  // ======================= recognizer pipe =======================

  void SttFeed(std::span<const int16_t> frame) {
    if (utt && recognizer) recognizer->Feed(utt->id, frame);
  }

  void OnSttPartial(uint64_t id, const std::string& text) {
    if (!utt || utt->id != id || text.empty() || text == utt->last_partial) return;
    utt->last_partial = text;
    if (utt->barge_candidate) CheckBargeIn();
    if (utt && utt->announced) Emit(TranscriptPartial{utt->item_id, text});
  }

  void OnSttFinal(uint64_t id, const core::Status& status, const speech::SttResult& result) {
    auto it = finishing.find(id);
    if (it == finishing.end()) {
      // The utterance failed to start or was cancelled before its end.
      if (utt && utt->id == id && !status.ok()) {
        CountProviderError("stt", "start");
        Error("stt_failed", status.ToString());
      }
      return;
    }
    Utterance u = std::move(it->second);
    finishing.erase(it);
    u.times.stt_final = Now();
    u.times.user_item_id = u.item_id;
    if (!status.ok()) {
      CountProviderError("stt", "final");
      Emit(TranscriptFailed{u.item_id, status.ToString()});
      return;
    }
    Emit(TranscriptFinal{u.item_id, result.text});
    if (deps.metrics) {
      deps.metrics->turns_total.Add({{"transport", opts.transport}}).Increment();
      deps.metrics->turn_latency_seconds
          .Add({{"stage", "stt_final"}}, platform::Metrics::LatencyBuckets())
          .Observe(Ms(u.times.end_of_turn, u.times.stt_final) / 1000.0);
    }
    if (result.text.empty()) {
      core::LogInfo("session", "{}: caller turn had no words; not answering", opts.id);
      return;
    }
    history.push_back({u.item_id, HistoryItem::Role::kUser, result.text, false});
    Record(u.item_id, "user", result.text, false);
    if (opts.create_response) StartResponse(false, "", u.times);
  }

  void AddUserText(const std::string& text, bool dtmf = false) {
    no_input_timer.reset();
    std::string item_id = core::NewId("item");
    Emit(UserTextItem{item_id, PreviousItemId(), text, dtmf});
    HistoryItem h{item_id, HistoryItem::Role::kUser, text, false};
    h.dtmf = dtmf;
    history.push_back(std::move(h));
    Record(item_id, "user", text, false, "{}", -1, "{}", dtmf);
    last_text_item_at = Now();
    last_text_item_id = item_id;
    ArmIdleTimer();
  }
  std::optional<TimePoint> last_text_item_at;
  std::string last_text_item_id;

  void Notify(const std::string& event) {
    if (closed) return;
    no_input_timer.reset();
    std::string item_id = core::NewId("item");
    history.push_back(HistoryItem{item_id, HistoryItem::Role::kSystem, event, false});
    Record(item_id, "system", event, false);
    next_event = event;
    StartResponse(false, "", TurnTimes{});
  }

  // ======================= responses =======================

  void CreateResponse(const std::string& instructions) {
    TurnTimes times;
    if (last_text_item_at) {
      times.text_arrived = last_text_item_at;
      times.user_item_id = last_text_item_id;
      last_text_item_at.reset();
    }
    StartResponse(false, instructions, times);
  }

  void StartResponse(bool greeting, const std::string& instructions, TurnTimes times) {
    if (resp) {
      // One response at a time: this one starts when the current one ends.
      pending_response = PendingResponse{instructions, times};
      return;
    }
    if (!deps.responder) {
      Error("no_model", "this session has no model to answer with");
      return;
    }
    resp = std::make_unique<Response>();
    Response& r = *resp;
    r.gen = next_gen++;
    r.id = core::NewId("resp");
    r.item_id = core::NewId("item");
    r.greeting = greeting;
    r.times = std::move(times);
    r.times.response_start = Now();
    r.history_start = history.size();
    // The reply is recorded where it began: what the caller types or says while it plays comes
    // after it, in the store as in the history.
    r.entry_seq = seq++;
    r.audio.sample_rate = opts.output_sample_rate;
    Emit(ResponseStarted{r.id});
    Emit(OutputItemStarted{r.id, r.item_id, agent});

    no_input_timer.reset();
    ResponseRequest req;
    req.history = &history;
    req.greeting = greeting;
    req.no_input = next_no_input;
    next_no_input = false;
    req.event = std::move(next_event);
    next_event.clear();
    req.instructions = instructions;
    const uint64_t gen = r.gen;
    ResponseCallbacks cb;
    std::weak_ptr<Session> weak = self;
    cb.on_text = [weak, gen](std::string_view delta) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnModelText(gen, delta);
    };
    cb.on_done = [weak, gen](const core::Status& st) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnModelDone(gen, st);
    };
    cb.on_tool_started = [weak, gen](const ToolCallInfo& call) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnToolStarted(gen, call);
    };
    cb.on_tool_finished = [weak, gen](const ToolCallInfo& call) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnToolFinished(gen, call);
    };
    cb.on_handoff = [weak, gen](const HandoffInfo& h) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnHandoff(gen, h);
    };
    cb.on_slot = [weak, gen](const SlotInfo& slot) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnSlot(gen, slot);
    };
    cb.on_call_control = [weak, gen](const CallControl& c) {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->OnCallControl(gen, c);
    };
    req.client_tools = &client_tools;
    if (session_span.valid()) {
      r.turn_span = session_span.Child();
      req.traceparent = platform::FormatTraceparent(r.turn_span);
    }
    r.stream = deps.responder->Respond(req, std::move(cb));
    UpdateGrammar();
  }

  Response* Current(uint64_t gen) { return resp && resp->gen == gen ? resp.get() : nullptr; }

  // ---- what the agent does besides talking ----

  static std::string ToolData(const ToolCallInfo& c) {
    nlohmann::json j = {{"call_id", c.call_id},     {"name", c.name},
                        {"arguments", c.arguments}, {"output", c.output},
                        {"status", c.status},       {"duration_ms", c.duration_ms}};
    return j.dump();
  }

  void OnToolStarted(uint64_t gen, const ToolCallInfo& call) {
    Response* r = Current(gen);
    if (!r) return;
    r->open_tools[call.call_id] = call;
    Record(call.call_id, "tool", call.name, false, "{}", -1, ToolData(call));
    Emit(ToolCallStarted{r->id, call});
  }

  // The call and its output enter the history together: no call is ever left unanswered.
  void OnToolFinished(uint64_t gen, const ToolCallInfo& call) {
    Response* r = Current(gen);
    if (!r) return;
    r->open_tools.erase(call.call_id);
    RecordToolSpan(*r, call);
    AddToolItem(r->id, call);
  }

  void AddToolItem(const std::string& response_id, const ToolCallInfo& call) {
    HistoryItem h;
    h.id = call.call_id;
    h.role = HistoryItem::Role::kTool;
    h.agent = call.agent;
    h.tool = call;
    history.push_back(std::move(h));
    Record(call.call_id, "tool", call.name, call.status == "cancelled", "{}", -1, ToolData(call));
    if (deps.metrics) {
      deps.metrics->tool_calls_total.Add({{"tool", call.name}, {"status", call.status}})
          .Increment();
      if (call.duration_ms >= 0) {
        deps.metrics->tool_duration_seconds
            .Add({{"tool", call.name}}, platform::Metrics::LatencyBuckets())
            .Observe(call.duration_ms / 1000.0);
      }
    }
    Emit(ToolCallFinished{response_id, call});
  }

  void OnHandoff(uint64_t gen, const HandoffInfo& handoff) {
    Response* r = Current(gen);
    if (!r) return;
    HistoryItem h;
    h.id = core::NewId("item");
    h.role = HistoryItem::Role::kHandoff;
    h.agent = handoff.to;
    h.handoff = handoff;
    history.push_back(h);
    nlohmann::json data = {{"from", handoff.from},
                           {"to", handoff.to},
                           {"type", handoff.type},
                           {"share_context", handoff.share_context},
                           {"reason", handoff.reason}};
    agent = handoff.to;
    Record(h.id, "handoff", handoff.from + " -> " + handoff.to, false, "{}", -1, data.dump());
    if (deps.metrics) {
      deps.metrics->handoffs_total
          .Add({{"from", handoff.from}, {"to", handoff.to}, {"type", handoff.type}})
          .Increment();
    }
    Emit(HandoffOccurred{r->id, handoff});
    Emit(AgentChanged{agent});
    ApplyAgentSpeech();
  }

  void OnSlot(uint64_t gen, const SlotInfo& slot) {
    if (!Current(gen)) return;
    if (deps.store) {
      platform::SlotRecord rec;
      rec.session_id = opts.id;
      rec.name = slot.name;
      rec.type = slot.type;
      rec.value_json = slot.value;
      rec.agent = slot.agent;
      rec.updated_at_ms = UnixMs();
      deps.store->SetSlot(std::move(rec));
    }
    Emit(SlotSet{slot});
  }

  void OnCallControl(uint64_t gen, const CallControl& control) {
    Response* r = Current(gen);
    if (!r) return;
    r->control = control;
  }

  // After the reply that announced it has been sent: let the far end play out what it has
  // buffered (the lead), then act.
  void CarryOut(const CallControl& control) {
    std::weak_ptr<Session> weak = self;
    // (A lead beyond a couple of seconds means nobody plays in real time: `converse --no-pacing`.)
    const int delay_ms = opts.output_audio ? std::min(opts.output_lead_ms, 2000) + 200 : 0;
    control_timer = ex().RunAfter(core::milliseconds(delay_ms), [weak, control] {
      auto s = weak.lock();
      if (!s || s->impl_->closed) return;
      Impl& im = *s->impl_;
      im.Emit(CallControlRequested{control});
      if (control.kind == CallControl::Kind::kEndCall) {
        SessionOutput* out = im.deps.output;
        im.Close("ended");
        if (out) out->OnSessionEvent(SessionEnded{"agent_ended_call"});
      }
    });
  }

  void ApplyAgentSpeech() {
    if (!deps.responder) return;
    AgentSpeech sp = deps.responder->speech();
    if (!sp.voice.empty() && !voice_from_client) opts.voice = sp.voice;
    if (sp.phrase_hints != phrase_hints) {
      phrase_hints = sp.phrase_hints;
      if (recognizer) recognizer->UsePhraseHints(phrase_hints);
    }
    if (sp.end_of_turn_silence_ms > 0 && !silence_from_client) {
      opts.end_of_turn_silence_ms = sp.end_of_turn_silence_ms;
      endpoint.set_end_of_turn_silence_ms(sp.end_of_turn_silence_ms);
    }
  }

  // ---- DTMF: keys collect until '#' or a pause, then count as one caller turn ----

  void PushDtmf(char key) {
    if (closed) return;
    if (!std::isdigit(static_cast<unsigned char>(key)) && key != '*' && key != '#' &&
        !(key >= 'A' && key <= 'D')) {
      Error("bad_dtmf", std::string("not a DTMF key: '") + key + "'");
      return;
    }
    ArmIdleTimer();
    no_input_timer.reset();
    // A key press interrupts the agent at once (no doubt it is the caller).
    if (resp && opts.interrupt_response) BargeIn();
    if (key == '#') {
      CommitDtmf();
      return;
    }
    dtmf_digits.push_back(key);
    std::weak_ptr<Session> weak = self;
    dtmf_timer = ex().RunAfter(core::milliseconds(opts.dtmf_timeout_ms), [weak] {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->CommitDtmf();
    });
  }

  void CommitDtmf() {
    dtmf_timer.reset();
    if (dtmf_digits.empty()) return;
    std::string digits = std::move(dtmf_digits);
    dtmf_digits.clear();
    AddUserText(digits, /*dtmf=*/true);
    TurnTimes times;
    times.text_arrived = last_text_item_at;
    times.user_item_id = last_text_item_id;
    last_text_item_at.reset();
    if (opts.create_response) StartResponse(false, "", std::move(times));
  }

  void OnModelText(uint64_t gen, std::string_view delta) {
    Response* r = Current(gen);
    if (!r || delta.empty()) return;
    if (!r->times.first_token) r->times.first_token = Now();
    r->text.append(delta);
    Emit(TextDelta{r->id, r->item_id, std::string(delta)});
    if (!opts.output_audio) {
      MaybeSendMetrics(*r);
      return;
    }
    std::vector<std::string> clauses;
    r->chunker.Push(delta, &clauses);
    QueueClauses(*r, clauses);
  }

  void OnModelDone(uint64_t gen, const core::Status& status) {
    Response* r = Current(gen);
    if (!r) return;
    if (!status.ok()) {
      CountProviderError("model", "stream");
      Error("model_failed", status.ToString());
      // Never dead air: say a short apology through the same pipeline.
      std::string apology = r->text.empty() ? kApology : std::string(" ") + kApology;
      OnModelText(gen, apology);
      r = Current(gen);
      if (!r) return;
    }
    r->model_done = true;
    r->model_done_at = Now();
    r->stream.reset();
    UpdateGrammar();
    if (opts.output_audio) {
      std::vector<std::string> clauses;
      r->chunker.Flush(&clauses);
      QueueClauses(*r, clauses);
    }
    MaybeFinish();
  }

  void QueueClauses(Response& r, std::vector<std::string>& clauses) {
    for (auto& c : clauses) {
      if (!r.times.first_clause) r.times.first_clause = Now();
      r.clauses.push_back({std::move(c), opts.voice});
    }
    PumpTts();
  }

  void PumpTts() {
    Response* r = resp.get();
    if (!r || r->tts_busy || r->clauses.empty()) return;
    if (!deps.tts) {
      r->clauses.clear();
      Error("tts_failed", "no speech synthesizer configured");
      MaybeFinish();
      return;
    }
    r->tts_busy = true;
    Response::Clause clause = std::move(r->clauses.front());
    r->clauses.pop_front();
    r->synthesizing = std::move(clause.text);
    r->audio.spans.push_back({r->synthesizing, r->audio.total, r->audio.total});
    speech::TtsRequest req{r->synthesizing, clause.voice, opts.speech_rate};
    auto* tts = deps.tts;
    auto cancel = r->tts_cancel;
    const int out_rate = opts.output_sample_rate;
    const uint64_t gen = r->gen;
    std::weak_ptr<Session> weak = self;
    auto executor = deps.executor;
    bool queued = deps.compute->TrySubmit([=] {
      std::unique_ptr<audio::Resampler> rs;
      core::Status st;
      // An engine that throws ends the clause like an error: the reply goes on without it
      // (never a response stuck waiting for synthesis).
      try {
        st = tts->Synthesize(req, [&](std::span<const int16_t> pcm, int rate) {
          if (*cancel) return false;
          auto out = std::make_shared<audio::Samples>();
          if (rate != out_rate) {
            if (!rs) {
              auto created = audio::Resampler::Create(rate, out_rate);
              if (!created.ok()) return false;
              rs = std::move(created).value();
            }
            rs->Process(pcm, out.get());
          } else {
            out->assign(pcm.begin(), pcm.end());
          }
          audio::PcmBuffer buf = std::move(out);
          executor->Post([weak, gen, buf] {
            auto s = weak.lock();
            if (s && !s->impl_->closed) s->impl_->OnTtsAudio(gen, buf);
          });
          return !*cancel;
        });
      } catch (const std::exception& e) {
        st = core::InternalError(std::string("speech synthesizer threw: ") + e.what());
      } catch (...) {
        st = core::InternalError("speech synthesizer threw an unknown exception");
      }
      executor->Post([weak, gen, st] {
        auto s = weak.lock();
        if (s && !s->impl_->closed) s->impl_->OnTtsDone(gen, st);
      });
    });
    if (!queued) {
      r->tts_busy = false;
      CountProviderError("tts", "overload");
      Error("tts_failed", "speech synthesis is overloaded; try again");
      r->clauses.clear();
      MaybeFinish();
    }
  }

  void OnTtsAudio(uint64_t gen, const audio::PcmBuffer& pcm) {
    Response* r = Current(gen);
    if (!r || pcm->empty()) return;
    if (!r->times.tts_first_audio) r->times.tts_first_audio = Now();
    if (core::Status st = r->queue.Push(*pcm); !st.ok()) {
      Error("tts_failed", "reply too long to queue: " + st.message());
      return;
    }
    r->audio.total += static_cast<int64_t>(pcm->size());
    if (!r->audio.spans.empty()) r->audio.spans.back().end = r->audio.total;
    if (!pace_timer) Pace();
  }

  void OnTtsDone(uint64_t gen, const core::Status& st) {
    Response* r = Current(gen);
    if (!r) return;
    r->tts_busy = false;
    if (!st.ok() && st.code() != core::StatusCode::kCancelled) {
      CountProviderError("tts", "synthesize");
      Error("tts_failed", st.ToString());
    }
    PumpTts();
    if (!pace_timer) Pace();
    MaybeFinish();
  }

  // Sends whatever audio is due: real time plus the lead. Re-arms itself every 20 ms while there
  // is audio queued.
  void Pace() {
    pace_timer.reset();
    Response* r = resp.get();
    if (!r) return;
    const int rate = opts.output_sample_rate;
    const size_t frame = audio::SamplesPerFrame(rate);
    const TimePoint now = Now();
    if (r->queue.empty()) {
      if (r->playing) r->starved = true;
      return;  // OnTtsAudio restarts pacing
    }
    if (!r->playing || r->starved) {
      // Start, or restart after the queue ran dry. The far end keeps playing what it has, so the
      // clock only moves when it really ran out (everything sent has been played by now): a
      // gap between two TTS chunks must not give every chunk a fresh lead.
      const TimePoint played_all = now - core::Duration(r->sent * 1000000LL / rate);
      r->playout_start = r->playing ? std::max(r->playout_start, played_all) : played_all;
      r->playing = true;
      r->starved = false;
    }
    const int64_t elapsed =
        std::chrono::duration_cast<core::Duration>(now - r->playout_start).count() * rate /
        1000000LL;
    const int64_t target = elapsed + static_cast<int64_t>(opts.output_lead_ms) * rate / 1000;
    // Once the reply's audio is complete, its last partial frame goes out padded with silence.
    if (r->model_done && r->clauses.empty() && !r->tts_busy) r->queue.FlushTail();
    std::shared_ptr<audio::Samples> chunk;
    while (r->sent < target && r->queue.PopFrame(frame, &frame_buf)) {
      if (!chunk) chunk = std::make_shared<audio::Samples>();
      chunk->insert(chunk->end(), frame_buf.begin(), frame_buf.end());
      r->sent += static_cast<int64_t>(frame);
    }
    if (chunk) {
      if (deps.recorder) deps.recorder->AddAgent(*chunk, rate, Now());
      if (!r->times.first_sent) r->times.first_sent = Now();
      Emit(AudioChunk{r->id, r->item_id, std::move(chunk), rate});
      MaybeSendMetrics(*r);
      if (!resp) return;
    }
    if (r->queue.empty()) {
      MaybeFinish();
      if (!resp || resp.get() != r) return;
      if (r->queue.empty()) {
        r->starved = true;
        return;
      }
    }
    // Ticks on the playout clock's 20 ms grid, not 20 ms after whenever this one ran: a late tick
    // is followed by an early one instead of a pair of frames later on.
    const core::Duration frame_us = core::milliseconds(audio::kFrameMs);
    const auto since_start = std::chrono::duration_cast<core::Duration>(now - r->playout_start);
    const core::Duration next = frame_us * (since_start / frame_us + 1) - since_start;
    std::weak_ptr<Session> weak = self;
    pace_timer = ex().RunAfter(std::max(next, core::Duration(1000)), [weak] {
      auto s = weak.lock();
      if (s && !s->impl_->closed) s->impl_->Pace();
    });
  }

  void MaybeSendMetrics(Response& r) {
    if (r.metrics_sent) return;
    if (opts.output_audio) {
      if (!r.times.first_sent) return;
    } else {
      r.times.first_sent = r.times.first_token;
    }
    r.metrics_sent = true;
    TurnMetrics m = BuildMetrics(r);
    last_barge_in_ms = -1;  // reported once, with the turn that followed it
    r.metrics_json = LatencyJson(m).dump();
    Emit(m);
    if (deps.metrics && !r.greeting) {
      auto observe = [&](const char* stage, double ms) {
        if (ms < 0) return;
        deps.metrics->turn_latency_seconds
            .Add({{"stage", stage}}, platform::Metrics::LatencyBuckets())
            .Observe(ms / 1000.0);
      };
      observe("model_first_token", m.model_first_token_ms);
      observe("tts_first_audio", m.tts_first_audio_ms);
      observe("voice_to_voice", m.voice_to_voice_ms);
    }
  }

  TurnMetrics BuildMetrics(const Response& r) const {
    const TurnTimes& t = r.times;
    TurnMetrics m;
    m.response_id = r.id;
    m.item_id = r.item_id;
    m.user_item_id = t.user_item_id;
    m.text_turn = t.text_arrived.has_value();
    m.endpointing_ms = Ms(t.speech_end, t.end_of_turn);
    m.stt_final_ms = Ms(t.end_of_turn, t.stt_final);
    auto model_from =
        t.stt_final ? t.stt_final : (t.text_arrived ? t.text_arrived : t.response_start);
    m.model_first_token_ms = Ms(model_from, t.first_token);
    m.first_clause_ms = Ms(t.first_token, t.first_clause);
    m.tts_first_audio_ms = Ms(t.first_clause, t.tts_first_audio);
    m.first_audio_sent_ms = Ms(opts.output_audio ? t.tts_first_audio : t.first_token, t.first_sent);
    auto origin = t.speech_end ? t.speech_end : (t.text_arrived ? t.text_arrived : std::nullopt);
    m.voice_to_voice_ms = Ms(origin, t.first_sent);
    m.barge_in_stop_ms = last_barge_in_ms;
    return m;
  }

  void MaybeFinish() {
    Response* r = resp.get();
    if (!r || !r->model_done || r->tts_busy || !r->clauses.empty()) return;
    if (opts.output_audio && !r->queue.empty()) return;
    FinishResponse("completed", "", r->audio.total);
  }

  // Ends the current response. `heard` = agent audio samples the caller heard.
  void FinishResponse(const std::string& status, const std::string& reason, int64_t heard) {
    std::unique_ptr<Response> r = std::move(resp);
    pace_timer.reset();
    r->stream.reset();
    // A call still running when the reply is cut off is answered "cancelled" in the history.
    for (auto& [id, call] : r->open_tools) {
      ToolCallInfo c = call;
      c.status = "cancelled";
      c.output =
          nlohmann::json{{"error", "cancelled: the caller interrupted before it finished"}}.dump();
      c.duration_ms = -1;
      RecordToolSpan(*r, c);
      AddToolItem(r->id, c);
    }
    r->open_tools.clear();
    *r->tts_cancel = true;
    const bool cancelled = status == "cancelled";
    if (cancelled && opts.output_audio && r->sent > 0) Emit(AudioCleared{r->id});
    std::string text;
    if (!opts.output_audio || r->audio.total == 0) {
      text = cancelled && opts.output_audio ? "" : r->text;
    } else if (heard >= r->audio.total && !cancelled) {
      text = r->text;
    } else {
      text = TextHeard(r->audio, heard);
    }
    const int64_t audio_ms = r->sent * 1000 / std::max(1, opts.output_sample_rate);
    if (!r->metrics_sent && !cancelled) MaybeSendMetrics(*r);  // a reply without any output
    const int64_t entry_seq = r->entry_seq;
    RecordTurnSpans(*r, status, reason, audio_ms);
    // The turn is on disk before its end is announced (acknowledged, platform/store.h).
    Record(r->item_id, "agent", text, cancelled, r->metrics_json, entry_seq);
    HoldUntilCommitted();
    Emit(OutputItemDone{r->id, r->item_id, text, audio_ms, cancelled});
    Emit(ResponseDone{r->id, r->item_id, status, reason, text});
    if (!text.empty() || !cancelled) {
      HistoryItem h{r->item_id, HistoryItem::Role::kAssistant, text, cancelled};
      h.agent = agent;
      // Before any caller item that arrived while the reply was playing (its tool calls stay
      // before it: they happened first).
      auto at =
          std::find_if(history.begin() + std::min(r->history_start, history.size()), history.end(),
                       [](const HistoryItem& i) { return i.role == HistoryItem::Role::kUser; });
      history.insert(at, std::move(h));
    }
    if (opts.output_audio) {
      r->audio.full_text = r->text;
      ItemAudio a = std::move(r->audio);
      a.total = r->sent;  // what was sent is all that can have been heard
      item_seq[r->item_id] = entry_seq;
      item_audio[r->item_id] = std::move(a);
      item_audio_order.push_back(r->item_id);
      while (item_audio_order.size() > 16) {
        item_audio.erase(item_audio_order.front());
        item_seq.erase(item_audio_order.front());
        item_audio_order.pop_front();
      }
    }
    if (pending_rate) {
      opts.output_sample_rate = *pending_rate;
      pending_rate.reset();
    }
    UpdateAgent();
    UpdateGrammar();
    if (r->control && !cancelled) {
      CarryOut(*r->control);
      return;
    }
    if (pending_response) {
      PendingResponse p = std::move(*pending_response);
      pending_response.reset();
      StartResponse(false, p.instructions, std::move(p.times));
      return;
    }
    if (!cancelled) ArmNoInput();
  }

  // The agent asked something and the caller stays silent: after the agent's no-input timeout
  // (counted from the end of the reply's audio) the model re-prompts.
  void ArmNoInput() {
    no_input_timer.reset();
    if (!deps.responder || !opts.create_response) return;
    const int timeout_ms = deps.responder->speech().no_input_timeout_ms;
    if (timeout_ms <= 0) return;
    std::weak_ptr<Session> weak = self;
    const int lead_ms = std::min(opts.output_lead_ms, 2000);
    no_input_timer = ex().RunAfter(core::milliseconds(timeout_ms + lead_ms), [weak] {
      auto s = weak.lock();
      if (!s || s->impl_->closed) return;
      Impl& im = *s->impl_;
      if (im.resp || im.utt || !im.dtmf_digits.empty()) return;
      im.next_no_input = true;
      im.StartResponse(false, "", TurnTimes{});
    });
  }
  std::map<std::string, int64_t> item_seq;
  std::optional<int> pending_rate;

  void UpdateAgent() {
    if (!deps.responder) return;
    std::string name = deps.responder->agent_name();
    if (name != agent) {
      agent = name;
      Emit(AgentChanged{agent});
    }
  }

  // The caller's next utterance answers the reply just started: recognise it with what the
  // model now expects (takes effect at the next utterance).
  void UpdateGrammar() {
    if (!deps.responder || !recognizer) return;
    std::string grammar = deps.responder->ExpectedGrammar();
    if (grammar == current_grammar) return;
    current_grammar = grammar;
    if (grammar.empty()) {
      recognizer->UseLanguageModel();
    } else {
      recognizer->UseGrammar(grammar);
    }
  }

  int64_t HeardNow(const Response& r) {
    if (!r.playing) return 0;
    const int rate = opts.output_sample_rate;
    int64_t elapsed = std::chrono::duration_cast<core::Duration>(Now() - r.playout_start).count() *
                      rate / 1000000LL;
    return std::clamp<int64_t>(elapsed, 0, r.sent);
  }

  // The Realtime client ran a tool itself and sends its output.
  bool AddToolOutput(const std::string& call_id, const std::string& output) {
    for (auto& h : history) {
      if (h.role == HistoryItem::Role::kTool && h.tool.call_id == call_id) {
        if (h.tool.status != "client") return false;  // answered already
        h.tool.output = output;
        h.tool.status = "completed";
        Record(call_id, "tool", h.tool.name, false, "{}", -1, ToolData(h.tool));
        return true;
      }
    }
    return false;
  }

  void BargeIn() {
    if (!resp) return;
    FinishResponse("cancelled", "turn_detected", HeardNow(*resp));
  }

  void CancelResponse() {
    if (!resp) return;
    FinishResponse("cancelled", "client_cancelled", HeardNow(*resp));
  }

  void ClearOutputAudio() {
    if (resp) FinishResponse("cancelled", "client_cancelled", HeardNow(*resp));
  }

  bool Truncate(const std::string& item_id, int64_t audio_end_ms) {
    const int rate = opts.output_sample_rate;
    if (audio_end_ms < 0) audio_end_ms = 0;
    if (resp && resp->item_id == item_id) {
      int64_t heard = std::min<int64_t>(audio_end_ms * rate / 1000, resp->sent);
      FinishResponse("cancelled", "client_cancelled", heard);
    }
    auto it = item_audio.find(item_id);
    if (it == item_audio.end()) return false;
    ItemAudio& a = it->second;
    const int64_t heard = std::min<int64_t>(audio_end_ms * a.sample_rate / 1000, a.total);
    std::string text = heard >= a.total ? a.full_text : TextHeard(a, heard);
    for (auto& h : history) {
      if (h.id == item_id) {
        h.text = text;
        h.interrupted = h.interrupted || heard < a.total;
      }
    }
    if (auto s = item_seq.find(item_id); s != item_seq.end()) {
      Record(item_id, "agent", text, heard < a.total, "{}", s->second);
    }
    Emit(ItemTruncated{item_id, heard * 1000 / a.sample_rate, text});
    return true;
  }
};

// ======================= Session =======================

std::shared_ptr<Session> Session::Create(SessionDeps deps, SessionOptions options) {
  if (options.id.empty()) options.id = core::NewId("sess");
  if (options.transport.empty()) options.transport = "other";
  auto impl = std::make_unique<Impl>(std::move(deps), std::move(options));
  std::shared_ptr<Session> s(new Session(std::move(impl)));
  s->impl_->self = s;
  return s;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

void Session::Start() { impl_->Start(); }
void Session::PushAudio(std::span<const int16_t> pcm, int sample_rate) {
  impl_->PushAudio(pcm, sample_rate);
}
void Session::CommitInput() { impl_->CommitInput(); }
void Session::ClearInput() { impl_->ClearInput(); }
void Session::AddUserText(const std::string& text) { impl_->AddUserText(text); }
void Session::Notify(const std::string& event) { impl_->Notify(event); }
void Session::CreateResponse(const std::string& instructions) {
  impl_->CreateResponse(instructions);
}
void Session::CancelResponse() { impl_->CancelResponse(); }
bool Session::Truncate(const std::string& item_id, int64_t audio_end_ms) {
  return impl_->Truncate(item_id, audio_end_ms);
}
void Session::ClearOutputAudio() { impl_->ClearOutputAudio(); }
void Session::SetOutputAudio(bool audio) { impl_->opts.output_audio = audio; }
void Session::SetOutputSampleRate(int rate) {
  // Takes effect with the next response (the current one keeps its rate).
  if (!impl_->resp)
    impl_->opts.output_sample_rate = rate;
  else
    impl_->pending_rate = rate;
}
void Session::SetTurnDetection(bool server_vad, int silence_ms, int prefix_padding_ms,
                               bool create_response, bool interrupt_response) {
  auto& o = impl_->opts;
  if (o.server_vad != server_vad) {
    impl_->CancelUtterance();
    impl_->manual_open = false;
    impl_->endpoint.Reset();
  }
  o.server_vad = server_vad;
  if (silence_ms > 0) {
    impl_->silence_from_client = true;
    o.end_of_turn_silence_ms = silence_ms;
    impl_->endpoint.set_end_of_turn_silence_ms(silence_ms);
  }
  if (prefix_padding_ms >= 0) o.prefix_padding_ms = prefix_padding_ms;
  o.create_response = create_response;
  o.interrupt_response = interrupt_response;
}
void Session::PushDtmf(char key) { impl_->PushDtmf(key); }
void Session::SetClientTools(std::vector<nlohmann::json> tools) {
  impl_->client_tools = std::move(tools);
}
bool Session::AddToolOutput(const std::string& call_id, const std::string& output) {
  return impl_->AddToolOutput(call_id, output);
}
void Session::SetVoice(const std::string& voice, double speech_rate) {
  impl_->voice_from_client = !voice.empty();
  impl_->opts.voice = voice;
  if (speech_rate > 0) impl_->opts.speech_rate = speech_rate;
}
void Session::Close(const std::string& status) { impl_->Close(status); }
const std::string& Session::id() const { return impl_->opts.id; }
const SessionOptions& Session::options() const { return impl_->opts; }
std::string Session::agent_name() const { return impl_->agent; }
bool Session::response_active() const { return impl_->resp != nullptr; }
const std::vector<HistoryItem>& Session::history() const { return impl_->history; }

}  // namespace artagent::session
