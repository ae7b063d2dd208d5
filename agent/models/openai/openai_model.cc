#include "agent/models/openai/openai_model.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/log.h"
#include "net/sse.h"
#include "core/strings.h"

namespace artagent::agent {
namespace {

using nlohmann::json;

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr std::string_view kCircuitOpen = "model endpoint unavailable (circuit open)";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct UrlParts {
  std::string scheme_host;  // "https://host:port"
  std::string path;         // "/openai/v1" (no trailing slash)
  std::string query;        // "api-version=..." (no '?')
  std::string host;         // lower case, no port
};

core::Result<UrlParts> SplitUrl(const std::string& url) {
  const std::string lower = core::AsciiLower(url);
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    return core::InvalidArgumentError(
        "openai model option base_url must start with http:// or "
        "https:// (got '" +
        url + "')");
  }
  UrlParts parts;
  const size_t host_start = url.find("://") + 3;
  const size_t path_start = url.find_first_of("/?#", host_start);
  parts.scheme_host = url.substr(0, path_start);
  std::string authority = core::AsciiLower(url.substr(host_start, path_start - host_start));
  if (authority.empty()) {
    return core::InvalidArgumentError("openai model option base_url has no host: '" + url + "'");
  }
  if (authority.front() == '[') {
    parts.host = authority.substr(0, authority.find(']') + 1);
  } else {
    parts.host = authority.substr(0, authority.find(':'));
  }
  std::string rest = path_start == std::string::npos ? "" : url.substr(path_start);
  if (size_t hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
  if (size_t q = rest.find('?'); q != std::string::npos) {
    parts.query = rest.substr(q + 1);
    rest.resize(q);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  parts.path = rest;
  return parts;
}

bool IsAzure(const UrlParts& parts) {
  return EndsWith(parts.host, ".openai.azure.com") ||
         EndsWith(parts.host, ".cognitiveservices.azure.com") ||
         EndsWith(parts.host, ".services.ai.azure.com") ||
         parts.path.find("/openai/") != std::string::npos;
}

bool IsAzureDeploymentPath(const UrlParts& parts) {
  return parts.path.find("/openai/deployments/") != std::string::npos;
}

// The deployment name from ".../openai/deployments/{name}[/chat/completions]".
std::string DeploymentName(const UrlParts& parts) {
  const std::string marker = "/openai/deployments/";
  const size_t at = parts.path.find(marker);
  if (at == std::string::npos) return "";
  std::string rest = parts.path.substr(at + marker.size());
  return rest.substr(0, rest.find('/'));
}

std::string RoleName(ChatMessage::Role role) {
  switch (role) {
    case ChatMessage::Role::kSystem:
      return "system";
    case ChatMessage::Role::kUser:
      return "user";
    case ChatMessage::Role::kAssistant:
      return "assistant";
    case ChatMessage::Role::kTool:
      return "tool";
  }
  return "user";
}

// An integer field, or `fallback` when absent or not an integer (json::value would throw).
int64_t IntField(const json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return fallback;
  return it->get<int64_t>();
}

core::StatusCode CodeForHttpStatus(int status) {
  if (status == 400 || status == 422) return core::StatusCode::kInvalidArgument;
  if (status == 401) return core::StatusCode::kUnauthenticated;
  if (status == 403) return core::StatusCode::kPermissionDenied;
  if (status == 404) return core::StatusCode::kNotFound;
  if (status == 429) return core::StatusCode::kResourceExhausted;
  if (status == 408 || status >= 500) return core::StatusCode::kUnavailable;
  return core::StatusCode::kFailedPrecondition;
}

// "error.message" from an API error body, else the start of the body.
std::string ErrorMessageFromBody(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object()) {
    auto it = parsed.find("error");
    if (it != parsed.end()) {
      if (it->is_object() && it->contains("message") && (*it)["message"].is_string()) {
        return (*it)["message"].get<std::string>();
      }
      if (it->is_string()) return it->get<std::string>();
    }
    if (parsed.contains("message") && parsed["message"].is_string()) {
      return parsed["message"].get<std::string>();
    }
  }
  std::string text = body.substr(0, 300);
  return text.empty() ? "(empty body)" : text;
}

// Settings shared by the model and its streams (which may outlive the model object).
struct Endpoint {
  OpenAiModelOptions options;
  std::string url;
  std::string name;
  bool api_key_header = false;
  net::HttpClient* client = nullptr;
  std::shared_ptr<core::Executor> executor;
  std::shared_ptr<net::CircuitBreaker> breaker;
  std::mutex rng_mu;
  std::mt19937_64 rng;

