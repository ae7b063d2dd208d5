// `artagent call --simulate`: call an agent "by phone" without Azure. The local ACS simulator
// plays Event Grid, Call Automation and the media stream against a server — one it starts itself
// (default) or one already running (--url, configured with the simulator's connection string).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/acs_routes.h"
#include "app/cli.h"
#include "audio/resampler.h"
#include "audio/wav.h"
#include "core/log.h"
#include "transport/acs/simulator.h"

namespace artagent::app {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kCallHelp[] = R"(Usage: artagent call --simulate [flags]

Places a phone call to an agent through a local simulation of Azure Communication Services: the
simulator posts IncomingCall, serves the Call Automation REST calls (checking their HMAC
signatures), sends the callbacks, streams the caller's audio over the ACS media WebSocket in real
time, records the agent, sends DTMF and hangs up. Prints one JSON summary: transcript, frame
sizes and pacing, barge-in latency.

Flags:
  --simulate           required (real PSTN calls go through Azure)
  --audio FILE         caller speech (WAV, any rate; mono or the first channel); "-" reads raw
                       PCM16 mono at the stream rate (16 kHz) from stdin, streamed as it arrives
  --mic                talk to the agent yourself: the caller is the default microphone (sox
                       `rec`, else `arecord`) and the agent plays on the speaker (`play`/`aplay`);
                       Ctrl-C hangs up. ARTAGENT_MIC_COMMAND / ARTAGENT_SPEAKER_COMMAND replace
                       the programs (raw PCM16 mono on stdout / stdin; {rate} is the stream rate)
  --speaker            play the agent live on the speaker (implied by --mic)
  --dtmf KEYS          keys to press after the audio, e.g. 40213587#
  --interrupt          start the caller's audio 1 s into the greeting (measures barge-in)
  --out FILE           write the agent's audio (WAV at the stream rate)
  --url URL            use a running server instead of starting one; it must have
                       acs.connection_string set to the simulator's (printed on stderr)
  --acs-listen H:P     the simulated ACS endpoint (default 127.0.0.1:0; with --url use a fixed
                       port, e.g. 127.0.0.1:4711)
  --config FILE        configuration for the server started here
  --help               this text
)";

// `artagent serve` as a child with the simulator's connection string; returns its URL.
struct ChildServer {
  pid_t pid = -1;
  std::string url;
  ~ChildServer() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int status = 0;
      waitpid(pid, &status, 0);
    }
  }
};

