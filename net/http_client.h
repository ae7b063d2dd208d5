#pragma once
// HttpClient: outbound HTTP/1.1 over TCP or TLS (OpenSSL), for every call artagent makes to
// another service (model APIs, webhook tools, ACS Call Automation, Key Vault, ...). The interface
// hides Asio: code below the server sees only this header, Executors and callbacks.
//
// A call streams: the response head, then body bytes as they arrive (chunked transfer decoded),
// then exactly one on_done. All callbacks of one call are posted, in order, to the Executor given
// to Send(); none runs inside Send() itself. Cancel() (or destroying the HttpCall) on that
// executor guarantees that no callback runs afterwards.
//
// Timeouts: connect (DNS + TCP + TLS), first byte (request written -> response head), idle (gap
// between two body reads), total. Each expiry ends the call with kDeadlineExceeded naming which
// one. Retries are the caller's decision (see net/retry.h): the client never re-sends.
//
// Connections are not pooled yet: every call opens its own connection (and TLS session) and
// closes it at the end. The client must outlive its calls (cancel or finish them first);
// destroying it stops its I/O threads, and calls still running then never report.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/executor.h"
#include "core/status.h"

namespace artagent::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; "" if absent.
std::string FindHeader(const Headers& headers, std::string_view name);

struct HttpRequestSpec {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://...
  Headers headers;  // Host, Content-Length and User-Agent are added when missing
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_byte_timeout{30000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds total_timeout{120000};
  // W3C trace context of the caller's span ("00-<32 hex>-<16 hex>-01"), empty if none. With an
  // HttpCallObserver the observer makes this call a child of it; without one the value is sent
  // as the `traceparent` header as it is (unless the request already has one).
  std::string traceparent;
};

struct HttpResponseHead {
  int status = 0;
  Headers headers;
  std::string Header(std::string_view name) const { return FindHeader(headers, name); }
};

struct HttpCallbacks {
  std::function<void(const HttpResponseHead& head)> on_head;  // optional
  std::function<void(std::string_view chunk)> on_body;        // optional; decoded body bytes
  // Exactly once unless cancelled. OK when the whole response was received (any HTTP status);
  // kUnavailable for connection/TLS/protocol failures and a body cut short, kDeadlineExceeded for
  // timeouts, kResourceExhausted when the body exceeds HttpClientOptions::max_response_bytes.
  std::function<void(const core::Status& status)> on_done;
};

class HttpCall {
 public:
  virtual ~HttpCall() = default;
  virtual void Cancel() = 0;
};

// A whole response, for callers that do not stream.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string Header(std::string_view name) const { return FindHeader(headers, name); }
};

// One call as seen by an HttpCallObserver: it ends with End() (the whole response or a failure),
// or is destroyed without End() when the caller cancelled it. Any thread; must not block.
class HttpCallScope {
 public:
  virtual ~HttpCallScope() = default;
  // `http_status` 0 when no response head arrived; `status` as given to on_done.
  virtual void End(int http_status, const core::Status& status) = 0;
};

// Sees every call a client makes (telemetry: a client span per call). OnCallStart runs inside
// Send() on the caller's thread, before anything is sent, and may add headers (e.g. W3C
// `traceparent`); it returns the call's scope (nullptr: not observed). Must be cheap and must not
// block. The observer must outlive the client's calls.
class HttpCallObserver {
 public:
  virtual ~HttpCallObserver() = default;
  virtual std::unique_ptr<HttpCallScope> OnCallStart(HttpRequestSpec& request) = 0;
};

struct HttpClientOptions {
  int io_threads = 1;
  bool verify_tls = true;  // peer certificate and host name
  std::string ca_file;     // extra CA bundle (PEM); the system store is always used
  size_t max_response_bytes = 64 * 1024 * 1024;
  std::string user_agent = "artagent/0.1";
  std::shared_ptr<HttpCallObserver> observer;  // optional
};

class HttpClient {
 public:
  static std::unique_ptr<HttpClient> Create(const HttpClientOptions& options = {});
  virtual ~HttpClient() = default;

  // Starts a call. Invalid URLs fail through on_done (posted), never by throwing.
  virtual std::unique_ptr<HttpCall> Send(HttpRequestSpec request, HttpCallbacks callbacks,
                                         std::shared_ptr<core::Executor> executor) = 0;

  // Buffers the whole body; `done` is posted to `executor`. The returned call cancels it.
  std::unique_ptr<HttpCall> Fetch(HttpRequestSpec request,
                                  std::function<void(core::Result<HttpResponse>)> done,
                                  std::shared_ptr<core::Executor> executor);
};

}  // namespace artagent::net
