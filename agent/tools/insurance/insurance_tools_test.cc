#include "agent/tools/insurance/insurance_tools.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "core/fake_executor.h"
#include "core/log.h"
#include "core/thread_pool.h"

namespace artagent::agent {
namespace {

namespace fs = std::filesystem;
using core::StatusCode;
using nlohmann::json;

constexpr const char* kToday = "2026-11-24";

std::string DemoDataPath() {
  const char* src = std::getenv("ARTAGENT_SOURCE_DIR");
  return std::string(src ? src : ".") + "/agents/insurance/demo_data.json";
}

class InsuranceToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SetLogLevel(core::LogLevel::kWarn);  // one info line per claim filed is noise here
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("insurance_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_path_ = (dir_ / "insurance.db").string();
  }
  void TearDown() override {
    tools_.clear();
    data_.reset();
    fs::remove_all(dir_);
  }

  InsuranceDataOptions Options() {
    InsuranceDataOptions options;
    options.today = [] { return std::string(kToday); };
    return options;
  }

  std::shared_ptr<InsuranceData> OpenData(InsuranceDataOptions options) {
    auto data = InsuranceData::Open(db_path_, DemoDataPath(), std::move(options));
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : nullptr;
  }

  // Opens the demo database and makes the tools, running on the fake pool.
  void OpenTools(InsuranceDataOptions options) {
    data_ = OpenData(std::move(options));
    ASSERT_NE(data_, nullptr);
    for (auto& tool : MakeInsuranceTools(data_, &pool_)) {
      std::string name = tool->spec().name;
      tools_[name] = std::move(tool);
    }
  }
  void OpenTools() { OpenTools(Options()); }

  ToolResult Call(const std::string& name, const json& args, const std::string& session = "s1") {
    ToolContext context;
    context.session_id = session;
    context.agent = "claims";
    int calls = 0;
    ToolResult result;
    auto run = tools_.at(name)->Invoke(args, context, [&](ToolResult r) {
      ++calls;
      result = std::move(r);
    });
    pool_.RunPending();
    EXPECT_EQ(calls, 1);
    return result;
  }

  json CallOk(const std::string& name, const json& args, const std::string& session = "s1") {
    ToolResult r = Call(name, args, session);
    EXPECT_TRUE(r.status.ok()) << name << ": " << r.status.ToString();
    return r.output;
  }

  static json Claim(std::string policy = "40213587") {
    return json{{"policy_number", std::move(policy)},
                {"incident_date", "2026-11-20"},
                {"location", "Pine Street and 3rd Avenue, Seattle"},
                {"description", "Another car ran a red light and hit the driver's side door."},
                {"injuries", false},
                {"vehicle_drivable", false},
                {"caller_name", "Sarah Johnson"}};
  }

