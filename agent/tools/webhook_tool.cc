#include "agent/tools/webhook_tool.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include "core/log.h"

namespace artagent::agent {
namespace {

using core::Status;
using nlohmann::json;

constexpr int kMaxRetries = 5;
constexpr int64_t kMaxTimeoutMs = 300000;
constexpr size_t kExcerptBytes = 200;
constexpr std::chrono::milliseconds kTimeoutGrace{1000};
constexpr std::string_view kSecretScheme = "secret://";

// ---- YAML ----

class ParseContext {
 public:
  ParseContext(const std::string& file, std::string name) : file_(file), name_(std::move(name)) {}
  void set_name(std::string name) { name_ = std::move(name); }

  Status Error(const YAML::Node& at, const std::string& what) const {
    int line = at.IsDefined() ? at.Mark().line + 1 : 0;
    std::string where = line > 0 ? fmt::format("{}:{}", file_, line) : file_;
    if (name_.empty()) return core::InvalidArgumentError(fmt::format("{}: tool: {}", where, what));
    return core::InvalidArgumentError(fmt::format("{}: tool '{}': {}", where, name_, what));
  }

 private:
  const std::string& file_;
  std::string name_;
};

core::Result<std::string> ScalarText(const YAML::Node& node, const std::string& key,
                                     const ParseContext& ctx) {
  if (!node.IsScalar()) return ctx.Error(node, fmt::format("'{}' must be text", key));
  return node.Scalar();
}

core::Result<bool> ScalarBool(const YAML::Node& node, const std::string& key,
                              const ParseContext& ctx) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return ctx.Error(node, fmt::format("'{}' must be true or false", key));
  }
  return value;
}

core::Result<int64_t> ScalarInt(const YAML::Node& node, const std::string& key, int64_t min,
                                int64_t max, const ParseContext& ctx) {
  int64_t value = 0;
  if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, value) || value < min ||
      value > max) {
    return ctx.Error(node, fmt::format("'{}' must be a whole number from {} to {}", key, min, max));
  }
  return value;
}

// YAML as JSON: plain scalars become booleans, numbers or null when they read as one; quoted
// scalars stay strings ("2" in quotes is the string "2").
core::Result<json> YamlToJson(const YAML::Node& node, const ParseContext& ctx) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") return json(text);
      if (text == "~" || text == "null" || text == "Null" || text == "NULL") return json(nullptr);
      bool b = false;
      if (YAML::convert<bool>::decode(node, b)) return json(b);
      int64_t i = 0;
      if (YAML::convert<int64_t>::decode(node, i)) return json(i);
      double d = 0;
      if (!text.empty() &&
          (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '.') &&
          YAML::convert<double>::decode(node, d)) {
        return json(d);
      }
      return json(text);
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        ARTAGENT_ASSIGN_OR_RETURN(json value, YamlToJson(item, ctx));
        out.push_back(std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) return ctx.Error(item.first, "map keys must be text");
        ARTAGENT_ASSIGN_OR_RETURN(json value, YamlToJson(item.second, ctx));
        out[item.first.Scalar()] = std::move(value);
      }
      return out;
    }
  }
  return json(nullptr);
}

bool IsToolName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool IsHeaderName(const std::string& name) {
  static const std::string kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != std::string::npos;
  });
}

