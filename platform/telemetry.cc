#include "platform/telemetry.h"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include "core/ids.h"
#include "core/serial_thread_executor.h"
#include "platform/app_insights.h"
#include "platform/metrics.h"
#include "platform/otlp_json.h"

#ifndef ARTAGENT_VERSION
#define ARTAGENT_VERSION "0.0.0"
#endif

namespace artagent::platform {
namespace {

constexpr char kHex[] = "0123456789abcdef";

template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is invalid in traceparent
}

template <size_t N>
bool FromHex(std::string_view text, std::array<uint8_t, N>* out) {
  if (text.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexDigit(text[2 * i]);
    const int lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  return rng;
}

template <size_t N>
void FillRandom(std::array<uint8_t, N>* bytes) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t v = Rng()();
      for (size_t j = 0; j < 8 && i + j < N; ++j)
        (*bytes)[i + j] = static_cast<uint8_t>(v >> 8 * j);
    }
  } while (AllZero(*bytes));
}

int64_t ClockOffsetNanos() {
  static const int64_t offset = [] {
    const auto sys = std::chrono::system_clock::now().time_since_epoch();
    const auto steady = core::Clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(sys).count() -
           std::chrono::duration_cast<std::chrono::nanoseconds>(steady).count();
  }();
  return offset;
}

bool IsDigitSeparator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

}  // namespace

// ---- ids ----

bool TraceId::valid() const { return !AllZero(bytes); }
std::string TraceId::Hex() const { return ToHex(bytes); }
TraceId TraceId::Random() {
  TraceId id;
  FillRandom(&id.bytes);
  return id;
}
bool SpanId::valid() const { return !AllZero(bytes); }
std::string SpanId::Hex() const { return ToHex(bytes); }
SpanId SpanId::Random() {
  SpanId id;
  FillRandom(&id.bytes);
  return id;
}

SpanContext SpanContext::NewRoot() {
  SpanContext c;
  c.trace_id = TraceId::Random();
  c.span_id = SpanId::Random();
  return c;
}

SpanContext SpanContext::Child() const {
  SpanContext c = *this;
  c.span_id = SpanId::Random();
  return c;
}

std::string FormatTraceparent(const SpanContext& context) {
  std::string out;
  out.reserve(55);
  out += "00-";
  out += context.trace_id.Hex();
  out += '-';
  out += context.span_id.Hex();
  out += context.sampled ? "-01" : "-00";
  return out;
}

std::optional<SpanContext> ParseTraceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" trace-flags
  if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') {
    return std::nullopt;
  }
  std::array<uint8_t, 1> version{};
  std::array<uint8_t, 1> flags{};
  if (!FromHex(value.substr(0, 2), &version) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0 && value.size() != 55) return std::nullopt;
  if (value.size() > 55 && value[55] != '-') return std::nullopt;  // future versions append
  SpanContext c;
  if (!FromHex(value.substr(3, 32), &c.trace_id.bytes) ||
      !FromHex(value.substr(36, 16), &c.span_id.bytes) || !FromHex(value.substr(53, 2), &flags)) {
    return std::nullopt;
  }
  if (!c.valid()) return std::nullopt;
  c.sampled = (flags[0] & 0x01) != 0;
  return c;
}

int64_t UnixNanos(core::TimePoint time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count() +
         ClockOffsetNanos();
}

int64_t NowUnixNanos() { return UnixNanos(core::Clock::now()); }

SpanRecord& SpanRecord::Attr(std::string_view key, AttributeValue value) {
  if (attribute_count >= kMaxAttributes) {
    ++dropped_attributes;
    return *this;
  }
  attributes[attribute_count].key = key;
  attributes[attribute_count].value = std::move(value);
  ++attribute_count;
  return *this;
}

std::string RedactDigits(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const bool plus = text[i] == '+' && i + 1 < text.size() &&
                      std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!plus && !std::isdigit(static_cast<unsigned char>(text[i]))) {
      out += text[i++];
      continue;
    }
    // A run of digits with separators between them; it ends at its last digit.
    size_t j = plus ? i + 1 : i;
    size_t last_digit = j;
    int digits = 0;
    while (j < text.size()) {
      const char c = text[j];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++digits;
        last_digit = j;
      } else if (!IsDigitSeparator(c)) {
        break;
      }
      ++j;
    }
    if (digits >= 7) {
      out += "[redacted]";
    } else {
      out.append(text.substr(i, last_digit + 1 - i));
    }
    i = last_digit + 1;
  }
  return out;
}

