#include "platform/blob_storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/base64.h"
#include "core/serial_thread_executor.h"
#include "net/testing/scripted_server.h"
#include "platform/azure_blob_storage.h"

namespace artagent::platform {
namespace {

namespace fs = std::filesystem;
using net::testing::ScriptedResponse;
using net::testing::ScriptedServer;

constexpr char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr char kDate[] = "Tue, 02 Jan 2024 03:04:05 GMT";

fs::path TempDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("artagent-blob-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// protocols.md §7.3, vector 1.
TEST(SharedKeyTest, PutBlobVector) {
  net::Headers headers = {{"x-ms-blob-type", "BlockBlob"},
                          {"Content-Type", "application/octet-stream"},
                          {"x-ms-date", kDate},
                          {"x-ms-version", "2021-12-02"}};
  const std::string to_sign = SharedKeyStringToSign(
      "PUT", "devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1/recordings/call-1.txt",
      headers, 5);
  EXPECT_EQ(to_sign,
            "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\n"
            "x-ms-date:Tue, 02 Jan 2024 03:04:05 GMT\nx-ms-version:2021-12-02\n"
            "/devstoreaccount1/devstoreaccount1/recordings/call-1.txt");
  EXPECT_EQ(SharedKeyAuthorization("devstoreaccount1", kAzuriteKey, to_sign).value(),
            "SharedKey devstoreaccount1:QEJiijX6p2qb4prFkTsjJgPj2MFsPNKIozGR1ghF2fo=");
}

// Vector 2: query parameters join CanonicalizedResource, sorted, values url-decoded.
TEST(SharedKeyTest, PutBlockVector) {
  net::Headers headers = {{"x-ms-date", kDate}, {"x-ms-version", "2021-12-02"}};
  const std::string to_sign = SharedKeyStringToSign(
      "PUT", "devstoreaccount1",
      "http://127.0.0.1:10000/devstoreaccount1/recordings/call-1.pcm?comp=block&blockid="
      "YmxvY2stMDAwMDAw",
      headers, 640);
  EXPECT_TRUE(to_sign.ends_with(
      "/devstoreaccount1/devstoreaccount1/recordings/call-1.pcm\nblockid:YmxvY2stMDAwMDAw\n"
      "comp:block"))
      << to_sign;
  EXPECT_EQ(SharedKeyAuthorization("devstoreaccount1", kAzuriteKey, to_sign).value(),
            "SharedKey devstoreaccount1:BbEduoVm88N0RfGJ9tJ5kch7HfhaKn/P8U1aYAMF8vs=");
}

// Vector 3: Put Block List with an XML body.
TEST(SharedKeyTest, PutBlockListVector) {
  const std::string body =
      R"(<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>YmxvY2stMDAwMDAw</Latest></BlockList>)";
  ASSERT_EQ(body.size(), 94u);
  net::Headers headers = {
      {"Content-Type", "application/xml"}, {"x-ms-date", kDate}, {"x-ms-version", "2021-12-02"}};
  const std::string to_sign = SharedKeyStringToSign(
      "PUT", "devstoreaccount1",
      "http://127.0.0.1:10000/devstoreaccount1/recordings/call-1.pcm?comp=blocklist", headers,
      body.size());
  EXPECT_EQ(SharedKeyAuthorization("devstoreaccount1", kAzuriteKey, to_sign).value(),
            "SharedKey devstoreaccount1:NuRpQ72JpkW1J2QKN1K3rQaGL99JU9chDyRH5AaWL+I=");
}

TEST(SharedKeyTest, EmptyBodyLeavesContentLengthEmptyAndEncodedQueryIsDecoded) {
  const std::string to_sign =
      SharedKeyStringToSign("put", "acct", "https://acct.blob.core.windows.net/c?restype=container",
                            {{"X-MS-Date", kDate}}, 0);
  EXPECT_EQ(to_sign, "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" + std::string(kDate) +
                         "\n/acct/c\nrestype:container");
  const std::string with_plus =
      SharedKeyStringToSign("PUT", "a", "http://h/a/c/b?comp=block&blockid=YS%2Bb%3D", {}, 1);
  EXPECT_TRUE(with_plus.ends_with("\nblockid:YS+b=\ncomp:block")) << with_plus;
  EXPECT_FALSE(SharedKeyAuthorization("a", "not base64!", "x").ok());
}

TEST(StorageConnectionStringTest, ParsesAccountKeyAndEndpoints) {
  auto cs = ParseStorageConnectionString(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
      std::string(kAzuriteKey) + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;");
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->account_name, "devstoreaccount1");
  EXPECT_EQ(cs->account_key, kAzuriteKey);
  EXPECT_EQ(cs->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  auto cloud = ParseStorageConnectionString("AccountKey=" + std::string(kAzuriteKey) +
                                            ";accountname=contoso");
  ASSERT_TRUE(cloud.ok());
  EXPECT_EQ(cloud->blob_endpoint, "https://contoso.blob.core.windows.net");

  auto dev = ParseStorageConnectionString("UseDevelopmentStorage=true");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->account_name, "devstoreaccount1");
  EXPECT_EQ(dev->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  auto no_key = ParseStorageConnectionString("AccountName=x");
  EXPECT_EQ(no_key.status().code(), core::StatusCode::kInvalidArgument);
  auto bad_key = ParseStorageConnectionString("AccountName=x;AccountKey=secret!!");
  EXPECT_EQ(bad_key.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_key.status().message().find("secret!!"), std::string::npos);
}

TEST(BlobNameTest, RejectsUnsafeNames) {
  EXPECT_TRUE(CheckBlobName("2026-11-24/sess_1.json").ok());
  EXPECT_FALSE(CheckBlobName("").ok());
  EXPECT_FALSE(CheckBlobName("../etc/passwd").ok());
  EXPECT_FALSE(CheckBlobName("a//b").ok());
  EXPECT_FALSE(CheckBlobName("/abs").ok());
  EXPECT_FALSE(CheckBlobName("a\\b").ok());
  EXPECT_TRUE(CheckContainerName("audio-recordings").ok());
  EXPECT_FALSE(CheckContainerName("Audio").ok());
  EXPECT_FALSE(CheckContainerName("a--b").ok());
  EXPECT_FALSE(CheckContainerName("ab").ok());
}

TEST(LocalBlobStorageTest, PutGetListFromBytesAndFile) {
  const fs::path dir = TempDir("local");
  auto executor = core::SerialThreadExecutor::Create("blob-test");
  auto storage = CreateLocalBlobStorage(dir.string(), executor).value();

  ASSERT_TRUE(
      storage
          ->PutBlocking({"transcripts", "2026-11-24/a.json", "application/json", R"({"a":1})", ""})
          .ok());
  const fs::path source = dir / "source.bin";
  std::string payload(70000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  std::ofstream(source, std::ios::binary) << payload;
  ASSERT_TRUE(
      storage
          ->PutBlocking({"audio-recordings", "2026-11-24/a.wav", "audio/wav", "", source.string()})
          .ok());

  EXPECT_EQ(storage->GetBlocking("transcripts", "2026-11-24/a.json").value(), R"({"a":1})");
  EXPECT_EQ(storage->GetBlocking("audio-recordings", "2026-11-24/a.wav").value(), payload);
  EXPECT_TRUE(fs::exists(dir / "audio-recordings" / "2026-11-24" / "a.wav"));
  EXPECT_EQ(storage->GetBlocking("transcripts", "missing.json").status().code(),
            core::StatusCode::kNotFound);

  // Replacing leaves no temporary file behind, and listing filters by prefix.
  ASSERT_TRUE(storage->PutBlocking({"transcripts", "2026-11-24/a.json", "", "v2", ""}).ok());
  ASSERT_TRUE(storage->PutBlocking({"transcripts", "2026-11-25/b.json", "", "b", ""}).ok());
  auto all = storage->ListBlocking("transcripts", "").value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "2026-11-24/a.json");
  EXPECT_EQ(all[0].size, 2);
  auto day = storage->ListBlocking("transcripts", "2026-11-25/").value();
  ASSERT_EQ(day.size(), 1u);
  EXPECT_EQ(day[0].name, "2026-11-25/b.json");
  EXPECT_TRUE(storage->ListBlocking("logs", "").value().empty());

  EXPECT_EQ(storage->PutBlocking({"transcripts", "../escape", "", "x", ""}).code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(storage->PutBlocking({"transcripts", "x", "", "", (dir / "nope").string()}).code(),
            core::StatusCode::kNotFound);
  EXPECT_TRUE(storage->Health().ok);
  fs::remove_all(dir);
}

// ---- Azure against a scripted server ----

class AzureBlobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = ScriptedServer::Start().value();
    http_ = net::HttpClient::Create();
    executor_ = core::SerialThreadExecutor::Create("blob-test");
  }

  std::unique_ptr<BlobStorage> Make(int64_t block_size, int max_retries = 2,
                                    int breaker_threshold = 5) {
    AzureBlobOptions o;
    o.endpoint = server_->base_url() + "/devstoreaccount1";
    o.account_name = "devstoreaccount1";
    o.account_key = kAzuriteKey;
    o.block_size = block_size;
    o.max_retries = max_retries;
    o.backoff = {std::chrono::milliseconds(1), std::chrono::milliseconds(5), 2.0, 0.0};
    o.breaker = {breaker_threshold, std::chrono::minutes(10)};
    o.seed = 7;
    return CreateAzureBlobStorage(o, http_.get(), executor_).value();
  }

  // The server's side of SharedKey: recompute the signature of what arrived.
  static void ExpectSigned(const net::testing::RecordedRequest& r) {
    const std::string url = "http://127.0.0.1" + r.target;
    const std::string to_sign =
        SharedKeyStringToSign(r.method, "devstoreaccount1", url, r.headers, r.body.size());
    EXPECT_EQ(r.Header("Authorization"),
              SharedKeyAuthorization("devstoreaccount1", kAzuriteKey, to_sign).value())
        << r.method << " " << r.target;
    EXPECT_EQ(r.Header("x-ms-version"), "2021-12-02");
    EXPECT_FALSE(r.Header("x-ms-date").empty());
  }

  std::unique_ptr<ScriptedServer> server_;
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
};

TEST_F(AzureBlobTest, SmallBodyIsOnePutBlob) {
  auto storage = Make(1024);
  server_->Enqueue(ScriptedResponse(201));
  ASSERT_TRUE(storage->PutBlocking({"transcripts", "d/s.json", "application/json", "{}", ""}).ok());
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/devstoreaccount1/transcripts/d/s.json");
  EXPECT_EQ(requests[0].Header("x-ms-blob-type"), "BlockBlob");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].body, "{}");
  ExpectSigned(requests[0]);
}

TEST_F(AzureBlobTest, LargeFileIsSplitIntoEqualBlocksThenCommitted) {
  const fs::path dir = TempDir("azure");
  const fs::path file = dir / "rec.wav";
  std::string payload(2500, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i % 251);
  std::ofstream(file, std::ios::binary) << payload;

  auto storage = Make(1024);
  for (int i = 0; i < 4; ++i) server_->Enqueue(ScriptedResponse(201));
  ASSERT_TRUE(
      storage->PutBlocking({"audio-recordings", "d/rec.wav", "audio/wav", "", file.string()}).ok());
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 4u);
  std::string reassembled;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto& r = requests[i];
    const std::string prefix = "/devstoreaccount1/audio-recordings/d/rec.wav?comp=block&blockid=";
    ASSERT_TRUE(r.target.starts_with(prefix)) << r.target;
    // Url-encoded in the query: base64's '+', '/' and '=' as %2B, %2F and %3D.
    std::string id = r.target.substr(prefix.size());
    for (auto [from, to] : {std::pair{"%2B", "+"}, {"%2F", "/"}, {"%3D", "="}}) {
      for (size_t at = id.find(from); at != std::string::npos; at = id.find(from)) {
        id.replace(at, 3, to);
      }
    }
    EXPECT_EQ(id.find('%'), std::string::npos);
    ids.push_back(id);
    EXPECT_EQ(r.body.size(), i < 2 ? 1024u : 452u);
    reassembled += r.body;
    ExpectSigned(r);
  }
  EXPECT_EQ(reassembled, payload);
  // Ids: base64 of equal-length strings, distinct, url-encoded in the query.
  EXPECT_EQ(ids[0].size(), ids[2].size());
  EXPECT_NE(ids[0], ids[1]);
  std::string decoded;
  ASSERT_TRUE(core::Base64Decode(ids[1], &decoded));
  EXPECT_EQ(decoded, "block-00000001");
  const auto& commit = requests[3];
  EXPECT_EQ(commit.target, "/devstoreaccount1/audio-recordings/d/rec.wav?comp=blocklist");
  EXPECT_EQ(commit.Header("x-ms-blob-content-type"), "audio/wav");
  EXPECT_EQ(commit.body, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>" + ids[0] +
                             "</Latest><Latest>" + ids[1] + "</Latest><Latest>" + ids[2] +
                             "</Latest></BlockList>");
  ExpectSigned(commit);
  fs::remove_all(dir);
}

