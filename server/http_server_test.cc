// Integration tests: the real server on a loopback port chosen by the kernel, driven by a small
// Beast client whose coroutines run on a client io_context of their own. Test bodies wait on
// futures with generous timeouts; nothing asserts on timing.

#include "server/http_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "platform/metrics.h"
#include "server/admin_routes.h"
#include "server/asio_executor.h"
#include "server/dev_cert.h"

namespace artagent::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kWait = 20s;  // a bound for hangs, not a performance expectation
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

tcp::endpoint Loopback(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

// ---- client side --------------------------------------------------------------------------

// An io_context with one thread; test bodies hand it coroutines and wait for their futures.
class ClientThread {
 public:
  ClientThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~ClientThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

  template <class T>
  std::future<T> Spawn(asio::awaitable<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future);
  }
  // Runs `task` and returns its result; throws (failing the test) on error or after kWait.
  template <class T>
  T Run(asio::awaitable<T> task) {
    std::future<T> future = Spawn(std::move(task));
    if (future.wait_for(kWait) != std::future_status::ready) {
      throw std::runtime_error("client operation timed out");
    }
    return future.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  http::fields headers;
  std::string Header(http::field name) const { return std::string(headers[name]); }
};

struct Fetch {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

template <class Stream>
asio::awaitable<HttpResult> Exchange(Stream& stream, uint16_t port, Fetch fetch) {
  http::request<http::string_body> request;
  request.method_string(fetch.method);
  request.target(fetch.target);
  request.version(11);
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : fetch.headers) request.set(name, value);
  request.body() = fetch.body;
  request.prepare_payload();
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(fetch.method == "HEAD");
  parser.body_limit(64 << 20);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  HttpResult result;
  result.status = parser.get().result_int();
  result.body = parser.get().body();
  for (const auto& field : parser.get()) result.headers.insert(field.name_string(), field.value());
  co_return result;
}

asio::awaitable<HttpResult> FetchPlain(uint16_t port, Fetch fetch) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(kWait);
  co_await stream.async_connect(Loopback(port), asio::use_awaitable);
  co_return co_await Exchange(stream, port, std::move(fetch));
}

asio::awaitable<HttpResult> FetchTls(uint16_t port, ssl::context& context, Fetch fetch) {
  beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, context);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  beast::get_lowest_layer(stream).expires_after(kWait);
  co_await beast::get_lowest_layer(stream).async_connect(Loopback(port), asio::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_return co_await Exchange(stream, port, std::move(fetch));
}

// Sends raw bytes and reads one response.
asio::awaitable<HttpResult> SendRaw(uint16_t port, std::string bytes) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(kWait);
  co_await stream.async_connect(Loopback(port), asio::use_awaitable);
  co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(stream, buffer, response, asio::use_awaitable);
  co_return HttpResult{static_cast<int>(response.result_int()), response.body(), response.base()};
}

// One request on `stream`, which stays connected afterwards (HTTP/1.1 keep-alive).
asio::awaitable<int> KeepAliveRequest(std::shared_ptr<beast::tcp_stream> stream, uint16_t port) {
  stream->expires_after(kWait);
  co_await stream->async_connect(Loopback(port), asio::use_awaitable);
  Fetch fetch;
  fetch.target = "/healthz";
  HttpResult result = co_await Exchange(*stream, port, std::move(fetch));
  co_return result.status;
}

struct Handshake {
  boost::system::error_code error;
  int status = 0;
  std::string protocol;
  std::string retry_after;
};

template <class Ws>
asio::awaitable<Handshake> WsHandshake(Ws& ws, uint16_t port, std::string path,
                                       std::string protocols) {
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  if (!protocols.empty()) {
    ws.set_option(websocket::stream_base::decorator([protocols](websocket::request_type& req) {
      req.set(http::field::sec_websocket_protocol, protocols);
    }));
  }
  websocket::response_type response;
  auto [ec] =
      co_await ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), path, kAwaitTuple);
  Handshake result;
  result.error = ec;
  result.status = response.result_int();
  result.protocol = std::string(response[http::field::sec_websocket_protocol]);
  result.retry_after = std::string(response[http::field::retry_after]);
  co_return result;
}

