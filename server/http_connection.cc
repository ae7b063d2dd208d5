#include "server/http_connection.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/log.h"
#include "server/request_target.h"
#include "server/websocket_session.h"

namespace artagent::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream&>;
using Response = http::response<http::string_body>;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
// Budget for the TLS handshake of a new connection.
constexpr std::chrono::seconds kHandshakeTimeout{10};
// After an error response we read (and drop) what the client is still sending for a while before
// closing, so that the kernel does not answer its unread bytes with a reset that would destroy our
// response before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr size_t kLingerMaxBytes = 16u << 20;

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Handlers set extra headers; never let one smuggle a line break into the response.
bool ValidHeader(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool IsHttpParseError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

// The first subprotocol the client offers (in its order) that the route accepts; empty if none.
std::string ChooseSubprotocol(std::string_view offered, const std::vector<std::string>& accepted) {
  while (!offered.empty()) {
    size_t comma = offered.find(',');
    std::string_view token = offered.substr(0, comma);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token.empty()) continue;
    if (std::find(accepted.begin(), accepted.end(), token) != accepted.end()) {
      return std::string(token);
    }
  }
  return {};
}

Response ToBeast(HttpResponse response, unsigned version, bool keep_alive, bool head) {
  Response out{static_cast<http::status>(response.status), version};
  out.set(http::field::server, "artagent");
  const bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
  if (!response.content_type.empty() && !bodyless &&
      ValidHeader("Content-Type", response.content_type)) {
    out.set(http::field::content_type, response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    if (ValidHeader(name, value)) {
      out.insert(name, value);
    } else {
      core::LogWarn("server", "dropping invalid response header '{}'", name);
    }
  }
  out.keep_alive(keep_alive);
  if (bodyless) return out;
  if (head) {
    out.content_length(response.body.size());
  } else {
    out.body() = std::move(response.body);
    out.prepare_payload();
  }
  return out;
}

class Connection final : public Closable, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerState> state, tcp::socket socket, IoStrand strand)
      : state_(std::move(state)), strand_(std::move(strand)), tcp_(std::move(socket)) {
    error_code ec;
    tcp::endpoint remote = tcp_.socket().remote_endpoint(ec);
    if (!ec) remote_ = FormatEndpoint(remote);
  }

  void set_id(uint64_t id) { id_ = id; }

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self) {
    try {
      co_await self->Serve();
    } catch (const std::exception& e) {
      core::LogError("server", "connection {}: {}", self->remote_, e.what());
    } catch (...) {
      core::LogError("server", "connection {}: unknown exception", self->remote_);
    }
    error_code ignored;
    self->tcp_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    self->tcp_.close();
    self->state_->Unregister(self->id_);
  }

  void BeginShutdown() override {
    asio::post(strand_, [self = shared_from_this()] {
      switch (self->phase_) {
        case Phase::kIdle:
          self->tcp_.cancel();  // the read fails and the connection closes
          break;
        case Phase::kBusy:
          break;  // the response goes out with "Connection: close"
        case Phase::kWebSocket:
          if (auto ws = self->ws_.lock()) ws->BeginShutdown();
          break;
      }
    });
  }

  void ForceClose() override {
    asio::post(strand_, [self = shared_from_this()] { self->tcp_.close(); });
  }

 private:
  enum class Phase { kIdle, kBusy, kWebSocket };

  asio::awaitable<void> Serve();
  template <class Stream>
  asio::awaitable<void> ServeHttp(Stream& stream, bool tls);
  template <class Stream>
  asio::awaitable<void> Upgrade(Stream& stream, const UpgradeRequest& upgrade,
                                HttpRequest& request);
  template <class Stream>
  asio::awaitable<bool> Respond(Stream& stream, std::string_view method, unsigned version,
                                HttpResponse response, bool keep_alive);
  template <class Stream>
  asio::awaitable<void> OnReadError(Stream& stream, const error_code& ec, std::string_view method);
  asio::awaitable<void> LingeringClose();
  HttpResponse Dispatch(HttpRequest& request);

  std::shared_ptr<ServerState> state_;
  IoStrand strand_;
  beast::tcp_stream tcp_;
  std::optional<TlsStream> tls_;  // over tcp_, when the client started with a ClientHello
  beast::flat_buffer buffer_;
  std::string remote_;
  uint64_t id_ = 0;
  Phase phase_ = Phase::kIdle;
  std::weak_ptr<ServerWebSocket> ws_;
};

asio::awaitable<void> Connection::Serve() {
  bool use_tls = false;
  if (state_->tls != nullptr) {
    // One port for both: look at the first bytes for a TLS ClientHello. Browsers open sockets
    // ahead of use, so the wait for the first byte is the ordinary idle timeout.
    tcp_.expires_after(state_->options.idle_timeout);
    auto [ec, is_tls] = co_await beast::async_detect_ssl(tcp_, buffer_, kAwaitTuple);
    if (ec) co_return;
    use_tls = is_tls;
  }
  if (!use_tls) {
    co_await ServeHttp(tcp_, /*tls=*/false);
    co_return;
  }
  tls_.emplace(tcp_, *state_->tls);
  tcp_.expires_after(kHandshakeTimeout);
  auto [ec, used] =
      co_await tls_->async_handshake(ssl::stream_base::server, buffer_.data(), kAwaitTuple);
  if (ec) {
    state_->CountProtocolError("http", "tls_handshake");
    core::LogDebug("server", "connection {}: TLS handshake failed: {}", remote_, ec.message());
    co_return;
  }
  buffer_.consume(used);
  co_await ServeHttp(*tls_, /*tls=*/true);
}

