// SPDX-License-Identifier: LGPL-2.1-or-later
// The keys of psc-login.conf(5): one table row per key, with its value syntax. Cross-key rules
// live in config_validate.cpp.
#include "config_internal.hpp"
#include "config_values.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace psc::config_detail {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::string q(std::string_view s) {
    return "\"" + strip_control(s) + "\"";
}

Error unknown_value(std::string_view key, std::string_view v, std::string_view expected) {
    return make_error(Errc::config, "unknown_value",
                      "unknown value " + q(v) + " for " + std::string(key) + " (expected " +
                          std::string(expected) + ")");
}

template <class E, std::size_t N>
Result<E> parse_enum(std::string_view key, std::string_view v,
                     const std::array<std::pair<std::string_view, E>, N>& names,
                     std::string_view expected) {
    for (const auto& [name, e] : names)
        if (name == v)
            return e;
    return unknown_value(key, v, expected);
}

// The implicit and hybrid flows (any response_type returning a token from the authorization
// endpoint) are never offered: the tokens would travel through the browser, where they can leak
// (history, referrer, logs) or be injected, and cannot be bound to this client (RFC 9700
// §2.1.2). Asked for by name, they get this explanation rather than "unknown value".
Error implicit_refused(std::string_view key, std::string_view v) {
    return make_error(Errc::config, "flow_refused",
                      std::string(key) + " = " + q(v) +
                          " is refused: the implicit and hybrid flows return tokens through the "
                          "browser, where they can leak or be injected (RFC 9700 section 2.1.2); "
                          "psc-login uses the authorization code flow with PKCE (code), CIBA or "
                          "the device grant");
}

bool names_front_channel_token(std::string_view v) {
    for (const auto& tok : split_ws(v))
        if (tok == "implicit" || tok == "hybrid" || tok == "token" || tok == "id_token")
            return true;
    return false;
}

Result<std::vector<Flow>> parse_flows(std::string_view key, std::string_view v) {
    static constexpr std::array<std::pair<std::string_view, Flow>, 3> kNames = {
        {{"code", Flow::code}, {"ciba", Flow::ciba}, {"device", Flow::device}}};
    std::vector<Flow> out;
    for (const auto& tok : split_ws(v)) {
        if (names_front_channel_token(tok))
            return implicit_refused(key, tok);
        auto f = parse_enum(key, tok, kNames, "code, ciba or device");
        if (!f)
            return std::move(f).error();
        if (std::find(out.begin(), out.end(), *f) == out.end())
            out.push_back(*f);
    }
    if (out.empty())
        return make_error(Errc::config, "empty_value",
                          std::string(key) + " must name at least one of code, ciba, device");
    return out;
}

Result<CibaChannel> parse_channel(std::string_view key, std::string_view v) {
    static constexpr std::array<std::pair<std::string_view, CibaChannel>, 2> kNames = {
        {{"MOBILE", CibaChannel::mobile}, {"CARD", CibaChannel::card}}};
    return parse_enum(key, v, kNames, "MOBILE or CARD");
}

// Empty = no requirement (lets a [service:NAME] section lift a global one).
Result<std::optional<AuthMode>> parse_auth_mode(std::string_view key, std::string_view v) {
    static constexpr std::array<std::pair<std::string_view, AuthMode>, 2> kNames = {
        {{"CARD", AuthMode::card}, {"MOBILE", AuthMode::mobile}}};
    if (v.empty())
        return std::optional<AuthMode>{};
    auto m = parse_enum(key, v, kNames, "CARD or MOBILE");
    if (!m)
        return std::move(m).error();
    return std::optional<AuthMode>{*m};
}

// codeProfession values are two digits (docs/pro-sante-connect.md, "Profession codes").
Result<std::vector<std::string>> parse_professions(std::string_view key, std::string_view v) {
    auto list = split_ws(v);
    for (const auto& p : list)
        if (p.size() != 2 || !std::isdigit(static_cast<unsigned char>(p[0])) ||
            !std::isdigit(static_cast<unsigned char>(p[1])))
            return make_error(Errc::config, "bad_profession",
                              "invalid profession code " + q(p) + " in " + std::string(key) +
                                  " (expected two digits, e.g. 10 21 60)");
    return list;
}

