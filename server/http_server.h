#pragma once
// HttpServer: the one listener for HTTP/1.1 and WebSocket, plain and TLS on the same port.
//
//   auto router = std::make_shared<Router>();
//   AddAdminRoutes(*router, &metrics, readiness);
//   router->AddWebSocket("/v1/realtime", realtime_route);
//   ARTAGENT_ASSIGN_OR_RETURN(auto server, HttpServer::Create(options, router, &metrics));
//   ARTAGENT_RETURN_IF_ERROR(server->Start());
//   ...
//   server->Stop();
//
// Requests are answered by the router, then by static files from web_root (GET/HEAD), then 405
// (the path exists for another method) or 404. HTTP handlers and every WebSocket handler call run
// on the connection's strand, an I/O thread: they must not block. When a certificate is
// configured, each connection is sniffed: a TLS ClientHello gets TLS, anything else plain HTTP.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/router.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace artagent::platform {
class Metrics;
}  // namespace artagent::platform

namespace artagent::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an address or a name resolved at Start()
  uint16_t port = 8080;            // 0: any free port (see HttpServer::port())
  int io_threads = 0;              // 0: one per hardware thread
  // PEM files. Both or neither; with both, the port also speaks TLS (https/wss).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string web_root;                            // static files; empty: none
  size_t max_header_bytes = 8 * 1024;              // larger request headers: 431
  size_t max_body_bytes = 1024 * 1024;             // larger request bodies: 413
  size_t max_ws_message_bytes = 16 * 1024 * 1024;  // larger WebSocket messages: close 1009
  size_t ws_send_queue_bytes = 8 * 1024 * 1024;    // more queued output: close 1008 (slow reader)
  // HTTP keep-alive idle time and WebSocket silence (a ping is sent half-way through).
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds shutdown_grace{10};  // how long Stop() lets open work finish
  size_t max_connections = 4096;            // beyond this, new connections are closed at once
};

class HttpServer {
 public:
  // Validates the options and loads the TLS certificate (errors name the option or file). The
  // router must be complete: routes are not added once the server has started. `metrics` may be
  // null; otherwise it must outlive the server.
  static core::Result<std::unique_ptr<HttpServer>> Create(ServerOptions options,
                                                          std::shared_ptr<Router> router,
                                                          platform::Metrics* metrics);
  ~HttpServer();  // Stop()s if needed
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then starts the I/O threads. An address already in use is reported with the
  // address and how to fix it. Call once.
  core::Status Start();
  // The bound port (the real one when options.port was 0); 0 before Start().
  uint16_t port() const;
  // "http://127.0.0.1:8080/" ("https://" when TLS is configured).
  std::string url() const;

  // Graceful shutdown, blocking: stops accepting; every WebSocket handler gets OnClose(1001) and
  // may still send, then the client gets a 1001 close frame; HTTP requests in progress finish and
  // idle keep-alive connections are closed. Whatever is still open after shutdown_grace is cut,
  // then the I/O threads are joined. Idempotent; must not be called from an I/O thread.
  void Stop();

  // The server's io_context, valid from Create() on; run by the I/O threads between Start() and
  // Stop(). A connection (and so WebSocketConnection::executor()) keeps it alive, so a session
  // that outlives the server can still post and cancel timers safely; the work just never runs.
  // Executors that you make on it yourself must be gone before the server is destroyed.
  boost::asio::io_context& io_context();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artagent::server
