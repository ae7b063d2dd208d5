#include "app/acs_routes.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "server/asio_executor.h"
#include "transport/acs/acs_media.h"
#include "transport/acs/call_automation.h"
#include "transport/acs/call_events.h"
#include "transport/acs/call_registry.h"
#include "transport/acs/event_grid.h"
#include "transport/acs/jwt.h"
#include "transport/acs/media_connection.h"

namespace artagent::app {
namespace {

namespace acs = transport::acs;
using nlohmann::json;
using server::HttpRequest;
using server::HttpResponse;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The store keeps the call record as the last entry of the session's transcript (replaced as
// the call changes): ordered after every turn.
constexpr int64_t kCallRecordSeq = int64_t{1} << 40;

class AcsService;

// One media WebSocket: glue between the server's connection and AcsMediaConnection.
class AcsMediaSocket;

struct MediaLink {
  std::mutex mu;
  AcsMediaSocket* socket = nullptr;  // null once closed; touched on the socket's strand only
  std::weak_ptr<server::WebSocketConnection> ws;
};

class AcsService : public std::enable_shared_from_this<AcsService> {
 public:
  explicit AcsService(Runtime* rt);
  ~AcsService();

  void Register(server::Router& router);

  // Called by media sockets (on their strands).
  void OnSessionStarted(const std::string& call_id, const std::string& session_id);
  void OnCallControl(const std::string& call_id, const session::CallControl& control);
  void OnSessionEnded(const std::string& call_id, const std::string& reason);
  void TransferFailed(const std::string& call_id, const std::string& why);
  void OnMediaClosed(const std::string& call_id, bool standalone);

  Runtime* runtime() { return rt_; }
  int sample_rate() const { return sample_rate_; }
  void Link(const std::string& call_id, std::shared_ptr<MediaLink> link);

 private:
  HttpResponse Events(const HttpRequest& req);
  HttpResponse EventsOptions(const HttpRequest& req);
  HttpResponse Callbacks(const HttpRequest& req);
  HttpResponse ListCalls(const HttpRequest& req);
  HttpResponse GetCall(const HttpRequest& req);
  HttpResponse CreateCall(const HttpRequest& req);
  HttpResponse DeleteCall(const HttpRequest& req);
  core::Result<std::unique_ptr<server::WebSocketHandler>> AcceptMedia(
      const HttpRequest& req, std::shared_ptr<server::WebSocketConnection> ws);

  void Incoming(const acs::IncomingCallEvent& call, const std::string& base_url);
  void Apply(const std::string& call_id, const acs::CallEvent& event);
  void HangUp(const std::string& call_id, const std::string& reason);
  void CloseMedia(const std::string& call_id, const std::string& status);
  void DeliverDtmf(const std::string& call_id, const std::string& digits);
  // Ends a call that never reached ACS (or failed there): state, slot, store.
  void EndLocally(const std::string& call_id, acs::CallState state, const std::string& reason);
  void RecordCall(const std::string& call_id);
  void Count(const std::string& kind);
  std::string BaseUrl(const HttpRequest& req) const;

  Runtime* rt_;
  int sample_rate_ = 16000;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::shared_ptr<server::StrandExecutor> strand_;
  std::thread io_thread_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<acs::CallAutomationClient> automation_;  // null: ACS not configured
  acs::CallRegistry calls_;
  acs::EventDeduplicator incoming_seen_;
  acs::EventDeduplicator callbacks_seen_;
  std::mutex links_mu_;
  std::map<std::string, std::weak_ptr<MediaLink>> links_;
  // ACS JWTs on callbacks and media streams (protocols.md §1.7).
  acs::JwksCache jwks_;
  bool jwt_required_ = false;  // acs.jwt_audience set
  bool jwt_missing_in_production_ = false;
  std::unique_ptr<net::HttpCall> jwks_call_;  // on strand_
  std::unique_ptr<core::Timer> jwks_timer_;   // on strand_
  std::atomic<int64_t> jwks_refresh_requested_ms_{0};