asio::awaitable<Handshake> ConnectPlain(std::shared_ptr<PlainWs> ws, uint16_t port,
                                        std::string path, std::string protocols = "") {
  beast::get_lowest_layer(*ws).expires_after(kWait);
  co_await beast::get_lowest_layer(*ws).async_connect(Loopback(port), asio::use_awaitable);
  co_return co_await WsHandshake(*ws, port, std::move(path), std::move(protocols));
}

asio::awaitable<Handshake> ConnectTls(std::shared_ptr<TlsWs> ws, uint16_t port, std::string path,
                                      std::string protocols = "") {
  SSL_set_tlsext_host_name(ws->next_layer().native_handle(), "localhost");
  beast::get_lowest_layer(*ws).expires_after(kWait);
  co_await beast::get_lowest_layer(*ws).async_connect(Loopback(port), asio::use_awaitable);
  co_await ws->next_layer().async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_return co_await WsHandshake(*ws, port, std::move(path), std::move(protocols));
}

struct Message {
  std::string data;
  bool text = false;
};

template <class Ws>
asio::awaitable<Message> RoundTrip(std::shared_ptr<Ws> ws, std::string data, bool text) {
  ws->text(text);
  co_await ws->async_write(asio::buffer(data), asio::use_awaitable);
  beast::flat_buffer buffer;
  co_await ws->async_read(buffer, asio::use_awaitable);
  co_return Message{beast::buffers_to_string(buffer.data()), ws->got_text()};
}

template <class Ws>
asio::awaitable<void> Write(std::shared_ptr<Ws> ws, std::string data, bool text) {
  ws->text(text);
  co_await ws->async_write(asio::buffer(data), asio::use_awaitable);
}

// A write that the server may cut short by closing the connection half-way through.
template <class Ws>
asio::awaitable<boost::system::error_code> WriteMayFail(std::shared_ptr<Ws> ws, std::string data) {
  ws->binary(true);
  auto [ec, bytes] = co_await ws->async_write(asio::buffer(data), kAwaitTuple);
  co_return ec;
}

struct Ending {
  boost::system::error_code error;
  int close_code = 0;
  std::vector<std::string> texts;  // text messages seen before the end
  size_t binary_messages = 0;
};

// Reads (and answers the close handshake) until the connection ends.
template <class Ws>
asio::awaitable<Ending> ReadUntilClosed(std::shared_ptr<Ws> ws) {
  Ending ending;
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, bytes] = co_await ws->async_read(buffer, kAwaitTuple);
    if (ec) {
      ending.error = ec;
      ending.close_code = ws->reason().code;
      break;
    }
    if (ws->got_text()) {
      ending.texts.push_back(beast::buffers_to_string(buffer.data()));
    } else {
      ++ending.binary_messages;
    }
    buffer.consume(bytes);
  }
  co_return ending;
}

template <class Ws>
asio::awaitable<void> CloseNormally(std::shared_ptr<Ws> ws) {
  co_await ws->async_close(websocket::close_code::normal, asio::use_awaitable);
}

// ---- server side --------------------------------------------------------------------------

// What the server-side handler of one WebSocket saw.
struct Probe {
  std::promise<void> opened;
  std::promise<uint16_t> closed;
  std::shared_future<uint16_t> closed_future = closed.get_future().share();
  std::atomic<int> close_calls{0};
  std::atomic<bool> off_strand_call{false};
};

class ProbeQueue {
 public:
  void Push(std::shared_ptr<Probe> probe) {
    std::lock_guard<std::mutex> lock(mu_);
    probes_.push_back(std::move(probe));
    cv_.notify_all();
  }
  std::shared_ptr<Probe> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kWait, [this] { return !probes_.empty(); })) return nullptr;
    auto probe = probes_.front();
    probes_.pop_front();
    return probe;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Probe>> probes_;
};

