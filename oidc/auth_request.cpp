// SPDX-License-Identifier: LGPL-2.1-or-later
#include "auth_request.hpp"
#include "config_values.hpp"
#include "strutil.hpp"

#include "digest.hpp"

#include "base64url.hpp"
#include "random.hpp"
#include "url.hpp"

#include <algorithm>
#include <openssl/evp.h>

namespace psc {
namespace {

// RFC 7636 §4.1: code-verifier = 43*128unreserved.
bool valid_verifier(std::string_view v) {
    if (v.size() < 43 || v.size() > 128)
        return false;
    for (char c : v) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok)
            return false;
    }
    return true;
}

void append_param(std::string& url, bool& first, std::string_view name, std::string_view value) {
    if (!first)
        url.push_back('&');
    first = false;
    url += name;
    url.push_back('=');
    url += percent_encode(value);
}

Status check_endpoint(const AuthRequestParams& p) {
    auto parts = split_url(p.authorization_endpoint);
    if (!parts || parts->fragment)
        return make_error(Errc::config, "auth_endpoint_invalid",
                          "authorization_endpoint is not an http(s) URL without fragment" +
                              (parts ? std::string() : ": " + parts.error().describe()));
    if (!parts->query)
        return {};
    auto existing = parse_query(*parts->query);
    if (!existing)
        return make_error(Errc::config, "auth_endpoint_invalid",
                          "authorization_endpoint query: " + existing.error().describe());
    for (const auto& q : *existing) {
        const bool extra = std::any_of(p.extra.begin(), p.extra.end(),
                                       [&](const auto& e) { return e.first == q.name; });
        if (is_reserved_auth_param(q.name) || extra)
            return make_error(Errc::config, "auth_endpoint_param_conflict",
                              "authorization_endpoint already sets \"" + strip_control(q.name) + "\"");
    }
    return {};
}

} // namespace

Result<std::string> pkce_challenge_s256(std::string_view verifier) {
    if (!valid_verifier(verifier))
        return make_error(Errc::internal, "pkce_verifier_invalid",
                          "a PKCE code_verifier must be 43-128 characters of [A-Za-z0-9-._~]");
    auto md = sha256(verifier);
    if (!md)
        return std::move(md).error();
    return base64url_encode(*md);
}

Result<Pkce> pkce_generate() {
    // 32 random bytes → 43 base64url characters, the RFC 7636 §4.1 recommendation.
    auto token = random_token(32);
    if (!token)
        return std::move(token).error();
    Pkce out;
    out.verifier = Secret::adopt(std::move(*token));
    auto challenge = pkce_challenge_s256(out.verifier.view());
    if (!challenge)
        return std::move(challenge).error();
    out.challenge = std::move(*challenge);
    return out;
}

Result<std::string> build_authorization_url(const AuthRequestParams& p, std::string_view state,
                                            std::string_view nonce,
                                            std::string_view code_challenge) {
    PSC_TRY(check_endpoint(p));
    if (p.client_id.empty() || p.redirect_uri.empty() || p.scope.empty() || state.empty() ||
        nonce.empty() || code_challenge.empty() || (p.max_age && *p.max_age < 0))
        return make_error(Errc::config, "auth_request_invalid",
                          "client_id, redirect_uri, scope, state, nonce and code_challenge are "
                          "required; max_age must not be negative");
    std::string url = p.authorization_endpoint;
    // RFC 6749 §3.1: an endpoint query component MUST be retained; add ours after it.
    const auto q = url.find('?');
    if (q == std::string::npos)
        url.push_back('?');
    else if (url.back() != '?' && url.back() != '&')
        url.push_back('&');
    bool first = true;
    append_param(url, first, "response_type", "code");
    append_param(url, first, "client_id", p.client_id);
    append_param(url, first, "redirect_uri", p.redirect_uri);
    append_param(url, first, "scope", p.scope);
    append_param(url, first, "state", state);
    append_param(url, first, "nonce", nonce);
    append_param(url, first, "code_challenge", code_challenge);
    append_param(url, first, "code_challenge_method", "S256");
    if (!p.acr_values.empty())
        append_param(url, first, "acr_values", p.acr_values);
    if (p.max_age)
        append_param(url, first, "max_age", std::to_string(*p.max_age));
    if (!p.prompt.empty())
        append_param(url, first, "prompt", p.prompt);
    if (!p.login_hint.empty())
        append_param(url, first, "login_hint", p.login_hint);
    for (std::size_t i = 0; i < p.extra.size(); ++i) {
        const std::string& name = p.extra[i].first; // (clang 14: no lambda capture of bindings)
        const std::string& value = p.extra[i].second;
        const bool repeated = std::any_of(p.extra.begin(), p.extra.begin() + i,
                                          [&](const auto& e) { return e.first == name; });
        if (name.empty() || is_reserved_auth_param(name) || repeated)
            return make_error(Errc::config, "auth_request_invalid",
                              "extra authorization parameter \"" + strip_control(name) +
                                  "\" is empty, repeated or one psc-login sets itself");
        append_param(url, first, name, value);
    }
    return url;
}

Result<AuthRequest> make_auth_request(const AuthRequestParams& p) {
    AuthRequest out;
    auto state = random_token(32);
    auto nonce = random_token(32);
    auto pkce = pkce_generate();
    if (!state)
        return std::move(state).error();
    if (!nonce)
        return std::move(nonce).error();
    if (!pkce)
        return std::move(pkce).error();
    out.state = std::move(*state);
    out.nonce = std::move(*nonce);
    out.pkce = std::move(*pkce);
    auto url = build_authorization_url(p, out.state, out.nonce, out.pkce.challenge);
    if (!url)
        return std::move(url).error();
    out.url = std::move(*url);
    return out;
}

} // namespace psc
