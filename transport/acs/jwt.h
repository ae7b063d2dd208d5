#pragma once
// Validation of the JWTs ACS puts on callbacks and media WebSocket upgrades (protocols.md §1.7):
// RS256 signatures checked against the keys of a JWKS document, issuer, audience (the ACS
// resource's immutable id), expiry and not-before. Pure: fetching and caching the JWKS document
// is the caller's (see JwksCache). Errors never echo the token.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace artagent::transport::acs {

constexpr char kAcsJwtIssuer[] = "https://acscallautomation.communication.azure.com";
constexpr char kAcsJwksUrl[] = "https://acscallautomation.communication.azure.com/calling/keys";

struct JwtClaims {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string subject;
  int64_t expires_at = 0;  // unix seconds
  int64_t not_before = 0;
};

// The RSA public keys of a JWKS document ({"keys":[{"kty":"RSA","kid","n","e",...}]}).
class JwkSet {
 public:
  // kInvalidArgument if the document is not a JWKS or holds no usable RSA key.
  static core::Result<std::shared_ptr<const JwkSet>> Parse(std::string_view json);
  ~JwkSet();
  size_t size() const;

  struct Key;

 private:
  JwkSet() = default;
  friend core::Status VerifyJwt(std::string_view, const JwkSet&, std::string_view, std::string_view,
                                std::chrono::system_clock::time_point, std::chrono::seconds,
                                JwtClaims*);
  std::vector<std::unique_ptr<Key>> keys_;
};

// Verifies `token` (compact JWS). kUnauthenticated with the reason: malformed, alg other than
// RS256, unknown key id, bad signature, wrong issuer or audience, expired, not yet valid.
// `leeway` absorbs clock skew.
core::Status VerifyJwt(std::string_view token, const JwkSet& keys, std::string_view issuer,
                       std::string_view audience, std::chrono::system_clock::time_point now,
                       std::chrono::seconds leeway = std::chrono::seconds(60),
                       JwtClaims* claims = nullptr);

// "Bearer TOKEN" -> TOKEN; "" if the header is not a bearer token.
std::string_view BearerToken(std::string_view authorization);

// The current key set, replaced as a whole when a fresh document is fetched. Thread-safe.
class JwksCache {
 public:
  void Set(std::shared_ptr<const JwkSet> keys, std::chrono::steady_clock::time_point fetched);
  std::shared_ptr<const JwkSet> Get() const;
  // True when no keys are held or they are older than `max_age`.
  bool Stale(std::chrono::steady_clock::time_point now, std::chrono::seconds max_age) const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const JwkSet> keys_;
  std::chrono::steady_clock::time_point fetched_{};
};

}  // namespace artagent::transport::acs