// Echoes messages; "flood" starts sending 64 KiB every millisecond, "throw" throws, "close"
// closes; on shutdown (1001) it says "bye" before the close frame.
class TestHandler final : public WebSocketHandler {
 public:
  TestHandler(std::shared_ptr<WebSocketConnection> connection, std::shared_ptr<Probe> probe)
      : connection_(std::move(connection)), probe_(std::move(probe)) {}

  void OnOpen() override {
    CheckStrand();
    probe_->opened.set_value();
  }
  void OnMessage(std::string_view data, bool text) override {
    CheckStrand();
    if (text && data == "flood") {
      Flood();
      return;
    }
    if (text && data == "throw") throw std::runtime_error("handler bug");
    if (text && data == "close") {
      connection_->Close(kWsNormal, "done");
      return;
    }
    text ? connection_->SendText(std::string(data)) : connection_->SendBinary(std::string(data));
  }
  void OnClose(uint16_t code) override {
    CheckStrand();
    flood_timer_.reset();
    if (code == kWsGoingAway) connection_->SendText("bye");
    if (probe_->close_calls.fetch_add(1) == 0) probe_->closed.set_value(code);
  }

 private:
  void CheckStrand() {
    auto* strand = dynamic_cast<StrandExecutor*>(&connection_->executor());
    if (strand == nullptr || !strand->RunningInThisThread()) probe_->off_strand_call = true;
  }
  void Flood() {
    for (int i = 0; i < 4; ++i) connection_->SendBinary(std::string(16 * 1024, 'f'));
    flood_timer_ = connection_->executor().RunAfter(1ms, [this] { Flood(); });
  }

  std::shared_ptr<WebSocketConnection> connection_;
  std::shared_ptr<Probe> probe_;
  std::unique_ptr<core::Timer> flood_timer_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "artagent_server_test_XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : router_(std::make_shared<Router>()) {
    AddAdminRoutes(*router_, &metrics_, [this] {
      return nlohmann::json{{"ready", ready_.load()},
                            {"checks", {{"store", {{"ok", ready_.load()}, {"detail", "sqlite"}}}}}};
    });
    router_->Add("GET", "/hello/{name}", [](const HttpRequest& request) {
      return HttpResponse::Json(200, {{"name", request.Param("name")},
                                      {"x", request.Query("x")},
                                      {"y", request.Query("y")},
                                      {"agent", request.Header("User-Agent")}});
    });
    router_->Add("POST", "/echo",
                 [](const HttpRequest& request) { return HttpResponse::Text(200, request.body); });
    router_->Add("GET", "/throws", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("handler bug");
    });
    WebSocketRoute echo;
    echo.subprotocols = {"realtime"};
    echo.accept = [this](const HttpRequest&, std::shared_ptr<WebSocketConnection> connection)
        -> core::Result<std::unique_ptr<WebSocketHandler>> {
      auto probe = std::make_shared<Probe>();
      probes_.Push(probe);
      return std::unique_ptr<WebSocketHandler>(
          std::make_unique<TestHandler>(std::move(connection), std::move(probe)));
    };
    router_->AddWebSocket("/ws/echo", echo);
    WebSocketRoute busy;
    busy.accept = [](const HttpRequest&, std::shared_ptr<WebSocketConnection>)
        -> core::Result<std::unique_ptr<WebSocketHandler>> {
      return core::ResourceExhaustedError("at capacity");
    };
    router_->AddWebSocket("/ws/busy", busy);
    WebSocketRoute auth;
    auth.accept = [](const HttpRequest&, std::shared_ptr<WebSocketConnection>)
        -> core::Result<std::unique_ptr<WebSocketHandler>> {
      return core::UnauthenticatedError("missing api key");
    };
    router_->AddWebSocket("/ws/auth", auth);
  }

  ~HttpServerTest() override {
    if (server_) server_->Stop();
  }

  ServerOptions TestOptions() {
    ServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.shutdown_grace = 10s;
    return options;
  }

  void StartServer(ServerOptions options) {
    auto created = HttpServer::Create(std::move(options), router_, &metrics_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    server_ = std::move(created).value();
    core::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  HttpResult Get(std::string target) {
    return client_.Run(FetchPlain(port_, Fetch{"GET", std::move(target)}));
  }

  std::shared_ptr<Probe> NextProbe() {
    auto probe = probes_.Pop();
    if (!probe) throw std::runtime_error("no WebSocket handler was created");
    return probe;
  }

  static uint16_t WaitClosed(const std::shared_ptr<Probe>& probe) {
    if (probe->closed_future.wait_for(kWait) != std::future_status::ready) return 0;
    return probe->closed_future.get();
  }

  platform::Metrics metrics_;
  std::shared_ptr<Router> router_;
  std::atomic<bool> ready_{true};
  ProbeQueue probes_;
  ClientThread client_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

// ---- HTTP ---------------------------------------------------------------------------------

TEST_F(HttpServerTest, RoutesWithParamsQueryAndHeaders) {
  StartServer(TestOptions());
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port_) + "/");
  HttpResult result = client_.Run(FetchPlain(
      port_, Fetch{"GET", "/hello/b%C3%B6b?x=1&y=two+words%21", "", {{"User-Agent", "test/1"}}}));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.Header(http::field::content_type), "application/json");
  auto json = nlohmann::json::parse(result.body);
  EXPECT_EQ(json["name"],
            "b\xC3\xB6"
            "b");
  EXPECT_EQ(json["x"], "1");
  EXPECT_EQ(json["y"], "two words!");
  EXPECT_EQ(json["agent"], "test/1");

  HttpResult echoed = client_.Run(FetchPlain(port_, Fetch{"POST", "/echo", "hello body"}));
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body, "hello body");

  HttpResult head = client_.Run(FetchPlain(port_, Fetch{"HEAD", "/healthz"}));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header(http::field::content_length), "15");  // {"status":"ok"}
}