bool HasLineBreak(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Headers the client or the tool itself sets.
bool IsReservedHeader(const std::string& name) {
  for (const char* reserved : {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                               "Content-Type", "X-Artagent-Session", "X-Artagent-Agent"}) {
    if (EqualsIgnoreCase(name, reserved)) return true;
  }
  return false;
}

core::Result<WebhookAuth> ParseAuth(const YAML::Node& node, const ParseContext& ctx) {
  if (!node.IsMap()) {
    return ctx.Error(node, "'auth' must be a map {header, scheme, secret: secret://NAME}");
  }
  WebhookAuth auth;
  bool has_secret = false;
  for (const auto& item : node) {
    std::string key = item.first.Scalar();
    if (key == "header") {
      ARTAGENT_ASSIGN_OR_RETURN(auth.header, ScalarText(item.second, "auth.header", ctx));
      if (!IsHeaderName(auth.header)) {
        return ctx.Error(item.second, fmt::format("'{}' is not a header name", auth.header));
      }
    } else if (key == "scheme") {
      ARTAGENT_ASSIGN_OR_RETURN(auth.scheme, ScalarText(item.second, "auth.scheme", ctx));
      if (HasLineBreak(auth.scheme) || auth.scheme.find(' ') != std::string::npos) {
        return ctx.Error(item.second, "'auth.scheme' must be one word, e.g. Bearer");
      }
    } else if (key == "secret") {
      ARTAGENT_ASSIGN_OR_RETURN(auth.secret_ref, ScalarText(item.second, "auth.secret", ctx));
      if (auth.secret_ref.rfind(kSecretScheme, 0) != 0 ||
          auth.secret_ref.size() == kSecretScheme.size()) {
        return ctx.Error(item.second,
                         "'auth.secret' must be a reference like secret://NAME, never the secret "
                         "itself");
      }
      has_secret = true;
    } else {
      return ctx.Error(item.first,
                       fmt::format("unknown key 'auth.{}' (known: header, scheme, secret)", key));
    }
  }
  if (!has_secret) return ctx.Error(node, "'auth' needs 'secret: secret://NAME'");
  return auth;
}

// ---- Requests ----

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// Top-level arguments as key=value pairs; strings as they are, other values as JSON text.
std::string WithQuery(const std::string& url, const json& args) {
  std::string query;
  if (args.is_object()) {
    for (const auto& [key, value] : args.items()) {
      if (value.is_null()) continue;
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      query += (query.empty() ? "" : "&") + PercentEncode(key) + "=" + PercentEncode(text);
    }
  }
  if (query.empty()) return url;
  std::string base = url;
  std::string fragment;
  if (size_t hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  return base + (base.find('?') == std::string::npos ? "?" : "&") + query + fragment;
}

std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kExcerptBytes)) {
    out.push_back(std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c);
  }
  if (body.size() > kExcerptBytes) out += "...";
  return out;
}

core::StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
    case 422:
      return core::StatusCode::kInvalidArgument;
    case 401:
      return core::StatusCode::kUnauthenticated;
    case 403:
      return core::StatusCode::kPermissionDenied;
    case 404:
      return core::StatusCode::kNotFound;
    case 409:
      return core::StatusCode::kFailedPrecondition;
    case 429:
      return core::StatusCode::kResourceExhausted;
    default:
      return status >= 500 || status == 408 ? core::StatusCode::kUnavailable
                                            : core::StatusCode::kInternal;
  }
}

ToolResult Failure(Status status) {
  ToolResult result;
  result.output = json{{"error", status.message()}};
  result.status = std::move(status);
  return result;
}

// What every call of one tool shares.
struct WebhookShared {
  WebhookToolConfig config;
  net::HttpClient* client = nullptr;
  std::string auth_value;  // "Bearer <secret>", or "" without auth
  WebhookToolOptions options;
  std::mutex rng_mu;
  std::mt19937_64 rng;

  core::Duration Backoff(int retry) {
    std::lock_guard lock(rng_mu);
    return net::BackoffDelay(options.backoff, retry, rng);
  }
};

// One call, from Invoke() to `done`. After Start() everything runs on the context's executor.
class WebhookCall : public std::enable_shared_from_this<WebhookCall> {
 public:
  WebhookCall(std::shared_ptr<WebhookShared> shared, net::HttpRequestSpec request,
              std::shared_ptr<core::Executor> executor, std::function<void(ToolResult)> done)
      : shared_(std::move(shared)),
        request_(std::move(request)),
        executor_(std::move(executor)),
        done_(std::move(done)) {}

  void Start() {
    deadline_ =
        executor_->Now() + std::chrono::duration_cast<core::Duration>(shared_->config.timeout);
    Attempt();
  }

  void Cancel() {
    cancelled_ = true;
    call_.reset();
    timer_.reset();
    done_ = nullptr;
  }

 private:
  const std::string& name() const { return shared_->config.name; }

  void Attempt() {
    if (cancelled_) return;
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - executor_->Now());
    if (remaining.count() <= 0) {
      Finish(Failure(core::DeadlineExceededError(fmt::format(
          "webhook '{}' timed out after {} ms", name(), shared_->config.timeout.count()))));
      return;
    }
    ++attempts_;
    status_ = 0;
    response_headers_.clear();
    body_.clear();
    net::HttpRequestSpec spec = request_;
    spec.connect_timeout = std::min(spec.connect_timeout, remaining);
    spec.first_byte_timeout = remaining;
    spec.idle_timeout = remaining;
    spec.total_timeout = remaining;