  core::Duration Backoff(int retry) {
    std::lock_guard<std::mutex> lock(rng_mu);
    return net::BackoffDelay(options.backoff, retry, rng);
  }
};

struct PartialToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

// One Stream() call. Lives on the endpoint's executor; every entry point checks `cancelled_`.
class StreamState : public std::enable_shared_from_this<StreamState> {
 public:
  StreamState(std::shared_ptr<Endpoint> endpoint, std::string body, ModelCallbacks callbacks,
              std::string traceparent = "")
      : endpoint_(std::move(endpoint)),
        body_(std::move(body)),
        traceparent_(std::move(traceparent)),
        callbacks_(std::move(callbacks)) {}

  void Start() {
    endpoint_->executor->Post([self = shared_from_this()] {
      if (self->Stopped()) return;
      if (!self->endpoint_->breaker->Allow(self->Now())) {
        self->Finish(core::UnavailableError(std::string(kCircuitOpen)));
        return;
      }
      self->Authorize();
    });
  }

  // On the executor.
  void Cancel() {
    cancelled_.store(true, std::memory_order_release);
    retry_timer_.reset();
    if (call_) call_->Cancel();
    call_.reset();
  }

 private:
  bool Stopped() const { return finished_ || cancelled_.load(std::memory_order_acquire); }
  core::TimePoint Now() const { return endpoint_->executor->Now(); }

  void Authorize() {
    const auto& options = endpoint_->options;
    if (!options.token_provider) {
      net::Headers auth;
      if (!options.api_key.empty()) {
        if (endpoint_->api_key_header) {
          auth.emplace_back("api-key", options.api_key);
        } else {
          auth.emplace_back("Authorization", "Bearer " + options.api_key);
        }
      }
      SendAttempt(std::move(auth));
      return;
    }
    std::weak_ptr<StreamState> weak = weak_from_this();
    auto executor = endpoint_->executor;
    options.token_provider([weak, executor](core::Result<std::string> token) {
      executor->Post([weak, token = std::move(token)]() mutable {
        auto self = weak.lock();
        if (!self || self->Stopped()) return;
        if (!token.ok()) {
          self->Finish(token.status().WithContext("getting a token for the model endpoint"));
          return;
        }
        self->SendAttempt({{"Authorization", "Bearer " + token.value()}});
      });
    });
  }

  void SendAttempt(net::Headers auth) {
    const auto& options = endpoint_->options;
    ResetAttempt();
    net::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = endpoint_->url;
    spec.headers = std::move(auth);
    spec.headers.emplace_back("Content-Type", "application/json");
    spec.headers.emplace_back("Accept", "text/event-stream");
    for (const auto& header : options.extra_headers) spec.headers.push_back(header);
    spec.body = body_;
    spec.traceparent = traceparent_;
    spec.connect_timeout = options.connect_timeout;
    spec.first_byte_timeout = options.first_token_timeout;
    spec.idle_timeout = options.idle_timeout;
    spec.total_timeout = options.total_timeout;

    net::HttpCallbacks http;
    auto self = shared_from_this();
    http.on_head = [self](const net::HttpResponseHead& head) {
      if (self->Stopped()) return;
      self->http_status_ = head.status;
      self->response_headers_ = head.headers;
    };
    http.on_body = [self](std::string_view bytes) {
      if (self->Stopped()) return;
      self->OnBody(bytes);
    };
    http.on_done = [self](const core::Status& status) {
      if (self->Stopped()) return;
      self->call_.reset();
      self->OnHttpDone(status);
    };
    attempt_started_ = Now();
    call_ = endpoint_->client->Send(std::move(spec), std::move(http), endpoint_->executor);
  }

