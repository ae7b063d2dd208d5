#pragma once
// InsuranceData: the demo back office of the shipped insurance scenario (customers, their auto and
// home policies, claims) in its own SQLite database. The built-in insurance tools read and write
// it; nothing else does.
//
// Open() creates the tables on first use and seeds customers, policies and a few existing claims
// from a JSON file (agents/insurance/demo_data.json) when the customers table is empty. Seeding
// happens once per database file: opening again never re-seeds or duplicates, and claims filed by
// callers survive restarts.
//
// Thread-safe: every method may be called from any thread (the tools run on the compute pool).
// Calls are serialised on one connection; each is a short indexed query.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace artagent::agent {

struct Customer {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::string date_of_birth;  // YYYY-MM-DD
  std::string pin;            // 4 digits
  std::string phone;
  std::string email;
  std::string FullName() const { return first_name + " " + last_name; }
};

struct Coverage {
  std::string name;   // "collision", "roadside assistance", "dwelling", ...
  int64_t limit = 0;  // whole dollars
};

struct Vehicle {
  int year = 0;
  std::string make;
  std::string model;
};

struct Policy {
  std::string policy_number;  // 8 digits
  std::string customer_id;
  std::string type;    // "auto" | "home"
  std::string status;  // "active" | "lapsed" | "cancelled"
  std::vector<Coverage> coverages;
  int64_t deductible = 0;            // whole dollars
  int64_t annual_premium_cents = 0;  // cents
  std::optional<Vehicle> vehicle;    // auto policies
  std::string property_address;      // home policies
  std::string effective_date;        // YYYY-MM-DD
  std::string renewal_date;          // YYYY-MM-DD
};

struct Claim {
  std::string claim_number;  // 8 digits
  std::string policy_number;
  std::string customer_id;
  std::string incident_date;  // YYYY-MM-DD
  std::string location;
  std::string description;
  bool injuries = false;
  std::optional<bool> vehicle_drivable;  // empty: not asked (home claims)
  std::string caller_name;
  std::string status;  // "open" | "in review" | "approved" | "closed" | "denied"
  std::string adjuster;
  std::string session_id;  // the conversation that filed it ("" for seeded claims)
  std::string filed_date;  // YYYY-MM-DD
  std::string updated_date;
};

// What a caller reports; the rest of the claim is assigned by CreateClaim().
struct NewClaim {
  std::string policy_number;
  std::string incident_date;
  std::string location;
  std::string description;
  bool injuries = false;
  std::optional<bool> vehicle_drivable;
  std::string caller_name;
  std::string session_id;
};

struct InsuranceCounts {
  int64_t customers = 0;
  int64_t policies = 0;
  int64_t claims = 0;
};

struct InsuranceDataOptions {
  // Draws claim numbers (taken modulo 90,000,000 into 10000000..99999999). Default: a
  // std::mt19937_64 seeded from std::random_device. Tests inject a sequence to force collisions.
  std::function<uint64_t()> random;
  // Today's date, YYYY-MM-DD (filed/updated dates, "incident in the future" checks). Default: the
  // system clock, UTC.
  std::function<std::string()> today;
};

class InsuranceData {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode; ":memory:" works for tests.
  // `seed_json_path` seeds an empty database; "" skips seeding. Errors name the file (database or
  // seed) and what is wrong with it.
  static core::Result<std::shared_ptr<InsuranceData>> Open(const std::string& path,
                                                           const std::string& seed_json_path,
                                                           InsuranceDataOptions options = {});
  ~InsuranceData();
  InsuranceData(const InsuranceData&) = delete;
  InsuranceData& operator=(const InsuranceData&) = delete;

  // Lookups: an empty optional when there is no such row; an error only when SQLite fails.
  core::Result<std::optional<Customer>> FindCustomer(const std::string& id);
  core::Result<std::optional<Policy>> FindPolicy(const std::string& policy_number);
  core::Result<std::optional<Claim>> FindClaim(const std::string& claim_number);
  core::Result<std::vector<Claim>> ClaimsForPolicy(const std::string& policy_number);

  // Files a claim: kNotFound for an unknown policy, kFailedPrecondition for one that is not active
  // (the message says its status) or whose coverage starts after the incident. Assigns a fresh
  // random 8-digit claim number (drawn again on collision), status "open", an adjuster and the
  // filed/updated dates, and commits the row before returning it.
  core::Result<Claim> CreateClaim(const NewClaim& claim);

  core::Result<InsuranceCounts> Counts();

  // Today's date as the options define it (YYYY-MM-DD).
  std::string Today() const;

 private:
  class Impl;
  explicit InsuranceData(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for a real calendar date written YYYY-MM-DD (leap years included).
bool IsIsoDate(std::string_view text);

}  // namespace artagent::agent