  void FetchJwks();
  core::Status CheckJwt(const HttpRequest& req);
};

class AcsMediaSocket : public server::WebSocketHandler,
                       public acs::AcsMediaPeer,
                       public acs::AcsCallHooks {
 public:
  AcsMediaSocket(const std::shared_ptr<server::WebSocketConnection>& ws,
                 std::shared_ptr<AcsService> service, std::string call_id, std::string caller,
                 int sample_rate)
      : ws_(ws.get()),
        service_(std::move(service)),
        call_id_(std::move(call_id)),
        link_(std::make_shared<MediaLink>()),
        conn_(this, MakeFactory(ws, service_->runtime()),
              Defaults(service_->runtime(), caller.empty() ? ws->remote_address() : caller),
              &service_->runtime()->metrics(),
              acs::AcsMediaOptions{call_id_.empty() ? "standalone" : call_id_, sample_rate}, this) {
    link_->socket = this;
    link_->ws = ws;
    if (!call_id_.empty()) service_->Link(call_id_, link_);
  }
  ~AcsMediaSocket() override { Unlink(); }

  void OnOpen() override { conn_.Open(); }
  void OnMessage(std::string_view data, bool is_text) override { conn_.OnMessage(data, is_text); }
  void OnClose(uint16_t code) override {
    conn_.OnClose(code);
    Unlink();
  }
  void SendText(std::string message) override { ws_->SendText(std::move(message)); }
  void Close(uint16_t code, std::string reason) override { ws_->Close(code, std::move(reason)); }

  void OnSessionStarted(const std::string& id) override {
    if (!call_id_.empty()) service_->OnSessionStarted(call_id_, id);
  }
  void OnCallControl(const session::CallControl& c) override {
    if (!call_id_.empty()) service_->OnCallControl(call_id_, c);
  }
  void OnSessionEnded(const std::string& reason) override {
    if (call_id_.empty()) {
      ws_->Close(1000, reason);
    } else {
      service_->OnSessionEnded(call_id_, reason);
    }
  }

  acs::AcsMediaConnection& connection() { return conn_; }

 private:
  static session::SessionOptions Defaults(Runtime* rt, const std::string& remote) {
    session::SessionOptions o = rt->SessionDefaults();
    o.remote = remote;
    return o;
  }
  static acs::SessionFactory MakeFactory(std::weak_ptr<server::WebSocketConnection> weak,
                                         Runtime* rt) {
    return
        [weak, rt](session::SessionOptions opts,
                   session::SessionOutput* out) -> core::Result<std::shared_ptr<session::Session>> {
          auto ws = weak.lock();
          if (!ws) return core::CancelledError("the connection is gone");
          std::shared_ptr<core::Executor> executor(ws, &ws->executor());
          return rt->NewSession(std::move(executor), std::move(opts), out);
        };
  }
  void Unlink() {
    if (unlinked_) return;
    unlinked_ = true;
    {
      std::lock_guard<std::mutex> lock(link_->mu);
      link_->socket = nullptr;
    }
    service_->OnMediaClosed(call_id_, call_id_.empty());
  }

  server::WebSocketConnection* ws_;  // owns this handler
  std::shared_ptr<AcsService> service_;
  std::string call_id_;  // empty: stand-alone session (holds its own admission slot)
  std::shared_ptr<MediaLink> link_;
  acs::AcsMediaConnection conn_;
  bool unlinked_ = false;
};

AcsService::AcsService(Runtime* rt)
    : rt_(rt),
      work_(boost::asio::make_work_guard(io_)),
      strand_(std::make_shared<server::StrandExecutor>(io_)) {
  const auto& cfg = rt->config().acs;
  sample_rate_ = acs::AcsAudioFormatRate(cfg.audio_format);
  if (sample_rate_ == 0) sample_rate_ = acs::kAcsDefaultSampleRate;
  io_thread_ = std::thread([this] { io_.run(); });
  net::HttpClientOptions http_options;
  http_options.observer = rt->http_observer();  // client spans for Call Automation requests
  http_ = net::HttpClient::Create(http_options);
  if (!cfg.connection_string.empty()) {
    auto ca = acs::CallAutomationConfigFromConnectionString(cfg.connection_string);
    if (!ca.ok()) {
      core::LogError("acs", "acs.connection_string: {} (phone calls are disabled)",
                     ca.status().message());
    } else {
      ca->api_version = cfg.api_version;
      core::LogInfo("acs", "Call Automation at {} (api-version {}), media {}", ca->endpoint,
                    ca->api_version, cfg.audio_format);
      automation_ = std::make_unique<acs::CallAutomationClient>(http_.get(), strand_, *ca);
    }
  }
  jwt_required_ = !cfg.jwt_audience.empty();
  if (!jwt_required_ && rt->config().environment == "production") {
    jwt_missing_in_production_ = true;
    core::LogError("acs",
                   "acs.jwt_audience is not set: in production ACS callbacks and media "
                   "streams are refused until it is (the ACS resource's immutable id)");
  }
}

AcsService::~AcsService() {
  jwks_call_.reset();
  jwks_timer_.reset();
  automation_.reset();
  work_.reset();
  io_.stop();
  if (io_thread_.joinable()) {
    // The last reference can go from a callback on the ACS thread itself.
    if (io_thread_.get_id() == std::this_thread::get_id()) {
      io_thread_.detach();
    } else {
      io_thread_.join();
    }
  }
  http_.reset();
}

void AcsService::Count(const std::string& kind) {
  rt_->metrics().protocol_errors_total.Add({{"transport", "acs"}, {"kind", kind}}).Increment();
}

std::string AcsService::BaseUrl(const HttpRequest& req) const {
  std::string base = rt_->config().acs.callback_base_url;
  if (base.empty()) {
    std::string_view host = req.Header("host");
    if (host.empty()) return {};
    base = std::string(req.tls ? "https://" : "http://") + std::string(host);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

void AcsService::Register(server::Router& router) {
  auto self = shared_from_this();
  if (jwt_required_) strand_->Post([self] { self->FetchJwks(); });
  router.Add("POST", "/api/v1/calls/events",
             [self](const HttpRequest& r) { return self->Events(r); });
  router.Add("OPTIONS", "/api/v1/calls/events",
             [self](const HttpRequest& r) { return self->EventsOptions(r); });
  router.Add("POST", "/api/v1/calls/callbacks",
             [self](const HttpRequest& r) { return self->Callbacks(r); });
  router.Add("GET", "/api/v1/calls", [self](const HttpRequest& r) { return self->ListCalls(r); });
  router.Add("POST", "/api/v1/calls", [self](const HttpRequest& r) { return self->CreateCall(r); });
  router.Add("GET", "/api/v1/calls/{id}",
             [self](const HttpRequest& r) { return self->GetCall(r); });
  router.Add("DELETE", "/api/v1/calls/{id}",
             [self](const HttpRequest& r) { return self->DeleteCall(r); });
  server::WebSocketRoute route;
  route.accept = [self](const HttpRequest& req, std::shared_ptr<server::WebSocketConnection> ws) {
    return self->AcceptMedia(req, std::move(ws));
  };
  router.AddWebSocket("/api/v1/media/acs", std::move(route));
}

HttpResponse AcsService::EventsOptions(const HttpRequest& req) {
  auto origin = acs::AllowedWebhookOrigin(req.Header("webhook-request-origin"), {});
  if (!origin) {
    return HttpResponse::Error(400, "bad_request",
                               "the CloudEvents handshake needs a WebHook-Request-Origin header");
  }
  HttpResponse res = HttpResponse::Text(200, "");
  res.headers.emplace_back("WebHook-Allowed-Origin", *origin);
  res.headers.emplace_back("WebHook-Allowed-Rate", "*");
  res.headers.emplace_back("Allow", "POST, OPTIONS");
  return res;
}

HttpResponse AcsService::Events(const HttpRequest& req) {
  auto delivery = acs::ParseEventGridDelivery(req.body);
  if (!delivery.ok()) {
    Count("bad_event_grid_delivery");
    return HttpResponse::Error(400, "invalid_event", delivery.status().message());
  }
  for (const auto& e : delivery->errors) {
    Count("bad_event");
    core::LogWarn("acs", "Event Grid: {}", e);
  }
  if (delivery->validation) {
    core::LogInfo("acs", "Event Grid subscription validation answered");
    return HttpResponse{
        200, "application/json", acs::ValidationResponseBody(*delivery->validation), {}};
  }
  if (delivery->calls.empty()) {
    if (!delivery->errors.empty() && delivery->ignored == 0) {
      return HttpResponse::Error(400, "invalid_event", delivery->errors.front());
    }
    return HttpResponse::Json(200, {{"accepted", 0}, {"ignored", delivery->ignored}});
  }
  if (!automation_) {
    return HttpResponse::Error(503, "acs_not_configured",
                               "set acs.connection_string to answer phone calls");
  }
  const std::string base = BaseUrl(req);
  if (base.empty()) {
    return HttpResponse::Error(400, "bad_request",
                               "no Host header and no acs.callback_base_url: cannot build the "
                               "callback URL");
  }
  int accepted = 0, duplicates = 0;
  for (const auto& call : delivery->calls) {
    if (!incoming_seen_.FirstTime(call.event_id)) {
      ++duplicates;
      Count("duplicate_event");
      continue;
    }
    Incoming(call, base);
    ++accepted;
  }
  return HttpResponse::Json(200, {{"accepted", accepted}, {"duplicates", duplicates}});
}

void AcsService::Incoming(const acs::IncomingCallEvent& in, const std::string& base) {
  acs::CallInfo call;
  call.direction = "inbound";
  call.caller = in.from.Display();
  call.callee = in.to.Display();
  call.correlation_id = in.correlation_id;
  call.server_call_id = in.server_call_id;
  call.incoming_call_context = in.incoming_call_context;
  call.sample_rate = sample_rate_;
  call.created_ms = UnixMs();

  const auto& allowed = rt_->config().acs.allowed_callers;
  std::string refuse;
  std::string reason;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), call.caller) == allowed.end() &&
      std::find(allowed.begin(), allowed.end(), in.from.raw_id) == allowed.end()) {
    refuse = "forbidden";
    reason = "caller_not_allowed";
  } else if (!rt_->TryAdmit(&reason)) {
    refuse = "busy";
  }
  if (!refuse.empty()) {
    call.state = acs::CallState::kRejected;
    call.end_reason = reason;
    call.ended_ms = call.created_ms;
    const std::string id = calls_.Add(call);
    rt_->metrics().refused_total.Add({{"reason", reason}}).Increment();
    core::LogInfo("acs", "call {} from {} rejected ({})", id, call.caller, reason);
    automation_->Reject(in.incoming_call_context, refuse, [id](const core::Status& st) {
      if (!st.ok()) core::LogWarn("acs", "call {}: reject failed: {}", id, st.message());
    });
    return;
  }
  call.admitted = true;
  call.state = acs::CallState::kAnswering;
  const std::string id = calls_.Add(call);
  const std::string token = calls_.Get(id)->token;
  std::string ws_base = base;
  ws_base.replace(0, ws_base.find("://"), base.rfind("https", 0) == 0 ? "wss" : "ws");
  acs::AnswerCallRequest answer;
  answer.incoming_call_context = in.incoming_call_context;
  answer.callback_uri = base + "/api/v1/calls/callbacks?call=" + id + "&token=" + token;
  answer.operation_context = "answer-" + id;
  answer.media.transport_url = ws_base + "/api/v1/media/acs?call=" + id + "&token=" + token;
  answer.media.sample_rate = sample_rate_;
  core::LogInfo("acs", "call {} from {}: answering", id, call.caller);
  std::weak_ptr<AcsService> weak = weak_from_this();
  automation_->Answer(answer, [weak, id](core::Result<acs::CallConnectionProperties> r) {
    auto self = weak.lock();
    if (!self) return;
    if (!r.ok()) {
      core::LogWarn("acs", "call {}: answer failed: {}", id, r.status().message());
      self->EndLocally(id, acs::CallState::kFailed, "answer failed: " + r.status().message());
      return;
    }
    self->calls_.Update(id, [&](acs::CallInfo& c) {
      c.call_connection_id = r->call_connection_id;
      if (!r->server_call_id.empty()) c.server_call_id = r->server_call_id;
      if (!r->correlation_id.empty()) c.correlation_id = r->correlation_id;
    });
  });
}

void AcsService::EndLocally(const std::string& id, acs::CallState state,
                            const std::string& reason) {
  bool release = false;
  calls_.Update(id, [&](acs::CallInfo& c) {
    if (acs::IsTerminal(c.state)) return;
    c.state = state;
    if (c.end_reason.empty()) c.end_reason = reason;
    c.ended_ms = UnixMs();
    release = c.admitted;
    c.admitted = false;
  });
  if (release) rt_->Release();
  CloseMedia(id, state == acs::CallState::kFailed ? "failed" : "ended");
  RecordCall(id);
}

HttpResponse AcsService::Callbacks(const HttpRequest& req) {
  if (core::Status st = CheckJwt(req); !st.ok()) return HttpResponse::FromStatus(st);
  const std::string call_param(req.Query("call"));
  if (!call_param.empty()) {
    if (!calls_.Get(call_param)) {
      Count("unknown_call");
      return HttpResponse::Error(404, "not_found", "no call '" + call_param + "'");
    }
    if (!calls_.CheckToken(call_param, std::string(req.Query("token")))) {
      Count("bad_callback_token");
      return HttpResponse::Error(401, "unauthenticated", "the callback token is not valid");
    }
  }
  auto delivery = acs::ParseCallbackEvents(req.body);
  if (!delivery.ok()) {
    Count("bad_callback");
    return HttpResponse::Error(400, "invalid_event", delivery.status().message());
  }
  for (const auto& e : delivery->errors) {
    Count("bad_callback_event");
    core::LogWarn("acs", "callback: {}", e);
  }
  int applied = 0, duplicates = 0, unknown = 0;
  for (const auto& e : delivery->events) {
    if (!callbacks_seen_.FirstTime(e.id)) {
      ++duplicates;
      Count("duplicate_event");
      continue;
    }
    std::string id = call_param;
    if (id.empty()) {
      auto found = calls_.FindByConnection(e.call_connection_id);
      if (found) id = found->id;
    }
    if (id.empty()) {
      ++unknown;
      Count("unknown_call");
      continue;
    }
    Apply(id, e);
    ++applied;
  }
  if (delivery->events.empty() && !delivery->errors.empty()) {
    return HttpResponse::Error(400, "invalid_event", delivery->errors.front());
  }
  return HttpResponse::Json(
      200, {{"applied", applied}, {"duplicates", duplicates}, {"unknown", unknown}});
}

void AcsService::Apply(const std::string& id, const acs::CallEvent& e) {
  acs::CallEventEffect fx;
  bool terminal = false;
  calls_.Update(id, [&](acs::CallInfo& c) {
    if (c.call_connection_id.empty()) c.call_connection_id = e.call_connection_id;
    fx = acs::ApplyCallEvent(c, e, UnixMs());
    terminal = acs::IsTerminal(c.state);
  });
  core::LogInfo("acs", "call {}: {}{}", id, acs::CallEventKindName(e.kind),
                fx.applied ? "" : " (after the end: ignored)");
  if (fx.release) rt_->Release();
  if (fx.end_session) CloseMedia(id, fx.session_status);
  if (!fx.dtmf.empty()) DeliverDtmf(id, fx.dtmf);
  if (fx.hang_up) HangUp(id, "media streaming failed");
  if (fx.transfer_failed) {
    core::LogWarn("acs", "call {}: transfer failed: {}", id, e.result_message);
    TransferFailed(id, e.result_message.empty() ? "the transfer did not go through"
                                                : e.result_message);
  }
  if (terminal || e.kind == acs::CallEventKind::kCallConnected) RecordCall(id);
}

void AcsService::HangUp(const std::string& id, const std::string& reason) {
  std::string conn;
  bool already = false;
  calls_.Update(id, [&](acs::CallInfo& c) {
    if (acs::IsTerminal(c.state) || c.state == acs::CallState::kDisconnecting) {
      already = true;
      return;
    }
    conn = c.call_connection_id;
    c.state = acs::CallState::kDisconnecting;
    if (c.end_reason.empty()) c.end_reason = reason;
  });
  if (already) return;
  if (conn.empty() || !automation_) {
    EndLocally(id, acs::CallState::kEnded, reason);
    return;
  }
  core::LogInfo("acs", "call {}: hanging up ({})", id, reason);
  std::weak_ptr<AcsService> weak = weak_from_this();
  automation_->HangUp(conn, [weak, id](const core::Status& st) {
    auto self = weak.lock();
    if (!self) return;
    if (!st.ok()) {
      core::LogWarn("acs", "call {}: hang up failed: {}", id, st.message());
      // ACS will not tell us the call ended: end it here.
      self->EndLocally(id, acs::CallState::kEnded, "hung up (ACS unreachable)");
    }
  });
}

void AcsService::Link(const std::string& call_id, std::shared_ptr<MediaLink> link) {
  std::lock_guard<std::mutex> lock(links_mu_);
  links_[call_id] = link;
}

// Runs `fn` on the media socket of `call_id`, on its strand, if it is still open.
template <typename Fn>
void OnMediaSocket(std::mutex& mu, std::map<std::string, std::weak_ptr<MediaLink>>& links,
                   const std::string& call_id, Fn fn) {
  std::shared_ptr<MediaLink> link;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = links.find(call_id);
    if (it != links.end()) link = it->second.lock();
  }
  if (!link) return;
  auto ws = link->ws.lock();
  if (!ws) return;
  ws->executor().Post([ws, link, fn = std::move(fn)] {
    AcsMediaSocket* socket = nullptr;
    {
      std::lock_guard<std::mutex> lock(link->mu);
      socket = link->socket;
    }
    if (socket) fn(*socket);
  });
}