Result<std::vector<char>> parse_categories(std::string_view key, std::string_view v) {
    std::vector<char> out;
    for (const auto& c : split_ws(v)) {
        if (c.size() != 1 || c[0] < 'A' || c[0] > 'Z')
            return make_error(Errc::config, "bad_category",
                              "invalid category " + q(c) + " in " + std::string(key) +
                                  " (expected single capital letters, e.g. E)");
        out.push_back(c[0]);
    }
    return out;
}

Result<std::vector<std::string>> parse_idnats(std::string_view key, std::string_view v) {
    auto list = split_ws(v);
    for (const auto& id : list)
        if (id.size() > 64 || !std::all_of(id.begin(), id.end(), [](char c) {
                return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
            }))
            return make_error(Errc::config, "bad_idnat",
                              "invalid idNat " + q(id) + " in " + std::string(key));
    return list;
}

Status check_user_names(std::string_view key, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        const bool ok =
            n.size() <= 32 && n.front() != '-' && std::all_of(n.begin(), n.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                       c == '.';
            });
        if (!ok)
            return make_error(Errc::config, "bad_user_name",
                              "invalid user name " + q(n) + " in " + std::string(key));
    }
    return {};
}

// RFC 6749 §3.3 scope-token characters; OpenID Connect requires "openid" (Core §3.1.2.1).
Status check_scopes(std::string_view key, const std::vector<std::string>& scopes) {
    for (const auto& s : scopes)
        for (char c : s)
            if (c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f)
                return make_error(Errc::config, "bad_scope",
                                  "invalid scope " + q(s) + " in " + std::string(key));
    if (std::find(scopes.begin(), scopes.end(), "openid") == scopes.end())
        return make_error(Errc::config, "scopes_no_openid",
                          std::string(key) + " must include \"openid\"");
    return {};
}

Status check_algs(std::string_view key, const std::vector<std::string>& algs) {
    if (algs.empty())
        return make_error(Errc::config, "empty_value", std::string(key) + " must not be empty");
    for (const auto& a : algs) {
        if (a == "none")
            return make_error(Errc::config, "alg_none",
                              std::string(key) + ": \"none\" (unsigned tokens) is never allowed");
        if (!is_known_jose_alg(a))
            return make_error(Errc::config, "alg_unknown",
                              "unknown algorithm " + q(a) + " in " + std::string(key) +
                                  " (expected RS256, PS256, ES256, EdDSA, HS256, ...)");
    }
    return {};
}

Status check_claim(std::string_view key, std::string_view v, bool allow_empty) {
    const bool ok = (allow_empty || !v.empty()) && v.size() <= 128 &&
                    std::all_of(v.begin(), v.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                               c == '-' || c == '.' || c == ':';
                    });
    if (!ok)
        return make_error(Errc::config, "bad_claim",
                          "invalid claim name " + q(v) + " for " + std::string(key));
    return {};
}

Status optional_path(std::string_view key, std::string_view v, std::string& out) {
    if (!v.empty())
        PSC_TRY(check_config_path(key, v));
    out = std::string(v);
    return {};
}

Status optional_url(std::string_view key, std::string_view v, std::string& out) {
    if (!v.empty())
        PSC_TRY(parse_config_url(key, v));
    out = std::string(v);
    return {};
}

template <class T, class U>
Status assign(Result<T> r, U& out) {
    if (!r)
        return std::move(r).error();
    out = std::move(*r);
    return {};
}

using Sv = std::string_view;
using GlobalFn = Status (*)(Config&, Sv key, Sv v);
using ServiceFn = Status (*)(ServiceOverride&, Sv key, Sv v);

struct KeyDef {
    Sv section;
    Sv key;
    GlobalFn apply;
    ServiceFn apply_service; // nullptr: not allowed in [service:NAME]
};

Status set_profile(Config& c, Sv, Sv v) {
    return assign(parse_profile(v), c.provider.profile);
}

