#include "net/http_client.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <exception>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "core/log.h"
#include "net/url.h"

namespace artagent::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;
using TlsStream = beast::ssl_stream<beast::tcp_stream&>;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kHeaderLimit = 64 * 1024;
constexpr size_t kReadChunk = 16 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class ClientImpl;

// One call: lives in its coroutine (and briefly in posted handlers); the HttpCall handle holds a
// weak reference. Everything but `cancelled_` is touched only on `strand_`.
class CallState : public std::enable_shared_from_this<CallState> {
 public:
  CallState(asio::io_context& io, ssl::context* tls_context, const core::Status& tls_error,
            const HttpClientOptions& options, HttpRequestSpec request, HttpCallbacks callbacks,
            std::shared_ptr<core::Executor> executor)
      : strand_(asio::make_strand(io)),
        resolver_(strand_),
        stream_(strand_),
        watchdog_(strand_),
        tls_context_(tls_context),
        tls_error_(tls_error),
        options_(options),
        request_(std::move(request)),
        callbacks_(std::make_shared<HttpCallbacks>(std::move(callbacks))),
        executor_(std::move(executor)),
        cancelled_(std::make_shared<std::atomic<bool>>(false)) {}

  const std::shared_ptr<std::atomic<bool>>& cancelled() const { return cancelled_; }
  const Strand& strand() const { return strand_; }

