#include "net/http_client.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/testing/scripted_server.h"
#include "net/testing/serial_executor.h"

namespace artagent::net {
namespace {

using std::chrono::milliseconds;
using testing::ScriptedResponse;
using testing::ScriptedServer;
using testing::SerialThreadExecutor;

constexpr milliseconds kWait{10000};  // upper bound for waiting on a callback; never reached

// Records what a call delivers, from the executor thread; the test thread waits on it.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<HttpResponseHead> head;
  std::vector<std::string> pieces;
  std::optional<core::Status> done;
  int done_count = 0;
  bool off_executor = false;
  std::shared_ptr<SerialThreadExecutor> ex;

  HttpCallbacks Callbacks() {
    HttpCallbacks cb;
    cb.on_head = [this](const HttpResponseHead& h) {
      std::lock_guard<std::mutex> lock(mu);
      off_executor |= !ex->RunningInThisThread();
      head = h;
      cv.notify_all();
    };
    cb.on_body = [this](std::string_view piece) {
      std::lock_guard<std::mutex> lock(mu);
      off_executor |= !ex->RunningInThisThread();
      pieces.emplace_back(piece);
      cv.notify_all();
    };
    cb.on_done = [this](const core::Status& st) {
      std::lock_guard<std::mutex> lock(mu);
      off_executor |= !ex->RunningInThisThread();
      done = st;
      ++done_count;
      cv.notify_all();
    };
    return cb;
  }
  core::Status WaitDone() {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, kWait, [&] { return done.has_value(); })) << "no on_done";
    return done.value_or(core::InternalError("no on_done"));
  }
  bool WaitForBody(std::string_view text) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kWait, [&] { return Body().find(text) != std::string::npos; });
  }
  std::string Body() const {
    std::string all;
    for (const auto& p : pieces) all += p;
    return all;
  }
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ex_ = SerialThreadExecutor::Create();
    rec_.ex = ex_;
    auto server = ScriptedServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    call_.reset();
    client_.reset();
    ex_->RunSync([] {});
  }

  HttpClient& client(HttpClientOptions options = {}) {
    if (!client_) client_ = HttpClient::Create(options);
    return *client_;
  }

  HttpRequestSpec Get(const std::string& path) {
    HttpRequestSpec spec;
    spec.url = server_->base_url() + path;
    return spec;
  }

  core::Status Run(HttpRequestSpec spec) {
    call_ = client().Send(std::move(spec), rec_.Callbacks(), ex_);
    return rec_.WaitDone();
  }

  std::shared_ptr<SerialThreadExecutor> ex_;
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<HttpCall> call_;
  Recorder rec_;
};

TEST_F(HttpClientTest, ContentLengthResponseAndTheRequestAsSent) {
  server_->Enqueue(ScriptedResponse(201).Header("X-Reply", "yes").Write("hello ").Write("world"));
  HttpRequestSpec spec = Get("/v1/things?a=b");
  spec.method = "POST";
  spec.headers = {{"Content-Type", "application/json"}, {"X-Custom", "1"}};
  spec.body = "{\"k\":1}";
  ASSERT_TRUE(Run(spec).ok()) << rec_.done->ToString();
  ASSERT_TRUE(rec_.head.has_value());
  EXPECT_EQ(rec_.head->status, 201);
  EXPECT_EQ(rec_.head->Header("x-reply"), "yes");
  EXPECT_EQ(rec_.Body(), "hello world");
  EXPECT_FALSE(rec_.off_executor);
  EXPECT_EQ(rec_.done_count, 1);

  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/things?a=b");
  EXPECT_EQ(reqs[0].body, "{\"k\":1}");
  EXPECT_EQ(reqs[0].Header("content-length"), "7");
  EXPECT_EQ(reqs[0].Header("x-custom"), "1");
  EXPECT_EQ(reqs[0].Header("host"), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(reqs[0].Header("user-agent"), "artagent/0.1");
}

TEST_F(HttpClientTest, ChunkedBodyIsDecoded) {
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("abc").Write("defgh").Write("i"));
  ASSERT_TRUE(Run(Get("/")).ok());
  EXPECT_EQ(rec_.Body(), "abcdefghi");
}

TEST_F(HttpClientTest, BodyDelimitedByClose) {
  server_->Enqueue(ScriptedResponse(200).UntilClose().Write("until ").Write("close"));
  ASSERT_TRUE(Run(Get("/")).ok());
  EXPECT_EQ(rec_.Body(), "until close");
}

TEST_F(HttpClientTest, BodyBytesArriveBeforeTheResponseEnds) {
  // The server never finishes: the first piece can only be seen if it is delivered on arrival.
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("data: first\n\n").Hang());
  call_ = client().Send(Get("/stream"), rec_.Callbacks(), ex_);
  ASSERT_TRUE(rec_.WaitForBody("data: first\n\n"));
  EXPECT_FALSE(rec_.done.has_value());
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  const std::string url = server_->base_url();
  server_.reset();  // nothing listens on that port any more
  HttpRequestSpec spec;
  spec.url = url + "/";
  core::Status st = Run(spec);
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("connecting"), std::string::npos) << st.ToString();
}

