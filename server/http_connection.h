#pragma once
// Internal to server/: serving one accepted TCP connection (TLS detection, HTTP/1.1 requests,
// WebSocket upgrades).

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "server/asio_executor.h"
#include "server/server_state.h"

namespace artagent::server {

// Takes over `socket`, whose executor is `strand`, and serves it on that strand until it closes.
// The connection registers with `state` so that Stop() can reach it; it is closed at once when
// the server is stopping or max_connections are open.
void StartHttpConnection(std::shared_ptr<ServerState> state, boost::asio::ip::tcp::socket socket,
                         IoStrand strand);

}  // namespace artagent::server