Status set_auth_method(Config& c, Sv key, Sv v) {
    static constexpr std::array<std::pair<Sv, TokenAuthMethod>, 4> kNames = {
        {{"client_secret_basic", TokenAuthMethod::client_secret_basic},
         {"client_secret_post", TokenAuthMethod::client_secret_post},
         {"tls_client_auth", TokenAuthMethod::tls_client_auth},
         {"private_key_jwt", TokenAuthMethod::private_key_jwt}}};
    return assign(parse_enum(key, v, kNames,
                             "client_secret_basic, client_secret_post, tls_client_auth or "
                             "private_key_jwt"),
                  c.provider.token_auth_method);
}

// RFC 7523 client assertions are signed with the client's private key: no HMAC here.
Status set_assertion_alg(Config& c, Sv key, Sv v) {
    if (v == "none")
        return make_error(Errc::config, "alg_none",
                          std::string(key) + ": \"none\" is never allowed");
    if (!is_known_jose_alg(v) || is_hmac_jose_alg(v))
        return make_error(Errc::config, "alg_unknown",
                          "unknown algorithm " + q(v) + " for " + std::string(key) +
                              " (expected an asymmetric one: RS256, PS256, ES256, EdDSA, ...)");
    c.provider.client_assertion_alg = std::string(v);
    return {};
}

Status set_acr_missing(Config& c, Sv key, Sv v) {
    static constexpr std::array<std::pair<Sv, AcrMissing>, 2> kNames = {
        {{"accept", AcrMissing::accept}, {"reject", AcrMissing::reject}}};
    return assign(parse_enum(key, v, kNames, "accept or reject"), c.provider.acr_missing);
}

Status set_scopes(Config& c, Sv key, Sv v) {
    auto s = split_ws(v);
    PSC_TRY(check_scopes(key, s));
    c.provider.scopes = std::move(s);
    return {};
}

Status set_algs(Config& c, Sv key, Sv v) {
    auto a = split_ws(v);
    PSC_TRY(check_algs(key, a));
    c.provider.id_token_algs = std::move(a);
    return {};
}

// JWE key management (RFC 7518 §4.2-4.3); RSA1_5 must be named to be accepted.
Status set_decryption_algs(Config& c, Sv key, Sv v) {
    auto a = split_ws(v);
    if (a.empty())
        return make_error(Errc::config, "alg_list_empty", std::string(key) + " allows nothing");
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != "RSA-OAEP" && a[i] != "RSA-OAEP-256" && a[i] != "RSA1_5")
            return make_error(Errc::config, "alg_unknown",
                              "unknown algorithm " + q(a[i]) + " in " + std::string(key) +
                                  " (expected RSA-OAEP, RSA-OAEP-256 or RSA1_5)");
        if (std::find(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(i), a[i]) !=
            a.begin() + static_cast<std::ptrdiff_t>(i))
            return make_error(Errc::config, "alg_duplicate",
                              a[i] + " is listed twice in " + std::string(key));
    }
    c.provider.id_token_decryption_algs = std::move(a);
    return {};
}

Status set_max_age(Config& c, Sv key, Sv v) {
    if (v.empty()) {
        c.provider.max_age.reset();
        return {};
    }
    return assign(parse_duration(key, v, seconds(0), hours(24 * 7)), c.provider.max_age);
}

// "none" (or empty) = direct, whatever the environment says.
Status set_https_proxy(Config& c, Sv key, Sv v) {
    if (v.empty() || v == "none") {
        c.provider.https_proxy.clear();
        return {};
    }
    return assign(parse_proxy_url(key, v), c.provider.https_proxy);
}

