// SPDX-License-Identifier: LGPL-2.1-or-later
// The authorization endpoint on the "wallet host" (RFC 6749 §4.1.1, OIDC Core §3.1.2): checks the
// request in the order RFC 6749 §4.1.2.1 requires (client and redirect_uri first, answered on an
// error page; everything else redirected back as an error), then shows the login page or, in
// unattended mode, approves at once. The answer carries code, state and RFC 9207 iss.
#include "provider.hpp"
#include "strutil.hpp"

#include <algorithm>

namespace psc::mock {

namespace {

constexpr std::chrono::minutes kLoginPageTtl{10};

ServerResponse error_page(const std::string& message, unsigned status = 400) {
    return html_response("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
                         "<title>Erreur</title></head><body><h1>Pro Santé Connect (mock)</h1>"
                         "<p>" +
                             html_escape(message) + "</p></body></html>",
                         status);
}

bool is_loopback_host(const std::string& host) {
    return host == "127.0.0.1" || host == "[::1]";
}

// RFC 7636 §4.2: 43-128 characters of the unreserved set (a base64url SHA-256 is 43).
bool valid_challenge(std::string_view c) {
    return c.size() >= 43 && c.size() <= 128 && std::all_of(c.begin(), c.end(), [](char ch) {
               return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' ||
                      ch == '_' || ch == '~';
           });
}

struct RedirectError {
    std::string error;
    std::string description;
};

// The checks whose failure is redirected to the client (RFC 6749 §4.1.2.1).
std::optional<RedirectError> check_request(const QueryParams& p, bool pkce_required) {
    if (param(p, "response_type") != "code")
        return RedirectError{"unsupported_response_type", "Client is not allowed to initiate "
                                                          "browser login with given response_type"};
    const std::string scope = param(p, "scope");
    if (!has_word(scope, "openid") || !has_word(scope, "scope_all"))
        return RedirectError{"invalid_scope", "scope must contain openid and scope_all"};
    const std::string acr = param(p, "acr_values");
    if (has_param(p, "acr_values") && !has_word(acr, "eidas1"))
        return RedirectError{"invalid_request", "acr_values must include eidas1"};
    const std::string method = param(p, "code_challenge_method");
    if (has_param(p, "code_challenge")) {
        if (method != "S256")
            return RedirectError{"invalid_request", "Invalid parameter: code challenge method is "
                                                    "not matching the configured one"};
        if (!valid_challenge(param(p, "code_challenge")))
            return RedirectError{"invalid_request", "Invalid parameter: code_challenge"};
    } else if (pkce_required) {
        return RedirectError{"invalid_request", "Missing parameter: code_challenge_method"};
    }
    return std::nullopt;
}

std::optional<std::string> optional_param(const QueryParams& p, std::string_view name) {
    const std::string* v = query_find(p, name);
    return v ? std::optional<std::string>(*v) : std::nullopt;
}

} // namespace

bool Provider::redirect_registered(const std::string& uri) const {
    if (uri == url(kDemoCallbackPath))
        return true;
    const auto& regs = cfg_.options.redirect_uris;
    if (std::find(regs.begin(), regs.end(), uri) != regs.end())
        return true;
    if (!cfg_.options.redirect_loopback_any_port)
        return false;
    // RFC 8252 §7.3: for a loopback IP literal the port is not part of the match.
    auto u = split_url(uri);
    if (!u || u->scheme != "http" || !is_loopback_host(u->host) || u->query || u->fragment)
        return false;
    return std::any_of(regs.begin(), regs.end(), [&](const std::string& reg) {
        auto r = split_url(reg);
        return r && r->scheme == u->scheme && r->host == u->host && r->path == u->path && !r->query;
    });
}

ServerResponse Provider::authorize(const ServerRequest& req) {
    auto p = request_params(req);
    if (!p)
        return error_page("Invalid Request: " + p.error().describe());
    if (req.method == "POST" && has_param(*p, "login"))
        return authorize_submit(*p);
    return authorize_start(*p);
}

ServerResponse Provider::authorize_start(const QueryParams& p) {
    if (param(p, "client_id") != cfg_.options.client_id)
        return error_page("Client not found.");
    const std::string redirect_uri = param(p, "redirect_uri");
    if (!redirect_registered(redirect_uri))
        return error_page("Invalid parameter: redirect_uri");
    PendingLogin login{cfg_.options.client_id,
                       redirect_uri,
                       param(p, "scope"),
                       param(p, "code_challenge"),
                       optional_param(p, "state"),
                       optional_param(p, "nonce"),
                       SteadyClock::now() + kLoginPageTtl};
    if (auto err = check_request(p, cfg_.options.pkce_required))
        return authz_redirect(login,
                              {{"error", err->error}, {"error_description", err->description}});
    // Unattended mode: the --auto-approve flag, or the mock_approve query knob of a test.
    std::string approve = cfg_.options.auto_approve;
    if (has_param(p, "mock_approve"))
        approve = param(p, "mock_approve");
    if (!approve.empty()) {
        const Identity* who = identity(approve);
        if (!who)
            return error_page("mock-psc: unknown idNat " + approve);
        const std::string mode = param(p, "mock_auth_mode");
        return finish_login(login, *who,
                            mode == "CARD" || mode == "MOBILE" ? mode : who->auth_mode);
    }
    if (param(p, "prompt") == "none") // OIDC Core §3.1.2.6: no session, no UI allowed
        return authz_redirect(login, {{"error", "login_required"}});
    auto id = fresh_token();
    if (!id)
        return error_page("no randomness", 500);
    logins_[*id] = login;
    return login_page(*id, login, "");
}

ServerResponse Provider::authorize_submit(const QueryParams& p) {
    const auto it = logins_.find(param(p, "login"));
    if (it == logins_.end() || SteadyClock::now() >= it->second.expires)
        return error_page("Votre session a expiré. / Your session has expired.");
    const PendingLogin login = it->second;
    if (param(p, "action") == "cancel") {
        logins_.erase(it);
        return authz_redirect(login, {{"error", "access_denied"},
                                      {"error_description", "The user cancelled the login"}});
    }
    const std::string idnat(trim(param(p, "idnat")));
    const Identity* who = identity(idnat);
    if (!who)
        return login_page(it->first, login,
                          "Identifiant national inconnu. / Unknown national identifier.");
    logins_.erase(it);
    const std::string mode = param(p, "auth_mode") == "MOBILE" ? "MOBILE" : "CARD";
    return finish_login(login, *who, mode);
}

ServerResponse Provider::finish_login(const PendingLogin& login, const Identity& who,
                                      const std::string& auth_mode) {
    auto code = fresh_token();
    auto sid = fresh_token();
    if (!code || !sid)
        return error_page("no randomness", 500);
    if (auto e = injected_error(Endpoint::authorize, "access_denied"))
        return authz_redirect(login, {{"error", e->reason}, {"error_description", e->message}});
    IssuedCode c;
    c.grant =
        Grant{login.client_id, who.idnat, auth_mode, login.scope, login.nonce, *sid, now_unix()};
    c.redirect_uri = login.redirect_uri;
    c.code_challenge = login.code_challenge;
    c.expires_at = now_unix() + cfg_.options.code_ttl.count();
    codes_[*code] = std::move(c);
    return authz_redirect(login, {{"code", *code}, {"session_state", *sid}});
}

ServerResponse Provider::authz_redirect(const PendingLogin& login,
                                        std::vector<std::pair<std::string, std::string>> params) {
    constexpr Endpoint at = Endpoint::authorize;
    if (faults_.take(Fault::authz_wrong_state, at))
        params.emplace_back("state", "mock-psc-forged-state");
    else if (login.state && !faults_.take(Fault::authz_missing_state, at))
        params.emplace_back("state", *login.state);
    if (faults_.take(Fault::authz_wrong_iss, at))
        params.emplace_back("iss", base_url_ + "/auth/realms/other-realm");
    else if (!faults_.take(Fault::authz_missing_iss, at))
        params.emplace_back("iss", issuer_); // RFC 9207
    return redirect_response(append_query(login.redirect_uri, params));
}

} // namespace psc::mock
