#include "session/session.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "core/fake_executor.h"
#include "platform/store.h"
#include "session/fakes_for_test.h"

namespace artagent::session {
namespace {

using core::milliseconds;
using testing::EchoResponder;
using testing::ScriptedStt;
using testing::Silence;
using testing::Tone;
using testing::ToneTts;

class SessionTest : public ::testing::Test, public SessionOutput {
 protected:
  void SetUp() override { ex_ = std::make_shared<core::FakeExecutor>(); }

  void Open(SessionOptions opts = {}) {
    opts.output_sample_rate = 16000;
    opts.transport = "test";
    SessionDeps deps;
    deps.executor = ex_;
    deps.compute = ex_.get();
    deps.vad = std::make_unique<testing::EnergyVad>();
    deps.stt = stt_override_ ? stt_override_ : &stt_;
    deps.tts = tts_override_ ? tts_override_ : &tts_;
    auto responder = std::make_unique<EchoResponder>(ex_.get());
    responder_ = responder.get();
    deps.responder = std::move(responder);
    deps.output = this;
    deps.store = store_;
    session_ = Session::Create(std::move(deps), opts);
    session_->Start();
    ex_->RunPending();
  }

  void OnSessionEvent(SessionEvent e) override {
    if (auto* a = std::get_if<AudioChunk>(&e)) {
      audio_samples_ += a->samples->size();
      audio_log_.push_back({ex_->Now(), a->samples->size()});
    }
    events_.push_back(std::move(e));
  }

  // Streams `pcm` in real time, 20 ms per step.
  void Feed(const audio::Samples& pcm) {
    for (size_t off = 0; off < pcm.size(); off += 320) {
      size_t n = std::min<size_t>(320, pcm.size() - off);
      session_->PushAudio(std::span<const int16_t>(pcm.data() + off, n), 16000);
      ex_->AdvanceBy(milliseconds(20));
    }
  }
  void Wait(int ms) {
    for (int t = 0; t < ms; t += 20) ex_->AdvanceBy(milliseconds(20));
  }
  void FeedSilenceUntilIdle(int max_ms = 10000) {
    for (int t = 0; t < max_ms && session_->response_active(); t += 20) Feed(Silence(20));
  }

  template <typename T>
  std::vector<T> All() const {
    std::vector<T> out;
    for (const auto& e : events_) {
      if (auto* v = std::get_if<T>(&e)) out.push_back(*v);
    }
    return out;
  }
  template <typename T>
  int IndexOf(int from = 0) const {
    for (size_t i = from; i < events_.size(); ++i) {
      if (std::holds_alternative<T>(events_[i])) return static_cast<int>(i);
    }
    return -1;
  }