void AcsService::CloseMedia(const std::string& id, const std::string& status) {
  OnMediaSocket(links_mu_, links_, id,
                [status](AcsMediaSocket& s) { s.connection().Hangup(status); });
}

void AcsService::DeliverDtmf(const std::string& id, const std::string& digits) {
  OnMediaSocket(links_mu_, links_, id, [digits](AcsMediaSocket& s) {
    for (char d : digits) s.connection().PushDtmf(d);
  });
}

void AcsService::OnSessionStarted(const std::string& id, const std::string& session_id) {
  calls_.Update(id, [&](acs::CallInfo& c) {
    c.session_id = session_id;
    c.media_connected = true;
  });
  RecordCall(id);
}

void AcsService::OnCallControl(const std::string& id, const session::CallControl& control) {
  if (control.kind == session::CallControl::Kind::kEndCall) {
    HangUp(id, control.reason.empty() ? "agent ended the call" : control.reason);
    return;
  }
  std::string conn;
  calls_.Update(id, [&](acs::CallInfo& c) {
    if (c.state != acs::CallState::kConnected) return;
    conn = c.call_connection_id;
    c.state = acs::CallState::kTransferring;
    c.transfer_target = control.target;
  });
  if (conn.empty() || !automation_) {
    core::LogWarn("acs", "call {}: cannot transfer to {} (call not connected)", id, control.target);
    return;
  }
  core::LogInfo("acs", "call {}: transferring to {} ({})", id, control.target, control.reason);
  std::weak_ptr<AcsService> weak = weak_from_this();
  automation_->Transfer(conn, control.target, "transfer-" + id, [weak, id](const core::Status& st) {
    auto self = weak.lock();
    if (!self || st.ok()) return;
    core::LogWarn("acs", "call {}: transfer request failed: {}", id, st.message());
    self->calls_.Update(id, [](acs::CallInfo& c) {
      if (c.state == acs::CallState::kTransferring) c.state = acs::CallState::kConnected;
    });
    self->TransferFailed(id, st.message());
  });
}

