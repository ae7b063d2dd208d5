#pragma once
// Azurite (the npm package `azurite`, installed in tests/e2e by `make test` / scripts/install-deps)
// as a child process: the real Blob Storage emulator on 127.0.0.1, for tests of the blob upload
// path. Its data lives in a directory, so it can be stopped and started again (an outage) without
// losing what was stored.

#include <string>

namespace artagent::testing {

// tests/e2e/node_modules/.bin/azurite-blob under the source tree.
std::string AzuriteBinary();

// Azurite's well-known development account (protocols.md §7.1).
inline constexpr char kAzuriteAccount[] = "devstoreaccount1";
inline constexpr char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

class AzuriteProcess {
 public:
  // Picks a free loopback port; Start() runs Azurite on it with its data in `location`.
  explicit AzuriteProcess(std::string location);
  ~AzuriteProcess();

  // Starts Azurite and waits until it accepts connections. False (see error()) if the binary is
  // missing or it did not come up.
  bool Start();
  // SIGTERM and wait.
  void Stop();
  bool running() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // http://127.0.0.1:PORT/devstoreaccount1
  std::string blob_endpoint() const;
  std::string connection_string() const;

 private:
  std::string location_;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

}  // namespace artagent::testing
