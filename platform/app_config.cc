#include "platform/app_config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <mutex>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/log.h"
#include "net/acs_auth.h"
#include "platform/feature_flags.h"
#include "core/strings.h"

namespace artagent::platform {
namespace {

constexpr std::string_view kLog = "app_config";
constexpr std::string_view kHmacScheme = "HMAC-SHA256 ";
constexpr std::string_view kFeatureFlagsKeyPrefix = "featureflags:";

bool IsLoopbackHost(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// "https://contoso.azconfig.io[:443]/..." -> "contoso.azconfig.io" (port kept when not the
// scheme's default), as the HMAC string-to-sign and the Host header want it. "" when malformed.
std::string Authority(std::string_view endpoint, bool* https) {
  const std::string lower = core::AsciiLower(endpoint);
  size_t scheme_end = lower.find("://");
  if (scheme_end == std::string::npos) return "";
  const std::string scheme = lower.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return "";
  *https = scheme == "https";
  std::string authority(endpoint.substr(scheme_end + 3));
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::string default_port = *https ? ":443" : ":80";
  if (authority.size() > default_port.size() && authority.ends_with(default_port)) {
    authority.resize(authority.size() - default_port.size());
  }
  return authority;
}

std::string HostOnly(const std::string& authority) {
  if (!authority.empty() && authority.front() == '[') {
    return authority.substr(0, authority.find(']') + 1);
  }
  return authority.substr(0, authority.find(':'));
}

// https everywhere; http only for a local fake on a loopback address.
core::Status CheckEndpoint(std::string_view endpoint, std::string_view setting) {
  bool https = false;
  const std::string authority = Authority(endpoint, &https);
  if (authority.empty()) {
    return core::InvalidArgumentError(fmt::format(
        "{}: '{}' is not an App Configuration endpoint; expected https://NAME.azconfig.io", setting,
        endpoint));
  }
  if (!https && !IsLoopbackHost(HostOnly(authority))) {
    return core::InvalidArgumentError(
        fmt::format("{}: '{}' must use https (http is accepted only on a loopback address)",
                    setting, endpoint));
  }
  return core::OkStatus();
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "artagent";
  return name;
}

// The reason App Configuration gives in "WWW-Authenticate: HMAC-SHA256 error="invalid_token",
// error_description="Invalid Signature", Bearer".
std::string AuthErrorDescription(const std::string& www_authenticate) {
  constexpr std::string_view kField = "error_description=\"";
  size_t at = www_authenticate.find(kField);
  if (at == std::string::npos) return "";
  at += kField.size();
  size_t end = www_authenticate.find('"', at);
  if (end == std::string::npos) return "";
  return www_authenticate.substr(at, end - at);
}

// A non-2xx answer as a Status that says what it means.
core::Status HttpError(const net::HttpResponse& r, std::string_view what, int attempts) {
  const std::string tries = attempts > 1 ? fmt::format(" after {} attempts", attempts) : "";
  if (r.status == 401 || r.status == 403) {
    std::string reason = AuthErrorDescription(r.Header("www-authenticate"));
    return core::UnauthenticatedError(fmt::format(
        "App Configuration refused {} (HTTP {}{}): the credential is wrong or has no access", what,
        r.status, reason.empty() ? "" : ": " + reason));
  }
  if (r.status == 400) {
    nlohmann::json problem = nlohmann::json::parse(r.body, nullptr, false);
    std::string detail;
    if (problem.is_object()) {
      for (const char* field : {"detail", "title"}) {
        if (problem.contains(field) && problem[field].is_string()) {
          detail = problem[field].get<std::string>();
          break;
        }
      }
    }
    return core::InvalidArgumentError(
        fmt::format("App Configuration rejected {} (HTTP 400{}); check app_config.key_filter and "
                    "app_config.label",
                    what, detail.empty() ? "" : ": " + detail));
  }
  return core::UnavailableError(
      fmt::format("App Configuration answered {} with HTTP {}{}", what, r.status, tries));
}

}  // namespace

// ---- Wire level ----

core::Result<AppConfigConnectionString> ParseAppConfigConnectionString(std::string_view text) {
  AppConfigConnectionString out;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view pair = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = core::AsciiLower(core::TrimWhitespace(pair.substr(0, eq)));
    const std::string_view value = core::TrimWhitespace(pair.substr(eq + 1));
    if (name == "endpoint") out.endpoint = std::string(value);
    if (name == "id") out.id = std::string(value);
    if (name == "secret") out.secret = std::string(value);
  }
  constexpr std::string_view kForm = "Endpoint=https://NAME.azconfig.io;Id=ID;Secret=SECRET";
  if (out.endpoint.empty()) {
    return core::InvalidArgumentError(fmt::format(
        "the App Configuration connection string has no Endpoint= (expected {})", kForm));
  }
  if (out.id.empty()) {
    return core::InvalidArgumentError(
        fmt::format("the App Configuration connection string has no Id= (expected {})", kForm));
  }
  if (out.secret.empty()) {
    return core::InvalidArgumentError(
        fmt::format("the App Configuration connection string has no Secret= (expected {})", kForm));
  }
  std::string probe;
  if (!core::Base64Decode(out.secret, &probe) || probe.empty()) {
    return core::InvalidArgumentError(
        "the App Configuration connection string's Secret is not base64; copy it again from the "
        "store's Access keys");
  }
  while (!out.endpoint.empty() && out.endpoint.back() == '/') out.endpoint.pop_back();
  return out;
}

core::Result<net::Headers> SignAppConfigRequest(std::string_view method,
                                                std::string_view path_and_query,
                                                std::string_view host, std::string_view date,
                                                std::string_view body, std::string_view id,
                                                std::string_view secret) {
  // The string-to-sign and signature are ACS's (§1.6 = §6.2); App Configuration adds the
  // credential id in front of SignedHeaders.
  auto acs = net::SignAcsRequest(method, path_and_query, host, date, body, secret);
  if (!acs.ok()) {
    return core::InvalidArgumentError("the App Configuration secret is not base64");
  }
  std::string authorization = std::string(kHmacScheme) + "Credential=" + std::string(id) + "&" +
                              acs->authorization.substr(kHmacScheme.size());
  return net::Headers{{"x-ms-date", acs->date},
                      {"x-ms-content-sha256", acs->content_sha256},
                      {"Authorization", std::move(authorization)}};
}

core::Status VerifyAppConfigRequest(const AppConfigRequestView& r, std::string_view id,
                                    std::string_view secret,
                                    std::chrono::system_clock::time_point now) {
  if (r.authorization.empty()) return core::UnauthenticatedError("no Authorization header");
  const std::string credential = "Credential=" + std::string(id) + "&";
  if (!r.authorization.starts_with(kHmacScheme) ||
      r.authorization.find("Credential=") != kHmacScheme.size()) {
    return core::UnauthenticatedError(
        "Authorization is not 'HMAC-SHA256 Credential=...&SignedHeaders=...&Signature=...'");
  }
  if (r.authorization.substr(kHmacScheme.size(), credential.size()) != credential) {
    return core::UnauthenticatedError("unknown credential id");
  }
  // Without the credential it is ACS's form; the ACS verifier checks hash, date and signature.
  const std::string acs_form =
      std::string(kHmacScheme) +
      std::string(r.authorization.substr(kHmacScheme.size() + credential.size()));
  net::AcsRequestView view{r.method, r.path_and_query, r.host,  r.body,
                           r.date,   r.content_sha256, acs_form};
  return net::VerifyAcsRequest(view, secret, now);
}

core::Result<AppConfigPage> ParseAppConfigPage(std::string_view body, const net::Headers& headers) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("items") ||
      !doc["items"].is_array()) {
    return core::InvalidArgumentError("the App Configuration answer is not a list of key-values");
  }
  AppConfigPage page;
  for (const auto& item : doc["items"]) {
    if (!item.is_object() || !item.contains("key") || !item["key"].is_string()) {
      return core::InvalidArgumentError("an App Configuration key-value has no key");
    }
    AppConfigKeyValue kv;
    kv.key = item["key"].get<std::string>();
    auto text = [&](const char* field) -> std::string {
      auto it = item.find(field);
      return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    kv.has_label = item.contains("label") && item["label"].is_string();
    kv.label = text("label");
    kv.value = text("value");
    kv.content_type = text("content_type");
    kv.etag = text("etag");
    page.items.push_back(std::move(kv));
  }
  if (auto next = doc.find("@nextLink"); next != doc.end() && next->is_string()) {
    page.next_link = next->get<std::string>();
  } else if (std::string link = net::FindHeader(headers, "link"); !link.empty()) {
    // Link: </kv?after=...>; rel="next"
    size_t open = link.find('<');
    size_t close = link.find('>', open);
    if (open != std::string::npos && close != std::string::npos &&
        link.find("rel=\"next\"", close) != std::string::npos) {
      page.next_link = link.substr(open + 1, close - open - 1);
    }
  }
  return page;
}

