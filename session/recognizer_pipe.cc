#include "session/recognizer_pipe.h"

#include <vector>

#include "core/log.h"

namespace artagent::session {
namespace {

struct Command {
  enum class Kind { kStart, kFeed, kEnd, kCancel, kGrammar, kLm, kHints } kind;
  uint64_t utterance = 0;
  std::vector<int16_t> audio;
  std::string grammar;
  std::vector<std::string> hints;
};

}  // namespace

struct RecognizerPipe::State : std::enable_shared_from_this<State> {
  std::shared_ptr<core::Executor> executor;
  core::ComputePool* pool = nullptr;
  speech::SttEngine* engine = nullptr;
  Handler handler;
  std::shared_ptr<speech::SttStream> stream;
  std::vector<Command> queue;
  bool busy = false;
  bool failed = false;
  std::unique_ptr<core::Timer> retry;

  void Push(Command c) {
    queue.push_back(std::move(c));
    Pump();
  }

  // Posts `fn(state)` to the executor if the pipe still exists by then.
  template <typename F>
  static void PostBack(const std::weak_ptr<State>& weak, core::Executor& ex, F fn) {
    ex.Post([weak, fn = std::move(fn)]() mutable {
      if (auto s = weak.lock()) fn(*s);
    });
  }

  void Pump() {
    if (!stream || busy || queue.empty()) return;
    busy = true;
    auto batch = std::make_shared<std::vector<Command>>(std::move(queue));
    queue.clear();
    std::weak_ptr<State> weak = weak_from_this();
    auto ex = executor;
    auto st = stream;
    bool queued = pool->TrySubmit([batch, st, weak, ex] {
      auto outcomes = std::make_shared<std::vector<Outcome>>(Run(*st, *batch));
      PostBack(weak, *ex, [outcomes](State& s) {
        s.busy = false;
        for (const auto& o : *outcomes) {
          s.handler(o);
        }
        s.Pump();
      });
    });
    if (!queued) {
      // The pool is saturated: keep the commands (in order) and try again shortly.
      busy = false;
      queue.insert(queue.begin(), std::make_move_iterator(batch->begin()),
                   std::make_move_iterator(batch->end()));
      retry = executor->RunAfter(core::milliseconds(20), [weak] {
        if (auto s = weak.lock()) s->Pump();
      });
    }
  }

  // On the compute pool. An engine that throws fails the command it was running (an utterance's
  // end then yields a failed final): the session hears about it instead of waiting forever.
  static std::vector<Outcome> Run(speech::SttStream& stream, std::vector<Command>& batch) {
    std::vector<Outcome> out;
    for (auto& cmd : batch) {
      try {
        RunOne(stream, cmd, out);
      } catch (const std::exception& e) {
        Threw(cmd, core::InternalError(std::string("speech recognizer threw: ") + e.what()), out);
      } catch (...) {
        Threw(cmd, core::InternalError("speech recognizer threw an unknown exception"), out);
      }
    }
    return out;
  }

  static void Threw(const Command& cmd, core::Status status, std::vector<Outcome>& out) {
    const bool end = cmd.kind == Command::Kind::kEnd;
    out.push_back({end ? Outcome::Kind::kFinal : Outcome::Kind::kFailed,
                   cmd.utterance,
                   {},
                   {},
                   std::move(status)});
  }

