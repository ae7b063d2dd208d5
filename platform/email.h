#pragma once
// E-mail through Azure Communication Services (protocols.md §9): POST {endpoint}/emails:send with
// an Operation-Id (so a retried send is not a second e-mail), then poll Operation-Location until
// the operation is Succeeded or Failed. Auth: the ACS access key (HMAC-SHA256, §1.6, the same
// signing as Call Automation: net/acs_auth.h) or an Entra token
// (scope https://communication.azure.com/.default).
//
// Retries: 429, 5xx and connection errors of the send and of each poll, with back-off and the
// server's Retry-After (bounded); polling honours Retry-After between polls and gives up after
// poll_timeout. 4xx other than 429 are final.
//
// Threading: one EmailSender lives on the serial executor it is given; Send() may be called from
// any thread and `done` runs on that executor. Destroying the sender cancels what is in flight
// (their `done` is not called). Addresses and bodies are not logged; keys never.

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/status.h"
#include "net/http_client.h"
#include "net/retry.h"

namespace artagent::platform {

class TokenCredential;

struct EmailAttachment {
  std::string name;          // "transcript.txt"
  std::string content_type;  // "text/plain"
  std::string content;       // raw bytes (sent base64-encoded)
};

struct EmailMessage {
  std::vector<std::string> to;
  std::string subject;
  std::string plain_text;
  std::string html;  // optional
  std::vector<EmailAttachment> attachments;
  std::string correlation_id;  // headers.ClientCorrelationId (e.g. the session id); optional
};

struct EmailOptions {
  // "endpoint=https://NAME.communication.azure.com/;accesskey=KEY": HMAC auth.
  std::string connection_string;
  // With no connection string: the endpoint, authenticated with `credential`.
  std::string endpoint;
  std::shared_ptr<TokenCredential> credential;
  std::string sender;  // senderAddress
  std::string api_version = "2023-03-31";
  std::chrono::seconds poll_timeout{120};
  int max_retries = 4;  // per request (the send, each poll)
  net::BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::seconds(10), 2.0, 0.2};
  core::Duration max_retry_after = std::chrono::seconds(30);
  core::Duration default_poll_interval = std::chrono::seconds(1);  // when no Retry-After
  uint64_t seed = 0;  // back-off jitter and Operation-Id generation; 0 = random
  std::function<std::chrono::system_clock::time_point()> wall_clock;  // x-ms-date; tests
};

struct EmailResult {
  std::string operation_id;
  std::string status;  // the terminal status: "Succeeded"
};

class EmailSender {
 public:
  // kInvalidArgument naming the key to fix (email.sender, email.connection_string/endpoint).
  static core::Result<std::unique_ptr<EmailSender>> Create(
      EmailOptions options, net::HttpClient* http, std::shared_ptr<core::Executor> executor);
  virtual ~EmailSender() = default;

  // OK once the operation Succeeded. kInvalidArgument (400: bad address, sender not verified),
  // kUnauthenticated (401/403), kUnavailable (retries exhausted, operation Failed/Canceled with
  // the service's error message), kDeadlineExceeded (still running after poll_timeout).
  virtual void Send(EmailMessage message, std::function<void(core::Result<EmailResult>)> done) = 0;
};

// The JSON body of emails:send (exposed for tests).
std::string EmailRequestBody(const std::string& sender, const EmailMessage& message);

}  // namespace artagent::platform
