// `artagent converse`: whole turns offline through the same session engine as the server, fed in
// real time from WAV files (or typed text); one JSON line per turn on stdout.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/runtime.h"
#include "audio/resampler.h"
#include "audio/wav.h"
#include "core/log.h"
#include "server/asio_executor.h"

namespace artagent::app {
namespace {

constexpr char kConverseHelp[] =
    R"(Usage: artagent converse [--scenario NAME] --in caller.wav [--in more.wav] [--text "typed turn"] [--out agent.wav]

Runs a conversation offline through the same session engine as the server: the agent greets,
then each --in WAV (any rate, mono or stereo) is streamed in real time as the caller's turn and
each --text is a typed turn and each --dtmf keys pressed, in the order given. Prints one JSON
line per turn (with the tools called, hand-offs and slots filled); stops when the agent ends the
call:
  {"turn":1,"input":"caller.wav","user_transcript":"...","agent_text":"...",
   "latency_ms":{"endpointing":..,"stt_final":..,"model_first_token":..,"tts_first_audio":..,
   "first_audio_sent":..,"voice_to_voice":..}, ...}

Flags:
  --scenario NAME   scenario (default: insurance)
  --in FILE         a caller turn from a WAV file (repeatable)
  --text TEXT       a typed caller turn (repeatable)
  --dtmf KEYS       a caller turn pressed on the keypad, e.g. 40213587# (repeatable)
  --out FILE        write all agent audio (16 kHz mono WAV)
  --no-greeting     do not speak the agent's greeting first
  --no-pacing       send the agent's audio as fast as it is synthesised instead of in real time
                    (the latency stages stay valid; a long script runs in a fraction of the time)
  --config FILE     YAML configuration
  --store FILE      also record the conversation in this SQLite store
  --timeout-s N     give up on a turn after N seconds (default 60)
)";

// Collects the session's events for one turn at a time. Runs on the session's strand.
class TurnCollector : public session::SessionOutput {
 public:
  struct Turn {
    std::string user_transcript;
    std::string agent_text;
    std::string agent;
    std::string status;
    nlohmann::json latency = nlohmann::json::object();
    int64_t audio_samples = 0;
    bool no_words = false;
    std::vector<std::string> errors;
    nlohmann::json tool_calls = nlohmann::json::array();
    nlohmann::json handoffs = nlohmann::json::array();
    nlohmann::json slots = nlohmann::json::object();
  };

  void Expect(std::promise<Turn>* done) {
    turn_ = Turn{};
    done_ = done;
  }

  void OnSessionEvent(session::SessionEvent event) override {
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, session::TranscriptFinal>) {
            turn_.user_transcript = e.text;
            if (e.text.empty()) {
              turn_.no_words = true;
              Finish();
            }
          } else if constexpr (std::is_same_v<T, session::UserTextItem>) {
            turn_.user_transcript = e.text;
          } else if constexpr (std::is_same_v<T, session::AudioChunk>) {
            audio_.insert(audio_.end(), e.samples->begin(), e.samples->end());
            turn_.audio_samples += static_cast<int64_t>(e.samples->size());
          } else if constexpr (std::is_same_v<T, session::TurnMetrics>) {
            turn_.latency = session::LatencyJson(e);
          } else if constexpr (std::is_same_v<T, session::AgentChanged>) {
            agent_ = e.agent;
          } else if constexpr (std::is_same_v<T, session::ToolCallFinished>) {
            auto parse = [](const std::string& text) {
              auto j = nlohmann::json::parse(text, nullptr, false);
              return j.is_discarded() ? nlohmann::json(text) : j;
            };
            turn_.tool_calls.push_back({{"name", e.call.name},
                                        {"agent", e.call.agent},
                                        {"arguments", parse(e.call.arguments)},
                                        {"status", e.call.status},
                                        {"output", parse(e.call.output)}});
          } else if constexpr (std::is_same_v<T, session::HandoffOccurred>) {
            turn_.handoffs.push_back(
                {{"from", e.handoff.from}, {"to", e.handoff.to}, {"type", e.handoff.type}});
          } else if constexpr (std::is_same_v<T, session::SlotSet>) {
            auto v = nlohmann::json::parse(e.slot.value, nullptr, false);
            turn_.slots[e.slot.name] = v.is_discarded() ? nlohmann::json(e.slot.value) : v;
          } else if constexpr (std::is_same_v<T, session::CallControlRequested>) {
            const bool end = e.control.kind == session::CallControl::Kind::kEndCall;
            call_control_ = {{"kind", end ? "end_call" : "transfer"},
                             {"target", e.control.target},
                             {"reason", e.control.reason}};
          } else if constexpr (std::is_same_v<T, session::SessionEnded>) {
            ended_ = true;
          } else if constexpr (std::is_same_v<T, session::SessionError>) {
            turn_.errors.push_back(e.code + ": " + e.message);
          } else if constexpr (std::is_same_v<T, session::TranscriptFailed>) {
            turn_.errors.push_back("transcription failed: " + e.message);
            Finish();
          } else if constexpr (std::is_same_v<T, session::ResponseDone>) {
            turn_.agent_text = e.text;
            turn_.status = e.status;
            Finish();
          }
        },
        event);
  }

  const audio::Samples& audio() const { return audio_; }
  bool ended() const { return ended_; }
  const nlohmann::json& call_control() const { return call_control_; }

 private:
  void Finish() {
    if (!done_) return;
    turn_.agent = agent_;
    done_->set_value(turn_);
    done_ = nullptr;
  }

  Turn turn_;
  std::promise<Turn>* done_ = nullptr;
  std::string agent_;
  audio::Samples audio_;
  bool ended_ = false;
  nlohmann::json call_control_;
};

