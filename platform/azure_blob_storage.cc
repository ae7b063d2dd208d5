#include "platform/azure_blob_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "core/base64.h"
#include "core/log.h"
#include "net/acs_auth.h"
#include "core/strings.h"

namespace artagent::platform {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// A blob name as a URL path: each '/'-separated segment percent-encoded.
std::string EncodePath(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    out +=
        PercentEncode(name.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

// The text of the first <tag>...</tag> in `xml`, from `from`; npos-safe.
std::string XmlText(std::string_view xml, std::string_view tag, size_t* from = nullptr) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t start = xml.find(open, from ? *from : 0);
  if (start == std::string_view::npos) return "";
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return "";
  if (from) *from = end + close.size();
  return std::string(xml.substr(start, end - start));
}

std::string XmlUnescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [entity, text] : kEntities) {
    for (size_t at = s.find(entity); at != std::string::npos; at = s.find(entity, at + 1)) {
      s.replace(at, std::strlen(entity), text);
    }
  }
  return s;
}

// What an answer means, for callers: ok for 2xx, else a Status naming the storage's error code.
core::Status StatusOf(const net::HttpResponse& r, const std::string& what) {
  if (r.status >= 200 && r.status < 300) return core::OkStatus();
  std::string code = r.Header("x-ms-error-code");
  if (code.empty()) code = XmlText(r.body, "Code");
  std::string message = XmlText(r.body, "Message");
  message = message.substr(0, message.find('\n'));
  std::string text = fmt::format("{}: HTTP {}{}{}", what, r.status, code.empty() ? "" : " " + code,
                                 message.empty() ? "" : " (" + message + ")");
  switch (r.status) {
    case 400:
      return core::InvalidArgumentError(text);
    case 401:
      return core::UnauthenticatedError(text + "; check the account key or the identity");
    case 403:
      return core::PermissionDeniedError(
          text + "; check the account key, or give the identity 'Storage Blob Data Contributor'");
    case 404:
      return core::NotFoundError(text);
    case 409:
      return core::AlreadyExistsError(text);
    default:
      return core::UnavailableError(text);
  }
}

bool UpstreamFailed(const core::Result<net::HttpResponse>& r) {
  return !r.ok() || r->status >= 500 || r->status == 429 || r->status == 408;
}

