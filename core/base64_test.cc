#include "core/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace artagent::core {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    std::string decoded;
    ASSERT_TRUE(Base64Decode(encoded, &decoded)) << encoded;
    EXPECT_EQ(decoded, plain);
  }
}

TEST(Base64Test, RejectsGarbage) {
  std::string out;
  EXPECT_FALSE(Base64Decode("Zm9v!", &out));
  EXPECT_FALSE(Base64Decode("Z", &out));
  EXPECT_FALSE(Base64Decode("Zm 9v", &out));
  EXPECT_FALSE(Base64Decode("Zg=", &out));
}

TEST(Base64Test, AcceptsMissingPadding) {
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm8", &out));
  EXPECT_EQ(out, "fo");
}

TEST(Base64Test, RoundTripsRandomBytes) {
  std::mt19937 rng(42);
  for (int len = 0; len < 300; ++len) {
    std::vector<uint8_t> bytes(len);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> back;
    ASSERT_TRUE(Base64Decode(Base64Encode(bytes.data(), bytes.size()), &back));
    EXPECT_EQ(back, bytes);
  }
}

}  // namespace
}  // namespace artagent::core