// Streams `pcm` (16 kHz) into the session 20 ms at a time in real time, then silence, until
// `stop` is set. Runs on the strand.
struct Feeder : std::enable_shared_from_this<Feeder> {
  std::shared_ptr<core::Executor> ex;
  std::shared_ptr<session::Session> session;
  audio::Samples pcm;
  size_t pos = 0;
  std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<core::Timer> timer;
  core::TimePoint start;
  int64_t frames = 0;

  void Begin() {
    start = ex->Now();
    Tick();
  }
  void Tick() {
    if (*stop) return;
    static const audio::Samples kSilence(audio::kEngineFrameSamples, 0);
    if (pos < pcm.size()) {
      size_t n = std::min(audio::kEngineFrameSamples, pcm.size() - pos);
      session->PushAudio(std::span<const int16_t>(pcm.data() + pos, n), audio::kEngineSampleRate);
      pos += n;
    } else {
      session->PushAudio(kSilence, audio::kEngineSampleRate);
    }
    ++frames;
    // Scheduled against the start time, so timer lateness does not accumulate.
    auto due = start + core::milliseconds(frames * audio::kFrameMs);
    auto self = shared_from_this();
    timer = ex->RunAfter(std::chrono::duration_cast<core::Duration>(due - ex->Now()),
                         [self] { self->Tick(); });
  }
};

}  // namespace

