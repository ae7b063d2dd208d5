#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace artagent::server {
namespace {

namespace fs = std::filesystem;

// Larger files are not console assets; refuse rather than hold them in memory.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

struct ContentType {
  std::string_view extension;
  std::string_view type;
};

constexpr ContentType kContentTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".wav", "audio/wav"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".jpg", "image/jpeg"},
    {".woff2", "font/woff2"},
    {".wasm", "application/wasm"},
};

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

core::Result<StaticFiles> StaticFiles::Create(const std::string& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec) {
    return core::NotFoundError("web root '" + root + "': " + ec.message() +
                               " (set web_root to the directory holding index.html)");
  }
  if (!fs::is_directory(canonical, ec)) {
    return core::InvalidArgumentError("web root '" + root + "' is not a directory");
  }
  std::string root_string = canonical.string();
  while (root_string.size() > 1 && root_string.back() == '/') root_string.pop_back();
  return StaticFiles(std::move(root_string));
}

std::string_view StaticFiles::ContentTypeFor(std::string_view file_name) {
  for (const ContentType& entry : kContentTypes) {
    if (EndsWith(file_name, entry.extension)) return entry.type;
  }
  return "application/octet-stream";
}

std::optional<HttpResponse> StaticFiles::Serve(std::string_view path) const {
  if (path.empty() || path.front() != '/' || path.find('\\') != std::string_view::npos) {
    return HttpResponse::Error(400, "invalid_path", "invalid path");
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return HttpResponse::Error(400, "invalid_path", "invalid path");
    }
  }
  // Check every segment before touching the file system.
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") return HttpResponse::Error(400, "invalid_path", "invalid path");
    if (!segment.empty() && segment.front() == '.') return std::nullopt;  // dot-files, "."
    start = slash + 1;
  }

  std::string relative(path.substr(1));
  bool directory_request = relative.empty() || relative.back() == '/';
  if (directory_request) relative += "index.html";

  std::error_code ec;
  fs::path real = fs::canonical(fs::path(root_) / relative, ec);
  if (ec) return std::nullopt;
  const std::string real_string = real.string();
  if (real_string != root_ && real_string.compare(0, root_.size() + 1, root_ + "/") != 0) {
    return std::nullopt;  // a symlink that leads out of the root
  }
  if (fs::is_directory(real, ec)) {
    if (directory_request) return std::nullopt;
    HttpResponse redirect = HttpResponse::Text(301, "", "text/plain");
    redirect.headers.emplace_back("Location", std::string(path) + "/");
    return redirect;
  }
  if (!fs::is_regular_file(real, ec)) return std::nullopt;
  std::uintmax_t size = fs::file_size(real, ec);
  if (ec || size > kMaxFileBytes) return std::nullopt;

  std::ifstream in(real, std::ios::binary);
  if (!in) return std::nullopt;
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  HttpResponse response =
      HttpResponse::Text(200, std::move(body), std::string(ContentTypeFor(relative)));
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

}  // namespace artagent::server