// The caller is still on the line with us: the agent says so and carries on (never dead air).
void AcsService::TransferFailed(const std::string& id, const std::string& why) {
  Count("transfer_failed");
  std::string target;
  if (auto call = calls_.Get(id)) target = call->transfer_target;
  const std::string event =
      "transfer_failed: the transfer to " + (target.empty() ? "the destination" : target) +
      " did not go through (" + why + "); the caller is still on the line";
  OnMediaSocket(links_mu_, links_, id, [event](AcsMediaSocket& s) {
    s.connection().NotifyAgent(event);
  });
}

void AcsService::OnSessionEnded(const std::string& id, const std::string& reason) {
  HangUp(id, reason);
}

void AcsService::OnMediaClosed(const std::string& id, bool standalone) {
  if (standalone) {
    rt_->Release();
    return;
  }
  bool live = false;
  calls_.Update(id, [&](acs::CallInfo& c) {
    c.media_connected = false;
    live = !acs::IsTerminal(c.state) && c.state != acs::CallState::kDisconnecting;
  });
  // The stream is gone but the call is not: nobody can hear the agent any more.
  if (live) HangUp(id, "media stream closed");
}

void AcsService::RecordCall(const std::string& id) {
  platform::Store* store = rt_->store();
  if (!store) return;
  auto call = calls_.Get(id);
  if (!call || call->session_id.empty()) return;
  platform::TranscriptEntry entry;
  entry.session_id = call->session_id;
  entry.seq = kCallRecordSeq;
  entry.item_id = call->id;
  entry.role = "system";
  entry.text = "phone call " + std::string(acs::CallStateName(call->state)) +
               (call->end_reason.empty() ? "" : " (" + call->end_reason + ")");
  entry.at_ms = UnixMs();
  entry.data_json = json{{"call", call->ToJson()}}.dump();
  store->Append(std::move(entry));
}

