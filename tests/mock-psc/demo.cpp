// SPDX-License-Identifier: LGPL-2.1-or-later
// A self-contained login a person can watch in a browser: /mock/demo starts a code flow with PKCE
// towards /mock/demo/callback (always registered), which redeems the code like a relying party
// would and shows the ID token claims and the UserInfo document.
#include "auth_request.hpp"
#include "base64url.hpp"
#include "pages.hpp"
#include "provider.hpp"

namespace psc::mock {

namespace {

std::string pretty(std::string_view json) {
    auto doc = json_parse(json);
    return doc ? json_to_string(doc->get(), true) : std::string(json);
}

std::string jwt_part(const std::string& jwt, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i)
        start = jwt.find('.', start) + 1;
    const std::size_t end = jwt.find('.', start);
    auto raw = base64url_decode(std::string_view(jwt).substr(start, end - start));
    return raw ? pretty(*raw) : std::string("(undecodable)");
}

} // namespace

ServerResponse Provider::index_page() const {
    std::string rows;
    for (const auto& [idnat, id] : cfg_.identities)
        rows += "<tr><td><code>" + html_escape(idnat) + "</code></td><td>" +
                html_escape(id.auth_mode) + "</td><td>" + html_escape(id.description) +
                "</td></tr>";
    const std::string body =
        "<h1>mock-psc</h1><p>Un Pro Santé Connect simulé, pour les tests et la démonstration.</p>"
        "<p><a href=\"" +
        std::string(kDemoPath) +
        "\">▶ Essayer une connexion complète</a></p>"
        "<p>Issuer: <code>" +
        html_escape(issuer_) + "</code><br>Discovery: <a href=\"" +
        html_escape(issuer_ + std::string(kWalletDiscovery)) +
        "\">wallet-openid-configuration</a>"
        "</p><table><tr><th>idNat</th><th>authMode</th><th>Profil</th></tr>" +
        rows + "</table>";
    return html_response(html_page("mock-psc", body));
}

ServerResponse Provider::demo_start() {
    auto pkce = pkce_generate();
    auto state = fresh_token();
    auto nonce = fresh_token();
    if (!pkce || !state || !nonce)
        return html_response(html_page("Erreur", "<p class=\"error\">no randomness</p>"), 500);
    demo_logins_[*state] = DemoLogin{std::string(pkce->verifier.view()), *nonce};
    AuthRequestParams p;
    p.authorization_endpoint = url(kAuthorizePath);
    p.client_id = cfg_.options.client_id;
    p.redirect_uri = url(kDemoCallbackPath);
    p.scope = "openid scope_all";
    p.acr_values = "eidas1";
    auto location = build_authorization_url(p, *state, *nonce, pkce->challenge);
    if (!location)
        return html_response(
            html_page("Erreur",
                      "<p class=\"error\">" + html_escape(location.error().describe()) + "</p>"),
            500);
    return redirect_response(*location);
}

ServerResponse Provider::demo_callback(const ServerRequest& req) {
    const auto state = req.query_value("state");
    const auto it = state ? demo_logins_.find(*state) : demo_logins_.end();
    if (it == demo_logins_.end())
        return html_response(html_page("Erreur", "<p class=\"error\">État inconnu ou déjà utilisé. "
                                                 "<a href=\"" +
                                                     std::string(kDemoPath) +
                                                     "\">Recommencer</a></p>"),
                             400);
    const DemoLogin login = it->second;
    demo_logins_.erase(it);
    if (const auto err = req.query_value("error"))
        return html_response(html_page("Refus", "<h1>Connexion refusée</h1><p><code>" +
                                                    html_escape(*err) + "</code></p>"));
    auto grant = redeem_code(cfg_.options.client_id, req.query_value("code").value_or(""),
                             url(kDemoCallbackPath), login.verifier);
    auto tokens = grant ? issue_tokens(*grant, nullptr) : Result<TokenSet>(grant.error());
    auto userinfo = tokens ? userinfo_document(*grant, false) : Result<std::string>(tokens.error());
    if (!userinfo)
        return html_response(
            html_page("Erreur",
                      "<p class=\"error\">" + html_escape(userinfo.error().describe()) + "</p>"),
            400);
    const std::string body =
        "<h1>Connexion réussie / Logged in</h1><p>Le code a été échangé (PKCE S256) contre des "
        "jetons, comme le ferait psc-authd.</p><h2>ID token — en-tête</h2><pre>" +
        html_escape(jwt_part(tokens->id_token, 0)) + "</pre><h2>ID token — claims</h2><pre>" +
        html_escape(jwt_part(tokens->id_token, 1)) + "</pre><h2>UserInfo</h2><pre>" +
        html_escape(pretty(*userinfo)) + "</pre><p><a href=\"" + std::string(kDemoPath) +
        "\">Recommencer</a></p>";
    return html_response(html_page("Connexion réussie", body));
}

} // namespace psc::mock
