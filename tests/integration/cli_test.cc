// The CLI's offline commands: `agents check`, `gen-cert`, `--help`.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

std::string Shell(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(CliTest, AgentsCheckAcceptsTheShippedScenario) {
  int code = 0;
  std::string out = Shell(ArtagentBinary() + " agents check " + SourceDir() + "/agents", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok  scenario insurance"), std::string::npos) << out;
  EXPECT_NE(out.find("0 problem(s)"), std::string::npos) << out;
}

TEST(CliTest, AgentsCheckNamesFileAndLineOfEachProblem) {
  std::string dir = TempDir("agents");
  std::filesystem::create_directories(dir + "/broken");
  std::ofstream(dir + "/broken/scenario.yaml") << "start_agent: a\nagents: [a.yaml]\n";
  std::ofstream(dir + "/broken/a.yaml")
      << "name: a\nflow:\n  start: one\n  nodes:\n    - id: one\n      prompt: hi\n"
         "      slot: {name: n, type: colour}\n";
  int code = 0;
  std::string out = Shell(ArtagentBinary() + " agents check " + dir, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("broken/a.yaml:7: slot 'n': unknown type 'colour'"), std::string::npos)
      << out;
  EXPECT_NE(out.find("1 problem(s)"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(CliTest, GenCertWritesAKeyOnlyTheOwnerCanRead) {
  std::string dir = TempDir("cert");
  int code = 0;
  std::string out = Shell(ArtagentBinary() + " gen-cert --cert " + dir + "/c.pem --key " + dir +
                              "/k.pem",
                          &code);
  ASSERT_EQ(code, 0) << out;
  auto perms = std::filesystem::status(dir + "/k.pem").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::group_read, std::filesystem::perms::none);
  std::ifstream cert(dir + "/c.pem");
  std::string first;
  std::getline(cert, first);
  EXPECT_EQ(first, "-----BEGIN CERTIFICATE-----");
  std::filesystem::remove_all(dir);
}

TEST(CliTest, HelpEverywhere) {
  for (const char* cmd : {"--help", "serve --help", "converse --help", "gen-cert --help",
                          "agents check --help"}) {
    int code = 0;
    std::string out = Shell(ArtagentBinary() + " " + cmd, &code);
    EXPECT_EQ(code, 0) << cmd << "\n" << out;
    EXPECT_NE(out.find("Usage"), std::string::npos) << cmd << "\n" << out;
  }
  int code = 0;
  Shell(ArtagentBinary() + " frobnicate", &code);
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace artagent::testing
