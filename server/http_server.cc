#include "server/http_server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "server/asio_executor.h"
#include "server/http_connection.h"
#include "server/server_state.h"

namespace artagent::server {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
// After the grace period connections are cut; this is how long they get to unwind.
constexpr std::chrono::seconds kForcedCloseWait{2};

std::string HostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void LogException(std::exception_ptr error, std::string_view what) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    core::LogError("server", "{}: {}", what, e.what());
  } catch (...) {
    core::LogError("server", "{}: unknown exception", what);
  }
}

// An io_context whose pending handlers can be destroyed before the object itself goes: Stop()
// releases the connections they own even while a session still holds a connection (and with it
// the context). Shutting services down twice (here and in the destructor) is harmless.
class ServerIoContext : public asio::io_context {
 public:
  void DestroyPendingHandlers() { shutdown(); }
};

core::Result<std::unique_ptr<ssl::context>> LoadTls(const ServerOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  error_code ec;
  context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return core::InvalidArgumentError("server.tls_cert_file: cannot load '" +
                                      options.tls_cert_file + "': " + ec.message() +
                                      " (expected a PEM certificate chain)");
  }
  context->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return core::InvalidArgumentError("server.tls_key_file: cannot load '" + options.tls_key_file +
                                      "': " + ec.message() + " (expected a PEM private key)");
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return core::InvalidArgumentError("server.tls_key_file: '" + options.tls_key_file +
                                      "' does not match the certificate '" + options.tls_cert_file +
                                      "'");
  }
  return context;
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions options, std::shared_ptr<Router> router, platform::Metrics* metrics)
      : io(std::make_shared<ServerIoContext>()),
        state(std::make_shared<ServerState>(std::move(options), std::move(router), metrics, io)),
        acceptor_strand(asio::make_strand(*io)),
        acceptor(acceptor_strand) {}

  asio::awaitable<void> AcceptLoop();
  void RunIoThread();
  bool OnIoThread() const;

  // Destroyed in reverse order. The io_context is shared with every connection (through the
  // state), so it goes when the last connection object does, not necessarily with the server.
  std::unique_ptr<ssl::context> tls_context;
  std::shared_ptr<ServerIoContext> io;
  std::shared_ptr<ServerState> state;
  IoStrand acceptor_strand;
  tcp::acceptor acceptor;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex lifecycle_mu;  // serialises Start() and Stop()
  bool started = false;
  bool stopped = false;
  uint16_t bound_port = 0;
};

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  for (;;) {
    // Each connection gets its own strand: its socket, handlers and session run on it.
    IoStrand strand = asio::make_strand(*io);
    tcp::socket socket(strand);
    auto [ec] = co_await acceptor.async_accept(socket, kAwaitTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      // Out of file descriptors and the like: back off instead of spinning.
      core::LogWarn("server", "accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor_strand, std::chrono::milliseconds(50));
      co_await pause.async_wait(kAwaitTuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small frames must not wait for Nagle
    StartHttpConnection(state, std::move(socket), std::move(strand));
  }
}

void HttpServer::Impl::RunIoThread() {
  for (;;) {
    try {
      io->run();
      return;
    } catch (const std::exception& e) {
      core::LogError("server", "I/O thread caught an exception: {}", e.what());
    } catch (...) {
      core::LogError("server", "I/O thread caught an unknown exception");
    }
  }
}

bool HttpServer::Impl::OnIoThread() const {
  for (const std::thread& thread : threads) {
    if (thread.get_id() == std::this_thread::get_id()) return true;
  }
  return false;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

core::Result<std::unique_ptr<HttpServer>> HttpServer::Create(ServerOptions options,
                                                             std::shared_ptr<Router> router,
                                                             platform::Metrics* metrics) {
  if (router == nullptr) return core::InvalidArgumentError("server: a router is required");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return core::InvalidArgumentError(
        "server: tls_cert_file and tls_key_file go together: set both (PEM certificate and key) "
        "or neither");
  }
  if (options.io_threads < 0) {
    return core::InvalidArgumentError("server.io_threads must be >= 0 (0: one per core)");
  }
  if (options.max_header_bytes == 0 || options.max_body_bytes == 0 ||
      options.max_ws_message_bytes == 0 || options.ws_send_queue_bytes == 0 ||
      options.max_connections == 0) {
    return core::InvalidArgumentError("server: size limits and max_connections must be > 0");
  }
  std::unique_ptr<ssl::context> tls;
  if (!options.tls_cert_file.empty()) {
    ARTAGENT_ASSIGN_OR_RETURN(tls, LoadTls(options));
  }
  std::optional<StaticFiles> static_files;
  if (!options.web_root.empty()) {
    core::Result<StaticFiles> files = StaticFiles::Create(options.web_root);
    if (!files.ok()) return files.status().WithContext("server.web_root");
    static_files.emplace(std::move(files).value());
  }

  auto impl = std::make_unique<Impl>(std::move(options), std::move(router), metrics);
  impl->tls_context = std::move(tls);
  impl->state->tls = impl->tls_context.get();
  impl->state->static_files = std::move(static_files);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

core::Status HttpServer::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.started || impl.stopped) {
    return core::FailedPreconditionError("server: Start() may be called once");
  }
  const ServerOptions& options = impl.state->options;
  const std::string address = HostPort(options.host, options.port);

  error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address ip = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, options.port);
  } else {
    tcp::resolver resolver(*impl.io);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return core::InvalidArgumentError("server: cannot resolve listen host '" + options.host +
                                        "': " + ec.message() +
                                        " (use an address such as 127.0.0.1 or 0.0.0.0)");
    }
    endpoint = results.begin()->endpoint();
  }

  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (ec) {
    error_code ignored;
    impl.acceptor.close(ignored);
    if (ec == asio::error::address_in_use) {
      return core::UnavailableError(
          "server: cannot listen on " + address +
          ": address already in use. Another process (perhaps another artagent) is listening "
          "there: stop it, or choose another port (port 0 picks a free one)");
    }
    if (ec == asio::error::access_denied) {
      return core::PermissionDeniedError("server: cannot listen on " + address +
                                         ": permission denied (ports below 1024 need privileges; "
                                         "use a higher port)");
    }
    if (ec == boost::system::errc::address_not_available) {
      return core::InvalidArgumentError("server: cannot listen on " + address +
                                        ": not an address of this machine (use 127.0.0.1 or "
                                        "0.0.0.0)");
    }
    return core::UnavailableError("server: cannot listen on " + address + ": " + ec.message());
  }
  impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    impl.acceptor.close(ignored);
    return core::UnavailableError("server: cannot listen on " + address + ": " + ec.message());
  }
  impl.bound_port = impl.acceptor.local_endpoint(ec).port();

  impl.work.emplace(asio::make_work_guard(*impl.io));
  asio::co_spawn(impl.acceptor_strand, impl.AcceptLoop(),
                 [](std::exception_ptr error) { LogException(error, "accept loop"); });
  int thread_count = options.io_threads;
  if (thread_count == 0) thread_count = static_cast<int>(std::thread::hardware_concurrency());
  thread_count = std::max(thread_count, 1);
  impl.threads.reserve(static_cast<size_t>(thread_count));
  for (int i = 0; i < thread_count; ++i) {
    impl.threads.emplace_back([&impl] { impl.RunIoThread(); });
  }
  impl.started = true;
  core::LogInfo("server", "listening on {} ({} I/O threads{})", url(), thread_count,
                impl.tls_context ? ", TLS and plain on one port" : "");
  return core::OkStatus();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