    auto self = shared_from_this();
    net::HttpCallbacks callbacks;
    callbacks.on_head = [self](const net::HttpResponseHead& head) { self->OnHead(head); };
    callbacks.on_body = [self](std::string_view chunk) { self->OnBody(chunk); };
    callbacks.on_done = [self](const Status& status) { self->OnDone(status); };
    call_ = shared_->client->Send(std::move(spec), std::move(callbacks), executor_);
  }

  void OnHead(const net::HttpResponseHead& head) {
    status_ = head.status;
    response_headers_ = head.headers;
    std::string length = head.Header("Content-Length");
    if (!length.empty() &&
        std::strtoull(length.c_str(), nullptr, 10) > shared_->options.max_response_bytes) {
      TooLarge();
    }
  }

  void OnBody(std::string_view chunk) {
    if (finished_) return;
    body_.append(chunk);
    if (body_.size() > shared_->options.max_response_bytes) TooLarge();
  }

  void TooLarge() {
    Finish(Failure(core::ResourceExhaustedError(
        fmt::format("webhook '{}' answered with more than {} KiB", name(),
                    shared_->options.max_response_bytes / 1024))));
  }

  void OnDone(const Status& status) {
    if (finished_ || cancelled_) return;
    if (!status.ok()) {
      Status error(status.code(),
                   fmt::format("webhook '{}': {}{}", name(), status.message(), AttemptsNote()));
      if (status.code() == core::StatusCode::kUnavailable && MayRetry()) {
        Retry(std::nullopt, std::move(error));
      } else {
        Finish(Failure(std::move(error)));
      }
      return;
    }
    if (status_ >= 200 && status_ < 300) {
      Finish(ParseBody());
      return;
    }
    Status error(CodeForHttpStatus(status_),
                 fmt::format("webhook '{}' answered HTTP {}{}{}", name(), status_,
                             body_.empty() ? "" : ": " + Excerpt(body_), AttemptsNote()));
    if (net::IsRetryableStatus(status_) && MayRetry()) {
      Retry(net::RetryAfterFromHeaders(response_headers_, std::chrono::system_clock::now()),
            std::move(error));
    } else {
      Finish(Failure(std::move(error)));
    }
  }

  ToolResult ParseBody() {
    ToolResult result;
    if (body_.find_first_not_of(" \t\r\n") == std::string::npos) return result;  // {}
    json value = json::parse(body_, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return Failure(core::InternalError(
          fmt::format("webhook '{}': tool returned invalid JSON: {}", name(), Excerpt(body_))));
    }
    result.output = value.is_object() ? std::move(value) : json{{"result", std::move(value)}};
    return result;
  }

  bool MayRetry() const {
    return shared_->config.idempotent && attempts_ <= shared_->config.retries;
  }

  std::string AttemptsNote() const {
    return attempts_ > 1 ? fmt::format(" (after {} attempts)", attempts_) : "";
  }

  // Waits the back-off (or the server's longer hint) and tries again, unless the wait would run
  // past the deadline: then `error` is the answer.
  void Retry(std::optional<core::Duration> hint, Status error) {
    call_.reset();
    core::Duration delay = shared_->Backoff(attempts_ - 1);
    if (hint && *hint > delay) delay = *hint;
    if (executor_->Now() + delay >= deadline_) {
      Finish(Failure(std::move(error)));
      return;
    }
    core::LogInfo("tools", "webhook '{}' attempt {} failed ({}); retrying in {} ms", name(),
                  attempts_, error.message(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
    auto self = shared_from_this();
    timer_ = executor_->RunAfter(delay, [self] { self->Attempt(); });
  }

  void Finish(ToolResult result) {
    if (finished_ || cancelled_) return;
    finished_ = true;
    call_.reset();
    timer_.reset();
    auto done = std::move(done_);
    done_ = nullptr;
    if (!result.status.ok()) {
      core::LogWarn("tools", "{}", result.status.message());
    }
    if (done) done(std::move(result));
  }

  std::shared_ptr<WebhookShared> shared_;
  const net::HttpRequestSpec request_;
  std::shared_ptr<core::Executor> executor_;
  std::function<void(ToolResult)> done_;
  core::TimePoint deadline_;
  int attempts_ = 0;
  int status_ = 0;
  net::Headers response_headers_;
  std::string body_;
  std::unique_ptr<net::HttpCall> call_;
  std::unique_ptr<core::Timer> timer_;
  bool finished_ = false;
  bool cancelled_ = false;
};

class WebhookRun : public ToolRun {
 public:
  explicit WebhookRun(std::shared_ptr<WebhookCall> call) : call_(std::move(call)) {}
  void Cancel() override {
    if (call_) call_->Cancel();
  }

 private:
  std::shared_ptr<WebhookCall> call_;
};

class WebhookTool : public Tool {
 public:
  explicit WebhookTool(std::shared_ptr<WebhookShared> shared) : shared_(std::move(shared)) {
    spec_.name = shared_->config.name;
    spec_.description = shared_->config.description;
    spec_.parameters = shared_->config.parameters;
  }

  const ToolSpec& spec() const override { return spec_; }
  bool idempotent() const override { return shared_->config.idempotent; }
  std::chrono::milliseconds timeout() const override {
    return shared_->config.timeout + kTimeoutGrace;
  }

  std::unique_ptr<ToolRun> Invoke(const json& args, const ToolContext& context,
                                  std::function<void(ToolResult)> done) override {
    if (!context.executor) {
      done(Failure(core::InternalError(
          fmt::format("webhook '{}' was called without an executor", spec_.name))));
      return std::make_unique<WebhookRun>(nullptr);
    }
    const WebhookToolConfig& config = shared_->config;
    net::HttpRequestSpec request;
    request.method = config.method;
    request.headers = config.headers;
    if (config.method == "GET") {
      request.url = WithQuery(config.url, args);
    } else {
      request.url = config.url;
      request.body = args.dump();
      request.headers.emplace_back("Content-Type", "application/json");
    }
    request.headers.emplace_back("Accept", "application/json");
    request.headers.emplace_back("X-Artagent-Session", context.session_id);
    request.headers.emplace_back("X-Artagent-Agent", context.agent);
    if (config.auth) request.headers.emplace_back(config.auth->header, shared_->auth_value);
    request.traceparent = context.traceparent;

    auto call = std::make_shared<WebhookCall>(shared_, std::move(request), context.executor,
                                              std::move(done));
    call->Start();
    return std::make_unique<WebhookRun>(std::move(call));
  }

 private:
  std::shared_ptr<WebhookShared> shared_;
  ToolSpec spec_;
};

}  // namespace

