#include "server/websocket_session.h"

#include <atomic>
#include <deque>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "core/log.h"

namespace artagent::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
// Time for the opening handshake response and for the closing handshake once we started it;
// after that the socket is closed without waiting for the peer.
constexpr std::chrono::seconds kHandshakeTimeout{10};
constexpr std::chrono::seconds kCloseTimeout{5};
// Close reasons travel in a control frame: at most 123 bytes.
constexpr size_t kMaxCloseReason = 123;

struct Outgoing {
  std::string data;
  bool text;
};

// One WebSocket. Everything except the public WebSocketConnection entry points runs on the strand,
// which is also the executor of the underlying socket: no locks. Writes go out one at a time from
// `queue_` (its front is the frame in flight while `writing_`).
template <class Stream>
class WsSession final : public ServerWebSocket,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream& stream, WebSocketParams params)
      : params_(std::move(params)), ws_(stream), executor_(params_.strand) {}

  void SendText(std::string message) override { Send(std::move(message), true); }
  void SendBinary(std::string message) override { Send(std::move(message), false); }

  void Close(uint16_t code, std::string reason) override {
    OnStrand([code, reason = std::move(reason)](WsSession& self) mutable {
      self.RequestClose(code, std::move(reason), /*notify_handler=*/true);
    });
  }

  core::Executor& executor() override { return executor_; }
  size_t QueuedBytes() const override { return queued_bytes_.load(std::memory_order_relaxed); }
  const std::string& remote_address() const override { return params_.remote_address; }

  void BeginShutdown() override {
    OnStrand([](WsSession& self) {
      if (self.finished_ || self.close_requested_) return;
      // The handler hears first and may still send (a last event); the close frame follows what
      // it queued.
      self.NotifyClose(kWsGoingAway);
      self.RequestClose(kWsGoingAway, "server shutting down", /*notify_handler=*/false);
    });
  }

  void ForceClose() override {
    OnStrand([](WsSession& self) { self.CloseSocket(); });
  }

  void Abandon() override {
    finished_ = true;
    notified_ = true;
    DropQueued();
  }

  asio::awaitable<void> Run(const UpgradeRequest& upgrade,
                            std::unique_ptr<WebSocketHandler> handler,
                            std::string subprotocol) override;

 private:
  // Runs `fn(*this)` on the strand: inline when already there, posted otherwise.
  template <class Fn>
  void OnStrand(Fn&& fn) {
    if (executor_.RunningInThisThread()) {
      fn(*this);
      return;
    }
    asio::post(executor_.strand(), [self = this->shared_from_this(),
                                    fn = std::forward<Fn>(fn)]() mutable { fn(*self); });
  }

  void Send(std::string message, bool text) {
    // Counted at once, so that QueuedBytes() also sees what is still being posted.
    queued_bytes_.fetch_add(message.size(), std::memory_order_relaxed);
    OnStrand([message = std::move(message), text](WsSession& self) mutable {
      self.Enqueue(std::move(message), text);
    });
  }

  void Enqueue(std::string message, bool text) {
    if (finished_ || close_requested_) {
      queued_bytes_.fetch_sub(message.size(), std::memory_order_relaxed);
      return;
    }
    queue_.push_back({std::move(message), text});
    if (queued_bytes_.load(std::memory_order_relaxed) >
        params_.state->options.ws_send_queue_bytes) {
      SlowReader();
      return;
    }
    if (open_ && !writing_ && ws_.is_open()) DoWrite();
  }

  void SlowReader() {
    params_.state->CountProtocolError("ws", "slow_reader");
    core::LogWarn("server", "websocket {} {}: more than {} bytes waiting, client too slow; closing",
                  params_.path, params_.remote_address, params_.state->options.ws_send_queue_bytes);
    DropQueued();
    RequestClose(kWsPolicyViolation, "send queue full: client too slow", /*notify_handler=*/true);
  }

  // Drops queued frames, except the one being written (its buffer is in use).
  void DropQueued() {
    const size_t keep = writing_ && !queue_.empty() ? 1 : 0;
    size_t dropped = 0;
    while (queue_.size() > keep) {
      dropped += queue_.back().data.size();
      queue_.pop_back();
    }
    queued_bytes_.fetch_sub(dropped, std::memory_order_relaxed);
  }

  void DoWrite() {
    writing_ = true;
    Outgoing& next = queue_.front();
    ws_.text(next.text);
    ws_.async_write(
        asio::buffer(next.data),
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const error_code& ec) {
    writing_ = false;
    queued_bytes_.fetch_sub(queue_.front().data.size(), std::memory_order_relaxed);
    queue_.pop_front();
    // Finished, or the peer's close frame arrived: Beast answers it and the read loop ends.
    if (finished_ || !ws_.is_open()) return;
    if (ec) {
      // The read side sees the broken connection too and reports it.
      CloseSocket();
      return;
    }
    if (!queue_.empty()) {
      DoWrite();
      return;
    }
    MaybeSendClose();
  }

  // Closing starts with this and ends when the read loop sees the peer's close frame (or the
  // socket is closed after kCloseTimeout). `notify_handler` posts OnClose(code), never re-entering
  // a handler that called Close() or SendText().
  void RequestClose(uint16_t code, std::string reason, bool notify_handler) {
    if (finished_ || close_requested_) return;
    close_requested_ = true;
    close_code_ = code;
    if (reason.size() > kMaxCloseReason) reason.resize(kMaxCloseReason);
    close_reason_ = std::move(reason);
    std::weak_ptr<WsSession> weak = this->weak_from_this();
    close_deadline_ = executor_.RunAfter(kCloseTimeout, [weak] {
      if (auto self = weak.lock()) self->CloseSocket();
    });
    if (notify_handler) {
      asio::post(executor_.strand(),
                 [self = this->shared_from_this()] { self->NotifyClose(self->close_code_); });
    }
    MaybeSendClose();
  }

  void MaybeSendClose() {
    if (!open_ || finished_ || !close_requested_ || close_sent_ || writing_ || !queue_.empty() ||
        !ws_.is_open()) {
      return;
    }
    close_sent_ = true;
    websocket::close_reason reason(close_code_);
    reason.reason = close_reason_;
    ws_.async_close(reason, [self = this->shared_from_this()](const error_code& ec) {
      if (ec) self->CloseSocket();
    });
  }

  void CloseSocket() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  // Exactly once per handler; the handler is destroyed right after.
  void NotifyClose(uint16_t code) {
    if (notified_) return;
    notified_ = true;
    std::unique_ptr<WebSocketHandler> handler = std::move(handler_);
    if (!handler) return;
    try {
      handler->OnClose(code);
    } catch (const std::exception& e) {
      core::LogError("server", "websocket {} OnClose threw: {}", params_.path, e.what());
    } catch (...) {
      core::LogError("server", "websocket {} OnClose threw", params_.path);
    }
  }

  // Calls into the handler; an exception ends this connection (1011) and nothing else.
  template <class Fn>
  void CallHandler(const char* what, Fn&& fn) {
    if (!handler_ || close_requested_) return;
    try {
      fn(*handler_);
    } catch (const std::exception& e) {
      core::LogError("server", "websocket {} {} threw: {}", params_.path, what, e.what());
      RequestClose(kWsInternalError, "internal error", /*notify_handler=*/true);
    } catch (...) {
      core::LogError("server", "websocket {} {} threw", params_.path, what);
      RequestClose(kWsInternalError, "internal error", /*notify_handler=*/true);
    }
  }

  // The close code the handler hears when the read loop ends with `ec`.
  uint16_t CloseCodeFor(const error_code& ec) {
    if (ec == websocket::error::closed) {
      uint16_t code = ws_.reason().code;
      return code == websocket::close_code::none ? 1005 : code;
    }
    if (ec == websocket::error::message_too_big) {
      params_.state->CountProtocolError("ws", "message_too_big");
      return kWsMessageTooBig;
    }
    if (!close_requested_) {
      params_.state->CountProtocolError("ws",
                                        ec == beast::error::timeout ? "idle_timeout" : "vanished");
    }
    return 1006;
  }

  void Finish(uint16_t code) {
    finished_ = true;
    close_deadline_.reset();
    DropQueued();
    NotifyClose(close_requested_ ? close_code_ : code);
  }

  // First, so destroyed last: it holds the io_context and the stream under ws_.
  WebSocketParams params_;
  websocket::stream<Stream&> ws_;
  StrandExecutor executor_;
  std::unique_ptr<WebSocketHandler> handler_;
  std::deque<Outgoing> queue_;
  std::atomic<size_t> queued_bytes_{0};
  std::unique_ptr<core::Timer> close_deadline_;
  std::string close_reason_;
  uint16_t close_code_ = kWsNormal;
  bool open_ = false;             // handshake done
  bool writing_ = false;          // an async_write is in flight
  bool close_requested_ = false;  // no more handler calls or sends; close after the queue
  bool close_sent_ = false;       // async_close started
  bool finished_ = false;         // the read loop ended
  bool notified_ = false;         // OnClose delivered (or never due)
};

