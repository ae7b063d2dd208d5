#include "transport/acs/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace artagent::transport::acs {
namespace {

using json = nlohmann::json;

std::string B64Url(std::string_view bytes) {
  std::string s = core::Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string Bn(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// A real RSA key pair, generated once for the suite.
class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = EVP_RSA_gen(2048); }
  static void TearDownTestSuite() { EVP_PKEY_free(key_); }

  static std::string Jwks(const std::string& kid = "k1") {
    json keys = {{"keys",
                  {{{"kty", "RSA"},
                    {"use", "sig"},
                    {"kid", kid},
                    {"n", B64Url(Bn(key_, OSSL_PKEY_PARAM_RSA_N))},
                    {"e", B64Url(Bn(key_, OSSL_PKEY_PARAM_RSA_E))}}}}};
    return keys.dump();
  }
  static std::string Sign(const json& header, const json& payload) {
    std::string signing = B64Url(header.dump()) + "." + B64Url(payload.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing.data()),
                   signing.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return signing + "." + B64Url(sig);
  }
  static json Claims(int64_t now) {
    return {{"iss", kAcsJwtIssuer},
            {"aud", "1b2c3d4e-immutable-resource-id"},
            {"nbf", now - 10},
            {"exp", now + 300}};
  }

  static EVP_PKEY* key_;
  const std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  const int64_t t_ =
      std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
  const json header_ = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}};
};
EVP_PKEY* JwtTest::key_ = nullptr;

core::Status Verify(const std::string& token, const std::string& jwks,
                    std::chrono::system_clock::time_point now,
                    const std::string& aud = "1b2c3d4e-immutable-resource-id") {
  auto keys = JwkSet::Parse(jwks);
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  return VerifyJwt(token, **keys, kAcsJwtIssuer, aud, now);
}

TEST_F(JwtTest, AcceptsAValidAcsToken) {
  JwtClaims claims;
  auto keys = JwkSet::Parse(Jwks());
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->size(), 1u);
  core::Status st =
      VerifyJwt(Sign(header_, Claims(t_)), **keys, kAcsJwtIssuer, "1b2c3d4e-immutable-resource-id",
                now_, std::chrono::seconds(60), &claims);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(claims.issuer, kAcsJwtIssuer);
  json multi = Claims(t_);
  multi["aud"] = {"other", "1b2c3d4e-immutable-resource-id"};
  EXPECT_TRUE(Verify(Sign(header_, multi), Jwks(), now_).ok());
}

TEST_F(JwtTest, RejectsWrongAudienceIssuerExpiryAndNotBefore) {
  auto reason = [&](const json& claims) {
    core::Status st = Verify(Sign(header_, claims), Jwks(), now_);
    EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated);
    return st.message();
  };
  json c = Claims(t_);
  c["aud"] = "someone-else";
  EXPECT_NE(reason(c).find("audience"), std::string::npos);
  c = Claims(t_);
  c["iss"] = "https://evil.example.com";
  EXPECT_NE(reason(c).find("issuer"), std::string::npos);
  c = Claims(t_);
  c["exp"] = t_ - 120;
  EXPECT_NE(reason(c).find("expired"), std::string::npos);
  c = Claims(t_);
  c["nbf"] = t_ + 600;
  EXPECT_NE(reason(c).find("not yet"), std::string::npos);
  c = Claims(t_);
  c.erase("exp");
  EXPECT_NE(reason(c).find("expiry"), std::string::npos);
}

TEST_F(JwtTest, RejectsForgeriesAndGarbage) {
  const std::string good = Sign(header_, Claims(t_));
  // Payload swapped after signing.
  json forged = Claims(t_);
  forged["aud"] = "1b2c3d4e-immutable-resource-id";
  forged["sub"] = "admin";
  const std::string tampered =
      good.substr(0, good.find('.') + 1) + B64Url(forged.dump()) + good.substr(good.rfind('.'));
  EXPECT_NE(Verify(tampered, Jwks(), now_).message().find("signature"), std::string::npos);
  // alg none / HS256 are refused whatever the signature.
  json none = {{"alg", "none"}, {"kid", "k1"}};
  EXPECT_NE(Verify(B64Url(none.dump()) + "." + B64Url(Claims(t_).dump()) + ".", Jwks(), now_)
                .message()
                .find("RS256"),
            std::string::npos);
  // Unknown key id.
  EXPECT_NE(Verify(good, Jwks("other-kid"), now_).message().find("unknown signing key"),
            std::string::npos);
  for (std::string bad : {"", "abc", "a.b", "a.b.c.d", "***.***.***"}) {
    EXPECT_EQ(Verify(bad, Jwks(), now_).code(), core::StatusCode::kUnauthenticated) << bad;
  }
  EXPECT_FALSE(JwkSet::Parse("{}").ok());
  EXPECT_FALSE(JwkSet::Parse(R"({"keys":[{"kty":"EC"}]})").ok());
}

TEST(JwtHelpersTest, BearerAndCache) {
  EXPECT_EQ(BearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  JwksCache cache;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(cache.Stale(t0, std::chrono::hours(24)));
  EXPECT_EQ(cache.Get(), nullptr);
}

}  // namespace
}  // namespace artagent::transport::acs
