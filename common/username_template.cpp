// SPDX-License-Identifier: LGPL-2.1-or-later
#include "username_template.hpp"

#include "strutil.hpp"

#include <algorithm>
#include <array>

namespace psc {
namespace {

constexpr std::size_t kMaxUsername = 32;
constexpr std::array<std::string_view, 4> kPlaceholders = {"{idnat}", "{idnat_lower}",
                                                           "{idnat_digits}", "{rpps}"};

// The rule for names we *generate*: nothing a shell, a path or NSS could misread.
bool valid_generated_username(std::string_view s) noexcept {
    if (s.empty() || s.size() > kMaxUsername || s.front() < 'a' || s.front() > 'z')
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

Result<std::string> expand_placeholder(std::string_view var, std::string_view idnat) {
    std::string digits;
    for (char c : idnat)
        if (c >= '0' && c <= '9')
            digits += c;
    if (var == "{idnat}")
        return std::string(idnat);
    if (var == "{idnat_lower}")
        return ascii_lower(idnat);
    if (var == "{idnat_digits}")
        return digits;
    if (var == "{rpps}") {
        // RPPS idNat is "8" + the 11-digit RPPS number (PSC.md); other forms have no RPPS.
        if (idnat.size() != 12 || idnat.front() != '8' || digits.size() != 12)
            return make_error(Errc::unknown_user, "template_no_rpps",
                              "identity has no RPPS number for {rpps}");
        return std::string(idnat.substr(1));
    }
    return make_error(Errc::config, "template_variable",
                      "unknown placeholder " + std::string(var) + " in username_template");
}

} // namespace

bool is_username_template_placeholder(std::string_view placeholder) noexcept {
    return std::find(kPlaceholders.begin(), kPlaceholders.end(), placeholder) !=
           kPlaceholders.end();
}

Result<std::string> expand_username_template(std::string_view tmpl, std::string_view idnat) {
    std::string out;
    for (std::size_t i = 0; i < tmpl.size();) {
        if (tmpl[i] != '{') {
            out += tmpl[i++];
            continue;
        }
        const std::size_t close = tmpl.find('}', i);
        if (close == std::string_view::npos)
            return make_error(Errc::config, "template_syntax", "unclosed '{' in username_template");
        auto part = expand_placeholder(tmpl.substr(i, close - i + 1), idnat);
        if (!part)
            return std::move(part).error();
        out += *part;
        i = close + 1;
    }
    if (!valid_generated_username(out))
        return make_error(Errc::unknown_user, "template_invalid_name",
                          "generated name \"" + strip_control(out) +
                              "\" breaks the rule (lower-case, starts with a letter, at most 32 "
                              "characters of a-z 0-9 _ -)");
    return out;
}

} // namespace psc