// "name=value name2=value2": names of [A-Za-z0-9_.-], values of printable ASCII without spaces
// (percent-encoded when sent), each name once, none that psc-login sets itself.
Status set_extra_auth_params(Config& c, Sv key, Sv v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& item : split_ws(v)) {
        const auto eq = item.find('=');
        const std::string name = item.substr(0, eq);
        const bool name_ok =
            eq != std::string::npos && !name.empty() &&
            std::all_of(name.begin(), name.end(), [](char ch) {
                return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ||
                       ch == '.';
            });
        if (!name_ok || item.size() == eq + 1)
            return make_error(Errc::config, "bad_auth_param",
                              "invalid item " + q(item) + " in " + std::string(key) +
                                  " (expected name=value, e.g. kc_idp_hint=psc)");
        if (ascii_lower(name) == "response_type" && names_front_channel_token(item.substr(eq + 1)))
            return implicit_refused(key, item);
        if (is_reserved_auth_param(name))
            return make_error(Errc::config, "auth_param_reserved",
                              std::string(key) + " may not set " + q(name) +
                                  ": psc-login sets it itself, or it would change the flow");
        if (std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.first == name; }))
            return make_error(Errc::config, "bad_auth_param",
                              q(name) + " appears twice in " + std::string(key));
        out.emplace_back(name, item.substr(eq + 1));
    }
    c.provider.extra_auth_params = std::move(out);
    return {};
}

Status set_listen(Config& c, Sv key, Sv v) {
    auto l = parse_listen(key, v);
    if (!l)
        return std::move(l).error();
    c.callback.listen_host = l->host;
    c.callback.listen_port = l->port;
    c.callback.listen_ipv6 = l->ipv6;
    return {};
}

Status set_template(Config& c, Sv key, Sv v) {
    if (!v.empty())
        PSC_TRY(check_username_template(key, v));
    c.mapping.username_template = std::string(v);
    return {};
}

Status set_source(Config& c, Sv key, Sv v) {
    static constexpr std::array<std::pair<std::string_view, MappingSource>, 4> kNames = {
        {{"file", MappingSource::file},
         {"template", MappingSource::template_},
         {"ldap", MappingSource::ldap},
         {"sssd", MappingSource::sssd}}};
    return assign(parse_enum(key, v, kNames, "file, template, ldap or sssd"), c.mapping.source);
}

// An LDAP attribute description: a name (RFC 4512 descr) or a numeric OID.
Status check_ldap_attribute(Sv key, Sv v) {
    bool ok = !v.empty() && v.size() <= 64;
    const bool oid = ok && std::isdigit(static_cast<unsigned char>(v.front()));
    for (std::size_t i = 0; ok && i < v.size(); ++i) {
        const auto ch = static_cast<unsigned char>(v[i]);
        ok = oid ? (std::isdigit(ch) || ch == '.')
                 : (std::isalnum(ch) || (ch == '-' && i > 0));
    }
    if (!ok || (!oid && !std::isalpha(static_cast<unsigned char>(v.front()))))
        return make_error(Errc::config, "ldap_attribute",
                          std::string(key) + " " + q(v) +
                              " is not an LDAP attribute name (letters, digits, '-'; or an OID)");
    return {};
}

// ldap_filter: one parenthesised filter holding {idnat}, parentheses balanced, no other braces.
Status check_ldap_filter(Sv key, Sv v) {
    auto bad = [&](std::string_view why) {
        return make_error(Errc::config, "ldap_filter",
                          std::string(key) + " " + q(v) + ": " + std::string(why));
    };
    if (v.size() < 2 || v.front() != '(' || v.back() != ')')
        return bad("must be one filter in parentheses, e.g. (employeeNumber={idnat})");
    if (v.find("{idnat}") == Sv::npos)
        return bad("must contain {idnat}, where the escaped idNat goes");
    int depth = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char ch = v[i];
        if (ch == '(')
            ++depth;
        else if (ch == ')' && --depth < 0)
            return bad("unbalanced parentheses");
        else if (ch == '{' && v.substr(i, 7) != "{idnat}")
            return bad("the only placeholder is {idnat}");
        else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            return bad("control characters are not allowed");
        if (depth == 0 && i + 1 < v.size())
            return bad("must be one filter: wrap several in (&...)");
    }
    if (depth != 0)
        return bad("unbalanced parentheses");
    return {};
}

