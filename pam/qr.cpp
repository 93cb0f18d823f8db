// SPDX-License-Identifier: LGPL-2.1-or-later
#include "qr.hpp"

#include "owned.hpp"
#include "strutil.hpp"

#include <qrencode.h>

namespace psc::pam {
namespace {

using QrPtr = Owned<QRcode, QRcode_free>;

// Module (x, y) of the code with the quiet zone around it; true = dark.
struct Grid {
    const QRcode& code;
    [[nodiscard]] int size() const noexcept { return code.width + 2 * kQrMargin; }
    [[nodiscard]] bool dark(int x, int y) const noexcept {
        x -= kQrMargin;
        y -= kQrMargin;
        if (x < 0 || y < 0 || x >= code.width || y >= code.width)
            return false;
        return (code.data[static_cast<std::size_t>(y) * static_cast<std::size_t>(code.width) +
                          static_cast<std::size_t>(x)] &
                1) != 0;
    }
};

std::vector<std::string> draw_utf8(const Grid& g) {
    std::vector<std::string> lines;
    for (int y = 0; y < g.size(); y += 2) {
        std::string line;
        for (int x = 0; x < g.size(); ++x) {
            const bool top = !g.dark(x, y);
            const bool bottom = y + 1 < g.size() ? !g.dark(x, y + 1) : false;
            if (top && bottom)
                line += "\u2588"; // █
            else if (top)
                line += "\u2580"; // ▀
            else if (bottom)
                line += "\u2584"; // ▄
            else
                line += ' ';
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

std::vector<std::string> draw_ascii(const Grid& g) {
    std::vector<std::string> lines;
    for (int y = 0; y < g.size(); ++y) {
        std::string line;
        for (int x = 0; x < g.size(); ++x)
            line += g.dark(x, y) ? "  " : "##";
        lines.push_back(std::move(line));
    }
    return lines;
}

bool says_utf8(std::string_view locale) {
    const std::string l = ascii_lower(locale);
    return l.find("utf-8") != std::string::npos || l.find("utf8") != std::string::npos;
}

} // namespace

Result<std::vector<std::string>> render_qr(std::string_view payload, QrStyle style) {
    if (payload.empty())
        return make_error(Errc::invalid, "qr_empty", "nothing to encode");
    if (payload.size() > kMaxQrPayload)
        return make_error(Errc::invalid, "qr_too_long",
                          "QR payload of " + std::to_string(payload.size()) + " bytes");
    // Byte mode, lowest error correction: the smallest code for a URL on a screen (no damage to
    // recover from).
    QrPtr code(QRcode_encodeData(static_cast<int>(payload.size()),
                                 reinterpret_cast<const unsigned char*>(payload.data()), 0,
                                 QR_ECLEVEL_L));
    if (!code || code->width <= 0)
        return make_error(Errc::internal, "qr_encode", "libqrencode could not encode the payload");
    const Grid g{*code};
    return style == QrStyle::utf8 ? draw_utf8(g) : draw_ascii(g);
}

QrStyle qr_style_for_locale(std::string_view lc_all, std::string_view lc_ctype,
                            std::string_view lang) {
    for (std::string_view v : {lc_all, lc_ctype, lang})
        if (!v.empty())
            return says_utf8(v) ? QrStyle::utf8 : QrStyle::ascii;
    // No locale at all: sshd and display managers started by systemd usually have LANG, and a
    // terminal without UTF-8 is rare enough today that the compact code is the better bet.
    return QrStyle::utf8;
}

} // namespace psc::pam
