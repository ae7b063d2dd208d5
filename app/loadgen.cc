// `artagent loadgen`: N concurrent simulated callers against a running server, over the OpenAI
// Realtime protocol or ACS telephony; prints turn latency, barge-in latency, outbound frame jitter,
// errors, and the server's CPU and memory (from its /metrics) per session.

#include "app/loadgen.h"

#include <sys/resource.h>

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>

#include <cmath>
#include <cstdio>
#include <future>
#include <sstream>
#include <thread>

#include "app/cli.h"
#include "app/commands.h"
#include "audio/resampler.h"
#include "audio/wav.h"
#include "core/log.h"
#include "server/asio_executor.h"

namespace artagent::app {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr char kHelp[] = R"(Usage: artagent loadgen --url URL --transport realtime|acs --sessions N
                        --duration S --audio FILE [flags]

Drives N concurrent simulated callers against a running artagent server and reports turn latency
(end of caller speech -> first agent audio), barge-in latency (caller onset -> agent audio
stopped), outbound frame jitter, errors, and the server's CPU and memory per session (scraped from
its /metrics). Each caller loops turns: a clip from --audio (speech, then silence), silence until
the agent has answered; a fraction of turns speak over the agent's reply (barge-in). For a
measurement of the engine alone run the server with the pass-through providers:
  ARTAGENT_SPEECH__STT__PROVIDER=passthrough ARTAGENT_SPEECH__TTS__PROVIDER=tone
  ARTAGENT_SPEECH__STT__MAX_STREAMS=0 ARTAGENT_AGENTS__DIR=bench/agents ARTAGENT_AGENTS__SCENARIO=echo

Flags:
  --url URL            the server, http://HOST:PORT
  --transport T        realtime (OpenAI Realtime WebSocket) or acs (phone calls through a local
                       ACS simulator; the server's acs.connection_string must point at it)
  --sessions N         concurrent callers (default 1)
  --duration S         seconds of load once every caller has started (default 30)
  --ramp S             start the callers evenly over S seconds (default 0)
  --audio FILE         caller speech (WAV, any rate); repeat for several clips
  --seed N             random seed: clips, pauses, which turns barge in (default 1)
  --barge-in F         fraction of replies the caller interrupts, 0..1 (default 0.2)
  --pause-ms A:B       pause between a reply and the next turn, uniform in [A, B] (default 400:1200)
  --reply-timeout-ms N a turn without a reply after this fails (default 8000)
  --format F           realtime audio: pcm (24 kHz, default) or pcmu (8 kHz G.711)
  --scenario NAME      realtime: /v1/realtime?scenario=NAME
  --acs-listen H:P     acs: where the simulated Call Automation endpoint listens
                       (default 127.0.0.1:0; the connection string is printed on stderr)
  --acs-access-key K   acs: the access key the server signs with (base64)
  --acs-rate R         acs: 16000 (default) or 24000
  --json               print the report as one JSON object
)";

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct ServerSample {
  bool ok = false;
  double cpu_seconds = 0;
  double rss_bytes = 0;
  core::TimePoint at{};
};

// "name value" lines of the Prometheus text format.
ServerSample ParseMetrics(const std::string& text) {
  ServerSample s;
  std::istringstream in(text);
  std::string line;
  int found = 0;
  while (std::getline(in, line)) {
    auto value = [&](const std::string& name, double* out) {
      if (line.rfind(name + " ", 0) == 0) {
        *out = std::strtod(line.c_str() + name.size() + 1, nullptr);
        ++found;
      }
    };
    value("artagent_process_cpu_seconds", &s.cpu_seconds);
    value("artagent_process_resident_memory_bytes", &s.rss_bytes);
  }
  s.ok = found == 2;
  s.at = core::Clock::now();
  return s;
}

double Round1(double v) { return std::round(v * 10) / 10; }

// The run: on the io_context, start to end.
class Run {
 public:
  Run(LoadContext* ctx, net::HttpClient* http, std::shared_ptr<core::Executor> executor,
      std::function<std::unique_ptr<LoadCaller>(int)> make_caller)
      : ctx_(ctx),
        http_(http),
        executor_(std::move(executor)),
        make_caller_(std::move(make_caller)),
        timer_(*ctx->io) {}