bool StartServer(const std::string& connection_string, const std::string& config,
                 ChildServer* child) {
  int out[2];
  if (pipe(out) != 0) return false;
  child->pid = fork();
  if (child->pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    setenv("ARTAGENT_ACS__CONNECTION_STRING", connection_string.c_str(), 1);
    // Its own store: a server already running here keeps data/artagent.db locked.
    const std::string own = "/tmp/artagent-call-" + std::to_string(getpid());
    if (!getenv("ARTAGENT_STORE__PATH")) {
      setenv("ARTAGENT_STORE__PATH", (own + ".db").c_str(), 1);
    }
    // Likewise its uploads: one outbox directory belongs to one process.
    if (!getenv("ARTAGENT_STORAGE__OUTBOX_DIR")) {
      setenv("ARTAGENT_STORAGE__OUTBOX_DIR", (own + "-outbox").c_str(), 1);
    }
    if (!getenv("ARTAGENT_STORAGE__LOCAL_DIR")) {
      setenv("ARTAGENT_STORAGE__LOCAL_DIR", (own + "-blobs").c_str(), 1);
    }
    std::vector<std::string> args = {"/proc/self/exe", "serve", "--listen", "127.0.0.1:0"};
    if (!config.empty()) {
      args.push_back("--config");
      args.push_back(config);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  // Blocking read until the "artagent listening on URL" line (the child exits on failure).
  while ((n = read(out[0], buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    const std::string marker = "artagent listening on ";
    auto pos = text.find(marker);
    auto nl = text.find('\n', pos == std::string::npos ? 0 : pos);
    if (pos != std::string::npos && nl != std::string::npos) {
      child->url = text.substr(pos + marker.size(), nl - pos - marker.size());
      break;
    }
  }
  close(out[0]);
  return !child->url.empty();
}

bool ParseHostPort(const std::string& s, std::string* host, uint16_t* port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *host = s.substr(0, colon);
  int p = std::atoi(s.c_str() + colon + 1);
  if (p < 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}


// --- Live audio (--mic, --audio -, --speaker) ---

std::atomic<bool> g_hang_up{false};
void OnInterrupt(int) { g_hang_up = true; }

bool OnPath(const char* program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// The shell command for live capture or playback at `rate`: the environment's override ({rate}
// replaced), else sox's program, else ALSA's. Empty when there is none.
std::string AudioCommand(bool capture, int rate) {
  const char* env = std::getenv(capture ? "ARTAGENT_MIC_COMMAND" : "ARTAGENT_SPEAKER_COMMAND");
  std::string r = std::to_string(rate);
  std::string cmd;
  if (env && *env) {
    cmd = env;
  } else if (OnPath(capture ? "rec" : "play")) {
    cmd = std::string(capture ? "rec" : "play") +
          " -q -t raw -r {rate} -e signed-integer -b 16 -c 1 -";
  } else if (OnPath(capture ? "arecord" : "aplay")) {
    cmd = std::string(capture ? "arecord" : "aplay") + " -q -t raw -f S16_LE -c 1 -r {rate}";
  }
  for (size_t at; (at = cmd.find("{rate}")) != std::string::npos;) cmd.replace(at, 6, r);
  return cmd;
}

// Reads raw PCM16 from `fd` and streams it in 20 ms frames as it arrives, until end of input,
// Ctrl-C or the media socket closing. Returns the number of frames sent.
size_t StreamLive(int fd, transport::acs::AcsSimulator& s) {
  const size_t frame_bytes = audio::SamplesPerFrame(s.sample_rate()) * sizeof(int16_t);
  audio::Samples frame(frame_bytes / sizeof(int16_t));
  size_t sent = 0;
  while (!g_hang_up && !s.media_closed()) {
    size_t have = 0;
    auto* bytes = reinterpret_cast<char*>(frame.data());
    while (have < frame_bytes) {
      ssize_t n = read(fd, bytes + have, frame_bytes - have);
      if (n > 0) {
        have += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR && !g_hang_up) {
        continue;
      } else {
        break;
      }
    }
    if (have < frame_bytes) break;
    s.StreamAudio(frame);
    ++sent;
  }
  return sent;
}

// Plays the agent's frames through a player process. Writes never block the simulator: when the
// player falls behind, frames are dropped (and counted) rather than delaying the call.
class LivePlayer {
 public:
  bool Open(const std::string& cmd) {
    pipe_ = popen(cmd.c_str(), "w");
    if (!pipe_) return false;
    fd_ = fileno(pipe_);
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return true;
  }
  void Play(std::span<const int16_t> pcm) {
    if (fd_ < 0 || pcm.empty()) return;
    const size_t bytes = pcm.size_bytes();
    ssize_t n = write(fd_, pcm.data(), bytes);
    if (n != static_cast<ssize_t>(bytes)) dropped_ += 1;
  }
  ~LivePlayer() {
    if (pipe_) pclose(pipe_);
  }
  size_t dropped() const { return dropped_; }

 private:
  FILE* pipe_ = nullptr;
  int fd_ = -1;
  std::atomic<size_t> dropped_{0};
};

}  // namespace

int CallCommand(int argc, char** argv) {
  auto args = ParseArgs(argc - 1, argv + 1, {"audio", "dtmf", "out", "url", "acs-listen", "config"},
                        {"simulate", "interrupt", "mic", "speaker", "help"});
  if (!args.ok()) {
    std::fprintf(stderr, "artagent call: %s\n", args.status().message().c_str());
    return 2;
  }
  if (args->Has("help")) {
    std::fputs(kCallHelp, stdout);
    return 0;
  }
  if (!args->Has("simulate")) {
    std::fprintf(stderr,
                 "artagent call: only --simulate is supported (real calls come in through "
                 "Azure Event Grid)\n\n%s",
                 kCallHelp);
    return 2;
  }
  audio::WavAudio caller;
  const bool mic = args->Has("mic");
  const bool live_stdin = args->Get("audio") == "-";
  if (mic && args->Has("audio")) {
    std::fprintf(stderr, "artagent call: --mic and --audio are exclusive\n");
    return 2;
  }
  if (args->Has("audio") && !live_stdin) {
    auto wav = audio::ReadWavFile(args->Get("audio"));
    if (!wav.ok()) {
      std::fprintf(stderr, "artagent call: %s\n", wav.status().message().c_str());
      return 1;
    }
    caller = std::move(wav).value();
  }
  transport::acs::SimulatorOptions so;
  if (!ParseHostPort(args->Get("acs-listen", "127.0.0.1:0"), &so.listen_host, &so.listen_port)) {
    std::fprintf(stderr, "artagent call: --acs-listen must be HOST:PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  auto sim = transport::acs::AcsSimulator::Start(so);
  if (!sim.ok()) {
    std::fprintf(stderr, "artagent call: %s\n", sim.status().message().c_str());
    return 1;
  }
  auto& s = **sim;
  std::fprintf(stderr, "simulated ACS at %s\n", s.connection_string().c_str());
  ChildServer child;
  std::string url = args->Get("url");
  if (url.empty()) {
    if (!StartServer(s.connection_string(), args->Get("config"), &child)) {
      std::fprintf(stderr, "artagent call: the server did not start (see its log above)\n");
      return 1;
    }
    url = child.url;
  }
  s.set_server_url(url);

  core::Status placed = s.PlaceCall(seconds(30));
  if (!placed.ok()) {
    std::fprintf(stderr, "artagent call: %s\n", placed.ToString().c_str());
    return 1;
  }
  const int rate = s.sample_rate();
  audio::Samples speech;
  if (!caller.samples.empty()) {
    audio::Samples mono;
    for (size_t i = 0; i < caller.samples.size(); i += caller.channels) {
      mono.push_back(caller.samples[i]);
    }
    auto resampler = audio::Resampler::Create(caller.sample_rate, rate);
    if (resampler.ok()) {
      (*resampler)->Process(mono, &speech);
    } else {
      speech = mono;
    }
  }
  LivePlayer player;
  if (mic || args->Has("speaker")) {
    std::string cmd = AudioCommand(/*capture=*/false, rate);
    if (cmd.empty() || !player.Open(cmd)) {
      std::fprintf(stderr,
                   "artagent call: no audio player: install sox (play) or alsa-utils (aplay), or "
                   "set ARTAGENT_SPEAKER_COMMAND\n");
      s.HangUp();
      return 1;
    }
    s.SetAgentAudioSink([&player](std::span<const int16_t> pcm) { player.Play(pcm); });
  }
  json live;
  if (mic || live_stdin) {
    struct sigaction sa = {};
    sa.sa_handler = OnInterrupt;  // no SA_RESTART: a blocked read returns on Ctrl-C
    sigaction(SIGINT, &sa, nullptr);
    FILE* source = nullptr;
    int fd = STDIN_FILENO;
    std::string cmd;
    if (mic) {
      cmd = AudioCommand(/*capture=*/true, rate);
      if (cmd.empty() || !(source = popen(cmd.c_str(), "r"))) {
        std::fprintf(stderr,
                     "artagent call: no capture program: install sox (rec) or alsa-utils "
                     "(arecord), or set ARTAGENT_MIC_COMMAND\n");
        s.HangUp();
        return 1;
      }
      fd = fileno(source);
      std::fprintf(stderr, "on the line: speak to the agent; Ctrl-C hangs up\n");
    }
    const size_t frames = StreamLive(fd, s);
    int mic_status = source ? pclose(source) : 0;
    live = {{"caller_frames", frames}, {"interrupted", g_hang_up.load()}};
    if (mic && frames == 0) {
      std::fprintf(stderr,
                   "artagent call: the microphone gave no audio ('%s' exited with status %d): is "
                   "there a capture device?\n",
                   cmd.c_str(), WIFEXITED(mic_status) ? WEXITSTATUS(mic_status) : -1);
    }
    if (!g_hang_up) {
      // The input ended (a file or pipe, not Ctrl-C): let the agent answer the last words.
      s.StreamSilence(1000);
      s.WaitForAgentQuiet(milliseconds(800), seconds(60));
    }
  } else if (args->Has("interrupt")) {
    s.WaitForAgentAudio(1000, seconds(30));
  } else {
    s.WaitForAgentAudio(200, seconds(30));
    s.WaitForAgentQuiet(milliseconds(800), seconds(60));
  }
  if (!speech.empty()) {
    s.StreamAudio(speech);
    s.StreamSilence(1000);
    s.WaitForAgentQuiet(milliseconds(800), seconds(60));
  }
  for (char k : g_hang_up ? std::string() : args->Get("dtmf")) {
    s.SendDtmf(k);
    s.StreamSilence(150);
  }
  if (args->Has("dtmf") && !g_hang_up) {
    s.StreamSilence(600);
    s.WaitForAgentQuiet(milliseconds(800), seconds(60));
  }
  core::Status hung = s.HangUp();

  auto stats = transport::acs::ComputeMediaStats(s.frames(), rate, s.onsets());
  int bad_signatures = 0;
  for (const auto& c : s.rest_calls()) bad_signatures += !c.signature_ok;
  json summary = {{"call_connection_id", s.call_connection_id()},
                  {"sample_rate", rate},
                  {"agent_audio_ms", s.agent_audio_ms()},
                  {"frames", stats.frames},
                  {"wrong_size_frames", stats.wrong_size_frames},
                  {"interval_ms",
                   {{"p50", stats.interval_p50_ms},
                    {"p99", stats.interval_p99_ms},
                    {"max", stats.interval_max_ms}}},
                  {"jitter_ms", {{"p50", stats.jitter_p50_ms}, {"p99", stats.jitter_p99_ms}}},
                  {"barge_in_ms", stats.barge_in_ms},
                  {"rest_calls", s.rest_calls().size()},
                  {"bad_signatures", bad_signatures},
                  {"hangup", hung.ok() ? "ok" : hung.message()}};
  if (!live.is_null()) {
    live["played_dropped_frames"] = player.dropped();
    summary["live"] = live;
  }
  // The transcript, from the server's store.
  auto calls = s.Request("GET", "/api/v1/calls", "");
  if (calls.ok() && calls->status == 200) {
    json list = json::parse(calls->body, nullptr, false);
    for (const auto& c : list.value("calls", json::array())) {
      if (c.value("call_connection_id", "") != s.call_connection_id()) continue;
      summary["call"] = c;
      if (!c["session_id"].is_string()) break;
      for (int i = 0; i < 20; ++i) {
        auto sess = s.Request("GET", "/api/v1/sessions/" + c["session_id"].get<std::string>(), "");
        json j = sess.ok() ? json::parse(sess->body, nullptr, false) : json();
        if (j.is_object() && j.value("status", "") != "active") {
          json lines = json::array();
          for (const auto& t : j.value("transcript", json::array())) {
            lines.push_back(t.value("role", "") + ": " + t.value("text", ""));
          }
          summary["transcript"] = lines;
          summary["slots"] = j.value("slots", json::object());
          break;
        }
        std::this_thread::sleep_for(milliseconds(100));
      }
    }
  }
  if (args->Has("out")) {
    audio::WavAudio out;
    out.sample_rate = rate;
    out.samples = s.agent_audio();
    core::Status st = audio::WriteWavFile(args->Get("out"), out);
    if (!st.ok()) std::fprintf(stderr, "artagent call: %s\n", st.message().c_str());
  }
  std::printf("%s\n", summary.dump(2).c_str());
  return bad_signatures == 0 && stats.wrong_size_frames == 0 ? 0 : 1;
}

}  // namespace artagent::app