  fs::path dir_;
  std::string db_path_;
  core::FakeExecutor pool_;
  std::shared_ptr<InsuranceData> data_;
  std::map<std::string, std::unique_ptr<Tool>> tools_;
};

void ExpectInvalid(const ToolResult& r, const std::string& field) {
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.ToString();
  EXPECT_NE(r.status.message().find(field), std::string::npos) << r.status.ToString();
}

// ---- Data and seeding ----

TEST_F(InsuranceToolsTest, SeedsOnceAndKeepsClaimsAcrossOpens) {
  {
    auto data = OpenData(Options());
    ASSERT_NE(data, nullptr);
    auto counts = data->Counts();
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(counts->customers, 8);
    EXPECT_EQ(counts->policies, 10);
    EXPECT_EQ(counts->claims, 2);
    NewClaim claim{"40789015", "2026-11-01", "I-5 near Tacoma", "Hail cracked the windshield.",
                   false,      true,         "James Anderson",  "s1"};
    ASSERT_TRUE(data->CreateClaim(claim).ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto data = OpenData(Options());
    ASSERT_NE(data, nullptr);
    auto counts = data->Counts();
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(counts->customers, 8);
    EXPECT_EQ(counts->policies, 10);
    EXPECT_EQ(counts->claims, 3);
  }
}

TEST_F(InsuranceToolsTest, MissingSeedFileIsAnErrorNamingIt) {
  auto data = InsuranceData::Open(db_path_, (dir_ / "nope.json").string());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(data.status().message().find("nope.json"), std::string::npos);
}

TEST_F(InsuranceToolsTest, BadSeedRecordNamesItAndLeavesTheDatabaseEmpty) {
  std::string bad = (dir_ / "bad.json").string();
  std::ofstream(bad) << R"({"customers": [{"id": "C1", "first_name": "Ann", "last_name": "Lee",
      "date_of_birth": "1980-02-30", "pin": "1234"}]})";
  auto data = InsuranceData::Open(db_path_, bad);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(data.status().message().find("customers[0]"), std::string::npos)
      << data.status().ToString();
  EXPECT_NE(data.status().message().find("date_of_birth"), std::string::npos);

  // Nothing of the bad file stayed: the good file seeds the same database afterwards.
  auto good = OpenData(Options());
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(good->Counts()->customers, 8);
}

TEST(IsIsoDateTest, AcceptsOnlyRealCalendarDates) {
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_TRUE(IsIsoDate("1985-12-31"));
  EXPECT_FALSE(IsIsoDate("2023-02-29"));
  EXPECT_FALSE(IsIsoDate("2026-13-01"));
  EXPECT_FALSE(IsIsoDate("2026-04-31"));
  EXPECT_FALSE(IsIsoDate("2026-1-01"));
  EXPECT_FALSE(IsIsoDate("03/14/1985"));
  EXPECT_FALSE(IsIsoDate(""));
}

// ---- verify_caller ----

TEST_F(InsuranceToolsTest, VerifiesByNameAndDateOfBirthForgivingCaseAndSpaces) {
  OpenTools();
  for (std::string name : {"Sarah Johnson", "  sarah   JOHNSON ", "Sarah Ann Johnson"}) {
    json out = CallOk(
        "verify_caller",
        {{"full_name", name}, {"policy_number", "40213587"}, {"date_of_birth", "1985-03-14"}});
    EXPECT_EQ(out["verified"], true) << name;
    EXPECT_EQ(out["customer_id"], "C1001");
    EXPECT_EQ(out["caller_name"], "Sarah Johnson");
    EXPECT_EQ(out["first_name"], "Sarah");
    EXPECT_EQ(out["policy_number"], "40213587");
  }
}

TEST_F(InsuranceToolsTest, VerifiesByPinInAnyShape) {
  OpenTools();
  for (json pin : {json("6014"), json("60 14"), json(6014)}) {
    json out = CallOk("verify_caller", {{"policy_number", "4090 1237"}, {"pin", pin}});
    EXPECT_EQ(out["verified"], true) << pin;
    EXPECT_EQ(out["caller_name"], "Robert Taylor");
  }
  json out = CallOk("verify_caller", {{"policy_number", 40901237}, {"pin", "6014"}});
  EXPECT_EQ(out["verified"], true);
}

TEST_F(InsuranceToolsTest, FailedVerificationNeverSaysWhichDetailWasWrong) {
  OpenTools();
  const json expected = {{"verified", false}, {"reason", "details did not match"}};
  std::vector<json> attempts = {
      {{"full_name", "Sarah Jonson"},
       {"policy_number", "40213587"},
       {"date_of_birth", "1985-03-14"}},
      {{"full_name", "Sarah Johnson"},
       {"policy_number", "40213587"},
       {"date_of_birth", "1985-03-15"}},
      {{"full_name", "Sarah Johnson"},
       {"policy_number", "99999999"},
       {"date_of_birth", "1985-03-14"}},
      {{"policy_number", "40213587"}, {"pin", "7305"}},  // Michael Brown's PIN
  };
  for (size_t i = 0; i < attempts.size(); ++i) {
    // One session per attempt: the lock-out is tested on its own.
    EXPECT_EQ(CallOk("verify_caller", attempts[i], "s" + std::to_string(i)), expected) << i;
  }
}