  std::shared_ptr<core::FakeExecutor> ex_;
  ScriptedStt stt_;
  ToneTts tts_;
  EchoResponder* responder_ = nullptr;
  platform::Store* store_ = nullptr;
  speech::SttEngine* stt_override_ = nullptr;  // instead of stt_ when set
  speech::TtsEngine* tts_override_ = nullptr;  // instead of tts_ when set
  std::shared_ptr<Session> session_;
  std::vector<SessionEvent> events_;
  size_t audio_samples_ = 0;
  std::vector<std::pair<core::TimePoint, size_t>> audio_log_;
};

TEST_F(SessionTest, GreetingIsSynthesisedAndPacedInRealTime) {
  Open();
  ASSERT_EQ(All<ResponseStarted>().size(), 1u);
  Wait(3000);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, "completed");
  EXPECT_EQ(done[0].text, responder_->greeting);
  // 10 words x 100 ms of audio, all of it sent.
  EXPECT_EQ(audio_samples_, 10 * ToneTts::kSamplesPerWord);
  // Never more than real time plus the 100 ms lead (plus one frame) ahead of the clock.
  const auto start = audio_log_.front().first;
  size_t sent = 0;
  for (const auto& [t, n] : audio_log_) {
    sent += n;
    double elapsed_ms = core::MillisBetween(start, t);
    EXPECT_LE(sent / 16.0, elapsed_ms + 100 + 20 + 1e-6);
  }
  // The first clause went to TTS before the model finished: two clauses were synthesised.
  EXPECT_EQ(tts_.spoken.size(), 2u);
  EXPECT_EQ(tts_.spoken[0], "Hello, thanks for calling.");
}

// TTS audio arriving in small pieces (one 20 ms frame each, as a streaming synthesizer gives it),
// faster than real time, empties the queue between pieces; that must not restart the playout
// clock, or every piece would get a fresh lead and the far end would receive the reply at
// synthesis speed instead of real time (found by the ACS simulator's pacing measurement).
TEST_F(SessionTest, GapsBetweenTtsChunksDoNotSpeedUpPlayout) {
  Open();
  Wait(3000);
  responder_->word_interval_ms = 50;
  tts_.chunk_samples = 320;
  audio_log_.clear();
  session_->AddUserText("one two three four five six seven eight nine ten eleven twelve");
  session_->CreateResponse();
  Wait(4000);
  ASSERT_FALSE(audio_log_.empty());
  const auto start = audio_log_.front().first;
  size_t sent = 0;
  for (const auto& [t, n] : audio_log_) {
    sent += n;
    EXPECT_LE(sent / 16.0, core::MillisBetween(start, t) + 100 + 20 + 1e-6)
        << "sent ahead of real time at " << core::MillisBetween(start, t) << " ms";
  }
  EXPECT_EQ(All<ResponseDone>().back().status, "completed");
}

// Text typed while the agent speaks comes after that reply in the history (and the store), so the
// model answering next sees it as the caller's latest words.
TEST_F(SessionTest, TextTypedDuringAReplyFollowsItInHistory) {
  Open();
  Wait(300);  // the greeting is playing
  ASSERT_TRUE(session_->response_active());
  session_->AddUserText("hello");
  session_->CreateResponse();  // queued behind the greeting
  Wait(5000);
  const auto& h = session_->history();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].role, HistoryItem::Role::kAssistant);
  EXPECT_EQ(h[1].role, HistoryItem::Role::kUser);
  EXPECT_EQ(h[1].text, "hello");
  EXPECT_EQ(h[2].role, HistoryItem::Role::kAssistant);
  EXPECT_EQ(h[2].text, "You said hello.");
}

TEST_F(SessionTest, VoiceTurnIsTranscribedAnsweredAndMeasured) {
  stt_.state->transcripts = {"i want to file a claim"};
  Open();
  Wait(3000);
  events_.clear();
  Feed(Silence(600));
  Feed(Tone(1000));
  Feed(Silence(600));
  Wait(3000);
  auto started = All<SpeechStarted>();
  auto stopped = All<SpeechStopped>();
  ASSERT_EQ(started.size(), 1u);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(started[0].item_id, stopped[0].item_id);
  // 1 s of speech, announced with 300 ms of prefix padding.
  EXPECT_NEAR(stopped[0].audio_end_ms - started[0].audio_start_ms, 1000 + 300, 60);
  auto finals = All<TranscriptFinal>();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].text, "i want to file a claim");
  EXPECT_FALSE(All<TranscriptPartial>().empty());
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].text, "You said i want to file a claim.");
  auto metrics = All<TurnMetrics>();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].user_item_id, finals[0].item_id);
  // Endpointing is the configured 500 ms of silence (to within a frame).
  EXPECT_NEAR(metrics[0].endpointing_ms, 500, 25);
  EXPECT_GE(metrics[0].voice_to_voice_ms, metrics[0].endpointing_ms);
  ASSERT_EQ(session_->history().size(), 3u);
  EXPECT_EQ(session_->history()[1].text, "i want to file a claim");
}

