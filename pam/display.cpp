// SPDX-License-Identifier: LGPL-2.1-or-later
#include "display.hpp"

namespace psc::pam {

bool want_qr(QrMode mode, std::string_view rhost) noexcept {
    switch (mode) {
    case QrMode::on:
        return true;
    case QrMode::off:
        return false;
    case QrMode::automatic:
        break;
    }
    return rhost.empty();
}

DisplayLines display_lines(const Display& d, const DisplayStyle& style) {
    DisplayLines out;
    if (!d.url.empty())
        out.messages.push_back(text(Msg::open_url, style.lang) + "\n" + d.url);
    const std::string& payload = d.qr.empty() ? d.url : d.qr;
    if (style.show_qr && !payload.empty()) {
        auto qr = render_qr(payload, style.qr_style);
        if (qr) {
            std::string block = text(Msg::scan_qr, style.lang);
            for (const auto& line : *qr)
                block += "\n" + line;
            out.messages.push_back(std::move(block));
        } else {
            out.qr_error = qr.error().describe();
        }
    }
    // The binding code is what tells this request from someone else's push on the phone
    // (CIBA §7.1 binding_message): on a line of its own, set apart.
    if (!d.binding_code.empty()) {
        out.messages.push_back(text(Msg::ciba_code, style.lang, ">> " + d.binding_code + " <<"));
        out.messages.push_back(text(Msg::ciba_approve, style.lang));
    }
    if (!d.user_code.empty())
        out.messages.push_back(text(Msg::device_code, style.lang, d.user_code));
    return out;
}

} // namespace psc::pam
