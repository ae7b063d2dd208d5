#include "transport/acs/call_automation.h"

#include <mutex>
#include <random>

#include "core/ids.h"
#include "core/log.h"
#include "net/acs_auth.h"
#include "transport/acs/acs_media.h"

namespace artagent::transport::acs {

using nlohmann::json;

struct CallAutomationClient::Shared {
  net::HttpClient* http;
  std::shared_ptr<core::Executor> executor;
  CallAutomationConfig config;
  net::CircuitBreaker breaker;
  std::mutex mu;  // rng
  std::mt19937_64 rng;

  Shared(net::HttpClient* h, std::shared_ptr<core::Executor> ex, CallAutomationConfig c)
      : http(h),
        executor(std::move(ex)),
        config(std::move(c)),
        breaker(config.breaker),
        rng(config.seed ? config.seed : std::random_device{}()) {}

  std::chrono::system_clock::time_point WallNow() const {
    return config.wall_clock ? config.wall_clock() : std::chrono::system_clock::now();
  }
  std::string Uuid() {
    std::lock_guard<std::mutex> lock(mu);
    const uint64_t a = rng();
    return core::UuidFromBits(a, rng());
  }
  core::Duration Backoff(int attempt) {
    std::lock_guard<std::mutex> lock(mu);
    return net::BackoffDelay(config.backoff, attempt, rng);
  }
};

namespace {

// One logical request and its attempts.
struct Operation : std::enable_shared_from_this<Operation> {
  std::shared_ptr<CallAutomationClient::Shared> shared;
  std::string name;  // "answer", for logs
  std::string method;
  std::string path;  // "/calling/callConnections:answer" (api-version appended)
  std::string body;
  bool repeatable = false;
  bool idempotent = false;  // safe to resend after a timeout
  std::string repeatability_id;
  std::string first_sent;
  int attempt = 0;
  std::unique_ptr<net::HttpCall> call;
  std::unique_ptr<core::Timer> timer;
  std::function<void(core::Result<net::HttpResponse>)> done;

  void Start() {
    if (repeatable) {
      repeatability_id = shared->Uuid();
      first_sent = net::HttpDate(shared->WallNow());
    }
    Attempt();
  }

  void Finish(core::Result<net::HttpResponse> r) {
    auto cb = std::move(done);
    done = nullptr;
    // The finished HttpCall is released off its own callback.
    auto self = shared_from_this();
    shared->executor->Post([self] {
      self->call.reset();
      self->timer.reset();
    });
    if (cb) cb(std::move(r));
  }

  void Attempt() {
    auto& cfg = shared->config;
    if (!shared->breaker.Allow(shared->executor->Now())) {
      Finish(core::UnavailableError("ACS Call Automation is failing; circuit open (" + name +
                                    " not sent)"));
      return;
    }
    const std::string path_and_query = path + "?api-version=" + cfg.api_version;
    net::HttpRequestSpec spec;
    spec.method = method;
    spec.url = cfg.endpoint + path_and_query;
    spec.body = body;
    spec.total_timeout = cfg.timeout;
    spec.first_byte_timeout = cfg.timeout;
    spec.connect_timeout = std::min<std::chrono::milliseconds>(cfg.timeout, spec.connect_timeout);
    spec.headers.emplace_back("Content-Type", "application/json");
    if (!cfg.access_key.empty()) {
      auto signed_headers = net::SignAcsRequest(
          method, path_and_query, cfg.host, net::HttpDate(shared->WallNow()), body, cfg.access_key);
      if (!signed_headers.ok()) {
        Finish(signed_headers.status());
        return;
      }
      for (auto& h : signed_headers->AsList(cfg.host)) spec.headers.push_back(std::move(h));
    } else if (cfg.bearer_token) {
      auto token = cfg.bearer_token();
      if (!token.ok()) {
        Finish(core::UnauthenticatedError("no Entra token for ACS: " + token.status().message()));
        return;
      }
      spec.headers.emplace_back("Authorization", "Bearer " + *token);
    } else {
      Finish(core::FailedPreconditionError("ACS credentials are not configured"));
      return;
    }
    if (repeatable) {
      spec.headers.emplace_back("Repeatability-Request-ID", repeatability_id);
      spec.headers.emplace_back("Repeatability-First-Sent", first_sent);
    }
    std::weak_ptr<Operation> weak = shared_from_this();
    call = shared->http->Fetch(
        std::move(spec),
        [self = shared_from_this()](core::Result<net::HttpResponse> r) {
          self->OnResult(std::move(r));
        },
        shared->executor);
  }

