// SPDX-License-Identifier: LGPL-2.1-or-later
// UserInfo (OIDC Core §5.3, JSON or signed JWT), token introspection (RFC 7662) and RP-initiated
// logout (OIDC RP-Initiated Logout 1.0 §2).
#include "pages.hpp"
#include "provider.hpp"

namespace psc::mock {

namespace {

// Keycloak verifies an id_token_hint's signature before ending the session it names.
Result<std::string> session_of_hint(const Signer& signer, const std::string& hint) {
    auto keys = signer.public_keys();
    if (!keys)
        return std::move(keys).error();
    auto jws = jws_verify(hint, *keys, JwsVerifyPolicy{});
    if (!jws)
        return std::move(jws).error();
    auto claims = json_parse_object(jws->payload);
    if (!claims)
        return std::move(claims).error();
    auto sid = json_get_string(claims->get(), "sid");
    if (!sid || !sid->has_value())
        return make_error(Errc::invalid, "hint_sid", "id_token_hint without sid");
    return std::string(**sid);
}

constexpr const char* kOtherSub = "f:00000000-0000-4000-8000-000000000000:899999999999";

} // namespace

Result<std::string> Provider::userinfo_document(const Grant& g, bool other_sub) const {
    const Identity* who = identity(g.idnat);
    if (!who)
        return make_error(Errc::internal, "identity", "identity vanished");
    auto doc = json_parse_object(who->userinfo_json);
    if (!doc)
        return std::move(doc).error();
    json_set(doc->get(), "authMode", g.auth_mode); // the means chosen for this login
    if (other_sub)
        json_set(doc->get(), "sub", kOtherSub);
    return json_to_string(doc->get());
}

Answer Provider::userinfo(const ServerRequest& req) {
    std::string token = bearer_token(req);
    if (token.empty() && req.method == "POST") { // RFC 6750 §2.2 form parameter
        if (auto p = request_params(req))
            token = param(*p, "access_token");
    }
    const auto it = tokens_.find(token);
    if (token.empty() || it == tokens_.end() || it->second.refresh)
        return oauth_failure("invalid_token", "Token verification failed");
    if (now_unix() >= it->second.expires_at)
        return oauth_failure("invalid_token", "Token is not active");
    if (auto e = injected_error(Endpoint::userinfo, "invalid_token"))
        return std::move(*e);
    const Grant g = it->second.grant;
    auto doc = userinfo_document(g, faults_.take(Fault::userinfo_other_sub, Endpoint::userinfo));
    if (!doc)
        return oauth_failure("server_error", doc.error().describe());
    if (!faults_.take(Fault::userinfo_signed_jwt, Endpoint::userinfo))
        return ServerResponse::json(std::move(*doc));
    // OIDC Core §5.3.2: a signed UserInfo response carries iss and aud.
    auto claims = json_parse_object(*doc);
    if (!claims)
        return oauth_failure("server_error", "cannot sign UserInfo");
    json_set(claims->get(), "iss", issuer_);
    json_set(claims->get(), "aud", g.client_id);
    const std::string text = json_to_string(claims->get());
    auto signed_jwt = signer_.sign(text, "JWT");
    if (!signed_jwt)
        return oauth_failure("server_error", signed_jwt.error().describe());
    auto jwt = encrypt_for_client(std::move(*signed_jwt), text, Endpoint::userinfo);
    if (!jwt)
        return oauth_failure("server_error", jwt.error().describe());
    ServerResponse r = ServerResponse::json(std::move(*jwt));
    r.content_type = "application/jwt";
    return r;
}

Answer Provider::introspect(const ServerRequest& req) {
    auto bc = back_channel(req, Endpoint::introspect, "invalid_request");
    if (!bc)
        return std::move(bc).error();
    const QueryParams& p = bc->params;
    const std::string& client = bc->client_id;
    JsonPtr doc = json_new_object();
    const auto it = tokens_.find(param(p, "token"));
    const bool active = it != tokens_.end() && now_unix() < it->second.expires_at &&
                        it->second.grant.client_id == client;
    json_object_object_add(doc.get(), "active", json_object_new_boolean(active));
    if (active) {
        const IssuedToken& t = it->second;
        json_set(doc.get(), "exp", t.expires_at);
        json_set(doc.get(), "iss", issuer_);
        json_set(doc.get(), "sub", identity(t.grant.idnat)->sub);
        json_set(doc.get(), "client_id", t.grant.client_id);
        json_set(doc.get(), "username", t.grant.idnat);
        json_set(doc.get(), "scope", t.grant.scope);
        json_set(doc.get(), "token_type", t.refresh ? "Refresh" : "Bearer");
        // docs/pro-sante-connect.md: introspection showed eidas3
        json_set(doc.get(), "acr", "eidas3");
        json_set(doc.get(), "sid", t.grant.sid);
    }
    return json_response(doc.get());
}

ServerResponse Provider::logout(const ServerRequest& req) {
    auto p = request_params(req);
    if (!p)
        return html_response(html_page("Erreur", "<p class=\"error\">Requête invalide.</p>"), 400);
    const std::string hint = param(*p, "id_token_hint");
    if (faults_.take(Fault::logout_bad_hint, Endpoint::logout))
        return html_response(html_page("Erreur", "<p class=\"error\">Invalid id_token_hint</p>"),
                             400);
    if (!hint.empty()) {
        auto sid = session_of_hint(signer_, hint);
        if (!sid)
            return html_response(html_page("Erreur", "<p class=\"error\">Invalid id_token_hint"
                                                     "</p>"),
                                 400);
        ended_sessions_.emplace(*sid);
        for (auto it = tokens_.begin(); it != tokens_.end();)
            it = it->second.grant.sid == *sid ? tokens_.erase(it) : std::next(it);
    }
    const std::string target = param(*p, "post_logout_redirect_uri");
    if (!target.empty()) {
        if (!redirect_registered(target))
            return html_response(html_page("Erreur", "<p class=\"error\">Invalid redirect uri</p>"),
                                 400);
        std::vector<std::pair<std::string, std::string>> q;
        if (has_param(*p, "state"))
            q.emplace_back("state", param(*p, "state"));
        return redirect_response(append_query(target, q));
    }
    return html_response(html_page("Déconnexion",
                                   "<h1>Vous êtes déconnecté(e)</h1>"
                                   "<p>You are logged out of Pro Santé Connect.</p>"));
}

} // namespace psc::mock
