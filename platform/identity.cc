#include "platform/identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/strings.h"

extern char** environ;

namespace artagent::platform {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr std::string_view kDefaultAuthority = "https://login.microsoftonline.com";

std::string AppendQuery(std::string url, std::string_view query) {
  url += (url.find('?') == std::string::npos) ? '?' : '&';
  url += query;
  return url;
}

// "https://host:port/path" -> "host" (lower case, no port, IPv6 brackets kept).
std::string UrlHost(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (!rest.empty() && rest.front() == '[') return core::AsciiLower(rest.substr(0, rest.find(']') + 1));
  return core::AsciiLower(rest.substr(0, rest.find(':')));
}

bool IsLoopbackHost(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A number given as a JSON number or a numeric string.
std::optional<int64_t> JsonSeconds(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) return static_cast<int64_t>(value.get<double>());
  if (value.is_string()) return ParseInteger(value.get<std::string>());
  return std::nullopt;
}

// An identity provider's error body ({"error": "...", "error_description": "..."} or
// {"error": {"code": ..., "message": ...}}), shortened to one line.
std::string ErrorSummary(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  std::string text;
  if (json.is_object()) {
    const auto& err = json.contains("error") ? json["error"] : nlohmann::json();
    if (err.is_string()) {
      text = err.get<std::string>();
      if (json.contains("error_description") && json["error_description"].is_string()) {
        text += ": " + json["error_description"].get<std::string>();
      }
    } else if (err.is_object()) {
      text = err.value("code", "") + ": " + err.value("message", "");
    } else if (json.contains("message") && json["message"].is_string()) {
      text = json["message"].get<std::string>();
    }
  }
  if (text.empty()) text = body;
  text = text.substr(0, text.find_first_of("\r\n"));
  if (text.size() > 240) text = text.substr(0, 240) + "...";
  return text;
}

// ---- Token cache shared by every credential ----

// Fetches a token for a scope from one identity provider. Lives on the credential's executor.
class TokenSource : public std::enable_shared_from_this<TokenSource> {
 public:
  explicit TokenSource(CredentialDeps deps)
      : deps_(std::move(deps)),
        rng_(std::make_shared<std::mt19937_64>(deps_.seed != 0 ? deps_.seed
                                                               : std::random_device{}())) {}
  virtual ~TokenSource() = default;
  virtual std::string name() const = 0;
  // Calls `done` on the executor, once.
  virtual void Fetch(const std::string& scope, TokenCallback done) = 0;

  const CredentialDeps& deps() const { return deps_; }

 protected:
  // Runs `request` with retries; keeps the call alive until it finishes.
  void Send(net::HttpRequestSpec request, int max_retries,
            std::function<void(core::Result<net::HttpResponse>, int)> done) {
    const uint64_t id = next_fetch_++;
    std::weak_ptr<TokenSource> weak = weak_from_this();
    fetches_[id] = FetchWithRetry(
        deps_, rng_, std::move(request),
        [weak, id, done = std::move(done)](core::Result<net::HttpResponse> r, int attempts) {
          auto self = weak.lock();
          if (!self) return;
          done(std::move(r), attempts);
          self->fetches_.erase(id);
        },
        max_retries);
  }

  net::HttpRequestSpec BaseRequest() const {
    net::HttpRequestSpec spec;
    spec.connect_timeout = std::min(deps_.request_timeout, std::chrono::milliseconds(5000));
    spec.first_byte_timeout = deps_.request_timeout;
    spec.idle_timeout = deps_.request_timeout;
    spec.total_timeout = deps_.request_timeout * 2;
    return spec;
  }

  CredentialDeps deps_;
  std::shared_ptr<std::mt19937_64> rng_;

 private:
  uint64_t next_fetch_ = 1;
  std::map<uint64_t, std::unique_ptr<RetryingFetch>> fetches_;
};

class CachedCredential final : public TokenCredential {
 public:
  explicit CachedCredential(std::shared_ptr<TokenSource> source)
      : core_(std::make_shared<Core>(std::move(source))) {}

  std::string name() const override { return core_->source->name(); }