TEST_F(HttpServerTest, AdminEndpoints) {
  StartServer(TestOptions());
  HttpResult health = Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(nlohmann::json::parse(health.body), nlohmann::json({{"status", "ok"}}));

  HttpResult ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ready.body)["checks"]["store"]["ok"], true);
  ready_ = false;
  HttpResult not_ready = Get("/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(nlohmann::json::parse(not_ready.body)["ready"], false);

  HttpResult metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("artagent_http_requests_total{"), std::string::npos);
  EXPECT_NE(metrics.body.find("code=\"2xx\""), std::string::npos);
  EXPECT_NE(metrics.body.find("code=\"5xx\""), std::string::npos);  // the 503 above
  EXPECT_NE(metrics.body.find("method=\"GET\""), std::string::npos);
}

TEST_F(HttpServerTest, NotFoundMethodNotAllowedAndHandlerErrors) {
  StartServer(TestOptions());
  HttpResult missing = Get("/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"]["code"], "not_found");

  HttpResult wrong = client_.Run(FetchPlain(port_, Fetch{"POST", "/healthz", "{}"}));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"]["code"], "method_not_allowed");

  EXPECT_EQ(Get("/throws").status, 500);
  EXPECT_EQ(Get("/ws/echo").status, 426);  // a WebSocket path without the upgrade
  EXPECT_EQ(Get("/healthz").status, 200);  // the server carries on
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  StartServer(TestOptions());
  HttpResult result = client_.Run(SendRaw(port_, "THIS IS NOT HTTP\r\n\r\n"));
  EXPECT_EQ(result.status, 400);
  HttpResult bad_escape = client_.Run(SendRaw(port_, "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(bad_escape.status, 400);
  EXPECT_NE(metrics_.Render().find("kind=\"malformed_request\""), std::string::npos);
}

TEST_F(HttpServerTest, BodyOverLimitGets413) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 64 * 1024;
  StartServer(options);
  HttpResult small = client_.Run(FetchPlain(port_, Fetch{"POST", "/echo", std::string(1000, 'a')}));
  EXPECT_EQ(small.status, 200);
  HttpResult big =
      client_.Run(FetchPlain(port_, Fetch{"POST", "/echo", std::string(200 * 1024, 'a')}));
  EXPECT_EQ(big.status, 413);
  HttpResult expecting = client_.Run(FetchPlain(
      port_, Fetch{"POST", "/echo", std::string(200 * 1024, 'a'), {{"Expect", "100-continue"}}}));
  EXPECT_EQ(expecting.status, 413);
  EXPECT_NE(metrics_.Render().find("kind=\"body_too_large\""), std::string::npos);
}