int ConverseCommand(int argc, char** argv) {
  auto args = ParseArgs(
      argc - 1, argv + 1,
      {"scenario", "in", "text", "dtmf", "out", "config", "store", "timeout-s", "log-level"},
      {"help", "no-greeting", "no-pacing"});
  if (!args.ok()) {
    std::fprintf(stderr, "artagent converse: %s\n", args.status().message().c_str());
    return 2;
  }
  if (args->Has("help")) {
    std::fputs(kConverseHelp, stdout);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> turns;  // ("in"|"text", value)
  for (const auto& [k, v] : args->flags) {
    if (k == "in" || k == "text" || k == "dtmf") turns.emplace_back(k, v);
  }
  if (turns.empty() && args->Has("no-greeting")) {
    std::fprintf(stderr,
                 "artagent converse: nothing to do: give --in FILE, --text TEXT or --dtmf KEYS\n");
    return 2;
  }
  // Read every WAV first, so a bad file fails before anything runs.
  std::vector<audio::Samples> inputs;
  for (const auto& [kind, value] : turns) {
    if (kind != "in") continue;
    auto wav = audio::ReadWavFile(value);
    if (!wav.ok()) {
      std::fprintf(stderr, "artagent converse: %s\n", wav.status().message().c_str());
      return 1;
    }
    audio::Samples mono = audio::DownmixToMono(*wav);
    inputs.push_back(audio::ResampleAll(mono, wav->sample_rate, audio::kEngineSampleRate));
  }
  if (!args->Has("log-level")) core::SetLogLevel(core::LogLevel::kWarn);
  auto config = LoadConfig(*args);
  if (!config.ok()) {
    std::fprintf(stderr, "artagent converse: %s\n", config.status().message().c_str());
    return 1;
  }
  RuntimeOptions ro;
  ro.open_store = args->Has("store");
  auto runtime = Runtime::Create(*config, ro);
  if (!runtime.ok()) {
    std::fprintf(stderr, "artagent converse: %s\n", runtime.status().message().c_str());
    return 1;
  }
  Runtime* rt = runtime->get();
  const int timeout_s = std::stoi(args->Get("timeout-s", "60"));

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  auto ex = std::make_shared<server::StrandExecutor>(io);
  TurnCollector collector;
  session::SessionOptions opts = rt->SessionDefaults();
  opts.transport = "converse";
  opts.output_sample_rate = audio::kEngineSampleRate;
  opts.speak_greeting = !args->Has("no-greeting");
  if (args->Has("no-pacing")) opts.output_lead_ms = 3600 * 1000;
  opts.idle_timeout_s = 0;  // the turns are scripted
  auto created = rt->NewSession(ex, opts, &collector);
  if (!created.ok()) {
    std::fprintf(stderr, "artagent converse: %s\n", created.status().message().c_str());
    guard.reset();
    io.stop();
    io_thread.join();
    return 1;
  }
  std::shared_ptr<session::Session> sess = std::move(created).value();

  auto on_strand = [&](std::function<void()> fn) {
    std::promise<void> p;
    ex->Post([&] {
      fn();
      p.set_value();
    });
    p.get_future().wait();
  };
  auto print = [](int n, const std::string& input, const TurnCollector::Turn& t) {
    nlohmann::json j = {{"turn", n},
                        {"input", input},
                        {"user_transcript", t.user_transcript},
                        {"agent_text", t.agent_text},
                        {"agent", t.agent},
                        {"status", t.no_words ? "no_speech" : t.status},
                        {"agent_audio_ms", t.audio_samples * 1000 / audio::kEngineSampleRate},
                        {"latency_ms", t.latency}};
    if (!t.errors.empty()) j["errors"] = t.errors;
    if (!t.tool_calls.empty()) j["tool_calls"] = t.tool_calls;
    if (!t.handoffs.empty()) j["handoffs"] = t.handoffs;
    if (!t.slots.empty()) j["slots"] = t.slots;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  };
  auto wait_turn = [&](std::promise<TurnCollector::Turn>& p, TurnCollector::Turn* out) {
    auto f = p.get_future();
    if (f.wait_for(std::chrono::seconds(timeout_s)) != std::future_status::ready) return false;
    *out = f.get();
    return true;
  };

  int exit_code = 0;
  int n = 0;
  {
    std::promise<TurnCollector::Turn> p;
    on_strand([&] {
      collector.Expect(&p);
      sess->Start();
    });
    if (opts.speak_greeting) {
      TurnCollector::Turn t;
      if (!wait_turn(p, &t)) {
        std::fprintf(stderr, "artagent converse: the greeting did not finish in %d s\n", timeout_s);
        exit_code = 1;
      } else {
        print(n, "greeting", t);
      }
    }
  }
  size_t next_input = 0;
  for (const auto& [kind, value] : turns) {
    if (exit_code) break;
    ++n;
    std::promise<TurnCollector::Turn> p;
    std::shared_ptr<Feeder> feeder;
    if (kind == "in") {
      feeder = std::make_shared<Feeder>();
      feeder->ex = ex;
      feeder->session = sess;
      feeder->pcm = std::move(inputs[next_input++]);
      on_strand([&] {
        collector.Expect(&p);
        feeder->Begin();
      });
    } else if (kind == "dtmf") {
      on_strand([&, keys = value] {
        collector.Expect(&p);
        for (char k : keys) sess->PushDtmf(k);
      });
    } else {
      on_strand([&, text = value] {
        collector.Expect(&p);
        sess->AddUserText(text);
        sess->CreateResponse();
      });
    }
    TurnCollector::Turn t;
    bool ok = wait_turn(p, &t);
    if (feeder) {
      on_strand([&] {
        *feeder->stop = true;
        feeder->timer.reset();
      });
    }
    if (!ok) {
      std::fprintf(stderr, "artagent converse: turn %d (%s) got no reply in %d s\n", n,
                   value.c_str(), timeout_s);
      exit_code = 1;
      break;
    }
    print(n, kind == "in" ? value : kind == "dtmf" ? "dtmf:" + value : "text", t);
    // The agent ended the call: later turns have nobody to talk to. The end comes just after
    // the reply's audio (the far end's buffer plays out first).
    bool requested = false;
    for (const auto& c : t.tool_calls) {
      requested = requested || c["name"] == "end_call" || c["name"] == "transfer_call";
    }
    bool ended = false;
    for (int i = 0; i < (requested ? 30 : 1); ++i) {
      on_strand([&] { ended = collector.ended(); });
      if (ended || !requested) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (ended) {
      nlohmann::json j = {{"event", "call_ended"}, {"call_control", collector.call_control()}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
      break;
    }
  }
  on_strand([&] { sess->Close("ended"); });
  if (args->Has("out")) {
    audio::WavAudio wav{audio::kEngineSampleRate, 1, collector.audio()};
    core::Status st = audio::WriteWavFile(args->Get("out"), wav);
    if (!st.ok()) {
      std::fprintf(stderr, "artagent converse: %s\n", st.message().c_str());
      exit_code = 1;
    }
  }
  sess.reset();
  guard.reset();
  io.stop();
  io_thread.join();
  if (rt->store()) (void)rt->store()->Flush();
  return exit_code;
}

}  // namespace artagent::app
