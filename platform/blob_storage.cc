#include "platform/blob_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "core/ids.h"

namespace artagent::platform {
namespace {

namespace fs = std::filesystem;

template <typename T>
core::Result<T> Wait(std::future<core::Result<T>> future, std::chrono::milliseconds timeout,
                     const char* what) {
  if (future.wait_for(timeout) != std::future_status::ready) {
    return core::DeadlineExceededError(std::string("blob storage: ") + what +
                                       " did not finish in " + std::to_string(timeout.count()) +
                                       " ms");
  }
  return future.get();
}

core::Status ErrnoStatus(const std::string& what, const std::string& path) {
  const int err = errno;
  std::string message = what + " '" + path + "': " + std::strerror(err);
  if (err == ENOENT) return core::NotFoundError(message);
  if (err == EACCES || err == EPERM) return core::PermissionDeniedError(message);
  return core::UnavailableError(message);
}

// Writes `write` into a temporary file in the target's directory, fsyncs it and renames it over
// `target`, then fsyncs the directory: the blob appears whole or not at all, and survives a crash.
core::Status WriteAtomically(const fs::path& target,
                             const std::function<core::Status(int fd)>& write) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    return core::UnavailableError("cannot create '" + target.parent_path().string() +
                                  "': " + ec.message());
  }
  const fs::path temp =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + core::NewId("w"));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", temp.string());
  core::Status st = write(fd);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("cannot flush", temp.string());
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus("cannot close", temp.string());
  if (st.ok() && ::rename(temp.c_str(), target.c_str()) != 0) {
    st = ErrnoStatus("cannot rename onto", target.string());
  }
  if (!st.ok()) {
    fs::remove(temp, ec);
    return st;
  }
  int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return core::OkStatus();
}

core::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return core::OkStatus();
}

core::Status CopyFileInto(int out, const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("cannot open", from);
  std::vector<char> buf(1 << 16);
  core::Status st;
  while (st.ok()) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = ErrnoStatus("cannot read", from);
      break;
    }
    if (n == 0) break;
    st = WriteAll(out, buf.data(), static_cast<size_t>(n), to);
  }
  ::close(in);
  return st;
}

class LocalBlobStorage final : public BlobStorage {
 public:
  LocalBlobStorage(fs::path dir, std::shared_ptr<core::Executor> executor)
      : dir_(std::move(dir)), executor_(std::move(executor)) {}

  std::string Describe() const override { return "local " + dir_.string(); }

  void Put(PutBlobRequest request, std::function<void(core::Status)> done) override {
    fs::path dir = dir_;
    executor_->Post(
        [dir, request = std::move(request), done = std::move(done)] { done(DoPut(dir, request)); });
  }

  void Get(std::string container, std::string name,
           std::function<void(core::Result<std::string>)> done) override {
    fs::path dir = dir_;
    executor_->Post([dir, container = std::move(container), name = std::move(name),
                     done = std::move(done)] { done(DoGet(dir, container, name)); });
  }

  void List(std::string container, std::string prefix,
            std::function<void(core::Result<std::vector<BlobInfo>>)> done) override {
    fs::path dir = dir_;
    executor_->Post([dir, container = std::move(container), prefix = std::move(prefix),
                     done = std::move(done)] { done(DoList(dir, container, prefix)); });
  }

  BlobHealth Health() const override {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const bool ok = !ec && ::access(dir_.c_str(), W_OK) == 0;
    return {ok, ok ? dir_.string() : dir_.string() + " is not writable"};
  }

 private:
  static core::Status DoPut(const fs::path& dir, const PutBlobRequest& r) {
    ARTAGENT_RETURN_IF_ERROR(CheckContainerName(r.container));
    ARTAGENT_RETURN_IF_ERROR(CheckBlobName(r.name));
    const fs::path target = dir / r.container / r.name;
    const std::string shown = target.string();
    return WriteAtomically(target, [&](int fd) {
      if (!r.file_path.empty()) return CopyFileInto(fd, r.file_path, shown);
      return WriteAll(fd, r.bytes.data(), r.bytes.size(), shown);
    });
  }