// Fetches the ACS signing keys; refreshes them every 12 hours (every 30 s while failing). On the
// ACS strand.
void AcsService::FetchJwks() {
  net::HttpRequestSpec spec;
  spec.url = rt_->config().acs.jwks_url;
  spec.total_timeout = std::chrono::seconds(10);
  std::weak_ptr<AcsService> weak = weak_from_this();
  jwks_call_ = http_->Fetch(
      std::move(spec),
      [weak](core::Result<net::HttpResponse> r) {
        auto self = weak.lock();
        if (!self) return;
        std::chrono::seconds next(30);
        if (r.ok() && r->status == 200) {
          auto keys = acs::JwkSet::Parse(r->body);
          if (keys.ok()) {
            core::LogInfo("acs", "{} ACS signing key(s) loaded", (*keys)->size());
            self->jwks_.Set(*keys, std::chrono::steady_clock::now());
            next = std::chrono::hours(12);
          } else {
            core::LogError("acs", "ACS signing keys: {}", keys.status().message());
          }
        } else {
          core::LogError("acs", "fetching ACS signing keys from {}: {}",
                         self->rt_->config().acs.jwks_url,
                         r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message());
        }
        self->jwks_timer_ = self->strand_->RunAfter(next, [weak] {
          if (auto s = weak.lock()) s->FetchJwks();
        });
      },
      strand_);
}