  void OnResult(core::Result<net::HttpResponse> r) {
    auto& cfg = shared->config;
    bool retry = false;
    std::optional<core::Duration> hint;
    if (!r.ok()) {
      shared->breaker.RecordFailure(shared->executor->Now());
      retry = r.status().code() == core::StatusCode::kUnavailable ||
              (idempotent && r.status().code() == core::StatusCode::kDeadlineExceeded);
    } else {
      const int status = r->status;
      if (status >= 500) {
        shared->breaker.RecordFailure(shared->executor->Now());
      } else {
        shared->breaker.RecordSuccess();
      }
      retry = net::IsRetryableStatus(status);
      if (retry) hint = net::RetryAfterFromHeaders(r->headers, shared->WallNow());
    }
    ++attempt;
    if (!retry || attempt >= cfg.max_attempts) {
      Finish(std::move(r));
      return;
    }
    core::Duration delay = hint ? std::min(*hint, cfg.backoff.max) : shared->Backoff(attempt - 1);
    core::LogInfo("acs", "{}: retrying in {} ms (attempt {} of {}: {})", name,
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(), attempt + 1,
                  cfg.max_attempts,
                  r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message());
    auto self = shared_from_this();
    timer = shared->executor->RunAfter(delay, [self] { self->Attempt(); });
  }
};

// Maps a finished response to a Status: 2xx OK; otherwise the ACS error code and message.
core::Status StatusOf(const std::string& name, const core::Result<net::HttpResponse>& r) {
  if (!r.ok()) return r.status().WithContext("ACS " + name);
  const int s = r->status;
  if (s >= 200 && s < 300) return core::OkStatus();
  std::string detail;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    detail = j["error"].value("code", "") + ": " + j["error"].value("message", "");
  } else {
    detail = r->body.substr(0, 200);
  }
  std::string msg = "ACS " + name + " failed with HTTP " + std::to_string(s) + " (" + detail + ")";
  if (s == 400 || s == 422) return core::InvalidArgumentError(msg);
  if (s == 401) return core::UnauthenticatedError(msg);
  if (s == 403) return core::PermissionDeniedError(msg);
  if (s == 404) return core::NotFoundError(msg);
  if (s == 409 || s == 412) return core::FailedPreconditionError(msg);
  if (s == 429) return core::ResourceExhaustedError(msg);
  return core::UnavailableError(msg);
}

core::Result<CallConnectionProperties> PropertiesOf(const std::string& name,
                                                    const core::Result<net::HttpResponse>& r) {
  core::Status st = StatusOf(name, r);
  if (!st.ok()) return st;
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) return core::UnavailableError("ACS " + name + ": the response is not JSON");
  CallConnectionProperties p;
  p.call_connection_id = j.value("callConnectionId", "");
  p.server_call_id = j.value("serverCallId", "");
  p.state = j.value("callConnectionState", "");
  p.correlation_id = j.value("correlationId", "");
  if (auto m = j.find("mediaStreamingSubscription"); m != j.end() && m->is_object()) {
    p.media_streaming_state = m->value("state", "");
  }
  if (p.call_connection_id.empty()) {
    return core::UnavailableError("ACS " + name + ": no callConnectionId in the response");
  }
  return p;
}

