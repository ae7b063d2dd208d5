#include "tests/integration/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "audio/resampler.h"
#include "audio/wav.h"
#include "core/base64.h"

namespace artagent::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace fs = std::filesystem;

std::string SourceDir() {
  const char* d = std::getenv("ARTAGENT_SOURCE_DIR");
  return d ? d : fs::current_path().string();
}

std::string ArtagentBinary() {
  if (const char* b = std::getenv("ARTAGENT_BIN")) return b;
  // The server built with this test: BUILD/tests/artagent_integration_test -> BUILD/app/artagent.
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path sibling = self.parent_path().parent_path() / "app" / "artagent";
    if (fs::exists(sibling)) return sibling.string();
  }
  return SourceDir() + "/build/app/artagent";
}

std::string TempDir(const std::string& name) {
  static std::atomic<int> counter{0};
  fs::path p = fs::temp_directory_path() /
               ("artagent_it_" + std::to_string(getpid()) + "_" + std::to_string(counter++) +
                "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// ---------------- ServerProcess ----------------

ServerProcess::ServerProcess(std::map<std::string, std::string> env,
                             std::vector<std::string> args) {
  dir_ = TempDir("server");
  stderr_path_ = dir_ + "/stderr.log";
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return;
  env.emplace("ARTAGENT_STORE__PATH", dir_ + "/artagent.db");
  env.emplace("ARTAGENT_STORAGE__LOCAL_DIR", dir_ + "/blobs");
  env.emplace("ARTAGENT_STORAGE__OUTBOX_DIR", dir_ + "/outbox");
  env.emplace("ARTAGENT_LOG__FORMAT", "text");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out_pipe[0]);
    if (chdir(SourceDir().c_str()) != 0) _exit(126);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> argv_s = {ArtagentBinary(), "serve", "--listen", "127.0.0.1:0"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  // Read the "artagent listening on URL" line (at most 60 s: decoders load at start-up).
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  while (std::chrono::steady_clock::now() < deadline) {
    char buf[256];
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n > 0) {
      line.append(buf, static_cast<size_t>(n));
      auto nl = line.find('\n');
      if (nl != std::string::npos) {
        const std::string marker = "artagent listening on ";
        auto pos = line.find(marker);
        if (pos != std::string::npos) {
          url_ = line.substr(pos + marker.size(), nl - pos - marker.size());
          auto colon = url_.rfind(':');
          port_ = std::atoi(url_.c_str() + colon + 1);
        }
        break;
      }
    } else if (n == 0) {
      break;  // the child exited
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  close(out_pipe[0]);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string ServerProcess::StderrTail() const {
  std::ifstream in(stderr_path_);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  return -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

// ---------------- HTTP ----------------

HttpResult HttpGet(int port, const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResult out;
  try {
    net::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(c));
      out.headers[name] = std::string(f.value());
    }
  } catch (const std::exception& e) {
    out.status = -1;
    out.body = e.what();
  }
  return out;
}

// ---------------- WebSocket ----------------

struct WsClient::Impl {
  net::io_context io;
  websocket::stream<tcp::socket> ws{io};
  std::thread reader;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<nlohmann::json> queue;
  std::vector<nlohmann::json> all;
  bool closed = false;
  int close_code = 0;
  std::mutex write_mu;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}

WsClient::~WsClient() {
  Close();
  if (impl_->reader.joinable()) impl_->reader.join();
}

bool WsClient::Connect(int port, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& subprotocol) {
  websocket::response_type res;
  try {
    impl_->ws.next_layer().connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    impl_->ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
      if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    impl_->ws.read_message_max(64 * 1024 * 1024);
    impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), target);
    http_status_ = res.result_int();
    subprotocol_ = std::string(res[http::field::sec_websocket_protocol]);
  } catch (const beast::system_error& e) {
    (void)e;
    http_status_ = res.result_int();  // the refused upgrade's status (0 if none arrived)
    return false;
  }
  impl_->reader = std::thread([impl = impl_.get()] {
    beast::flat_buffer buf;
    for (;;) {
      beast::error_code ec;
      impl->ws.read(buf, ec);
      if (ec) {
        std::lock_guard lock(impl->mu);
        impl->closed = true;
        impl->close_code = ec == websocket::error::closed ? impl->ws.reason().code : 1006;
        impl->cv.notify_all();
        return;
      }
      auto j = nlohmann::json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
      buf.consume(buf.size());
      std::lock_guard lock(impl->mu);
      impl->queue.push_back(j);
      impl->all.push_back(j);
      impl->cv.notify_all();
    }
  });
  return true;
}

bool WsClient::Send(const nlohmann::json& event) { return SendRaw(event.dump()); }

bool WsClient::SendRaw(const std::string& text, bool binary) {
  std::lock_guard lock(impl_->write_mu);
  beast::error_code ec;
  impl_->ws.binary(binary);
  impl_->ws.write(net::buffer(text), ec);
  return !ec;
}

void WsClient::StreamAudio(const audio::Samples& pcm, int rate, bool realtime) {
  const size_t frame = audio::SamplesPerFrame(rate);
  auto start = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (size_t off = 0; off < pcm.size(); off += frame, ++n) {
    size_t len = std::min(frame, pcm.size() - off);
    Send({{"type", "input_audio_buffer.append"},
          {"audio", core::Base64Encode(pcm.data() + off, len * 2)}});
    if (realtime) std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * (n + 1)));
    if (closed()) return;
  }
}