  // Posts the run onto the io_context; `done` is called there at the end.
  void Begin(std::function<void()> done) {
    done_ = std::move(done);
    Scrape([this](ServerSample s) {
      start_sample_ = s;
      cpu_start_ = CpuSeconds();
      start_ = core::Clock::now();
      end_ = start_ + ToDuration(ctx_->options.ramp_s + ctx_->options.duration_s);
      next_tick_ = start_;
      callers_.reserve(ctx_->options.sessions);
      Schedule();
    });
  }

  nlohmann::json Report() const {
    const LoadStats& st = *ctx_->stats;
    const double wall = core::MillisBetween(start_, stop_at_) / 1000.0;
    json server = json::object();
    if (start_sample_.ok && end_sample_.ok) {
      const double span = core::MillisBetween(start_sample_.at, end_sample_.at) / 1000.0;
      const double cpu = end_sample_.cpu_seconds - start_sample_.cpu_seconds;
      server["cpu_seconds"] = std::round(cpu * 100) / 100;
      server["cpu_percent"] = span > 0 ? Round1(100.0 * cpu / span) : 0.0;
      server["cpu_ms_per_session_second"] =
          span > 0 && live_at_end_ > 0 ? std::round(1e4 * cpu / span / live_at_end_) / 10 : 0.0;
      server["rss_start_mb"] = Round1(start_sample_.rss_bytes / 1048576.0);
      server["rss_end_mb"] = Round1(end_sample_.rss_bytes / 1048576.0);
      server["rss_per_session_kb"] =
          live_at_end_ > 0
              ? Round1((end_sample_.rss_bytes - start_sample_.rss_bytes) / 1024.0 / live_at_end_)
              : 0.0;
      server["live_sessions_at_end"] = live_at_end_;
    } else {
      server["error"] = "could not read the server's /metrics";
    }
    return {{"transport", ctx_->options.transport},
            {"url", ctx_->options.url},
            {"sessions_requested", ctx_->options.sessions},
            {"ramp_s", ctx_->options.ramp_s},
            {"duration_s", ctx_->options.duration_s},
            {"wall_s", Round1(wall)},
            {"sessions",
             {{"started", st.sessions_started},
              {"connected", st.sessions_connected},
              {"refused", st.sessions_refused},
              {"refusals", st.refusals},
              {"dropped", st.sessions_dropped},
              {"peak", st.sessions_peak},
              {"live_at_end", live_at_end_}}},
            {"turns",
             {{"ok", st.turns_ok},
              {"failed", st.turns_failed},
              {"callers_with_ok_turn", st.callers_with_ok_turn}}},
            {"turn_latency_ms", st.turn_latency.Json()},
            {"turn_latency_before_refusal_ms", st.turn_latency_before_refusal.Json()},
            {"turn_latency_after_refusal_ms", st.turn_latency_after_refusal.Json()},
            {"barge_in",
             {{"count", st.barge_ins},
              {"missed", st.barge_ins_missed},
              {"latency_ms", st.barge_in_latency.Json()}}},
            {"jitter_ms", st.jitter.Json()},
            {"frames_received", st.frames_received},
            {"gaps", st.gaps},
            {"errors", st.errors},
            {"server", server},
            {"loadgen",
             {{"cpu_percent", wall > 0 ? Round1(100.0 * (cpu_end_ - cpu_start_) / wall) : 0.0},
              {"behind_ms_max", Round1(behind_max_ms_)}}}};
  }