TEST_F(HttpServerTest, HeaderOverLimitGets431) {
  StartServer(TestOptions());
  HttpResult result = client_.Run(FetchPlain(
      port_, Fetch{"GET", "/healthz", "", {{"X-Padding", std::string(16 * 1024, 'p')}}}));
  EXPECT_EQ(result.status, 431);
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(HttpServerTest, StaticFilesAndTraversal) {
  TempDir dir;
  fs::path root = dir.path() / "web";
  fs::create_directories(root / "sub");
  WriteFile(root / "index.html", "<h1>console</h1>");
  WriteFile(root / "app.js", "export const x = 1;");
  WriteFile(root / "sub" / "index.html", "sub");
  WriteFile(dir.path() / "secret.txt", "top secret");
  fs::create_symlink(dir.path() / "secret.txt", root / "leak.txt");
  ServerOptions options = TestOptions();
  options.web_root = root.string();
  StartServer(options);

  HttpResult index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>console</h1>");
  EXPECT_EQ(index.Header(http::field::content_type), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header(http::field::cache_control), "no-cache");

  HttpResult script = Get("/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.Header(http::field::content_type), "text/javascript; charset=utf-8");

  HttpResult head = client_.Run(FetchPlain(port_, Fetch{"HEAD", "/app.js"}));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header(http::field::content_length), "19");

  HttpResult redirect = Get("/sub");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.Header(http::field::location), "/sub/");
  EXPECT_EQ(Get("/sub/").body, "sub");

  for (const char* attempt :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2F..%2Fsecret.txt"}) {
    HttpResult refused = Get(attempt);
    EXPECT_EQ(refused.status, 400) << attempt;
    EXPECT_EQ(refused.body.find("top secret"), std::string::npos) << attempt;
  }
  HttpResult symlink = Get("/leak.txt");
  EXPECT_EQ(symlink.status, 404);
  EXPECT_EQ(symlink.body.find("top secret"), std::string::npos);
  EXPECT_EQ(Get("/missing.css").status, 404);
  EXPECT_EQ(client_.Run(FetchPlain(port_, Fetch{"POST", "/app.js", "x"})).status, 404);
}

TEST_F(HttpServerTest, PortInUseNamesTheAddress) {
  asio::io_context io;
  tcp::acceptor blocker(io, Loopback(0));
  const uint16_t taken = blocker.local_endpoint().port();
  ServerOptions options = TestOptions();
  options.port = taken;
  auto created = HttpServer::Create(options, router_, &metrics_);
  ASSERT_TRUE(created.ok());
  core::Status status = (*created)->Start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("already in use"), std::string::npos) << status.ToString();
}

TEST_F(HttpServerTest, CreateRejectsHalfATlsConfiguration) {
  ServerOptions options = TestOptions();
  options.tls_cert_file = "/tmp/cert.pem";
  auto created = HttpServer::Create(options, router_, &metrics_);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("tls_key_file"), std::string::npos);

  options = TestOptions();
  options.web_root = "/definitely/not/here";
  created = HttpServer::Create(options, router_, &metrics_);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("web_root"), std::string::npos);
}

// ---- WebSocket ----------------------------------------------------------------------------