  void ResetAttempt() {
    http_status_ = 0;
    response_headers_.clear();
    error_body_.clear();
    parser_ = net::SseParser();
    tool_calls_.clear();
    tool_calls_delivered_ = false;
    finish_reason_.clear();
    result_.usage = {};
    result_.finish_reason.clear();
    result_.first_token_ms = -1;
  }

  void OnBody(std::string_view bytes) {
    if (http_status_ != 200) {
      const size_t room = kMaxErrorBody - std::min(kMaxErrorBody, error_body_.size());
      error_body_.append(bytes.substr(0, room));
      return;
    }
    core::Status status = parser_.Push(bytes, [this](net::SseEvent event) {
      if (!Stopped()) OnEvent(event.data);
    });
    if (!status.ok() && !Stopped()) {
      FailAttempt(status.WithContext("model stream"), /*retryable=*/false, std::nullopt);
    }
  }

  void OnEvent(const std::string& data) {
    if (data == "[DONE]") {
      Complete();
      return;
    }
    json chunk = json::parse(data, nullptr, false);
    if (chunk.is_discarded() || !chunk.is_object()) {
      FailAttempt(
          core::UnavailableError("model stream: malformed JSON in a chunk: " + data.substr(0, 200)),
          /*retryable=*/false, std::nullopt);
      return;
    }
    if (auto error = chunk.find("error"); error != chunk.end() && !error->is_null()) {
      FailAttempt(core::UnavailableError("model stream error: " + ErrorMessageFromBody(data)),
                  /*retryable=*/false, std::nullopt);
      return;
    }
    if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
      result_.usage.prompt_tokens = IntField(*usage, "prompt_tokens", 0);
      result_.usage.completion_tokens = IntField(*usage, "completion_tokens", 0);
      result_.usage.total_tokens = IntField(*usage, "total_tokens", 0);
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return;
    // One completion is asked for (n = 1): use choice 0.
    const json* choice = nullptr;
    for (const auto& c : *choices) {
      if (c.is_object() && IntField(c, "index", 0) == 0) {
        choice = &c;
        break;
      }
    }
    if (choice == nullptr) return;
    if (auto delta = choice->find("delta"); delta != choice->end() && delta->is_object()) {
      if (!OnDelta(*delta)) return;
    }
    if (auto reason = choice->find("finish_reason");
        reason != choice->end() && reason->is_string()) {
      finish_reason_ = reason->get<std::string>();
      DeliverToolCalls();
    }
  }

  // False when a callback cancelled the stream.
  bool OnDelta(const json& delta) {
    if (auto calls = delta.find("tool_calls"); calls != delta.end() && calls->is_array()) {
      for (size_t i = 0; i < calls->size(); ++i) {
        const json& fragment = (*calls)[i];
        if (!fragment.is_object()) continue;
        const int64_t index = IntField(fragment, "index", static_cast<int64_t>(i));
        PartialToolCall& call = tool_calls_[index];
        if (auto id = fragment.find("id"); id != fragment.end() && id->is_string()) {
          call.id = id->get<std::string>();
        }
        if (auto fn = fragment.find("function"); fn != fragment.end() && fn->is_object()) {
          if (auto name = fn->find("name"); name != fn->end() && name->is_string()) {
            call.name += name->get<std::string>();
          }
          if (auto args = fn->find("arguments"); args != fn->end() && args->is_string()) {
            call.arguments += args->get<std::string>();
          }
        }
        MarkFirstToken();
      }
    }
    for (const char* field : {"content", "refusal"}) {
      auto text = delta.find(field);
      if (text == delta.end() || !text->is_string()) continue;
      const std::string& piece = text->get_ref<const std::string&>();
      if (piece.empty()) continue;
      MarkFirstToken();
      text_emitted_ = true;
      if (callbacks_.on_text) callbacks_.on_text(piece);
      if (Stopped()) return false;
    }
    return true;
  }

  void MarkFirstToken() {
    if (result_.first_token_ms < 0) {
      result_.first_token_ms = core::MillisBetween(attempt_started_, Now());
    }
  }