template <class Stream>
asio::awaitable<void> WsSession<Stream>::Run(const UpgradeRequest& upgrade,
                                             std::unique_ptr<WebSocketHandler> handler,
                                             std::string subprotocol) {
  auto self = this->shared_from_this();
  handler_ = std::move(handler);
  const ServerOptions& options = params_.state->options;

  // The WebSocket keeps its own time from here on.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = kHandshakeTimeout;
  if (options.idle_timeout.count() > 0) {
    // Beast pings after one idle period and gives up after a second: half each.
    timeouts.idle_timeout = std::chrono::duration_cast<websocket::stream_base::duration>(
        std::chrono::milliseconds(options.idle_timeout) / 2);
  } else {
    timeouts.idle_timeout = websocket::stream_base::none();
  }
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [subprotocol = std::move(subprotocol)](websocket::response_type& response) {
        response.set(beast::http::field::server, "artagent");
        if (!subprotocol.empty()) {
          response.set(beast::http::field::sec_websocket_protocol, subprotocol);
        }
      }));
  ws_.read_message_max(options.max_ws_message_bytes);
  ws_.auto_fragment(false);  // one frame per message: less framing work, simpler peers

  auto [accept_ec] = co_await ws_.async_accept(upgrade, kAwaitTuple);
  if (accept_ec) {
    core::LogDebug("server", "websocket {} {}: handshake failed: {}", params_.path,
                   params_.remote_address, accept_ec.message());
    Finish(1006);
    co_return;
  }
  open_ = true;
  prometheus::Gauge* gauge = params_.state->WsConnectionsGauge(params_.path);
  if (gauge != nullptr) gauge->Increment();
  core::LogDebug("server", "websocket {} {}: open", params_.path, params_.remote_address);

  CallHandler("OnOpen", [](WebSocketHandler& h) { h.OnOpen(); });
  if (!queue_.empty() && !writing_) {
    DoWrite();
  } else {
    MaybeSendClose();
  }

  beast::flat_buffer buffer;
  uint16_t code = 1006;
  for (;;) {
    auto [ec, bytes] = co_await ws_.async_read(buffer, kAwaitTuple);
    if (ec) {
      code = CloseCodeFor(ec);
      core::LogDebug("server", "websocket {} {}: ended ({}), code {}", params_.path,
                     params_.remote_address, ec.message(), code);
      break;
    }
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    const bool text = ws_.got_text();
    CallHandler("OnMessage", [&](WebSocketHandler& h) { h.OnMessage(data, text); });
    buffer.consume(buffer.size());
    if (buffer.capacity() > (1u << 20)) buffer.shrink_to_fit();
  }
  if (gauge != nullptr) gauge->Decrement();
  Finish(code);
}

}  // namespace

template <class Stream>
std::shared_ptr<ServerWebSocket> MakeServerWebSocket(Stream& stream, WebSocketParams params) {
  return std::make_shared<WsSession<Stream>>(stream, std::move(params));
}

template std::shared_ptr<ServerWebSocket> MakeServerWebSocket<beast::tcp_stream>(
    beast::tcp_stream& stream, WebSocketParams params);
template std::shared_ptr<ServerWebSocket>
MakeServerWebSocket<beast::ssl_stream<beast::tcp_stream&>>(
    beast::ssl_stream<beast::tcp_stream&>& stream, WebSocketParams params);

}  // namespace artagent::server
