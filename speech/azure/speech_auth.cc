#include "speech/azure/speech_auth.h"

#include <future>

#include "core/log.h"

namespace artagent::speech::azure {
namespace {

std::chrono::system_clock::time_point WallNow(const AzureSpeechOptions& o) {
  return o.now ? o.now() : std::chrono::system_clock::now();
}

bool ValidRegion(const std::string& region) {
  if (region.empty()) return false;
  for (char c : region) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

}  // namespace

core::Result<SpeechEndpoints> ResolveEndpoints(const AzureSpeechOptions& options) {
  SpeechEndpoints e;
  const std::string query = "?language=" + options.language + "&format=simple";
  if (!options.endpoint.empty()) {
    std::string base = options.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string ws;
    if (base.rfind("https://", 0) == 0) {
      ws = "wss://" + base.substr(8);
    } else if (base.rfind("http://", 0) == 0) {
      ws = "ws://" + base.substr(7);
    } else {
      return core::InvalidArgumentError(
          "azure_speech.endpoint: expected http(s)://host[:port], got '" + options.endpoint + "'");
    }
    e.tts_url = base + "/cognitiveservices/v1";
    e.stt_url = ws + "/stt/speech/universal/v2" + query;
    e.token_url = base + "/sts/v1.0/issueToken";
    return e;
  }
  if (!ValidRegion(options.region)) {
    return core::InvalidArgumentError(
        "azure_speech.region (e.g. westeurope) or azure_speech.endpoint must be set for the "
        "azure-speech provider");
  }
  e.tts_url = "https://" + options.region + ".tts.speech.microsoft.com/cognitiveservices/v1";
  e.stt_url =
      "wss://" + options.region + ".stt.speech.microsoft.com/stt/speech/universal/v2" + query;
  e.token_url = "https://" + options.region + ".api.cognitive.microsoft.com/sts/v1.0/issueToken";
  return e;
}

core::Result<net::HttpResponse> FetchBlocking(net::HttpClient* http, net::HttpRequestSpec request,
                                              const std::shared_ptr<core::Executor>& executor) {
  auto promise = std::make_shared<std::promise<core::Result<net::HttpResponse>>>();
  auto future = promise->get_future();
  auto call = http->Fetch(
      std::move(request),
      [promise](core::Result<net::HttpResponse> r) { promise->set_value(std::move(r)); }, executor);
  auto result = future.get();
  // The call finished (its last callback ran): release it on its executor's terms.
  call.reset();
  return result;
}

SpeechAuth::SpeechAuth(const AzureSpeechOptions& options, SpeechEndpoints endpoints,
                       net::HttpClient* http, std::shared_ptr<core::Executor> executor)
    : options_(options),
      endpoints_(std::move(endpoints)),
      http_(http),
      executor_(std::move(executor)) {}

core::Result<net::Headers> SpeechAuth::Headers() {
  switch (options_.auth) {
    case SpeechAuthMode::kKey:
      return net::Headers{{"Ocp-Apim-Subscription-Key", options_.key}};
    case SpeechAuthMode::kEntra: {
      if (!options_.entra_token) {
        return core::FailedPreconditionError("azure-speech: no Entra credential configured");
      }
      auto token = options_.entra_token();
      if (!token.ok()) return token.status().WithContext("azure-speech Entra token");
      return net::Headers{
          {"Authorization", "Bearer aad#" + options_.resource_id + "#" + token.value()}};
    }
    case SpeechAuthMode::kToken:
      break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = WallNow(options_);
  if (token_.empty() || now >= token_expires_) {
    net::HttpRequestSpec req;
    req.method = "POST";
    req.url = endpoints_.token_url;
    req.headers = {{"Ocp-Apim-Subscription-Key", options_.key}, {"Content-Length", "0"}};
    req.connect_timeout = options_.connect_timeout;
    req.first_byte_timeout = options_.first_byte_timeout;
    req.total_timeout = options_.first_byte_timeout;
    ++exchanges_;
    auto r = FetchBlocking(http_, std::move(req), executor_);
    if (!r.ok()) {
      if (options_.on_error) options_.on_error("auth", "connect");
      return core::UnavailableError("azure-speech issueToken: " + r.status().message());
    }
    if (r->status == 401 || r->status == 403) {
      if (options_.on_error) options_.on_error("auth", "refused");
      return core::UnauthenticatedError("azure-speech issueToken refused the key (HTTP " +
                                        std::to_string(r->status) + "): check azure_speech.key");
    }
    if (r->status != 200 || r->body.empty()) {
      if (options_.on_error) options_.on_error("auth", "http_" + std::to_string(r->status));
      return core::UnavailableError("azure-speech issueToken: HTTP " + std::to_string(r->status));
    }
    token_ = r->body;
    token_expires_ = now + options_.token_lifetime;
  }
  return net::Headers{{"Authorization", "Bearer " + token_}};
}

void SpeechAuth::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
}

int SpeechAuth::exchanges() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exchanges_;
}

}  // namespace artagent::speech::azure
