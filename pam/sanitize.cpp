// SPDX-License-Identifier: LGPL-2.1-or-later
#include "sanitize.hpp"

#include "utf8.hpp"

#include <algorithm>

namespace psc::pam {

std::string display_safe(std::string_view s, std::size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max));
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_decode(s, i, cp);
        // Invalid bytes, C0/C1 controls, DEL, and characters that change how the line reads
        // without being seen (bidi overrides, zero-width): a "?" each, never interpreted.
        const bool bad = n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible_format(cp);
        const std::size_t width = bad ? 1 : n; // bytes appended
        if (out.size() + width > max)
            break;
        if (bad)
            out.push_back('?');
        else
            out.append(s.substr(i, n));
        i += n == 0 ? 1 : n; // a C1 control is one '?' for its two bytes
    }
    return out;
}

} // namespace psc::pam
