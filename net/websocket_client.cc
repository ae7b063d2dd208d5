#include "net/websocket_client.h"

#include <openssl/ssl.h>

#include <deque>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/log.h"
#include "net/url.h"

namespace artagent::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

core::Status UpgradeError(const ParsedUrl& url, const websocket::response_type& res,
                          const error_code& ec) {
  const int status = static_cast<int>(res.result_int());
  const std::string where = url.host_header + url.target.substr(0, url.target.find('?'));
  if (status == 401 || status == 403) {
    return core::UnauthenticatedError("WebSocket upgrade to " + where + " refused: HTTP " +
                                      std::to_string(status));
  }
  if (status == 429) {
    return core::ResourceExhaustedError("WebSocket upgrade to " + where + ": HTTP 429");
  }
  if (status != 0 && status != 101) {
    return core::UnavailableError("WebSocket upgrade to " + where + ": HTTP " +
                                  std::to_string(status));
  }
  if (ec == beast::error::timeout) {
    return core::DeadlineExceededError("WebSocket upgrade to " + where + ": timed out");
  }
  return core::UnavailableError("WebSocket upgrade to " + where + ": " + ec.message());
}

template <class Ws>
class Connection final : public WebSocketConnection,
                         public std::enable_shared_from_this<Connection<Ws>> {
 public:
  template <class... Args>
  Connection(WebSocketHandlers handlers, const WebSocketClientOptions& options, Args&&... args)
      : ws_(std::forward<Args>(args)...), handlers_(std::move(handlers)), options_(options) {}

  void Send(std::string message, bool binary) override {
    if (!open_) return;
    asio::post(ws_.get_executor(),
               [self = this->shared_from_this(), m = std::move(message), binary]() mutable {
                 if (!self->open_ || self->closing_) return;
                 self->outbox_.emplace_back(std::move(m), binary);
                 if (!self->writing_) self->WriteNext();
               });
  }

  void Close() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      if (!self->open_ || self->closing_) return;
      self->closing_ = true;
      self->ws_.async_close(websocket::close_code::normal, [self](error_code) {});
    });
  }

  bool is_open() const override { return open_; }

  asio::awaitable<core::Status> Open(ParsedUrl url, Headers headers,
                                     std::chrono::milliseconds timeout) {
    auto& lowest = beast::get_lowest_layer(ws_);
    tcp::resolver resolver(ws_.get_executor());
    auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, kAwaitTuple);
    if (rec) co_return core::UnavailableError("resolving " + url.host + ": " + rec.message());
    lowest.expires_after(timeout);
    auto [cec, ep] = co_await lowest.async_connect(endpoints, kAwaitTuple);
    if (cec) {
      if (cec == beast::error::timeout) {
        co_return core::DeadlineExceededError("connecting to " + url.host_header + ": timed out");
      }
      co_return core::UnavailableError("connecting to " + url.host_header + ": " + cec.message());
    }
    lowest.socket().set_option(tcp::no_delay(true), cec);
    if constexpr (std::is_same_v<Ws, TlsWs>) {
      auto& tls = ws_.next_layer();
      if (!IsIpLiteral(url.host) &&
          !SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
        co_return core::UnavailableError("TLS: cannot set SNI host name " + url.host);
      }
      if (options_.verify_tls) {
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification(url.host));
      } else {
        tls.set_verify_mode(ssl::verify_none);
      }
      auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kAwaitTuple);
      if (hec) {
        co_return core::UnavailableError("TLS handshake with " + url.host_header + ": " +
                                         hec.message());
      }
    }
    // From here the WebSocket's own timeouts apply (the TCP stream's must be off).
    lowest.expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = timeout;
    t.idle_timeout = std::chrono::seconds(60);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    const std::string agent = options_.user_agent;
    ws_.set_option(websocket::stream_base::decorator([headers, agent](websocket::request_type& r) {
      r.set(beast::http::field::user_agent, agent);
      for (const auto& [name, value] : headers) r.set(name, value);
    }));
    ws_.read_message_max(options_.max_message_bytes);
    websocket::response_type res;
    auto [wec] = co_await ws_.async_handshake(res, url.host_header, url.target, kAwaitTuple);
    if (wec) co_return UpgradeError(url, res, wec);
    open_ = true;
    asio::co_spawn(ws_.get_executor(), ReadLoop(this->shared_from_this()), asio::detached);
    co_return core::Status();
  }

 private:
  static asio::awaitable<void> ReadLoop(std::shared_ptr<Connection> self) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await self->ws_.async_read(buffer, kAwaitTuple);
      if (ec) {
        self->open_ = false;
        core::Status status;
        if (ec == websocket::error::closed) {
          const auto& reason = self->ws_.reason();
          if (!self->closing_) {
            status = core::UnavailableError(
                "WebSocket closed by the server: code " + std::to_string(reason.code) +
                (reason.reason.empty() ? "" : " " + std::string(reason.reason.c_str())));
          }
        } else if (!self->closing_) {
          status = core::UnavailableError("WebSocket connection lost: " + ec.message());
        }
        self->outbox_.clear();
        if (self->handlers_.on_closed) self->handlers_.on_closed(status);
        co_return;
      }
      std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (self->handlers_.on_message)
        self->handlers_.on_message(std::move(message), self->ws_.got_binary());
    }
  }

  void WriteNext() {
    writing_ = true;
    auto& front = outbox_.front();
    ws_.binary(front.second);
    ws_.async_write(asio::buffer(front.first),
                    [self = this->shared_from_this()](error_code ec, size_t) {
                      if (!self->outbox_.empty()) self->outbox_.pop_front();
                      if (ec || self->outbox_.empty()) {
                        self->writing_ = false;
                        return;
                      }
                      self->WriteNext();
                    });
  }

  Ws ws_;
  WebSocketHandlers handlers_;
  WebSocketClientOptions options_;
  std::atomic<bool> open_{false};
  bool closing_ = false;  // on the I/O thread only, as are outbox_ and writing_
  bool writing_ = false;
  std::deque<std::pair<std::string, bool>> outbox_;
};