TEST_F(HttpServerTest, WebSocketEchoTextAndBinaryWithSubprotocol) {
  StartServer(TestOptions());
  auto ws = std::make_shared<PlainWs>(client_.io());
  Handshake handshake =
      client_.Run(ConnectPlain(ws, port_, "/ws/echo", "realtime, openai-insecure-api-key.sk-x"));
  ASSERT_FALSE(handshake.error) << handshake.error.message();
  EXPECT_EQ(handshake.status, 101);
  EXPECT_EQ(handshake.protocol, "realtime");
  auto probe = NextProbe();
  ASSERT_EQ(probe->opened.get_future().wait_for(kWait), std::future_status::ready);

  Message text = client_.Run(RoundTrip(ws, "hello", true));
  EXPECT_EQ(text.data, "hello");
  EXPECT_TRUE(text.text);
  std::string bytes("\x00\x01\xff\x10", 4);
  Message binary = client_.Run(RoundTrip(ws, bytes, false));
  EXPECT_EQ(binary.data, bytes);
  EXPECT_FALSE(binary.text);
  EXPECT_NE(metrics_.Render().find("artagent_ws_connections_active{path=\"/ws/echo\"} 1"),
            std::string::npos);

  client_.Run(CloseNormally(ws));
  EXPECT_EQ(WaitClosed(probe), kWsNormal);
  EXPECT_EQ(probe->close_calls.load(), 1);
  EXPECT_FALSE(probe->off_strand_call.load());
}

TEST_F(HttpServerTest, WebSocketWithoutOfferedSubprotocolGetsNone) {
  StartServer(TestOptions());
  auto ws = std::make_shared<PlainWs>(client_.io());
  Handshake handshake = client_.Run(ConnectPlain(ws, port_, "/ws/echo", "other"));
  ASSERT_FALSE(handshake.error) << handshake.error.message();
  EXPECT_EQ(handshake.protocol, "");
  client_.Run(CloseNormally(ws));
}

TEST_F(HttpServerTest, WebSocketRefusals) {
  StartServer(TestOptions());
  auto busy = std::make_shared<PlainWs>(client_.io());
  Handshake refused = client_.Run(ConnectPlain(busy, port_, "/ws/busy"));
  EXPECT_TRUE(refused.error);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.retry_after, "1");

  auto auth = std::make_shared<PlainWs>(client_.io());
  Handshake unauthorized = client_.Run(ConnectPlain(auth, port_, "/ws/auth"));
  EXPECT_TRUE(unauthorized.error);
  EXPECT_EQ(unauthorized.status, 401);

  auto unknown = std::make_shared<PlainWs>(client_.io());
  Handshake missing = client_.Run(ConnectPlain(unknown, port_, "/ws/nowhere"));
  EXPECT_TRUE(missing.error);
  EXPECT_EQ(missing.status, 404);

  std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find("reason=\"capacity\""), std::string::npos);
  EXPECT_NE(metrics.find("reason=\"unauthenticated\""), std::string::npos);
}

TEST_F(HttpServerTest, WebSocketMessageOverLimitCloses1009) {
  ServerOptions options = TestOptions();
  options.max_ws_message_bytes = 64 * 1024;
  StartServer(options);
  auto ws = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(ws, port_, "/ws/echo")).error);
  auto probe = NextProbe();
  Message fits = client_.Run(RoundTrip(ws, std::string(60 * 1024, 'a'), false));
  EXPECT_EQ(fits.data.size(), 60u * 1024);

  auto ending = client_.Spawn(ReadUntilClosed(ws));
  client_.Run(WriteMayFail(ws, std::string(100 * 1024, 'b')));
  ASSERT_EQ(ending.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(ending.get().close_code, kWsMessageTooBig);
  EXPECT_EQ(WaitClosed(probe), kWsMessageTooBig);
  EXPECT_NE(metrics_.Render().find("kind=\"message_too_big\""), std::string::npos);
}

