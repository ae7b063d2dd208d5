#include "agent/tools/insurance/insurance_data.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace artagent::agent {
namespace {

using core::Status;
using nlohmann::json;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  date_of_birth TEXT NOT NULL,
  pin TEXT NOT NULL,
  phone TEXT NOT NULL,
  email TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
  policy_number TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers (id),
  type TEXT NOT NULL CHECK (type IN ('auto', 'home')),
  status TEXT NOT NULL CHECK (status IN ('active', 'lapsed', 'cancelled')),
  coverages_json TEXT NOT NULL,
  deductible INTEGER NOT NULL,
  annual_premium_cents INTEGER NOT NULL,
  vehicle_year INTEGER,
  vehicle_make TEXT,
  vehicle_model TEXT,
  property_address TEXT NOT NULL,
  effective_date TEXT NOT NULL,
  renewal_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS policies_by_customer ON policies (customer_id);
CREATE TABLE IF NOT EXISTS claims (
  claim_number TEXT PRIMARY KEY,
  policy_number TEXT NOT NULL REFERENCES policies (policy_number),
  customer_id TEXT NOT NULL,
  incident_date TEXT NOT NULL,
  location TEXT NOT NULL,
  description TEXT NOT NULL,
  injuries INTEGER NOT NULL,
  vehicle_drivable INTEGER,
  caller_name TEXT NOT NULL,
  status TEXT NOT NULL,
  adjuster TEXT NOT NULL,
  session_id TEXT NOT NULL,
  filed_date TEXT NOT NULL,
  updated_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_policy ON claims (policy_number);
)sql";

constexpr const char* kPolicyColumns =
    "policy_number, customer_id, type, status, coverages_json, deductible, annual_premium_cents, "
    "vehicle_year, vehicle_make, vehicle_model, property_address, effective_date, renewal_date";

constexpr const char* kClaimColumns =
    "claim_number, policy_number, customer_id, incident_date, location, description, injuries, "
    "vehicle_drivable, caller_name, status, adjuster, session_id, filed_date, updated_date";

// New claims go to one of these, by claim number.
constexpr const char* kAdjusters[] = {"Karen Mitchell", "Tom Harris", "Maria Lopez", "Daniel Reed"};

constexpr int kClaimNumberAttempts = 64;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

// One prepared statement for one use: binds, steps, reads columns, finalises when it goes.
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  int prepare_rc() const { return rc_; }
  // The text is copied: callers may pass temporaries.
  Query& Bind(int index, const std::string& text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Query& Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Query& BindNull(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view doing) {
  std::string message = fmt::format("insurance data '{}': {}: {} (SQLite code {})", path, doing,
                                    db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return core::UnavailableError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return core::FailedPreconditionError(message + "; delete the file to recreate it");
    default:
      return core::InternalError(std::move(message));
  }
}

std::string SystemToday() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:04}-{:02}-{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

// Seed-file readers: each names the record and field that is wrong.
Status SeedError(const std::string& file, const std::string& where, const std::string& what) {
  return core::InvalidArgumentError(fmt::format("{}: {}: {}", file, where, what));
}

core::Result<std::string> SeedText(const json& record, const char* key, const std::string& file,
                                   const std::string& where) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_string()) {
    return SeedError(file, where, fmt::format("'{}' must be a string", key));
  }
  return it->get<std::string>();
}

core::Result<int64_t> SeedInt(const json& record, const char* key, const std::string& file,
                              const std::string& where) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_number()) {
    return SeedError(file, where, fmt::format("'{}' must be a number", key));
  }
  return static_cast<int64_t>(std::llround(it->get<double>()));
}

core::Result<std::string> SeedDate(const json& record, const char* key, const std::string& file,
                                   const std::string& where) {
  ARTAGENT_ASSIGN_OR_RETURN(std::string text, SeedText(record, key, file, where));
  if (!IsIsoDate(text)) {
    return SeedError(file, where, fmt::format("'{}' must be a date YYYY-MM-DD", key));
  }
  return text;
}

