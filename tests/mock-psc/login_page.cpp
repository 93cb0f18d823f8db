// SPDX-License-Identifier: LGPL-2.1-or-later
// The wallet's login page: the professional types (or picks) a national identifier and chooses the
// means of identification. Consent is implied, as at PSC.
#include "pages.hpp"
#include "provider.hpp"

namespace psc::mock {

ServerResponse Provider::login_page(const std::string& login_id, const PendingLogin& login,
                                    const std::string& error) const {
    std::string body = "<h1>Connexion / Log in</h1><p>Le service <code>" +
                       html_escape(login.client_id) + "</code> demande votre identification.</p>";
    if (!error.empty())
        body += "<p class=\"error\">" + html_escape(error) + "</p>";
    body += "<form method=\"post\" action=\"" + std::string(kAuthorizePath) +
            "\">"
            "<input type=\"hidden\" name=\"login\" value=\"" +
            html_escape(login_id) +
            "\">"
            "<label for=\"idnat\">Identifiant national (idNat)</label>"
            "<input type=\"text\" id=\"idnat\" name=\"idnat\" list=\"known\" autocomplete=\"off\" "
            "autofocus required placeholder=\"810001234567\">"
            "<datalist id=\"known\">" +
            identity_options(cfg_.identities) +
            "</datalist>"
            "<label>Moyen d'identification</label>" +
            auth_mode_choice("CARD") +
            "<button class=\"primary\" name=\"action\" value=\"approve\">Se connecter</button>"
            "<button class=\"secondary\" name=\"action\" value=\"cancel\" formnovalidate>Annuler"
            "</button></form>"
            "<p class=\"note\">Simulation: aucune carte ni application n'est sollicitée; "
            "le consentement est implicite.</p>";
    return html_response(html_page("Pro Santé Connect — connexion", body));
}

} // namespace psc::mock