  void GetToken(const std::string& scope, TokenCallback done) override {
    std::weak_ptr<Core> weak = core_;
    core_->source->deps().executor->Post([weak, scope, done = std::move(done)]() mutable {
      if (auto core = weak.lock()) core->Get(scope, std::move(done));
    });
  }

 private:
  struct Entry {
    std::optional<AccessToken> token;
    bool fetching = false;
    std::vector<TokenCallback> waiters;
  };

  struct Core : std::enable_shared_from_this<Core> {
    explicit Core(std::shared_ptr<TokenSource> s) : source(std::move(s)) {}

    // A token this close to expiry is not handed out: it could expire in flight.
    static constexpr auto kExpirySkew = seconds(30);

    void Get(const std::string& scope, TokenCallback done) {
      const auto now = source->deps().now();
      Entry& entry = entries[scope];
      if (entry.token && now + kExpirySkew < entry.token->expires_on) {
        if (now >= entry.token->refresh_on && !entry.fetching) Start(scope);
        done(*entry.token);
        return;
      }
      entry.waiters.push_back(std::move(done));
      if (!entry.fetching) Start(scope);
    }

    void Start(const std::string& scope) {
      entries[scope].fetching = true;
      std::weak_ptr<Core> weak = weak_from_this();
      source->Fetch(scope, [weak, scope](core::Result<AccessToken> r) {
        if (auto self = weak.lock()) self->Finish(scope, std::move(r));
      });
    }

    void Finish(const std::string& scope, core::Result<AccessToken> r) {
      Entry& entry = entries[scope];
      entry.fetching = false;
      if (r.ok()) {
        entry.token = *r;
      } else if (entry.token) {
        core::LogWarn("identity",
                      "{}: refreshing the token for {} failed, the current one is "
                      "kept until it expires: {}",
                      source->name(), scope, r.status().message());
      }
      auto waiters = std::move(entry.waiters);
      entry.waiters.clear();
      for (auto& w : waiters) w(r);
    }

    std::shared_ptr<TokenSource> source;
    std::map<std::string, Entry> entries;
  };

  std::shared_ptr<Core> core_;
};

// ---- Client secret ----

class ClientSecretSource final : public TokenSource {
 public:
  ClientSecretSource(ClientSecretOptions options, CredentialDeps deps)
      : TokenSource(std::move(deps)), options_(std::move(options)) {}

  std::string name() const override { return "ClientSecretCredential"; }

  void Fetch(const std::string& scope, TokenCallback done) override {
    net::HttpRequestSpec spec = BaseRequest();
    spec.method = "POST";
    spec.url = options_.authority_host + "/" + options_.tenant_id + "/oauth2/v2.0/token";
    spec.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                    {"Accept", "application/json"}};
    spec.body = "grant_type=client_credentials&client_id=" + PercentEncode(options_.client_id) +
                "&client_secret=" + PercentEncode(options_.client_secret) +
                "&scope=" + PercentEncode(scope);
    const std::string who =
        fmt::format("ClientSecretCredential (tenant {}, client {}, {})", options_.tenant_id,
                    options_.client_id, options_.authority_host);
    auto now = deps_.now;
    Send(std::move(spec), -1,
         [who, now, done = std::move(done)](core::Result<net::HttpResponse> r, int attempts) {
           if (!r.ok()) {
             done(core::UnavailableError(
                 fmt::format("{}: token endpoint unreachable after {} attempt(s): {}; check "
                             "AZURE_AUTHORITY_HOST and the network",
                             who, attempts, r.status().message())));
             return;
           }
           if (r->status == 200) {
             auto token = ParseTokenResponse(r->body, now());
             if (!token.ok()) {
               done(core::Status(token.status().code(), who + ": " + token.status().message()));
             } else {
               done(std::move(token));
             }
             return;
           }
           std::string what = fmt::format("{}: token endpoint answered {} ({})", who, r->status,
                                          ErrorSummary(r->body));
           if (r->status == 400 || r->status == 401 || r->status == 403) {
             done(core::UnauthenticatedError(
                 what + "; check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"));
           } else {
             done(core::UnavailableError(fmt::format("{} after {} attempt(s)", what, attempts)));
           }
         });
  }

