#include "tests/integration/azurite.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

namespace fs = std::filesystem;

// A port the kernel says is free now (bound to port 0, then released).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

std::string AzuriteBinary() { return SourceDir() + "/tests/e2e/node_modules/.bin/azurite-blob"; }

AzuriteProcess::AzuriteProcess(std::string location)
    : location_(std::move(location)), port_(FreePort()) {}

AzuriteProcess::~AzuriteProcess() { Stop(); }

bool AzuriteProcess::Start() {
  if (pid_ > 0) return true;
  const std::string bin = AzuriteBinary();
  if (!fs::exists(bin)) {
    error_ = "Azurite is not installed (" + bin +
             " is missing): run `make test` or `cd tests/e2e && npm ci` (scripts/install-deps "
             "does it)";
    return false;
  }
  fs::create_directories(location_);
  const std::string log = location_ + "/azurite.log";
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    std::vector<std::string> args = {bin,          "--blobHost",          "127.0.0.1",
                                     "--blobPort", std::to_string(port_), "--location",
                                     location_,    "--disableTelemetry",  "--skipApiVersionCheck",
                                     "--silent"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Node takes a few seconds to load Azurite on a busy machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Accepts(port_)) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "Azurite exited at start-up; see " + log;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Stop();
  error_ = "Azurite did not listen on port " + std::to_string(port_) + " within 60 s; see " + log;
  return false;
}

void AzuriteProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string AzuriteProcess::blob_endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + kAzuriteAccount;
}

std::string AzuriteProcess::connection_string() const {
  return std::string("DefaultEndpointsProtocol=http;AccountName=") + kAzuriteAccount +
         ";AccountKey=" + kAzuriteKey + ";BlobEndpoint=" + blob_endpoint() + ";";
}

}  // namespace artagent::testing
