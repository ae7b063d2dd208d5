#pragma once
// Internal to server/: the server end of one WebSocket, created by the HTTP connection code when a
// request asks for an upgrade to a routed path.

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/asio_executor.h"
#include "server/http_types.h"
#include "server/server_state.h"

namespace artagent::server {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

class ServerWebSocket : public WebSocketConnection, public Closable {
 public:
  // Takes the handler that the route's accept() produced, completes the handshake (echoing
  // `subprotocol` unless empty), calls OnOpen and delivers messages until the connection ends;
  // the handler then gets exactly one OnClose. Must be awaited on the connection's strand.
  virtual boost::asio::awaitable<void> Run(const UpgradeRequest& upgrade,
                                           std::unique_ptr<WebSocketHandler> handler,
                                           std::string subprotocol) = 0;
  // The route refused the upgrade: the connection never opens and later sends are dropped.
  virtual void Abandon() = 0;
};

struct WebSocketParams {
  std::shared_ptr<ServerState> state;
  IoStrand strand;   // the connection's strand: the stream's executor and the handler's
  std::string path;  // the route path (a metrics label)
  std::string remote_address;
  std::shared_ptr<void> stream_owner;  // keeps `stream` alive as long as the session
};

// `Stream` is boost::beast::tcp_stream or boost::beast::ssl_stream<boost::beast::tcp_stream&>,
// already connected (and past the TLS handshake); instantiated in websocket_session.cc.
template <class Stream>
std::shared_ptr<ServerWebSocket> MakeServerWebSocket(Stream& stream, WebSocketParams params);

}  // namespace artagent::server