 private:
  ClientSecretOptions options_;
};

// ---- Managed identity ----

class ManagedIdentityTokenSource final : public TokenSource {
 public:
  ManagedIdentityTokenSource(ManagedIdentityOptions options, CredentialDeps deps)
      : TokenSource(std::move(deps)),
        options_(std::move(options)),
        source_(platform::ManagedIdentitySource(options_)) {}

  std::string name() const override { return "ManagedIdentityCredential (" + source_ + ")"; }

  void Fetch(const std::string& scope, TokenCallback done) override {
    net::HttpRequestSpec spec = BaseRequest();
    const std::string resource = PercentEncode(ScopeToResource(scope));
    const std::string& id = options_.client_id;
    std::string endpoint;
    if (source_ == "App Service") {
      endpoint = options_.identity_endpoint;
      spec.url = AppendQuery(endpoint, "api-version=2019-08-01&resource=" + resource);
      if (!id.empty()) spec.url += "&client_id=" + PercentEncode(id);
      spec.headers = {{"X-IDENTITY-HEADER", options_.identity_header}};
    } else if (source_ == "App Service (MSI)") {
      endpoint = options_.msi_endpoint;
      spec.url = AppendQuery(endpoint, "api-version=2017-09-01&resource=" + resource);
      if (!id.empty()) spec.url += "&clientid=" + PercentEncode(id);
      spec.headers = {{"secret", options_.msi_secret}};
    } else {
      endpoint = options_.imds_endpoint;
      spec.url = AppendQuery(endpoint, "api-version=2018-02-01&resource=" + resource);
      if (!id.empty()) spec.url += "&client_id=" + PercentEncode(id);
      spec.headers = {{"Metadata", "true"}};
    }
    spec.headers.emplace_back("Accept", "application/json");
    const bool probe = source_ == "IMDS" && !imds_answered_;
    if (probe) spec.connect_timeout = options_.imds_probe_timeout;
    std::string who = name() + " at " + endpoint;
    if (!id.empty()) who += " (user-assigned client id " + id + ")";
    std::weak_ptr<TokenSource> weak = weak_from_this();
    Send(spec, probe ? 0 : -1,
         [weak, who, probe, scope, done = std::move(done)](core::Result<net::HttpResponse> r,
                                                           int attempts) mutable {
           auto self = std::static_pointer_cast<ManagedIdentityTokenSource>(weak.lock());
           if (!self) return;
           if (!r.ok()) {
             done(core::UnavailableError(fmt::format(
                 "{}: {} after {} attempt(s): {}", who,
                 probe ? "no answer (not running on Azure, or no managed identity endpoint)"
                       : "unreachable",
                 attempts, r.status().message())));
             return;
           }
           if (probe) {
             self->imds_answered_ = true;
             // The probe is not retried; now that IMDS answers, a busy answer gets retries.
             if (net::IsRetryableStatus(r->status)) {
               self->Fetch(scope, std::move(done));
               return;
             }
           }
           self->Finish(who, *r, attempts, done);
         });
  }

 private:
  void Finish(const std::string& who, const net::HttpResponse& r, int attempts,
              const TokenCallback& done) {
    if (r.status == 200) {
      auto token = ParseTokenResponse(r.body, deps_.now());
      if (!token.ok()) {
        done(core::Status(token.status().code(), who + ": " + token.status().message()));
      } else {
        done(std::move(token));
      }
      return;
    }
    std::string what =
        fmt::format("{}: identity endpoint answered {} ({})", who, r.status, ErrorSummary(r.body));
    if (r.status == 400 || r.status == 401 || r.status == 403 || r.status == 404) {
      done(core::UnauthenticatedError(
          what +
          "; assign a managed identity to this host, or set identity.client_id to the "
          "client id of a user-assigned identity it has"));
    } else {
      done(core::UnavailableError(fmt::format("{} after {} attempt(s)", what, attempts)));
    }
  }

  ManagedIdentityOptions options_;
  std::string source_;
  bool imds_answered_ = false;
};