// ---- the pipeline ----

namespace {

enum Signal { kTraces = 0, kLogs = 1, kMetrics = 2, kSignals = 3 };
constexpr const char* kSignalName[kSignals] = {"traces", "logs", "metrics"};
constexpr const char* kSignalPath[kSignals] = {"/v1/traces", "/v1/logs", "/v1/metrics"};

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  // The queue's size after the push; 0 when it was full (the item is dropped).
  size_t Push(T&& item) {
    std::lock_guard lock(mu_);
    if (items_.size() >= capacity_) return 0;
    items_.push_back(std::move(item));
    return items_.size();
  }
  std::vector<T> Take(size_t max) {
    std::vector<T> out;
    std::lock_guard lock(mu_);
    if (items_.size() <= max) {
      out.swap(items_);
      items_.reserve(std::min<size_t>(capacity_, 64));
    } else {
      out.assign(std::make_move_iterator(items_.begin()),
                 std::make_move_iterator(items_.begin() + static_cast<ptrdiff_t>(max)));
      items_.erase(items_.begin(), items_.begin() + static_cast<ptrdiff_t>(max));
    }
    return out;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<T> items_;
};

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

bool ValidEndpoint(std::string_view url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
         (url.rfind("https://", 0) == 0 && url.size() > 8);
}

}  // namespace

struct Telemetry::Impl : std::enable_shared_from_this<Telemetry::Impl> {
  TelemetryOptions opts;
  Metrics* metrics = nullptr;
  const int64_t start_ns = NowUnixNanos();

  BoundedQueue<SpanRecord> spans;
  BoundedQueue<LogRecord> logs;

  std::mutex sessions_mu;
  std::map<std::string, SpanContext, std::less<>> sessions;

  // Counters (stats()).
  std::atomic<uint64_t> spans_exported{0}, logs_exported{0}, points_exported{0};
  std::atomic<uint64_t> spans_dropped{0}, logs_dropped{0};
  std::atomic<uint64_t> requests{0}, failures{0}, retries{0}, rejected{0};

  // ---- exporter state: only on `executor` ----
  struct Export {
    std::string body;
    size_t count = 0;
    int attempts = 0;
  };
  struct SignalState {
    std::optional<Export> pending;
    bool in_flight = false;
    std::unique_ptr<net::HttpCall> call;
    std::unique_ptr<core::Timer> retry_timer;
  };
  SignalState state[kSignals];
  std::mt19937_64 backoff_rng{std::random_device{}()};
  net::CircuitBreaker breaker;
  std::unique_ptr<core::Timer> tick_timer;
  core::TimePoint next_metrics{};
  bool stopping = false;
  std::atomic<bool> wake_posted[kSignals] = {false, false, false};

  // Flush(): how many signals still have work; waited on by Flush().
  std::mutex idle_mu;
  std::condition_variable idle_cv;
  uint64_t idle_gen = 0;

  std::unique_ptr<net::HttpClient> http;
  std::shared_ptr<core::SerialThreadExecutor> executor;  // destroyed before `http`
  std::shared_ptr<core::LogSink> log_sink;
  std::shared_ptr<net::HttpCallObserver> observer;

  explicit Impl(TelemetryOptions o)
      : opts(std::move(o)), spans(opts.max_queue), logs(opts.max_queue), breaker(opts.breaker) {}

  void CountDrop(Signal s, const char* reason, uint64_t n) {
    if (n == 0) return;
    if (s == kTraces) spans_dropped += n;
    if (s == kLogs) logs_dropped += n;
    if (metrics) {
      metrics->telemetry_dropped_total.Add({{"signal", kSignalName[s]}, {"reason", reason}})
          .Increment(static_cast<double>(n));
    }
  }

  void CountFailure(Signal s, const std::string& reason) {
    ++failures;
    if (metrics) {
      metrics->telemetry_export_failures_total.Add({{"signal", kSignalName[s]}, {"reason", reason}})
          .Increment();
    }
  }