core::Status AcsService::CheckJwt(const HttpRequest& req) {
  if (jwt_missing_in_production_) {
    return core::UnauthenticatedError(
        "ACS JWT validation is required in production: set acs.jwt_audience");
  }
  if (!jwt_required_) return core::OkStatus();
  auto keys = jwks_.Get();
  if (!keys) return core::UnavailableError("the ACS signing keys are not loaded yet");
  const auto& cfg = rt_->config().acs;
  core::Status st =
      acs::VerifyJwt(acs::BearerToken(req.Header("authorization")), *keys, cfg.jwt_issuer,
                     cfg.jwt_audience, std::chrono::system_clock::now());
  if (!st.ok() && st.message().find("unknown signing key") != std::string::npos) {
    // ACS rotated its keys: fetch them again (at most once a minute).
    const int64_t now = UnixMs();
    int64_t last = jwks_refresh_requested_ms_.load();
    if (now - last > 60000 && jwks_refresh_requested_ms_.compare_exchange_strong(last, now)) {
      std::weak_ptr<AcsService> weak = weak_from_this();
      strand_->Post([weak] {
        if (auto s = weak.lock()) s->FetchJwks();
      });
    }
  }
  if (!st.ok()) {
    Count("jwt_rejected");
    core::LogWarn("acs", "{} {}: {}", req.method, req.path, st.message());
  }
  return st;
}