// ---- Chain ----

// Not configured: always fails with the reason (so that the chain's error says what to set).
class UnconfiguredCredential final : public TokenCredential {
 public:
  UnconfiguredCredential(std::string name, std::string reason,
                         std::shared_ptr<core::Executor> executor)
      : name_(std::move(name)), reason_(std::move(reason)), executor_(std::move(executor)) {}
  std::string name() const override { return name_; }
  void GetToken(const std::string&, TokenCallback done) override {
    executor_->Post([done = std::move(done), msg = name_ + ": " + reason_] {
      done(core::FailedPreconditionError(msg));
    });
  }

 private:
  std::string name_;
  std::string reason_;
  std::shared_ptr<core::Executor> executor_;
};

class ChainedCredential final : public TokenCredential {
 public:
  ChainedCredential(std::string name, std::vector<std::unique_ptr<TokenCredential>> members,
                    std::shared_ptr<core::Executor> executor)
      : core_(std::make_shared<Core>()) {
    core_->name = std::move(name);
    core_->members = std::move(members);
    core_->executor = std::move(executor);
  }

  std::string name() const override { return core_->name; }

  void GetToken(const std::string& scope, TokenCallback done) override {
    std::weak_ptr<Core> weak = core_;
    core_->executor->Post([weak, scope, done = std::move(done)]() mutable {
      auto core = weak.lock();
      if (!core) return;
      if (core->chosen >= 0) {
        core->members[core->chosen]->GetToken(scope, std::move(done));
      } else {
        Core::Try(weak, 0, scope, {}, std::move(done));
      }
    });
  }

 private:
  struct Core {
    static void Try(std::weak_ptr<Core> weak, size_t index, std::string scope,
                    std::vector<core::Status> errors, TokenCallback done) {
      auto core = weak.lock();
      if (!core) return;
      core->members[index]->GetToken(
          scope, [weak, index, scope, errors = std::move(errors),
                  done = std::move(done)](core::Result<AccessToken> r) mutable {
            auto self = weak.lock();
            if (!self) return;
            if (r.ok()) {
              if (self->chosen < 0) {
                self->chosen = static_cast<int>(index);
                core::LogInfo("identity", "{}: using {}", self->name, self->members[index]->name());
              }
              done(std::move(r));
              return;
            }
            errors.push_back(r.status());
            if (index + 1 < self->members.size()) {
              Try(weak, index + 1, scope, std::move(errors), std::move(done));
              return;
            }
            std::string text;
            bool unauthenticated = false, unavailable = false;
            for (const auto& e : errors) {
              text += "\n  - " + e.message();
              unauthenticated |= e.code() == core::StatusCode::kUnauthenticated;
              unavailable |= e.code() == core::StatusCode::kUnavailable;
            }
            auto code = unauthenticated ? core::StatusCode::kUnauthenticated
                        : unavailable   ? core::StatusCode::kUnavailable
                                        : core::StatusCode::kFailedPrecondition;
            done(core::Status(code, fmt::format("{}: no credential could get a token for {}:{}",
                                                self->name, scope, text)));
          });
    }

    std::string name;
    std::vector<std::unique_ptr<TokenCredential>> members;
    std::shared_ptr<core::Executor> executor;
    int chosen = -1;
  };

  std::shared_ptr<Core> core_;
};

core::Status CheckDeps(const CredentialDeps& deps) {
  if (deps.http == nullptr || !deps.executor || !deps.now) {
    return core::InvalidArgumentError("credential: CredentialDeps needs http, executor and now");
  }
  return core::OkStatus();
}

// ---- Time parsing ----

std::optional<WallClock::time_point> FromUtc(int year, int month, int day, int hour, int minute,
                                             int second) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return WallClock::from_time_t(timegm(&tm));
}