  bool PushSpan(SpanRecord&& span) {
    const size_t n = spans.Push(std::move(span));
    if (n == 0) {
      CountDrop(kTraces, "queue_full", 1);
      return false;
    }
    if (n == opts.max_batch) Wake(kTraces);
    return true;
  }

  bool PushLog(LogRecord&& record) {
    if (record.level < opts.log_level || record.level == core::LogLevel::kOff) return false;
    if (!opts.include_pii) record.message = RedactDigits(record.message);
    if (!record.trace_id.valid()) {
      std::optional<SpanContext> bound;
      for (const auto& [k, v] : record.fields) {
        if (k == "session" || k == "session_id") bound = FindSession(v);
      }
      if (!bound) bound = SessionInText(record.message);
      if (bound) {
        record.trace_id = bound->trace_id;
        record.span_id = bound->span_id;
      }
    }
    const size_t n = logs.Push(std::move(record));
    if (n == 0) {
      CountDrop(kLogs, "queue_full", 1);
      return false;
    }
    if (n == opts.max_batch) Wake(kLogs);
    return true;
  }

  std::optional<SpanContext> FindSession(std::string_view id) {
    std::lock_guard lock(sessions_mu);
    auto it = sessions.find(id);
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }

  // Session ids are "sess_" and 20 base62 characters (core::NewId).
  std::optional<SpanContext> SessionInText(std::string_view text) {
    {
      std::lock_guard lock(sessions_mu);
      if (sessions.empty()) return std::nullopt;
    }
    for (size_t at = text.find("sess_"); at != std::string_view::npos;
         at = text.find("sess_", at + 5)) {
      size_t end = at + 5;
      while (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end]))) ++end;
      if (auto c = FindSession(text.substr(at, end - at))) return c;
    }
    return std::nullopt;
  }

  void Wake(Signal s) {
    if (wake_posted[s].exchange(true)) return;
    std::weak_ptr<Impl> weak = weak_from_this();
    executor->Post([weak, s] {
      if (auto self = weak.lock()) {
        self->wake_posted[s] = false;
        self->Pump(s);
      }
    });
  }

  void ScheduleTick() {
    std::weak_ptr<Impl> weak = weak_from_this();
    tick_timer = executor->RunAfter(opts.flush_interval, [weak] {
      if (auto self = weak.lock()) self->Tick();
    });
  }

  void Tick() {
    if (stopping) return;
    Pump(kTraces);
    Pump(kLogs);
    if (opts.metrics_interval.count() > 0 && executor->Now() >= next_metrics) {
      next_metrics = executor->Now() + opts.metrics_interval;
      SnapshotMetrics();
    }
    ScheduleTick();
  }

  void SnapshotMetrics() {
    if (!metrics || opts.metrics_interval.count() <= 0) return;
    SignalState& st = state[kMetrics];
    size_t points = 0;
    std::string body =
        EncodeMetrics(opts.resource, metrics->Snapshot(), start_ns, NowUnixNanos(), &points);
    // A newer cumulative snapshot supersedes one not sent yet.
    if (st.in_flight || st.retry_timer) {
      if (st.pending) st.pending = Export{std::move(body), points, st.pending->attempts};
      return;
    }
    st.pending = Export{std::move(body), points, 0};
    Send(kMetrics);
  }

  // Takes the next batch when the signal is idle, and sends it.
  void Pump(Signal s) {
    SignalState& st = state[s];
    if (st.in_flight || st.retry_timer) return;
    if (!st.pending) {
      if (s == kTraces) {
        auto batch = spans.Take(opts.max_batch);
        if (batch.empty()) return NotifyIdle();
        st.pending = Export{EncodeTraces(opts.resource, batch), batch.size(), 0};
      } else if (s == kLogs) {
        auto batch = logs.Take(opts.max_batch);
        if (batch.empty()) return NotifyIdle();
        st.pending = Export{EncodeLogs(opts.resource, batch), batch.size(), 0};
      } else {
        return NotifyIdle();
      }
    }
    Send(s);
  }

  void RetryAfter(Signal s, core::Duration delay) {
    std::weak_ptr<Impl> weak = weak_from_this();
    state[s].retry_timer = executor->RunAfter(delay, [weak, s] {
      if (auto self = weak.lock()) {
        self->state[s].retry_timer.reset();
        self->Pump(s);
      }
    });
  }

  void Send(Signal s) {
    SignalState& st = state[s];
    if (!breaker.Allow(executor->Now())) {
      CountFailure(s, "circuit_open");
      RetryAfter(s, std::chrono::duration_cast<core::Duration>(opts.breaker.open_duration));
      NotifyIdle();
      return;
    }
    net::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = opts.otlp_endpoint + kSignalPath[s];
    spec.headers = opts.headers;
    spec.headers.emplace_back("Content-Type", "application/json");
    spec.body = st.pending->body;
    spec.connect_timeout = std::min(spec.connect_timeout, opts.request_timeout);
    spec.first_byte_timeout = opts.request_timeout;
    spec.idle_timeout = opts.request_timeout;
    spec.total_timeout = opts.request_timeout;
    st.in_flight = true;
    ++requests;
    ++st.pending->attempts;
    std::weak_ptr<Impl> weak = weak_from_this();
    st.call = http->Fetch(
        std::move(spec),
        [weak, s](core::Result<net::HttpResponse> r) {
          if (auto self = weak.lock()) self->OnResponse(s, std::move(r));
        },
        executor);
  }

  void OnResponse(Signal s, core::Result<net::HttpResponse> r) {
    SignalState& st = state[s];
    st.in_flight = false;
    st.call.reset();
    if (!st.pending) return;
    const bool ok_status = r.ok() && r.value().status >= 200 && r.value().status < 300;
    if (ok_status) {
      breaker.RecordSuccess();
      const int64_t refused = RejectedCount(r.value().body);
      const size_t n = st.pending->count;
      const size_t accepted = refused > 0 ? n - std::min<size_t>(n, refused) : n;
      if (refused > 0) {
        rejected += static_cast<uint64_t>(refused);
        CountDrop(s, "rejected", static_cast<uint64_t>(refused));
      }
      (s == kTraces ? spans_exported : s == kLogs ? logs_exported : points_exported) += accepted;
      if (metrics) {
        metrics->telemetry_exported_total.Add({{"signal", kSignalName[s]}})
            .Increment(static_cast<double>(accepted));
      }
      st.pending.reset();
      Pump(s);  // the backlog, if any, goes out at once
      return;
    }
    const bool retryable = !r.ok() || net::IsRetryableStatus(r.value().status);
    const std::string reason =
        r.ok()
            ? "status_" + std::to_string(r.value().status)
            : (r.status().code() == core::StatusCode::kDeadlineExceeded ? "timeout" : "transport");
    CountFailure(s, reason);
    if (retryable) breaker.RecordFailure(executor->Now());
    if (!retryable || st.pending->attempts >= opts.max_attempts || stopping) {
      core::LogWarn("telemetry", "OTLP {} export of {} records given up after {} attempt(s): {}",
                    kSignalName[s], st.pending->count, st.pending->attempts,
                    r.ok() ? "HTTP " + std::to_string(r.value().status) : r.status().ToString());
      CountDrop(s, retryable ? "export_failed" : "rejected", st.pending->count);
      if (!retryable) rejected += st.pending->count;
      st.pending.reset();
      Pump(s);
      return;
    }
    ++retries;
    core::Duration delay = net::BackoffDelay(opts.backoff, st.pending->attempts - 1, backoff_rng);
    if (r.ok()) {
      if (auto hint =
              net::RetryAfterFromHeaders(r.value().headers, std::chrono::system_clock::now())) {
        delay = std::min(*hint, std::chrono::duration_cast<core::Duration>(opts.backoff.max));
      }
    }
    RetryAfter(s, delay);
    NotifyIdle();
  }

  bool Idle() const {
    for (const auto& st : state) {
      if (st.in_flight || st.pending) return false;
    }
    return spans.size() == 0 && logs.size() == 0;
  }

  void NotifyIdle() {
    std::lock_guard lock(idle_mu);
    ++idle_gen;
    idle_cv.notify_all();
  }

  void StartExporter() {
    next_metrics = executor->Now() + opts.metrics_interval;
    ScheduleTick();
  }
};

