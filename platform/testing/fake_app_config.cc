#include "platform/testing/fake_app_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "platform/app_config.h"
#include "platform/feature_flags.h"
#include "server/http_server.h"
#include "server/router.h"

namespace artagent::platform::testing {
namespace {

struct Entry {
  std::string key;
  std::optional<std::string> label;
  std::string value;
  std::string content_type;
  std::string etag;
};

struct Cue {
  int status = 0;
  std::optional<int> retry_after_ms;
  std::chrono::milliseconds stall{0};
};

// One filter of a comma-separated list: "abc*" (prefix) or "abc" (exact); '\' escapes * , \.
struct KeyPattern {
  std::string text;
  bool prefix = false;
};

std::vector<KeyPattern> ParseKeyFilter(std::string_view filter) {
  std::vector<KeyPattern> out(1);
  for (size_t i = 0; i < filter.size(); ++i) {
    char c = filter[i];
    if (c == '\\' && i + 1 < filter.size()) {
      out.back().text += filter[++i];
    } else if (c == ',') {
      out.emplace_back();
    } else if (c == '*' && i + 1 == filter.size()) {
      out.back().prefix = true;
    } else if (c == '*' && filter[i + 1] == ',') {
      out.back().prefix = true;
    } else {
      out.back().text += c;
    }
  }
  return out;
}

bool KeyMatches(const std::vector<KeyPattern>& patterns, const std::string& key) {
  for (const KeyPattern& p : patterns) {
    if (p.prefix ? key.starts_with(p.text) : key == p.text) return true;
  }
  return false;
}

// label query value: "\0" = no label, "*" = any, else exact.
bool LabelMatches(std::string_view filter, const std::optional<std::string>& label) {
  if (filter == "*") return true;
  if (filter.empty() || filter == std::string_view("\0", 1)) return !label.has_value();
  return label.has_value() && *label == filter;
}

nlohmann::json EntryJson(const Entry& e) {
  return {{"etag", e.etag},
          {"key", e.key},
          {"label", e.label ? nlohmann::json(*e.label) : nlohmann::json(nullptr)},
          {"content_type",
           e.content_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.content_type)},
          {"value", e.value},
          {"last_modified", "2024-01-02T03:04:05+00:00"},
          {"locked", false},
          {"tags", nlohmann::json::object()}};
}

}  // namespace

struct FakeAppConfig::Impl {
  FakeAppConfigOptions options;
  std::unique_ptr<server::HttpServer> http;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool stopping = false;
  std::vector<Entry> entries;
  uint64_t next_etag = 1;
  std::deque<Cue> cues;
  std::vector<FakeAppConfigRequest> log;

  std::string Etag() { return fmt::format("{:032x}", next_etag++ * 2654435761u); }

  // Returns an answer when the request fails authentication or a cue says so.
  std::optional<server::HttpResponse> Gate(const server::HttpRequest& req) {
    std::string auth_error;
    if (!options.bearer_token.empty()) {
      if (req.Header("authorization") != "Bearer " + options.bearer_token) {
        auth_error = "no or wrong bearer token";
      }
    } else {
      AppConfigRequestView view{req.method,
                                req.target,
                                req.Header("host"),
                                req.body,
                                req.Header("x-ms-date"),
                                req.Header("x-ms-content-sha256"),
                                req.Header("authorization")};
      core::Status st = VerifyAppConfigRequest(view, options.credential_id, options.secret,
                                               std::chrono::system_clock::now());
      if (!st.ok()) auth_error = st.message();
    }
    std::unique_lock lock(mu);
    FakeAppConfigRequest record{req.method, req.target, 200, auth_error};
    if (!auth_error.empty()) {
      record.status = 401;
      log.push_back(record);
      cv.notify_all();
      server::HttpResponse r = server::HttpResponse::Error(401, "Unauthorized", auth_error);
      r.headers.emplace_back(
          "WWW-Authenticate",
          fmt::format("HMAC-SHA256 error=\"invalid_token\", error_description=\"{}\", Bearer",
                      auth_error));
      return r;
    }
    if (cues.empty()) {
      log.push_back(record);
      cv.notify_all();
      return std::nullopt;
    }
    Cue cue = cues.front();
    cues.pop_front();
    record.status = cue.stall.count() > 0 ? 503 : cue.status;
    log.push_back(record);
    cv.notify_all();
    if (cue.stall.count() > 0) {
      // Holds this I/O thread (the fake runs several) until the client has given up.
      cv.wait_for(lock, cue.stall, [this] { return stopping; });
      return server::HttpResponse::Error(503, "ServiceUnavailable", "stalled on cue");
    }
    server::HttpResponse r = server::HttpResponse::Error(cue.status, "Cued", "failure on cue");
    if (cue.retry_after_ms)
      r.headers.emplace_back("retry-after-ms", std::to_string(*cue.retry_after_ms));
    return r;
  }