TEST_F(SessionTest, BargeInStopsAudioAndKeepsOnlyWhatWasHeard) {
  stt_.state->transcripts = {"stop"};
  responder_ = nullptr;
  Open();
  Wait(400);  // greeting playing
  ASSERT_TRUE(session_->response_active());
  size_t before = audio_samples_;
  Feed(Tone(100));
  // 100 ms of speech is not yet a barge-in (200 ms needed): nothing announced, audio goes on.
  EXPECT_TRUE(All<SpeechStarted>().empty());
  EXPECT_TRUE(session_->response_active());
  Feed(Tone(140));
  ASSERT_EQ(All<SpeechStarted>().size(), 1u);
  ASSERT_EQ(All<AudioCleared>().size(), 1u);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, "cancelled");
  EXPECT_EQ(done[0].reason, "turn_detected");
  EXPECT_GT(audio_samples_, before);
  // About 640 ms of a 1 s greeting were heard: a strict prefix of the words is kept.
  const auto& h = session_->history();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_TRUE(h[0].interrupted);
  EXPECT_FALSE(h[0].text.empty());
  EXPECT_LT(h[0].text.size(),
            std::string("Hello, thanks for calling. How can I help you today?").size());
  EXPECT_EQ(std::string("Hello, thanks for calling. How can I help you today?").rfind(h[0].text, 0),
            0u);
  // No agent audio after the clear; the caller's turn goes on and is answered.
  size_t at_clear = audio_samples_;
  Feed(Tone(300));
  EXPECT_EQ(audio_samples_, at_clear);
  Feed(Silence(600));
  Wait(2000);
  auto finals = All<TranscriptFinal>();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].text, "stop");
  auto metrics = All<TurnMetrics>();
  ASSERT_FALSE(metrics.empty());
  // From the first voiced frame to the clear: the 200 ms of sustained speech barge-in waits for
  // (the tenth voiced frame arrives 180 ms after the first).
  EXPECT_GE(metrics.back().barge_in_stop_ms, 180);
  EXPECT_LT(metrics.back().barge_in_stop_ms, 250);
}

TEST_F(SessionTest, ShortNoiseDoesNotInterrupt) {
  Open();
  Wait(300);
  Feed(Tone(80));
  Feed(Silence(600));
  Wait(2000);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, "completed");
  EXPECT_TRUE(All<SpeechStarted>().empty());
  EXPECT_TRUE(All<TranscriptFinal>().empty());
  EXPECT_EQ(stt_.state->utterances_cancelled, 1);
}

TEST_F(SessionTest, TruncateIsClampedAndShortensHistory) {
  Open();
  Wait(3000);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  const std::string item = done[0].item_id;
  ASSERT_TRUE(session_->Truncate(item, 999999));
  auto t = All<ItemTruncated>();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].audio_end_ms, 1000);  // clamped to the audio sent, not an error
  EXPECT_EQ(t[0].text, responder_->greeting);
  // 300 ms of the first clause's 400 ms: three of its four words.
  ASSERT_TRUE(session_->Truncate(item, 300));
  t = All<ItemTruncated>();
  EXPECT_EQ(t.back().audio_end_ms, 300);
  EXPECT_EQ(t.back().text, "Hello, thanks for");
  EXPECT_EQ(session_->history()[0].text, "Hello, thanks for");
  EXPECT_FALSE(session_->Truncate("item_unknown", 10));
}

TEST_F(SessionTest, TextTurnUsesTheSamePipeline) {
  SessionOptions o;
  o.speak_greeting = false;
  Open(o);
  session_->AddUserText("what is my deductible");
  session_->CreateResponse();
  Wait(3000);
  auto user = All<UserTextItem>();
  ASSERT_EQ(user.size(), 1u);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].text, "You said what is my deductible.");
  EXPECT_GT(audio_samples_, 0u);
  auto m = All<TurnMetrics>();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].text_turn);
  EXPECT_GE(m[0].voice_to_voice_ms, 0);
}

TEST_F(SessionTest, TextOnlySessionsProduceNoAudio) {
  SessionOptions o;
  o.output_audio = false;
  o.speak_greeting = false;
  Open(o);
  session_->AddUserText("hello");
  session_->CreateResponse();
  ex_->RunPending();
  EXPECT_EQ(audio_samples_, 0u);
  EXPECT_TRUE(tts_.spoken.empty());
  std::string text;
  for (const auto& d : All<TextDelta>()) text += d.delta;
  EXPECT_EQ(text, "You said hello.");
  ASSERT_EQ(All<ResponseDone>().size(), 1u);
}

TEST_F(SessionTest, ModelFailureIsSpokenAsAnApologyNotDeadAir) {
  SessionOptions o;
  o.speak_greeting = false;
  Open(o);
  responder_->fail_next = true;
  session_->AddUserText("hello");
  session_->CreateResponse();
  Wait(8000);
  auto errors = All<SessionError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "model_failed");
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].text.find("sorry"), std::string::npos);
  EXPECT_GT(audio_samples_, 0u);
}