namespace {

class ExportLogSink final : public core::LogSink {
 public:
  explicit ExportLogSink(std::weak_ptr<Telemetry::Impl> impl) : impl_(std::move(impl)) {}
  void OnLog(core::LogLevel level, std::string_view component, std::string_view message,
             std::initializer_list<core::LogField> fields) override;

 private:
  std::weak_ptr<Telemetry::Impl> impl_;
};

// A client span for one outbound call.
class ClientSpanScope final : public net::HttpCallScope {
 public:
  ClientSpanScope(std::weak_ptr<Telemetry::Impl> impl, SpanRecord span)
      : impl_(std::move(impl)), span_(std::move(span)) {}
  ~ClientSpanScope() override {
    if (ended_) return;
    span_.Attr("error.type", "cancelled");
    Record();
  }
  void End(int http_status, const core::Status& status) override {
    ended_ = true;
    if (http_status > 0) span_.Attr("http.response.status_code", int64_t{http_status});
    if (!status.ok()) {
      span_.Attr("error.type", std::string(core::StatusCodeName(status.code())));
      span_.Error(status.ToString());
    } else if (http_status >= 400) {
      span_.Attr("error.type", std::to_string(http_status));
      span_.Error("HTTP " + std::to_string(http_status));
    }
    Record();
  }