bool IsDigits(const std::string& text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Policy ReadPolicy(const Query& q) {
  Policy p;
  p.policy_number = q.Text(0);
  p.customer_id = q.Text(1);
  p.type = q.Text(2);
  p.status = q.Text(3);
  json coverages = json::parse(q.Text(4), nullptr, /*allow_exceptions=*/false);
  if (coverages.is_array()) {
    for (const auto& c : coverages) {
      if (!c.is_object()) continue;
      p.coverages.push_back({c.value("name", ""), c.value("limit", int64_t{0})});
    }
  }
  p.deductible = q.Int(5);
  p.annual_premium_cents = q.Int(6);
  if (!q.IsNull(7)) p.vehicle = Vehicle{static_cast<int>(q.Int(7)), q.Text(8), q.Text(9)};
  p.property_address = q.Text(10);
  p.effective_date = q.Text(11);
  p.renewal_date = q.Text(12);
  return p;
}

Claim ReadClaim(const Query& q) {
  Claim c;
  c.claim_number = q.Text(0);
  c.policy_number = q.Text(1);
  c.customer_id = q.Text(2);
  c.incident_date = q.Text(3);
  c.location = q.Text(4);
  c.description = q.Text(5);
  c.injuries = q.Int(6) != 0;
  if (!q.IsNull(7)) c.vehicle_drivable = q.Int(7) != 0;
  c.caller_name = q.Text(8);
  c.status = q.Text(9);
  c.adjuster = q.Text(10);
  c.session_id = q.Text(11);
  c.filed_date = q.Text(12);
  c.updated_date = q.Text(13);
  return c;
}

}  // namespace

bool IsIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto number = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max_day;
}

class InsuranceData::Impl {
 public:
  Impl(std::string path, InsuranceDataOptions options)
      : path_(std::move(path)), options_(std::move(options)) {
    if (!options_.random) {
      auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
      options_.random = [engine] { return (*engine)(); };  // called under mu_
    }
    if (!options_.today) options_.today = SystemToday;
  }