core::Result<std::string> KeyVaultReferenceToSecret(std::string_view value) {
  nlohmann::json doc = nlohmann::json::parse(value, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("uri") || !doc["uri"].is_string()) {
    return core::InvalidArgumentError("the Key Vault reference has no \"uri\"");
  }
  const std::string uri = doc["uri"].get<std::string>();
  constexpr std::string_view kSecrets = "/secrets/";
  size_t at = uri.find(kSecrets);
  if (at == std::string::npos) {
    return core::InvalidArgumentError("the Key Vault reference's uri '" + uri +
                                      "' is not https://VAULT.vault.azure.net/secrets/NAME");
  }
  std::string name = uri.substr(at + kSecrets.size());
  name = name.substr(0, name.find_first_of("/?#"));
  if (name.empty()) {
    return core::InvalidArgumentError("the Key Vault reference's uri '" + uri + "' has no name");
  }
  return std::string(kSecretScheme) + name;
}

std::string AppConfigListPath(std::string_view key_filter, std::string_view label,
                              std::string_view api_version) {
  const std::string encoded_label =
      label.empty() || label == std::string_view("\0", 1) ? "%00" : PercentEncode(label);
  return fmt::format("/kv?key={}&label={}&api-version={}", PercentEncode(key_filter), encoded_label,
                     PercentEncode(api_version));
}

