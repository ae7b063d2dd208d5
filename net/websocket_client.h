#pragma once
// WebSocketClient: outbound WebSocket connections (ws:// and wss://) for services that stream
// over one (Azure Speech real-time recognition). The interface hides Asio/Beast.
//
// One client owns one I/O thread shared by its connections. Connect() blocks its caller (never
// call it on that I/O thread) through TCP, TLS and the upgrade, each bounded by the timeout.
// After that the connection is full duplex: Send() queues a message (any thread, one write in
// flight, order kept, never blocks); received messages and the one close notification go to the
// handlers on the I/O thread, in order — handlers must be quick and must not block. Close() (any
// thread) starts a clean close; after it, on_closed is still called once. Destroying the client
// stops its I/O thread (no handler runs afterwards): release every connection before it.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/http_client.h"

namespace artagent::net {

struct WebSocketHandlers {
  std::function<void(std::string message, bool binary)> on_message;
  // Exactly once: OK after a close we asked for, kUnavailable naming the cause otherwise (reset,
  // timeout, the peer's close code and reason).
  std::function<void(const core::Status& status)> on_closed;
};

class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues one message; dropped silently once the connection is closed (on_closed tells).
  virtual void Send(std::string message, bool binary) = 0;
  virtual void Close() = 0;
  virtual bool is_open() const = 0;
};

struct WebSocketClientOptions {
  bool verify_tls = true;  // peer certificate and host name
  std::string ca_file;     // extra CA bundle (PEM)
  size_t max_message_bytes = 4 * 1024 * 1024;
  std::string user_agent = "artagent/0.1";
};

class WebSocketClient {
 public:
  static std::unique_ptr<WebSocketClient> Create(const WebSocketClientOptions& options = {});
  virtual ~WebSocketClient() = default;

  // kInvalidArgument for a bad URL; kUnauthenticated when the upgrade is refused with 401/403;
  // kResourceExhausted for 429; kUnavailable for other failures (naming the HTTP status when
  // the server answered); kDeadlineExceeded when `timeout` passed.
  virtual core::Result<std::shared_ptr<WebSocketConnection>> Connect(
      const std::string& url, const Headers& headers, std::chrono::milliseconds timeout,
      WebSocketHandlers handlers) = 0;
};

}  // namespace artagent::net
