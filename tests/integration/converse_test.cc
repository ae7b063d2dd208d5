// `artagent converse`: whole calls through the shipped scenario, the caller spoken by flite.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <sqlite3.h>

#include "audio/wav.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) lines.push_back(j);
  }
  return lines;
}

bool Has(const nlohmann::json& line, const char* key, const std::string& part) {
  return line.contains(key) && line[key].is_string() &&
         line[key].get<std::string>().find(part) != std::string::npos;
}

// One row of the insurance database, read with SQLite directly.
std::map<std::string, std::string> ClaimRow(const std::string& db, const std::string& number) {
  std::map<std::string, std::string> row;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return row;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "SELECT * FROM claims WHERE claim_number = ?", -1, &st, nullptr) ==
      SQLITE_OK) {
    sqlite3_bind_text(st, 1, number.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* v = sqlite3_column_text(st, i);
        row[sqlite3_column_name(st, i)] = v ? reinterpret_cast<const char*>(v) : "";
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return row;
}

// A whole insurance call by voice (flite speaks the caller) and keypad: a no-match re-prompt,
// DTMF policy number and PIN, verification, the announced hand-off to the claims agent, the
// claim's details, the claim filed in the database and its number read back, then goodbye.
TEST(ConverseTest, WholeInsuranceCallFilesAClaim) {
  std::string dir = TempDir("converse");
  const std::vector<std::string> spoken = {
      "I am not sure.",           // no digits: re-prompt
      "yes",                      // confirms the keyed policy number
      "I want to file a claim.",  // hand-off to the claims agent
      "yesterday",                // incident date
      "on main street",           // location
      "a tree fell on my car",    // what happened
      "no",                       // injuries
      "yes",                      // drivable
      "yes",                      // file it
      "no thank you, goodbye"};   // end of call
  std::vector<std::string> wavs;
  for (size_t i = 0; i < spoken.size(); ++i) {
    audio::WavAudio w{16000, 1, SpeakWithFlite(spoken[i], 16000, 300, 200)};
    wavs.push_back(dir + "/turn" + std::to_string(i) + ".wav");
    ASSERT_TRUE(audio::WriteWavFile(wavs.back(), w).ok());
  }
  const std::string db = dir + "/insurance.db";
  std::string cmd = "cd " + SourceDir() + " && ARTAGENT_TOOLS__INSURANCE_DB=" + db + " " +
                    ArtagentBinary() + " converse --scenario insurance --in " + wavs[0] +
                    " --dtmf 40213587# --in " + wavs[1] + " --dtmf 2 --dtmf 4821# --in " + wavs[2];
  for (size_t i = 3; i < wavs.size(); ++i) cmd += " --in " + wavs[i];
  cmd += " --no-pacing --out " + dir + "/agent.wav 2>" + dir + "/err.log";
  int status = 0;
  std::string out = RunCommand(cmd, &status);
  ASSERT_EQ(status, 0) << out;
  auto lines = JsonLines(out);
  ASSERT_GE(lines.size(), 15u) << out;
  EXPECT_TRUE(Has(lines[0], "agent_text", "Thank you for calling Contoso Insurance"));
  // The no-match re-prompt.
  EXPECT_TRUE(Has(lines[1], "agent_text", "Sorry")) << lines[1];
  EXPECT_TRUE(Has(lines[1], "agent_text", "policy number")) << lines[1];
  // DTMF filled the digit slot: read back digit by digit.
  EXPECT_EQ(lines[2]["input"], "dtmf:40213587#");
  EXPECT_TRUE(Has(lines[2], "agent_text", "4, 0, 2, 1, 3, 5, 8, 7")) << lines[2];
  EXPECT_EQ(lines[3]["slots"]["policy_number"], "40213587") << lines[3];
  EXPECT_TRUE(Has(lines[4], "agent_text", "PIN")) << lines[4];
  // The keyed PIN verifies the caller.
  ASSERT_TRUE(lines[5].contains("tool_calls")) << lines[5];
  EXPECT_EQ(lines[5]["tool_calls"][0]["name"], "verify_caller");
  EXPECT_EQ(lines[5]["tool_calls"][0]["output"]["verified"], true);
  EXPECT_TRUE(Has(lines[5], "agent_text", "you're verified")) << lines[5];
  // Hand-off, in order: auth -> claims.
  ASSERT_TRUE(lines[6].contains("handoffs")) << lines[6];
  EXPECT_EQ(lines[6]["handoffs"][0]["from"], "auth_agent");
  EXPECT_EQ(lines[6]["handoffs"][0]["to"], "fnol_agent");
  EXPECT_EQ(lines[6]["agent"], "fnol_agent");
  EXPECT_TRUE(Has(lines[6], "agent_text", "Hi Sarah")) << lines[6];
  // The claim was filed and its number read back.
  nlohmann::json filed;
  size_t filed_at = 0;
  for (size_t i = 7; i < lines.size(); ++i) {
    if (!lines[i].contains("tool_calls")) continue;
    for (const auto& c : lines[i]["tool_calls"]) {
      if (c["name"] == "create_claim") {
        filed = c;
        filed_at = i;
      }
    }
  }
  ASSERT_FALSE(filed.is_null()) << out;
  ASSERT_EQ(filed["status"], "completed") << filed;
  const std::string number = filed["output"]["claim_number"];
  std::string spelled;
  for (char c : number) spelled += std::string(spelled.empty() ? "" : ", ") + c;
  EXPECT_TRUE(Has(lines[filed_at], "agent_text", "Your claim number is " + spelled))
      << lines[filed_at];
  auto row = ClaimRow(db, number);
  ASSERT_FALSE(row.empty()) << "claim " << number << " is not in " << db;
  EXPECT_EQ(row["policy_number"], "40213587");
  EXPECT_EQ(row["injuries"], "0");
  EXPECT_NE(row["description"].find("tree"), std::string::npos) << row["description"];
  // The agent said goodbye and ended the call.
  EXPECT_EQ(lines.back()["event"], "call_ended") << out;
  auto reply = audio::ReadWavFile(dir + "/agent.wav");
  ASSERT_TRUE(reply.ok());
  EXPECT_GT(reply->samples.size(), 16000u * 30);
  std::filesystem::remove_all(dir);
}

TEST(ConverseTest, MissingFileIsAClearError) {
  int status = 0;
  std::string out = RunCommand(ArtagentBinary() + " converse --in /nonexistent.wav 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("/nonexistent.wav"), std::string::npos) << out;
}

}  // namespace
}  // namespace artagent::testing