core::Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = "cannot open '" + path + "': " + std::strerror(err);
    return err == ENOENT ? core::NotFoundError(message) : core::UnavailableError(message);
  }
  std::string out(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return core::UnavailableError("cannot read '" + path + "' (it changed while uploading?)");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

struct Call {
  std::string method;
  std::string path;                                        // "/container[/blob]", encoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded values
  net::Headers headers;
  std::string body;
};

class AzureBlobStorage;

// State shared with callbacks; lives on the executor.
struct AzureCore : std::enable_shared_from_this<AzureCore> {
  AzureBlobOptions options;
  net::HttpClient* http = nullptr;
  std::shared_ptr<core::Executor> executor;
  CredentialDeps deps;
  std::shared_ptr<std::mt19937_64> rng;
  net::CircuitBreaker breaker;
  uint64_t next_fetch = 1;
  std::map<uint64_t, std::unique_ptr<RetryingFetch>> fetches;
  mutable std::mutex mu;  // last_error (read by Health from any thread)
  std::string last_error;

  explicit AzureCore(AzureBlobOptions o) : options(std::move(o)), breaker(options.breaker) {}

  std::string Url(const Call& call) const {
    std::string url = options.endpoint + call.path;
    char sep = '?';
    for (const auto& [name, value] : call.query) {
      url += sep + name + "=" + PercentEncode(value);
      sep = '&';
    }
    return url;
  }

  void NoteError(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu);
    last_error = text;
  }

  // Sends one request (authorized, retried); `done` on the executor.
  void Send(Call call, std::function<void(core::Result<net::HttpResponse>)> done) {
    if (!breaker.Allow(executor->Now())) {
      done(core::UnavailableError("azure blob storage " + options.endpoint +
                                  ": circuit open after repeated failures (" + LastError() +
                                  "); retrying later"));
      return;
    }
    if (!options.account_key.empty()) {
      SendAuthorized(std::move(call), "", std::move(done));
      return;
    }
    std::weak_ptr<AzureCore> weak = weak_from_this();
    auto exec = executor;
    options.credential->GetToken(
        std::string(kStorageScope), [weak, exec, call = std::move(call), done = std::move(done)](
                                        core::Result<AccessToken> token) mutable {
          exec->Post([weak, call = std::move(call), done = std::move(done),
                      token = std::move(token)]() mutable {
            auto self = weak.lock();
            if (!self) return;
            if (!token.ok()) {
              self->breaker.RecordFailure(self->executor->Now());
              self->NoteError(token.status().message());
              done(token.status().WithContext("azure blob storage: no token for " +
                                              std::string(kStorageScope)));
              return;
            }
            self->SendAuthorized(std::move(call), "Bearer " + token->token, std::move(done));
          });
        });
  }

  std::string LastError() const {
    std::lock_guard<std::mutex> lock(mu);
    return last_error.empty() ? "no error recorded" : last_error;
  }

  void SendAuthorized(Call call, const std::string& bearer,
                      std::function<void(core::Result<net::HttpResponse>)> done) {
    net::HttpRequestSpec spec;
    spec.method = call.method;
    spec.url = Url(call);
    spec.headers = std::move(call.headers);
    spec.headers.emplace_back("x-ms-date", net::HttpDate(options.now()));
    spec.headers.emplace_back("x-ms-version", std::string(kStorageApiVersion));
    spec.headers.emplace_back("Content-Length", std::to_string(call.body.size()));
    if (bearer.empty()) {
      const std::string to_sign = SharedKeyStringToSign(spec.method, options.account_name, spec.url,
                                                        spec.headers, call.body.size());
      auto auth = SharedKeyAuthorization(options.account_name, options.account_key, to_sign);
      if (!auth.ok()) {
        done(auth.status());
        return;
      }
      spec.headers.emplace_back("Authorization", std::move(auth).value());
    } else {
      spec.headers.emplace_back("Authorization", bearer);
    }
    spec.body = std::move(call.body);
    spec.connect_timeout = std::min(options.request_timeout, std::chrono::milliseconds(10000));
    spec.first_byte_timeout = options.request_timeout;
    spec.idle_timeout = options.request_timeout;
    spec.total_timeout = options.request_timeout * 2;
    const uint64_t id = next_fetch++;
    std::weak_ptr<AzureCore> weak = weak_from_this();
    const std::string what = spec.method + " " + call.path;
    fetches[id] = FetchWithRetry(
        deps, rng, std::move(spec),
        [weak, id, what, done = std::move(done)](core::Result<net::HttpResponse> r, int attempts) {
          auto self = weak.lock();
          if (!self) return;
          if (UpstreamFailed(r)) {
            self->breaker.RecordFailure(self->executor->Now());
            self->NoteError(r.ok() ? fmt::format("{}: HTTP {}", what, r->status)
                                   : fmt::format("{}: {} (after {} attempts)", what,
                                                 r.status().message(), attempts));
          } else {
            self->breaker.RecordSuccess();
          }
          // The fetch is erased after `done`: it may own what `done` captured.
          done(std::move(r));
          self->fetches.erase(id);
        },
        options.max_retries);
  }

  // Sends `make()` and, when the container is missing, creates it and sends `make()` again.
  void SendCreatingContainer(const std::string& container, std::function<Call()> make,
                             std::function<void(core::Result<net::HttpResponse>)> done) {
    std::weak_ptr<AzureCore> weak = weak_from_this();
    Send(make(), [weak, container, make,
                  done = std::move(done)](core::Result<net::HttpResponse> r) mutable {
      auto self = weak.lock();
      if (!self) return;
      if (!r.ok() || r->status != 404 || r->Header("x-ms-error-code") != "ContainerNotFound") {
        done(std::move(r));
        return;
      }
      core::LogInfo("blob", "creating container {} at {}", container, self->options.endpoint);
      Call create{"PUT", "/" + container, {{"restype", "container"}}, {}, ""};
      self->Send(std::move(create), [weak, container, make, done = std::move(done)](
                                        core::Result<net::HttpResponse> c) mutable {
        auto self = weak.lock();
        if (!self) return;
        if (!c.ok()) {
          done(c.status());
          return;
        }
        if (c->status != 201 && c->status != 409) {  // 409: someone else created it
          done(StatusOf(*c, "creating container " + container));
          return;
        }
        self->Send(make(), std::move(done));
      });
    });
  }
};

