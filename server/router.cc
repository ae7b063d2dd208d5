#include "server/router.h"

namespace artagent::server {
namespace {

// "/a/b/" -> {"a", "b"}; empty segments are ignored, so "/a//b" and "/a/b/" match "/a/b".
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments matched, or -1 if the route does not match the path.
int MatchScore(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return -1;
  int literal = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (IsParam(pattern[i])) continue;
    if (pattern[i] != path[i]) return -1;
    ++literal;
  }
  return literal;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, HttpHandler handler) {
  Route route;
  route.method = std::move(method);
  for (std::string_view segment : SplitPath(pattern)) route.segments.emplace_back(segment);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::AddWebSocket(std::string path, WebSocketRoute route) {
  ws_routes_.insert_or_assign(std::move(path), std::move(route));
}

Router::HttpMatch Router::MatchHttp(HttpRequest* request) const {
  HttpMatch match;
  const std::vector<std::string_view> path = SplitPath(request->path);
  const Route* best = nullptr;
  int best_score = -1;
  for (const Route& route : routes_) {
    int score = MatchScore(route.segments, path);
    if (score < 0) continue;
    if (route.method != request->method) {
      match.path_known = true;
      continue;
    }
    // The most literal pattern wins ("/calls/events" over "/calls/{id}"); ties go to the first.
    if (score > best_score) {
      best = &route;
      best_score = score;
    }
  }
  if (best == nullptr) return match;
  request->params.clear();
  for (size_t i = 0; i < best->segments.size(); ++i) {
    const std::string& segment = best->segments[i];
    if (IsParam(segment)) {
      request->params.emplace_back(segment.substr(1, segment.size() - 2), std::string(path[i]));
    }
  }
  match.handler = &best->handler;
  match.path_known = true;
  return match;
}

const WebSocketRoute* Router::MatchWebSocket(std::string_view path) const {
  auto it = ws_routes_.find(path);
  return it == ws_routes_.end() ? nullptr : &it->second;
}

}  // namespace artagent::server
