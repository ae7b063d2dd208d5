// `artagent loadgen --transport acs`: many simulated phone calls in one process. The ACS side of
// each call is what transport/acs/simulator.h plays for one call (IncomingCall, signed Call
// Automation REST, callbacks, the media WebSocket), but asynchronous: every call, the fake REST
// endpoint and the timers share one io_context (the endpoint's single I/O thread).

#include <boost/asio/post.hpp>

#include <map>
#include <nlohmann/json.hpp>

#include "app/loadgen.h"
#include "audio/pcm.h"
#include "audio/resampler.h"
#include "core/ids.h"
#include "net/acs_auth.h"
#include "platform/metrics.h"
#include "server/asio_executor.h"
#include "server/http_server.h"
#include "server/router.h"
#include "transport/acs/acs_media.h"
#include "transport/acs/call_events.h"
#include "transport/acs/event_grid.h"

namespace artagent::app {

namespace {

namespace acs = transport::acs;
using nlohmann::json;

std::string_view StringField(std::string_view msg, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  const size_t at = msg.find(pattern);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + pattern.size();
  const size_t end = msg.find('"', begin);
  if (end == std::string_view::npos) return {};
  return msg.substr(begin, end - begin);
}

class Fleet;

class AcsCaller final : public LoadCaller {
 public:
  AcsCaller(Fleet* fleet, LoadContext* ctx, int index);
  void Start() override;
  void Tick(core::TimePoint now) override;
  void Stop() override;
  bool live() const override { return live_; }
  bool done() const override { return done_; }

  // From the fake REST endpoint (on the io_context).
  void Answered(const std::string& callback_uri, const std::string& transport_url,
                const std::string& connection_id);
  void Rejected(const std::string& reason);
  void HungUpByServer();

  const std::string& context_id() const { return context_; }

 private:
  void Callback(const std::string& name, const std::string& extra,
                std::function<void(bool ok)> then);
  void ConnectMedia();
  void OnMessage(std::string_view msg);
  void OnClose(int code);
  void Fail(const std::string& kind);

  Fleet* fleet_;
  LoadContext* ctx_;
  int index_;
  CallerScript script_;
  std::string context_;
  std::string caller_;
  std::string callback_uri_, transport_url_, connection_id_;
  std::shared_ptr<LoadSocket> socket_;
  std::vector<std::unique_ptr<net::HttpCall>> calls_;
  int seq_ = 0;
  bool live_ = false;
  bool done_ = false;
  bool stopping_ = false;
};

class Fleet final : public AcsFleet {
 public:
  explicit Fleet(LoadContext* ctx) : ctx_(ctx) {}

  core::Status Init() {
    const std::string& listen = ctx_->options.acs_listen;
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return core::InvalidArgumentError("--acs-listen must be HOST:PORT, not '" + listen + "'");
    }
    server::ServerOptions so;
    so.host = listen.substr(0, colon);
    so.port = static_cast<uint16_t>(std::stoi(listen.substr(colon + 1)));
    so.io_threads = 1;  // every caller, timer and REST handler on one thread: no locks
    auto router = std::make_shared<server::Router>();
    auto handler = [this](const server::HttpRequest& r) { return Handle(r); };
    for (const char* pattern :
         {"/calling/callConnections:answer", "/calling/callConnections:reject",
          "/calling/callConnections:redirect", "/calling/callConnections",
          "/calling/callConnections/{id}", "/calling/recordings"}) {
      router->Add("POST", pattern, handler);
    }
    router->Add("DELETE", "/calling/callConnections/{id}", handler);
    router->Add("DELETE", "/calling/recordings/{id}", handler);
    auto srv = server::HttpServer::Create(so, router, &metrics_);
    if (!srv.ok()) return srv.status().WithContext("--acs-listen");
    server_ = std::move(srv).value();
    host_ = so.host;
    net::HttpClientOptions ho;
    ho.io_threads = 1;
    http_ = net::HttpClient::Create(ho);
    executor_ = std::make_shared<server::StrandExecutor>(server_->io_context());
    return server_->Start();
  }

