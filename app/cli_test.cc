#include "app/cli.h"

#include <gtest/gtest.h>

namespace artagent::app {
namespace {

core::Result<Args> Parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "artagent");
  return ParseArgs(static_cast<int>(argv.size()), const_cast<char**>(argv.data()),
                   {"in", "text", "scenario"}, {"help"});
}

TEST(CliTest, KeepsRepeatedFlagsInOrder) {
  auto a = Parse({"converse", "--in", "a.wav", "--text=hello there", "--in", "b.wav", "--help"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->command, "converse");
  ASSERT_EQ(a->flags.size(), 4u);
  EXPECT_EQ(a->flags[1], (std::pair<std::string, std::string>{"text", "hello there"}));
  EXPECT_EQ(a->All("in"), (std::vector<std::string>{"a.wav", "b.wav"}));
  EXPECT_TRUE(a->Has("help"));
  EXPECT_EQ(a->Get("scenario", "insurance"), "insurance");
}

TEST(CliTest, RejectsUnknownFlagsAndMissingValues) {
  EXPECT_FALSE(Parse({"converse", "--bogus"}).ok());
  EXPECT_FALSE(Parse({"converse", "--in"}).ok());
  EXPECT_FALSE(Parse({"converse", "--help=yes"}).ok());
}

}  // namespace
}  // namespace artagent::app