TEST_F(HttpClientTest, InvalidUrlFailsThroughOnDone) {
  HttpRequestSpec spec;
  spec.url = "ftp://example/x";
  EXPECT_EQ(Run(spec).code(), core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(rec_.off_executor);
}

TEST_F(HttpClientTest, ConnectTimeoutWhenTheTlsHandshakeGetsNoAnswer) {
  // A listening socket that never accepts: TCP connects (the kernel's backlog), TLS never does.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  HttpRequestSpec spec;
  spec.url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  spec.connect_timeout = milliseconds(200);
  core::Status st = Run(spec);
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_NE(st.message().find("connect timeout"), std::string::npos) << st.ToString();
}

TEST_F(HttpClientTest, FirstByteTimeoutWhenNoHeadComes) {
  server_->Enqueue(ScriptedResponse(200).BeforeHead({{testing::ScriptedStep::Kind::kHang}}));
  HttpRequestSpec spec = Get("/");
  spec.first_byte_timeout = milliseconds(200);
  core::Status st = Run(spec);
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_NE(st.message().find("first byte timeout"), std::string::npos) << st.ToString();
  EXPECT_FALSE(rec_.head.has_value());
}

TEST_F(HttpClientTest, IdleTimeoutWhenTheBodyStalls) {
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("some").Hang());
  HttpRequestSpec spec = Get("/");
  spec.idle_timeout = milliseconds(200);
  core::Status st = Run(spec);
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_NE(st.message().find("idle timeout"), std::string::npos) << st.ToString();
  EXPECT_EQ(rec_.Body(), "some");
}

TEST_F(HttpClientTest, TotalTimeoutEvenWhenBytesKeepComing) {
  ScriptedResponse trickle(200);
  trickle.Chunked();
  for (int i = 0; i < 100; ++i) trickle.Write("x").Wait(milliseconds(20));
  server_->Enqueue(trickle);
  HttpRequestSpec spec = Get("/");
  spec.idle_timeout = milliseconds(5000);
  spec.total_timeout = milliseconds(300);
  core::Status st = Run(spec);
  EXPECT_EQ(st.code(), core::StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_NE(st.message().find("total timeout"), std::string::npos) << st.ToString();
  EXPECT_FALSE(rec_.Body().empty());
}

TEST_F(HttpClientTest, BodyCutShortIsUnavailable) {
  server_->Enqueue(
      ScriptedResponse(200).Header("Content-Length", "100").Write("only ten..").Close());
  core::Status st = Run(Get("/"));
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(rec_.Body(), "only ten..");
}

TEST_F(HttpClientTest, ChunkedBodyCutShortIsUnavailable) {
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("partial").Close());
  core::Status st = Run(Get("/"));
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(rec_.Body(), "partial");
}

TEST_F(HttpClientTest, TooLargeDeclaredBodyIsResourceExhausted) {
  HttpClientOptions options;
  options.max_response_bytes = 100;
  client(options);
  server_->Enqueue(ScriptedResponse(200).Write(std::string(1000, 'a')));
  core::Status st = Run(Get("/"));
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted) << st.ToString();
}

TEST_F(HttpClientTest, TooLargeChunkedBodyIsResourceExhausted) {
  HttpClientOptions options;
  options.max_response_bytes = 100;
  client(options);
  server_->Enqueue(
      ScriptedResponse(200).Chunked().Write(std::string(60, 'a')).Write(std::string(60, 'b')));
  core::Status st = Run(Get("/"));
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_LE(rec_.Body().size(), 100u);
}

TEST_F(HttpClientTest, NoCallbackAfterCancel) {
  ScriptedResponse stream(200);
  stream.Chunked();
  for (int i = 0; i < 200; ++i) stream.Write("piece").Wait(milliseconds(2));
  server_->Enqueue(stream);
  std::atomic<bool> cancelled{false};
  std::atomic<int> after_cancel{0};
  std::atomic<int> pieces{0};
  HttpCallbacks cb;
  cb.on_body = [&](std::string_view) {
    if (cancelled) ++after_cancel;
    ++pieces;
  };
  cb.on_done = [&](const core::Status&) { ++after_cancel; };
  call_ = client().Send(Get("/"), cb, ex_);
  while (pieces.load() < 3) std::this_thread::yield();
  ex_->RunSync([&] {
    call_->Cancel();
    cancelled = true;
  });
  ASSERT_TRUE(server_->WaitForRequests(1, kWait));
  client_.reset();  // joins the I/O thread: nothing more can be posted
  ex_->RunSync([] {});
  EXPECT_EQ(after_cancel.load(), 0);
}

