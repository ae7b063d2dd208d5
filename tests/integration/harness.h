#pragma once
// Test harness for integration tests: runs the real `artagent` binary as a child process, talks to
// it over loopback (HTTP and WebSocket), and makes caller audio with the flite CLI.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"

namespace artagent::testing {

std::string SourceDir();
std::string ArtagentBinary();
std::string TempDir(const std::string& name);  // fresh, under the system temp dir

// `artagent serve` on 127.0.0.1:0 with a temporary store; stopped (SIGTERM) on destruction.
class ServerProcess {
 public:
  // `env` adds ARTAGENT_* overrides; `args` adds flags.
  explicit ServerProcess(std::map<std::string, std::string> env = {},
                         std::vector<std::string> args = {});
  ~ServerProcess();
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }
  std::string StderrTail() const;
  // SIGTERM, wait; returns the exit status (or -1).
  int Stop();
  void Kill();  // SIGKILL

 private:
  int pid_ = -1;
  int port_ = 0;
  std::string url_;
  std::string dir_;
  std::string stderr_path_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};
HttpResult HttpGet(int port, const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

// A WebSocket client with a reader thread: messages queue up; tests wait for the one they need.
class WsClient {
 public:
  WsClient();
  ~WsClient();
  // Connects to ws://127.0.0.1:port/target. On a refused upgrade returns false and sets
  // http_status().
  bool Connect(int port, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               const std::string& subprotocol = "realtime");
  int http_status() const { return http_status_; }
  std::string negotiated_subprotocol() const { return subprotocol_; }

  bool Send(const nlohmann::json& event);
  bool SendRaw(const std::string& text, bool binary = false);
  // Streams PCM16 at `rate` as input_audio_buffer.append events of 20 ms, paced in real time if
  // `realtime`.
  void StreamAudio(const audio::Samples& pcm, int rate, bool realtime = true);
  void Close();
  // Drops the TCP connection without a close frame.
  void Abort();

  // Waits for the next queued message whose type is `type` (skipping none: earlier messages stay
  // queued for later waits) and removes it. nullopt on timeout.
  std::optional<nlohmann::json> WaitFor(const std::string& type,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                        std::function<bool(const nlohmann::json&)> pred = {});
  // Every message received so far (also those already returned by WaitFor).
  std::vector<nlohmann::json> All() const;
  std::vector<nlohmann::json> AllOfType(const std::string& type) const;
  bool closed() const;
  int close_code() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int http_status_ = 0;
  std::string subprotocol_;
};

// Synthesises `text` with the flite CLI (voice slt), resampled to `rate`, with `lead_ms` of
// silence before and `tail_ms` after.
audio::Samples SpeakWithFlite(const std::string& text, int rate, int lead_ms = 300,
                              int tail_ms = 1200);

}  // namespace artagent::testing
