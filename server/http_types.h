#pragma once
// The server's view of HTTP and WebSocket, free of Beast types so that handlers (admin API,
// transports) do not depend on the networking library.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/executor.h"
#include "core/status.h"

namespace artagent::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: "/api/v1/sessions?limit=5"
  std::string path;    // percent-decoded path without the query: "/api/v1/sessions"
  std::vector<std::pair<std::string, std::string>> query;    // decoded query parameters, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::vector<std::pair<std::string, std::string>> params;   // route parameters: {id} -> value
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412"
  bool tls = false;

  // Empty if absent. Header names are matched case-insensitively.
  std::string_view Header(std::string_view name) const;
  std::string_view Query(std::string_view name) const;
  std::string_view Param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static HttpResponse Json(int status, const nlohmann::json& body);
  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain");
  // {"error":{"code":code,"message":message}} with the given HTTP status.
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
  // Maps a Status to 400/404/409/503/504/429/401/403/500 and an Error() body.
  static HttpResponse FromStatus(const core::Status& status);
};

// Runs on an I/O thread: must be quick and must not block (no disk or network waits beyond a
// small indexed SQLite read).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// WebSocket close codes we use (RFC 6455 §7.4.1).
enum WsCloseCode : uint16_t {
  kWsNormal = 1000,
  kWsGoingAway = 1001,
  kWsProtocolError = 1002,
  kWsUnsupportedData = 1003,
  kWsPolicyViolation = 1008,  // e.g. a client too slow to read its output
  kWsMessageTooBig = 1009,
  kWsInternalError = 1011,
  kWsTryAgainLater = 1013,  // server at capacity
};

// The server side of one WebSocket. Thread-safe; owned by the server, shared with the handler.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a text frame. Writes go out one at a time in order. If more than the configured limit
  // of bytes is waiting (a reader that is too slow), the connection is closed with 1008 and the
  // handler gets OnClose.
  virtual void SendText(std::string message) = 0;
  virtual void SendBinary(std::string message) = 0;
  // Sends a close frame after the queued messages and ends the connection.
  virtual void Close(uint16_t code, std::string reason) = 0;
  // The connection's strand. Every handler callback runs on it; the session of this connection
  // lives on it too.
  virtual core::Executor& executor() = 0;
  virtual size_t QueuedBytes() const = 0;
  virtual const std::string& remote_address() const = 0;
};

// One per connection; every call comes on the connection's executor, never concurrently.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // After the handshake has completed.
  virtual void OnOpen() {}
  virtual void OnMessage(std::string_view data, bool is_text) = 0;
  // The connection is gone (peer close, error, timeout, server shutdown). No call follows.
  // `code` is the peer's close code, or 1006 when the connection dropped without one.
  virtual void OnClose(uint16_t code) = 0;
};

struct WebSocketRoute {
  // Subprotocols we accept, in preference order; the first one the client offers is echoed.
  std::vector<std::string> subprotocols;
  // Called before the handshake. Returning an error refuses the upgrade with the mapped HTTP status
  // (kUnauthenticated -> 401, kResourceExhausted/kUnavailable -> 503, ...).
  std::function<core::Result<std::unique_ptr<WebSocketHandler>>(
      const HttpRequest& request, std::shared_ptr<WebSocketConnection> connection)>
      accept;
};

}  // namespace artagent::server