  void Start() {
    asio::co_spawn(strand_, Run(shared_from_this()), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        core::LogError("net", "http call failed unexpectedly: {}", ex.what());
      } catch (...) {
      }
    });
  }

  // On the strand: the caller cancelled; stop everything and never report.
  void Abort() {
    finished_ = true;
    ++watchdog_gen_;
    watchdog_.cancel();
    CloseSocket();
  }

 private:
  static asio::awaitable<void> Run(std::shared_ptr<CallState> self) {
    co_await self->Exchange();
    self->CloseSocket();
    self->watchdog_.cancel();
  }

  asio::awaitable<void> Exchange() {
    total_deadline_ = std::chrono::steady_clock::now() + request_.total_timeout;
    auto url = ParseUrl(request_.url);
    if (!url.ok()) co_return Finish(url.status());
    url_ = std::move(url).value();
    if (url_.tls && !tls_error_.ok()) co_return Finish(tls_error_);
    const std::string where = url_.host + ":" + url_.port;

    Arm(request_.connect_timeout, "connect");
    auto [resolve_ec, endpoints] =
        co_await resolver_.async_resolve(url_.host, url_.port, kAwaitTuple);
    if (finished_) co_return;
    if (resolve_ec) {
      co_return Finish(
          core::UnavailableError("resolving " + url_.host + ": " + resolve_ec.message()));
    }
    auto [connect_ec, endpoint] =
        co_await asio::async_connect(stream_.socket(), endpoints, kAwaitTuple);
    if (finished_) co_return;
    if (connect_ec) {
      co_return Finish(
          core::UnavailableError("connecting to " + where + ": " + connect_ec.message()));
    }
    stream_.socket().set_option(tcp::no_delay(true), connect_ec);

    if (!url_.tls) co_return co_await Transfer(stream_);

    tls_.emplace(stream_, *tls_context_);
    if (!IsIpLiteral(url_.host) &&
        !SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str())) {
      co_return Finish(core::UnavailableError("TLS: cannot set SNI host name " + url_.host));
    }
    if (options_.verify_tls) {
      tls_->set_verify_mode(ssl::verify_peer);
      tls_->set_verify_callback(ssl::host_name_verification(url_.host));
    } else {
      tls_->set_verify_mode(ssl::verify_none);
    }
    auto [hs_ec] = co_await tls_->async_handshake(ssl::stream_base::client, kAwaitTuple);
    if (finished_) co_return;
    if (hs_ec) {
      co_return Finish(
          core::UnavailableError("TLS handshake with " + where + ": " + hs_ec.message()));
    }
    co_await Transfer(*tls_);
  }

  template <typename Stream>
  asio::awaitable<void> Transfer(Stream& stream) {
    http::request<http::string_body> req;
    const http::verb verb = http::string_to_verb(request_.method);
    if (verb == http::verb::unknown) {
      req.method_string(request_.method);
    } else {
      req.method(verb);
    }
    req.target(url_.target);
    req.version(11);
    bool has_host = false;
    bool has_agent = false;
    for (const auto& [name, value] : request_.headers) {
      if (EqualsIgnoreCase(name, "host")) has_host = true;
      if (EqualsIgnoreCase(name, "user-agent")) has_agent = true;
      if (EqualsIgnoreCase(name, "content-length")) continue;  // computed below
      req.insert(name, value);
    }
    if (!has_host) req.set(http::field::host, url_.host_header);
    if (!has_agent && !options_.user_agent.empty()) {
      req.set(http::field::user_agent, options_.user_agent);
    }
    req.body() = std::move(request_.body);
    if (!req.body().empty() || verb == http::verb::post || verb == http::verb::put ||
        verb == http::verb::patch) {
      req.prepare_payload();
    }

    Arm(request_.first_byte_timeout, "first byte");
    auto [write_ec, written] = co_await http::async_write(stream, req, kAwaitTuple);
    if (finished_) co_return;
    if (write_ec) co_return Finish(MapError(write_ec, "sending the request"));

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options_.max_response_bytes);
    if (verb == http::verb::head) parser.skip(true);
    auto [head_ec, head_bytes] =
        co_await http::async_read_header(stream, buffer_, parser, kAwaitTuple);
    if (finished_) co_return;
    if (head_ec) co_return Finish(MapError(head_ec, "reading the response head"));

    HttpResponseHead head;
    head.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    Deliver([head = std::move(head)](HttpCallbacks& cb) {
      if (cb.on_head) cb.on_head(head);
    });

    std::array<char, kReadChunk> chunk;
    size_t total = 0;
    while (!parser.is_done()) {
      Arm(request_.idle_timeout, "idle");
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      auto [read_ec, n] = co_await http::async_read_some(stream, buffer_, parser, kAwaitTuple);
      if (finished_) co_return;
      const size_t got = chunk.size() - parser.get().body().size;
      if (got > 0) {
        total += got;
        if (total > options_.max_response_bytes) break;  // the parser's limit catches it first
        Deliver([bytes = std::string(chunk.data(), got)](HttpCallbacks& cb) {
          if (cb.on_body) cb.on_body(bytes);
        });
      }
      if (read_ec == http::error::need_buffer) continue;
      if (read_ec) co_return Finish(MapError(read_ec, "reading the response body"));
    }
    if (total > options_.max_response_bytes) {
      co_return Finish(core::ResourceExhaustedError(
          "response body exceeds " + std::to_string(options_.max_response_bytes) + " bytes"));
    }
    Finish(core::OkStatus());
  }

  core::Status MapError(const error_code& ec, std::string_view doing) const {
    const std::string where = url_.host + ":" + url_.port;
    if (ec == http::error::body_limit) {
      return core::ResourceExhaustedError("response body from " + where + " exceeds " +
                                          std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return core::ResourceExhaustedError("response head from " + where + " too large");
    }
    if (ec == http::error::partial_message || ec == http::error::end_of_stream ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return core::UnavailableError(std::string(doing) + " from " + where +
                                    ": connection closed early (body cut short)");
    }
    return core::UnavailableError(std::string(doing) + " from " + where + ": " + ec.message());
  }

  // (Re)starts the watchdog for the next phase: the phase's own timeout or what is left of the
  // total, whichever ends first.
  void Arm(std::chrono::milliseconds timeout, const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    auto deadline = now + timeout;
    std::string what = std::string(phase) + " timeout (" + std::to_string(timeout.count()) + " ms)";
    if (deadline >= total_deadline_) {
      deadline = total_deadline_;
      what = "total timeout (" + std::to_string(request_.total_timeout.count()) + " ms)";
    }
    watchdog_.expires_at(deadline);
    watchdog_.async_wait([self = shared_from_this(), gen = ++watchdog_gen_,
                          what = std::move(what)](const error_code& ec) {
      if (ec || gen != self->watchdog_gen_ || self->finished_) return;
      self->Finish(core::DeadlineExceededError("HTTP " + self->request_.method + " " +
                                               self->url_.host + ": " + what));
      self->CloseSocket();
    });
  }

  void CloseSocket() {
    error_code ec;
    resolver_.cancel();
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  template <typename Fn>
  void Deliver(Fn fn) {
    executor_->Post([cancelled = cancelled_, callbacks = callbacks_, fn = std::move(fn)]() mutable {
      if (cancelled->load(std::memory_order_acquire)) return;
      fn(*callbacks);
    });
  }

  void Finish(core::Status status) {
    if (finished_) return;
    finished_ = true;
    ++watchdog_gen_;
    watchdog_.cancel();
    Deliver([status = std::move(status)](HttpCallbacks& cb) {
      if (cb.on_done) cb.on_done(status);
    });
  }

  Strand strand_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  std::optional<TlsStream> tls_;
  asio::steady_timer watchdog_;
  uint64_t watchdog_gen_ = 0;
  beast::flat_buffer buffer_;
  ssl::context* tls_context_;
  core::Status tls_error_;
  const HttpClientOptions& options_;
  HttpRequestSpec request_;
  ParsedUrl url_;
  std::chrono::steady_clock::time_point total_deadline_;
  bool finished_ = false;
  std::shared_ptr<HttpCallbacks> callbacks_;
  std::shared_ptr<core::Executor> executor_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

class CallHandle final : public HttpCall {
 public:
  explicit CallHandle(const std::shared_ptr<CallState>& state)
      : cancelled_(state->cancelled()), state_(state) {}
  ~CallHandle() override { Cancel(); }

  void Cancel() override {
    if (cancelled_->exchange(true, std::memory_order_acq_rel)) return;
    if (auto state = state_.lock()) {
      asio::post(state->strand(), [state] { state->Abort(); });
    }
  }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::weak_ptr<CallState> state_;
};

class ClientImpl final : public HttpClient {
 public:
  explicit ClientImpl(const HttpClientOptions& options)
      : options_(options),
        tls_context_(ssl::context::tls_client),
        work_(asio::make_work_guard(io_)) {
    error_code ec;
    tls_context_.set_default_verify_paths(ec);
    if (ec) core::LogWarn("net", "TLS: cannot load the system CA store: {}", ec.message());
    if (!options_.ca_file.empty()) {
      tls_context_.load_verify_file(options_.ca_file, ec);
      if (ec) {
        tls_error_ = core::FailedPreconditionError("TLS: cannot load CA file " + options_.ca_file +
                                                   ": " + ec.message());
      }
    }
    const int threads = std::max(options_.io_threads, 1);
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }

  ~ClientImpl() override {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  std::unique_ptr<HttpCall> Send(HttpRequestSpec request, HttpCallbacks callbacks,
                                 std::shared_ptr<core::Executor> executor) override {
    if (options_.observer) {
      std::shared_ptr<HttpCallScope> scope = options_.observer->OnCallStart(request);
      if (scope) callbacks = Observed(std::move(callbacks), std::move(scope));
    } else if (!request.traceparent.empty() && FindHeader(request.headers, "traceparent").empty()) {
      request.headers.emplace_back("traceparent", request.traceparent);
    }
    auto state =
        std::make_shared<CallState>(io_, &tls_context_, tls_error_, options_, std::move(request),
                                    std::move(callbacks), std::move(executor));
    auto handle = std::make_unique<CallHandle>(state);
    state->Start();
    return handle;
  }

 private:
  // The scope ends with the call; dropped unended (a cancelled call) with the callbacks.
  static HttpCallbacks Observed(HttpCallbacks callbacks, std::shared_ptr<HttpCallScope> scope) {
    auto http_status = std::make_shared<int>(0);
    HttpCallbacks out;
    out.on_head = [http_status,
                   on_head = std::move(callbacks.on_head)](const HttpResponseHead& head) {
      *http_status = head.status;
      if (on_head) on_head(head);
    };
    out.on_body = std::move(callbacks.on_body);
    out.on_done = [http_status, scope = std::move(scope),
                   on_done = std::move(callbacks.on_done)](const core::Status& status) {
      scope->End(*http_status, status);
      if (on_done) on_done(status);
    };
    return out;
  }

  // Declared before io_: the call states destroyed with io_ refer to them.
  const HttpClientOptions options_;
  ssl::context tls_context_;
  core::Status tls_error_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace

std::string FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::unique_ptr<HttpClient> HttpClient::Create(const HttpClientOptions& options) {
  return std::make_unique<ClientImpl>(options);
}

std::unique_ptr<HttpCall> HttpClient::Fetch(HttpRequestSpec request,
                                            std::function<void(core::Result<HttpResponse>)> done,
                                            std::shared_ptr<core::Executor> executor) {
  auto response = std::make_shared<HttpResponse>();
  HttpCallbacks callbacks;
  callbacks.on_head = [response](const HttpResponseHead& head) {
    response->status = head.status;
    response->headers = head.headers;
  };
  callbacks.on_body = [response](std::string_view chunk) { response->body.append(chunk); };
  callbacks.on_done = [response, done = std::move(done)](const core::Status& status) {
    if (status.ok()) {
      done(std::move(*response));
    } else {
      done(status);
    }
  };
  return Send(std::move(request), std::move(callbacks), std::move(executor));
}

}  // namespace artagent::net