  std::string connection_string() const override {
    return "endpoint=http://" + host_ + ":" + std::to_string(server_->port()) +
           "/;accesskey=" + ctx_->options.access_key;
  }
  boost::asio::io_context& io_context() override { return server_->io_context(); }
  net::HttpClient* http() override { return http_.get(); }
  std::shared_ptr<core::Executor> executor() override { return executor_; }
  std::unique_ptr<LoadCaller> NewCaller(int index) override {
    auto caller = std::make_unique<AcsCaller>(this, ctx_, index);
    by_context_[caller->context_id()] = caller.get();
    return caller;
  }
  void Shutdown() override {
    http_.reset();
    if (server_) server_->Stop();
  }
  void Connected(const std::string& connection_id, AcsCaller* caller) {
    by_connection_[connection_id] = caller;
  }

 private:
  server::HttpResponse Handle(const server::HttpRequest& req) {
    const std::string host(req.Header("host"));
    net::AcsRequestView view{req.method,
                             req.target,
                             host,
                             req.body,
                             req.Header("x-ms-date"),
                             req.Header("x-ms-content-sha256"),
                             req.Header("authorization")};
    core::Status st =
        net::VerifyAcsRequest(view, ctx_->options.access_key, std::chrono::system_clock::now());
    if (!st.ok()) {
      ctx_->stats->Error("acs_bad_signature");
      return server::HttpResponse::Json(
          401, {{"error", {{"code", "Unauthorized"}, {"message", st.message()}}}});
    }
    const json body = json::parse(req.body.empty() ? "null" : req.body, nullptr, false);
    const std::string& path = req.path;
    auto find = [&](const std::string& context) -> AcsCaller* {
      auto it = by_context_.find(context);
      return it == by_context_.end() ? nullptr : it->second;
    };
    if (path == "/calling/callConnections:answer" && body.is_object()) {
      AcsCaller* caller = find(body.value("incomingCallContext", ""));
      if (!caller) return server::HttpResponse::Error(404, "NotFound", "unknown call");
      const json media = body.value("mediaStreamingOptions", json::object());
      const std::string id = "lg-" + core::NewId("conn").substr(5, 12);
      const std::string callback = body.value("callbackUri", "");
      const std::string transport = media.value("transportUrl", "");
      // The answer goes back first, then the callbacks follow (as ACS does).
      boost::asio::post(server_->io_context(), [caller, callback, transport, id] {
        caller->Answered(callback, transport, id);
      });
      return server::HttpResponse::Json(200, {{"callConnectionId", id},
                                              {"serverCallId", "lg-server-call"},
                                              {"callConnectionState", "connecting"},
                                              {"callbackUri", callback}});
    }
    if (path == "/calling/callConnections:reject" && body.is_object()) {
      if (AcsCaller* caller = find(body.value("incomingCallContext", ""))) {
        const std::string reason = body.value("callRejectReason", "unknown");
        boost::asio::post(server_->io_context(), [caller, reason] { caller->Rejected(reason); });
      }
      return server::HttpResponse::Text(204, "");
    }
    if (path.rfind("/calling/callConnections/", 0) == 0) {
      std::string id = path.substr(std::string("/calling/callConnections/").size());
      const bool hangup = req.method == "DELETE" || id.find(":terminate") != std::string::npos;
      id = id.substr(0, id.find(':'));
      if (hangup) {
        auto it = by_connection_.find(id);
        if (it != by_connection_.end()) {
          AcsCaller* caller = it->second;
          boost::asio::post(server_->io_context(), [caller] { caller->HungUpByServer(); });
        }
        return server::HttpResponse::Text(204, "");
      }
      return server::HttpResponse::Json(
          202, {{"operationContext", body.is_object() ? body.value("operationContext", "") : ""}});
    }
    if (path == "/calling/recordings") {
      return server::HttpResponse::Json(200,
                                        {{"recordingId", "lg-rec"}, {"recordingState", "active"}});
    }
    return server::HttpResponse::Text(204, "");
  }

