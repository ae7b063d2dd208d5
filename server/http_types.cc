#include "server/http_types.h"

#include <algorithm>
#include <cctype>

namespace artagent::server {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Find(const std::vector<std::pair<std::string, std::string>>& pairs,
                      std::string_view name) {
  for (const auto& [key, value] : pairs) {
    if (key == name) return value;
  }
  return {};
}

std::string LowerCaseName(core::StatusCode code) {
  std::string name(core::StatusCodeName(code));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

std::string_view HttpRequest::Query(std::string_view name) const { return Find(query, name); }

std::string_view HttpRequest::Param(std::string_view name) const { return Find(params, name); }

HttpResponse HttpResponse::Json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  // Replace invalid UTF-8 instead of throwing: bodies may echo text that came from outside.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::Error(int status, std::string_view code, std::string_view message) {
  return Json(status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse HttpResponse::FromStatus(const core::Status& status) {
  using core::StatusCode;
  if (status.ok()) return Json(200, nlohmann::json::object());
  int http_status = 500;
  bool retry_after = false;
  switch (status.code()) {
    case StatusCode::kOk:
      http_status = 200;
      break;
    case StatusCode::kInvalidArgument:
      http_status = 400;
      break;
    case StatusCode::kFailedPrecondition:
      http_status = 400;
      break;
    case StatusCode::kNotFound:
      http_status = 404;
      break;
    case StatusCode::kAlreadyExists:
      http_status = 409;
      break;
    case StatusCode::kUnauthenticated:
      http_status = 401;
      break;
    case StatusCode::kPermissionDenied:
      http_status = 403;
      break;
    // A quota or rate limit on an API call; the WebSocket upgrade path answers capacity refusals
    // with 503 instead (see WebSocketRoute::accept).
    case StatusCode::kResourceExhausted:
      http_status = 429;
      retry_after = true;
      break;
    case StatusCode::kUnavailable:
      http_status = 503;
      retry_after = true;
      break;
    case StatusCode::kCancelled:
      http_status = 503;
      retry_after = true;
      break;
    case StatusCode::kDeadlineExceeded:
      http_status = 504;
      break;
    case StatusCode::kInternal:
      http_status = 500;
      break;
  }
  HttpResponse response = Error(http_status, LowerCaseName(status.code()), status.message());
  if (retry_after) response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace artagent::server
