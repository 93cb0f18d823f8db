// SPDX-License-Identifier: LGPL-2.1-or-later
// A QR code as terminal text (libqrencode). Light modules are drawn with the foreground colour
// and dark ones left as background, like `qrencode -t UTF8`: on the usual light-on-dark terminal
// that is a normal code, and phone scanners read the inverted one a light terminal shows.
#pragma once

#include "result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace psc::pam {

enum class QrStyle {
    utf8,  // half blocks: one character per module column, two module rows per line
    ascii, // "##"/"  " per module, one line per module row (twice as wide)
};

// Big enough for an authorization URL with PKCE, state and nonce; a longer payload would make a
// code no terminal can show.
inline constexpr std::size_t kMaxQrPayload = 1024;
inline constexpr int kQrMargin = 2; // quiet zone, in modules

// The code's lines, quiet zone included. Reasons: qr_empty, qr_too_long, qr_encode.
[[nodiscard]] Result<std::vector<std::string>> render_qr(std::string_view payload, QrStyle style);

// UTF-8 unless the first locale variable set (LC_ALL, LC_CTYPE, LANG: POSIX order) names
// another codeset ("C", "fr_FR.ISO-8859-15").
[[nodiscard]] QrStyle qr_style_for_locale(std::string_view lc_all, std::string_view lc_ctype,
                                          std::string_view lang);

} // namespace psc::pam
