// SPDX-License-Identifier: LGPL-2.1-or-later
// What the user sees once a login has started: the address to open, a QR code of it, the CIBA
// binding code, the device user code — one PAM_TEXT_INFO message each.
#pragma once

#include "auth_api.hpp"
#include "messages.hpp"
#include "qr.hpp"

#include <string>
#include <vector>

namespace psc::pam {

struct DisplayStyle {
    Lang lang = Lang::both; // resolved
    bool show_qr = false;
    QrStyle qr_style = QrStyle::utf8;
};

// qr=on shows it, qr=off hides it, qr=auto shows it unless the user is remote (PAM_RHOST set):
// over SSH the URL is what can be clicked or copied (design §6).
[[nodiscard]] bool want_qr(QrMode mode, std::string_view rhost) noexcept;

struct DisplayLines {
    std::vector<std::string> messages;
    std::string qr_error; // why a wanted QR code was left out ("" = none)
};

// Strings in `d` are already display_safe().
[[nodiscard]] DisplayLines display_lines(const Display& d, const DisplayStyle& style);

} // namespace psc::pam