TEST_F(InsuranceToolsTest, LocksASessionOutAfterFiveFailures) {
  OpenTools();
  json wrong = {{"policy_number", "40213587"}, {"pin", "0000"}};
  json right = {{"policy_number", "40213587"}, {"pin", "4821"}};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(CallOk("verify_caller", wrong, "caller")["locked"], nullptr);
  json fifth = CallOk("verify_caller", wrong, "caller");
  EXPECT_EQ(fifth["verified"], false);
  EXPECT_EQ(fifth["locked"], true);
  json after = CallOk("verify_caller", right, "caller");
  EXPECT_EQ(after["verified"], false);
  EXPECT_EQ(after["reason"], "too many failed attempts");
  // Another conversation is not affected.
  EXPECT_EQ(CallOk("verify_caller", right, "other")["verified"], true);
}

TEST_F(InsuranceToolsTest, VerifyCallerRejectsMalformedArgumentsNamingTheField) {
  OpenTools();
  ExpectInvalid(Call("verify_caller", {{"pin", "4821"}}), "policy_number");
  ExpectInvalid(Call("verify_caller", {{"policy_number", "4021358"}, {"pin", "4821"}}),
                "policy_number must be 8 digits");
  ExpectInvalid(Call("verify_caller", {{"policy_number", "40213587"}}), "pin");
  ExpectInvalid(Call("verify_caller", {{"policy_number", "40213587"}, {"pin", "48a1"}}), "pin");
  ExpectInvalid(Call("verify_caller", {{"policy_number", "40213587"},
                                       {"full_name", "Sarah Johnson"},
                                       {"date_of_birth", "03/14/1985"}}),
                "date_of_birth");
  ExpectInvalid(
      Call("verify_caller", {{"policy_number", "40213587"}, {"date_of_birth", "1985-03-14"}}),
      "full_name");
  ExpectInvalid(Call("verify_caller", json::array({1, 2})), "JSON object");
}

// ---- get_policy ----

TEST_F(InsuranceToolsTest, GetPolicyReturnsAnAutoPolicy) {
  OpenTools();
  json out = CallOk("get_policy", {{"policy_number", "4021-3587"}});
  EXPECT_EQ(out["found"], true);
  EXPECT_EQ(out["policy_number"], "40213587");
  EXPECT_EQ(out["type"], "auto");
  EXPECT_EQ(out["status"], "active");
  EXPECT_EQ(out["holder_name"], "Sarah Johnson");
  ASSERT_EQ(out["coverages"].size(), 5u);
  EXPECT_EQ(out["coverages"][0],
            (json{{"name", "collision"}, {"limit", 50000}, {"limit_text", "$50,000"}}));
  EXPECT_EQ(out["coverage_summary"],
            "collision, comprehensive, liability, roadside assistance and rental car");
  EXPECT_EQ(out["deductible"], 500);
  EXPECT_EQ(out["deductible_text"], "$500");
  EXPECT_EQ(out["annual_premium"], 1284.0);
  EXPECT_EQ(out["annual_premium_text"], "$1,284");
  EXPECT_EQ(out["vehicle"]["description"], "2021 Toyota Camry");
  EXPECT_EQ(out["vehicle"]["year"], 2021);
  EXPECT_EQ(out["effective_date"], "2026-03-01");
  EXPECT_EQ(out["renewal_date"], "2027-03-01");
  EXPECT_FALSE(out.contains("property_address"));
  ASSERT_EQ(out["claims"].size(), 1u);
  EXPECT_EQ(out["claims"][0]["claim_number"], "52718364");
}