std::string HttpServer::url() const {
  const uint16_t port = impl_->bound_port != 0 ? impl_->bound_port : impl_->state->options.port;
  return std::string(impl_->tls_context ? "https://" : "http://") +
         HostPort(impl_->state->options.host, port) + "/";
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.stopped) return;
  if (impl.OnIoThread()) {
    core::LogError("server", "Stop() called from an I/O thread; call it from another thread");
    return;
  }
  impl.stopped = true;
  if (!impl.started) return;

  std::vector<std::shared_ptr<Closable>> live = impl.state->BeginStop();
  asio::post(impl.acceptor_strand, [&impl] {
    error_code ignored;
    impl.acceptor.close(ignored);
  });
  core::LogInfo("server", "stopping: {} connection(s) open, up to {}s to finish", live.size(),
                impl.state->options.shutdown_grace.count());
  for (const auto& connection : live) connection->BeginShutdown();
  live.clear();

  const auto deadline = std::chrono::steady_clock::now() + impl.state->options.shutdown_grace;
  if (!impl.state->WaitIdle(deadline)) {
    std::vector<std::shared_ptr<Closable>> rest = impl.state->Live();
    core::LogWarn("server", "{} connection(s) still open after the grace period; closing them",
                  rest.size());
    for (const auto& connection : rest) connection->ForceClose();
    rest.clear();
    impl.state->WaitIdle(std::chrono::steady_clock::now() + kForcedCloseWait);
  }
  impl.work.reset();
  impl.io->stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  // Handlers still queued (the tail of finished connections, work posted by sessions) are
  // destroyed now; they never run.
  impl.io->DestroyPendingHandlers();
  core::LogInfo("server", "stopped");
}

asio::io_context& HttpServer::io_context() { return *impl_->io; }

}  // namespace artagent::server