TEST_F(HttpServerTest, SlowReaderIsClosedWithoutHurtingOthers) {
  ServerOptions options = TestOptions();
  options.ws_send_queue_bytes = 256 * 1024;
  StartServer(options);

  auto slow = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(slow, port_, "/ws/echo")).error);
  auto slow_probe = NextProbe();
  auto fast = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(fast, port_, "/ws/echo")).error);
  auto fast_probe = NextProbe();

  // The slow client asks for a flood and stops reading: socket buffers fill, then the queue.
  client_.Run(Write(slow, "flood", true));
  EXPECT_EQ(WaitClosed(slow_probe), kWsPolicyViolation);
  EXPECT_EQ(slow_probe->close_calls.load(), 1);

  // When it reads again it gets what was in flight, then the 1008 close frame.
  auto slow_ending = client_.Spawn(ReadUntilClosed(slow));
  Message echoed = client_.Run(RoundTrip(fast, "still here", true));
  EXPECT_EQ(echoed.data, "still here");
  ASSERT_EQ(slow_ending.wait_for(kWait), std::future_status::ready);
  Ending ending = slow_ending.get();
  EXPECT_EQ(ending.close_code, kWsPolicyViolation) << ending.error.message();
  EXPECT_GT(ending.binary_messages, 0u);
  EXPECT_NE(metrics_.Render().find("kind=\"slow_reader\""), std::string::npos);

  EXPECT_EQ(client_.Run(RoundTrip(fast, "and still", true)).data, "and still");
  EXPECT_EQ(fast_probe->close_calls.load(), 0);
  client_.Run(CloseNormally(fast));
  EXPECT_EQ(WaitClosed(fast_probe), kWsNormal);
}

TEST_F(HttpServerTest, HandlerCloseAndHandlerExceptionEndOnlyTheirConnection) {
  StartServer(TestOptions());
  auto closing = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(closing, port_, "/ws/echo")).error);
  auto closing_probe = NextProbe();
  auto throwing = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(throwing, port_, "/ws/echo")).error);
  auto throwing_probe = NextProbe();

  auto closed_by_handler = client_.Spawn(ReadUntilClosed(closing));
  client_.Run(Write(closing, "close", true));
  ASSERT_EQ(closed_by_handler.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(closed_by_handler.get().close_code, kWsNormal);
  EXPECT_EQ(WaitClosed(closing_probe), kWsNormal);

  auto closed_by_error = client_.Spawn(ReadUntilClosed(throwing));
  client_.Run(Write(throwing, "throw", true));
  ASSERT_EQ(closed_by_error.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(closed_by_error.get().close_code, kWsInternalError);
  EXPECT_EQ(WaitClosed(throwing_probe), kWsInternalError);
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(closing_probe->close_calls.load() + throwing_probe->close_calls.load(), 2);
}

TEST_F(HttpServerTest, AbruptDisconnectReports1006) {
  StartServer(TestOptions());
  auto ws = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(ws, port_, "/ws/echo")).error);
  auto probe = NextProbe();
  EXPECT_EQ(client_.Run(RoundTrip(ws, "ping", true)).data, "ping");
  // A reset, no close frame: linger 0 makes close() send RST.
  std::promise<void> reset;
  asio::post(client_.io(), [&] {
    auto& socket = beast::get_lowest_layer(*ws).socket();
    socket.set_option(asio::socket_base::linger(true, 0));
    boost::system::error_code ignored;
    socket.close(ignored);
    reset.set_value();
  });
  reset.get_future().wait();
  EXPECT_EQ(WaitClosed(probe), 1006);
  EXPECT_EQ(probe->close_calls.load(), 1);
}

TEST_F(HttpServerTest, StopClosesWebSocketsWithGoingAway) {
  StartServer(TestOptions());
  auto ws = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(ws, port_, "/ws/echo")).error);
  auto probe = NextProbe();
  ASSERT_EQ(probe->opened.get_future().wait_for(kWait), std::future_status::ready);
  auto ending = client_.Spawn(ReadUntilClosed(ws));

  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(WaitClosed(probe), kWsGoingAway);
  ASSERT_EQ(ending.wait_for(kWait), std::future_status::ready);
  Ending end = ending.get();
  EXPECT_EQ(end.close_code, kWsGoingAway);
  // The handler's last word, sent from OnClose, arrived before the close frame.
  EXPECT_EQ(end.texts, std::vector<std::string>{"bye"});
  EXPECT_EQ(probe->close_calls.load(), 1);
}