bool AppConfigConfigured(const Config& config) {
  return !config.app_config.endpoint.empty() || !config.app_config.connection_string.empty();
}

core::Result<AppConfigOptions> AppConfigOptionsFromConfig(const Config& config) {
  const AppConfigConfig& c = config.app_config;
  AppConfigOptions o;
  if (!c.connection_string.empty()) {
    if (IsSecretReference(c.connection_string)) {
      return core::InvalidArgumentError(
          "app_config.connection_string: the secret reference must be resolved first");
    }
    auto parsed = ParseAppConfigConnectionString(c.connection_string);
    if (!parsed.ok()) return parsed.status().WithContext("app_config.connection_string");
    ARTAGENT_RETURN_IF_ERROR(CheckEndpoint(parsed->endpoint, "app_config.connection_string"));
    o.endpoint = parsed->endpoint;
    o.credential_id = parsed->id;
    o.secret = parsed->secret;
  } else if (!c.endpoint.empty()) {
    ARTAGENT_RETURN_IF_ERROR(CheckEndpoint(c.endpoint, "app_config.endpoint"));
    o.endpoint = c.endpoint;
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  } else {
    return core::FailedPreconditionError(
        "App Configuration is not configured (app_config.endpoint / app_config.connection_string)");
  }
  if (c.label.empty()) {
    o.label = config.environment;
  } else if (c.label == "\\0" || c.label == "%00") {
    o.label = "";
  } else {
    o.label = c.label;
  }
  o.key_filter = c.key_filter;
  o.sentinel_key = c.sentinel_key;
  o.api_version = c.api_version;
  o.refresh = std::chrono::seconds(c.refresh_s);
  o.instance_id = HostName();
  return o;
}

