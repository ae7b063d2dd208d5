#include "transport/acs/simulator.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/base64.h"
#include "core/ids.h"
#include "core/log.h"
#include "net/acs_auth.h"
#include "net/http_client.h"
#include "platform/metrics.h"
#include "server/asio_executor.h"
#include "server/http_server.h"
#include "server/router.h"
#include "transport/acs/acs_media.h"
#include "transport/acs/call_events.h"
#include "transport/acs/event_grid.h"
#include "transport/acs/jwt.h"

namespace artagent::transport::acs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using nlohmann::json;

namespace {

std::string B64Url(std::string_view bytes) {
  std::string s = core::Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string BnParam(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

struct AcsSimulator::Impl {
  SimulatorOptions options;
  EVP_PKEY* signing_key = nullptr;  // with jwt_audience
  ~Impl() { EVP_PKEY_free(signing_key); }

  std::string Jwks() const {
    json key = {{"kty", "RSA"},
                {"use", "sig"},
                {"kid", "simulator-key"},
                {"alg", "RS256"},
                {"n", B64Url(BnParam(signing_key, OSSL_PKEY_PARAM_RSA_N))},
                {"e", B64Url(BnParam(signing_key, OSSL_PKEY_PARAM_RSA_E))}};
    return json{{"keys", json::array({key})}}.dump();
  }
  std::string Token() const {
    if (!signing_key) return {};
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "simulator-key"}};
    json payload = {{"iss", kAcsJwtIssuer},
                    {"aud", options.jwt_audience},
                    {"iat", now},
                    {"nbf", now - 5},
                    {"exp", now + 300}};
    std::string signing = B64Url(header.dump()) + "." + B64Url(payload.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, signing_key) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing.data()),
                       signing.size()) == 1) {
      sig.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return signing + "." + B64Url(sig);
  }
  std::function<void(std::span<const int16_t>)> agent_sink;  // under mu
  std::vector<std::thread> workers;  // late callbacks (transfer outcomes); under mu
  platform::Metrics metrics;
  std::unique_ptr<server::HttpServer> http_server;
  std::shared_ptr<server::StrandExecutor> executor;  // on the fake endpoint's io_context
  std::unique_ptr<net::HttpClient> client;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<SimulatedRestCall> rest;
  std::string callback_uri;
  std::string transport_url;
  std::string conn_id;
  int rate = kAcsDefaultSampleRate;
  bool answered = false;
  bool rejected = false;
  std::string last_callback;
  int callback_seq = 0;
  std::vector<ReceivedMediaFrame> frames;
  audio::Samples agent_audio;
  std::vector<core::TimePoint> onsets;
  int quiet_frames = 1000;  // caller frames since the last loud one
  bool media_closed = false;
  int close_code = 0;

  // Media socket.
  asio::io_context io;
  std::unique_ptr<websocket::stream<tcp::socket>> ws;
  std::thread reader;
  std::mutex write_mu;
  core::TimePoint next_send{};

  std::string Host() const {
    return options.listen_host + ":" + std::to_string(http_server->port());
  }

  server::HttpResponse Handle(const server::HttpRequest& req) {
    SimulatedRestCall call;
    call.method = req.method;
    call.target = req.target;
    call.body = json::parse(req.body.empty() ? "null" : req.body, nullptr, false);
    const std::string host(req.Header("host"));
    net::AcsRequestView view{req.method,
                             req.target,
                             host,
                             req.body,
                             req.Header("x-ms-date"),
                             req.Header("x-ms-content-sha256"),
                             req.Header("authorization")};
    core::Status st =
        net::VerifyAcsRequest(view, options.access_key, std::chrono::system_clock::now());
    call.signature_ok = st.ok();
    call.signature_error = st.message();
    std::unique_lock<std::mutex> lock(mu);
    rest.push_back(call);
    cv.notify_all();
    if (!st.ok()) {
      return server::HttpResponse::Json(
          401, {{"error", {{"code", "Unauthorized"}, {"message", st.message()}}}});
    }
    const std::string path = req.path;
    if (path == "/calling/callConnections:answer") {
      callback_uri = call.body.value("callbackUri", "");
      const json media = call.body.value("mediaStreamingOptions", json::object());
      transport_url = media.value("transportUrl", "");
      rate = AcsAudioFormatRate(media.value("audioFormat", "pcm16KMono"));
      if (rate == 0) rate = kAcsDefaultSampleRate;
      conn_id = "sim-" + core::NewId("conn").substr(5, 12);
      answered = true;
      cv.notify_all();
      return server::HttpResponse::Json(
          200, {{"callConnectionId", conn_id},
                {"serverCallId", "sim-server-call"},
                {"callConnectionState", "connecting"},
                {"callbackUri", callback_uri},
                {"correlationId", "sim-correlation"},
                {"mediaStreamingSubscription", {{"id", "sim-media"}, {"state", "inactive"}}}});
    }
    if (path == "/calling/callConnections:reject") {
      rejected = true;
      cv.notify_all();
      return server::HttpResponse::Text(204, "");
    }
    if (path == "/calling/callConnections:redirect") return server::HttpResponse::Text(204, "");
    if (path == "/calling/callConnections") {
      return server::HttpResponse::Json(
          201, {{"callConnectionId", "sim-out-1"}, {"callConnectionState", "connecting"}});
    }
    if (path == "/calling/recordings") {
      return server::HttpResponse::Json(
          200, {{"recordingId", "sim-rec-1"}, {"recordingState", "active"}});
    }
    if (path.rfind("/calling/recordings/", 0) == 0) return server::HttpResponse::Text(204, "");
    if (path.rfind("/calling/callConnections/", 0) == 0) {
      if (req.method == "DELETE") return server::HttpResponse::Text(204, "");
      if (path.find(":transferToParticipant") != std::string::npos) {
        // ACS answers 202 and tells the outcome later, by callback.
        const bool ok = options.transfer_outcome != "failed";
        workers.emplace_back([this, ok] {
          if (ok) {
            Callback("CallTransferAccepted");
            Callback("CallDisconnected");
          } else {
            Callback("CallTransferFailed",
                     R"({"resultInformation":{"code":486,"subCode":0,)"
                     R"("message":"The transfer target is busy."}})");
          }
        });
      }
      if (path.find(":terminate") != std::string::npos) return server::HttpResponse::Text(204, "");
      return server::HttpResponse::Json(
          202, {{"operationContext",
                 call.body.is_object() ? call.body.value("operationContext", "") : ""}});
    }
    return server::HttpResponse::Error(404, "NotFound", "no such Call Automation operation");
  }

  core::Result<net::HttpResponse> Post(const std::string& url, const std::string& body,
                                       const std::string& method = "POST",
                                       const net::Headers& headers = {}) {
    net::HttpRequestSpec spec;
    spec.method = method;
    spec.url = url;
    spec.body = body;
    spec.headers = headers;
    if (net::FindHeader(headers, "content-type").empty()) {
      spec.headers.emplace_back("Content-Type", "application/json");
    }
    spec.total_timeout = std::chrono::seconds(10);
    std::promise<core::Result<net::HttpResponse>> p;
    auto call = client->Fetch(
        spec, [&](core::Result<net::HttpResponse> r) { p.set_value(std::move(r)); }, executor);
    return p.get_future().get();
  }

  core::Status Callback(const std::string& name, const std::string& extra = "") {
    std::string uri, conn;
    {
      std::lock_guard<std::mutex> lock(mu);
      uri = callback_uri;
      conn = conn_id;
    }
    if (uri.empty()) return core::FailedPreconditionError("no callback URI (call not answered)");
    std::string body = EncodeCallbackEvent(
        "sim-evt-" + std::to_string(++callback_seq) + "-" + core::NewId("").substr(1, 8), name,
        conn, "", extra);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_callback = body;
    }
    net::Headers headers;
    if (signing_key) headers.emplace_back("Authorization", "Bearer " + Token());
    auto r = Post(uri, body, "POST", headers);
    if (!r.ok()) return r.status();
    if (r->status != 200) {
      return core::UnavailableError(name + " callback got HTTP " + std::to_string(r->status) +
                                    ": " + r->body);
    }
    return core::OkStatus();
  }

  core::Status ConnectMedia() {
    std::string url;
    {
      std::lock_guard<std::mutex> lock(mu);
      url = transport_url;
    }
    // ws://host:port/path?query (the simulator only speaks plain ws to a local server).
    const std::string prefix = "ws://";
    if (url.rfind(prefix, 0) != 0) {
      return core::InvalidArgumentError("the simulator needs a ws:// transport URL, got '" + url +
                                        "'");
    }
    std::string rest_of = url.substr(prefix.size());
    const std::string authority = rest_of.substr(0, rest_of.find('/'));
    const std::string target =
        rest_of.find('/') == std::string::npos ? "/" : rest_of.substr(rest_of.find('/'));
    const size_t colon = authority.rfind(':');
    const std::string host = authority.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
    try {
      ws = std::make_unique<websocket::stream<tcp::socket>>(io);
      tcp::resolver resolver(io);
      asio::connect(ws->next_layer(), resolver.resolve(host, port));
      // Caller frames are small: they must not wait for Nagle (ACS sends every 20 ms).
      ws->next_layer().set_option(tcp::no_delay(true));
      std::string conn;
      {
        std::lock_guard<std::mutex> lock(mu);
        conn = conn_id;
      }
      const std::string token = Token();
      ws->set_option(websocket::stream_base::decorator([conn, token](websocket::request_type& req) {
        if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
        req.set("x-ms-call-connection-id", conn);
        req.set("x-ms-call-correlation-id", "sim-correlation");
      }));
      ws->read_message_max(16 * 1024 * 1024);
      ws->handshake(authority, target);
      ws->text(true);
    } catch (const std::exception& e) {
      return core::UnavailableError(std::string("media WebSocket: ") + e.what());
    }
    reader = std::thread([this] { ReadLoop(); });
    AudioMetadata meta{"sim-subscription", "PCM", rate, 1, static_cast<int>(rate / 50 * 2)};
    Send(EncodeAudioMetadata(meta));
    return core::OkStatus();
  }

  void ReadLoop() {
    beast::flat_buffer buf;
    for (;;) {
      beast::error_code ec;
      ws->read(buf, ec);
      if (ec) {
        std::lock_guard<std::mutex> lock(mu);
        media_closed = true;
        close_code = ec == websocket::error::closed ? ws->reason().code : 1006;
        cv.notify_all();
        return;
      }
      const core::TimePoint at = core::Clock::now();
      const std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      MediaError err;
      auto msg = ParseOutboundMessage(text, &err);
      std::lock_guard<std::mutex> lock(mu);
      if (!msg) {
        core::LogWarn("acs-sim", "unexpected frame from the server: {}", err.message);
        continue;
      }
      ReceivedMediaFrame f;
      f.at = at;
      if (std::holds_alternative<OutboundStop>(*msg)) {
        f.stop = true;
        if (agent_sink) agent_sink({});
      } else {
        const auto& pcm = std::get<OutboundAudio>(*msg).pcm;
        f.samples = pcm.size();
        agent_audio.insert(agent_audio.end(), pcm.begin(), pcm.end());
        if (agent_sink) agent_sink(pcm);
      }
      frames.push_back(f);
      cv.notify_all();
    }
  }

  bool Send(const std::string& text) {
    std::lock_guard<std::mutex> lock(write_mu);
    if (!ws) return false;
    beast::error_code ec;
    ws->write(asio::buffer(text), ec);
    return !ec;
  }

  // Paces frames at 20 ms on a clock that continues across calls (no bursts between calls).
  void PaceNext() {
    const core::TimePoint now = core::Clock::now();
    if (next_send < now - std::chrono::milliseconds(100)) next_send = now;
    std::this_thread::sleep_until(next_send);
    next_send += std::chrono::milliseconds(20);
  }

  void SendFrame(std::span<const int16_t> frame) {
    double sum = 0;
    for (int16_t s : frame) sum += double(s) * s;
    const bool loud = std::sqrt(sum / std::max<size_t>(1, frame.size())) > 500;
    PaceNext();
    {
      // An onset is the first loud frame after at least 300 ms of quiet (pauses between words
      // do not start a new utterance).
      std::lock_guard<std::mutex> lock(mu);
      if (loud && quiet_frames >= 15) onsets.push_back(core::Clock::now());
      quiet_frames = loud ? 0 : quiet_frames + 1;
    }
    Send(EncodeInboundAudio(
        frame, !loud && std::all_of(frame.begin(), frame.end(), [](int16_t s) { return s == 0; }),
        "", "4:" + options.caller));
  }

  void CloseMedia() {
    {
      std::lock_guard<std::mutex> lock(write_mu);
      if (ws && ws->is_open()) {
        beast::error_code ec;
        ws->close(websocket::close_code::normal, ec);
      }
    }
    if (reader.joinable()) reader.join();
  }
};