Status set_ldap_uris(Config& c, Sv key, Sv v) {
    auto uris = split_ws(v);
    if (uris.empty())
        return make_error(Errc::config, "empty_value", std::string(key) + " must name a server");
    for (const auto& u : uris) {
        const bool scheme = u.rfind("ldap://", 0) == 0 || u.rfind("ldaps://", 0) == 0 ||
                            u.rfind("ldapi://", 0) == 0;
        const bool clean = std::none_of(u.begin(), u.end(), [](char ch) {
            return static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f || ch == ',';
        });
        if (!scheme || !clean)
            return make_error(Errc::config, "ldap_uri",
                              std::string(key) + " " + q(u) +
                                  " is not an LDAP address: ldaps://host[:port], ldap://host[:port] "
                                  "(StartTLS) or ldapi://");
    }
    c.mapping.ldap.uris = std::move(uris);
    return {};
}

Status set_system_users(Config& c, Sv key, Sv v) {
    auto n = split_ws(v);
    PSC_TRY(check_user_names(key, n));
    c.mapping.allow_system_users = std::move(n);
    return {};
}

const KeyDef kKeys[] = {
    {"provider", "profile", set_profile, nullptr},
    {"provider", "issuer",
     [](Config& c, Sv k, Sv v) { return optional_url(k, v, c.provider.issuer); }, nullptr},
    {"provider", "discovery_url",
     [](Config& c, Sv k, Sv v) { return optional_url(k, v, c.provider.discovery_url); }, nullptr},
    {"provider", "metadata_file",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.metadata_file); }, nullptr},
    {"provider", "client_id",
     [](Config& c, Sv, Sv v) -> Status {
         c.provider.client_id = std::string(v);
         return {};
     },
     nullptr},
    {"provider", "client_secret_file",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.client_secret_file); },
     nullptr},
    {"provider", "token_auth_method", set_auth_method, nullptr},
    {"provider", "tls_client_cert",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.tls_client_cert); },
     nullptr},
    {"provider", "tls_client_key",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.tls_client_key); }, nullptr},
    {"provider", "client_assertion_key",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.client_assertion_key); },
     nullptr},
    {"provider", "client_assertion_alg", set_assertion_alg, nullptr},
    {"provider", "ca_file",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.ca_file); }, nullptr},
    {"provider", "scopes", set_scopes, nullptr},
    {"provider", "acr_values",
     [](Config& c, Sv, Sv v) -> Status {
         c.provider.acr_values = split_ws(v);
         return {};
     },
     nullptr},
    {"provider", "acr_accept",
     [](Config& c, Sv, Sv v) -> Status {
         c.provider.acr_accept = split_ws(v);
         return {};
     },
     nullptr},
    {"provider", "acr_missing", set_acr_missing, nullptr},
    {"provider", "id_token_algs", set_algs, nullptr},
    {"provider", "id_token_decryption_key",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.id_token_decryption_key); },
     nullptr},
    {"provider", "id_token_decryption_algs", set_decryption_algs, nullptr},
    {"provider", "jwks_file",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.provider.jwks_file); }, nullptr},
    {"provider", "userinfo",
     [](Config& c, Sv k, Sv v) { return assign(parse_bool(k, v), c.provider.userinfo); }, nullptr},
    {"provider", "clock_skew",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(0), minutes(10)), c.provider.clock_skew);
     },
     nullptr},
    {"provider", "max_token_age",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(10), hours(24)), c.provider.max_token_age);
     },
     nullptr},
    {"provider", "max_age", set_max_age, nullptr},
    {"provider", "trusted_audiences",
     [](Config& c, Sv, Sv v) -> Status {
         c.provider.trusted_audiences = split_ws(v);
         return {};
     },
     nullptr},
    {"provider", "allow_insecure_http",
     [](Config& c, Sv k, Sv v) { return assign(parse_bool(k, v), c.provider.allow_insecure_http); },
     nullptr},
    {"provider", "http_connect_timeout",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(1), minutes(1)),
                       c.provider.http_connect_timeout);
     },
     nullptr},
    {"provider", "http_timeout",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(1), minutes(5)), c.provider.http_timeout);
     },
     nullptr},
    {"provider", "discovery_refresh",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, minutes(1), hours(24 * 7)),
                       c.provider.discovery_refresh);
     },
     nullptr},
    {"provider", "https_proxy", set_https_proxy, nullptr},
    {"provider", "no_proxy",
     [](Config& c, Sv k, Sv v) { return assign(parse_no_proxy(k, v), c.provider.no_proxy); },
     nullptr},
    {"provider", "extra_auth_params", set_extra_auth_params, nullptr},
    // Only "code" (what psc-login always sends): the key exists so that a configuration asking
    // for the implicit or hybrid flow is refused with the reason, not as an unknown key.
    {"provider", "response_type",
     [](Config&, Sv k, Sv v) -> Status {
         if (v == "code")
             return {};
         if (names_front_channel_token(v))
             return implicit_refused(k, v);
         return unknown_value(k, v, "code");
     },
     nullptr},
    {"provider", "jwks_refresh",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, minutes(1), hours(24 * 7)), c.provider.jwks_refresh);
     },
     nullptr},

    {"callback", "callback_listen", set_listen, nullptr},
    {"callback", "redirect_uri",
     [](Config& c, Sv k, Sv v) { return optional_url(k, v, c.callback.redirect_uri); }, nullptr},
    {"callback", "callback_tls_cert",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.callback.tls_cert); }, nullptr},
    {"callback", "callback_tls_key",
     [](Config& c, Sv k, Sv v) { return optional_path(k, v, c.callback.tls_key); }, nullptr},
    {"callback", "confirm_code",
     [](Config& c, Sv k, Sv v) {
         static constexpr std::array<std::pair<Sv, ConfirmCode>, 3> kNames = {
             {{"auto", ConfirmCode::automatic},
              {"always", ConfirmCode::always},
              {"never", ConfirmCode::never}}};
         return assign(parse_enum(k, v, kNames, "auto, always or never"), c.callback.confirm_code);
     },
     nullptr},
    {"callback", "backchannel_logout_action",
     [](Config& c, Sv k, Sv v) {
         static constexpr std::array<std::pair<Sv, BackchannelAction>, 3> kNames = {
             {{"none", BackchannelAction::none},
              {"lock", BackchannelAction::lock},
              {"terminate", BackchannelAction::terminate}}};
         return assign(parse_enum(k, v, kNames, "none, lock or terminate"),
                       c.callback.backchannel_logout_action);
     },
     nullptr},

    {"login", "flows",
     [](Config& c, Sv k, Sv v) { return assign(parse_flows(k, v), c.login.flows); },
     [](ServiceOverride& s, Sv k, Sv v) { return assign(parse_flows(k, v), s.flows); }},
    {"login", "timeout",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(10), hours(1)), c.login.timeout);
     },
     [](ServiceOverride& s, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(10), hours(1)), s.timeout);
     }},
    {"login", "ciba_channel",
     [](Config& c, Sv k, Sv v) { return assign(parse_channel(k, v), c.login.ciba_channel); },
     [](ServiceOverride& s, Sv k, Sv v) { return assign(parse_channel(k, v), s.ciba_channel); }},
    {"login", "logout_on_session_close",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_bool(k, v), c.login.logout_on_session_close);
     },
     [](ServiceOverride& s, Sv k, Sv v) { return assign(parse_bool(k, v), s.logout_on_session_close); }},
    {"login", "max_pending",
     [](Config& c, Sv k, Sv v) { return assign(parse_count(k, v, 1, 65536), c.login.max_pending); },
     nullptr},
    {"login", "max_pending_per_user",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_count(k, v, 1, 65536), c.login.max_pending_per_user);
     },
     nullptr},
    {"login", "max_pending_per_source",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_count(k, v, 1, 65536), c.login.max_pending_per_source);
     },
     nullptr},
    {"login", "ciba_push_burst",
     [](Config& c, Sv k, Sv v) { return assign(parse_count(k, v, 1, 100), c.login.ciba_push_burst); },
     nullptr},
    {"login", "ciba_push_interval",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(0), hours(1)), c.login.ciba_push_interval);
     },
     nullptr},
    {"login", "ciba_deny_cooldown",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(0), hours(24)), c.login.ciba_deny_cooldown);
     },
     nullptr},

    {"mapping", "identity_claim",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_claim(k, v, false));
         c.mapping.identity_claim = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "map_file",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_config_path(k, v));
         c.mapping.map_file = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "username_template", set_template, nullptr},
    {"mapping", "source", set_source, nullptr},
    {"mapping", "ldap_uri", set_ldap_uris, nullptr},
    {"mapping", "ldap_base",
     [](Config& c, Sv k, Sv v) -> Status {
         if (v.empty() || v.find('\n') != Sv::npos)
             return make_error(Errc::config, "empty_value", std::string(k) + " must name a DN");
         c.mapping.ldap.base = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_filter",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_ldap_filter(k, v));
         c.mapping.ldap.filter = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_idnat_attribute",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_ldap_attribute(k, v));
         c.mapping.ldap.idnat_attribute = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_user_attribute",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_ldap_attribute(k, v));
         c.mapping.ldap.user_attribute = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_ca_file",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_config_path(k, v));
         c.mapping.ldap.ca_file = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_bind_dn",
     [](Config& c, Sv k, Sv v) -> Status {
         if (v.empty())
             return make_error(Errc::config, "empty_value", std::string(k) + " must name a DN");
         c.mapping.ldap.bind_dn = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_bind_password_file",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_config_path(k, v));
         c.mapping.ldap.bind_password_file = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "ldap_timeout",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(1), minutes(1)), c.mapping.ldap.timeout);
     },
     nullptr},
    {"mapping", "ldap_cache_ttl",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(0), hours(1)), c.mapping.ldap.cache_ttl);
     },
     nullptr},
    {"mapping", "sssd_idnat_attribute",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_ldap_attribute(k, v));
         c.mapping.sssd.idnat_attribute = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "sssd_timeout",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(1), minutes(1)), c.mapping.sssd.timeout);
     },
     nullptr},
    {"mapping", "alias_claim",
     [](Config& c, Sv k, Sv v) -> Status {
         PSC_TRY(check_claim(k, v, true));
         c.mapping.alias_claim = std::string(v);
         return {};
     },
     nullptr},
    {"mapping", "min_uid",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_count(k, v, 100, 2147483647), c.mapping.min_uid);
     },
     nullptr},
    {"mapping", "allow_system_users", set_system_users, nullptr},
    {"mapping", "allow_professions",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_professions(k, v), c.mapping.authz.allow_professions);
     },
     [](ServiceOverride& s, Sv k, Sv v) {
         return assign(parse_professions(k, v), s.allow_professions);
     }},
    {"mapping", "deny_categories",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_categories(k, v), c.mapping.authz.deny_categories);
     },
     [](ServiceOverride& s, Sv k, Sv v) {
         return assign(parse_categories(k, v), s.deny_categories);
     }},
    {"mapping", "allow_idnat",
     [](Config& c, Sv k, Sv v) { return assign(parse_idnats(k, v), c.mapping.authz.allow_idnat); },
     [](ServiceOverride& s, Sv k, Sv v) { return assign(parse_idnats(k, v), s.allow_idnat); }},
    {"mapping", "require_auth_mode",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_auth_mode(k, v), c.mapping.authz.require_auth_mode);
     },
     [](ServiceOverride& s, Sv k, Sv v) {
         return assign(parse_auth_mode(k, v), s.require_auth_mode);
     }},

    {"limits", "http_max_bytes",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_size(k, v, 4096, 16 << 20), c.limits.http_max_bytes);
     },
     nullptr},
    {"limits", "jwt_max_bytes",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_size(k, v, 1024, 1 << 20), c.limits.jwt_max_bytes);
     },
     nullptr},
    {"limits", "json_max_depth",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_count(k, v, 4, 256), c.limits.json_max_depth);
     },
     nullptr},
    {"limits", "callback_max_request",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_size(k, v, 1024, 64 << 10), c.limits.callback_max_request);
     },
     nullptr},
    {"limits", "dbus_max_string",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_size(k, v, 256, 64 << 10), c.limits.dbus_max_string);
     },
     nullptr},
    {"limits", "jwks_refetch_interval",
     [](Config& c, Sv k, Sv v) {
         return assign(parse_duration(k, v, seconds(1), hours(1)), c.limits.jwks_refetch_interval);
     },
     nullptr},
};

