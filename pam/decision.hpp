// SPDX-License-Identifier: LGPL-2.1-or-later
// The daemon's "yes" for one user, kept on the PAM handle from `auth` to `account` and `session`
// (pam_set_data), keyed by module and user: "pam_psc_decision:<user>". The last decision is also
// kept under "pam_psc_decision" so `account` can tell "authenticated as someone else" (a user name
// switched between the calls) from "not authenticated by pam_psc at all".
#pragma once

#include "pam_args.hpp"

#include <security/pam_modules.h>
#include <string>
#include <string_view>

namespace psc::pam {

struct Decision {
    std::string user, idnat, profession, auth_mode;
    std::string session_ticket; // for the session record (OpenSession/CloseSession), "" if none
};

inline constexpr std::string_view kDecisionKey = "pam_psc_decision";
[[nodiscard]] std::string decision_key(std::string_view user);

// Both keys; PAM_SUCCESS or pam_set_data's error.
[[nodiscard]] int store_decision(pam_handle_t* pamh, const Decision& d);
// Forgets any earlier decision (a new `auth` on the same handle starts from nothing).
void clear_decisions(pam_handle_t* pamh) noexcept;
// nullptr when none.
[[nodiscard]] const Decision* find_decision(pam_handle_t* pamh, std::string_view key);

// `account` from what `auth` left: PAM_SUCCESS only with a decision for `user`; PAM_PERM_DENIED
// when the last decision was for another user; with none, PAM_IGNORE (account=ignore: another
// module authenticated, e.g. an SSH key or the break-glass line, and this module has nothing to
// add) or PAM_PERM_DENIED (account=require).
[[nodiscard]] int account_result(const Decision* for_user, const Decision* last,
                                 std::string_view user, AccountMode mode) noexcept;

} // namespace psc::pam