  void DeliverToolCalls() {
    if (tool_calls_delivered_) return;
    tool_calls_delivered_ = true;
    for (auto& [index, partial] : tool_calls_) {
      ToolCall call;
      call.id = partial.id.empty() ? core::NewId("call") : std::move(partial.id);
      call.name = std::move(partial.name);
      call.arguments = std::move(partial.arguments);
      if (callbacks_.on_tool_call) callbacks_.on_tool_call(std::move(call));
      if (Stopped()) return;
    }
    tool_calls_.clear();
  }

  void Complete() {
    DeliverToolCalls();
    if (Stopped()) return;
    endpoint_->breaker->RecordSuccess();
    Finish(core::OkStatus());
  }

  void OnHttpDone(const core::Status& status) {
    if (http_status_ == 200 || (!status.ok() && http_status_ == 0)) {
      if (!finish_reason_.empty()) {
        Complete();  // the reply is whole; a missing [DONE] or usage chunk is not worth failing
        return;
      }
      if (!status.ok()) {
        FailAttempt(status.WithContext("model stream"), /*retryable=*/true, std::nullopt);
      } else {
        FailAttempt(core::UnavailableError("model stream ended before finish_reason or [DONE]"),
                    /*retryable=*/true, std::nullopt);
      }
      return;
    }
    if (!status.ok() && error_body_.empty()) {
      FailAttempt(
          status.WithContext("model endpoint returned HTTP " + std::to_string(http_status_)),
          net::IsRetryableStatus(http_status_), std::nullopt);
      return;
    }
    core::Status error(CodeForHttpStatus(http_status_), "model endpoint returned HTTP " +
                                                            std::to_string(http_status_) + ": " +
                                                            ErrorMessageFromBody(error_body_));
    if (net::IsRetryableStatus(http_status_)) {
      FailAttempt(std::move(error), /*retryable=*/true,
                  net::RetryAfterFromHeaders(response_headers_, std::chrono::system_clock::now()));
      return;
    }
    endpoint_->breaker->RecordSuccess();  // the endpoint works; the request was refused
    Finish(std::move(error));
  }

  void FailAttempt(core::Status status, bool retryable, std::optional<core::Duration> retry_after) {
    if (call_) call_->Cancel();
    call_.reset();
    endpoint_->breaker->RecordFailure(Now());
    const auto& options = endpoint_->options;
    const int retries_done = result_.attempts - 1;
    if (!retryable || text_emitted_ || retries_done >= options.max_retries) {
      Finish(std::move(status));
      return;
    }
    const core::Duration delay = retry_after ? *retry_after : endpoint_->Backoff(retries_done);
    if (delay > options.max_retry_wait) {
      Finish(status.WithContext(
          "not retried: the server asked to wait " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()) +
          " ms, more than max_retry_wait"));
      return;
    }
    core::LogDebug("openai", "{}: attempt {} failed ({}), retrying in {} ms", endpoint_->name,
                   result_.attempts, status.ToString(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
    retry_timer_ = endpoint_->executor->RunAfter(
        delay, [self = shared_from_this(), status = std::move(status)] {
          if (self->Stopped()) return;
          self->retry_timer_.reset();
          if (!self->endpoint_->breaker->Allow(self->Now())) {
            self->Finish(core::UnavailableError(std::string(kCircuitOpen) +
                                                "; last error: " + status.message()));
            return;
          }
          ++self->result_.attempts;
          self->Authorize();
        });
  }

  void Finish(core::Status status) {
    if (finished_) return;
    finished_ = true;
    retry_timer_.reset();
    if (call_) call_->Cancel();
    call_.reset();
    result_.finish_reason = finish_reason_;
    if (!status.ok()) {
      core::LogWarn("openai", "{}: {}", endpoint_->name, status.ToString());
    }
    if (callbacks_.on_done && !cancelled_.load(std::memory_order_acquire)) {
      callbacks_.on_done(status, result_);
    }
  }

  std::shared_ptr<Endpoint> endpoint_;
  const std::string body_;
  const std::string traceparent_;  // W3C context of the caller's span (telemetry)
  ModelCallbacks callbacks_;
  std::atomic<bool> cancelled_{false};
  bool finished_ = false;
  std::unique_ptr<net::HttpCall> call_;
  std::unique_ptr<core::Timer> retry_timer_;
  ModelResult result_;
  bool text_emitted_ = false;

  // Per attempt.
  core::TimePoint attempt_started_{};
  int http_status_ = 0;
  net::Headers response_headers_;
  std::string error_body_;
  net::SseParser parser_;
  std::map<int64_t, PartialToolCall> tool_calls_;
  bool tool_calls_delivered_ = false;
  std::string finish_reason_;
};

class OpenAiStream final : public ModelStream {
 public:
  explicit OpenAiStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}
  ~OpenAiStream() override { Cancel(); }
  void Cancel() override {
    if (state_) state_->Cancel();
  }

