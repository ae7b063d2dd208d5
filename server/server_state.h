#pragma once
// Internal to server/: what every connection of one HttpServer shares (options, router, TLS
// context, static files, metrics) and the registry of live connections that Stop() walks.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/metrics.h"
#include "server/http_server.h"
#include "server/router.h"
#include "server/static_files.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}  // namespace ssl
}  // namespace boost::asio

namespace artagent::server {

// A live connection as Stop() sees it. Both calls may come from any thread; implementations post to
// the connection's strand.
class Closable {
 public:
  virtual ~Closable() = default;
  // Wind down politely: idle HTTP connections close, requests in progress finish, WebSockets get
  // OnClose(1001) and a 1001 close frame.
  virtual void BeginShutdown() = 0;
  // Close the socket now; pending operations fail and the connection unwinds.
  virtual void ForceClose() = 0;
};

class ServerState {
 public:
  ServerState(ServerOptions options, std::shared_ptr<Router> router, platform::Metrics* metrics,
              std::shared_ptr<boost::asio::io_context> io)
      : options(std::move(options)),
        router(std::move(router)),
        metrics(metrics),
        io(std::move(io)) {}

  const ServerOptions options;
  const std::shared_ptr<const Router> router;
  platform::Metrics* const metrics;  // may be null
  // Every connection holds the state, so the io_context outlives the sockets, strands and timers
  // of connections that handlers or sessions keep past the server's own lifetime.
  const std::shared_ptr<boost::asio::io_context> io;
  boost::asio::ssl::context* tls = nullptr;  // owned by the server; null without a certificate
  std::optional<StaticFiles> static_files;   // empty without a web root

  enum class Admission { kAdmitted, kStopping, kFull };
  // Registers a connection that has just been accepted; refused once Stop() began or when
  // max_connections are live. On kAdmitted `*id` is the key for Unregister().
  Admission Register(std::weak_ptr<Closable> connection, uint64_t* id);
  void Unregister(uint64_t id);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Marks the server as stopping (no more Register) and returns the live connections.
  std::vector<std::shared_ptr<Closable>> BeginStop();
  std::vector<std::shared_ptr<Closable>> Live() const;
  // Waits until no connection is registered; false if `deadline` came first.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  // Metrics; no-ops without a Metrics object. Label values come from small fixed sets.
  void CountRequest(std::string_view method, int status);
  void CountProtocolError(std::string_view transport, std::string_view kind);
  void CountRefused(std::string_view reason);
  prometheus::Gauge* WsConnectionsGauge(const std::string& path);

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::unordered_map<uint64_t, std::weak_ptr<Closable>> live_;
  uint64_t next_id_ = 1;
  std::atomic<bool> stopping_{false};
};

}  // namespace artagent::server