// ---- The provider ----

struct AppConfigProvider::State : std::enable_shared_from_this<State> {
  AppConfigOptions options;
  AppConfigDeps deps;
  std::string host;   // as signed
  std::string scope;  // bearer tokens
  std::shared_ptr<std::mt19937_64> rng;

  // Executor only.
  uint64_t epoch = 0;  // bumped by Stop(): callbacks of an older epoch are dropped
  bool running = false;
  bool checking = false;
  std::unique_ptr<RetryingFetch> inflight;
  std::unique_ptr<core::Timer> timer;
  std::function<void()> on_change;
  std::function<void(std::string_view)> on_check;
  std::string sentinel_etag;                                // of the last load ("" = no sentinel)
  std::map<std::string, std::string> plain;                 // key-values after Key Vault references
  std::map<std::string, std::optional<FeatureFlag>> flags;  // nullopt: malformed (off)
  std::set<std::string> reported;                           // problems logged once

  // Any thread.
  mutable std::mutex mu;
  std::map<std::string, std::string> snapshot;
  AppConfigHealth health;

  using ResponseCallback = std::function<void(core::Result<net::HttpResponse>, int attempts)>;

  // GET endpoint + path_and_query, signed or with a bearer token, retried per deps.http.
  void Get(const std::string& path_and_query, ResponseCallback done) {
    net::HttpRequestSpec spec;
    spec.method = "GET";
    spec.url = options.endpoint + path_and_query;
    spec.connect_timeout = std::min(spec.connect_timeout, options.request_timeout);
    spec.first_byte_timeout = options.request_timeout;
    spec.idle_timeout = options.request_timeout;
    spec.total_timeout = options.request_timeout;
    spec.headers = {{"Host", host},
                    {"Accept",
                     "application/vnd.microsoft.appconfig.kvset+json, "
                     "application/vnd.microsoft.appconfig.kv+json, "
                     "application/problem+json"}};
    std::weak_ptr<State> weak = weak_from_this();
    const uint64_t my_epoch = epoch;
    auto send = [weak, my_epoch, done](net::HttpRequestSpec request) {
      auto self = weak.lock();
      if (!self || self->epoch != my_epoch) return;
      self->inflight =
          FetchWithRetry(self->deps.http, self->rng, std::move(request),
                         [weak, my_epoch, done](core::Result<net::HttpResponse> r, int attempts) {
                           auto self = weak.lock();
                           if (!self || self->epoch != my_epoch) return;
                           done(std::move(r), attempts);
                         });
    };
    if (!options.credential_id.empty()) {
      auto signed_headers =
          SignAppConfigRequest("GET", path_and_query, host, net::HttpDate(deps.http.now()), "",
                               options.credential_id, options.secret);
      if (!signed_headers.ok()) {
        done(signed_headers.status(), 0);
        return;
      }
      for (auto& h : *signed_headers) spec.headers.push_back(std::move(h));
      send(std::move(spec));
      return;
    }
    deps.credential->GetToken(scope, [weak, my_epoch, done, send,
                                      spec](core::Result<AccessToken> token) mutable {
      auto self = weak.lock();
      if (!self) return;
      self->deps.http.executor->Post([weak, my_epoch, done, send, spec = std::move(spec),
                                      token = std::move(token)]() mutable {
        auto self = weak.lock();
        if (!self || self->epoch != my_epoch) return;
        if (!token.ok()) {
          done(token.status().WithContext("token for App Configuration (" + self->scope + ")"), 0);
          return;
        }
        spec.headers.emplace_back("Authorization", "Bearer " + token->token);
        send(std::move(spec));
      });
    });
  }