AcsSimulator::AcsSimulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AcsSimulator::~AcsSimulator() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    workers.swap(impl_->workers);
  }
  for (auto& w : workers) w.join();
  impl_->CloseMedia();
  impl_->client.reset();
  if (impl_->http_server) impl_->http_server->Stop();
  impl_->executor.reset();
}

core::Result<std::unique_ptr<AcsSimulator>> AcsSimulator::Start(SimulatorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  while (!impl->options.server_url.empty() && impl->options.server_url.back() == '/') {
    impl->options.server_url.pop_back();
  }
  auto router = std::make_shared<server::Router>();
  Impl* raw = impl.get();
  auto handler = [raw](const server::HttpRequest& r) { return raw->Handle(r); };
  router->Add("POST", "/calling/callConnections:answer", handler);
  router->Add("POST", "/calling/callConnections:reject", handler);
  router->Add("POST", "/calling/callConnections:redirect", handler);
  router->Add("POST", "/calling/callConnections", handler);
  router->Add("DELETE", "/calling/callConnections/{id}", handler);
  router->Add("POST", "/calling/callConnections/{id}", handler);
  router->Add("POST", "/calling/recordings", handler);
  router->Add("DELETE", "/calling/recordings/{id}", handler);
  if (!impl->options.jwt_audience.empty()) {
    impl->signing_key = EVP_RSA_gen(2048);
    if (!impl->signing_key) return core::InternalError("cannot generate the simulator's RSA key");
    router->Add("GET", "/calling/keys", [raw](const server::HttpRequest& req) {
      {
        std::lock_guard<std::mutex> lock(raw->mu);
        raw->rest.push_back({"GET", req.target, nullptr, true, ""});  // public: not signed
        raw->cv.notify_all();
      }
      return server::HttpResponse{200, "application/json", raw->Jwks(), {}};
    });
  }
  server::ServerOptions so;
  so.host = impl->options.listen_host;
  so.port = impl->options.listen_port;
  so.io_threads = 1;
  auto srv = server::HttpServer::Create(so, router, &impl->metrics);
  if (!srv.ok()) return srv.status();
  impl->http_server = std::move(srv).value();
  ARTAGENT_RETURN_IF_ERROR(impl->http_server->Start());
  impl->executor = std::make_shared<server::StrandExecutor>(impl->http_server->io_context());
  impl->client = net::HttpClient::Create();
  return std::unique_ptr<AcsSimulator>(new AcsSimulator(std::move(impl)));
}

