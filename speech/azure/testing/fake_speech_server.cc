#include "speech/azure/testing/fake_speech_server.h"

#include <sys/socket.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "speech/azure/speech_protocol.h"

namespace artagent::speech::azure::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using json = nlohmann::json;

// protocols.md §4.3: the WAV header vector (16 kHz mono 16-bit, sizes 0).
constexpr std::string_view kWavHeaderHex =
    "524946460000000057415645666d74201000000001000100803e0000007d0000020010006461746100000000";

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

bool IsRequestId(std::string_view id) {
  static const std::regex re("^[0-9A-F]{32}$");
  return std::regex_match(std::string(id), re);
}

bool IsTimestamp(std::string_view ts) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  return std::regex_match(std::string(ts), re);
}

// The client's header block, line by line in the SDK's order: Path, X-RequestId, X-Timestamp,
// then Content-Type when `content_type` is not empty. Returns the problems found.
std::vector<std::string> CheckHeaderBlock(std::string_view block, std::string_view path,
                                          std::string_view content_type, std::string* request_id) {
  std::vector<std::string> errors;
  std::vector<std::string> lines;
  while (!block.empty()) {
    size_t end = block.find("\r\n");
    if (end == std::string_view::npos) {
      errors.push_back("header line without CRLF");
      break;
    }
    lines.emplace_back(block.substr(0, end));
    block.remove_prefix(end + 2);
  }
  const size_t want = content_type.empty() ? 3 : 4;
  if (lines.size() != want) {
    errors.push_back(fmt::format("{}: {} header lines, expected {}", path, lines.size(), want));
    return errors;
  }
  if (lines[0] != fmt::format("Path: {}", path)) errors.push_back("bad Path line: " + lines[0]);
  if (lines[1].rfind("X-RequestId: ", 0) != 0 || !IsRequestId(lines[1].substr(13))) {
    errors.push_back("bad X-RequestId line: " + lines[1]);
  } else {
    *request_id = lines[1].substr(13);
  }
  if (lines[2].rfind("X-Timestamp: ", 0) != 0 || !IsTimestamp(lines[2].substr(13))) {
    errors.push_back("bad X-Timestamp line: " + lines[2]);
  }
  if (!content_type.empty() && lines[3] != fmt::format("Content-Type: {}", content_type)) {
    errors.push_back("bad Content-Type line: " + lines[3]);
  }
  return errors;
}

std::string ServiceMessage(std::string_view path, std::string_view request_id, const json& body) {
  return fmt::format(
      "X-RequestId:{}\r\nPath:{}\r\nContent-Type:application/json; charset=utf-8\r\n"
      "\r\n{}",
      request_id, path, body.dump());
}

std::string Tone(size_t samples, int rate) {
  std::string pcm(samples * 2, '\0');
  for (size_t i = 0; i < samples; ++i) {
    const auto v = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440.0 * i / rate));
    pcm[2 * i] = static_cast<char>(v & 0xff);
    pcm[2 * i + 1] = static_cast<char>((v >> 8) & 0xff);
  }
  return pcm;
}

}  // namespace

struct FakeSpeechServer::Impl : std::enable_shared_from_this<FakeSpeechServer::Impl> {
  FakeSpeechOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  uint16_t port = 0;
  std::thread accept_thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool stopping = false;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::deque<std::string> transcripts;
  std::deque<SttFault> stt_faults;
  std::deque<TtsFault> tts_faults;
  std::vector<FakeSttTurn> turns;
  std::vector<FakeTtsRequest> tts;
  std::vector<std::string> errors;
  int token_requests = 0;
  int connections = 0;
  int configs = 0;

  void Error(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(std::move(e));
  }