TEST_F(AzureBlobTest, MissingContainerIsCreatedAndThePutResent) {
  auto storage = Make(1024);
  server_->Enqueue(
      ScriptedResponse(404)
          .Header("x-ms-error-code", "ContainerNotFound")
          .Write("<?xml version=\"1.0\"?><Error><Code>ContainerNotFound</Code></Error>"));
  server_->Enqueue(ScriptedResponse(201));
  server_->Enqueue(ScriptedResponse(201));
  ASSERT_TRUE(storage->PutBlocking({"logs", "a.txt", "text/plain", "hello", ""}).ok());
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].target, "/devstoreaccount1/logs?restype=container");
  EXPECT_EQ(requests[1].body, "");
  ExpectSigned(requests[1]);
  EXPECT_EQ(requests[2].target, "/devstoreaccount1/logs/a.txt");
  EXPECT_EQ(requests[2].body, "hello");
}

TEST_F(AzureBlobTest, ServerErrorsAreRetriedThenReportedAndOpenTheCircuit) {
  auto storage = Make(1024, /*max_retries=*/2, /*breaker_threshold=*/2);
  server_->Enqueue(ScriptedResponse(503));
  server_->Enqueue(ScriptedResponse(201));
  EXPECT_TRUE(storage->PutBlocking({"logs", "a.txt", "", "x", ""}).ok());
  EXPECT_EQ(server_->request_count(), 2u);

  for (int i = 0; i < 6; ++i) server_->Enqueue(ScriptedResponse(500));
  core::Status first = storage->PutBlocking({"logs", "b.txt", "", "x", ""});
  EXPECT_EQ(first.code(), core::StatusCode::kUnavailable) << first.ToString();
  EXPECT_EQ(server_->request_count(), 5u);  // 1 + 2 retries
  EXPECT_TRUE(storage->Health().ok);
  EXPECT_EQ(storage->PutBlocking({"logs", "b.txt", "", "x", ""}).code(),
            core::StatusCode::kUnavailable);
  EXPECT_FALSE(storage->Health().ok);
  EXPECT_NE(storage->Health().detail.find("open"), std::string::npos);
  // Open: fails fast without a request.
  const size_t before = server_->request_count();
  core::Status fast = storage->PutBlocking({"logs", "c.txt", "", "x", ""});
  EXPECT_EQ(fast.code(), core::StatusCode::kUnavailable);
  EXPECT_NE(fast.message().find("circuit open"), std::string::npos);
  EXPECT_EQ(server_->request_count(), before);
}