  server::HttpResponse List(const server::HttpRequest& req) {
    if (auto gate = Gate(req)) return *gate;
    std::string key_filter(req.Query("key"));
    if (key_filter.empty()) key_filter = "*";
    const std::string label_filter(req.Query("label"));
    const auto patterns = ParseKeyFilter(key_filter);
    size_t after = 0;
    if (std::string_view a = req.Query("after"); !a.empty()) after = std::stoul(std::string(a));
    std::vector<Entry> matching;
    {
      std::lock_guard lock(mu);
      for (const Entry& e : entries) {
        if (KeyMatches(patterns, e.key) && LabelMatches(label_filter, e.label)) {
          matching.push_back(e);
        }
      }
    }
    std::sort(matching.begin(), matching.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    nlohmann::json items = nlohmann::json::array();
    const size_t end = std::min(matching.size(), after + options.page_size);
    for (size_t i = after; i < end; ++i) items.push_back(EntryJson(matching[i]));
    nlohmann::json body = {{"items", items}};
    if (end < matching.size()) {
      std::string next = req.target;
      if (size_t at = next.find("&after="); at != std::string::npos) next.resize(at);
      body["@nextLink"] = next + "&after=" + std::to_string(end);
    }
    server::HttpResponse r = server::HttpResponse::Json(200, body);
    r.content_type = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8";
    return r;
  }

  server::HttpResponse GetOne(const server::HttpRequest& req) {
    if (auto gate = Gate(req)) return *gate;
    const std::string key(req.Param("key"));
    const std::string label(req.Query("label"));
    std::lock_guard lock(mu);
    for (const Entry& e : entries) {
      if (e.key == key && LabelMatches(label, e.label)) {
        server::HttpResponse r = server::HttpResponse::Json(200, EntryJson(e));
        r.content_type = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8";
        r.headers.emplace_back("ETag", "\"" + e.etag + "\"");
        return r;
      }
    }
    return server::HttpResponse::Error(404, "NotFound", "no such key-value");
  }
};

core::Result<std::unique_ptr<FakeAppConfig>> FakeAppConfig::Start(FakeAppConfigOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  Impl* raw = impl.get();
  auto router = std::make_shared<server::Router>();
  router->Add("GET", "/kv", [raw](const server::HttpRequest& req) { return raw->List(req); });
  router->Add("GET", "/kv/{key}",
              [raw](const server::HttpRequest& req) { return raw->GetOne(req); });
  server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.io_threads = 4;  // a stalled request holds one
  so.shutdown_grace = std::chrono::seconds(1);
  ARTAGENT_ASSIGN_OR_RETURN(impl->http, server::HttpServer::Create(so, router, nullptr));
  ARTAGENT_RETURN_IF_ERROR(impl->http->Start());
  return std::unique_ptr<FakeAppConfig>(new FakeAppConfig(std::move(impl)));
}

FakeAppConfig::FakeAppConfig(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeAppConfig::~FakeAppConfig() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->http->Stop();
}

std::string FakeAppConfig::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->http->port());
}

std::string FakeAppConfig::connection_string() const {
  return "Endpoint=" + endpoint() + ";Id=" + impl_->options.credential_id +
         ";Secret=" + impl_->options.secret;
}

void FakeAppConfig::Set(const std::string& key, const std::string& value,
                        std::optional<std::string> label, const std::string& content_type) {
  std::lock_guard lock(impl_->mu);
  for (Entry& e : impl_->entries) {
    if (e.key == key && e.label == label) {
      e.value = value;
      e.content_type = content_type;
      e.etag = impl_->Etag();
      return;
    }
  }
  impl_->entries.push_back({key, std::move(label), value, content_type, impl_->Etag()});
}

void FakeAppConfig::Remove(const std::string& key, std::optional<std::string> label) {
  std::lock_guard lock(impl_->mu);
  std::erase_if(impl_->entries, [&](const Entry& e) { return e.key == key && e.label == label; });
}

void FakeAppConfig::SetFeatureFlag(const std::string& name, const nlohmann::json& flag,
                                   std::optional<std::string> label) {
  Set(std::string(kFeatureFlagPrefix) + name, flag.dump(), std::move(label),
      std::string(kFeatureFlagContentType) + ";charset=utf-8");
}

void FakeAppConfig::SetKeyVaultReference(const std::string& key, const std::string& secret_name,
                                         std::optional<std::string> label) {
  Set(key, nlohmann::json{{"uri", "https://vault.example/secrets/" + secret_name}}.dump(),
      std::move(label), std::string(kKeyVaultRefContentType) + ";charset=utf-8");
}

void FakeAppConfig::FailNext(int status, int count, std::optional<int> retry_after_ms) {
  std::lock_guard lock(impl_->mu);
  for (int i = 0; i < count; ++i) impl_->cues.push_back({status, retry_after_ms, {}});
}

void FakeAppConfig::StallNext(std::chrono::milliseconds delay, int count) {
  std::lock_guard lock(impl_->mu);
  for (int i = 0; i < count; ++i) impl_->cues.push_back({503, std::nullopt, delay});
}

void FakeAppConfig::Heal() {
  std::lock_guard lock(impl_->mu);
  impl_->cues.clear();
}

std::vector<FakeAppConfigRequest> FakeAppConfig::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}

size_t FakeAppConfig::request_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log.size();
}

bool FakeAppConfig::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->log.size() >= count; });
}

}  // namespace artagent::platform::testing
