// SPDX-License-Identifier: LGPL-2.1-or-later
// Test professionals, one JSON file each under identities/: the idNat, the means of identification
// used by default (authMode), the default CIBA outcome and the UserInfo document PSC would return.
#pragma once

#include "json.hpp"
#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace psc::mock {

// What happens to a decoupled (CIBA or device) request once the user is "asked".
enum class CibaOutcome { approve, deny, never };

struct CibaScript {
    CibaOutcome outcome = CibaOutcome::approve;
    std::chrono::seconds approve_after{0}; // approve/deny take effect this long after the request
    int slow_down_on_poll = 0;             // 1-based poll number answered slow_down; 0 = none
};

[[nodiscard]] Result<CibaOutcome> ciba_outcome_from_name(std::string_view name);
[[nodiscard]] std::string_view ciba_outcome_name(CibaOutcome o) noexcept;
// {"outcome": "...", "approve_after": N, "slow_down_on_poll": k}; absent members keep `base`.
// Reasons: ciba_script (wrong types, negative numbers, unknown outcome).
[[nodiscard]] Result<CibaScript> parse_ciba_script(const json_object* obj, CibaScript base);

struct Identity {
    std::string idnat;
    std::string auth_mode; // "CARD" or "MOBILE"
    std::string sub;       // userinfo.sub: f:<uuid>:<idNat>
    std::string description;
    CibaScript ciba;
    std::string userinfo_json; // the document as loaded (sub and authMode set per session)
};

// Reasons: identity_json, identity_field (missing or wrong member), identity_dir,
// identity_duplicate, identity_none (a directory without identities).
[[nodiscard]] Result<Identity> parse_identity(std::string_view json);
[[nodiscard]] Result<std::map<std::string, Identity>> load_identities(const std::string& dir);

} // namespace psc::mock
