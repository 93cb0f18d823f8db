// SPDX-License-Identifier: LGPL-2.1-or-later
// The HTML around mock-psc's pages (login, device verification, demo), styled after PSC's wallet.
// Every value placed in a page goes through html_escape().
#pragma once

#include "identities.hpp"

#include <map>
#include <string>
#include <string_view>

namespace psc::mock {

// A complete document; body_html is trusted markup built by the caller.
[[nodiscard]] std::string html_page(std::string_view title, std::string_view body_html);
// The <select> options of the known identities (value = idNat, label = name and profession).
[[nodiscard]] std::string identity_options(const std::map<std::string, Identity>& ids);
// The "Carte CPS" / "e-CPS" radio buttons, `checked` = "CARD" or "MOBILE".
[[nodiscard]] std::string auth_mode_choice(std::string_view checked);

} // namespace psc::mock
