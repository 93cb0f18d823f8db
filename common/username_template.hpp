// SPDX-License-Identifier: LGPL-2.1-or-later
// username_template (SPEC §4): local account names generated from the idNat for fleets.
// Shared by the config loader (which checks the template) and the daemon (which expands it), so
// both agree on the placeholders:
//   {idnat}         the identity claim as sent          (8 + RPPS, 0 + ADELI, 5…/…, ANS…)
//   {idnat_lower}   the same in lower case
//   {idnat_digits}  its digits only
//   {rpps}          the 11-digit RPPS number of an 8-prefixed idNat (others have none)
#pragma once

#include "result.hpp"

#include <string>
#include <string_view>

namespace psc {

// Whether `placeholder` (with braces, e.g. "{idnat}") is one of the above.
[[nodiscard]] bool is_username_template_placeholder(std::string_view placeholder) noexcept;

// Expands the template and checks the strict rule for generated names: lower-case, starts with a
// letter, at most 32 characters of [a-z0-9_-] (so no '.', '/', ':'). Reasons: template_syntax,
// template_variable (Errc::config); template_no_rpps, template_invalid_name (Errc::unknown_user:
// this identity has no valid generated account).
[[nodiscard]] Result<std::string> expand_username_template(std::string_view tmpl,
                                                           std::string_view idnat);

} // namespace psc