std::string AcsSimulator::jwks_url() const { return "http://" + impl_->Host() + "/calling/keys"; }

std::string AcsSimulator::SignToken() const { return impl_->Token(); }

std::string AcsSimulator::connection_string() const {
  return "endpoint=http://" + impl_->Host() + "/;accesskey=" + impl_->options.access_key;
}

void AcsSimulator::set_server_url(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->options.server_url = u;
}

core::Result<net::HttpResponse> AcsSimulator::Request(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body,
                                                      const net::Headers& headers) {
  std::string base;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    base = impl_->options.server_url;
  }
  return impl_->Post(base + path, body, method, headers);
}

core::Status AcsSimulator::PlaceCall(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->answered = false;
    impl_->rejected = false;
  }
  IncomingCallEvent call;
  call.event_id = core::NewId("evt");
  call.from.kind = "phoneNumber";
  call.from.phone_number = impl_->options.caller;
  call.from.raw_id = "4:" + impl_->options.caller;
  call.to.kind = "phoneNumber";
  call.to.phone_number = impl_->options.callee;
  call.to.raw_id = "4:" + impl_->options.callee;
  call.server_call_id = "sim-server-call";
  call.caller_display_name = "Simulated caller";
  call.incoming_call_context = "sim-context-" + core::NewId("").substr(1, 12);
  call.correlation_id = "sim-correlation";
  const std::string body = impl_->options.cloud_events_schema ? EncodeIncomingCallCloudEvent(call)
                                                              : EncodeIncomingCallEventGrid(call);
  auto r = Request("POST", "/api/v1/calls/events", body, {{"aeg-event-type", "Notification"}});
  if (!r.ok()) return r.status().WithContext("posting IncomingCall");
  if (r->status != 200) {
    return core::UnavailableError("IncomingCall got HTTP " + std::to_string(r->status) + ": " +
                                  r->body);
  }
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (!impl_->cv.wait_for(lock, timeout, [&] { return impl_->answered || impl_->rejected; })) {
      return core::DeadlineExceededError("the server neither answered nor rejected the call");
    }
    if (impl_->rejected) {
      std::string reason = impl_->rest.back().body.value("callRejectReason", "");
      return core::PermissionDeniedError("the server rejected the call (" + reason + ")");
    }
    for (const auto& c : impl_->rest) {
      if (!c.signature_ok) {
        return core::UnauthenticatedError("a request had a bad signature: " + c.signature_error);
      }
    }
  }
  ARTAGENT_RETURN_IF_ERROR(impl_->Callback("CallConnected"));
  ARTAGENT_RETURN_IF_ERROR(impl_->ConnectMedia());
  return impl_->Callback(
      "MediaStreamingStarted",
      R"({"mediaStreamingUpdate":{"contentType":"Audio","mediaStreamingStatus":"mediaStreamingStarted","mediaStreamingStatusDetails":"subscriptionStarted"}})");
}