  static void RunOne(speech::SttStream& stream, Command& cmd, std::vector<Outcome>& out) {
    switch (cmd.kind) {
      case Command::Kind::kStart: {
        core::Status st = stream.StartUtterance();
        if (!st.ok()) out.push_back({Outcome::Kind::kFailed, cmd.utterance, {}, {}, st});
        break;
      }
      case Command::Kind::kFeed: {
        auto partial = stream.Feed(cmd.audio);
        if (!partial.ok()) {
          out.push_back({Outcome::Kind::kFailed, cmd.utterance, {}, {}, partial.status()});
        } else if (!out.empty() && out.back().kind == Outcome::Kind::kPartial &&
                   out.back().utterance == cmd.utterance) {
          out.back().partial = *partial;  // only the latest partial matters
        } else {
          out.push_back({Outcome::Kind::kPartial, cmd.utterance, *partial, {}, {}});
        }
        break;
      }
      case Command::Kind::kEnd: {
        auto final = stream.EndUtterance();
        Outcome o{Outcome::Kind::kFinal, cmd.utterance, {}, {}, final.status()};
        if (final.ok()) o.result = *final;
        out.push_back(std::move(o));
        break;
      }
      case Command::Kind::kCancel:
        stream.CancelUtterance();
        break;
      case Command::Kind::kGrammar: {
        core::Status st = stream.UseGrammar(cmd.grammar, /*fallback_to_lm=*/true);
        if (!st.ok()) core::LogWarn("stt", "grammar rejected: {}", st.ToString());
        break;
      }
      case Command::Kind::kLm:
        stream.UseLanguageModel();
        break;
      case Command::Kind::kHints:
        stream.UsePhraseHints(cmd.hints);
        break;
    }
  }
};

RecognizerPipe::RecognizerPipe(std::shared_ptr<core::Executor> executor, core::ComputePool* pool,
                               speech::SttEngine* engine, Handler handler)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->pool = pool;
  state_->engine = engine;
  state_->handler = std::move(handler);
}

RecognizerPipe::~RecognizerPipe() = default;

void RecognizerPipe::Open() {
  std::weak_ptr<State> weak = state_;
  auto ex = state_->executor;
  auto* engine = state_->engine;
  auto fail = [](State& s, const core::Status& st) {
    s.failed = true;
    s.queue.clear();
    s.handler(Outcome{Outcome::Kind::kOpenFailed, 0, {}, {}, st});
  };
  if (!engine) {
    fail(*state_, core::FailedPreconditionError("no speech recognizer configured"));
    return;
  }
  bool queued = state_->pool->TrySubmit([engine, weak, ex, fail] {
    auto stream = engine->NewStream(speech::SttOptions{});
    std::shared_ptr<speech::SttStream> shared;
    core::Status status;
    if (stream.ok()) {
      shared = std::move(stream).value();
    } else {
      status = stream.status();
    }
    State::PostBack(weak, *ex, [shared, status, fail](State& s) {
      if (!shared) {
        fail(s, status);
        return;
      }
      s.stream = shared;
      s.Pump();
    });
  });
  if (!queued) fail(*state_, core::ResourceExhaustedError("compute queue full"));
}

bool RecognizerPipe::failed() const { return state_->failed; }

void RecognizerPipe::Start(uint64_t utterance) {
  if (!state_->failed) state_->Push({Command::Kind::kStart, utterance, {}, {}});
}

void RecognizerPipe::Feed(uint64_t utterance, std::span<const int16_t> pcm) {
  if (state_->failed) return;
  auto& q = state_->queue;
  if (!q.empty() && q.back().kind == Command::Kind::kFeed && q.back().utterance == utterance) {
    q.back().audio.insert(q.back().audio.end(), pcm.begin(), pcm.end());
    state_->Pump();
    return;
  }
  state_->Push({Command::Kind::kFeed, utterance, {pcm.begin(), pcm.end()}, {}});
}

void RecognizerPipe::End(uint64_t utterance) {
  if (state_->failed) {
    state_->handler(Outcome{Outcome::Kind::kFinal,
                            utterance,
                            {},
                            {},
                            core::UnavailableError("speech recognizer unavailable")});
    return;
  }
  state_->Push({Command::Kind::kEnd, utterance, {}, {}});
}

void RecognizerPipe::Cancel(uint64_t utterance) {
  if (!state_->failed) state_->Push({Command::Kind::kCancel, utterance, {}, {}});
}

void RecognizerPipe::UseGrammar(const std::string& jsgf) {
  if (!state_->failed) state_->Push({Command::Kind::kGrammar, 0, {}, jsgf});
}

void RecognizerPipe::UseLanguageModel() {
  if (!state_->failed) state_->Push({Command::Kind::kLm, 0, {}, {}});
}

void RecognizerPipe::UsePhraseHints(const std::vector<std::string>& hints) {
  if (!state_->failed) state_->Push({Command::Kind::kHints, 0, {}, {}, hints});
}

}  // namespace artagent::session
