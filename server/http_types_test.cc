#include "server/http_types.h"

#include <gtest/gtest.h>

#include "server/request_target.h"
#include "server/static_files.h"

namespace artagent::server {
namespace {

TEST(HttpRequestTest, HeaderLookupIgnoresCase) {
  HttpRequest request;
  request.headers = {{"content-type", "application/json"}, {"x-api-key", "k1"}};
  EXPECT_EQ(request.Header("Content-Type"), "application/json");
  EXPECT_EQ(request.Header("X-API-KEY"), "k1");
  EXPECT_EQ(request.Header("missing"), "");
}

TEST(HttpRequestTest, QueryAndParams) {
  HttpRequest request;
  request.query = {{"limit", "5"}, {"q", "a b"}};
  request.params = {{"id", "s-1"}};
  EXPECT_EQ(request.Query("limit"), "5");
  EXPECT_EQ(request.Query("q"), "a b");
  EXPECT_EQ(request.Query("LIMIT"), "");
  EXPECT_EQ(request.Param("id"), "s-1");
}

TEST(HttpResponseTest, ErrorBody) {
  HttpResponse response = HttpResponse::Error(404, "not_found", "no such session");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body),
            nlohmann::json::parse(R"({"error":{"code":"not_found","message":"no such session"}})"));
}

TEST(HttpResponseTest, JsonReplacesInvalidUtf8) {
  HttpResponse response = HttpResponse::Json(200, {{"text", std::string("a\xff")}});
  EXPECT_EQ(response.status, 200);
  EXPECT_NO_THROW(nlohmann::json::parse(response.body));
}

TEST(HttpResponseTest, FromStatusMapsCodes) {
  struct Case {
    core::Status status;
    int http;
    std::string code;
  };
  const Case cases[] = {
      {core::InvalidArgumentError("x"), 400, "invalid_argument"},
      {core::NotFoundError("x"), 404, "not_found"},
      {core::AlreadyExistsError("x"), 409, "already_exists"},
      {core::FailedPreconditionError("x"), 400, "failed_precondition"},
      {core::UnauthenticatedError("x"), 401, "unauthenticated"},
      {core::PermissionDeniedError("x"), 403, "permission_denied"},
      {core::ResourceExhaustedError("x"), 429, "resource_exhausted"},
      {core::UnavailableError("x"), 503, "unavailable"},
      {core::DeadlineExceededError("x"), 504, "deadline_exceeded"},
      {core::InternalError("x"), 500, "internal"},
  };
  for (const Case& c : cases) {
    HttpResponse response = HttpResponse::FromStatus(c.status);
    EXPECT_EQ(response.status, c.http) << c.status.ToString();
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], c.code);
  }
  HttpResponse busy = HttpResponse::FromStatus(core::UnavailableError("busy"));
  ASSERT_EQ(busy.headers.size(), 1u);
  EXPECT_EQ(busy.headers[0].first, "Retry-After");
  EXPECT_EQ(HttpResponse::FromStatus(core::OkStatus()).status, 200);
}

TEST(RequestTargetTest, DecodesPathAndQuery) {
  auto target = ParseRequestTarget("/a%20b/c?x=1&name=two+words%21&flag&&empty=");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->path, "/a b/c");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(target->query,
            (Pairs{{"x", "1"}, {"name", "two words!"}, {"flag", ""}, {"empty", ""}}));
}

TEST(RequestTargetTest, PlusIsLiteralInPath) {
  auto target = ParseRequestTarget("/c++/x%2By?q=%2B");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->path, "/c++/x+y");
  EXPECT_EQ(target->query[0].second, "+");
}

TEST(RequestTargetTest, RejectsMalformed) {
  EXPECT_FALSE(ParseRequestTarget("").has_value());
  EXPECT_FALSE(ParseRequestTarget("http://host/x").has_value());
  EXPECT_FALSE(ParseRequestTarget("/bad%zz").has_value());
  EXPECT_FALSE(ParseRequestTarget("/trunc%4").has_value());
  EXPECT_FALSE(ParseRequestTarget("/nul%00").has_value());
  EXPECT_FALSE(ParseRequestTarget("/x?n%00=1").has_value());
  // ... but a query value may be a NUL (App Configuration: label=%00 is "no label").
  auto nul_value = ParseRequestTarget("/kv?label=%00");
  ASSERT_TRUE(nul_value.has_value());
  EXPECT_EQ(nul_value->query[0].second, std::string(1, '\0'));
  EXPECT_FALSE(ParseRequestTarget("/x?a=%").has_value());
  EXPECT_EQ(PercentDecode("%41%62", false).value_or(""), "Ab");
}

TEST(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(StaticFiles::ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeFor("app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeFor("a/b.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeFor("site.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeFor("x.json"), "application/json");
  EXPECT_EQ(StaticFiles::ContentTypeFor("beep.wav"), "audio/wav");
  EXPECT_EQ(StaticFiles::ContentTypeFor("logo.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::ContentTypeFor("logo.png"), "image/png");
  EXPECT_EQ(StaticFiles::ContentTypeFor("favicon.ico"), "image/x-icon");
  EXPECT_EQ(StaticFiles::ContentTypeFor("blob.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace artagent::server