TEST_F(AzureBlobTest, AuthFailureIsNotRetriedAndSaysWhatToCheck) {
  auto storage = Make(1024);
  server_->Enqueue(
      ScriptedResponse(403)
          .Header("x-ms-error-code", "AuthorizationFailure")
          .Write("<Error><Code>AuthorizationFailure</Code><Message>no</Message></Error>"));
  core::Status st = storage->PutBlocking({"logs", "a.txt", "", "x", ""});
  EXPECT_EQ(st.code(), core::StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("AuthorizationFailure"), std::string::npos);
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(AzureBlobTest, GetAndListParseAnswers) {
  auto storage = Make(1024);
  server_->Enqueue(ScriptedResponse(200).Write("blob bytes"));
  EXPECT_EQ(storage->GetBlocking("logs", "a b.txt").value(), "blob bytes");
  EXPECT_EQ(server_->requests()[0].target, "/devstoreaccount1/logs/a%20b.txt");
  server_->Enqueue(ScriptedResponse(404).Header("x-ms-error-code", "BlobNotFound"));
  EXPECT_EQ(storage->GetBlocking("logs", "x").status().code(), core::StatusCode::kNotFound);

  server_->Enqueue(ScriptedResponse(200).Write(
      "<?xml version=\"1.0\"?><EnumerationResults><Blobs><Blob><Name>d/a&amp;b.json</Name>"
      "<Properties><Content-Length>12</Content-Length></Properties></Blob></Blobs>"
      "<NextMarker>m2</NextMarker></EnumerationResults>"));
  server_->Enqueue(ScriptedResponse(200).Write(
      "<EnumerationResults><Blobs><Blob><Name>d/0.json</Name><Properties><Content-Length>3"
      "</Content-Length></Properties></Blob></Blobs><NextMarker/></EnumerationResults>"));
  auto list = storage->ListBlocking("logs", "d/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "d/0.json");
  EXPECT_EQ((*list)[1].name, "d/a&b.json");
  EXPECT_EQ((*list)[1].size, 12);
  auto requests = server_->requests();
  EXPECT_EQ(requests[2].target, "/devstoreaccount1/logs?comp=list&restype=container&prefix=d%2F");
  EXPECT_NE(requests[3].target.find("marker=m2"), std::string::npos);
  ExpectSigned(requests[3]);
}

}  // namespace
}  // namespace artagent::platform