TEST_F(SessionTest, ResponseRequestedDuringAnotherRunsAfterIt) {
  Open();
  session_->AddUserText("second");
  session_->CreateResponse();
  Wait(6000);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].text, responder_->greeting);
  EXPECT_EQ(done[1].text, "You said second.");
}

TEST_F(SessionTest, ManualTurnsCommitOnRequest) {
  stt_.state->transcripts = {"manual turn"};
  SessionOptions o;
  o.speak_greeting = false;
  Open(o);
  session_->SetTurnDetection(false, 0, -1, true, true);
  Feed(Tone(400));
  Feed(Silence(800));
  EXPECT_TRUE(All<InputCommitted>().empty());  // no VAD: silence does not end the turn
  session_->CommitInput();
  Wait(2000);
  ASSERT_EQ(All<InputCommitted>().size(), 1u);
  EXPECT_TRUE(All<SpeechStarted>().empty());
  ASSERT_EQ(All<TranscriptFinal>().size(), 1u);
  EXPECT_EQ(All<ResponseDone>().size(), 1u);
}

TEST_F(SessionTest, CommitWithoutAudioIsAnError) {
  SessionOptions o;
  o.speak_greeting = false;
  Open(o);
  session_->SetTurnDetection(false, 0, -1, true, true);
  session_->CommitInput();
  auto errors = All<SessionError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "input_audio_buffer_commit_empty");
}

TEST_F(SessionTest, CloseStopsEverything) {
  Open();
  Wait(200);
  session_->Close("vanished");
  size_t n = events_.size();
  Wait(2000);
  EXPECT_EQ(events_.size(), n);
  EXPECT_EQ(ex_->PendingTimers(), 0u);
  // The greeting, cut off, is kept as far as it was heard.
  ASSERT_EQ(session_->history().size(), 1u);
  EXPECT_TRUE(session_->history()[0].interrupted);
  EXPECT_EQ(session_->history()[0].text, "Hello, thanks");  // 200 ms of 400
}

TEST_F(SessionTest, EndsItselfWhenNobodySpeaks) {
  SessionOptions o;
  o.idle_timeout_s = 10;
  Open(o);
  Wait(3000);  // the greeting does not count as activity, but it is not idle time either
  Feed(Silence(5000));
  EXPECT_TRUE(All<SessionEnded>().empty());
  Feed(Tone(400));  // the caller speaks: the clock restarts
  Feed(Silence(9000));
  EXPECT_TRUE(All<SessionEnded>().empty());
  Wait(2000);
  auto ended = All<SessionEnded>();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, "idle_timeout");
  EXPECT_EQ(ex_->PendingTimers(), 0u);
}

TEST_F(SessionTest, GrammarFollowsTheDialogueState) {
  SessionOptions o;
  o.speak_greeting = false;
  Open(o);
  responder_->grammar = "#JSGF V1.0; grammar g; public <a> = yes | no;";
  session_->AddUserText("hi");
  session_->CreateResponse();
  Wait(3000);
  ASSERT_EQ(stt_.state->grammars.size(), 1u);
  EXPECT_EQ(stt_.state->grammars[0], responder_->grammar);
}

