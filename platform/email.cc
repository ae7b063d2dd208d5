#include "platform/email.h"

#include <map>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/ids.h"
#include "core/log.h"
#include "net/acs_auth.h"
#include "net/url.h"
#include "platform/identity.h"

namespace artagent::platform {
namespace {

using json = nlohmann::json;

constexpr const char* kScope = "https://communication.azure.com/.default";

// The service's error message from an error body ({"error":{"code","message"}}), else "".
std::string ErrorMessage(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    return code.empty() ? message : code + ": " + message;
  }
  return "";
}

class EmailSenderImpl;

struct Operation {
  EmailMessage message;
  std::string body;
  std::string operation_id;
  std::function<void(core::Result<EmailResult>)> done;
  int attempt = 0;
  core::Status last_error;
  std::string poll_url;
  core::TimePoint poll_deadline{};
  std::unique_ptr<net::HttpCall> call;
  std::unique_ptr<core::Timer> timer;
};

// Everything lives on `executor`; the sender's destructor stops it there.
struct Core : std::enable_shared_from_this<Core> {
  EmailOptions options;
  net::HttpClient* http = nullptr;
  std::shared_ptr<core::Executor> executor;
  std::string endpoint;    // https://NAME.communication.azure.com (no trailing '/')
  std::string access_key;  // HMAC; empty = Entra
  std::mt19937_64 rng;
  bool stopped = false;
  std::map<Operation*, std::shared_ptr<Operation>> ops;

  std::chrono::system_clock::time_point WallNow() const {
    return options.wall_clock ? options.wall_clock() : std::chrono::system_clock::now();
  }

  void Start(std::shared_ptr<Operation> op) {
    if (stopped) return;
    ops[op.get()] = op;
    op->body = EmailRequestBody(options.sender, op->message);
    op->operation_id = core::UuidFromBits(rng(), rng());
    SendRequest(op);
  }

  void Finish(const std::shared_ptr<Operation>& op, core::Result<EmailResult> result) {
    ops.erase(op.get());
    op->call.reset();
    op->timer.reset();
    if (!stopped && op->done) op->done(std::move(result));
  }

  // Headers proving who we are for one request, then `next` (on the executor).
  void Authorize(const std::string& method, const std::string& url, const std::string& body,
                 std::function<void(core::Result<net::Headers>)> next) {
    if (!access_key.empty()) {
      auto parsed = net::ParseUrl(url);
      if (!parsed.ok()) return next(parsed.status());
      auto signed_headers = net::SignAcsRequest(method, parsed->target, parsed->host_header,
                                                net::HttpDate(WallNow()), body, access_key);
      if (!signed_headers.ok()) return next(signed_headers.status());
      net::Headers h;
      h.emplace_back("x-ms-date", signed_headers->date);
      h.emplace_back("x-ms-content-sha256", signed_headers->content_sha256);
      h.emplace_back("Authorization", signed_headers->authorization);
      return next(std::move(h));
    }
    std::weak_ptr<Core> weak = weak_from_this();
    auto ex = executor;
    options.credential->GetToken(kScope, [weak, ex, next](core::Result<AccessToken> token) {
      ex->Post([weak, next, token = std::move(token)] {
        auto self = weak.lock();
        if (!self || self->stopped) return;
        if (!token.ok()) return next(token.status().WithContext("e-mail Entra token"));
        next(net::Headers{{"Authorization", "Bearer " + token->token}});
      });
    });
  }

  void Call(const std::shared_ptr<Operation>& op, const std::string& method, const std::string& url,
            std::string body, std::function<void(core::Result<net::HttpResponse>)> next) {
    std::weak_ptr<Core> weak = weak_from_this();
    Authorize(method, url, body,
              [weak, op, method, url, body, next](core::Result<net::Headers> headers) mutable {
                auto self = weak.lock();
                if (!self || self->stopped) return;
                if (!headers.ok()) return self->Finish(op, headers.status());
                net::HttpRequestSpec req;
                req.method = method;
                req.url = url;
                req.headers = std::move(headers).value();
                if (method == "POST") {
                  req.headers.emplace_back("Content-Type", "application/json");
                  req.headers.emplace_back("Operation-Id", op->operation_id);
                  req.headers.emplace_back("x-ms-client-request-id", core::NewUuid());
                }
                req.body = std::move(body);
                req.first_byte_timeout = std::chrono::seconds(30);
                req.total_timeout = std::chrono::seconds(60);
                op->call = self->http->Fetch(
                    std::move(req),
                    [weak, next](core::Result<net::HttpResponse> r) {
                      auto s = weak.lock();
                      if (!s || s->stopped) return;
                      next(std::move(r));
                    },
                    self->executor);
              });
  }