// One upload, step by step.
struct PutJob {
  PutBlobRequest request;
  int64_t size = 0;
  int64_t block_size = 0;
  int64_t next_block = 0;
  std::vector<std::string> block_ids;
  std::function<void(core::Status)> done;

  int64_t BlockCount() const { return (size + block_size - 1) / block_size; }
  core::Result<std::string> Block(int64_t index) const {
    const int64_t offset = index * block_size;
    const int64_t length = std::min(block_size, size - offset);
    if (!request.file_path.empty()) return ReadRange(request.file_path, offset, length);
    return request.bytes.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }
};

class AzureBlobStorage final : public BlobStorage {
 public:
  explicit AzureBlobStorage(std::shared_ptr<AzureCore> core) : core_(std::move(core)) {}
  ~AzureBlobStorage() override {
    // Fetches are cancelled on the executor, where no callback of theirs can be running.
    auto core = std::move(core_);
    core->executor->Post([core] { core->fetches.clear(); });
  }

  std::string Describe() const override { return "azure " + core_->options.endpoint; }

  BlobHealth Health() const override {
    const auto state = core_->breaker.state();
    BlobHealth h;
    h.ok = state != net::CircuitBreaker::State::kOpen;
    h.detail =
        fmt::format("{} (circuit {})", core_->options.endpoint, net::CircuitStateName(state));
    if (!h.ok) h.detail += ": " + core_->LastError();
    return h;
  }

  void Put(PutBlobRequest request, std::function<void(core::Status)> done) override {
    auto job = std::make_shared<PutJob>();
    job->request = std::move(request);
    job->done = std::move(done);
    job->block_size = core_->options.block_size;
    std::weak_ptr<AzureCore> weak = core_;
    core_->executor->Post([weak, job] {
      auto core = weak.lock();
      if (!core) return;
      Start(core, job);
    });
  }

  void Get(std::string container, std::string name,
           std::function<void(core::Result<std::string>)> done) override {
    std::weak_ptr<AzureCore> weak = core_;
    core_->executor->Post([weak, container = std::move(container), name = std::move(name),
                           done = std::move(done)]() mutable {
      auto core = weak.lock();
      if (!core) return;
      if (auto st = CheckContainerName(container); !st.ok()) return done(st);
      if (auto st = CheckBlobName(name); !st.ok()) return done(st);
      const std::string what = "get " + container + "/" + name;
      core->Send(Call{"GET", "/" + container + "/" + EncodePath(name), {}, {}, ""},
                 [what, done = std::move(done)](core::Result<net::HttpResponse> r) {
                   if (!r.ok()) return done(r.status().WithContext(what));
                   if (auto st = StatusOf(*r, what); !st.ok()) return done(st);
                   done(std::move(r->body));
                 });
    });
  }

  void List(std::string container, std::string prefix,
            std::function<void(core::Result<std::vector<BlobInfo>>)> done) override {
    std::weak_ptr<AzureCore> weak = core_;
    core_->executor->Post([weak, container = std::move(container), prefix = std::move(prefix),
                           done = std::move(done)]() mutable {
      auto core = weak.lock();
      if (!core) return;
      if (auto st = CheckContainerName(container); !st.ok()) return done(st);
      ListPage(core, container, prefix, "", std::make_shared<std::vector<BlobInfo>>(),
               std::move(done));
    });
  }