core::Result<WebhookToolConfig> ParseWebhookTool(const YAML::Node& node, const std::string& file) {
  ParseContext ctx(file, "");
  if (!node.IsMap()) return ctx.Error(node, "each entry of 'tools' must be a map");
  WebhookToolConfig config;
  config.file = file;
  config.line = node.Mark().line + 1;

  // The name first, so that every later message can give it.
  const YAML::Node name = node["name"];
  if (!name) return ctx.Error(node, "'name' is required");
  ARTAGENT_ASSIGN_OR_RETURN(config.name, ScalarText(name, "name", ctx));
  if (!IsToolName(config.name)) {
    return ctx.Error(name, fmt::format("name '{}' cannot be called by a model: use 1 to 64 "
                                       "letters, digits, '_' or '-'",
                                       config.name));
  }
  ctx.set_name(config.name);

  std::optional<bool> idempotent;
  std::optional<int> retries;
  YAML::Node retries_node;
  bool has_url = false;
  for (const auto& item : node) {
    const std::string key = item.first.Scalar();
    const YAML::Node& value = item.second;
    if (key == "name") {
      continue;
    } else if (key == "type") {
      ARTAGENT_ASSIGN_OR_RETURN(std::string type, ScalarText(value, "type", ctx));
      if (type != "webhook") {
        return ctx.Error(value, fmt::format("type '{}' is not 'webhook'", type));
      }
    } else if (key == "description") {
      ARTAGENT_ASSIGN_OR_RETURN(config.description, ScalarText(value, "description", ctx));
    } else if (key == "url") {
      ARTAGENT_ASSIGN_OR_RETURN(config.url, ScalarText(value, "url", ctx));
      if ((config.url.rfind("http://", 0) != 0 && config.url.rfind("https://", 0) != 0) ||
          config.url.find_first_of(" \t\r\n") != std::string::npos) {
        return ctx.Error(value,
                         fmt::format("url '{}' must start with http:// or https://", config.url));
      }
      has_url = true;
    } else if (key == "method") {
      ARTAGENT_ASSIGN_OR_RETURN(std::string method, ScalarText(value, "method", ctx));
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (method != "POST" && method != "GET") {
        return ctx.Error(value, fmt::format("method '{}' is not POST or GET", value.Scalar()));
      }
      config.method = method;
    } else if (key == "parameters") {
      ARTAGENT_ASSIGN_OR_RETURN(json schema, YamlToJson(value, ctx));
      if (!schema.is_object() || schema.value("type", "") != "object") {
        return ctx.Error(value, "'parameters' must be a JSON Schema with 'type: object'");
      }
      if (!schema.contains("properties")) schema["properties"] = json::object();
      config.parameters = std::move(schema);
    } else if (key == "headers") {
      if (!value.IsMap()) return ctx.Error(value, "'headers' must be a map of name: value");
      for (const auto& header : value) {
        std::string header_name = header.first.Scalar();
        if (!IsHeaderName(header_name)) {
          return ctx.Error(header.first, fmt::format("'{}' is not a header name", header_name));
        }
        if (IsReservedHeader(header_name)) {
          return ctx.Error(header.first,
                           fmt::format("header '{}' is set by artagent itself", header_name));
        }
        ARTAGENT_ASSIGN_OR_RETURN(std::string header_value,
                                  ScalarText(header.second, "headers." + header_name, ctx));
        if (HasLineBreak(header_value)) {
          return ctx.Error(header.second, "header values must be one line");
        }
        config.headers.emplace_back(std::move(header_name), std::move(header_value));
      }
    } else if (key == "auth") {
      ARTAGENT_ASSIGN_OR_RETURN(WebhookAuth auth, ParseAuth(value, ctx));
      config.auth = std::move(auth);
    } else if (key == "timeout_ms") {
      ARTAGENT_ASSIGN_OR_RETURN(int64_t ms, ScalarInt(value, "timeout_ms", 1, kMaxTimeoutMs, ctx));
      config.timeout = std::chrono::milliseconds(ms);
    } else if (key == "idempotent") {
      ARTAGENT_ASSIGN_OR_RETURN(idempotent, ScalarBool(value, "idempotent", ctx));
    } else if (key == "retries") {
      ARTAGENT_ASSIGN_OR_RETURN(int64_t n, ScalarInt(value, "retries", 0, kMaxRetries, ctx));
      retries = static_cast<int>(n);
      retries_node = value;
    } else {
      return ctx.Error(item.first,
                       fmt::format("unknown key '{}' (known: name, description, url, method, "
                                   "parameters, headers, auth, timeout_ms, idempotent, retries)",
                                   key));
    }
  }
  if (!has_url) return ctx.Error(node, "'url' is required");
  if (config.description.empty()) {
    return ctx.Error(node, "'description' is required: it tells the model when to call the tool");
  }
  config.idempotent = idempotent.value_or(config.method == "GET");
  if (retries && *retries > 0 && !config.idempotent) {
    return ctx.Error(retries_node,
                     "'retries' needs 'idempotent: true': a call that changes something is sent "
                     "once");
  }
  config.retries = retries.value_or(config.idempotent ? 2 : 0);
  if (config.auth) {
    for (const auto& [header_name, unused] : config.headers) {
      if (EqualsIgnoreCase(header_name, config.auth->header)) {
        return ctx.Error(node["headers"],
                         fmt::format("header '{}' is also set by 'auth'", header_name));
      }
    }
  }
  return config;
}

