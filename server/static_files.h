#pragma once
// StaticFiles: serves the web console from a directory (GET/HEAD), after the router missed.

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/http_types.h"

namespace artagent::server {

class StaticFiles {
 public:
  // `root` must be an existing directory; it is resolved once (symlinks included).
  static core::Result<StaticFiles> Create(const std::string& root);

  // The response for a decoded request path ("/", "/app.js", "/css/site.css"):
  //   * a file: 200 with its bytes, a Content-Type from its extension and Cache-Control: no-cache;
  //   * a directory: its index.html ("/" serves root/index.html); without the trailing slash a 301
  //     to the path with one, so relative links in the page resolve;
  //   * a ".." segment, a backslash or a control character: 400 (a traversal attempt);
  //   * a missing file, a dot-file, or anything whose real path leaves the root (a symlink that
  //     points outside): nullopt, which the caller answers with 404.
  // Reads the file synchronously: meant for the small files of the console, not for bulk data.
  std::optional<HttpResponse> Serve(std::string_view path) const;

  // "text/html; charset=utf-8" for "index.html", ...; application/octet-stream when unknown.
  static std::string_view ContentTypeFor(std::string_view file_name);

  const std::string& root() const { return root_; }

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, no trailing slash
};

}  // namespace artagent::server