void WsClient::Close() {
  std::lock_guard lock(impl_->write_mu);
  beast::error_code ec;
  if (impl_->ws.is_open()) impl_->ws.close(websocket::close_code::normal, ec);
}

void WsClient::Abort() {
  beast::error_code ec;
  impl_->ws.next_layer().shutdown(tcp::socket::shutdown_both, ec);
  impl_->ws.next_layer().close(ec);
}

std::optional<nlohmann::json> WsClient::WaitFor(const std::string& type,
                                                std::chrono::milliseconds timeout,
                                                std::function<bool(const nlohmann::json&)> pred) {
  std::unique_lock lock(impl_->mu);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto it = impl_->queue.begin(); it != impl_->queue.end(); ++it) {
      if ((*it)["type"] == type && (!pred || pred(*it))) {
        nlohmann::json j = *it;
        impl_->queue.erase(it);
        return j;
      }
    }
    if (impl_->closed) return std::nullopt;
    if (impl_->cv.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

std::vector<nlohmann::json> WsClient::All() const {
  std::lock_guard lock(impl_->mu);
  return impl_->all;
}

std::vector<nlohmann::json> WsClient::AllOfType(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (auto& j : All()) {
    if (j["type"] == type) out.push_back(j);
  }
  return out;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

int WsClient::close_code() const {
  std::lock_guard lock(impl_->mu);
  return impl_->close_code;
}

// ---------------- audio ----------------

audio::Samples SpeakWithFlite(const std::string& text, int rate, int lead_ms, int tail_ms) {
  std::string dir = TempDir("flite");
  std::string wav_path = dir + "/say.wav";
  std::string cmd = "flite -voice slt -t '" + text + "' -o " + wav_path + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return {};
  auto wav = audio::ReadWavFile(wav_path);
  fs::remove_all(dir);
  if (!wav.ok()) return {};
  audio::Samples mono = audio::DownmixToMono(*wav);
  audio::Samples speech = audio::ResampleAll(mono, wav->sample_rate, rate);
  audio::Samples out(audio::MsToSamples(lead_ms, rate), 0);
  out.insert(out.end(), speech.begin(), speech.end());
  out.insert(out.end(), audio::MsToSamples(tail_ms, rate), 0);
  return out;
}

}  // namespace artagent::testing