core::Status AcsSimulator::ResendLastCallback() {
  std::string uri, body;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    uri = impl_->callback_uri;
    body = impl_->last_callback;
  }
  if (body.empty()) return core::FailedPreconditionError("no callback sent yet");
  net::Headers headers;
  if (impl_->signing_key) headers.emplace_back("Authorization", "Bearer " + impl_->Token());
  auto r = impl_->Post(uri, body, "POST", headers);
  if (!r.ok()) return r.status();
  return r->status == 200 ? core::OkStatus()
                          : core::UnavailableError("HTTP " + std::to_string(r->status));
}

void AcsSimulator::StreamAudio(const audio::Samples& pcm) {
  const size_t frame = audio::SamplesPerFrame(sample_rate());
  for (size_t off = 0; off + frame <= pcm.size(); off += frame) {
    impl_->SendFrame(std::span<const int16_t>(pcm.data() + off, frame));
    if (media_closed()) return;
  }
}

void AcsSimulator::StreamSilence(int ms) {
  audio::Samples silence(audio::MsToSamples(ms, sample_rate()), 0);
  StreamAudio(silence);
}

void AcsSimulator::SendDtmf(char key) { impl_->Send(EncodeDtmf(key)); }

void AcsSimulator::SetAgentAudioSink(std::function<void(std::span<const int16_t>)> sink) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->agent_sink = std::move(sink);
}

