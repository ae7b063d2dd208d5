#pragma once
// Webhook tools: tools declared in a scenario's YAML `tools:` list and carried out by an HTTP
// service. The arguments the model produced go out as JSON; the service's JSON answer is the
// tool's output.
//
//   tools:
//     - name: lookup_order
//       description: Look up an order by its number.
//       url: https://orders.example.com/api/lookup
//       method: POST                     # POST (default): JSON body; GET: query string
//       parameters:                      # JSON Schema of the arguments, written as YAML
//         type: object
//         properties: {order_number: {type: string}}
//         required: [order_number]
//       headers: {X-Api-Version: "2"}
//       auth: {header: Authorization, scheme: Bearer, secret: secret://ORDERS_TOKEN}
//       timeout_ms: 5000                 # the whole call, retries included (default 10000)
//       idempotent: true                 # default: true for GET, false for POST
//       retries: 2                       # idempotent tools only (default 2 for them, else 0)
//
// Each request carries Content-Type/Accept application/json, X-Artagent-Session (the session id)
// and X-Artagent-Agent (the calling agent). A 2xx answer must be JSON (an empty body reads as {};
// a value that is not an object comes back as {"result": value}) of at most 64 KiB. Other answers
// are errors that give the HTTP status and the start of the body. Idempotent tools are retried on
// connection failures, 408, 429 and 5xx with exponential back-off (and the server's Retry-After)
// while the time budget lasts; other tools are sent once.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "agent/tools/tool.h"
#include "core/status.h"
#include "net/http_client.h"
#include "net/retry.h"

namespace artagent::agent {

struct WebhookAuth {
  std::string header = "Authorization";
  std::string scheme;      // "Bearer", "Basic", ... ; empty: the secret is the whole value
  std::string secret_ref;  // "secret://NAME": never the secret itself
};

struct WebhookToolConfig {
  std::string name;
  std::string description;
  std::string url;  // http:// or https://
  std::string method = "POST";
  nlohmann::json parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};
  net::Headers headers;  // sent as written
  std::optional<WebhookAuth> auth;
  std::chrono::milliseconds timeout{10000};
  bool idempotent = false;
  int retries = 0;
  std::string file;  // where it was declared, for messages
  int line = 0;
};

// Parses one entry of a scenario's `tools:` list. Errors are kInvalidArgument and read
// "FILE:LINE: tool 'NAME': what is wrong" (unknown keys, wrong types, a missing url, a literal
// secret, retries on a tool that is not idempotent, ...).
core::Result<WebhookToolConfig> ParseWebhookTool(const YAML::Node& node, const std::string& file);

// Resolves a secret reference ("secret://NAME") to its value.
using SecretResolver = std::function<core::Result<std::string>(const std::string& ref)>;

struct WebhookToolOptions {
  net::BackoffPolicy backoff;
  uint64_t seed = 0;  // back-off jitter; 0: random
  size_t max_response_bytes = 64 * 1024;
};

// Makes the tool. The auth secret is resolved here, once (start-up fails fast on a missing
// secret; a rotated secret takes effect when the scenario is loaded again). `client` must outlive
// the tool and its calls.
//
// Invoke() may be called from any thread, concurrently. Each call needs ToolContext::executor:
// the HTTP callbacks and retry timers run there, and Cancel() must be called there too. A
// cancelled call reports nothing. Tool::timeout() is the configured timeout plus one second of
// grace, so the tool's own deadline error (which names the webhook) arrives before the caller's.
core::Result<std::unique_ptr<Tool>> MakeWebhookTool(WebhookToolConfig config,
                                                    net::HttpClient* client,
                                                    const SecretResolver& resolve_secret,
                                                    WebhookToolOptions options = {});

// The resolver the app uses until the platform's chain exists: secret://NAME is the environment
// variable NAME (kNotFound when unset or empty; kInvalidArgument for anything but secret://).
core::Result<std::string> ResolveSecretFromEnvironment(const std::string& ref);

}  // namespace artagent::agent