 private:
  static void ListPage(const std::shared_ptr<AzureCore>& core, std::string container,
                       std::string prefix, std::string marker,
                       std::shared_ptr<std::vector<BlobInfo>> out,
                       std::function<void(core::Result<std::vector<BlobInfo>>)> done) {
    Call call{"GET", "/" + container, {{"comp", "list"}, {"restype", "container"}}, {}, ""};
    if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
    if (!marker.empty()) call.query.emplace_back("marker", marker);
    std::weak_ptr<AzureCore> weak = core;
    core->Send(std::move(call), [weak, container, prefix, out, done = std::move(done)](
                                    core::Result<net::HttpResponse> r) mutable {
      auto core = weak.lock();
      if (!core) return;
      const std::string what = "list " + container;
      if (!r.ok()) return done(r.status().WithContext(what));
      if (r->status == 404) return done(std::move(*out));  // no container: no blobs
      if (auto st = StatusOf(*r, what); !st.ok()) return done(st);
      size_t at = 0;
      while (true) {
        std::string blob = XmlText(r->body, "Blob", &at);
        if (blob.empty()) break;
        BlobInfo info;
        info.name = XmlUnescape(XmlText(blob, "Name"));
        info.size = std::atoll(XmlText(blob, "Content-Length").c_str());
        out->push_back(std::move(info));
      }
      std::string next = XmlText(r->body, "NextMarker");
      if (!next.empty()) {
        ListPage(core, container, prefix, XmlUnescape(next), out, std::move(done));
        return;
      }
      std::sort(out->begin(), out->end(),
                [](const BlobInfo& a, const BlobInfo& b) { return a.name < b.name; });
      done(std::move(*out));
    });
  }

  static void Start(const std::shared_ptr<AzureCore>& core, const std::shared_ptr<PutJob>& job) {
    const PutBlobRequest& r = job->request;
    if (auto st = CheckContainerName(r.container); !st.ok()) return job->done(st);
    if (auto st = CheckBlobName(r.name); !st.ok()) return job->done(st);
    if (!r.file_path.empty()) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(r.file_path, ec);
      if (ec) {
        return job->done(
            core::NotFoundError("cannot upload '" + r.file_path + "': " + ec.message()));
      }
      job->size = static_cast<int64_t>(size);
    } else {
      job->size = static_cast<int64_t>(r.bytes.size());
    }
    if (job->size <= job->block_size) {
      PutWhole(core, job);
    } else {
      PutNextBlock(core, job);
    }
  }

  static std::string Target(const PutBlobRequest& r) {
    return "/" + r.container + "/" + EncodePath(r.name);
  }

  static void PutWhole(const std::shared_ptr<AzureCore>& core, const std::shared_ptr<PutJob>& job) {
    auto body = job->Block(0);
    if (!body.ok()) return job->done(body.status());
    auto shared_body = std::make_shared<std::string>(std::move(body).value());
    auto make = [job, shared_body] {
      return Call{"PUT",
                  Target(job->request),
                  {},
                  {{"Content-Type", job->request.content_type}, {"x-ms-blob-type", "BlockBlob"}},
                  *shared_body};
    };
    const std::string what = "put " + job->request.container + "/" + job->request.name;
    core->SendCreatingContainer(job->request.container, make,
                                [job, what](core::Result<net::HttpResponse> r) {
                                  if (!r.ok()) return job->done(r.status().WithContext(what));
                                  job->done(StatusOf(*r, what));
                                });
  }

  static void PutNextBlock(const std::shared_ptr<AzureCore>& core,
                           const std::shared_ptr<PutJob>& job) {
    if (job->next_block == job->BlockCount()) return Commit(core, job);
    const int64_t index = job->next_block;
    auto body = job->Block(index);
    if (!body.ok()) return job->done(body.status());
    const std::string id = core::Base64Encode(fmt::format("block-{:08d}", index));
    auto shared_body = std::make_shared<std::string>(std::move(body).value());
    auto make = [job, id, shared_body] {
      return Call{
          "PUT", Target(job->request), {{"comp", "block"}, {"blockid", id}}, {}, *shared_body};
    };
    const std::string what =
        fmt::format("put block {} of {} of {}/{}", index + 1, job->BlockCount(),
                    job->request.container, job->request.name);
    std::weak_ptr<AzureCore> weak = core;
    core->SendCreatingContainer(job->request.container, make,
                                [weak, job, id, what](core::Result<net::HttpResponse> r) {
                                  auto core = weak.lock();
                                  if (!core) return;
                                  if (!r.ok()) return job->done(r.status().WithContext(what));
                                  if (auto st = StatusOf(*r, what); !st.ok()) return job->done(st);
                                  job->block_ids.push_back(id);
                                  ++job->next_block;
                                  PutNextBlock(core, job);
                                });
  }

  static void Commit(const std::shared_ptr<AzureCore>& core, const std::shared_ptr<PutJob>& job) {
    std::string xml = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
    for (const std::string& id : job->block_ids) xml += "<Latest>" + id + "</Latest>";
    xml += "</BlockList>";
    Call call{"PUT",
              Target(job->request),
              {{"comp", "blocklist"}},
              {{"Content-Type", "application/xml"},
               {"x-ms-blob-content-type", job->request.content_type}},
              std::move(xml)};
    const std::string what =
        "put block list of " + job->request.container + "/" + job->request.name;
    core->Send(std::move(call), [job, what](core::Result<net::HttpResponse> r) {
      if (!r.ok()) return job->done(r.status().WithContext(what));
      job->done(StatusOf(*r, what));
    });
  }

  std::shared_ptr<AzureCore> core_;
};

}  // namespace