TEST_F(SessionTest, BargeInDuringAToolCallLeavesTheCallAnsweredInHistoryAndStore) {
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("session_tool_" + std::to_string(::getpid()) + ".db"))
                             .string();
  std::filesystem::remove(db);
  auto store = platform::Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = store->get();
  stt_.state->transcripts = {"wait a second"};
  Open();
  Wait(3000);
  // The greeting's end waits for the store (acknowledgement); let it through.
  ASSERT_TRUE(store_->Flush().ok());
  ex_->RunPending();
  session_->AddUserText("run tool");
  session_->CreateResponse();
  Wait(200);
  ASSERT_EQ(All<ToolCallStarted>().size(), 1u);
  ASSERT_TRUE(session_->response_active());
  // The caller talks while the tool runs: barge-in.
  Feed(Tone(800));
  Feed(Silence(700));
  Wait(2000);
  auto finished = All<ToolCallFinished>();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].call.status, "cancelled");
  EXPECT_NE(finished[0].call.output.find("cancelled"), std::string::npos);
  // A late result is ignored: the call is answered once.
  responder_->FinishTool(R"({"ok":true})");
  Wait(200);
  EXPECT_EQ(All<ToolCallFinished>().size(), 1u);
  // History: user "run tool", the call with its output, then the caller's new words.
  const auto& h = session_->history();
  int tool_at = -1, user_after = -1;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].role == HistoryItem::Role::kTool) tool_at = static_cast<int>(i);
    if (h[i].role == HistoryItem::Role::kUser && h[i].text == "wait a second") {
      user_after = static_cast<int>(i);
    }
  }
  ASSERT_GE(tool_at, 0);
  EXPECT_EQ(h[tool_at].tool.status, "cancelled");
  EXPECT_FALSE(h[tool_at].tool.output.empty());
  EXPECT_GT(user_after, tool_at);
  session_->Close("ended");
  ASSERT_TRUE(store_->Flush().ok());
  auto detail = store_->GetSession(session_->id());
  ASSERT_TRUE(detail.ok());
  int running = 0, cancelled = 0;
  for (const auto& e : detail->transcript) {
    if (e.role != "tool") continue;
    auto data = nlohmann::json::parse(e.data_json);
    running += data["status"] == "running";
    cancelled += data["status"] == "cancelled";
  }
  EXPECT_EQ(running, 0) << "no call is left dangling in the store";
  EXPECT_EQ(cancelled, 1);
  session_.reset();
  store->reset();
  std::filesystem::remove(db);
}

TEST_F(SessionTest, DtmfKeysBecomeOneCallerTurn) {
  Open();
  Wait(3000);
  for (char k : std::string("4821#")) session_->PushDtmf(k);
  ex_->RunPending();
  auto items = All<UserTextItem>();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].text, "4821");
  EXPECT_TRUE(items[0].dtmf);
  Wait(3000);
  ASSERT_EQ(responder_->last_user_texts.size(), 1u);
  EXPECT_TRUE(responder_->last_user_dtmf[0]);
  // Without '#', the pause ends the entry.
  session_->PushDtmf('1');
  session_->PushDtmf('2');
  Wait(2000);
  EXPECT_EQ(All<UserTextItem>().size(), 1u) << "still collecting keys";
  Wait(1500);
  ASSERT_EQ(All<UserTextItem>().size(), 2u);
  EXPECT_EQ(All<UserTextItem>()[1].text, "12");
  session_->PushDtmf('x');
  auto errors = All<SessionError>();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().code, "bad_dtmf");
}

TEST_F(SessionTest, AKeyPressInterruptsTheAgent) {
  Open();
  Wait(300);
  ASSERT_TRUE(session_->response_active());
  session_->PushDtmf('1');
  ex_->RunPending();
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, "cancelled");
}

TEST_F(SessionTest, SilenceAfterTheAgentAsksGetsAReprompt) {
  Open();
  responder_->speech_settings.no_input_timeout_ms = 4000;
  Wait(3000);  // greeting done (the timeout applies from the next reply)
  session_->AddUserText("hello");
  session_->CreateResponse();
  Wait(2000);  // the reply is done after ~0.5 s; the re-prompt is due 4 s after that
  ASSERT_EQ(All<ResponseDone>().size(), 2u);
  Wait(1500);
  EXPECT_EQ(All<ResponseDone>().size(), 2u) << "not yet";
  Wait(1500);
  auto done = All<ResponseDone>();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[2].text, "Are you there?");
  EXPECT_TRUE(responder_->requests.back().no_input);
  // Caller speech cancels a pending re-prompt.
  Wait(1000);
  session_->AddUserText("still here");
  session_->CreateResponse();
  Wait(6000);
  EXPECT_EQ(All<ResponseDone>().size(), 5u) << "the reply, then one re-prompt 4 s after it";
}

