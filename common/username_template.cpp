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

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool all_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// The rule for names we *generate*: nothing a shell, a path or NSS could misread.
bool valid_generated_username(std::string_view s) noexcept {
    if (s.empty() || s.size() > kMaxUsername || s.front() < 'a' || s.front() > 'z')
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
    });
}

Error lossy(std::string_view var, std::string_view why) {
    return make_error(Errc::unknown_user, "template_lossy",
                      std::string(var) + " cannot represent this idNat whole (" +
                          std::string(why) + "), so it gets no generated account");
}

Result<std::string> expand_placeholder(std::string_view var, std::string_view idnat) {
    if (var == "{idnat}")
        return std::string(idnat);
    if (var == "{idnat_lower}") {
        // Lower-casing is one-to-one only on strings without lower-case letters: "ANS1" and
        // "ans1" would otherwise share an account.
        if (std::any_of(idnat.begin(), idnat.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            return lossy(var, "it already has lower-case letters");
        return ascii_lower(idnat);
    }
    if (var == "{idnat_digits}") {
        // Keeping only the digits would merge "2A0001/X1" and "2B0001/X1" (Corsican FINESS).
        if (!all_digits(idnat))
            return lossy(var, "it is not all digits");
        return std::string(idnat);
    }
    if (var == "{rpps}") {
        // RPPS idNat is "8" + the 11-digit RPPS number; other forms have no RPPS.
        if (idnat.size() != 12 || idnat.front() != '8' || !all_digits(idnat))
            return make_error(Errc::unknown_user, "template_no_rpps",
                              "identity has no RPPS number for {rpps} (only 8 + 11 digits)");
        return std::string(idnat.substr(1));
    }
    return make_error(Errc::config, "template_variable",
                      "unknown placeholder " + std::string(var) + " in username_template");
}

struct TemplateParts {
    std::string_view prefix, placeholder, suffix;
};

// Exactly one {...} (whether it is a known placeholder is expand_placeholder's to say).
std::optional<TemplateParts> split_template(std::string_view tmpl) {
    const std::size_t open = tmpl.find('{');
    if (open == std::string_view::npos)
        return std::nullopt;
    const std::size_t close = tmpl.find('}', open);
    if (close == std::string_view::npos)
        return std::nullopt;
    TemplateParts p{tmpl.substr(0, open), tmpl.substr(open, close - open + 1),
                    tmpl.substr(close + 1)};
    if (p.suffix.find('{') != std::string_view::npos)
        return std::nullopt;
    return p;
}

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return out;
}

} // namespace

bool is_username_template_placeholder(std::string_view placeholder) noexcept {
    return std::find(kPlaceholders.begin(), kPlaceholders.end(), placeholder) !=
           kPlaceholders.end();
}

Result<std::string> expand_username_template(std::string_view tmpl, std::string_view idnat) {
    // Exactly one placeholder, checked here too and not only by the config loader: a template
    // without one would give every idNat the same account.
    const auto parts = split_template(tmpl);
    if (!parts)
        return make_error(Errc::config, "template_syntax",
                          "username_template needs exactly one placeholder ({idnat}, "
                          "{idnat_lower}, {idnat_digits} or {rpps})");
    auto part = expand_placeholder(parts->placeholder, idnat);
    if (!part)
        return std::move(part).error();
    const std::string out = std::string(parts->prefix) + *part + std::string(parts->suffix);
    // Never truncated: a cut name could equal another idNat's.
    if (!valid_generated_username(out))
        return make_error(Errc::unknown_user, "template_invalid_name",
                          "generated name \"" + strip_control(out) +
                              "\" breaks the rule (lower-case, starts with a letter, at most 32 "
                              "characters of a-z 0-9 _ -)");
    return out;
}

std::optional<std::string> username_template_idnat(std::string_view tmpl, std::string_view user) {
    const auto parts = split_template(tmpl);
    if (!parts || user.size() < parts->prefix.size() + parts->suffix.size() ||
        user.substr(0, parts->prefix.size()) != parts->prefix ||
        user.substr(user.size() - parts->suffix.size()) != parts->suffix)
        return std::nullopt;
    const std::string_view middle =
        user.substr(parts->prefix.size(), user.size() - parts->prefix.size() - parts->suffix.size());
    std::string idnat;
    if (parts->placeholder == "{rpps}")
        idnat = "8" + std::string(middle);
    else if (parts->placeholder == "{idnat_lower}")
        idnat = ascii_upper(middle); // accepted idNats have no lower-case letter
    else
        idnat = std::string(middle);
    // The round trip decides: only a name the template really produces has an idNat.
    auto again = expand_username_template(tmpl, idnat);
    if (!again || *again != user)
        return std::nullopt;
    return idnat;
}

std::string describe_username_template(std::string_view tmpl) {
    const auto parts = split_template(tmpl);
    if (!parts || !is_username_template_placeholder(parts->placeholder))
        return "invalid template";
    const std::string t(tmpl);
    if (parts->placeholder == "{rpps}") {
        const auto example = expand_username_template(tmpl, "810001234567");
        return t + ": 8+RPPS idNats only" +
               (example ? " (810001234567 → " + *example + ")" : std::string()) +
               "; other forms are refused";
    }
    if (parts->placeholder == "{idnat_digits}")
        return t + ": all-digit idNats only (8+RPPS, 0+ADELI); structure and sandbox ids are "
                   "refused";
    if (parts->placeholder == "{idnat_lower}")
        return t + ": idNats without lower-case letters that make a valid name (no '/'); "
                   "structure ids are refused";
    return t + ": idNats that are already valid lower-case names; others are refused";
}

} // namespace psc
