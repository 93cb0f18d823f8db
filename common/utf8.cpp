// SPDX-License-Identifier: LGPL-2.1-or-later
#include "utf8.hpp"

namespace psc {

std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 1, cp = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 2, cp = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 3, cp = c & 0x07u, min = 0x10000;
    else
        return 0; // a continuation byte, overlong 0xC0/0xC1, or above U+10FFFF
    if (i + n >= s.size())
        return 0; // truncated
    for (std::size_t k = 1; k <= n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n + 1;
}

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_decode(s, i, cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool is_invisible_format(std::uint32_t cp) noexcept {
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0x061C ||
           cp == 0xFEFF || cp == 0x2028 || cp == 0x2029;
}

} // namespace psc