  LoadContext* ctx_;
  platform::Metrics metrics_;
  std::unique_ptr<server::HttpServer> server_;
  std::string host_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<server::StrandExecutor> executor_;
  std::map<std::string, AcsCaller*> by_context_;
  std::map<std::string, AcsCaller*> by_connection_;
};

AcsCaller::AcsCaller(Fleet* fleet, LoadContext* ctx, int index)
    : fleet_(fleet),
      ctx_(ctx),
      index_(index),
      script_(&ctx->audio.clips, ctx->options.caller, ctx->options.seed * 1000003 + index,
              ctx->stats) {
  context_ = "lg-context-" + std::to_string(index) + "-" + core::NewId("").substr(1, 10);
  char number[32];
  std::snprintf(number, sizeof(number), "+1425%07d", index % 10000000);
  caller_ = number;
}

void AcsCaller::Start() {
  ++ctx_->stats->sessions_started;
  acs::IncomingCallEvent call;
  call.event_id = core::NewId("evt");
  call.from = {"phoneNumber", "4:" + caller_, caller_, ""};
  call.to = {"phoneNumber", "4:+18005550100", "+18005550100", ""};
  call.server_call_id = "lg-server-call-" + std::to_string(index_);
  call.caller_display_name = "Load caller";
  call.incoming_call_context = context_;
  call.correlation_id = "lg-correlation-" + std::to_string(index_);
  net::HttpRequestSpec spec;
  spec.method = "POST";
  spec.url = ctx_->options.url + "/api/v1/calls/events";
  spec.body = acs::EncodeIncomingCallEventGrid(call);
  spec.headers = {{"Content-Type", "application/json"}, {"aeg-event-type", "Notification"}};
  spec.total_timeout = std::chrono::seconds(20);
  calls_.push_back(fleet_->http()->Fetch(
      std::move(spec),
      [this](core::Result<net::HttpResponse> r) {
        if (!r.ok()) {
          Fail("incoming_call_failed");
        } else if (r->status == 503) {
          done_ = true;
          ctx_->Refused("http_503");
        } else if (r->status != 200) {
          Fail("incoming_call_http_" + std::to_string(r->status));
        }
        // 200: the server answers or rejects through the REST endpoint.
      },
      fleet_->executor()));
}

void AcsCaller::Answered(const std::string& callback_uri, const std::string& transport_url,
                         const std::string& connection_id) {
  callback_uri_ = callback_uri;
  transport_url_ = transport_url;
  connection_id_ = connection_id;
  fleet_->Connected(connection_id, this);
  if (ctx_->stopping) {
    done_ = true;
    return;
  }
  Callback("CallConnected", "", [this](bool ok) {
    if (!ok) return Fail("callback_failed");
    ConnectMedia();
  });
}

void AcsCaller::Rejected(const std::string& reason) {
  done_ = true;
  ctx_->Refused("acs_reject_" + reason);
}

void AcsCaller::HungUpByServer() {
  if (socket_ && !socket_->closed()) socket_->Close();
}

void AcsCaller::Callback(const std::string& name, const std::string& extra,
                         std::function<void(bool ok)> then) {
  net::HttpRequestSpec spec;
  spec.method = "POST";
  spec.url = callback_uri_;
  spec.body =
      acs::EncodeCallbackEvent("lg-evt-" + std::to_string(index_) + "-" + std::to_string(++seq_),
                               name, connection_id_, "", extra);
  spec.headers = {{"Content-Type", "application/json"}};
  spec.total_timeout = std::chrono::seconds(20);
  calls_.push_back(fleet_->http()->Fetch(
      std::move(spec),
      [then = std::move(then)](core::Result<net::HttpResponse> r) {
        if (then) then(r.ok() && r->status == 200);
      },
      fleet_->executor()));
}

void AcsCaller::ConnectMedia() {
  const std::string prefix = "ws://";
  if (transport_url_.rfind(prefix, 0) != 0) return Fail("media_url_not_ws");
  const std::string rest = transport_url_.substr(prefix.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  LoadSocket::Handlers h;
  h.on_open = [this](bool ok, int status, const std::string&) {
    if (!ok) {
      if (status == 503) {
        done_ = true;
        ctx_->Refused("media_http_503");
      } else {
        Fail(status ? "media_upgrade_http_" + std::to_string(status) : "media_connect_failed");
      }
      return;
    }
    acs::AudioMetadata meta{"lg-subscription", "PCM", ctx_->audio.sample_rate, 1,
                            ctx_->audio.sample_rate / 50 * 2};
    socket_->Send(std::make_shared<const std::string>(acs::EncodeAudioMetadata(meta)));
    Callback(
        "MediaStreamingStarted",
        R"({"mediaStreamingUpdate":{"contentType":"Audio","mediaStreamingStatus":"mediaStreamingStarted","mediaStreamingStatusDetails":"subscriptionStarted"}})",
        nullptr);
    live_ = true;
    ctx_->Connected();
  };
  h.on_message = [this](std::string_view text) { OnMessage(text); };
  h.on_close = [this](int code) { OnClose(code); };
  socket_ = std::make_shared<LoadSocket>(*ctx_->io, std::move(h));
  // The media socket goes to the server this run targets (the URL's host is the server's view).
  socket_->Open(ctx_->server, authority, target,
                {{"x-ms-call-connection-id", connection_id_},
                 {"x-ms-call-correlation-id", "lg-correlation-" + std::to_string(index_)}},
                "");
}

void AcsCaller::Tick(core::TimePoint now) {
  if (!live_) return;
  const FrameChoice choice = script_.Tick(now);
  if (!socket_->Send(ctx_->audio.Frame(choice))) ctx_->stats->Error("send_queue_full");
}

void AcsCaller::OnMessage(std::string_view msg) {
  const core::TimePoint now = core::Clock::now();
  const std::string_view kind = StringField(msg, "kind");
  if (kind == "AudioData") {
    const size_t b64 = StringField(msg, "data").size();
    const size_t samples = b64 / 4 * 3 / 2;
    script_.OnAgentAudio(now, double(samples) * 1000.0 / ctx_->audio.sample_rate);
  } else if (kind == "StopAudio") {
    script_.OnAudioStopped(now);
  } else {
    ctx_->stats->Error("acs_unexpected_frame");
  }
}

void AcsCaller::Stop() {
  if (done_ || stopping_) return;
  stopping_ = true;
  if (!live_) {
    if (socket_) socket_->Close();
    return;
  }
  Callback("CallDisconnected", "", [this](bool) {
    if (socket_) socket_->Close();
  });
}

void AcsCaller::OnClose(int code) {
  done_ = true;
  if (!live_) {
    Fail("media_closed_before_start_" + std::to_string(code));
    return;
  }
  live_ = false;
  script_.End();
  ctx_->Ended(!ctx_->stopping);
  if (!ctx_->stopping) ctx_->stats->Error("media_closed_by_server_" + std::to_string(code));
}

void AcsCaller::Fail(const std::string& kind) {
  done_ = true;
  ctx_->stats->Error(kind);
}

}  // namespace

core::Result<EncodedAudio> EncodeAcsAudio(const std::vector<std::vector<int16_t>>& clips16k,
                                          int rate) {
  if (!acs::IsSupportedAcsRate(rate)) {
    return core::InvalidArgumentError("--acs-rate must be 16000 or 24000");
  }
  EncodedAudio out;
  out.sample_rate = rate;
  const size_t frame = audio::SamplesPerFrame(rate);
  for (const auto& clip : clips16k) {
    audio::Samples pcm = audio::ResampleAll(clip, audio::kEngineSampleRate, rate);
    ClipInfo info = AnalyseClip(pcm, rate);
    if (info.frames == 0) return core::InvalidArgumentError("a caller clip has no speech in it");
    out.clips.push_back(info);
    auto& frames = out.frames.emplace_back();
    for (size_t f = 0; f < info.frames; ++f) {
      std::span<const int16_t> s(pcm.data() + f * frame, frame);
      const bool silent = std::all_of(s.begin(), s.end(), [](int16_t v) { return v == 0; });
      frames.push_back(std::make_shared<const std::string>(acs::EncodeInboundAudio(s, silent)));
    }
  }
  std::vector<int16_t> silence(frame, 0);
  out.silence = std::make_shared<const std::string>(acs::EncodeInboundAudio(silence, true));
  return out;
}

core::Result<std::unique_ptr<AcsFleet>> AcsFleet::Start(LoadContext* context) {
  auto fleet = std::make_unique<Fleet>(context);
  ARTAGENT_RETURN_IF_ERROR(fleet->Init());
  return std::unique_ptr<AcsFleet>(std::move(fleet));
}

}  // namespace artagent::app
