#pragma once
// Router: method + path pattern -> handler. Patterns are literal segments and "{name}" segments
// ("/api/v1/sessions/{id}"). Unknown paths fall through to static files (GET/HEAD), then 404; a
// known path with the wrong method gets 405.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/http_types.h"

namespace artagent::server {

class Router {
 public:
  void Add(std::string method, std::string pattern, HttpHandler handler);
  void AddWebSocket(std::string path, WebSocketRoute route);

  struct HttpMatch {
    const HttpHandler* handler = nullptr;  // null: no route for this path
    bool path_known = false;               // true if another method matches the path (405)
  };
  // Fills request->params on a match.
  HttpMatch MatchHttp(HttpRequest* request) const;
  const WebSocketRoute* MatchWebSocket(std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
  std::map<std::string, WebSocketRoute, std::less<>> ws_routes_;
};

}  // namespace artagent::server
