#pragma once
// A self-signed certificate for development, so that clients that insist on wss:// (the official
// `openai` npm Realtime client) can talk to a local server.

#include <string>

#include "core/status.h"

namespace artagent::server {

// Writes a new EC P-256 key and a self-signed X.509 v3 certificate (SHA-256, CN=localhost,
// subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1, serverAuth, valid from one hour ago for 365
// days) as PEM. The key file is created (or truncated) with mode 0600, the certificate with 0644.
// The directories must exist. Not for production: nothing trusts this certificate.
core::Status GenerateDevCertificate(const std::string& cert_path, const std::string& key_path);

}  // namespace artagent::server