class ClientImpl final : public WebSocketClient {
 public:
  explicit ClientImpl(const WebSocketClientOptions& options)
      : options_(options), work_(asio::make_work_guard(io_)), tls_(ssl::context::tls_client) {
    error_code ec;
    tls_.set_default_verify_paths(ec);
    if (!options_.ca_file.empty()) {
      tls_.load_verify_file(options_.ca_file, ec);
      if (ec) core::LogWarn("net", "WebSocket client: cannot load CA file {}", options_.ca_file);
    }
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ClientImpl() override {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  core::Result<std::shared_ptr<WebSocketConnection>> Connect(const std::string& url,
                                                             const Headers& headers,
                                                             std::chrono::milliseconds timeout,
                                                             WebSocketHandlers handlers) override {
    auto parsed = ParseUrl(url);
    if (!parsed.ok()) return parsed.status();
    std::promise<core::Status> promise;
    auto future = promise.get_future();
    auto done = [&promise](std::exception_ptr e, core::Status st) {
      promise.set_value(e ? core::InternalError("WebSocket connect failed unexpectedly") : st);
    };
    std::shared_ptr<WebSocketConnection> conn;
    if (parsed->tls) {
      auto c = std::make_shared<Connection<TlsWs>>(std::move(handlers), options_, io_, tls_);
      conn = c;
      asio::co_spawn(io_, c->Open(*parsed, headers, timeout), done);
    } else {
      auto c = std::make_shared<Connection<PlainWs>>(std::move(handlers), options_, io_);
      conn = c;
      asio::co_spawn(io_, c->Open(*parsed, headers, timeout), done);
    }
    core::Status status = future.get();
    if (!status.ok()) return status;
    return conn;
  }

 private:
  WebSocketClientOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  ssl::context tls_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<WebSocketClient> WebSocketClient::Create(const WebSocketClientOptions& options) {
  return std::make_unique<ClientImpl>(options);
}

}  // namespace artagent::net