template <class Stream>
asio::awaitable<void> Connection::ServeHttp(Stream& stream, bool tls) {
  const ServerOptions& options = state_->options;
  for (;;) {
    phase_ = Phase::kIdle;
    if (state_->stopping()) co_return;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser.body_limit(options.max_body_bytes);

    tcp_.expires_after(options.idle_timeout);
    auto [ec, header_bytes] =
        co_await http::async_read_header(stream, buffer_, parser, kAwaitTuple);
    phase_ = Phase::kBusy;
    if (ec) {
      co_await OnReadError(stream, ec, "other");
      co_return;
    }
    const std::string method(parser.get().method_string());
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        tcp_.expires_after(options.idle_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, go_on, kAwaitTuple);
        if (write_ec) co_return;
      }
      tcp_.expires_after(options.idle_timeout);
      auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer_, parser, kAwaitTuple);
      if (body_ec) {
        co_await OnReadError(stream, body_ec, method);
        co_return;
      }
    }

    UpgradeRequest upgrade = parser.release();
    const unsigned version = upgrade.version();
    const bool keep_alive = upgrade.keep_alive() && !state_->stopping();

    HttpRequest request;
    request.method = method;
    request.target = std::string(upgrade.target());
    request.remote_address = remote_;
    request.tls = tls;
    std::optional<RequestTarget> target = ParseRequestTarget(request.target);
    if (!target) {
      state_->CountProtocolError("http", "bad_target");
      co_await Respond(stream, method, version,
                       HttpResponse::Error(400, "bad_request", "malformed request target"), false);
      co_await LingeringClose();
      co_return;
    }
    request.path = std::move(target->path);
    request.query = std::move(target->query);
    for (const auto& field : upgrade) {
      request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
    }

    if (beast::websocket::is_upgrade(upgrade)) {
      co_await Upgrade(stream, upgrade, request);
      co_return;
    }
    request.body = std::move(upgrade.body());

    HttpResponse response = Dispatch(request);
    if (!co_await Respond(stream, method, version, std::move(response), keep_alive)) co_return;
    if (!keep_alive) co_return;
  }
}

HttpResponse Connection::Dispatch(HttpRequest& request) {
  const Router& router = *state_->router;
  Router::HttpMatch match = router.MatchHttp(&request);
  const bool head = request.method == "HEAD";
  if (match.handler == nullptr && head) {
    // HEAD is GET without the body.
    request.method = "GET";
    Router::HttpMatch get = router.MatchHttp(&request);
    request.method = "HEAD";
    if (get.handler != nullptr) match = get;
  }
  if (match.handler != nullptr) {
    try {
      return (*match.handler)(request);
    } catch (const std::exception& e) {
      core::LogError("server", "{} {} handler threw: {}", request.method, request.path, e.what());
    } catch (...) {
      core::LogError("server", "{} {} handler threw", request.method, request.path);
    }
    return HttpResponse::Error(500, "internal", "internal error");
  }
  const bool get_or_head = head || request.method == "GET";
  if (get_or_head && state_->static_files) {
    if (std::optional<HttpResponse> file = state_->static_files->Serve(request.path)) {
      if (file->status == 400) state_->CountProtocolError("http", "bad_path");
      return std::move(*file);
    }
  }
  if (get_or_head && router.MatchWebSocket(request.path) != nullptr) {
    HttpResponse upgrade_required =
        HttpResponse::Error(426, "upgrade_required", request.path + " speaks WebSocket");
    upgrade_required.headers.emplace_back("Upgrade", "websocket");
    return upgrade_required;
  }
  if (match.path_known) {
    return HttpResponse::Error(405, "method_not_allowed",
                               request.method + " is not allowed on " + request.path);
  }
  return HttpResponse::Error(404, "not_found",
                             "no route for " + request.method + " " + request.path);
}