core::Result<std::unique_ptr<Tool>> MakeWebhookTool(WebhookToolConfig config,
                                                    net::HttpClient* client,
                                                    const SecretResolver& resolve_secret,
                                                    WebhookToolOptions options) {
  if (client == nullptr) return core::InvalidArgumentError("webhook tools need an HTTP client");
  auto shared = std::make_shared<WebhookShared>();
  if (config.auth) {
    if (!resolve_secret) {
      return core::FailedPreconditionError(
          fmt::format("{}:{}: tool '{}': no secret resolver for {}", config.file, config.line,
                      config.name, config.auth->secret_ref));
    }
    core::Result<std::string> secret = resolve_secret(config.auth->secret_ref);
    if (!secret.ok()) {
      return secret.status().WithContext(fmt::format("{}:{}: tool '{}': auth.secret {}",
                                                     config.file, config.line, config.name,
                                                     config.auth->secret_ref));
    }
    if (HasLineBreak(*secret)) {
      return core::InvalidArgumentError(
          fmt::format("{}:{}: tool '{}': the secret {} contains a line break", config.file,
                      config.line, config.name, config.auth->secret_ref));
    }
    shared->auth_value =
        config.auth->scheme.empty() ? *secret : config.auth->scheme + " " + *secret;
  }
  shared->config = std::move(config);
  shared->client = client;
  shared->options = options;
  shared->rng.seed(options.seed != 0 ? options.seed : std::random_device{}());
  return std::unique_ptr<Tool>(std::make_unique<WebhookTool>(std::move(shared)));
}

core::Result<std::string> ResolveSecretFromEnvironment(const std::string& ref) {
  if (ref.rfind(kSecretScheme, 0) != 0) {
    return core::InvalidArgumentError(
        fmt::format("'{}' is not a secret reference (secret://NAME)", ref));
  }
  std::string name = ref.substr(kSecretScheme.size());
  const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    return core::NotFoundError(
        fmt::format("secret {} not found: set the environment variable {}", ref, name));
  }
  return std::string(value);
}

}  // namespace artagent::agent