  static core::Result<std::string> DoGet(const fs::path& dir, const std::string& container,
                                         const std::string& name) {
    ARTAGENT_RETURN_IF_ERROR(CheckContainerName(container));
    ARTAGENT_RETURN_IF_ERROR(CheckBlobName(name));
    const fs::path path = dir / container / name;
    std::ifstream in(path, std::ios::binary);
    if (!in) return core::NotFoundError("no blob " + container + "/" + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  static core::Result<std::vector<BlobInfo>> DoList(const fs::path& dir,
                                                    const std::string& container,
                                                    const std::string& prefix) {
    ARTAGENT_RETURN_IF_ERROR(CheckContainerName(container));
    std::vector<BlobInfo> out;
    const fs::path root = dir / container;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->path().filename().string().starts_with(".")) continue;
      std::string name = fs::relative(it->path(), root, ec).generic_string();
      if (!name.starts_with(prefix)) continue;
      out.push_back({std::move(name), static_cast<int64_t>(it->file_size(ec))});
    }
    if (ec) return core::UnavailableError("cannot list '" + root.string() + "': " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const BlobInfo& a, const BlobInfo& b) { return a.name < b.name; });
    return out;
  }

  const fs::path dir_;
  std::shared_ptr<core::Executor> executor_;
};

}  // namespace

core::Status BlobStorage::PutBlocking(PutBlobRequest request, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Result<bool>>>();
  Put(std::move(request), [promise](core::Status st) {
    if (st.ok()) {
      promise->set_value(true);
    } else {
      promise->set_value(st);
    }
  });
  auto r = Wait(promise->get_future(), timeout, "put");
  return r.ok() ? core::OkStatus() : r.status();
}

core::Result<std::string> BlobStorage::GetBlocking(std::string container, std::string name,
                                                   std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Result<std::string>>>();
  Get(std::move(container), std::move(name),
      [promise](core::Result<std::string> r) { promise->set_value(std::move(r)); });
  return Wait(promise->get_future(), timeout, "get");
}

core::Result<std::vector<BlobInfo>> BlobStorage::ListBlocking(std::string container,
                                                              std::string prefix,
                                                              std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<core::Result<std::vector<BlobInfo>>>>();
  List(std::move(container), std::move(prefix),
       [promise](core::Result<std::vector<BlobInfo>> r) { promise->set_value(std::move(r)); });
  return Wait(promise->get_future(), timeout, "list");
}

core::Status CheckContainerName(std::string_view name) {
  bool ok = name.size() >= 3 && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
            name.find("--") == std::string_view::npos;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return core::OkStatus();
  return core::InvalidArgumentError("bad container name '" + std::string(name) +
                                    "': use 3-63 lower-case letters, digits and single hyphens");
}

core::Status CheckBlobName(std::string_view name) {
  auto bad = [&](const char* why) {
    return core::InvalidArgumentError("bad blob name '" + std::string(name.substr(0, 200)) +
                                      "': " + why);
  };
  if (name.empty() || name.size() > 1024) return bad("expected 1 to 1024 characters");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') {
      return bad("control characters and backslashes are not allowed");
    }
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view segment = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return bad("empty, '.' and '..' path segments are not allowed");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return core::OkStatus();
}

core::Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  return WriteAtomically(fs::path(path),
                         [&](int fd) { return WriteAll(fd, bytes.data(), bytes.size(), path); });
}

core::Result<std::unique_ptr<BlobStorage>> CreateLocalBlobStorage(
    std::string dir, std::shared_ptr<core::Executor> executor) {
  if (dir.empty()) return core::InvalidArgumentError("storage.local_dir is empty");
  if (!executor) return core::InvalidArgumentError("local blob storage needs an executor");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return core::UnavailableError("cannot create storage.local_dir '" + dir + "': " + ec.message());
  return std::unique_ptr<BlobStorage>(new LocalBlobStorage(fs::path(dir), std::move(executor)));
}

}  // namespace artagent::platform