 private:
  void Record();
  std::weak_ptr<Telemetry::Impl> impl_;
  SpanRecord span_;
  bool ended_ = false;
};

class ClientSpanObserver final : public net::HttpCallObserver {
 public:
  explicit ClientSpanObserver(std::weak_ptr<Telemetry::Impl> impl) : impl_(std::move(impl)) {}
  std::unique_ptr<net::HttpCallScope> OnCallStart(net::HttpRequestSpec& request) override {
    SpanRecord span;
    std::optional<SpanContext> parent;
    if (!request.traceparent.empty()) parent = ParseTraceparent(request.traceparent);
    if (parent) {
      span.context = parent->Child();
      span.parent = parent->span_id;
    } else {
      span.context = SpanContext::NewRoot();
    }
    span.kind = SpanKind::kClient;
    span.name = request.method;
    span.start_ns = NowUnixNanos();
    // The URL without its query (SAS tokens, api keys) or user info.
    std::string url = request.url.substr(0, request.url.find_first_of("?#"));
    const size_t scheme = url.find("://");
    const size_t at = url.find('@');
    const size_t slash =
        scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
    if (scheme != std::string::npos && at != std::string::npos && at < slash) {
      url.erase(scheme + 3, at - scheme - 2);
    }
    std::string host =
        scheme == std::string::npos
            ? std::string()
            : url.substr(scheme + 3,
                         slash == std::string::npos ? std::string::npos : slash - scheme - 3);
    span.Attr("http.request.method", request.method);
    span.Attr("server.address",
              host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']'
                                 ? std::string::npos
                                 : host.rfind(':')));
    span.Attr("url.full", std::move(url));
    // Replaces a traceparent the caller set itself: the upstream's parent is this client span.
    std::erase_if(request.headers, [](const auto& h) {
      return h.first.size() == 11 && strncasecmp(h.first.c_str(), "traceparent", 11) == 0;
    });
    request.headers.emplace_back("traceparent", FormatTraceparent(span.context));
    return std::make_unique<ClientSpanScope>(impl_, std::move(span));
  }

 private:
  std::weak_ptr<Telemetry::Impl> impl_;
};

}  // namespace

void ClientSpanScope::Record() {
  span_.end_ns = NowUnixNanos();
  if (auto impl = impl_.lock()) impl->PushSpan(std::move(span_));
}

void ExportLogSink::OnLog(core::LogLevel level, std::string_view component,
                          std::string_view message, std::initializer_list<core::LogField> fields) {
  auto impl = impl_.lock();
  if (!impl || level < impl->opts.log_level) return;
  LogRecord r;
  r.time_ns = NowUnixNanos();
  r.level = level;
  r.component = component;
  r.message = message;
  for (const auto& [k, v] : fields) {
    r.fields.emplace_back(k, impl->opts.include_pii ? std::string(v) : RedactDigits(v));
  }
  impl->PushLog(std::move(r));
}

// ---- Telemetry ----

