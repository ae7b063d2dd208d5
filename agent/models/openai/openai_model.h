#pragma once
// OpenAiModel: agent::Model over the Chat Completions API with streaming (SSE), for OpenAI, Azure
// OpenAI (classic deployment URLs and the /openai/v1 form) and any OpenAI-compatible server
// (Ollama, vLLM, llama.cpp, ...). Wire format: shared/reference/protocols.md §3.
//
// Behaviour:
// * Text deltas go to on_text as they arrive. Tool calls are assembled from their fragments (by
//   `index`) and delivered complete, in index order, when finish_reason arrives (or at [DONE]).
// * HTTP 408/429/5xx and connection failures before any text went out are retried with
//   exponential back-off and jitter, honouring retry-after-ms / Retry-After, up to max_retries.
//   A server asking to wait longer than max_retry_wait is not retried.
// * Other 4xx fail at once with the API's error.message. A stream cut short, malformed chunk JSON,
//   an error event or a stalled stream (idle timeout) end the call with a non-OK status; text
//   already delivered stays delivered and nothing is retried once text went out.
// * A circuit breaker per endpoint (shared through `shared_breaker`, or one per model): when it
//   is open, calls fail fast with kUnavailable "model endpoint unavailable (circuit open)".
// * Never throws. All callbacks are posted to the executor given to CreateOpenAiModel.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/model.h"
#include "core/executor.h"
#include "core/status.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "net/retry.h"

namespace artagent::agent {

// Supplies a bearer token (Entra ID / managed identity) for one request. `done` may be called on
// any thread, at once or later; the token should be cached by the provider.
using TokenProvider =
    std::function<void(std::function<void(core::Result<std::string> token)> done)>;

struct OpenAiModelOptions {
  // Where requests go; "/chat/completions" is appended unless the path already ends with it, and a
  // query string is kept. Forms:
  //   https://api.openai.com/v1                                    OpenAI
  //   http://localhost:11434/v1                                    any compatible server
  //   https://{resource}.openai.azure.com/openai/v1                Azure v1 (model = deployment)
  //   https://{resource}.openai.azure.com/openai/deployments/{d}   Azure classic (api_version)
  std::string base_url;
  // Azure classic: the api-version query parameter (e.g. "2024-10-21"), unless base_url has one.
  std::string api_version;
  // Body "model": the model name, or the deployment name for Azure v1. Optional for Azure
  // classic URLs (the deployment in the path selects the model).
  std::string model;

  enum class Auth {
    kAuto,    // "api-key" header for Azure hosts and /openai/ paths, Bearer otherwise
    kBearer,  // Authorization: Bearer {api_key}
    kApiKey,  // api-key: {api_key}
  };
  Auth auth = Auth::kAuto;
  std::string api_key;           // empty and no token_provider: no auth header (local servers)
  TokenProvider token_provider;  // when set: Authorization: Bearer {token}, api_key unused

  std::optional<double> temperature;            // 0..2
  std::optional<int> max_tokens;                // > 0
  std::string max_tokens_field = "max_tokens";  // or "max_completion_tokens" (o-series models)
  bool parallel_tool_calls = true;              // sent when tools are offered
  bool include_usage = true;                    // stream_options.include_usage
  net::Headers extra_headers;

  // Per HTTP attempt. first_token: request sent -> response head; idle: between two body reads.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_token_timeout{30000};
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds total_timeout{120000};

  int max_retries = 2;  // extra attempts after the first
  net::BackoffPolicy backoff;
  std::chrono::milliseconds max_retry_wait{20000};  // longest wait (back-off or server hint)
  uint64_t jitter_seed = 0;                         // 0: seeded from the system

  net::CircuitBreakerOptions breaker;
  // Share one breaker between every model using the same endpoint; null: the model owns one.
  std::shared_ptr<net::CircuitBreaker> shared_breaker;
};

// Validates `options` (errors name the setting) and creates the model. `client` must outlive the
// model and its streams; callbacks run on `executor`.
core::Result<std::unique_ptr<Model>> CreateOpenAiModel(const OpenAiModelOptions& options,
                                                       net::HttpClient* client,
                                                       std::shared_ptr<core::Executor> executor);

// The JSON request body for `request` (exposed for tests and logs).
std::string BuildChatCompletionsBody(const OpenAiModelOptions& options,
                                     const ModelRequest& request);

// The URL requests go to, or an error naming the setting that is wrong.
core::Result<std::string> ChatCompletionsUrl(const OpenAiModelOptions& options);

}  // namespace artagent::agent