 private:
  static core::Duration ToDuration(double s) {
    return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(s));
  }

  void Scrape(std::function<void(ServerSample)> then) {
    net::HttpRequestSpec spec;
    spec.url = ctx_->options.url + "/metrics";
    spec.total_timeout = std::chrono::seconds(10);
    scrape_ = http_->Fetch(
        std::move(spec),
        [this, then = std::move(then)](core::Result<net::HttpResponse> r) {
          ServerSample s;
          if (r.ok() && r->status == 200) s = ParseMetrics(r->body);
          if (!s.ok) ctx_->stats->Error("metrics_unreadable");
          then(s);
        },
        executor_);
  }

  void Schedule() {
    timer_.expires_at(next_tick_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      OnTick();
    });
  }

  // The wheel: a 1 ms tick; caller i sends on the ticks where tick % 20 == i % 20.
  void OnTick() {
    const core::TimePoint now = core::Clock::now();
    const double behind = core::MillisBetween(next_tick_, now);
    behind_max_ms_ = std::max(behind_max_ms_, behind);
    if (behind > 100) {
      // The loadgen itself cannot keep up: skip ahead rather than burst.
      ctx_->stats->Error("loadgen_behind");
      next_tick_ = now;
    }
    if (now >= end_) return Finish();
    const int n = ctx_->options.sessions;
    const double ramp_ms = ctx_->options.ramp_s * 1000.0;
    while (static_cast<int>(callers_.size()) < n) {
      const int i = static_cast<int>(callers_.size());
      const double due_ms = n > 1 ? ramp_ms * i / (n - 1) : 0;
      if (core::MillisBetween(start_, now) < due_ms) break;
      callers_.push_back(make_caller_(i));
      callers_.back()->Start();
    }
    while (next_tick_ <= now) {
      const size_t slot = tick_ % 20;
      for (size_t i = slot; i < callers_.size(); i += 20) callers_[i]->Tick(now);
      ++tick_;
      next_tick_ += std::chrono::milliseconds(1);
    }
    Schedule();
  }

  void Finish() {
    live_at_end_ = ctx_->live;
    Scrape([this](ServerSample s) {
      end_sample_ = s;
      stop_at_ = core::Clock::now();
      cpu_end_ = CpuSeconds();
      ctx_->stopping = true;
      for (auto& c : callers_) c->Stop();
      drain_deadline_ = core::Clock::now() + std::chrono::seconds(5);
      Drain();
    });
  }

  void Drain() {
    bool all = true;
    for (auto& c : callers_) all = all && c->done();
    if (all || core::Clock::now() >= drain_deadline_) {
      done_();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Drain();
    });
  }

  LoadContext* ctx_;
  net::HttpClient* http_;
  std::shared_ptr<core::Executor> executor_;
  std::function<std::unique_ptr<LoadCaller>(int)> make_caller_;
  asio::steady_timer timer_;
  std::function<void()> done_;
  std::unique_ptr<net::HttpCall> scrape_;
  std::vector<std::unique_ptr<LoadCaller>> callers_;
  core::TimePoint start_{}, end_{}, next_tick_{}, stop_at_{}, drain_deadline_{};
  uint64_t tick_ = 0;
  double behind_max_ms_ = 0;
  ServerSample start_sample_, end_sample_;
  double cpu_start_ = 0, cpu_end_ = 0;
  int live_at_end_ = 0;

 public:
  // Callers must outlive the io_context's handlers that refer to them.
  std::vector<std::unique_ptr<LoadCaller>>& callers() { return callers_; }
};

void PrintText(const json& r) {
  auto hist = [](const json& h) {
    return fmt::format("p50 {} / p95 {} / p99 {} / max {} ms (n={})", h["p50"].dump(),
                       h["p95"].dump(), h["p99"].dump(), h["max"].dump(), h["count"].dump());
  };
  const json& s = r["sessions"];
  std::printf("loadgen %s %s: %d sessions requested, ramp %.0f s, %.0f s of load\n",
              r["transport"].get<std::string>().c_str(), r["url"].get<std::string>().c_str(),
              r["sessions_requested"].get<int>(), r["ramp_s"].get<double>(),
              r["duration_s"].get<double>());
  std::printf("  sessions   started %d, connected %d, refused %d %s, dropped %d, peak %d\n",
              s["started"].get<int>(), s["connected"].get<int>(), s["refused"].get<int>(),
              s["refusals"].dump().c_str(), s["dropped"].get<int>(), s["peak"].get<int>());
  std::printf("  turns      ok %d, failed %d; %d callers completed a turn\n",
              r["turns"]["ok"].get<int>(), r["turns"]["failed"].get<int>(),
              r["turns"]["callers_with_ok_turn"].get<int>());
  std::printf("  latency    %s\n", hist(r["turn_latency_ms"]).c_str());
  if (s["refused"].get<int>() > 0) {
    std::printf("    before the first refusal %s\n",
                hist(r["turn_latency_before_refusal_ms"]).c_str());
    std::printf("    after it                 %s\n",
                hist(r["turn_latency_after_refusal_ms"]).c_str());
  }
  std::printf("  barge-in   %d (missed %d): %s\n", r["barge_in"]["count"].get<int>(),
              r["barge_in"]["missed"].get<int>(), hist(r["barge_in"]["latency_ms"]).c_str());
  std::printf("  jitter     %s; %lld frames, %lld gaps\n", hist(r["jitter_ms"]).c_str(),
              static_cast<long long>(r["frames_received"].get<int64_t>()),
              static_cast<long long>(r["gaps"].get<int64_t>()));
  std::printf("  errors     %s\n", r["errors"].dump().c_str());
  std::printf("  server     %s\n", r["server"].dump().c_str());
  std::printf("  loadgen    %s\n", r["loadgen"].dump().c_str());
}