const KeyDef* find_key(std::string_view section, std::string_view key) {
    for (const auto& k : kKeys)
        if (k.key == key && (section.empty() || k.section == section))
            return &k;
    return nullptr;
}

} // namespace

bool is_known_section(std::string_view section) noexcept {
    return section == "provider" || section == "callback" || section == "login" ||
           section == "mapping" || section == "limits" || section.substr(0, 8) == "service:";
}

Result<Profile> parse_profile(std::string_view v) {
    static constexpr std::array<std::pair<std::string_view, Profile>, 3> kNames = {
        {{"psc-production", Profile::psc_production},
         {"psc-sandbox", Profile::psc_sandbox},
         {"generic", Profile::generic}}};
    return parse_enum("profile", v, kNames, "psc-production, psc-sandbox or generic");
}

void apply_entry(LoadState& st, const std::string& file, const IniEntry& e) {
    const bool service = e.section.substr(0, 8) == "service:";
    const KeyDef* def = nullptr;
    if (service) {
        def = find_key("login", e.key);
        if (!def)
            def = find_key("mapping", e.key);
        const KeyDef* known = def ? def : find_key({}, e.key);
        if (known && !known->apply_service) {
            st.diag.error(file, e.line, "key_not_per_service",
                          "key " + q(e.key) + " cannot be set per service in [" + e.section +
                              "] (set it in [" + std::string(known->section) + "])");
            return;
        }
    } else {
        def = find_key(e.section, e.key);
        if (const KeyDef* other = def ? nullptr : find_key({}, e.key)) {
            st.diag.error(file, e.line, "key_wrong_section",
                          "key " + q(e.key) + " belongs in [" + std::string(other->section) +
                              "], not [" + e.section + "]");
            return;
        }
    }
    // A misspelt key is a rule the operator believes is applied: refuse it (design §7).
    if (!def) {
        st.diag.error(file, e.line, "unknown_key",
                      "unknown key " + q(e.key) + " in [" + e.section +
                          "] (see psc-login.conf(5) for the keys of each section)");
        return;
    }
    const Status s = service
                         ? def->apply_service(st.cfg.services[e.section.substr(8)], e.key, e.value)
                         : def->apply(st.cfg, e.key, e.value);
    if (!s) {
        st.diag.error(file, e.line, s.error().reason, s.error().message);
        return;
    }
    st.origins[origin_key(e.section, e.key)] = Location{file, e.line, false};
}

