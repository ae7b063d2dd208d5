#pragma once
// The built-in tools of the insurance scenario, backed by InsuranceData:
//
//   verify_caller     {full_name, policy_number, date_of_birth} or {policy_number, pin}
//                     -> {verified: true, customer_id, caller_name, first_name, policy_number,
//                         policy_type, policy_status} | {verified: false, reason}
//   get_policy        {policy_number} -> {found: true, type, status, holder_name, coverages, ...}
//                     | {found: false, policy_number}
//   create_claim      {policy_number, incident_date, location, description, injuries,
//                      vehicle_drivable, caller_name?} -> {claim_number, status: "open", adjuster,
//                      next_steps, ...}
//   get_claim_status  {claim_number} -> {found: true, status, incident_date, description,
//                     adjuster, ...} | {found: false, claim_number}
//
// Outputs are flat JSON objects with plain keys so that both a model and a flow template
// ({{claim_number|digits}}, {{adjuster}}) can read them back; amounts come as numbers and as
// "$1,284" text. Arguments are checked here (the registry does not apply the schema): a missing or
// malformed field is kInvalidArgument naming the field, so the model can ask the caller again.
// Numbers the caller speaks may arrive as strings with spaces or dashes ("4021 3587") or as JSON
// numbers; yes/no answers as booleans or "yes"/"no".
//
// verify_caller never says which detail was wrong ("details did not match") and stops checking
// after 5 failed attempts in one session (reason "too many failed attempts", locked: true).
// The tools do not check that the caller was verified before a lookup: the scenario's flow or
// instructions order the steps.

#include <memory>
#include <vector>

#include "agent/tools/insurance/insurance_data.h"
#include "agent/tools/tool.h"
#include "core/executor.h"
#include "core/status.h"

namespace artagent::agent {

// The four tools, running on `pool`. `data` is shared by all of them.
std::vector<std::unique_ptr<Tool>> MakeInsuranceTools(std::shared_ptr<InsuranceData> data,
                                                      core::ComputePool* pool);

// Registers MakeInsuranceTools(): kAlreadyExists if one of the names is taken (the tools before
// it stay registered).
core::Status RegisterInsuranceTools(ToolRegistry* registry, std::shared_ptr<InsuranceData> data,
                                    core::ComputePool* pool);

}  // namespace artagent::agent