  Status Init(const std::string& seed_path) {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, path_, "opening the database");
    sqlite3_extended_result_codes(db_.get(), 1);
    // Another process (a second server, `artagent converse`) may hold the write lock briefly.
    sqlite3_busy_timeout(db_.get(), 5000);
    if (path_ != ":memory:") {
      // WAL: lookups never wait for a claim being written.
      Query mode(db_.get(), "PRAGMA journal_mode = WAL");
      if (mode.Step() != SQLITE_ROW || mode.Text(0) != "wal") {
        return core::UnavailableError(fmt::format(
            "insurance data '{}': cannot use WAL mode; put the database on a local file system",
            path_));
      }
    }
    ARTAGENT_RETURN_IF_ERROR(Exec("PRAGMA synchronous = NORMAL", "configuring"));
    ARTAGENT_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys = ON", "configuring"));
    ARTAGENT_RETURN_IF_ERROR(Exec(kSchema, "creating the tables"));
    if (!seed_path.empty()) ARTAGENT_RETURN_IF_ERROR(SeedOnce(seed_path));
    return core::OkStatus();
  }

  std::string Today() const { return options_.today(); }

  core::Result<std::optional<Customer>> FindCustomer(const std::string& id) {
    std::lock_guard lock(mu_);
    Query q(db_.get(),
            "SELECT id, first_name, last_name, date_of_birth, pin, phone, email FROM customers "
            "WHERE id = ?1");
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "looking up a customer"));
    q.Bind(1, id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<Customer>();
    if (rc != SQLITE_ROW) return SqliteError(db_.get(), rc, path_, "looking up a customer");
    return std::optional<Customer>(
        Customer{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6)});
  }

  core::Result<std::optional<Policy>> FindPolicy(const std::string& number) {
    std::lock_guard lock(mu_);
    return FindPolicyLocked(number);
  }

  core::Result<std::optional<Claim>> FindClaim(const std::string& number) {
    std::lock_guard lock(mu_);
    Query q(db_.get(), fmt::format("SELECT {} FROM claims WHERE claim_number = ?1", kClaimColumns));
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "looking up a claim"));
    q.Bind(1, number);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<Claim>();
    if (rc != SQLITE_ROW) return SqliteError(db_.get(), rc, path_, "looking up a claim");
    return std::optional<Claim>(ReadClaim(q));
  }

  core::Result<std::vector<Claim>> ClaimsForPolicy(const std::string& number) {
    std::lock_guard lock(mu_);
    Query q(db_.get(),
            fmt::format("SELECT {} FROM claims WHERE policy_number = ?1 ORDER BY filed_date, "
                        "claim_number",
                        kClaimColumns));
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "listing claims"));
    q.Bind(1, number);
    std::vector<Claim> claims;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) claims.push_back(ReadClaim(q));
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, path_, "listing claims");
    return claims;
  }

  core::Result<Claim> CreateClaim(const NewClaim& in) {
    std::lock_guard lock(mu_);
    ARTAGENT_ASSIGN_OR_RETURN(std::optional<Policy> policy, FindPolicyLocked(in.policy_number));
    if (!policy) {
      return core::NotFoundError(fmt::format("no policy has the number {}", in.policy_number));
    }
    if (policy->status != "active") {
      return core::FailedPreconditionError(
          fmt::format("policy {} is {}; a claim can only be filed on an active policy",
                      in.policy_number, policy->status));
    }
    if (in.incident_date < policy->effective_date) {
      return core::FailedPreconditionError(
          fmt::format("policy {} took effect on {}, after the incident date {}", in.policy_number,
                      policy->effective_date, in.incident_date));
    }
    Claim claim;
    claim.policy_number = in.policy_number;
    claim.customer_id = policy->customer_id;
    claim.incident_date = in.incident_date;
    claim.location = in.location;
    claim.description = in.description;
    claim.injuries = in.injuries;
    claim.vehicle_drivable = in.vehicle_drivable;
    claim.caller_name = in.caller_name;
    claim.status = "open";
    claim.session_id = in.session_id;
    claim.filed_date = options_.today();
    claim.updated_date = claim.filed_date;

    for (int attempt = 0; attempt < kClaimNumberAttempts; ++attempt) {
      uint64_t n = 10000000 + options_.random() % 90000000;
      claim.claim_number = std::to_string(n);
      claim.adjuster = kAdjusters[n % std::size(kAdjusters)];
      int rc = InsertClaim(claim);
      if (rc == SQLITE_DONE) return claim;
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        core::LogDebug("insurance", "claim number {} taken; drawing another", claim.claim_number);
        continue;
      }
      return SqliteError(db_.get(), rc, path_, "filing a claim");
    }
    return core::ResourceExhaustedError(fmt::format(
        "insurance data '{}': no free claim number after {} draws", path_, kClaimNumberAttempts));
  }

  core::Result<InsuranceCounts> Counts() {
    std::lock_guard lock(mu_);
    InsuranceCounts counts;
    for (auto [table, out] :
         {std::pair{"customers", &counts.customers}, std::pair{"policies", &counts.policies},
          std::pair{"claims", &counts.claims}}) {
      ARTAGENT_ASSIGN_OR_RETURN(*out, CountLocked(table));
    }
    return counts;
  }

 private:
  Status Exec(const char* sql, std::string_view doing) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, path_, doing);
    return core::OkStatus();
  }

  Status Prepared(const Query& q, std::string_view doing) {
    if (q.prepare_rc() != SQLITE_OK) return SqliteError(db_.get(), q.prepare_rc(), path_, doing);
    return core::OkStatus();
  }

  core::Result<int64_t> CountLocked(const std::string& table) {
    Query q(db_.get(), "SELECT COUNT(*) FROM " + table);
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "counting rows"));
    if (int rc = q.Step(); rc != SQLITE_ROW) {
      return SqliteError(db_.get(), rc, path_, "counting rows");
    }
    return q.Int(0);
  }

  core::Result<std::optional<Policy>> FindPolicyLocked(const std::string& number) {
    Query q(db_.get(),
            fmt::format("SELECT {} FROM policies WHERE policy_number = ?1", kPolicyColumns));
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "looking up a policy"));
    q.Bind(1, number);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<Policy>();
    if (rc != SQLITE_ROW) return SqliteError(db_.get(), rc, path_, "looking up a policy");
    return std::optional<Policy>(ReadPolicy(q));
  }

  // SQLITE_DONE when the row is in, else the (extended) SQLite code.
  int InsertClaim(const Claim& c) {
    Query q(db_.get(), fmt::format("INSERT INTO claims ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                                   "?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                                   kClaimColumns));
    if (q.prepare_rc() != SQLITE_OK) return q.prepare_rc();
    q.Bind(1, c.claim_number).Bind(2, c.policy_number).Bind(3, c.customer_id);
    q.Bind(4, c.incident_date).Bind(5, c.location).Bind(6, c.description);
    q.Bind(7, int64_t{c.injuries ? 1 : 0});
    if (c.vehicle_drivable) {
      q.Bind(8, int64_t{*c.vehicle_drivable ? 1 : 0});
    } else {
      q.BindNull(8);
    }
    q.Bind(9, c.caller_name).Bind(10, c.status).Bind(11, c.adjuster).Bind(12, c.session_id);
    q.Bind(13, c.filed_date).Bind(14, c.updated_date);
    return q.Step();
  }

  // Seeds an empty database in one write transaction: two processes opening a fresh file at once
  // seed it once, and a failure leaves it empty (the next start tries again).
  Status SeedOnce(const std::string& seed_path) {
    std::lock_guard lock(mu_);
    ARTAGENT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "seeding"));
    Status status = SeedLocked(seed_path);
    if (!status.ok()) {
      Exec("ROLLBACK", "seeding").ok();
      return status;
    }
    return Exec("COMMIT", "seeding");
  }

  Status SeedLocked(const std::string& file) {
    ARTAGENT_ASSIGN_OR_RETURN(int64_t customers, CountLocked("customers"));
    if (customers > 0) return core::OkStatus();

    std::ifstream in(file);
    if (!in) {
      return core::FailedPreconditionError(
          fmt::format("{}: cannot read the insurance demo data", file));
    }
    std::stringstream text;
    text << in.rdbuf();
    json seed = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!seed.is_object()) {
      return core::InvalidArgumentError(fmt::format("{}: not a JSON object", file));
    }
    int added_customers = 0, added_policies = 0, added_claims = 0;
    for (const auto& [key, add, count] :
         {std::tuple{"customers", &Impl::AddSeedCustomer, &added_customers},
          std::tuple{"policies", &Impl::AddSeedPolicy, &added_policies},
          std::tuple{"claims", &Impl::AddSeedClaim, &added_claims}}) {
      const json& list = seed.contains(key) ? seed[key] : json::array();
      if (!list.is_array()) {
        return core::InvalidArgumentError(fmt::format("{}: '{}' must be a list", file, key));
      }
      for (size_t i = 0; i < list.size(); ++i) {
        std::string where = fmt::format("{}[{}]", key, i);
        if (!list[i].is_object()) return SeedError(file, where, "must be an object");
        ARTAGENT_RETURN_IF_ERROR((this->*add)(list[i], file, where));
        ++*count;
      }
    }
    core::LogInfo("insurance", "seeded '{}' from {}: {} customers, {} policies, {} claims", path_,
                  file, added_customers, added_policies, added_claims);
    return core::OkStatus();
  }

  Status Insert(Query& q, const std::string& file, const std::string& where) {
    int rc = q.Step();
    if (rc == SQLITE_DONE) return core::OkStatus();
    return SeedError(file, where, sqlite3_errmsg(db_.get()));
  }

  Status AddSeedCustomer(const json& r, const std::string& file, const std::string& where) {
    ARTAGENT_ASSIGN_OR_RETURN(std::string id, SeedText(r, "id", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string first, SeedText(r, "first_name", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string last, SeedText(r, "last_name", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string dob, SeedDate(r, "date_of_birth", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string pin, SeedText(r, "pin", file, where));
    if (!IsDigits(pin, 4)) return SeedError(file, where, "'pin' must be 4 digits");
    Query q(db_.get(), "INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "seeding customers"));
    q.Bind(1, id).Bind(2, first).Bind(3, last).Bind(4, dob).Bind(5, pin);
    q.Bind(6, r.value("phone", "")).Bind(7, r.value("email", ""));
    return Insert(q, file, where);
  }

  Status AddSeedPolicy(const json& r, const std::string& file, const std::string& where) {
    ARTAGENT_ASSIGN_OR_RETURN(std::string number, SeedText(r, "policy_number", file, where));
    if (!IsDigits(number, 8)) return SeedError(file, where, "'policy_number' must be 8 digits");
    ARTAGENT_ASSIGN_OR_RETURN(std::string customer, SeedText(r, "customer_id", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string type, SeedText(r, "type", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string status, SeedText(r, "status", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(int64_t deductible, SeedInt(r, "deductible", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string effective, SeedDate(r, "effective_date", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::string renewal, SeedDate(r, "renewal_date", file, where));
    auto premium = r.find("annual_premium");
    if (premium == r.end() || !premium->is_number()) {
      return SeedError(file, where, "'annual_premium' must be a number (dollars)");
    }
    json coverages = json::array();
    const json& items = r.contains("coverages") ? r["coverages"] : json();
    if (!items.is_array() || items.empty()) {
      return SeedError(file, where, "'coverages' must be a non-empty list");
    }
    for (const auto& item : items) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
          !item.contains("limit") || !item["limit"].is_number()) {
        return SeedError(file, where, "each coverage needs a 'name' and a numeric 'limit'");
      }
      coverages.push_back({{"name", item["name"]}, {"limit", item["limit"].get<int64_t>()}});
    }
    Query q(db_.get(), fmt::format("INSERT INTO policies ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                                   "?8, ?9, ?10, ?11, ?12, ?13)",
                                   kPolicyColumns));
    ARTAGENT_RETURN_IF_ERROR(Prepared(q, "seeding policies"));
    q.Bind(1, number).Bind(2, customer).Bind(3, type).Bind(4, status).Bind(5, coverages.dump());
    q.Bind(6, deductible).Bind(7, static_cast<int64_t>(std::llround(premium->get<double>() * 100)));
    if (type == "auto") {
      const json& v = r.contains("vehicle") ? r["vehicle"] : json();
      if (!v.is_object()) return SeedError(file, where, "an auto policy needs a 'vehicle'");
      ARTAGENT_ASSIGN_OR_RETURN(int64_t year, SeedInt(v, "year", file, where + ".vehicle"));
      ARTAGENT_ASSIGN_OR_RETURN(std::string make, SeedText(v, "make", file, where + ".vehicle"));
      ARTAGENT_ASSIGN_OR_RETURN(std::string model, SeedText(v, "model", file, where + ".vehicle"));
      q.Bind(8, year).Bind(9, make).Bind(10, model).Bind(11, std::string());
    } else {
      ARTAGENT_ASSIGN_OR_RETURN(std::string address, SeedText(r, "property_address", file, where));
      q.BindNull(8).BindNull(9).BindNull(10).Bind(11, address);
    }
    q.Bind(12, effective).Bind(13, renewal);
    return Insert(q, file, where);
  }

  Status AddSeedClaim(const json& r, const std::string& file, const std::string& where) {
    Claim c;
    ARTAGENT_ASSIGN_OR_RETURN(c.claim_number, SeedText(r, "claim_number", file, where));
    if (!IsDigits(c.claim_number, 8)) {
      return SeedError(file, where, "'claim_number' must be 8 digits");
    }
    ARTAGENT_ASSIGN_OR_RETURN(c.policy_number, SeedText(r, "policy_number", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(std::optional<Policy> policy, FindPolicyLocked(c.policy_number));
    if (!policy) return SeedError(file, where, "'policy_number' names no seeded policy");
    c.customer_id = policy->customer_id;
    ARTAGENT_ASSIGN_OR_RETURN(c.incident_date, SeedDate(r, "incident_date", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.location, SeedText(r, "location", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.description, SeedText(r, "description", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.status, SeedText(r, "status", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.adjuster, SeedText(r, "adjuster", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.filed_date, SeedDate(r, "filed_date", file, where));
    ARTAGENT_ASSIGN_OR_RETURN(c.updated_date, SeedDate(r, "updated_date", file, where));
    c.injuries = r.value("injuries", false);
    if (r.contains("vehicle_drivable")) c.vehicle_drivable = r.value("vehicle_drivable", true);
    c.caller_name = r.value("caller_name", "");
    int rc = InsertClaim(c);
    if (rc == SQLITE_DONE) return core::OkStatus();
    return SeedError(file, where, sqlite3_errmsg(db_.get()));
  }

  const std::string path_;
  InsuranceDataOptions options_;
  std::mutex mu_;  // guards db_ (opened NOMUTEX) and options_.random
  Db db_;
};

core::Result<std::shared_ptr<InsuranceData>> InsuranceData::Open(const std::string& path,
                                                                 const std::string& seed_json_path,
                                                                 InsuranceDataOptions options) {
  auto impl = std::make_unique<Impl>(path, std::move(options));
  ARTAGENT_RETURN_IF_ERROR(impl->Init(seed_json_path));
  return std::shared_ptr<InsuranceData>(new InsuranceData(std::move(impl)));
}

InsuranceData::InsuranceData(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InsuranceData::~InsuranceData() = default;

core::Result<std::optional<Customer>> InsuranceData::FindCustomer(const std::string& id) {
  return impl_->FindCustomer(id);
}
core::Result<std::optional<Policy>> InsuranceData::FindPolicy(const std::string& number) {
  return impl_->FindPolicy(number);
}
core::Result<std::optional<Claim>> InsuranceData::FindClaim(const std::string& number) {
  return impl_->FindClaim(number);
}
core::Result<std::vector<Claim>> InsuranceData::ClaimsForPolicy(const std::string& number) {
  return impl_->ClaimsForPolicy(number);
}
core::Result<Claim> InsuranceData::CreateClaim(const NewClaim& claim) {
  return impl_->CreateClaim(claim);
}
core::Result<InsuranceCounts> InsuranceData::Counts() { return impl_->Counts(); }
std::string InsuranceData::Today() const { return impl_->Today(); }

}  // namespace artagent::agent