std::optional<WallClock::time_point> ParseRfc3339(std::string_view v) {
  int y, mo, d, h, mi, s, consumed = 0;
  std::string text(v);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                  &consumed) != 6) {
    return std::nullopt;
  }
  auto t = FromUtc(y, mo, d, h, mi, s);
  if (!t) return std::nullopt;
  std::string_view rest = v.substr(consumed);
  if (!rest.empty() && rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    rest.remove_prefix(digits);
  }
  if (rest == "Z" || rest == "z" || rest.empty()) return t;
  int oh = 0, om = 0;
  char sign = rest.front();
  if ((sign != '+' && sign != '-') ||
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) {
    return std::nullopt;
  }
  auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
  return sign == '+' ? *t - offset : *t + offset;
}

std::optional<WallClock::time_point> ParseRfc1123(std::string_view v) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  int d, y, h, mi, s;
  char month[4] = {0};
  char zone[8] = {0};
  std::string text(v);
  if (std::sscanf(text.c_str(), "%*3s, %2d %3s %4d %2d:%2d:%2d %7s", &d, month, &y, &h, &mi, &s,
                  zone) != 7) {
    return std::nullopt;
  }
  if (core::AsciiLower(zone) != "gmt" && core::AsciiLower(zone) != "utc" && std::string(zone) != "+0000") {
    return std::nullopt;
  }
  for (int m = 0; m < 12; ++m) {
    if (core::AsciiLower(month) == kMonths[m]) return FromUtc(y, m + 1, d, h, mi, s);
  }
  return std::nullopt;
}

}  // namespace

// ---- Public helpers ----

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ScopeToResource(std::string_view scope) {
  constexpr std::string_view kSuffix = "/.default";
  if (scope.size() >= kSuffix.size() && scope.substr(scope.size() - kSuffix.size()) == kSuffix) {
    scope.remove_suffix(kSuffix.size());
  }
  return std::string(scope);
}

std::optional<WallClock::time_point> ParseExpiresOn(std::string_view value) {
  if (auto n = ParseInteger(value)) return WallClock::time_point(seconds(*n));
  if (auto t = ParseRfc3339(value)) return t;
  return ParseRfc1123(value);
}

core::Result<AccessToken> ParseTokenResponse(std::string_view body, WallClock::time_point now) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return core::InternalError("token response is not a JSON object");
  if (!json.contains("access_token") || !json["access_token"].is_string() ||
      json["access_token"].get<std::string>().empty()) {
    return core::InternalError("token response has no access_token");
  }
  AccessToken token;
  token.token = json["access_token"].get<std::string>();
  if (json.contains("expires_in")) {
    auto s = JsonSeconds(json["expires_in"]);
    if (!s || *s <= 0) return core::InternalError("token response: expires_in is not a number");
    token.expires_on = now + seconds(*s);
  } else if (json.contains("expires_on")) {
    std::optional<WallClock::time_point> t;
    if (auto s = JsonSeconds(json["expires_on"])) {
      t = WallClock::time_point(seconds(*s));
    } else if (json["expires_on"].is_string()) {
      t = ParseExpiresOn(json["expires_on"].get<std::string>());
    }
    if (!t) return core::InternalError("token response: expires_on is not a time");
    token.expires_on = *t;
  } else {
    return core::InternalError("token response has neither expires_in nor expires_on");
  }
  std::optional<int64_t> refresh_in;
  if (json.contains("refresh_in")) refresh_in = JsonSeconds(json["refresh_in"]);
  if (refresh_in && *refresh_in > 0) {
    token.refresh_on = now + seconds(*refresh_in);
  } else {
    const auto lifetime = token.expires_on - now;
    token.refresh_on = lifetime < std::chrono::minutes(10)
                           ? now + lifetime / 2
                           : token.expires_on - std::chrono::minutes(5);
  }
  return token;
}

std::string ManagedIdentitySource(const ManagedIdentityOptions& options) {
  if (!options.identity_endpoint.empty()) return "App Service";
  if (!options.msi_endpoint.empty()) return "App Service (MSI)";
  return "IMDS";
}

// ---- Retrying fetch ----

namespace {

struct FetchState : std::enable_shared_from_this<FetchState> {
  CredentialDeps deps;
  std::shared_ptr<std::mt19937_64> rng;
  net::HttpRequestSpec request;
  std::function<void(core::Result<net::HttpResponse>, int)> done;
  int max_retries = 0;
  int attempt = 0;
  std::unique_ptr<net::HttpCall> call;
  std::unique_ptr<core::Timer> timer;

