// SPDX-License-Identifier: LGPL-2.1-or-later
// The CIBA backchannel authentication endpoint (CIBA Core §7, poll mode, PSC's extra `channel`)
// and the device authorization endpoint (RFC 8628 §3.1-3.3) with its verification page. Device
// authorization is off by default: PSC's discovery lists it only as a Keycloak default.
#include "pages.hpp"
#include "provider.hpp"
#include "random.hpp"
#include "strutil.hpp"

#include <algorithm>

namespace psc::mock {

namespace {

bool two_digits(const std::string& s) {
    return s.size() == 2 && std::isdigit(static_cast<unsigned char>(s[0])) &&
           std::isdigit(static_cast<unsigned char>(s[1]));
}

// RFC 8628 §6.1: 8 characters from a consonant-only alphabet, shown as XXXX-XXXX.
Result<std::string> make_user_code() {
    constexpr std::string_view alphabet = "BCDFGHJKLMNPQRSTVWXZ";
    std::string code;
    for (int i = 0; i < 8; ++i) {
        auto n = random_below(static_cast<unsigned>(alphabet.size()));
        if (!n)
            return std::move(n).error();
        if (i == 4)
            code += '-';
        code += alphabet[*n];
    }
    return code;
}

ServerResponse decoupled_started(const char* id_name, const DecoupledRequest& r,
                                 std::chrono::seconds expires_in) {
    JsonPtr doc = json_new_object();
    json_set(doc.get(), id_name, r.id);
    json_set(doc.get(), "expires_in", static_cast<std::int64_t>(expires_in.count()));
    json_set(doc.get(), "interval", static_cast<std::int64_t>(r.interval.count()));
    return json_response(doc.get());
}

} // namespace

Answer Provider::ciba_auth(const ServerRequest& req) {
    auto bc = back_channel(req, Endpoint::ciba, "invalid_request");
    if (!bc)
        return std::move(bc).error();
    const QueryParams& p = bc->params;
    const std::string& client = bc->client_id;
    const std::string scope = param(p, "scope");
    if (!has_word(scope, "openid") || !has_word(scope, "scope_all"))
        return oauth_failure("invalid_scope", "scope must contain openid and scope_all");
    if (has_param(p, "acr_values") && !has_word(param(p, "acr_values"), "eidas1"))
        return oauth_failure("invalid_request", "acr_values must include eidas1");
    const std::string hint = param(p, "login_hint");
    if (hint.empty())
        return oauth_failure("invalid_request", "login_hint (the idNat) is required");
    const Identity* who = identity(hint);
    if (!who)
        return oauth_failure("unknown_user_id", "no professional with this national identifier");
    const std::string binding = param(p, "binding_message");
    if (has_param(p, "binding_message") && !two_digits(binding))
        return oauth_failure("invalid_binding_message", "binding_message must be two digits");
    const std::string channel = param(p, "channel");
    if (has_param(p, "channel") && channel != "MOBILE" && channel != "CARD")
        return oauth_failure("invalid_request", "channel must be MOBILE or CARD");
    std::chrono::seconds expires_in = cfg_.options.ciba_expires_in;
    if (has_param(p, "requested_expiry")) {
        auto e = parse_int<long>(param(p, "requested_expiry"), 1, 86400);
        if (!e)
            return oauth_failure("invalid_request", "requested_expiry must be a positive integer");
        expires_in = std::min(expires_in, std::chrono::seconds(*e));
    }
    auto id = fresh_token();
    if (!id)
        return oauth_failure("server_error", "no randomness");
    DecoupledRequest r;
    r.kind = DecoupledRequest::Kind::ciba;
    r.id = *id;
    r.client_id = client;
    r.scope = scope;
    r.idnat = who->idnat;
    r.auth_mode = channel.empty() ? who->auth_mode : channel;
    r.binding_message = binding;
    r.created = SteadyClock::now();
    r.expires = r.created + expires_in;
    r.interval = cfg_.options.ciba_interval;
    r.script = next_ciba_script_.value_or(who->ciba);
    next_ciba_script_.reset();
    last_decoupled_id_ = r.id;
    decoupled_[r.id] = r;
    return decoupled_started("auth_req_id", r, expires_in);
}

Answer Provider::device_auth(const ServerRequest& req) {
    auto bc = back_channel(req, Endpoint::device, "invalid_request");
    if (!bc)
        return std::move(bc).error();
    const QueryParams& p = bc->params;
    const std::string& client = bc->client_id;
    if (!cfg_.options.device_grant) // what Keycloak answers when the client has it disabled
        return oauth_failure("unauthorized_client",
                             "Client is not allowed to initiate OAuth 2.0 Device "
                             "Authorization Grant. The flow is disabled for the client.");
    auto id = fresh_token();
    auto user_code = make_user_code();
    if (!id || !user_code)
        return oauth_failure("server_error", "no randomness");
    DecoupledRequest r;
    r.kind = DecoupledRequest::Kind::device;
    r.id = *id;
    r.client_id = client;
    r.scope = has_param(p, "scope") ? param(p, "scope") : "openid";
    r.user_code = *user_code;
    r.created = SteadyClock::now();
    r.expires = r.created + cfg_.options.ciba_expires_in;
    r.interval = cfg_.options.ciba_interval;
    if (const Identity* who = identity(cfg_.options.auto_approve)) {
        r.idnat = who->idnat;
        r.auth_mode = who->auth_mode;
    }
    if (next_ciba_script_) {
        r.script = *next_ciba_script_;
        next_ciba_script_.reset();
    }
    last_decoupled_id_ = r.id;
    decoupled_[r.id] = r;
    ServerResponse resp = decoupled_started("device_code", r, cfg_.options.ciba_expires_in);
    auto doc = json_parse_object(resp.body);
    if (!doc)
        return oauth_failure("server_error", "cannot build the answer");
    json_set(doc->get(), "user_code", r.user_code);
    json_set(doc->get(), "verification_uri", url(kDevicePagePath));
    json_set(doc->get(), "verification_uri_complete",
             append_query(url(kDevicePagePath), {{"user_code", r.user_code}}));
    return json_response(doc->get());
}

ServerResponse Provider::device_page(const ServerRequest& req) {
    if (!cfg_.options.device_grant)
        return oauth_error(404, "not_found", "device authorization is disabled");
    auto p = request_params(req);
    if (!p)
        return html_response(html_page("Erreur", "<p class=\"error\">Requête invalide.</p>"), 400);
    const std::string user_code = param(*p, "user_code");
    std::string note;
    if (req.method == "POST") {
        const auto it = std::find_if(decoupled_.begin(), decoupled_.end(), [&](const auto& kv) {
            return kv.second.kind == DecoupledRequest::Kind::device &&
                   kv.second.user_code == user_code;
        });
        const Identity* who = identity(std::string(trim(param(*p, "idnat"))));
        if (it != decoupled_.end() && who) {
            DecoupledRequest& r = it->second;
            r.idnat = who->idnat;
            r.auth_mode = param(*p, "auth_mode") == "MOBILE" ? "MOBILE" : "CARD";
            r.script = CibaScript{param(*p, "action") == "cancel" ? CibaOutcome::deny
                                                                  : CibaOutcome::approve,
                                  std::chrono::seconds(0), 0};
            return html_response(html_page("Appareil", "<h1>C'est fait / Done</h1><p>Vous pouvez "
                                                       "retourner sur votre appareil.</p>"));
        }
        note = "<p class=\"error\">Code ou identifiant inconnu. / Unknown code or identifier.</p>";
    }
    const std::string body =
        "<h1>Connecter un appareil</h1>" + note + "<form method=\"post\" action=\"" +
        std::string(kDevicePagePath) +
        "\"><label for=\"uc\">Code affiché</label>"
        "<input type=\"text\" id=\"uc\" name=\"user_code\" value=\"" +
        html_escape(user_code) +
        "\" required><label for=\"idnat\">Identifiant national (idNat)</label>"
        "<input type=\"text\" id=\"idnat\" name=\"idnat\" list=\"known\" required>"
        "<datalist id=\"known\">" +
        identity_options(cfg_.identities) +
        "</datalist>"
        "<label>Moyen d'identification</label>" +
        auth_mode_choice("MOBILE") +
        "<button class=\"primary\" name=\"action\" value=\"approve\">Autoriser</button>"
        "<button class=\"secondary\" name=\"action\" value=\"cancel\">Refuser</button></form>";
    return html_response(html_page("Pro Santé Connect — appareil", body));
}

} // namespace psc::mock