 private:
  std::shared_ptr<StreamState> state_;
};

class OpenAiModel final : public Model {
 public:
  explicit OpenAiModel(std::shared_ptr<Endpoint> endpoint) : endpoint_(std::move(endpoint)) {}

  std::string name() const override { return endpoint_->name; }

  std::unique_ptr<ModelStream> Stream(const ModelRequest& request,
                                      ModelCallbacks callbacks) override {
    auto state = std::make_shared<StreamState>(
        endpoint_, BuildChatCompletionsBody(endpoint_->options, request), std::move(callbacks),
        request.traceparent);
    state->Start();
    return std::make_unique<OpenAiStream>(std::move(state));
  }

 private:
  std::shared_ptr<Endpoint> endpoint_;
};

core::Status Validate(const OpenAiModelOptions& o) {
  auto positive = [](std::chrono::milliseconds v, const char* name) -> core::Status {
    if (v.count() > 0) return core::OkStatus();
    return core::InvalidArgumentError(std::string("openai model option ") + name +
                                      " must be positive (got " + std::to_string(v.count()) +
                                      " ms)");
  };
  ARTAGENT_RETURN_IF_ERROR(positive(o.connect_timeout, "connect_timeout"));
  ARTAGENT_RETURN_IF_ERROR(positive(o.first_token_timeout, "first_token_timeout"));
  ARTAGENT_RETURN_IF_ERROR(positive(o.idle_timeout, "idle_timeout"));
  ARTAGENT_RETURN_IF_ERROR(positive(o.total_timeout, "total_timeout"));
  if (o.max_retries < 0 || o.max_retries > 10) {
    return core::InvalidArgumentError("openai model option max_retries must be 0..10 (got " +
                                      std::to_string(o.max_retries) + ")");
  }
  if (o.max_retry_wait.count() < 0) {
    return core::InvalidArgumentError("openai model option max_retry_wait must not be negative");
  }
  if (o.temperature && !(*o.temperature >= 0.0 && *o.temperature <= 2.0)) {
    return core::InvalidArgumentError("openai model option temperature must be within 0..2 (got " +
                                      std::to_string(*o.temperature) + ")");
  }
  if (o.max_tokens && *o.max_tokens <= 0) {
    return core::InvalidArgumentError("openai model option max_tokens must be positive (got " +
                                      std::to_string(*o.max_tokens) + ")");
  }
  if (o.max_tokens_field != "max_tokens" && o.max_tokens_field != "max_completion_tokens") {
    return core::InvalidArgumentError(
        "openai model option max_tokens_field must be max_tokens or max_completion_tokens (got '" +
        o.max_tokens_field + "')");
  }
  if (!o.shared_breaker && o.breaker.failure_threshold < 1) {
    return core::InvalidArgumentError(
        "openai model option breaker.failure_threshold must be at least 1");
  }
  return core::OkStatus();
}

}  // namespace

core::Result<std::string> ChatCompletionsUrl(const OpenAiModelOptions& options) {
  if (options.base_url.empty()) {
    return core::InvalidArgumentError(
        "openai model option base_url is required (e.g. https://api.openai.com/v1)");
  }
  ARTAGENT_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(options.base_url));
  std::string path = parts.path;
  if (!EndsWith(path, "/chat/completions")) path += "/chat/completions";
  std::string query = parts.query;
  if (IsAzureDeploymentPath(parts) && query.find("api-version=") == std::string::npos) {
    if (options.api_version.empty()) {
      return core::InvalidArgumentError(
          "openai model option api_version is required for Azure OpenAI deployment URLs "
          "(/openai/deployments/...), e.g. 2024-10-21");
    }
    query += (query.empty() ? "" : "&") + std::string("api-version=") + options.api_version;
  }
  return parts.scheme_host + path + (query.empty() ? "" : "?" + query);
}