TEST_F(SessionTest, EndCallEndsTheSessionOnceTheGoodbyeIsSent) {
  Open();
  Wait(3000);
  session_->AddUserText("goodbye");
  session_->CreateResponse();
  ex_->RunPending();
  EXPECT_TRUE(All<CallControlRequested>().empty()) << "not before the goodbye is spoken";
  Wait(3000);
  auto control = All<CallControlRequested>();
  ASSERT_EQ(control.size(), 1u);
  EXPECT_EQ(control[0].control.kind, CallControl::Kind::kEndCall);
  auto ended = All<SessionEnded>();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, "agent_ended_call");
  EXPECT_GT(IndexOf<SessionEnded>(), IndexOf<ResponseDone>(IndexOf<ResponseDone>() + 1));
}

// Engines that throw (a C library's allocation failure, a cloud client's bug): the session must
// not wait forever for a result that never comes.
class ThrowingTts : public ToneTts {
 public:
  int throw_next = 0;
  core::Status Synthesize(const speech::TtsRequest& req,
                          const speech::TtsAudioSink& sink) override {
    if (throw_next > 0) {
      --throw_next;
      throw std::runtime_error("synthesizer crashed");
    }
    return ToneTts::Synthesize(req, sink);
  }
};

class ThrowingStt : public speech::SttEngine {
 public:
  explicit ThrowingStt(ScriptedStt* inner) : inner_(inner) {}
  int throw_next_end = 0;
  std::string name() const override { return "throwing"; }
  core::Result<std::unique_ptr<speech::SttStream>> NewStream(
      const speech::SttOptions& options) override {
    auto stream = inner_->NewStream(options);
    if (!stream.ok()) return stream.status();
    return std::unique_ptr<speech::SttStream>(
        std::make_unique<Stream>(std::move(stream).value(), this));
  }

 private:
  class Stream : public speech::SttStream {
   public:
    Stream(std::unique_ptr<speech::SttStream> inner, ThrowingStt* owner)
        : inner_(std::move(inner)), owner_(owner) {}
    core::Status StartUtterance() override { return inner_->StartUtterance(); }
    core::Result<std::string> Feed(std::span<const int16_t> pcm) override {
      return inner_->Feed(pcm);
    }
    core::Result<speech::SttResult> EndUtterance() override {
      if (owner_->throw_next_end > 0) {
        --owner_->throw_next_end;
        throw std::runtime_error("decoder crashed");
      }
      return inner_->EndUtterance();
    }
    void CancelUtterance() override { inner_->CancelUtterance(); }
    core::Status UseGrammar(const std::string& jsgf, bool fallback) override {
      return inner_->UseGrammar(jsgf, fallback);
    }
    void UseLanguageModel() override { inner_->UseLanguageModel(); }

   private:
    std::unique_ptr<speech::SttStream> inner_;
    ThrowingStt* owner_;
  };
  ScriptedStt* inner_;
};

TEST_F(SessionTest, ASynthesizerThatThrowsEndsTheReplyAndTheNextOneIsSpoken) {
  ThrowingTts tts;
  tts.throw_next = 1;
  tts_override_ = &tts;
  Open();
  Wait(3000);
  ASSERT_EQ(All<ResponseDone>().size(), 1u) << "the greeting ends, without its audio";
  ASSERT_FALSE(All<SessionError>().empty());
  EXPECT_EQ(All<SessionError>()[0].code, "tts_failed");
  const size_t greeting_samples = audio_samples_;  // the clauses after the failed one
  session_->AddUserText("hello");
  session_->CreateResponse();
  Wait(3000);
  ASSERT_EQ(All<ResponseDone>().size(), 2u);
  EXPECT_EQ(All<ResponseDone>()[1].status, "completed");
  EXPECT_EQ(All<ResponseDone>()[1].text, "You said hello.");
  EXPECT_EQ(audio_samples_ - greeting_samples, 3 * ToneTts::kSamplesPerWord)
      << "the next reply is spoken whole";
}

TEST_F(SessionTest, ARecognizerThatThrowsFailsTheTurnAndTheNextOneIsHeard) {
  ThrowingStt stt(&stt_);
  stt.throw_next_end = 1;
  stt_override_ = &stt;
  stt_.state->transcripts = {"lost words", "i want to file a claim"};
  Open();
  Wait(3000);
  const size_t greeting_done = All<ResponseDone>().size();
  Feed(Silence(600));
  Feed(Tone(1000));
  Feed(Silence(800));
  Wait(1000);
  ASSERT_EQ(All<TranscriptFailed>().size(), 1u);
  EXPECT_TRUE(All<TranscriptFinal>().empty());
  stt_.state->transcripts = {"i want to file a claim"};
  Feed(Tone(1000));
  Feed(Silence(800));
  Wait(3000);
  ASSERT_EQ(All<TranscriptFinal>().size(), 1u) << "the recognizer still works";
  EXPECT_EQ(All<TranscriptFinal>()[0].text, "i want to file a claim");
  EXPECT_GT(All<ResponseDone>().size(), greeting_done);
}