  template <class Body>
  bool Authorized(const http::request<Body>& req) {
    const std::string key(req["Ocp-Apim-Subscription-Key"]);
    const std::string auth(req[http::field::authorization]);
    if (!key.empty()) return key == options.key;
    if (auth == "Bearer " + options.issued_token) return true;
    return !options.resource_id.empty() &&
           auth == "Bearer aad#" + options.resource_id + "#" + options.entra_token;
  }

  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      error_code ec;
      acceptor.accept(*socket, ec);
      std::lock_guard<std::mutex> lock(mu);
      if (ec || stopping) return;
      sockets.push_back(socket);
      threads.emplace_back([self = shared_from_this(), socket] { self->Serve(*socket); });
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      ::shutdown(acceptor.native_handle(), SHUT_RDWR);
      for (auto& s : sockets) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    if (accept_thread.joinable()) accept_thread.join();
    std::vector<std::thread> to_join;
    {
      std::lock_guard<std::mutex> lock(mu);
      to_join.swap(threads);
    }
    for (auto& t : to_join) t.join();
  }

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    if (websocket::is_upgrade(req)) {
      ServeStt(socket, req);
    } else if (req.target() == "/sts/v1.0/issueToken" && req.method() == http::verb::post) {
      ServeToken(socket, req);
    } else if (req.target() == "/cognitiveservices/v1" && req.method() == http::verb::post) {
      ServeTts(socket, req);
    } else {
      WriteRaw(socket, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  static void WriteRaw(tcp::socket& socket, std::string_view bytes) {
    error_code ec;
    asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
  }

  static std::string Status(int code, int retry_after_s = 0) {
    std::string reason = code == 401   ? "Unauthorized"
                         : code == 429 ? "Too Many Requests"
                         : code == 503 ? "Service Unavailable"
                                       : "Error";
    std::string head =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Length: 0\r\nConnection: close\r\n", code, reason);
    if (retry_after_s > 0) head += fmt::format("Retry-After: {}\r\n", retry_after_s);
    return head + "\r\n";
  }

  void ServeToken(tcp::socket& socket, const http::request<http::string_body>& req) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++token_requests;
    }
    if (std::string(req["Ocp-Apim-Subscription-Key"]) != options.key) {
      WriteRaw(socket, Status(401));
      return;
    }
    WriteRaw(socket, fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/jwt\r\n"
                                 "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                 options.issued_token.size(), options.issued_token));
  }

  void ServeTts(tcp::socket& socket, const http::request<http::string_body>& req) {
    FakeTtsRequest record;
    record.auth = std::string(req["Ocp-Apim-Subscription-Key"]);
    if (record.auth.empty()) record.auth = std::string(req[http::field::authorization]);
    record.output_format = std::string(req["X-Microsoft-OutputFormat"]);
    record.ssml = req.body();
    std::optional<TtsFault> fault;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!tts_faults.empty()) {
        fault = tts_faults.front();
        tts_faults.pop_front();
      }
    }
    auto finish = [&](int status) {
      record.status = status;
      std::lock_guard<std::mutex> lock(mu);
      tts.push_back(record);
    };
    if (!Authorized(req)) {
      finish(401);
      WriteRaw(socket, Status(401));
      return;
    }
    if (std::string(req[http::field::content_type]) != "application/ssml+xml") {
      finish(415);
      WriteRaw(socket, Status(415));
      return;
    }
    int rate = 0;
    if (record.output_format == "raw-16khz-16bit-mono-pcm") rate = 16000;
    if (record.output_format == "raw-24khz-16bit-mono-pcm") rate = 24000;
    static const std::regex voice_re("<voice [^>]*name='([^']+)'>");
    std::smatch m;
    if (rate == 0 || !std::regex_search(record.ssml, m, voice_re) ||
        record.ssml.rfind("<speak ", 0) != 0 || record.ssml.find("</speak>") == std::string::npos) {
      finish(400);
      WriteRaw(socket,
               "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    if (fault) {
      switch (fault->kind) {
        case TtsFault::Kind::k401:
          finish(401);
          WriteRaw(socket, Status(401));
          return;
        case TtsFault::Kind::k429:
          finish(429);
          WriteRaw(socket, Status(429, fault->retry_after_s));
          return;
        case TtsFault::Kind::k503:
          finish(503);
          WriteRaw(socket, Status(503, fault->retry_after_s));
          return;
        case TtsFault::Kind::kDrop:
          finish(0);
          return;  // closed without a response
        case TtsFault::Kind::kTruncate:
          break;
      }
    }
    finish(200);
    // 20 ms of tone per character of text (markup excluded), at least 100 ms.
    const std::string text = std::regex_replace(record.ssml, std::regex("<[^>]*>"), "");
    const size_t samples = std::max<size_t>(rate / 10, text.size() * rate / 50);
    const std::string pcm = Tone(samples, rate);
    WriteRaw(socket,
             "HTTP/1.1 200 OK\r\nContent-Type: audio/x-pcm\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n");
    const size_t chunk = std::max<size_t>(1, options.tts_chunk_bytes);
    const bool truncate = fault && fault->kind == TtsFault::Kind::kTruncate;
    for (size_t at = 0; at < pcm.size(); at += chunk) {
      if (truncate && at >= pcm.size() / 2) return;  // the connection ends mid-body
      const std::string_view piece = std::string_view(pcm).substr(at, chunk);
      WriteRaw(socket, fmt::format("{:x}\r\n", piece.size()));
      WriteRaw(socket, piece);
      WriteRaw(socket, "\r\n");
    }
    WriteRaw(socket, "0\r\n\r\n");
  }

  void ServeStt(tcp::socket& socket, const http::request<http::string_body>& req) {
    std::optional<SttFault> refuse;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!stt_faults.empty() && (stt_faults.front() == SttFault::kRefuse401 ||
                                  stt_faults.front() == SttFault::kRefuse429)) {
        refuse = stt_faults.front();
        stt_faults.pop_front();
      }
    }
    if (!Authorized(req) || refuse == SttFault::kRefuse401) {
      WriteRaw(socket, Status(401));
      return;
    }
    if (refuse == SttFault::kRefuse429) {
      WriteRaw(socket, Status(429, 1));
      return;
    }
    if (req.target().substr(0, 25) != "/stt/speech/universal/v2?" ||
        req.target().find("language=") == std::string_view::npos) {
      Error("STT URL: " + std::string(req.target()));
    }
    if (!IsRequestId(std::string(req["X-ConnectionId"]))) Error("missing/bad X-ConnectionId");
    websocket::stream<tcp::socket&> ws(socket);
    {
      // Counted before the 101 goes out, so a client that has connected sees itself counted.
      std::lock_guard<std::mutex> lock(mu);
      ++connections;
    }
    error_code ec;
    ws.accept(req, ec);
    if (ec) return;
    bool config_seen = false;
    bool expecting_wav = false;
    bool hypothesis_sent = false;
    constexpr size_t kNoTurn = static_cast<size_t>(-1);
    size_t turn = kNoTurn;  // index into `turns`
    beast::flat_buffer buffer;
    for (;;) {
      buffer.consume(buffer.size());
      ws.read(buffer, ec);
      if (ec) return;
      const std::string frame = beast::buffers_to_string(buffer.data());
      if (ws.got_text()) {
        const size_t blank = frame.find("\r\n\r\n");
        if (blank == std::string::npos) {
          Error("text message without a blank line");
          continue;
        }
        const std::string block = frame.substr(0, blank + 2);
        const std::string body = frame.substr(blank + 4);
        const std::string path = block.substr(6, block.find("\r\n") - 6);
        std::string id;
        for (auto& e : CheckHeaderBlock(block, path, "application/json", &id)) Error(e);
        if (!json::accept(body)) Error(path + ": body is not JSON");
        if (path == "speech.config") {
          if (config_seen) Error("speech.config sent twice on one connection");
          config_seen = true;
          std::lock_guard<std::mutex> lock(mu);
          ++configs;
        } else if (path == "speech.context") {
          if (!config_seen) Error("speech.context before speech.config");
          std::lock_guard<std::mutex> lock(mu);
          turns.push_back(FakeSttTurn{id, body, 0, false, ""});
          turn = turns.size() - 1;
          expecting_wav = true;
          hypothesis_sent = false;
        } else {
          Error("unexpected text message " + path);
        }
        continue;
      }
      // Binary: the audio path.
      if (frame.size() < 2) {
        Error("binary message shorter than its length prefix");
        continue;
      }
      const size_t n = (static_cast<uint8_t>(frame[0]) << 8) | static_cast<uint8_t>(frame[1]);
      if (frame.size() < 2 + n) {
        Error("binary message shorter than its header length");
        continue;
      }
      const std::string block = frame.substr(2, n);
      const std::string payload = frame.substr(2 + n);
      std::string id;
      for (auto& e : CheckHeaderBlock(block, "audio", expecting_wav ? "audio/x-wav" : "", &id)) {
        Error(e);
      }
      std::string expected_id;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (turn != kNoTurn) expected_id = turns[turn].request_id;
      }
      if (turn == kNoTurn || id != expected_id) {
        Error("audio outside a turn (no speech.context for request " + id + ")");
        continue;
      }
      if (expecting_wav) {
        if (payload != FromHex(kWavHeaderHex))
          Error("the first audio message is not the WAV header");
        expecting_wav = false;
        continue;
      }
      if (!payload.empty()) {
        std::string hypothesis;
        {
          std::lock_guard<std::mutex> lock(mu);
          turns[turn].pcm_bytes += payload.size();
          if (!hypothesis_sent && turns[turn].pcm_bytes >= 6400) {
            hypothesis_sent = true;
            hypothesis = transcripts.empty() ? options.default_transcript : transcripts.front();
            hypothesis = hypothesis.substr(0, hypothesis.find(' '));
          }
        }
        if (!hypothesis.empty()) {
          ws.text(true);
          ws.write(asio::buffer(ServiceMessage(
                       "speech.hypothesis", id,
                       {{"Text", hypothesis}, {"Offset", 0}, {"Duration", 1000000}})),
                   ec);
        }
        continue;
      }
      // The empty audio message: the turn's audio is over; answer it.
      std::optional<SttFault> fault;
      std::string text;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!stt_faults.empty()) {
          fault = stt_faults.front();
          stt_faults.pop_front();
        }
        if (!fault || *fault == SttFault::kErrorStatus) {
          if (!transcripts.empty()) {
            text = transcripts.front();
            transcripts.pop_front();
          } else {
            text = options.default_transcript;
          }
        }
      }
      if (fault == SttFault::kDropBeforePhrase) {
        beast::get_lowest_layer(ws).close(ec);  // no close frame: a dropped connection
        return;
      }
      const size_t index = turn;
      turn = kNoTurn;
      if (fault == SttFault::kSilent) {
        std::lock_guard<std::mutex> lock(mu);
        turns[index].ended = true;
        cv.notify_all();
        continue;
      }
      ws.text(true);
      json phrase;
      if (fault == SttFault::kErrorStatus) {
        phrase = {{"RecognitionStatus", "Error"}, {"Offset", 0}, {"Duration", 0}};
      } else if (text.empty()) {
        phrase = {{"RecognitionStatus", "NoMatch"}, {"Offset", 0}, {"Duration", 0}};
      } else {
        phrase = {{"RecognitionStatus", "Success"},
                  {"DisplayText", text},
                  {"Offset", 500000},
                  {"Duration", 10000000}};
        ws.write(asio::buffer(ServiceMessage("speech.startDetected", id, {{"Offset", 500000}})),
                 ec);
      }
      ws.write(asio::buffer(ServiceMessage("speech.phrase", id, phrase)), ec);
      ws.write(asio::buffer(ServiceMessage("speech.endDetected", id, {{"Offset", 10500000}})), ec);
      ws.write(asio::buffer(ServiceMessage("turn.end", id, json::object())), ec);
      std::lock_guard<std::mutex> lock(mu);
      turns[index].ended = true;
      turns[index].answered = fault == SttFault::kErrorStatus ? "" : text;
      cv.notify_all();
    }
  }
};