  // Another try of the same request after back-off (and the server's hint), or the end.
  bool Retry(const std::shared_ptr<Operation>& op, core::Status why, core::Duration hint,
             std::function<void()> again) {
    op->last_error = why;
    if (op->attempt >= options.max_retries) {
      Finish(op, core::UnavailableError("e-mail: " + why.message() + " (after " +
                                        std::to_string(op->attempt + 1) + " attempts)"));
      return false;
    }
    core::Duration delay = net::BackoffDelay(options.backoff, op->attempt, rng);
    delay = std::max(delay, std::min(hint, options.max_retry_after));
    ++op->attempt;
    core::LogInfo("email", "operation {}: {}; retrying in {} ms", op->operation_id, why.message(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
    op->timer = executor->RunAfter(delay, std::move(again));
    return true;
  }

  core::Duration Hint(const net::HttpResponse& r) const {
    return net::RetryAfterFromHeaders(r.headers, WallNow()).value_or(core::Duration(0));
  }

  // Maps a final error status to a Status; nullopt when the status is worth a retry.
  static std::optional<core::Status> Final(const std::string& what, const net::HttpResponse& r) {
    if (net::IsRetryableStatus(r.status)) return std::nullopt;
    std::string msg = what + ": HTTP " + std::to_string(r.status);
    const std::string detail = ErrorMessage(r.body);
    if (!detail.empty()) msg += " (" + detail + ")";
    if (r.status == 401 || r.status == 403) {
      return core::UnauthenticatedError(msg + ": check email.connection_string / the identity");
    }
    if (r.status >= 400 && r.status < 500) return core::InvalidArgumentError(msg);
    return core::UnavailableError(msg);
  }

  void SendRequest(std::shared_ptr<Operation> op) {
    const std::string url = endpoint + "/emails:send?api-version=" + options.api_version;
    std::weak_ptr<Core> weak = weak_from_this();
    Call(op, "POST", url, op->body, [weak, op](core::Result<net::HttpResponse> r) {
      auto self = weak.lock();
      if (!self) return;
      auto again = [weak, op] {
        if (auto s = weak.lock()) s->SendRequest(op);
      };
      if (!r.ok()) {
        self->Retry(op, r.status(), core::Duration(0), again);
        return;
      }
      if (r->status == 202 || r->status == 200) {
        op->attempt = 0;
        op->poll_url = r->Header("Operation-Location");
        if (op->poll_url.empty()) {
          op->poll_url = self->endpoint + "/emails/operations/" + op->operation_id +
                         "?api-version=" + self->options.api_version;
        }
        op->poll_deadline = self->executor->Now() + self->options.poll_timeout;
        json j = json::parse(r->body, nullptr, false);
        if (j.is_object() && j.value("status", "") == "Succeeded") {
          self->Finish(op, EmailResult{op->operation_id, "Succeeded"});
          return;
        }
        self->SchedulePoll(op, self->Hint(*r));
        return;
      }
      if (auto final = Final("e-mail send", *r)) {
        self->Finish(op, *final);
        return;
      }
      self->Retry(op, core::UnavailableError("e-mail send: HTTP " + std::to_string(r->status)),
                  self->Hint(*r), again);
    });
  }

  void SchedulePoll(const std::shared_ptr<Operation>& op, core::Duration hint) {
    const core::Duration delay = hint > core::Duration(0) ? std::min(hint, options.max_retry_after)
                                                          : options.default_poll_interval;
    std::weak_ptr<Core> weak = weak_from_this();
    op->timer = executor->RunAfter(delay, [weak, op] {
      if (auto s = weak.lock()) s->Poll(op);
    });
  }

  void Poll(std::shared_ptr<Operation> op) {
    if (executor->Now() > op->poll_deadline) {
      Finish(op, core::DeadlineExceededError("e-mail operation " + op->operation_id +
                                             " still running after " +
                                             std::to_string(options.poll_timeout.count()) + " s"));
      return;
    }
    std::weak_ptr<Core> weak = weak_from_this();
    Call(op, "GET", op->poll_url, "", [weak, op](core::Result<net::HttpResponse> r) {
      auto self = weak.lock();
      if (!self) return;
      auto again = [weak, op] {
        if (auto s = weak.lock()) s->Poll(op);
      };
      if (!r.ok()) {
        self->Retry(op, r.status(), core::Duration(0), again);
        return;
      }
      if (r->status != 200) {
        if (auto final = Final("e-mail status", *r)) {
          self->Finish(op, *final);
          return;
        }
        self->Retry(op, core::UnavailableError("e-mail status: HTTP " + std::to_string(r->status)),
                    self->Hint(*r), again);
        return;
      }
      op->attempt = 0;
      json j = json::parse(r->body, nullptr, false);
      const std::string status = j.is_object() ? j.value("status", "") : "";
      if (status == "Succeeded") {
        self->Finish(op, EmailResult{op->operation_id, status});
      } else if (status == "Failed" || status == "Canceled") {
        std::string detail = ErrorMessage(r->body);
        self->Finish(op, core::UnavailableError("e-mail operation " + status +
                                                (detail.empty() ? "" : ": " + detail)));
      } else if (status == "NotStarted" || status == "Running") {
        self->SchedulePoll(op, self->Hint(*r));
      } else {
        self->Finish(op, core::UnavailableError("e-mail status: unexpected answer"));
      }
    });
  }
};

class EmailSenderImpl final : public EmailSender {
 public:
  explicit EmailSenderImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~EmailSenderImpl() override {
    core_->executor->Post([core = core_] {
      core->stopped = true;
      for (auto& [ptr, op] : core->ops) {
        if (op->call) op->call->Cancel();
        op->call.reset();
        op->timer.reset();
      }
      core->ops.clear();
    });
  }

  void Send(EmailMessage message, std::function<void(core::Result<EmailResult>)> done) override {
    auto op = std::make_shared<Operation>();
    op->message = std::move(message);
    op->done = std::move(done);
    core_->executor->Post([core = core_, op] { core->Start(op); });
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::string EmailRequestBody(const std::string& sender, const EmailMessage& message) {
  json to = json::array();
  for (const auto& a : message.to) to.push_back({{"address", a}});
  json content = {{"subject", message.subject}, {"plainText", message.plain_text}};
  if (!message.html.empty()) content["html"] = message.html;
  json body = {{"senderAddress", sender},
               {"recipients", {{"to", to}}},
               {"content", content},
               {"userEngagementTrackingDisabled", true}};
  if (!message.attachments.empty()) {
    json attachments = json::array();
    for (const auto& a : message.attachments) {
      attachments.push_back({{"name", a.name},
                             {"contentType", a.content_type},
                             {"contentInBase64", core::Base64Encode(a.content)}});
    }
    body["attachments"] = attachments;
  }
  if (!message.correlation_id.empty()) {
    body["headers"] = {{"ClientCorrelationId", message.correlation_id}};
  }
  return body.dump();
}

core::Result<std::unique_ptr<EmailSender>> EmailSender::Create(
    EmailOptions options, net::HttpClient* http, std::shared_ptr<core::Executor> executor) {
  if (options.sender.empty()) {
    return core::InvalidArgumentError("email.sender must be set (an address of a verified domain)");
  }
  auto core = std::make_shared<Core>();
  if (!options.connection_string.empty()) {
    auto cs = net::ParseAcsConnectionString(options.connection_string);
    if (!cs.ok()) return cs.status().WithContext("email.connection_string");
    core->endpoint = cs->endpoint;
    core->access_key = cs->access_key;
  } else if (!options.endpoint.empty()) {
    if (!options.credential) {
      return core::InvalidArgumentError("email.endpoint needs an Azure identity (none configured)");
    }
    core->endpoint = options.endpoint;
    while (!core->endpoint.empty() && core->endpoint.back() == '/') core->endpoint.pop_back();
    auto parsed = net::ParseUrl(core->endpoint);
    if (!parsed.ok()) return parsed.status().WithContext("email.endpoint");
  } else {
    return core::InvalidArgumentError(
        "email.connection_string (secret://NAME) or email.endpoint must be set");
  }
  core->rng.seed(options.seed ? options.seed : std::random_device{}());
  core->options = std::move(options);
  core->http = http;
  core->executor = std::move(executor);
  return std::unique_ptr<EmailSender>(new EmailSenderImpl(std::move(core)));
}

}  // namespace artagent::platform
