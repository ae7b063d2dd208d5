#include "net/testing/scripted_server.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>

#include "core/log.h"

namespace artagent::net::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

struct CertificatePem {
  std::string cert;
  std::string key;
};

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// A self-signed EC P-256 certificate valid for one day, for `san` ("DNS:localhost,IP:...").
core::Result<CertificatePem> MakeCertificate(const std::string& common_name,
                                             const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  BIO* cert_bio = BIO_new(BIO_s_mem());
  BIO* key_bio = BIO_new(BIO_s_mem());
  bool ok = key != nullptr && cert != nullptr && cert_bio != nullptr && key_bio != nullptr;
  if (ok) {
    uint64_t serial = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
    ok = X509_set_version(cert, 2) == 1 &&
         ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial >> 1) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != nullptr &&
         X509_set_pubkey(cert, key) == 1;
  }
  if (ok) {
    X509_NAME* name = X509_get_subject_name(cert);
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                    -1, 0) == 1 &&
         X509_set_issuer_name(cert, name) == 1;
  }
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(cert, key, EVP_sha256()) > 0 && PEM_write_bio_X509(cert_bio, cert) == 1 &&
       PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  CertificatePem out;
  if (ok) {
    out.cert = BioToString(cert_bio);
    out.key = BioToString(key_bio);
  }
  BIO_free(key_bio);
  BIO_free(cert_bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) return core::InternalError("cannot generate a test certificate");
  return out;
}

std::string BuildHead(const ScriptedResponse& response) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     std::string(http::obsolete_reason(
                         http::int_to_status(static_cast<unsigned>(response.status)))) +
                     "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : response.headers) {
    if (beast::iequals(name, "content-length")) has_length = true;
    head += name + ": " + value + "\r\n";
  }
  switch (response.framing) {
    case ScriptedResponse::Framing::kContentLength:
      if (!has_length) {
        size_t total = 0;
        for (const auto& step : response.steps) total += step.bytes.size();
        head += "Content-Length: " + std::to_string(total) + "\r\n";
      }
      break;
    case ScriptedResponse::Framing::kChunked:
      head += "Transfer-Encoding: chunked\r\n";
      break;
    case ScriptedResponse::Framing::kUntilClose:
      head += "Connection: close\r\n";
      break;
  }
  return head + "\r\n";
}

std::string ChunkOf(const std::string& bytes) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  return size + bytes + "\r\n";
}

}  // namespace

struct ScriptedServer::Impl {
  ScriptedServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<ssl::context> tls;
  std::string cert_pem;
  uint16_t port = 0;
  std::thread thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<ScriptedResponse> queue;
  std::optional<ScriptedResponse> fallback;  // SetDefaultResponse
  std::vector<RecordedRequest> requests;
  size_t connections = 0;

  ScriptedResponse NextResponse() {
    std::lock_guard<std::mutex> lock(mu);
    if (queue.empty() && fallback) return *fallback;
    if (queue.empty()) {
      ScriptedResponse none(500);
      none.Header("Content-Type", "text/plain").Write("no scripted response");
      return none;
    }
    ScriptedResponse next = std::move(queue.front());
    queue.pop_front();
    return next;
  }

  asio::awaitable<void> Accept() {
    while (true) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwaitTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ++connections;
      }
      asio::co_spawn(io, ServeSocket(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> ServeSocket(tcp::socket socket) {
    error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    if (!tls) {
      co_await Serve(socket);
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAwaitTuple);
    if (ec) co_return;
    co_await Serve(stream);
  }

  template <typename Stream>
  asio::awaitable<bool> RunSteps(Stream& stream, const std::vector<ScriptedStep>& steps,
                                 bool chunked) {
    for (const auto& step : steps) {
      switch (step.kind) {
        case ScriptedStep::Kind::kWrite: {
          if (step.bytes.empty()) break;
          const std::string bytes = chunked ? ChunkOf(step.bytes) : step.bytes;
          auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), kAwaitTuple);
          if (ec) co_return false;
          break;
        }
        case ScriptedStep::Kind::kWait: {
          asio::steady_timer timer(io, step.wait);
          co_await timer.async_wait(kAwaitTuple);
          break;
        }
        case ScriptedStep::Kind::kHang: {
          // Until the server stops (the io_context is stopped and this frame destroyed).
          asio::steady_timer timer(io, std::chrono::hours(24));
          co_await timer.async_wait(kAwaitTuple);
          co_return false;
        }
        case ScriptedStep::Kind::kClose: {
          error_code ignored;
          beast::get_lowest_layer(stream).close(ignored);
          co_return false;
        }
      }
    }
    co_return true;
  }

