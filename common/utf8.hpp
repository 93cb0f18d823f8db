// SPDX-License-Identifier: LGPL-2.1-or-later
// One UTF-8 decoder for everything that reads text from outside (config lines, URLs, provider
// text shown at the prompt or in a page): RFC 3629 shortest form, no surrogates, nothing above
// U+10FFFF. Two decoders that disagree on one byte sequence are a classic source of bugs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace psc {

// Decodes the sequence at s[i]: its length in bytes (1–4) and its code point, or 0 when the
// bytes there are not well-formed UTF-8.
[[nodiscard]] std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept;
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// Characters that change how text reads without being seen: bidirectional overrides and
// isolates (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C: "Trojan Source"), zero-width
// characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), and the line/paragraph separators
// U+2028/U+2029. Provider text never reaches a prompt, a page or a log with them.
[[nodiscard]] bool is_invisible_format(std::uint32_t cp) noexcept;

} // namespace psc
