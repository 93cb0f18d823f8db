// SPDX-License-Identifier: LGPL-2.1-or-later
// username_template (design §4): local account names generated from the idNat for fleets.
// Shared by the config loader (which checks the template), the daemon (which expands it, and
// inverts it to find the idNat of a PAM user before any provider contact) and pscctl, so all agree
// on the placeholders. A template holds exactly one of:
//   {idnat}         the identity claim as sent
//   {idnat_lower}   the same in lower case          (idNats holding no lower-case letter only)
//   {idnat_digits}  the same, all digits            (all-digit idNats only: 8+RPPS, 0+ADELI)
//   {rpps}          the 11-digit RPPS number        (8+RPPS idNats only)
//
// Injectivity (design §4): two idNats never yield one account name. Each placeholder is one-to-one
// on the idNats it accepts, and an idNat it cannot represent whole is refused (template_lossy,
// template_no_rpps, template_invalid_name) instead of being squeezed into a name someone else's
// idNat also gives. Hence every generated name has exactly one idNat, which
// username_template_idnat() computes.
#pragma once

#include "result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace psc {

// Whether `placeholder` (with braces, e.g. "{idnat}") is one of the above.
[[nodiscard]] bool is_username_template_placeholder(std::string_view placeholder) noexcept;

// Expands the template and checks the strict rule for generated names: lower-case, starts with a
// letter, at most 32 characters of [a-z0-9_-] (so no '.', '/', ':'). Reasons: template_syntax,
// template_variable (Errc::config); template_no_rpps, template_lossy, template_invalid_name
// (Errc::unknown_user: this identity has no generated account).
[[nodiscard]] Result<std::string> expand_username_template(std::string_view tmpl,
                                                           std::string_view idnat);

// The inverse: the one idNat whose expansion is `user`, or nullopt when the template cannot
// produce that name (the account is not one the template manages).
[[nodiscard]] std::optional<std::string> username_template_idnat(std::string_view tmpl,
                                                                std::string_view user);

// One line for operators (pscctl check-config, pscctl map): which idNat forms get an account.
[[nodiscard]] std::string describe_username_template(std::string_view tmpl);

} // namespace psc
