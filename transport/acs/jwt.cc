#include "transport/acs/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace artagent::transport::acs {

using nlohmann::json;

struct JwkSet::Key {
  std::string kid;
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

bool Base64UrlDecode(std::string_view in, std::string* out) {
  std::string b64(in);
  // Base64url never contains '+', '/' or padding: reject the standard alphabet in a JWT.
  if (in.find_first_of("+/=") != std::string_view::npos) return false;
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4) b64.push_back('=');
  out->clear();
  return core::Base64Decode(b64, out);
}

EVP_PKEY* RsaPublicKey(const std::string& n, const std::string& e) {
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
      if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return pkey;
}

core::Status Reject(std::string why) {
  return core::UnauthenticatedError("token rejected: " + why);
}

}  // namespace

JwkSet::~JwkSet() = default;
size_t JwkSet::size() const { return keys_.size(); }

core::Result<std::shared_ptr<const JwkSet>> JwkSet::Parse(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
    return core::InvalidArgumentError("not a JWKS document ({\"keys\":[...]})");
  }
  std::shared_ptr<JwkSet> set(new JwkSet());
  for (const auto& k : j["keys"]) {
    if (!k.is_object() || k.value("kty", "") != "RSA") continue;
    if (k.contains("use") && k.value("use", "") != "sig") continue;
    std::string n, e;
    if (!Base64UrlDecode(k.value("n", ""), &n) || !Base64UrlDecode(k.value("e", ""), &e) ||
        n.empty() || e.empty()) {
      continue;
    }
    auto key = std::make_unique<Key>();
    key->kid = k.value("kid", "");
    key->pkey = RsaPublicKey(n, e);
    if (key->pkey) set->keys_.push_back(std::move(key));
  }
  if (set->keys_.empty()) return core::InvalidArgumentError("the JWKS document has no RSA key");
  return std::shared_ptr<const JwkSet>(std::move(set));
}

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size() ||
      authorization.substr(0, kPrefix.size()) != kPrefix) {
    return {};
  }
  return authorization.substr(kPrefix.size());
}

core::Status VerifyJwt(std::string_view token, const JwkSet& keys, std::string_view issuer,
                       std::string_view audience, std::chrono::system_clock::time_point now,
                       std::chrono::seconds leeway, JwtClaims* claims) {
  if (token.empty()) return Reject("no bearer token");
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Reject("not a compact JWS (header.payload.signature)");
  }
  std::string header_text, payload_text, signature;
  if (!Base64UrlDecode(token.substr(0, d1), &header_text) ||
      !Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload_text) ||
      !Base64UrlDecode(token.substr(d2 + 1), &signature)) {
    return Reject("not base64url");
  }
  json header = json::parse(header_text, nullptr, false);
  json payload = json::parse(payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object()) return Reject("header or payload is not JSON");
  if (header.value("alg", "") != "RS256") {
    return Reject("algorithm '" + header.value("alg", "") + "' (only RS256 is accepted)");
  }
  const std::string kid = header.value("kid", "");
  const std::string_view signed_part = token.substr(0, d2);
  bool key_found = false, verified = false;
  for (const auto& key : keys.keys_) {
    if (!kid.empty() && key->kid != kid) continue;
    key_found = true;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key->pkey) == 1 &&
        EVP_DigestVerify(
            ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1) {
      verified = true;
    }
    EVP_MD_CTX_free(ctx);
    if (verified) break;
  }
  if (!key_found) return Reject("unknown signing key '" + kid.substr(0, 64) + "'");
  if (!verified) return Reject("bad signature");

  JwtClaims c;
  c.issuer = payload.value("iss", "");
  c.subject = payload.value("sub", "");
  if (payload.contains("aud")) {
    if (payload["aud"].is_string()) c.audiences.push_back(payload["aud"]);
    if (payload["aud"].is_array()) {
      for (const auto& a : payload["aud"]) {
        if (a.is_string()) c.audiences.push_back(a);
      }
    }
  }
  auto number = [&](const char* name) -> int64_t {
    auto it = payload.find(name);
    return it != payload.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  c.expires_at = number("exp");
  c.not_before = number("nbf");
  if (c.issuer != issuer) return Reject("wrong issuer");
  if (std::find(c.audiences.begin(), c.audiences.end(), audience) == c.audiences.end()) {
    return Reject("wrong audience");
  }
  const int64_t t =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (c.expires_at == 0) return Reject("no expiry");
  if (t - leeway.count() >= c.expires_at) return Reject("expired");
  if (c.not_before != 0 && t + leeway.count() < c.not_before) return Reject("not yet valid");
  if (claims) *claims = std::move(c);
  return core::OkStatus();
}

void JwksCache::Set(std::shared_ptr<const JwkSet> keys,
                    std::chrono::steady_clock::time_point fetched) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(keys);
  fetched_ = fetched;
}

std::shared_ptr<const JwkSet> JwksCache::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

bool JwksCache::Stale(std::chrono::steady_clock::time_point now,
                      std::chrono::seconds max_age) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !keys_ || now - fetched_ > max_age;
}

}  // namespace artagent::transport::acs