core::Result<StorageConnectionString> ParseStorageConnectionString(std::string_view text) {
  std::map<std::string, std::string> pairs;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view pair = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    pairs[core::AsciiLower(core::TrimWhitespace(pair.substr(0, eq)))] = std::string(core::TrimWhitespace(pair.substr(eq + 1)));
  }
  StorageConnectionString out;
  if (core::AsciiLower(pairs["usedevelopmentstorage"]) == "true") {
    out.account_name = "devstoreaccount1";
    out.account_key =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
        "KBHBeksoGMGw==";
    out.blob_endpoint = "http://127.0.0.1:10000/devstoreaccount1";
  }
  if (!pairs["accountname"].empty()) out.account_name = pairs["accountname"];
  if (!pairs["accountkey"].empty()) out.account_key = pairs["accountkey"];
  if (!pairs["blobendpoint"].empty()) out.blob_endpoint = pairs["blobendpoint"];
  if (out.account_name.empty()) {
    return core::InvalidArgumentError(
        "the storage connection string has no AccountName= (expected "
        "DefaultEndpointsProtocol=https;AccountName=NAME;AccountKey=KEY;...)");
  }
  if (out.account_key.empty()) {
    return core::InvalidArgumentError("the storage connection string has no AccountKey=");
  }
  std::string probe;
  if (!core::Base64Decode(out.account_key, &probe) || probe.empty()) {
    return core::InvalidArgumentError("the storage connection string's AccountKey is not base64");
  }
  if (out.blob_endpoint.empty()) {
    std::string protocol = pairs["defaultendpointsprotocol"];
    if (protocol.empty()) protocol = "https";
    std::string suffix = pairs["endpointsuffix"];
    if (suffix.empty()) suffix = "core.windows.net";
    out.blob_endpoint = protocol + "://" + out.account_name + ".blob." + suffix;
  }
  while (!out.blob_endpoint.empty() && out.blob_endpoint.back() == '/') {
    out.blob_endpoint.pop_back();
  }
  const std::string lower = core::AsciiLower(out.blob_endpoint);
  if (!lower.starts_with("https://") && !lower.starts_with("http://")) {
    return core::InvalidArgumentError("the storage blob endpoint '" + out.blob_endpoint +
                                      "' must start with https:// (or http:// for Azurite)");
  }
  return out;
}