core::Result<LoadgenOptions> ParseOptions(const Args& args) {
  LoadgenOptions o;
  o.url = args.Get("url");
  if (o.url.empty()) return core::InvalidArgumentError("--url is required (http://HOST:PORT)");
  if (o.url.rfind("ws://", 0) == 0) o.url = "http://" + o.url.substr(5);
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  if (o.url.rfind("http://", 0) != 0) {
    return core::InvalidArgumentError("--url must be http://HOST:PORT (plain, local)");
  }
  o.transport = args.Get("transport", "realtime");
  if (o.transport != "realtime" && o.transport != "acs") {
    return core::InvalidArgumentError("--transport must be realtime or acs");
  }
  try {
    o.sessions = std::stoi(args.Get("sessions", "1"));
    o.duration_s = std::stod(args.Get("duration", "30"));
    o.ramp_s = std::stod(args.Get("ramp", "0"));
    o.seed = std::stoull(args.Get("seed", "1"));
    o.caller.barge_in_fraction = std::stod(args.Get("barge-in", "0.2"));
    o.caller.reply_timeout_ms = std::stoi(args.Get("reply-timeout-ms", "8000"));
    o.acs_rate = std::stoi(args.Get("acs-rate", "16000"));
    const std::string pause = args.Get("pause-ms", "400:1200");
    const size_t colon = pause.find(':');
    o.caller.min_pause_ms = std::stoi(pause.substr(0, colon));
    o.caller.max_pause_ms =
        colon == std::string::npos ? o.caller.min_pause_ms : std::stoi(pause.substr(colon + 1));
  } catch (const std::exception&) {
    return core::InvalidArgumentError("a numeric flag has a value that is not a number");
  }
  if (o.sessions < 1 || o.sessions > 100000) {
    return core::InvalidArgumentError("--sessions must be 1..100000");
  }
  if (o.duration_s <= 0 || o.ramp_s < 0) {
    return core::InvalidArgumentError("--duration must be > 0 and --ramp >= 0");
  }
  if (o.caller.barge_in_fraction < 0 || o.caller.barge_in_fraction > 1) {
    return core::InvalidArgumentError("--barge-in must be between 0 and 1");
  }
  if (o.caller.min_pause_ms < 0 || o.caller.max_pause_ms < o.caller.min_pause_ms) {
    return core::InvalidArgumentError("--pause-ms must be A:B with 0 <= A <= B");
  }
  o.audio = args.All("audio");
  if (o.audio.empty()) return core::InvalidArgumentError("--audio FILE is required");
  o.format = args.Get("format", "pcm");
  o.scenario = args.Get("scenario");
  o.acs_listen = args.Get("acs-listen", o.acs_listen);
  o.access_key = args.Get("acs-access-key", o.access_key);
  o.caller.transcripts = o.transport == "realtime";
  return o;
}

}  // namespace