  // The sentinel's etag ("" when the key does not exist).
  void GetSentinel(std::function<void(core::Result<std::string>)> done) {
    const std::string path =
        "/kv/" + PercentEncode(options.sentinel_key) +
        "?label=" + (options.label.empty() ? std::string("%00") : PercentEncode(options.label)) +
        "&api-version=" + PercentEncode(options.api_version);
    Get(path, [done](core::Result<net::HttpResponse> r, int attempts) {
      if (!r.ok()) {
        done(r.status().WithContext("reading the sentinel key"));
        return;
      }
      if (r->status == 404) {
        done(std::string());
        return;
      }
      if (r->status / 100 != 2) {
        done(HttpError(*r, "the sentinel key", attempts));
        return;
      }
      std::string etag = r->Header("etag");
      if (etag.empty()) {
        nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
        if (doc.is_object() && doc.contains("etag") && doc["etag"].is_string()) {
          etag = doc["etag"].get<std::string>();
        }
      }
      done(etag.empty() ? std::string("present") : etag);
    });
  }

  // Every page of one list request, appended to *items.
  void ListPages(std::string path, std::shared_ptr<std::vector<AppConfigKeyValue>> items, int pages,
                 std::function<void(core::Status)> done) {
    if (pages > 1000) {
      done(core::InternalError("App Configuration kept returning pages (over 1000); giving up"));
      return;
    }
    std::weak_ptr<State> weak = weak_from_this();
    Get(path, [weak, items, pages, done](core::Result<net::HttpResponse> r, int attempts) {
      auto self = weak.lock();
      if (!self) return;
      if (!r.ok()) {
        done(r.status().WithContext("listing key-values"));
        return;
      }
      if (r->status / 100 != 2) {
        done(HttpError(*r, "the key-value list", attempts));
        return;
      }
      auto page = ParseAppConfigPage(r->body, r->headers);
      if (!page.ok()) {
        done(page.status());
        return;
      }
      for (auto& kv : page->items) items->push_back(std::move(kv));
      if (page->next_link.empty()) {
        done(core::OkStatus());
        return;
      }
      std::string next = page->next_link;
      // Absolute links are reduced to their path and query (the signed part).
      if (size_t scheme = next.find("://"); scheme != std::string::npos) {
        size_t slash = next.find('/', scheme + 3);
        next = slash == std::string::npos ? "/" : next.substr(slash);
      }
      self->ListPages(next, items, pages + 1, done);
    });
  }

  // Resolves the Key Vault references among items[index..] one at a time, in place.
  void ResolveReferences(std::shared_ptr<std::vector<AppConfigKeyValue>> items, size_t index,
                         std::function<void(core::Status)> done) {
    while (index < items->size() &&
           !core::AsciiLower((*items)[index].content_type).starts_with(kKeyVaultRefContentType)) {
      ++index;
    }
    if (index == items->size()) {
      done(core::OkStatus());
      return;
    }
    const std::string key = (*items)[index].key;
    auto ref = KeyVaultReferenceToSecret((*items)[index].value);
    if (!ref.ok()) {
      done(ref.status().WithContext(key));
      return;
    }
    if (deps.secrets == nullptr) {
      done(core::FailedPreconditionError(
          key +
          " is a Key Vault reference but no secret resolver is configured; set "
          "secrets.key_vault_url"));
      return;
    }
    std::weak_ptr<State> weak = weak_from_this();
    const uint64_t my_epoch = epoch;
    deps.secrets->Resolve(
        *ref, [weak, my_epoch, items, index, key, done](core::Result<std::string> value) {
          auto self = weak.lock();
          if (!self) return;
          self->deps.http.executor->Post(
              [weak, my_epoch, items, index, key, done, value = std::move(value)]() mutable {
                auto self = weak.lock();
                if (!self || self->epoch != my_epoch) return;
                if (!value.ok()) {
                  done(value.status().WithContext(key + " (Key Vault reference)"));
                  return;
                }
                (*items)[index].value = std::move(value).value();
                (*items)[index].content_type.clear();
                self->ResolveReferences(items, index + 1, done);
              });
        });
  }