std::string SharedKeyStringToSign(std::string_view method, std::string_view account_name,
                                  std::string_view url, const net::Headers& headers,
                                  size_t content_length) {
  // Path and query of the URL.
  std::string_view rest = url;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  size_t slash = rest.find('/');
  rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  const size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);

  std::string to_sign(method);
  for (char& c : to_sign) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  to_sign += '\n';
  auto header = [&](std::string_view name) {
    return std::string(core::TrimWhitespace(net::FindHeader(headers, name)));
  };
  to_sign += header("Content-Encoding") + "\n";
  to_sign += header("Content-Language") + "\n";
  to_sign += (content_length == 0 ? std::string() : std::to_string(content_length)) + "\n";
  to_sign += header("Content-MD5") + "\n";
  to_sign += header("Content-Type") + "\n";
  to_sign += "\n";  // Date: x-ms-date is used instead
  to_sign += header("If-Modified-Since") + "\n";
  to_sign += header("If-Match") + "\n";
  to_sign += header("If-None-Match") + "\n";
  to_sign += header("If-Unmodified-Since") + "\n";
  to_sign += header("Range") + "\n";

  std::map<std::string, std::string> ms_headers;
  for (const auto& [name, value] : headers) {
    std::string lower = core::AsciiLower(name);
    if (lower.starts_with("x-ms-")) ms_headers[lower] = std::string(core::TrimWhitespace(value));
  }
  for (const auto& [name, value] : ms_headers) to_sign += name + ":" + value + "\n";

  to_sign += "/" + std::string(account_name) + std::string(path);
  std::map<std::string, std::vector<std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = core::AsciiLower(PercentDecode(pair.substr(0, eq)));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    params[name].push_back(std::move(value));
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    to_sign += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) to_sign += (i ? "," : "") + values[i];
  }
  return to_sign;
}

core::Result<std::string> SharedKeyAuthorization(std::string_view account_name,
                                                 std::string_view account_key,
                                                 std::string_view string_to_sign) {
  std::string key;
  if (!core::Base64Decode(account_key, &key) || key.empty()) {
    return core::InvalidArgumentError("the storage account key is not base64");
  }
  return "SharedKey " + std::string(account_name) + ":" +
         net::HmacSha256Base64(key, string_to_sign);
}

core::Result<AzureBlobOptions> AzureBlobOptionsFromConnectionString(std::string_view text) {
  ARTAGENT_ASSIGN_OR_RETURN(StorageConnectionString cs, ParseStorageConnectionString(text));
  AzureBlobOptions o;
  o.endpoint = cs.blob_endpoint;
  o.account_name = cs.account_name;
  o.account_key = cs.account_key;
  return o;
}

core::Result<std::unique_ptr<BlobStorage>> CreateAzureBlobStorage(
    AzureBlobOptions options, net::HttpClient* http, std::shared_ptr<core::Executor> executor) {
  while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
  if (options.endpoint.empty()) {
    return core::InvalidArgumentError(
        "azure blob storage needs an endpoint: set storage.connection_string or "
        "storage.account_url");
  }
  const std::string lower = core::AsciiLower(options.endpoint);
  if (!lower.starts_with("https://") && !lower.starts_with("http://")) {
    return core::InvalidArgumentError("the blob endpoint '" + options.endpoint +
                                      "' must start with https:// (or http:// for Azurite)");
  }
  if (options.account_key.empty() && !options.credential) {
    return core::InvalidArgumentError(
        "azure blob storage needs an account key (storage.connection_string) or an identity");
  }
  if (!options.account_key.empty()) {
    std::string probe;
    if (!core::Base64Decode(options.account_key, &probe) || probe.empty()) {
      return core::InvalidArgumentError("the storage account key is not base64");
    }
    if (options.account_name.empty()) {
      return core::InvalidArgumentError("SharedKey needs the storage account name");
    }
  }
  if (options.block_size < 1024) {
    return core::InvalidArgumentError("storage.block_size_bytes must be at least 1024");
  }
  if (!http || !executor) {
    return core::InvalidArgumentError("azure blob storage needs an HTTP client and an executor");
  }
  auto core = std::make_shared<AzureCore>(std::move(options));
  core->http = http;
  core->executor = executor;
  core->deps.http = http;
  core->deps.executor = executor;
  core->deps.now = core->options.now;
  core->deps.backoff = core->options.backoff;
  core->deps.max_retries = core->options.max_retries;
  core->deps.max_retry_after = core->options.max_retry_after;
  core->deps.seed = core->options.seed;
  core->deps.request_timeout = core->options.request_timeout;
  core->rng = std::make_shared<std::mt19937_64>(core->options.seed != 0 ? core->options.seed
                                                                        : std::random_device{}());
  return std::unique_ptr<BlobStorage>(new AzureBlobStorage(std::move(core)));
}

}  // namespace artagent::platform