template <class Stream>
asio::awaitable<void> Connection::Upgrade(Stream& stream, const UpgradeRequest& upgrade,
                                          HttpRequest& request) {
  const WebSocketRoute* route = state_->router->MatchWebSocket(request.path);
  if (route == nullptr || !route->accept) {
    co_await Respond(stream, request.method, upgrade.version(),
                     HttpResponse::Error(404, "not_found", "no WebSocket at " + request.path),
                     false);
    co_return;
  }
  if (state_->stopping()) {
    HttpResponse refusal = HttpResponse::Error(503, "unavailable", "server shutting down");
    refusal.headers.emplace_back("Retry-After", "5");
    co_await Respond(stream, request.method, upgrade.version(), std::move(refusal), false);
    co_return;
  }

  std::shared_ptr<ServerWebSocket> ws = MakeServerWebSocket(
      stream, WebSocketParams{state_, strand_, request.path, remote_, shared_from_this()});
  ws_ = ws;
  phase_ = Phase::kWebSocket;

  core::Result<std::unique_ptr<WebSocketHandler>> accepted = core::InternalError("accept() threw");
  try {
    accepted = route->accept(request, ws);
  } catch (const std::exception& e) {
    core::LogError("server", "websocket {} accept() threw: {}", request.path, e.what());
  } catch (...) {
    core::LogError("server", "websocket {} accept() threw", request.path);
  }
  if (accepted.ok() && *accepted == nullptr) accepted = core::InternalError("no handler");
  if (!accepted.ok()) {
    ws->Abandon();
    const core::Status& status = accepted.status();
    HttpResponse refusal;
    std::string_view reason = "rejected";
    switch (status.code()) {
      case core::StatusCode::kResourceExhausted:
      case core::StatusCode::kUnavailable:
        // Capacity: tell the client to come back rather than degrade the live sessions.
        refusal = HttpResponse::Error(503, "unavailable", status.message());
        refusal.headers.emplace_back("Retry-After", "1");
        reason = "capacity";
        break;
      case core::StatusCode::kUnauthenticated:
        refusal = HttpResponse::FromStatus(status);
        reason = "unauthenticated";
        break;
      default:
        refusal = HttpResponse::FromStatus(status);
        break;
    }
    state_->CountRefused(reason);
    core::LogDebug("server", "websocket {} from {} refused: {}", request.path, remote_,
                   status.ToString());
    co_await Respond(stream, request.method, upgrade.version(), std::move(refusal), false);
    co_return;
  }

  std::string subprotocol;
  for (const auto& [name, value] : request.headers) {
    if (name == "sec-websocket-protocol" && subprotocol.empty()) {
      subprotocol = ChooseSubprotocol(value, route->subprotocols);
    }
  }
  state_->CountRequest(request.method, 101);
  co_await ws->Run(upgrade, std::move(accepted).value(), subprotocol);
}

template <class Stream>
asio::awaitable<bool> Connection::Respond(Stream& stream, std::string_view method, unsigned version,
                                          HttpResponse response, bool keep_alive) {
  state_->CountRequest(method, response.status);
  Response out = ToBeast(std::move(response), version, keep_alive, method == "HEAD");
  tcp_.expires_after(state_->options.idle_timeout);
  auto [ec, written] = co_await http::async_write(stream, out, kAwaitTuple);
  if (ec) {
    core::LogDebug("server", "connection {}: write failed: {}", remote_, ec.message());
    co_return false;
  }
  co_return true;
}

template <class Stream>
asio::awaitable<void> Connection::OnReadError(Stream& stream, const error_code& ec,
                                              std::string_view method) {
  int status = 400;
  std::string_view kind = "malformed_request";
  std::string message = "malformed request";
  if (ec == http::error::header_limit) {
    status = 431;
    kind = "header_too_large";
    message =
        "request header larger than " + std::to_string(state_->options.max_header_bytes) + " bytes";
  } else if (ec == http::error::body_limit) {
    status = 413;
    kind = "body_too_large";
    message =
        "request body larger than " + std::to_string(state_->options.max_body_bytes) + " bytes";
  } else if (ec == http::error::partial_message || !IsHttpParseError(ec)) {
    // End of stream, reset, timeout, TLS truncation: nobody left to answer.
    co_return;
  } else {
    message = "malformed request: " + ec.message();
  }
  state_->CountProtocolError("http", kind);
  core::LogDebug("server", "connection {}: {}", remote_, message);
  if (co_await Respond(stream, method, 11, HttpResponse::Error(status, kind, message), false)) {
    co_await LingeringClose();
  }
}

asio::awaitable<void> Connection::LingeringClose() {
  error_code ignored;
  tcp_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  tcp_.expires_after(kLingerTimeout);
  std::array<char, 4096> discard;
  size_t drained = 0;
  while (drained < kLingerMaxBytes) {
    auto [ec, bytes] = co_await tcp_.async_read_some(asio::buffer(discard), kAwaitTuple);
    if (ec) break;
    drained += bytes;
  }
}

}  // namespace

void StartHttpConnection(std::shared_ptr<ServerState> state, tcp::socket socket, IoStrand strand) {
  auto connection = std::make_shared<Connection>(state, std::move(socket), strand);
  uint64_t id = 0;
  switch (state->Register(connection, &id)) {
    case ServerState::Admission::kAdmitted:
      break;
    case ServerState::Admission::kStopping:
      return;
    case ServerState::Admission::kFull:
      state->CountRefused("max_connections");
      core::LogWarn("server", "refusing a connection: {} connections open (max_connections)",
                    state->options.max_connections);
      return;
  }
  connection->set_id(id);
  asio::co_spawn(strand, Connection::Run(std::move(connection)), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      core::LogError("server", "connection ended by exception: {}", e.what());
    } catch (...) {
      core::LogError("server", "connection ended by unknown exception");
    }
  });
}

}  // namespace artagent::server