int LoadgenCommand(int argc, char** argv) {
  auto parsed = ParseArgs(
      argc, argv,
      {"url", "transport", "sessions", "duration", "ramp", "audio", "seed", "barge-in", "pause-ms",
       "reply-timeout-ms", "format", "scenario", "acs-listen", "acs-access-key", "acs-rate"},
      {"json", "help"});
  if (!parsed.ok()) {
    std::fprintf(stderr, "artagent loadgen: %s\n", parsed.status().message().c_str());
    return 2;
  }
  if (parsed->Has("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  auto options = ParseOptions(*parsed);
  if (!options.ok()) {
    std::fprintf(stderr, "artagent loadgen: %s\n", options.status().message().c_str());
    return 2;
  }

  std::vector<std::vector<int16_t>> clips;
  for (const auto& path : options->audio) {
    auto wav = audio::ReadWavFile(path);
    if (!wav.ok()) {
      std::fprintf(stderr, "artagent loadgen: %s: %s\n", path.c_str(),
                   wav.status().message().c_str());
      return 2;
    }
    clips.push_back(
        audio::ResampleAll(audio::DownmixToMono(*wav), wav->sample_rate, audio::kEngineSampleRate));
  }

  LoadStats stats;
  LoadContext ctx;
  ctx.options = *options;
  ctx.stats = &stats;
  auto encoded = options->transport == "acs" ? EncodeAcsAudio(clips, options->acs_rate)
                                             : EncodeRealtimeAudio(clips, options->format);
  if (!encoded.ok()) {
    std::fprintf(stderr, "artagent loadgen: %s\n", encoded.status().message().c_str());
    return 2;
  }
  ctx.audio = std::move(encoded).value();

  // The server's address, resolved once.
  const std::string authority = options->url.substr(std::string("http://").size());
  ctx.host = authority.substr(0, authority.find('/'));
  const size_t colon = ctx.host.rfind(':');
  const std::string host = ctx.host.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : ctx.host.substr(colon + 1);

  std::unique_ptr<asio::io_context> own_io;
  std::unique_ptr<AcsFleet> fleet;
  std::unique_ptr<net::HttpClient> http;
  std::shared_ptr<core::Executor> executor;
  if (options->transport == "acs") {
    auto f = AcsFleet::Start(&ctx);
    if (!f.ok()) {
      std::fprintf(stderr, "artagent loadgen: %s\n", f.status().message().c_str());
      return 2;
    }
    fleet = std::move(f).value();
    ctx.io = &fleet->io_context();
    std::fprintf(stderr, "artagent loadgen: ACS simulator connection string: %s\n",
                 fleet->connection_string().c_str());
    executor = fleet->executor();
  } else {
    own_io = std::make_unique<asio::io_context>(1);
    ctx.io = own_io.get();
    net::HttpClientOptions ho;
    ho.io_threads = 1;
    http = net::HttpClient::Create(ho);
    executor = std::make_shared<server::StrandExecutor>(*own_io);
  }
  try {
    asio::ip::tcp::resolver resolver(*ctx.io);
    ctx.server = *resolver.resolve(host, port).begin();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "artagent loadgen: cannot resolve %s: %s\n", ctx.host.c_str(), e.what());
    return 2;
  }

  std::function<std::unique_ptr<LoadCaller>(int)> make_caller;
  if (fleet) {
    make_caller = [&fleet](int i) { return fleet->NewCaller(i); };
  } else {
    make_caller = [&ctx](int i) { return NewRealtimeCaller(&ctx, i); };
  }
  Run run(&ctx, fleet ? fleet->http() : http.get(), executor, make_caller);
  std::promise<void> finished;
  asio::post(*ctx.io, [&] { run.Begin([&] { finished.set_value(); }); });
  std::thread io_thread;
  if (own_io) {
    auto guard = asio::make_work_guard(*own_io);
    io_thread = std::thread([&] { own_io->run(); });
    finished.get_future().wait();
    own_io->stop();
    io_thread.join();
  } else {
    finished.get_future().wait();
  }
  // The run is over. Realtime: the io thread has stopped; ACS: the report is read on the io
  // thread, which is still serving.
  json report;
  if (own_io) {
    report = run.Report();
  } else {
    std::promise<json> p;
    asio::post(*ctx.io, [&] { p.set_value(run.Report()); });
    report = p.get_future().get();
  }
  if (fleet) fleet->Shutdown();
  if (parsed->Has("json")) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    PrintText(report);
  }
  return 0;
}

}  // namespace artagent::app