std::string BuildChatCompletionsBody(const OpenAiModelOptions& options,
                                     const ModelRequest& request) {
  json body = json::object();
  if (!options.model.empty()) body["model"] = options.model;
  json messages = json::array();
  for (const ChatMessage& m : request.messages) {
    json msg = {{"role", RoleName(m.role)}};
    switch (m.role) {
      case ChatMessage::Role::kAssistant:
        if (m.tool_calls.empty()) {
          msg["content"] = m.content;
        } else {
          msg["content"] = m.content.empty() ? json(nullptr) : json(m.content);
          json calls = json::array();
          for (const ToolCall& call : m.tool_calls) {
            calls.push_back({{"id", call.id},
                             {"type", "function"},
                             {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
          }
          msg["tool_calls"] = std::move(calls);
        }
        break;
      case ChatMessage::Role::kTool:
        msg["tool_call_id"] = m.tool_call_id;
        msg["content"] = m.content;
        break;
      default:
        msg["content"] = m.content;
        break;
    }
    messages.push_back(std::move(msg));
  }
  body["messages"] = std::move(messages);
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const ToolSpec& tool : request.tools) {
      json fn = {{"name", tool.name}, {"parameters", tool.parameters}};
      if (!tool.description.empty()) fn["description"] = tool.description;
      tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    body["tools"] = std::move(tools);
    body["tool_choice"] = "auto";
    body["parallel_tool_calls"] = options.parallel_tool_calls;
  }
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.max_tokens) body[options.max_tokens_field] = *options.max_tokens;
  body["stream"] = true;
  if (options.include_usage) body["stream_options"] = {{"include_usage", true}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<std::unique_ptr<Model>> CreateOpenAiModel(const OpenAiModelOptions& options,
                                                       net::HttpClient* client,
                                                       std::shared_ptr<core::Executor> executor) {
  if (client == nullptr) return core::InvalidArgumentError("CreateOpenAiModel: no HTTP client");
  if (!executor) return core::InvalidArgumentError("CreateOpenAiModel: no executor");
  ARTAGENT_RETURN_IF_ERROR(Validate(options));
  ARTAGENT_ASSIGN_OR_RETURN(std::string url, ChatCompletionsUrl(options));
  ARTAGENT_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(options.base_url));
  const std::string deployment = DeploymentName(parts);
  if (options.model.empty() && deployment.empty()) {
    return core::InvalidArgumentError(
        "openai model option model is required (the model name, or the deployment name for "
        "Azure /openai/v1 URLs)");
  }

  auto endpoint = std::make_shared<Endpoint>();
  endpoint->options = options;
  endpoint->url = std::move(url);
  endpoint->name = "openai:" + (options.model.empty() ? deployment : options.model);
  switch (options.auth) {
    case OpenAiModelOptions::Auth::kAuto:
      endpoint->api_key_header = IsAzure(parts);
      break;
    case OpenAiModelOptions::Auth::kBearer:
      endpoint->api_key_header = false;
      break;
    case OpenAiModelOptions::Auth::kApiKey:
      endpoint->api_key_header = true;
      break;
  }
  endpoint->client = client;
  endpoint->executor = std::move(executor);
  endpoint->breaker = options.shared_breaker
                          ? options.shared_breaker
                          : std::make_shared<net::CircuitBreaker>(options.breaker);
  endpoint->rng.seed(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}());
  return std::unique_ptr<Model>(std::make_unique<OpenAiModel>(std::move(endpoint)));
}

}  // namespace artagent::agent