core::Result<std::unique_ptr<Telemetry>> Telemetry::Create(TelemetryOptions options,
                                                           Metrics* metrics) {
  while (!options.otlp_endpoint.empty() && options.otlp_endpoint.back() == '/') {
    options.otlp_endpoint.pop_back();
  }
  if (!ValidEndpoint(options.otlp_endpoint)) {
    return core::InvalidArgumentError("telemetry.otlp_endpoint: '" + options.otlp_endpoint +
                                      "' is not an http(s) URL (e.g. http://127.0.0.1:4318)");
  }
  if (options.max_batch == 0 || options.max_queue == 0 || options.max_attempts < 1) {
    return core::InvalidArgumentError("telemetry: batch size, queue size and attempts must be > 0");
  }
  TelemetryResource& r = options.resource;
  if (r.service_name.empty()) r.service_name = "artagent";
  if (r.service_version.empty()) r.service_version = ARTAGENT_VERSION;
  if (r.service_instance_id.empty()) r.service_instance_id = core::NewId("inst");
  if (r.host_name.empty()) r.host_name = HostName();
  net::HttpClientOptions http_options = options.http;
  http_options.observer.reset();  // the exporter's own calls would feed themselves

  auto impl = std::make_shared<Impl>(std::move(options));
  impl->metrics = metrics;
  impl->http = net::HttpClient::Create(http_options);
  impl->executor = core::SerialThreadExecutor::Create("otlp-export");
  impl->observer = std::make_shared<ClientSpanObserver>(impl);
  if (metrics) {
    std::weak_ptr<Impl> weak = impl;
    metrics->AddRefresher([weak, metrics] {
      auto self = weak.lock();
      if (!self) return;
      metrics->circuit_breaker_state.Add({{"upstream", "otlp"}})
          .Set(static_cast<double>(self->breaker.state() == net::CircuitBreaker::State::kClosed ? 0
                                   : self->breaker.state() == net::CircuitBreaker::State::kOpen
                                       ? 1
                                       : 2));
    });
  }
  impl->executor->RunSync([&impl] { impl->StartExporter(); });
  if (impl->opts.export_logs) {
    impl->log_sink = std::make_shared<ExportLogSink>(impl);
    core::SetLogSink(impl->log_sink);
  }
  return std::unique_ptr<Telemetry>(new Telemetry(std::move(impl)));
}

