#pragma once
// Where the Speech service lives and how a request proves who it is (protocols.md §4.1, §4.3).
// Internal to speech/azure.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/executor.h"
#include "core/status.h"
#include "net/http_client.h"
#include "speech/azure/azure_speech.h"

namespace artagent::speech::azure {

struct SpeechEndpoints {
  std::string tts_url;    // .../cognitiveservices/v1
  std::string stt_url;    // ws(s)://.../stt/speech/universal/v2?language=..&format=simple
  std::string token_url;  // .../sts/v1.0/issueToken
};
// kInvalidArgument when neither region nor a http(s) endpoint is given.
core::Result<SpeechEndpoints> ResolveEndpoints(const AzureSpeechOptions& options);

// Waits for one HTTP call (blocking the calling thread; never call it on `executor`).
core::Result<net::HttpResponse> FetchBlocking(net::HttpClient* http, net::HttpRequestSpec request,
                                              const std::shared_ptr<core::Executor>& executor);

// The credential headers of a request. Thread-safe; Headers() may block (token exchange, Entra),
// so call it off the I/O threads.
class SpeechAuth {
 public:
  SpeechAuth(const AzureSpeechOptions& options, SpeechEndpoints endpoints, net::HttpClient* http,
             std::shared_ptr<core::Executor> executor);

  // kKey: Ocp-Apim-Subscription-Key. kToken: Authorization: Bearer {issueToken result}, cached for
  // token_lifetime. kEntra: Authorization: Bearer aad#{resource}#{token}. kUnauthenticated when
  // the exchange is refused (401/403), kUnavailable when it cannot be reached.
  core::Result<net::Headers> Headers();
  // The service refused the credential: the next Headers() fetches a new token.
  void Invalidate();
  // Token exchanges so far (tests).
  int exchanges() const;

 private:
  AzureSpeechOptions options_;
  SpeechEndpoints endpoints_;
  net::HttpClient* http_;
  std::shared_ptr<core::Executor> executor_;
  mutable std::mutex mu_;
  std::string token_;
  std::chrono::system_clock::time_point token_expires_{};
  int exchanges_ = 0;
};

}  // namespace artagent::speech::azure