  void Start() {
    std::weak_ptr<FetchState> weak = weak_from_this();
    call = deps.http->Fetch(
        request,
        [weak](core::Result<net::HttpResponse> r) {
          if (auto self = weak.lock()) self->OnDone(std::move(r));
        },
        deps.executor);
  }

  void OnDone(core::Result<net::HttpResponse> r) {
    bool retry = false;
    std::optional<core::Duration> hint;
    if (!r.ok()) {
      retry = r.status().code() == core::StatusCode::kUnavailable ||
              r.status().code() == core::StatusCode::kDeadlineExceeded;
    } else if (net::IsRetryableStatus(r->status)) {
      retry = true;
      hint = net::RetryAfterFromHeaders(r->headers, WallClock::now());
    }
    if (retry && attempt < max_retries) {
      core::Duration delay = hint ? std::min(*hint, deps.max_retry_after)
                                  : net::BackoffDelay(deps.backoff, attempt, *rng);
      ++attempt;
      std::weak_ptr<FetchState> weak = weak_from_this();
      timer = deps.executor->RunAfter(delay, [weak] {
        if (auto self = weak.lock()) self->Start();
      });
      return;
    }
    auto finish = std::move(done);
    done = nullptr;
    if (finish) finish(std::move(r), attempt + 1);
  }
};

class RetryingFetchHandle final : public RetryingFetch {
 public:
  explicit RetryingFetchHandle(std::shared_ptr<FetchState> state) : state_(std::move(state)) {}
  ~RetryingFetchHandle() override {
    if (state_->call) state_->call->Cancel();
    if (state_->timer) state_->timer->Cancel();
  }

 private:
  std::shared_ptr<FetchState> state_;
};

}  // namespace

std::unique_ptr<RetryingFetch> FetchWithRetry(
    const CredentialDeps& deps, std::shared_ptr<std::mt19937_64> rng, net::HttpRequestSpec request,
    std::function<void(core::Result<net::HttpResponse>, int attempts)> done, int max_retries) {
  auto state = std::make_shared<FetchState>();
  state->deps = deps;
  state->rng = std::move(rng);
  state->request = std::move(request);
  state->done = std::move(done);
  state->max_retries = max_retries < 0 ? deps.max_retries : max_retries;
  state->Start();
  return std::make_unique<RetryingFetchHandle>(std::move(state));
}

// ---- Credentials ----