  // Reads everything; on success replaces plain/flags (not yet published).
  void LoadAll(std::function<void(core::Status)> done) {
    auto items = std::make_shared<std::vector<AppConfigKeyValue>>();
    std::weak_ptr<State> weak = weak_from_this();
    auto resolve_and_take = [weak, items, done](core::Status listed) {
      auto self = weak.lock();
      if (!self) return;
      if (!listed.ok()) {
        done(listed);
        return;
      }
      self->ResolveReferences(items, 0, [weak, items, done](core::Status resolved) {
        auto self = weak.lock();
        if (!self) return;
        if (resolved.ok()) self->Take(*items);
        done(resolved);
      });
    };
    const bool covers_flags = options.key_filter == "*" ||
                              std::string(kFeatureFlagPrefix).starts_with(options.key_filter);
    ListPages(AppConfigListPath(options.key_filter, options.label, options.api_version), items, 1,
              [weak, items, covers_flags, resolve_and_take](core::Status st) {
                auto self = weak.lock();
                if (!self) return;
                if (!st.ok() || covers_flags) {
                  resolve_and_take(st);
                  return;
                }
                self->ListPages(AppConfigListPath(std::string(kFeatureFlagPrefix) + "*",
                                                  self->options.label, self->options.api_version),
                                items, 1, resolve_and_take);
              });
  }

  void ReportOnce(const std::string& what) {
    if (reported.insert(what).second) core::LogWarn(kLog, "{}", what);
  }

  void Take(const std::vector<AppConfigKeyValue>& items) {
    std::map<std::string, std::string> new_plain;
    std::map<std::string, std::optional<FeatureFlag>> new_flags;
    for (const AppConfigKeyValue& kv : items) {
      if (kv.key == options.sentinel_key) continue;
      if (kv.key.starts_with(kFeatureFlagPrefix)) {
        auto flag = ParseFeatureFlag(kv.value);
        if (!flag.ok()) {
          ReportOnce(fmt::format("feature flag {} is malformed ({}); it is off", kv.key,
                                 flag.status().message()));
          new_flags[kv.key] = std::nullopt;
          continue;
        }
        if (flag->id.empty()) flag->id = kv.key.substr(kFeatureFlagPrefix.size());
        new_flags[kv.key] = std::move(flag).value();
        continue;
      }
      new_plain[kv.key] = kv.value;
    }
    plain = std::move(new_plain);
    flags = std::move(new_flags);
  }

  // Plain pairs plus every flag evaluated now; swapped in when different. True when it changed.
  bool Publish() {
    std::map<std::string, std::string> next = plain;
    FeatureContext context{deps.http.now(), options.instance_id};
    for (const auto& [key, flag] : flags) {
      bool on = false;
      if (flag) {
        FeatureDecision decision = EvaluateFeatureFlag(*flag, context);
        if (!decision.unknown_filter.empty()) {
          ReportOnce(
              fmt::format("feature flag {} uses the filter '{}', which artagent does not "
                          "know; the flag is off",
                          key, decision.unknown_filter));
        }
        on = decision.on;
      }
      next[key] = on ? "true" : "false";
    }
    std::lock_guard lock(mu);
    const bool changed = !health.loaded || next != snapshot;
    if (changed) {
      snapshot = std::move(next);
      ++health.reloads;
    }
    health.loaded = true;
    return changed;
  }

  void RecordOutcome(const core::Status& st) {
    std::lock_guard lock(mu);
    health.ok = st.ok();
    if (st.ok()) {
      health.consecutive_failures = 0;
    } else {
      ++health.consecutive_failures;
      health.last_error = st.message();
    }
  }