FakeSpeechServer::FakeSpeechServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeSpeechServer::~FakeSpeechServer() { impl_->Stop(); }

core::Result<std::unique_ptr<FakeSpeechServer>> FakeSpeechServer::Start(FakeSpeechOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  error_code ec;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return core::UnavailableError("fake speech server: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept_thread = std::thread([impl] { impl->AcceptLoop(); });
  return std::unique_ptr<FakeSpeechServer>(new FakeSpeechServer(impl));
}

std::string FakeSpeechServer::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeSpeechServer::QueueTranscript(std::string display_text) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->transcripts.push_back(std::move(display_text));
}
void FakeSpeechServer::QueueSttFault(SttFault fault) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stt_faults.push_back(fault);
}
void FakeSpeechServer::QueueTtsFault(TtsFault fault) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tts_faults.push_back(fault);
}
std::vector<FakeSttTurn> FakeSpeechServer::stt_turns() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->turns;
}
std::vector<FakeTtsRequest> FakeSpeechServer::tts_requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->tts;
}
std::vector<std::string> FakeSpeechServer::protocol_errors() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->errors;
}
int FakeSpeechServer::token_requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->token_requests;
}
int FakeSpeechServer::stt_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->connections;
}
int FakeSpeechServer::speech_configs() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->configs;
}
bool FakeSpeechServer::WaitForEndedTurns(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    size_t ended = 0;
    for (const auto& t : impl_->turns) ended += t.ended ? 1 : 0;
    return ended >= count;
  });
}

}  // namespace artagent::speech::azure::testing
