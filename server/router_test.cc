#include "server/router.h"

#include <gtest/gtest.h>

namespace artagent::server {
namespace {

HttpHandler Returning(int status) {
  return [status](const HttpRequest&) { return HttpResponse::Text(status, ""); };
}

HttpRequest Request(std::string method, std::string path) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

TEST(RouterTest, MatchesLiteralAndParameterSegments) {
  Router router;
  router.Add("GET", "/api/v1/sessions", Returning(200));
  router.Add("GET", "/api/v1/sessions/{id}", Returning(201));
  router.Add("DELETE", "/api/v1/calls/{id}", Returning(202));

  HttpRequest list = Request("GET", "/api/v1/sessions");
  auto match = router.MatchHttp(&list);
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ((*match.handler)(list).status, 200);

  HttpRequest one = Request("GET", "/api/v1/sessions/s-42");
  match = router.MatchHttp(&one);
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ((*match.handler)(one).status, 201);
  EXPECT_EQ(one.Param("id"), "s-42");

  HttpRequest hangup = Request("DELETE", "/api/v1/calls/c1/");
  match = router.MatchHttp(&hangup);
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(hangup.Param("id"), "c1");
}

TEST(RouterTest, LiteralBeatsParameter) {
  Router router;
  router.Add("POST", "/api/v1/calls/{id}", Returning(200));
  router.Add("POST", "/api/v1/calls/events", Returning(201));
  HttpRequest request = Request("POST", "/api/v1/calls/events");
  auto match = router.MatchHttp(&request);
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ((*match.handler)(request).status, 201);
  EXPECT_TRUE(request.params.empty());
}

TEST(RouterTest, WrongMethodIsKnownPath) {
  Router router;
  router.Add("GET", "/healthz", Returning(200));
  HttpRequest post = Request("POST", "/healthz");
  auto match = router.MatchHttp(&post);
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_TRUE(match.path_known);

  HttpRequest unknown = Request("GET", "/nope");
  match = router.MatchHttp(&unknown);
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_FALSE(match.path_known);
}

TEST(RouterTest, WebSocketRoutesAreExact) {
  Router router;
  WebSocketRoute route;
  route.subprotocols = {"realtime"};
  router.AddWebSocket("/v1/realtime", route);
  const WebSocketRoute* found = router.MatchWebSocket("/v1/realtime");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->subprotocols.front(), "realtime");
  EXPECT_EQ(router.MatchWebSocket("/v1/realtime/x"), nullptr);
  EXPECT_EQ(router.MatchWebSocket("/v1"), nullptr);
}

}  // namespace
}  // namespace artagent::server