  template <typename Stream>
  asio::awaitable<void> Serve(Stream& stream) {
    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kAwaitTuple);
      if (read_ec) co_return;
      const auto& req = parser.get();
      RecordedRequest record;
      record.method = std::string(req.method_string());
      record.target = std::string(req.target());
      for (const auto& field : req) {
        record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      record.body = req.body();
      record.received_at = core::Clock::now();
      const bool keep_alive = req.keep_alive();
      {
        std::lock_guard<std::mutex> lock(mu);
        requests.push_back(std::move(record));
      }
      cv.notify_all();

      ScriptedResponse response = NextResponse();
      if (!co_await RunSteps(stream, response.before_head, false)) co_return;
      const std::string head = BuildHead(response);
      auto [head_ec, n] = co_await asio::async_write(stream, asio::buffer(head), kAwaitTuple);
      if (head_ec) co_return;
      const bool chunked = response.framing == ScriptedResponse::Framing::kChunked;
      if (!co_await RunSteps(stream, response.steps, chunked)) co_return;
      if (chunked) {
        static const std::string kLastChunk = "0\r\n\r\n";
        auto [ec, m] = co_await asio::async_write(stream, asio::buffer(kLastChunk), kAwaitTuple);
        if (ec) co_return;
      }
      if (response.framing == ScriptedResponse::Framing::kUntilClose || !keep_alive) {
        error_code ignored;
        beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }
};

ScriptedServer::ScriptedServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ScriptedServer::~ScriptedServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

core::Result<std::unique_ptr<ScriptedServer>> ScriptedServer::Start(ScriptedServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.tls) {
    const std::string san = options.tls_host_name.empty() ? "DNS:localhost,IP:127.0.0.1"
                                                          : "DNS:" + options.tls_host_name;
    const std::string cn = options.tls_host_name.empty() ? "localhost" : options.tls_host_name;
    ARTAGENT_ASSIGN_OR_RETURN(CertificatePem pem, MakeCertificate(cn, san));
    impl->tls.emplace(ssl::context::tls_server);
    error_code ec;
    impl->tls->use_certificate_chain(asio::buffer(pem.cert), ec);
    if (!ec) impl->tls->use_private_key(asio::buffer(pem.key), ssl::context::pem, ec);
    if (ec) return core::InternalError("test TLS context: " + ec.message());
    impl->cert_pem = pem.cert;
  }
  error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return core::UnavailableError("scripted server cannot listen: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->Accept(), asio::detached);
  raw->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<ScriptedServer>(new ScriptedServer(std::move(impl)));
}

uint16_t ScriptedServer::port() const { return impl_->port; }

std::string ScriptedServer::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

const std::string& ScriptedServer::certificate_pem() const { return impl_->cert_pem; }

void ScriptedServer::Enqueue(ScriptedResponse response) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->queue.push_back(std::move(response));
}

void ScriptedServer::SetDefaultResponse(ScriptedResponse response) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fallback = std::move(response);
}

std::vector<RecordedRequest> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

size_t ScriptedServer::request_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests.size();
}

bool ScriptedServer::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

size_t ScriptedServer::connection_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->connections;
}

}  // namespace artagent::net::testing
