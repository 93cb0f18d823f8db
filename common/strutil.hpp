// SPDX-License-Identifier: LGPL-2.1-or-later
// Small string helpers. Numbers are parsed with std::from_chars and explicit ranges, never atoi.
#pragma once

#include "result.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

[[nodiscard]] std::string_view trim(std::string_view s) noexcept;
// Splits on runs of ASCII whitespace; empty fields are dropped.
[[nodiscard]] std::vector<std::string> split_ws(std::string_view s);
[[nodiscard]] bool contains_control(std::string_view s) noexcept;
// Replaces ASCII control characters (and DEL) with '?', for text shown to a user or logged.
[[nodiscard]] std::string strip_control(std::string_view s);
// ASCII-only lower case (locale-independent: protocol tokens, host names, media types).
[[nodiscard]] std::string ascii_lower(std::string_view s);
// Escapes & < > " ' for HTML text and attribute values.
[[nodiscard]] std::string html_escape(std::string_view s);

// Whole-string decimal integer in [lo, hi]; no sign for unsigned, no spaces, no trailing junk.
template <class Int>
[[nodiscard]] Result<Int> parse_int(std::string_view s, Int lo, Int hi) {
    Int v{};
    if (s.empty())
        return make_error(Errc::invalid, "number", "empty number");
    if (s.front() == '+')
        return make_error(Errc::invalid, "number", "\"" + std::string(s) + "\" is not a number");
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && p == s.data() + s.size() && (v < lo || v > hi)))
        return make_error(Errc::invalid, "number_range",
                          "\"" + std::string(s) + "\" is out of range [" + std::to_string(lo) +
                              ", " + std::to_string(hi) + "]");
    if (ec != std::errc() || p != s.data() + s.size())
        return make_error(Errc::invalid, "number", "\"" + std::string(s) + "\" is not a number");
    return v;
}

} // namespace psc