core::Status AcsSimulator::HangUp() {
  core::Status st = impl_->Callback("CallDisconnected");
  impl_->CloseMedia();
  return st;
}

bool AcsSimulator::WaitForAgentAudio(int ms, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  const size_t want = audio::MsToSamples(ms, impl_->rate);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->agent_audio.size() >= want; });
}

bool AcsSimulator::WaitForStops(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return static_cast<size_t>(std::count_if(impl_->frames.begin(), impl_->frames.end(),
                                             [](const auto& f) { return f.stop; })) >= count;
  });
}

bool AcsSimulator::WaitForAgentQuiet(std::chrono::milliseconds quiet,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = core::Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(impl_->mu);
  for (;;) {
    const auto now = core::Clock::now();
    core::TimePoint last{};
    for (auto it = impl_->frames.rbegin(); it != impl_->frames.rend(); ++it) {
      if (!it->stop) {
        last = it->at;
        break;
      }
    }
    if (last != core::TimePoint{} && now - last >= quiet) return true;
    if (now >= deadline) return false;
    // Woken by the next frame, or re-checked once the quiet period could have passed.
    impl_->cv.wait_until(lock,
                         std::min(deadline, (last == core::TimePoint{} ? now : last) + quiet));
  }
}

bool AcsSimulator::WaitForRestCall(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    return std::any_of(impl_->rest.begin(), impl_->rest.end(), [&](const auto& c) {
      return (c.method + " " + c.target).find(needle) != std::string::npos;
    });
  });
}