// docs/pro-sante-connect.md: PSC presets. Explicit keys applied afterwards override these.
void apply_profile_preset(LoadState& st, Profile p, const Location& where) {
    if (p == Profile::generic)
        return;
    auto& pr = st.cfg.provider;
    pr.profile = p;
    pr.issuer =
        std::string(p == Profile::psc_production ? kPscProductionIssuer : kPscSandboxIssuer);
    pr.scopes = {"openid", "scope_all"};
    pr.acr_values = {"eidas1"};
    pr.acr_accept = {"eidas1"};
    pr.acr_missing = AcrMissing::reject;
    pr.token_auth_method = TokenAuthMethod::tls_client_auth;
    pr.userinfo = true;
    st.cfg.mapping.identity_claim = "preferred_username";
    st.cfg.mapping.alias_claim = "otherIds";
    st.cfg.login.flows = {Flow::code, Flow::ciba};
    Location preset = where;
    preset.preset = true;
    for (std::string_view k :
         {"provider.issuer", "provider.scopes", "provider.acr_values", "provider.acr_accept",
          "provider.acr_missing", "provider.token_auth_method", "provider.userinfo",
          "mapping.identity_claim", "mapping.alias_claim", "login.flows"})
        st.origins[std::string(k)] = preset;
}

} // namespace psc::config_detail