TEST_F(InsuranceToolsTest, GetPolicyReturnsAHomePolicyAndUnknownNumbers) {
  OpenTools();
  json home = CallOk("get_policy", {{"policy_number", "40213588"}});
  EXPECT_EQ(home["type"], "home");
  EXPECT_EQ(home["property_address"], "1420 Maple Avenue, Redmond, Washington");
  EXPECT_EQ(home["annual_premium_text"], "$1,562.50");
  EXPECT_FALSE(home.contains("vehicle"));

  json lapsed = CallOk("get_policy", {{"policy_number", "40345121"}});
  EXPECT_EQ(lapsed["status"], "lapsed");

  EXPECT_EQ(CallOk("get_policy", {{"policy_number", "12345678"}}),
            (json{{"found", false}, {"policy_number", "12345678"}}));
  ExpectInvalid(Call("get_policy", json::object()), "policy_number is required");
  ExpectInvalid(Call("get_policy", {{"policy_number", true}}), "policy_number");
}

// ---- create_claim ----

TEST_F(InsuranceToolsTest, CreateClaimWritesEveryFieldOfTheRow) {
  OpenTools();
  json out = CallOk("create_claim", Claim(), "sess_42");
  std::string number = out["claim_number"];
  EXPECT_EQ(number.size(), 8u);
  EXPECT_EQ(number.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(out["status"], "open");
  EXPECT_EQ(out["policy_number"], "40213587");
  std::string adjuster = out["adjuster"];
  EXPECT_FALSE(adjuster.empty());
  std::string next = out["next_steps"];
  EXPECT_NE(next.find(adjuster), std::string::npos);
  EXPECT_NE(next.find("tow"), std::string::npos);  // not drivable, roadside assistance covered
  EXPECT_NE(next.find("rental"), std::string::npos);

  // Read the row back with SQLite itself, not through InsuranceData.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT policy_number, customer_id, incident_date, location, "
                               "description, injuries, vehicle_drivable, caller_name, status, "
                               "adjuster, session_id, filed_date, updated_date FROM claims "
                               "WHERE claim_number = ?1",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, number.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  auto text = [&](int col) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, col)));
  };
  EXPECT_EQ(text(0), "40213587");
  EXPECT_EQ(text(1), "C1001");
  EXPECT_EQ(text(2), "2026-11-20");
  EXPECT_EQ(text(3), "Pine Street and 3rd Avenue, Seattle");
  EXPECT_EQ(text(4), "Another car ran a red light and hit the driver's side door.");
  EXPECT_EQ(sqlite3_column_int(stmt, 5), 0);
  EXPECT_EQ(sqlite3_column_type(stmt, 6), SQLITE_INTEGER);
  EXPECT_EQ(sqlite3_column_int(stmt, 6), 0);
  EXPECT_EQ(text(7), "Sarah Johnson");
  EXPECT_EQ(text(8), "open");
  EXPECT_EQ(text(9), adjuster);
  EXPECT_EQ(text(10), "sess_42");
  EXPECT_EQ(text(11), kToday);
  EXPECT_EQ(text(12), kToday);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  json status = CallOk("get_claim_status", {{"claim_number", number}});
  EXPECT_EQ(status["status"], "open");
  EXPECT_EQ(status["adjuster"], adjuster);
}

TEST_F(InsuranceToolsTest, CreateClaimOnAHomePolicyNeedsNoVehicleAnswer) {
  OpenTools();
  json args = Claim("40567841");
  args.erase("vehicle_drivable");
  args.erase("caller_name");
  args["injuries"] = "yes";
  json out = CallOk("create_claim", args);
  auto claim = data_->FindClaim(out["claim_number"]);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_TRUE((*claim)->injuries);
  EXPECT_FALSE((*claim)->vehicle_drivable.has_value());
  EXPECT_EQ((*claim)->caller_name, "");
  EXPECT_NE(std::string(out["next_steps"]).find("injury team"), std::string::npos);
}