int AcsSimulator::sample_rate() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rate;
}
std::string AcsSimulator::call_connection_id() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->conn_id;
}
std::vector<SimulatedRestCall> AcsSimulator::rest_calls() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rest;
}
std::vector<ReceivedMediaFrame> AcsSimulator::frames() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->frames;
}
audio::Samples AcsSimulator::agent_audio() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->agent_audio;
}
int64_t AcsSimulator::agent_audio_ms() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return audio::SamplesToMs(impl_->agent_audio.size(), impl_->rate);
}
std::vector<core::TimePoint> AcsSimulator::onsets() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->onsets;
}
bool AcsSimulator::media_closed() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->media_closed;
}
int AcsSimulator::media_close_code() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->close_code;
}

namespace {
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * double(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}
}  // namespace

MediaStats ComputeMediaStats(const std::vector<ReceivedMediaFrame>& frames, int sample_rate,
                             const std::vector<core::TimePoint>& onsets) {
  MediaStats s;
  const size_t frame = audio::SamplesPerFrame(sample_rate);
  std::vector<double> intervals, jitter;
  core::TimePoint prev{};
  int run = 0;  // frames in the current run of audio (a reply's start is sent ahead: a burst)
  for (const auto& f : frames) {
    if (f.stop) {
      run = 0;
      prev = {};
      continue;
    }
    ++s.frames;
    if (f.samples != frame) ++s.wrong_size_frames;
    if (prev != core::TimePoint{}) {
      const double ms = core::MillisBetween(prev, f.at);
      if (ms > 200) {
        run = 0;  // a new reply
      } else {
        intervals.push_back(ms);
        // The playout lead (100 ms = 5 frames) goes out at once; steady state after it.
        if (run >= 6) jitter.push_back(std::fabs(ms - 20.0));
      }
    }
    ++run;
    prev = f.at;
  }
  s.interval_p50_ms = Percentile(intervals, 0.5);
  s.interval_p99_ms = Percentile(intervals, 0.99);
  s.interval_max_ms = intervals.empty() ? 0 : *std::max_element(intervals.begin(), intervals.end());
  s.jitter_p50_ms = Percentile(jitter, 0.5);
  s.jitter_p99_ms = Percentile(jitter, 0.99);
  // Each StopAudio is the answer to the latest caller onset before it.
  for (const auto& f : frames) {
    if (!f.stop) continue;
    const core::TimePoint* latest = nullptr;
    for (const auto& onset : onsets) {
      if (onset <= f.at) latest = &onset;
    }
    if (latest) s.barge_in_ms.push_back(core::MillisBetween(*latest, f.at));
  }
  return s;
}

}  // namespace artagent::transport::acs