HttpResponse AcsService::ListCalls(const HttpRequest&) {
  json out = json::array();
  for (const auto& c : calls_.List()) out.push_back(c.ToJson());
  return HttpResponse::Json(200, {{"calls", out}});
}

HttpResponse AcsService::GetCall(const HttpRequest& req) {
  auto call = calls_.Get(std::string(req.Param("id")));
  if (!call) return HttpResponse::Error(404, "not_found", "no such call");
  return HttpResponse::Json(200, call->ToJson());
}

HttpResponse AcsService::DeleteCall(const HttpRequest& req) {
  const std::string id(req.Param("id"));
  auto call = calls_.Get(id);
  if (!call) return HttpResponse::Error(404, "not_found", "no call '" + id + "'");
  if (acs::IsTerminal(call->state)) return HttpResponse::Json(200, call->ToJson());
  HangUp(id, "hung up through the API");
  CloseMedia(id, "ended");
  return HttpResponse::Json(202, calls_.Get(id)->ToJson());
}

HttpResponse AcsService::CreateCall(const HttpRequest& req) {
  if (!automation_) {
    return HttpResponse::Error(503, "acs_not_configured",
                               "set acs.connection_string to place phone calls");
  }
  json body = json::parse(req.body, nullptr, false);
  std::string target = body.is_object() ? body.value("target", "") : "";
  if (target.empty()) {
    return HttpResponse::Error(400, "invalid_request",
                               "expected {\"target\": \"+14255550123\"} (E.164, sip: or 8: id)");
  }
  const std::string base = BaseUrl(req);
  if (base.empty()) return HttpResponse::Error(400, "bad_request", "no Host header");
  std::string reason;
  if (!rt_->TryAdmit(&reason)) {
    rt_->metrics().refused_total.Add({{"reason", reason}}).Increment();
    return HttpResponse::Error(503, "busy", "the server is at capacity (" + reason + ")");
  }
  acs::CallInfo call;
  call.direction = "outbound";
  call.caller = rt_->config().acs.source_caller_id;
  call.callee = target;
  call.state = acs::CallState::kDialing;
  call.admitted = true;
  call.sample_rate = sample_rate_;
  call.created_ms = UnixMs();
  const std::string id = calls_.Add(call);
  const std::string token = calls_.Get(id)->token;
  std::string ws_base = base;
  ws_base.replace(0, ws_base.find("://"), base.rfind("https", 0) == 0 ? "wss" : "ws");
  acs::CreateCallRequest create;
  create.target = target;
  create.source_caller_id = call.caller;
  create.callback_uri = base + "/api/v1/calls/callbacks?call=" + id + "&token=" + token;
  create.operation_context = "create-" + id;
  create.media.transport_url = ws_base + "/api/v1/media/acs?call=" + id + "&token=" + token;
  create.media.sample_rate = sample_rate_;
  std::weak_ptr<AcsService> weak = weak_from_this();
  automation_->CreateCall(create, [weak, id](core::Result<acs::CallConnectionProperties> r) {
    auto self = weak.lock();
    if (!self) return;
    if (!r.ok()) {
      core::LogWarn("acs", "call {}: create failed: {}", id, r.status().message());
      self->EndLocally(id, acs::CallState::kFailed, "create failed: " + r.status().message());
      return;
    }
    self->calls_.Update(id, [&](acs::CallInfo& c) {
      c.call_connection_id = r->call_connection_id;
      if (!r->server_call_id.empty()) c.server_call_id = r->server_call_id;
    });
  });
  return HttpResponse::Json(202, calls_.Get(id)->ToJson());
}

