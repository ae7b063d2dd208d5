#pragma once
// ScriptedServer: a loopback HTTP/1.1 server for tests of code that calls other services. A test
// queues responses, each a status, headers and a script of body steps (write bytes, wait, hang,
// close the connection abruptly), and afterwards asserts on the requests the server received.
//
//   auto server = ScriptedServer::Start().value();
//   server->Enqueue(ScriptedResponse(200).Header("Content-Type", "text/event-stream")
//                       .Chunked().Write("data: 1\n\n").Wait(50ms).Write("data: [DONE]\n\n"));
//   ... client calls server->base_url() + "/v1/chat/completions" ...
//   EXPECT_EQ(server->requests()[0].target, "/v1/chat/completions");
//
// It listens on 127.0.0.1, port 0, plain TCP or TLS (a fresh self-signed certificate for
// "localhost" and 127.0.0.1, or for ServerOptions::tls_host_name only). One thread runs it.
// Requests take the queued responses in order, across connections; with none queued the answer
// is the default response (SetDefaultResponse), else 500 "no scripted response". Keep-alive is
// honoured. Destroying the server closes every connection, hung ones included. All methods are
// thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/status.h"
#include "net/http_client.h"

namespace artagent::net::testing {

struct ScriptedStep {
  enum class Kind { kWrite, kWait, kHang, kClose };
  Kind kind = Kind::kWrite;
  std::string bytes;                  // kWrite: body bytes (one chunk when chunked)
  std::chrono::milliseconds wait{0};  // kWait
};

class ScriptedResponse {
 public:
  enum class Framing {
    kContentLength,  // Content-Length = the sum of the writes unless a header sets it
    kChunked,        // each write is one chunk; the last chunk is sent after the steps
    kUntilClose,     // no length: the body ends when the server closes the connection
  };

  explicit ScriptedResponse(int status = 200) : status(status) {}

  ScriptedResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  ScriptedResponse& Chunked() {
    framing = Framing::kChunked;
    return *this;
  }
  ScriptedResponse& UntilClose() {
    framing = Framing::kUntilClose;
    return *this;
  }
  ScriptedResponse& Write(std::string bytes) {
    steps.push_back({ScriptedStep::Kind::kWrite, std::move(bytes), {}});
    return *this;
  }
  ScriptedResponse& Wait(std::chrono::milliseconds ms) {
    steps.push_back({ScriptedStep::Kind::kWait, "", ms});
    return *this;
  }
  // Stops sending and keeps the connection open until the client closes it or the server stops.
  ScriptedResponse& Hang() {
    steps.push_back({ScriptedStep::Kind::kHang, "", {}});
    return *this;
  }
  // Closes the connection at once (no final chunk, whatever Content-Length promised).
  ScriptedResponse& Close() {
    steps.push_back({ScriptedStep::Kind::kClose, "", {}});
    return *this;
  }
  // The steps run before the response head is written (e.g. Hang() here: no head ever).
  ScriptedResponse& BeforeHead(std::vector<ScriptedStep> before) {
    before_head = std::move(before);
    return *this;
  }

  int status = 200;
  Headers headers;
  Framing framing = Framing::kContentLength;
  std::vector<ScriptedStep> before_head;
  std::vector<ScriptedStep> steps;
};

struct RecordedRequest {
  std::string method;
  std::string target;  // "/v1/chat/completions?x=y"
  Headers headers;
  std::string body;
  core::TimePoint received_at;  // steady clock, when the whole request had been read
  std::string Header(std::string_view name) const { return FindHeader(headers, name); }
};

struct ScriptedServerOptions {
  bool tls = false;
  // TLS: the certificate's only name (subjectAltName DNS); empty = "localhost" and 127.0.0.1.
  std::string tls_host_name;
};

class ScriptedServer {
 public:
  static core::Result<std::unique_ptr<ScriptedServer>> Start(ScriptedServerOptions options = {});
  ~ScriptedServer();

  uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  std::string base_url() const;
  // TLS: the server certificate (PEM), to trust as a CA in the client.
  const std::string& certificate_pem() const;

  void Enqueue(ScriptedResponse response);
  // The answer when nothing is queued (instead of 500 "no scripted response").
  void SetDefaultResponse(ScriptedResponse response);
  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  // Blocks until at least `count` requests arrived or `timeout` passed; true when they did.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;
  // Connections accepted so far.
  size_t connection_count() const;

  struct Impl;

 private:
  explicit ScriptedServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artagent::net::testing