TEST_F(HttpClientTest, DestroyingTheCallCancelsIt) {
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("a").Hang());
  call_ = client().Send(Get("/"), rec_.Callbacks(), ex_);
  ASSERT_TRUE(rec_.WaitForBody("a"));
  ex_->RunSync([&] { call_.reset(); });
  client_.reset();
  ex_->RunSync([] {});
  EXPECT_EQ(rec_.done_count, 0);
}

TEST_F(HttpClientTest, FetchBuffersTheWholeResponse) {
  server_->Enqueue(ScriptedResponse(404)
                       .Header("Content-Type", "text/plain")
                       .Chunked()
                       .Write("not ")
                       .Write("here"));
  std::mutex mu;
  std::condition_variable cv;
  std::optional<core::Result<HttpResponse>> result;
  call_ = client().Fetch(
      Get("/missing"),
      [&](core::Result<HttpResponse> r) {
        std::lock_guard<std::mutex> lock(mu);
        result.emplace(std::move(r));
        cv.notify_all();
      },
      ex_);
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return result.has_value(); }));
  ASSERT_TRUE(result->ok());
  EXPECT_EQ((*result)->status, 404);
  EXPECT_EQ((*result)->body, "not here");
  EXPECT_EQ((*result)->Header("content-type"), "text/plain");
}

TEST_F(HttpClientTest, KeepsWorkingForManySequentialCalls) {
  for (int i = 0; i < 5; ++i) server_->Enqueue(ScriptedResponse(200).Write(std::to_string(i)));
  for (int i = 0; i < 5; ++i) {
    Recorder rec;
    rec.ex = ex_;
    call_ = client().Send(Get("/n"), rec.Callbacks(), ex_);
    ASSERT_TRUE(rec.WaitDone().ok());
    EXPECT_EQ(rec.Body(), std::to_string(i));
  }
}

class HttpsClientTest : public ::testing::Test {
 protected:
  void StartServer(testing::ScriptedServerOptions options) {
    options.tls = true;
    auto server = ScriptedServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ca_file_ = ::testing::TempDir() + "net_test_ca_" + std::to_string(server_->port()) + ".pem";
    std::ofstream(ca_file_) << server_->certificate_pem();
  }
  void TearDown() override {
    client_.reset();
    ex_->RunSync([] {});
    std::remove(ca_file_.c_str());
  }
  core::Status Fetch(HttpClientOptions options, const std::string& url) {
    client_ = HttpClient::Create(options);
    rec_.ex = ex_;
    HttpRequestSpec spec;
    spec.url = url;
    call_ = client_->Send(spec, rec_.Callbacks(), ex_);
    return rec_.WaitDone();
  }

  std::shared_ptr<SerialThreadExecutor> ex_ = SerialThreadExecutor::Create();
  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<HttpCall> call_;
  std::string ca_file_;
  Recorder rec_;
};

TEST_F(HttpsClientTest, TrustedCertificateWorksForIpAndHostName) {
  StartServer({});
  server_->Enqueue(ScriptedResponse(200).Chunked().Write("secure"));
  HttpClientOptions options;
  options.ca_file = ca_file_;
  ASSERT_TRUE(Fetch(options, server_->base_url() + "/").ok()) << rec_.done->ToString();
  EXPECT_EQ(rec_.Body(), "secure");
}

TEST_F(HttpsClientTest, SniHostNameIsVerified) {
  StartServer({});
  server_->Enqueue(ScriptedResponse(200).Write("ok"));
  HttpClientOptions options;
  options.ca_file = ca_file_;
  ASSERT_TRUE(Fetch(options, "https://localhost:" + std::to_string(server_->port()) + "/").ok())
      << rec_.done->ToString();
}

TEST_F(HttpsClientTest, UntrustedCertificateIsRejected) {
  StartServer({});
  core::Status st = Fetch({}, server_->base_url() + "/");
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("TLS handshake"), std::string::npos) << st.ToString();
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(HttpsClientTest, CertificateForAnotherHostIsRejected) {
  StartServer({.tls = true, .tls_host_name = "other.test"});
  HttpClientOptions options;
  options.ca_file = ca_file_;
  core::Status st = Fetch(options, server_->base_url() + "/");
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(HttpsClientTest, VerificationCanBeTurnedOff) {
  StartServer({});
  server_->Enqueue(ScriptedResponse(200).Write("insecure"));
  HttpClientOptions options;
  options.verify_tls = false;
  ASSERT_TRUE(Fetch(options, server_->base_url() + "/").ok()) << rec_.done->ToString();
  EXPECT_EQ(rec_.Body(), "insecure");
}

TEST_F(HttpsClientTest, MissingCaFileFailsHttpsCallsClearly) {
  StartServer({});
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  core::Status st = Fetch(options, server_->base_url() + "/");
  EXPECT_EQ(st.code(), core::StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace artagent::net