// A store whose database another connection can lock, to hold commits back.
class AcknowledgementTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    db_ = (std::filesystem::temp_directory_path() /
           ("session_ack_" + std::to_string(::getpid()) + ".db"))
              .string();
    std::filesystem::remove(db_);
    platform::StoreOptions options;
    options.busy_timeout = milliseconds(5);
    options.max_retry_delay = milliseconds(20);
    auto store = platform::Store::Open(db_, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    owned_store_ = std::move(store).value();
    store_ = owned_store_.get();
    ASSERT_EQ(sqlite3_open(db_.c_str(), &other_), SQLITE_OK);
  }
  void TearDown() override {
    if (locked_) Unlock();
    session_.reset();
    owned_store_.reset();
    sqlite3_close(other_);
    std::filesystem::remove(db_);
    std::filesystem::remove(db_ + "-lock");
  }
  void Lock() {
    ASSERT_EQ(sqlite3_exec(other_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    locked_ = true;
  }
  void Unlock() {
    ASSERT_EQ(sqlite3_exec(other_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    locked_ = false;
  }
  // Agent entries committed so far, as another program sees the file.
  int CommittedAgentEntries() {
    sqlite3_stmt* stmt = nullptr;
    int n = -1;
    if (sqlite3_prepare_v2(other_, "SELECT COUNT(*) FROM transcript WHERE role = 'agent'", -1,
                           &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return n;
  }

  std::string db_;
  std::unique_ptr<platform::Store> owned_store_;
  sqlite3* other_ = nullptr;
  bool locked_ = false;
};

TEST_F(AcknowledgementTest, ResponseDoneWaitsUntilTheTurnIsCommitted) {
  Lock();  // the store cannot commit
  SessionOptions opts;
  opts.store_ack_timeout_ms = 600000;
  Open(opts);
  Wait(5000);  // the greeting plays out completely
  EXPECT_FALSE(session_->response_active());
  EXPECT_GT(audio_samples_, 0u) << "audio is never held back";
  EXPECT_TRUE(All<ResponseDone>().empty()) << "not acknowledged yet";
  session_->AddUserText("hello");  // events after the held one wait behind it, in order
  session_->CreateResponse();
  ex_->RunPending();
  EXPECT_TRUE(All<UserTextItem>().empty());

  Unlock();
  ASSERT_TRUE(store_->Flush().ok());
  ex_->RunPending();
  ASSERT_EQ(All<ResponseDone>().size(), 1u);
  EXPECT_EQ(CommittedAgentEntries(), 1) << "the greeting is on disk before its response.done";
  const int done_at = IndexOf<ResponseDone>();
  const int text_at = IndexOf<UserTextItem>();
  ASSERT_GE(text_at, 0);
  EXPECT_LT(done_at, text_at);

  Wait(5000);  // the answer to "hello": acknowledged at once now
  ASSERT_TRUE(store_->Flush().ok());
  ex_->RunPending();
  ASSERT_EQ(All<ResponseDone>().size(), 2u);
  EXPECT_EQ(All<ResponseDone>()[1].text, "You said hello.");
}

TEST_F(AcknowledgementTest, AFailingStoreDelaysResponseDoneOnlyUpToTheTimeout) {
  Lock();
  SessionOptions opts;
  opts.store_ack_timeout_ms = 1000;
  Open(opts);
  Wait(5000);  // greeting done, then the timeout passes
  ASSERT_EQ(All<ResponseDone>().size(), 1u) << "sent unacknowledged after the timeout";
  EXPECT_EQ(CommittedAgentEntries(), 0);
  Unlock();  // the writes were kept and are retried
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(CommittedAgentEntries(), 1);
}

}  // namespace
}  // namespace artagent::session