// The key a stand-alone media client presents (same rules as /v1/realtime).
std::string PresentedKey(const HttpRequest& req) {
  std::string_view auth = req.Header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) return std::string(auth.substr(7));
  return std::string(req.Header("api-key"));
}

core::Result<std::unique_ptr<server::WebSocketHandler>> AcsService::AcceptMedia(
    const HttpRequest& req, std::shared_ptr<server::WebSocketConnection> ws) {
  std::string call_id(req.Query("call"));
  if (call_id.empty()) {
    if (auto found = calls_.FindByConnection(std::string(req.Header("x-ms-call-connection-id")))) {
      call_id = found->id;
    }
  }
  if (call_id.empty()) {
    const auto& keys = rt_->config().server.api_keys;
    if (!keys.empty() && std::find(keys.begin(), keys.end(), PresentedKey(req)) == keys.end()) {
      rt_->metrics().refused_total.Add({{"reason", "unauthenticated"}}).Increment();
      return core::UnauthenticatedError("an API key is required for a media stream without a call");
    }
    std::string reason;
    if (!rt_->TryAdmit(&reason)) {
      rt_->metrics().refused_total.Add({{"reason", reason}}).Increment();
      return core::ResourceExhaustedError("the server is at capacity (" + reason + ")");
    }
    return std::unique_ptr<server::WebSocketHandler>(
        std::make_unique<AcsMediaSocket>(ws, shared_from_this(), "", "", sample_rate_));
  }
  if (core::Status st = CheckJwt(req); !st.ok()) return st;
  auto call = calls_.Get(call_id);
  if (!call) {
    Count("media_unknown_call");
    return core::NotFoundError("no call '" + call_id + "'");
  }
  if (!req.Query("call").empty() && !calls_.CheckToken(call_id, std::string(req.Query("token")))) {
    Count("media_bad_token");
    return core::UnauthenticatedError("the media stream token is not valid for this call");
  }
  if (acs::IsTerminal(call->state) || call->state == acs::CallState::kDisconnecting) {
    Count("media_ended_call");
    return core::NotFoundError("call '" + call_id + "' has ended");
  }
  if (call->media_connected) {
    Count("media_duplicate");
    return core::AlreadyExistsError("call '" + call_id + "' already has a media stream");
  }
  calls_.Update(call_id, [](acs::CallInfo& c) { c.media_connected = true; });
  return std::unique_ptr<server::WebSocketHandler>(std::make_unique<AcsMediaSocket>(
      ws, shared_from_this(), call_id, call->caller, call->sample_rate));
}

}  // namespace

void AddAcsRoutes(server::Router& router, Runtime* runtime) {
  auto service = std::make_shared<AcsService>(runtime);
  service->Register(router);
}

}  // namespace artagent::app