  // One check: the sentinel, then a reload if it moved. done(status, outcome).
  void Check(std::function<void(core::Status, std::string_view)> done) {
    std::weak_ptr<State> weak = weak_from_this();
    GetSentinel([weak, done](core::Result<std::string> etag) {
      auto self = weak.lock();
      if (!self) return;
      if (!etag.ok()) {
        self->RecordOutcome(etag.status());
        done(etag.status(), "failed");
        return;
      }
      bool loaded;
      {
        std::lock_guard lock(self->mu);
        loaded = self->health.loaded;
      }
      if (loaded && *etag == self->sentinel_etag) {
        const bool changed = self->Publish();  // time-dependent flags
        self->RecordOutcome(core::OkStatus());
        done(core::OkStatus(), changed ? "reloaded" : "unchanged");
        return;
      }
      const std::string new_etag = *etag;
      self->LoadAll([weak, done, new_etag](core::Status st) {
        auto self = weak.lock();
        if (!self) return;
        self->RecordOutcome(st);
        if (!st.ok()) {
          done(st, "failed");
          return;
        }
        self->sentinel_etag = new_etag;
        const bool changed = self->Publish();
        done(core::OkStatus(), changed ? "reloaded" : "unchanged");
      });
    });
  }

  void ScheduleNext() {
    if (!running) return;
    int failures;
    {
      std::lock_guard lock(mu);
      failures = health.consecutive_failures;
    }
    core::Duration delay = std::chrono::duration_cast<core::Duration>(options.refresh);
    if (failures > 0) delay = net::BackoffDelay(options.failure_backoff, failures - 1, *rng);
    std::weak_ptr<State> weak = weak_from_this();
    timer = deps.http.executor->RunAfter(delay, [weak] {
      if (auto self = weak.lock()) self->Tick();
    });
  }

  void Tick() {
    if (!running || checking) return;
    checking = true;
    std::weak_ptr<State> weak = weak_from_this();
    Check([weak](core::Status st, std::string_view outcome) {
      auto self = weak.lock();
      if (!self) return;
      self->checking = false;
      if (!st.ok()) {
        int failures;
        {
          std::lock_guard lock(self->mu);
          failures = self->health.consecutive_failures;
        }
        core::LogWarn(kLog,
                      "refresh from {} failed ({} in a row; keeping the last good configuration): "
                      "{}",
                      self->options.endpoint, failures, st.message());
      }
      if (self->on_check) self->on_check(outcome);
      if (outcome == "reloaded" && self->on_change) self->on_change();
      self->ScheduleNext();
    });
  }
};

namespace {

class SnapshotSource final : public ConfigSource {
 public:
  explicit SnapshotSource(std::shared_ptr<AppConfigProvider::State> state)
      : state_(std::move(state)) {}
  std::string name() const override { return std::string(kAppConfigSourceName); }
  core::Result<std::map<std::string, std::string>> Fetch() override {
    std::lock_guard lock(state_->mu);
    return state_->snapshot;
  }
  std::string ConfigKeyOf(const std::string& key) const override {
    if (key.starts_with(kFeatureFlagPrefix)) {
      return FeatureConfigKey(std::string_view(key).substr(kFeatureFlagPrefix.size()));
    }
    if (core::AsciiLower(key).starts_with(kFeatureFlagsKeyPrefix)) {
      return FeatureConfigKey(std::string_view(key).substr(kFeatureFlagsKeyPrefix.size()));
    }
    return key;
  }

 private:
  std::shared_ptr<AppConfigProvider::State> state_;
};

}  // namespace