TEST_F(HttpServerTest, StopEndsIdleKeepAliveConnections) {
  StartServer(TestOptions());
  // A keep-alive connection that stays open after its response.
  auto stream = std::make_shared<beast::tcp_stream>(client_.io());
  EXPECT_EQ(client_.Run(KeepAliveRequest(stream, port_)), 200);
  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  // Well inside the 10 s grace: the idle connection does not hold the shutdown.
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
}

// ---- TLS ----------------------------------------------------------------------------------

class TlsServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    cert_ = (dir_.path() / "cert.pem").string();
    key_ = (dir_.path() / "key.pem").string();
    core::Status generated = GenerateDevCertificate(cert_, key_);
    ASSERT_TRUE(generated.ok()) << generated.ToString();
    client_tls_.set_verify_mode(ssl::verify_none);
  }
  TempDir dir_;
  std::string cert_;
  std::string key_;
  ssl::context client_tls_{ssl::context::tls_client};
};

TEST_F(TlsServerTest, DevCertificateIsValidForLocalhost) {
  struct stat info {};
  ASSERT_EQ(stat(key_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  FILE* file = std::fopen(cert_.c_str(), "r");
  ASSERT_NE(file, nullptr);
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_get_version(cert), 2);  // v3
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert)), 0);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);
  X509_free(cert);
}

TEST_F(TlsServerTest, PlainAndTlsOnOnePort) {
  ServerOptions options = TestOptions();
  options.tls_cert_file = cert_;
  options.tls_key_file = key_;
  StartServer(options);
  EXPECT_EQ(server_->url(), "https://127.0.0.1:" + std::to_string(port_) + "/");

  HttpResult plain = Get("/healthz");
  EXPECT_EQ(plain.status, 200);
  HttpResult secure = client_.Run(FetchTls(port_, client_tls_, Fetch{"GET", "/hello/tls"}));
  EXPECT_EQ(secure.status, 200);
  EXPECT_EQ(nlohmann::json::parse(secure.body)["name"], "tls");

  auto ws = std::make_shared<TlsWs>(client_.io(), client_tls_);
  Handshake handshake = client_.Run(ConnectTls(ws, port_, "/ws/echo", "realtime"));
  ASSERT_FALSE(handshake.error) << handshake.error.message();
  EXPECT_EQ(handshake.protocol, "realtime");
  auto probe = NextProbe();
  EXPECT_EQ(client_.Run(RoundTrip(ws, "over tls", true)).data, "over tls");
  std::string bytes(70000, '\x7f');
  EXPECT_EQ(client_.Run(RoundTrip(ws, bytes, false)).data, bytes);

  auto plain_ws = std::make_shared<PlainWs>(client_.io());
  ASSERT_FALSE(client_.Run(ConnectPlain(plain_ws, port_, "/ws/echo")).error);
  auto plain_probe = NextProbe();
  EXPECT_EQ(client_.Run(RoundTrip(plain_ws, "plain too", true)).data, "plain too");

  client_.Run(CloseNormally(ws));
  EXPECT_EQ(WaitClosed(probe), kWsNormal);
  client_.Run(CloseNormally(plain_ws));
  EXPECT_EQ(WaitClosed(plain_probe), kWsNormal);
}

TEST_F(TlsServerTest, CreateReportsAnUnreadableCertificate) {
  ServerOptions options = TestOptions();
  options.tls_cert_file = (dir_.path() / "missing.pem").string();
  options.tls_key_file = key_;
  auto created = HttpServer::Create(options, router_, &metrics_);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("missing.pem"), std::string::npos);
}

}  // namespace
}  // namespace artagent::server
