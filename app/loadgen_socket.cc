// LoadSocket (loadgen.h): Beast WebSocket client with completion handlers on one io_context.

#include <boost/asio/connect.hpp>

#include "app/loadgen.h"

namespace artagent::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

LoadSocket::LoadSocket(asio::io_context& io, Handlers handlers)
    : ws_(io), handlers_(std::move(handlers)) {}

void LoadSocket::Open(const asio::ip::tcp::endpoint& endpoint, const std::string& host,
                      const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers,
                      const std::string& subprotocol) {
  auto self = shared_from_this();
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws_).async_connect(
      endpoint, [self, host, target, headers = std::move(headers),
                 subprotocol](beast::error_code ec) mutable {
        if (ec) {
          self->closed_ = true;
          self->handlers_.on_open(false, 0, "connect: " + ec.message());
          return;
        }
        // Caller frames are small and must not wait for Nagle.
        beast::get_lowest_layer(self->ws_).socket().set_option(asio::ip::tcp::no_delay(true));
        self->ws_.set_option(
            websocket::stream_base::decorator([headers, subprotocol](websocket::request_type& req) {
              for (const auto& [k, v] : headers) req.set(k, v);
              if (!subprotocol.empty())
                req.set(beast::http::field::sec_websocket_protocol, subprotocol);
            }));
        self->ws_.async_handshake(self->response_, host, target, [self](beast::error_code ec) {
          if (ec) {
            self->closed_ = true;
            const int status = static_cast<int>(self->response_.result_int());
            self->handlers_.on_open(false, status == 101 ? 0 : status, ec.message());
            return;
          }
          beast::get_lowest_layer(self->ws_).expires_never();
          websocket::stream_base::timeout timeouts =
              websocket::stream_base::timeout::suggested(beast::role_type::client);
          self->ws_.set_option(timeouts);
          self->ws_.text(true);
          self->ws_.read_message_max(16 * 1024 * 1024);
          self->open_ = true;
          self->handlers_.on_open(true, 101, "");
          self->Read();
          self->Pump();
        });
      });
}

void LoadSocket::Read() {
  auto self = shared_from_this();
  ws_.async_read(buffer_, [self](beast::error_code ec, size_t) {
    if (ec) {
      int code = 1006;
      if (ec == websocket::error::closed) code = self->ws_.reason().code;
      self->Finish(code);
      return;
    }
    const auto data = self->buffer_.cdata();
    self->handlers_.on_message(
        std::string_view(static_cast<const char*>(data.data()), data.size()));
    self->buffer_.consume(self->buffer_.size());
    if (!self->closed_) self->Read();
  });
}

bool LoadSocket::Send(std::shared_ptr<const std::string> message, size_t max_queue) {
  if (closed_ || closing_) return false;
  if (queue_.size() >= max_queue) return false;
  queue_.push_back(std::move(message));
  Pump();
  return true;
}

void LoadSocket::Pump() {
  if (!open_ || writing_ || closing_ || queue_.empty()) return;
  writing_ = true;
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  auto self = shared_from_this();
  ws_.async_write(asio::buffer(*in_flight_), [self](beast::error_code ec, size_t) {
    self->writing_ = false;
    self->in_flight_.reset();
    if (ec) return;  // the read side reports the end
    if (self->closing_) {
      self->CloseNow();
      return;
    }
    self->Pump();
  });
}

void LoadSocket::Close() {
  if (closed_ || closing_) return;
  closing_ = true;
  queue_.clear();
  if (!open_) {
    // Still connecting: cancel the socket; the pending handler reports the failure.
    beast::get_lowest_layer(ws_).cancel();
    return;
  }
  // One write in flight at most: if one is, its completion closes.
  if (!writing_) CloseNow();
}

void LoadSocket::CloseNow() {
  auto self = shared_from_this();
  // The read loop then ends with websocket::error::closed and calls Finish().
  ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
}

void LoadSocket::Finish(int code) {
  if (closed_) return;
  closed_ = true;
  open_ = false;
  queue_.clear();
  if (handlers_.on_close) handlers_.on_close(code);
}

void LoadContext::Connected() {
  ++stats->sessions_connected;
  ++live;
  stats->sessions_peak = std::max(stats->sessions_peak, live);
}

void LoadContext::Ended(bool dropped) {
  --live;
  if (dropped && !stopping) ++stats->sessions_dropped;
}

void LoadContext::Refused(const std::string& kind) {
  ++stats->sessions_refused;
  ++stats->refusals[kind];
  stats->refused_yet = true;
}

}  // namespace artagent::app
