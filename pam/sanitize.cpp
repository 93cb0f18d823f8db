// SPDX-License-Identifier: LGPL-2.1-or-later
#include "sanitize.hpp"

#include <algorithm>

namespace psc::pam {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2))
            return 0;
        if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3))
            return 0;
        if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

} // namespace

std::string display_safe(std::string_view s, std::size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max));
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = utf8_len(s, i);
        const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
        const bool bad = n == 0 || c1 || c < 0x20 || c == 0x7F;
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