std::string Escape(const std::string& id) {
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

core::Result<CallAutomationConfig> CallAutomationConfigFromConnectionString(std::string_view cs) {
  auto parsed = net::ParseAcsConnectionString(cs);
  if (!parsed.ok()) return parsed.status();
  CallAutomationConfig c;
  c.endpoint = parsed->endpoint;
  c.host = parsed->host;
  c.access_key = parsed->access_key;
  return c;
}

json TargetIdentifier(const std::string& target) {
  if (!target.empty() && target[0] == '+') {
    return {{"kind", "phoneNumber"}, {"phoneNumber", {{"value", target}}}};
  }
  if (target.rfind("4:", 0) == 0) {
    return {
        {"kind", "phoneNumber"}, {"rawId", target}, {"phoneNumber", {{"value", target.substr(2)}}}};
  }
  if (target.rfind("8:", 0) == 0) {
    return {
        {"kind", "communicationUser"}, {"rawId", target}, {"communicationUser", {{"id", target}}}};
  }
  // SIP URIs (direct routing) and anything else: by raw id.
  return {{"kind", "unknown"}, {"rawId", target}};
}

json MediaStreamingBody(const MediaStreamingSettings& m) {
  return {{"transportType", "websocket"},
          {"transportUrl", m.transport_url},
          {"contentType", "audio"},
          {"audioChannelType", m.audio_channel},
          {"startMediaStreaming", m.start_immediately},
          {"enableBidirectional", m.bidirectional},
          {"audioFormat", AcsAudioFormatName(m.sample_rate)},
          {"enableDtmfTones", m.dtmf}};
}

json AnswerCallBody(const AnswerCallRequest& r) {
  json j = {{"incomingCallContext", r.incoming_call_context}, {"callbackUri", r.callback_uri}};
  if (!r.operation_context.empty()) j["operationContext"] = r.operation_context;
  if (!r.cognitive_services_endpoint.empty()) {
    j["callIntelligenceOptions"] = {{"cognitiveServicesEndpoint", r.cognitive_services_endpoint}};
  }
  if (!r.media.transport_url.empty()) j["mediaStreamingOptions"] = MediaStreamingBody(r.media);
  return j;
}

CallAutomationClient::CallAutomationClient(net::HttpClient* http,
                                           std::shared_ptr<core::Executor> executor,
                                           CallAutomationConfig config)
    : shared_(std::make_shared<Shared>(http, std::move(executor), std::move(config))) {}

CallAutomationClient::~CallAutomationClient() = default;

net::CircuitBreaker::State CallAutomationClient::breaker_state() const {
  return shared_->breaker.state();
}

namespace {
void Run(const std::shared_ptr<CallAutomationClient::Shared>& shared, std::string name,
         std::string method, std::string path, std::string body, bool repeatable, bool idempotent,
         std::function<void(core::Result<net::HttpResponse>)> done) {
  auto op = std::make_shared<Operation>();
  op->shared = shared;
  op->name = std::move(name);
  op->method = std::move(method);
  op->path = std::move(path);
  op->body = std::move(body);
  op->repeatable = repeatable;
  op->idempotent = idempotent || repeatable;
  op->done = std::move(done);
  shared->executor->Post([op] { op->Start(); });
}

std::function<void(core::Result<net::HttpResponse>)> ToDone(std::string name,
                                                            CallAutomationClient::Done done) {
  return [name = std::move(name), done = std::move(done)](core::Result<net::HttpResponse> r) {
    if (done) done(StatusOf(name, r));
  };
}
}  // namespace

void CallAutomationClient::Answer(const AnswerCallRequest& request, PropertiesDone done) {
  Run(shared_, "answer", "POST", "/calling/callConnections:answer", AnswerCallBody(request).dump(),
      true, true, [done = std::move(done)](core::Result<net::HttpResponse> r) {
        if (done) done(PropertiesOf("answer", r));
      });
}

void CallAutomationClient::Reject(const std::string& ctx, const std::string& reason, Done done) {
  json body = {{"incomingCallContext", ctx}, {"callRejectReason", reason}};
  Run(shared_, "reject", "POST", "/calling/callConnections:reject", body.dump(), true, true,
      ToDone("reject", std::move(done)));
}

void CallAutomationClient::Redirect(const std::string& ctx, const std::string& target, Done done) {
  json body = {{"incomingCallContext", ctx}, {"target", TargetIdentifier(target)}};
  Run(shared_, "redirect", "POST", "/calling/callConnections:redirect", body.dump(), true, true,
      ToDone("redirect", std::move(done)));
}

void CallAutomationClient::CreateCall(const CreateCallRequest& request, PropertiesDone done) {
  json body = {{"targets", json::array({TargetIdentifier(request.target)})},
               {"callbackUri", request.callback_uri}};
  if (!request.source_caller_id.empty()) {
    body["sourceCallerIdNumber"] = {{"value", request.source_caller_id}};
  }
  if (!request.operation_context.empty()) body["operationContext"] = request.operation_context;
  if (!request.media.transport_url.empty()) {
    body["mediaStreamingOptions"] = MediaStreamingBody(request.media);
  }
  Run(shared_, "create call", "POST", "/calling/callConnections", body.dump(), true, true,
      [done = std::move(done)](core::Result<net::HttpResponse> r) {
        if (done) done(PropertiesOf("create call", r));
      });
}

void CallAutomationClient::HangUp(const std::string& id, Done done) {
  Run(shared_, "hang up", "DELETE", "/calling/callConnections/" + Escape(id), "", false, true,
      ToDone("hang up", std::move(done)));
}

void CallAutomationClient::Terminate(const std::string& id, Done done) {
  Run(shared_, "terminate", "POST", "/calling/callConnections/" + Escape(id) + ":terminate", "",
      false, true, ToDone("terminate", std::move(done)));
}

void CallAutomationClient::Transfer(const std::string& id, const std::string& target,
                                    const std::string& operation_context, Done done) {
  json body = {{"targetParticipant", TargetIdentifier(target)}};
  if (!operation_context.empty()) body["operationContext"] = operation_context;
  Run(shared_, "transfer", "POST",
      "/calling/callConnections/" + Escape(id) + ":transferToParticipant", body.dump(), true, true,
      ToDone("transfer", std::move(done)));
}

void CallAutomationClient::Play(const std::string& id, const PlayRequest& request, Done done) {
  json source;
  if (!request.file_uri.empty()) {
    source = {{"kind", "file"}, {"file", {{"uri", request.file_uri}}}};
  } else {
    json text = {{"text", request.text}};
    if (!request.voice_name.empty()) text["voiceName"] = request.voice_name;
    source = {{"kind", "text"}, {"text", text}};
  }
  json body = {{"playSources", json::array({source})}};
  if (!request.operation_context.empty()) body["operationContext"] = request.operation_context;
  if (request.interrupt) body["interruptCallMediaOperation"] = true;
  Run(shared_, "play", "POST", "/calling/callConnections/" + Escape(id) + ":play", body.dump(),
      false, false, ToDone("play", std::move(done)));
}

void CallAutomationClient::CancelMediaOperations(const std::string& id, Done done) {
  Run(shared_, "cancel media", "POST",
      "/calling/callConnections/" + Escape(id) + ":cancelAllMediaOperations", "{}", false, true,
      ToDone("cancel media", std::move(done)));
}

void CallAutomationClient::StartRecording(const StartRecordingRequest& request,
                                          RecordingDone done) {
  json body = {{"callLocator", {{"kind", "serverCallLocator"}, {"id", request.server_call_id}}},
               {"recordingContentType", request.content},
               {"recordingChannelType", request.channel},
               {"recordingFormatType", request.format}};
  if (!request.blob_container_url.empty()) {
    body["recordingStorage"] = {{"recordingStorageKind", "azureBlobStorage"},
                                {"recordingDestinationContainerUrl", request.blob_container_url}};
  }
  Run(shared_, "start recording", "POST", "/calling/recordings", body.dump(), true, true,
      [done = std::move(done)](core::Result<net::HttpResponse> r) {
        core::Status st = StatusOf("start recording", r);
        if (!st.ok()) {
          if (done) done(st);
          return;
        }
        json j = json::parse(r->body, nullptr, false);
        std::string id = j.is_object() ? j.value("recordingId", "") : "";
        if (done) {
          if (id.empty()) {
            done(core::UnavailableError("ACS start recording: no recordingId in the response"));
          } else {
            done(id);
          }
        }
      });
}

void CallAutomationClient::StopRecording(const std::string& recording_id, Done done) {
  Run(shared_, "stop recording", "DELETE", "/calling/recordings/" + Escape(recording_id), "", false,
      true, ToDone("stop recording", std::move(done)));
}

}  // namespace artagent::transport::acs