Telemetry::Telemetry(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Telemetry::~Telemetry() {
  if (impl_->log_sink) core::SetLogSink(nullptr);
  Flush(std::chrono::seconds(3));
  impl_->executor->RunSync([impl = impl_.get()] {
    impl->stopping = true;
    impl->tick_timer.reset();
    for (auto& st : impl->state) {
      st.retry_timer.reset();
      st.call.reset();
    }
  });
  impl_->executor.reset();  // joins the exporter thread
  impl_->http.reset();
}

const TelemetryOptions& Telemetry::options() const { return impl_->opts; }
bool Telemetry::include_pii() const { return impl_->opts.include_pii; }

bool Telemetry::RecordSpan(SpanRecord span) { return impl_->PushSpan(std::move(span)); }
bool Telemetry::RecordLog(LogRecord record) { return impl_->PushLog(std::move(record)); }

void Telemetry::BindSession(const std::string& session_id, const SpanContext& context) {
  std::lock_guard lock(impl_->sessions_mu);
  impl_->sessions[session_id] = context;
}

void Telemetry::UnbindSession(const std::string& session_id) {
  std::lock_guard lock(impl_->sessions_mu);
  impl_->sessions.erase(session_id);
}

std::shared_ptr<net::HttpCallObserver> Telemetry::http_observer() { return impl_->observer; }

bool Telemetry::Flush(std::chrono::milliseconds timeout) {
  Impl* impl = impl_.get();
  const auto deadline = core::Clock::now() + timeout;
  impl->executor->Post([impl] {
    impl->SnapshotMetrics();
    impl->Pump(kTraces);
    impl->Pump(kLogs);
  });
  while (true) {
    uint64_t gen = 0;
    {
      std::lock_guard lock(impl->idle_mu);
      gen = impl->idle_gen;
    }
    bool idle = false;
    // Idle() reads exporter state: ask on the exporter's thread.
    impl->executor->RunSync([impl, &idle] {
      idle = impl->Idle();
      if (idle) return;
      // Records queued since the last batch went out go now, not at the next tick.
      if (impl->spans.size() > 0) impl->Pump(kTraces);
      if (impl->logs.size() > 0) impl->Pump(kLogs);
    });
    if (idle) return true;
    if (core::Clock::now() >= deadline) return false;
    std::unique_lock lock(impl->idle_mu);
    if (!impl->idle_cv.wait_until(lock, deadline, [&] { return impl->idle_gen != gen; })) {
      return false;
    }
  }
}

TelemetryStats Telemetry::stats() const {
  TelemetryStats s;
  s.spans_exported = impl_->spans_exported;
  s.logs_exported = impl_->logs_exported;
  s.metric_points_exported = impl_->points_exported;
  s.spans_dropped = impl_->spans_dropped;
  s.logs_dropped = impl_->logs_dropped;
  s.export_requests = impl_->requests;
  s.export_failures = impl_->failures;
  s.retries = impl_->retries;
  s.rejected = impl_->rejected;
  return s;
}

net::CircuitBreaker::State Telemetry::breaker_state() const { return impl_->breaker.state(); }

core::Result<std::unique_ptr<Telemetry>> TelemetryFromConfig(
    const TelemetryConfig& config, Metrics* metrics,
    const std::function<core::Result<std::string>(const std::string&)>& resolve_secret,
    const std::function<std::string(const std::string&)>& env) {
  std::string connection = config.app_insights_connection_string;
  if (connection.empty() && env) connection = env("APPLICATIONINSIGHTS_CONNECTION_STRING");
  if (!connection.empty()) {
    auto resolved =
        resolve_secret ? resolve_secret(connection) : core::Result<std::string>(connection);
    if (!resolved.ok())
      return resolved.status().WithContext("telemetry.app_insights_connection_string");
    auto parsed = ParseAppInsightsConnectionString(resolved.value());
    if (!parsed.ok()) return parsed.status();
    if (config.otlp_endpoint.empty()) {
      core::LogWarn("telemetry",
                    "an Application Insights connection string is set but telemetry.otlp_endpoint "
                    "is not: nothing is exported. Run an OpenTelemetry Collector with the "
                    "azuremonitor exporter (ingestion {}) and point telemetry.otlp_endpoint at it",
                    parsed->ingestion_endpoint);
    } else {
      core::LogInfo("telemetry",
                    "Application Insights ingestion {} is reached through the collector at {}",
                    parsed->ingestion_endpoint, config.otlp_endpoint);
    }
  }
  if (config.otlp_endpoint.empty()) return std::unique_ptr<Telemetry>();
  TelemetryOptions o;
  o.otlp_endpoint = config.otlp_endpoint;
  for (const std::string& header : config.otlp_headers) {
    const size_t eq = header.find('=');
    if (eq == std::string::npos || eq == 0) {
      return core::InvalidArgumentError(
          "telemetry.otlp_headers: expected name=value entries (e.g. api-key=secret://OTLP_KEY)");
    }
    std::string value = header.substr(eq + 1);
    if (resolve_secret) {
      auto resolved = resolve_secret(value);
      if (!resolved.ok()) return resolved.status().WithContext("telemetry.otlp_headers");
      value = std::move(resolved).value();
    }
    o.headers.emplace_back(header.substr(0, eq), std::move(value));
  }
  o.resource.service_name = config.service_name;
  o.include_pii = config.include_pii;
  if (!core::ParseLogLevel(config.log_level, &o.log_level)) {
    return core::InvalidArgumentError("telemetry.log_level: expected debug|info|warn|error|off");
  }
  o.export_logs = o.log_level != core::LogLevel::kOff;
  o.max_batch = static_cast<size_t>(config.batch_size);
  o.max_queue = static_cast<size_t>(config.max_queue);
  o.flush_interval = std::chrono::milliseconds(config.flush_interval_ms);
  o.metrics_interval = std::chrono::seconds(config.metrics_interval_s);
  auto t = Telemetry::Create(std::move(o), metrics);
  if (t.ok()) {
    core::LogInfo("telemetry", "exporting traces, metrics and logs to {} (OTLP/HTTP JSON)",
                  config.otlp_endpoint);
  }
  return t;
}

}  // namespace artagent::platform