core::Result<AccessToken> TokenCredential::GetTokenBlocking(const std::string& scope,
                                                            std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Result<AccessToken>>>();
  auto future = promise->get_future();
  GetToken(scope, [promise](core::Result<AccessToken> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return core::DeadlineExceededError(
        fmt::format("{}: no token for {} within {} ms", name(), scope, timeout.count()));
  }
  return future.get();
}

core::Result<std::unique_ptr<TokenCredential>> CreateClientSecretCredential(
    ClientSecretOptions options, CredentialDeps deps) {
  ARTAGENT_RETURN_IF_ERROR(CheckDeps(deps));
  std::string missing;
  if (options.tenant_id.empty()) missing += " AZURE_TENANT_ID";
  if (options.client_id.empty()) missing += " AZURE_CLIENT_ID";
  if (options.client_secret.empty()) missing += " AZURE_CLIENT_SECRET";
  if (!missing.empty()) {
    return core::InvalidArgumentError("ClientSecretCredential: missing" + missing);
  }
  if (options.authority_host.empty()) options.authority_host = std::string(kDefaultAuthority);
  while (!options.authority_host.empty() && options.authority_host.back() == '/') {
    options.authority_host.pop_back();
  }
  const std::string& authority = options.authority_host;
  const bool https = core::AsciiLower(authority).rfind("https://", 0) == 0;
  const bool loopback_http =
      core::AsciiLower(authority).rfind("http://", 0) == 0 && IsLoopbackHost(UrlHost(authority));
  if (!https && !loopback_http) {
    return core::InvalidArgumentError("ClientSecretCredential: authority host '" + authority +
                                      "' (AZURE_AUTHORITY_HOST) must be an https:// URL");
  }
  return std::unique_ptr<TokenCredential>(std::make_unique<CachedCredential>(
      std::make_shared<ClientSecretSource>(std::move(options), std::move(deps))));
}

core::Result<std::unique_ptr<TokenCredential>> CreateManagedIdentityCredential(
    ManagedIdentityOptions options, CredentialDeps deps) {
  ARTAGENT_RETURN_IF_ERROR(CheckDeps(deps));
  if (!options.identity_endpoint.empty() && options.identity_header.empty()) {
    return core::InvalidArgumentError(
        "ManagedIdentityCredential: IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not");
  }
  return std::unique_ptr<TokenCredential>(std::make_unique<CachedCredential>(
      std::make_shared<ManagedIdentityTokenSource>(std::move(options), std::move(deps))));
}

core::Result<std::unique_ptr<TokenCredential>> CreateChainedCredential(
    std::string name, std::vector<std::unique_ptr<TokenCredential>> credentials,
    std::shared_ptr<core::Executor> executor) {
  if (credentials.empty() || !executor) {
    return core::InvalidArgumentError(name + ": a chain needs credentials and an executor");
  }
  return std::unique_ptr<TokenCredential>(std::make_unique<ChainedCredential>(
      std::move(name), std::move(credentials), std::move(executor)));
}

CredentialEnvironment CredentialEnvironment::FromProcess() {
  CredentialEnvironment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    if (name.rfind("AZURE_", 0) == 0 || name.rfind("IDENTITY_", 0) == 0 ||
        name.rfind("MSI_", 0) == 0) {
      env.vars[std::string(name)] = std::string(entry.substr(eq + 1));
    }
  }
  return env;
}

std::string CredentialEnvironment::Get(const std::string& name) const {
  auto it = vars.find(name);
  return it == vars.end() ? "" : it->second;
}

core::Result<std::unique_ptr<TokenCredential>> CreateDefaultCredential(
    const CredentialEnvironment& env, CredentialDeps deps, ManagedIdentityOptions mi) {
  ARTAGENT_RETURN_IF_ERROR(CheckDeps(deps));
  std::vector<std::unique_ptr<TokenCredential>> chain;
  ClientSecretOptions cs{env.Get("AZURE_TENANT_ID"), env.Get("AZURE_CLIENT_ID"),
                         env.Get("AZURE_CLIENT_SECRET"), env.Get("AZURE_AUTHORITY_HOST")};
  if (!cs.tenant_id.empty() && !cs.client_id.empty() && !cs.client_secret.empty()) {
    auto credential = CreateClientSecretCredential(std::move(cs), deps);
    if (!credential.ok()) return credential.status();
    chain.push_back(std::move(credential).value());
  } else {
    std::string missing;
    for (const char* var : {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"}) {
      if (env.Get(var).empty()) missing += std::string(missing.empty() ? "" : ", ") + var;
    }
    chain.push_back(std::make_unique<UnconfiguredCredential>(
        "EnvironmentCredential", "not configured (" + missing + " not set)", deps.executor));
  }
  if (mi.identity_endpoint.empty()) {
    mi.identity_endpoint = env.Get("IDENTITY_ENDPOINT");
    mi.identity_header = env.Get("IDENTITY_HEADER");
  }
  if (mi.msi_endpoint.empty()) {
    mi.msi_endpoint = env.Get("MSI_ENDPOINT");
    mi.msi_secret = env.Get("MSI_SECRET");
  }
  if (mi.client_id.empty()) mi.client_id = env.Get("AZURE_CLIENT_ID");
  auto executor = deps.executor;
  auto managed = CreateManagedIdentityCredential(std::move(mi), std::move(deps));
  if (!managed.ok()) return managed.status();
  chain.push_back(std::move(managed).value());
  return CreateChainedCredential("DefaultAzureCredential", std::move(chain), std::move(executor));
}

}  // namespace artagent::platform