TEST_F(InsuranceToolsTest, CreateClaimRefusesPoliciesThatCannotClaim) {
  OpenTools();
  ToolResult lapsed = Call("create_claim", Claim("40345121"));
  EXPECT_EQ(lapsed.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(lapsed.status.message().find("lapsed"), std::string::npos);
  ToolResult cancelled = Call("create_claim", Claim("40678902"));
  EXPECT_EQ(cancelled.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(cancelled.status.message().find("cancelled"), std::string::npos);
  ToolResult unknown = Call("create_claim", Claim("11112222"));
  EXPECT_EQ(unknown.status.code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status.message().find("11112222"), std::string::npos);
  json before_start = Claim("40901237");  // effective 2026-09-01
  before_start["incident_date"] = "2026-08-15";
  EXPECT_EQ(Call("create_claim", before_start).status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(data_->Counts()->claims, 2);
}

TEST_F(InsuranceToolsTest, CreateClaimRejectsMalformedArgumentsNamingTheField) {
  OpenTools();
  auto without = [](const char* field) {
    json args = Claim();
    args.erase(field);
    return args;
  };
  auto with = [](const char* field, json value) {
    json args = Claim();
    args[field] = std::move(value);
    return args;
  };
  ExpectInvalid(Call("create_claim", without("policy_number")), "policy_number");
  ExpectInvalid(Call("create_claim", without("incident_date")), "incident_date");
  ExpectInvalid(Call("create_claim", with("incident_date", "November 20")), "incident_date");
  ExpectInvalid(Call("create_claim", with("incident_date", "2026-11-25")), "in the future");
  ExpectInvalid(Call("create_claim", without("location")), "location");
  ExpectInvalid(Call("create_claim", with("location", "   ")), "location");
  ExpectInvalid(Call("create_claim", with("description", 42)), "description");
  ExpectInvalid(Call("create_claim", with("description", std::string(3000, 'x'))), "description");
  ExpectInvalid(Call("create_claim", without("injuries")), "injuries");
  ExpectInvalid(Call("create_claim", with("injuries", "maybe")), "injuries");
  ExpectInvalid(Call("create_claim", without("vehicle_drivable")), "vehicle_drivable");
  EXPECT_EQ(data_->Counts()->claims, 2);
}

TEST_F(InsuranceToolsTest, ClaimNumbersAreUniqueOverAThousandClaims) {
  OpenTools();
  std::set<std::string> numbers = {"52718364", "63094172"};  // the seeded ones
  for (int i = 0; i < 1000; ++i) {
    json out = CallOk("create_claim", Claim(i % 2 ? "40213587" : "40789015"));
    std::string number = out["claim_number"];
    ASSERT_EQ(number.size(), 8u);
    EXPECT_TRUE(numbers.insert(number).second) << "duplicate " << number;
  }
  EXPECT_EQ(data_->Counts()->claims, 1002);
}

TEST_F(InsuranceToolsTest, ACollidingClaimNumberIsDrawnAgain) {
  // 10000000 + draw % 90000000: 42718364 -> the seeded claim 52718364.
  auto draws =
      std::make_shared<std::deque<uint64_t>>(std::deque<uint64_t>{42718364, 42718364, 11111111});
  InsuranceDataOptions options = Options();
  options.random = [draws] {
    uint64_t v = draws->empty() ? 42718364 : draws->front();
    if (!draws->empty()) draws->pop_front();
    return v;
  };
  OpenTools(std::move(options));
  json out = CallOk("create_claim", Claim());
  EXPECT_EQ(out["claim_number"], "21111111");
  EXPECT_TRUE(draws->empty());
  // The seeded claim is untouched.
  EXPECT_EQ(CallOk("get_claim_status", {{"claim_number", "52718364"}})["status"], "in review");

  // A generator stuck on a taken number ends in an error, not a loop.
  ToolResult stuck = Call("create_claim", Claim());
  EXPECT_EQ(stuck.status.code(), StatusCode::kResourceExhausted);
}

TEST_F(InsuranceToolsTest, ConcurrentClaimsFromSeveralThreadsAllLand) {
  data_ = OpenData(Options());
  ASSERT_NE(data_, nullptr);
  constexpr int kThreads = 4, kPerThread = 40;
  std::mutex mu;
  std::set<std::string> numbers;
  std::vector<ToolResult> failures;
  {
    core::ThreadPool pool(3, 1000, "claims");
    auto tools = MakeInsuranceTools(data_, &pool);
    Tool* create = tools[2].get();
    ASSERT_EQ(create->spec().name, "create_claim");
    std::vector<std::thread> callers;
    std::atomic<int> pending{kThreads * kPerThread};
    std::promise<void> all_done;
    for (int t = 0; t < kThreads; ++t) {
      callers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          ToolContext context;
          context.session_id = "sess_" + std::to_string(t);
          create->Invoke(Claim(), context, [&](ToolResult r) {
            {
              std::lock_guard lock(mu);
              if (r.status.ok()) {
                numbers.insert(r.output["claim_number"].get<std::string>());
              } else {
                failures.push_back(r);
              }
            }
            if (--pending == 0) all_done.set_value();
          });
        }
      });
    }
    for (auto& c : callers) c.join();
    all_done.get_future().wait();
  }
  EXPECT_TRUE(failures.empty()) << failures.front().status.ToString();
  EXPECT_EQ(numbers.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(data_->Counts()->claims, 2 + kThreads * kPerThread);
}

// ---- get_claim_status ----

TEST_F(InsuranceToolsTest, GetClaimStatusReadsSeededClaims) {
  OpenTools();
  json out = CallOk("get_claim_status", {{"claim_number", "5271 8364"}});
  EXPECT_EQ(out["found"], true);
  EXPECT_EQ(out["claim_number"], "52718364");
  EXPECT_EQ(out["status"], "in review");
  EXPECT_EQ(out["incident_date"], "2026-10-03");
  EXPECT_EQ(out["adjuster"], "Karen Mitchell");
  EXPECT_EQ(out["policy_number"], "40213587");
  EXPECT_EQ(out["last_update"], "2026-10-12");
  EXPECT_NE(std::string(out["description"]).find("Rear-ended"), std::string::npos);

  EXPECT_EQ(CallOk("get_claim_status", {{"claim_number", "12345678"}}),
            (json{{"found", false}, {"claim_number", "12345678"}}));
  ExpectInvalid(Call("get_claim_status", {{"claim_number", "123"}}), "claim_number");
  ExpectInvalid(Call("get_claim_status", json::object()), "claim_number");
}

// ---- Registration ----

TEST_F(InsuranceToolsTest, RegistersTheFourToolsOnce) {
  data_ = OpenData(Options());
  ASSERT_NE(data_, nullptr);
  ToolRegistry registry;
  ASSERT_TRUE(RegisterInsuranceTools(&registry, data_, &pool_).ok());
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"create_claim", "get_claim_status",
                                                        "get_policy", "verify_caller"}));
  for (const auto& name : registry.Names()) {
    const ToolSpec& spec = registry.Find(name)->spec();
    EXPECT_FALSE(spec.description.empty()) << name;
    EXPECT_EQ(spec.parameters["type"], "object") << name;
    for (const auto& required : spec.parameters["required"]) {
      EXPECT_TRUE(spec.parameters["properties"].contains(required)) << name << " " << required;
    }
  }
  EXPECT_TRUE(registry.Find("get_policy")->idempotent());
  EXPECT_FALSE(registry.Find("create_claim")->idempotent());
  EXPECT_EQ(RegisterInsuranceTools(&registry, data_, &pool_).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(RegisterInsuranceTools(&registry, nullptr, &pool_).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace artagent::agent