core::Result<std::shared_ptr<AppConfigProvider>> AppConfigProvider::Create(AppConfigOptions options,
                                                                           AppConfigDeps deps) {
  if (deps.http.http == nullptr || !deps.http.executor) {
    return core::InvalidArgumentError("App Configuration needs an HTTP client and an executor");
  }
  ARTAGENT_RETURN_IF_ERROR(CheckEndpoint(options.endpoint, "app_config.endpoint"));
  if (options.credential_id.empty() != options.secret.empty()) {
    return core::InvalidArgumentError("App Configuration: Id and Secret go together");
  }
  if (options.credential_id.empty() && !deps.credential) {
    return core::InvalidArgumentError(
        "App Configuration without a connection string needs an Azure identity (a service "
        "principal in AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET or a managed "
        "identity)");
  }
  if (options.refresh <= std::chrono::milliseconds::zero()) {
    return core::InvalidArgumentError("app_config.refresh_s must be positive");
  }
  auto state = std::make_shared<State>();
  bool https = false;
  state->host = Authority(options.endpoint, &https);
  state->scope = options.endpoint + "/.default";
  state->health.endpoint = options.endpoint;
  if (options.instance_id.empty()) options.instance_id = HostName();
  state->options = std::move(options);
  state->rng = std::make_shared<std::mt19937_64>(deps.http.seed != 0 ? deps.http.seed
                                                                     : std::random_device{}());
  state->deps = std::move(deps);
  return std::shared_ptr<AppConfigProvider>(new AppConfigProvider(std::move(state)));
}

AppConfigProvider::AppConfigProvider(std::shared_ptr<State> state) : state_(std::move(state)) {}

AppConfigProvider::~AppConfigProvider() { Stop(); }

core::Status AppConfigProvider::LoadBlocking(std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Status>>();
  auto future = promise->get_future();
  CheckNow([promise](core::Status st) { promise->set_value(std::move(st)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    // Drop the late answer: a later Start() begins afresh.
    auto done = std::make_shared<std::promise<void>>();
    state_->deps.http.executor->Post([state = state_, done] {
      ++state->epoch;
      state->inflight.reset();
      state->checking = false;
      done->set_value();
    });
    done->get_future().wait();
    return core::DeadlineExceededError(
        fmt::format("App Configuration at {} did not answer within {} ms", state_->options.endpoint,
                    timeout.count()));
  }
  return future.get();
}

void AppConfigProvider::CheckNow(std::function<void(core::Status)> done) {
  std::weak_ptr<State> weak = state_;
  state_->deps.http.executor->Post([weak, done] {
    auto self = weak.lock();
    if (!self) return;
    if (self->checking) {
      done(core::UnavailableError("a check of App Configuration is already running"));
      return;
    }
    self->checking = true;
    self->Check([weak, done](core::Status st, std::string_view outcome) {
      auto self = weak.lock();
      if (!self) return;
      self->checking = false;
      if (self->running) {
        if (self->on_check) self->on_check(outcome);
        if (outcome == "reloaded" && self->on_change) self->on_change();
      }
      done(st);
    });
  });
}

void AppConfigProvider::Start(std::function<void()> on_change,
                              std::function<void(std::string_view)> on_check) {
  std::weak_ptr<State> weak = state_;
  state_->deps.http.executor->Post(
      [weak, on_change = std::move(on_change), on_check = std::move(on_check)]() mutable {
        auto self = weak.lock();
        if (!self) return;
        self->on_change = std::move(on_change);
        self->on_check = std::move(on_check);
        self->running = true;
        self->ScheduleNext();
      });
}

void AppConfigProvider::Stop() {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  state_->deps.http.executor->Post([state = state_, done] {
    ++state->epoch;
    state->running = false;
    state->checking = false;
    state->timer.reset();
    state->inflight.reset();
    state->on_change = nullptr;
    state->on_check = nullptr;
    done->set_value();
  });
  future.wait();
}

std::map<std::string, std::string> AppConfigProvider::Snapshot() const {
  std::lock_guard lock(state_->mu);
  return state_->snapshot;
}

std::unique_ptr<ConfigSource> AppConfigProvider::Source() {
  return std::make_unique<SnapshotSource>(state_);
}

AppConfigHealth AppConfigProvider::health() const {
  std::lock_guard lock(state_->mu);
  return state_->health;
}

}  // namespace artagent::platform
