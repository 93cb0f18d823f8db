// SPDX-License-Identifier: LGPL-2.1-or-later
// Rules that involve more than one key, checked once every layer is merged, and the checks on
// the key and certificate files the configuration names.
#include "config_internal.hpp"
#include "config_values.hpp"
#include "file_io.hpp"
#include "strutil.hpp"

#include <algorithm>

namespace psc::config_detail {
namespace {

std::string q(std::string_view s) {
    return "\"" + strip_control(s) + "\"";
}

// Appended when a value the operator did not write comes from the profile preset.
std::string preset_note(const LoadState& st, std::string_view section, std::string_view key) {
    const auto it = st.origins.find(origin_key(section, key));
    if (it == st.origins.end() || !it->second.preset)
        return {};
    return " (" + std::string(key) + " comes from profile " +
           std::string(to_string(st.cfg.provider.profile)) + ")";
}

void check_required(LoadState& st) {
    const auto& p = st.cfg.provider;
    if (p.client_id.empty())
        error_at(st, "provider", "client_id", "missing_client_id",
                 "client_id is required in [provider]");
    if (p.issuer.empty())
        error_at(
            st, "provider", "issuer", "missing_issuer",
            "issuer is required in [provider] (or set profile = psc-production or psc-sandbox)");
}

// design §3 "HTTP": https only; plain http only to a loopback test provider, on request.
void check_provider_url(LoadState& st, std::string_view key, const std::string& url) {
    if (url.empty())
        return;
    auto u = parse_config_url(key, url);
    if (!u || u->https)
        return; // syntax was reported when the key was read
    if (u->loopback && st.cfg.provider.allow_insecure_http)
        return;
    error_at(st, "provider", key, "insecure_url",
             std::string(key) + " " + q(url) +
                 " must use https:// (http:// is allowed only for 127.0.0.1, ::1 or localhost "
                 "with allow_insecure_http = yes)");
}

// RFC 8252 §7.3: a loopback redirect may be plain http; anything else must be https.
void check_redirect_uri(LoadState& st) {
    const auto& r = st.cfg.callback.redirect_uri;
    if (r.empty())
        return;
    auto u = parse_config_url("redirect_uri", r);
    if (u && !u->https && !u->loopback)
        error_at(st, "callback", "redirect_uri", "insecure_url",
                 "redirect_uri " + q(r) + " must use https:// unless its host is loopback");
}

void check_client_auth(LoadState& st) {
    const auto& p = st.cfg.provider;
    const std::string note = preset_note(st, "provider", "token_auth_method");
    switch (p.token_auth_method) {
    case TokenAuthMethod::tls_client_auth:
        if (p.tls_client_cert.empty() || p.tls_client_key.empty())
            error_at(st, "provider", "token_auth_method", "tls_client_auth_incomplete",
                     "token_auth_method = tls_client_auth needs tls_client_cert and "
                     "tls_client_key" +
                         note);
        break;
    case TokenAuthMethod::client_secret_basic:
    case TokenAuthMethod::client_secret_post:
        if (p.client_secret_file.empty())
            error_at(st, "provider", "token_auth_method", "missing_client_secret_file",
                     "token_auth_method = " + std::string(to_string(p.token_auth_method)) +
                         " needs client_secret_file" + note);
        break;
    case TokenAuthMethod::private_key_jwt:
        if (p.client_assertion_key.empty())
            error_at(st, "provider", "token_auth_method", "missing_client_assertion_key",
                     "token_auth_method = private_key_jwt needs client_assertion_key");
        if (p.profile != Profile::generic)
            warn_at(st, "provider", "token_auth_method", "psc_auth_method",
                    "PSC is not known to accept private_key_jwt; tls_client_auth is the "
                    "supported method");
        break;
    }
}

// design §3 "JWS": HS* verifies with the client secret, so there must be one.
void check_algs(LoadState& st) {
    const auto& p = st.cfg.provider;
    const bool hmac = std::any_of(p.id_token_algs.begin(), p.id_token_algs.end(),
                                  [](const std::string& a) { return is_hmac_jose_alg(a); });
    if (hmac && p.client_secret_file.empty())
        error_at(st, "provider", "id_token_algs", "alg_hs_needs_secret",
                 "HS256/HS384/HS512 in id_token_algs need client_secret_file (the HMAC key is "
                 "the client secret)");
    const bool default_dec = p.id_token_decryption_algs ==
                             std::vector<std::string>{"RSA-OAEP", "RSA-OAEP-256"};
    if (!default_dec && p.id_token_decryption_key.empty())
        error_at(st, "provider", "id_token_decryption_algs", "decryption_algs_without_key",
                 "id_token_decryption_algs is set but id_token_decryption_key is not: set the "
                 "key the provider encrypts to, or remove id_token_decryption_algs");
}

void check_acr(LoadState& st) {
    const auto& p = st.cfg.provider;
    if (p.acr_values.empty())
        return;
    if (p.acr_accept.empty()) {
        warn_at(st, "provider", "acr_accept", "acr_accept_empty",
                "acr_values is requested but acr_accept is empty: any acr in the ID token is "
                "accepted");
        return;
    }
    const bool overlap = std::any_of(p.acr_values.begin(), p.acr_values.end(), [&](const auto& v) {
        return std::find(p.acr_accept.begin(), p.acr_accept.end(), v) != p.acr_accept.end();
    });
    if (!overlap)
        error_at(st, "provider", "acr_accept", "acr_inconsistent",
                 "acr_accept accepts none of the requested acr_values: every login would be "
                 "rejected");
}

// docs/pro-sante-connect.md, "CIBA": PSC does not offer the device grant.
void check_flows(LoadState& st, std::string_view section, const std::vector<Flow>& flows) {
    if (st.cfg.provider.profile == Profile::generic)
        return;
    if (std::find(flows.begin(), flows.end(), Flow::device) != flows.end())
        error_at(st, section, "flows", "flow_not_supported",
                 "flow \"device\" is not offered by Pro Santé Connect (profile " +
                     std::string(to_string(st.cfg.provider.profile)) + "); use code or ciba");
}

void check_login(LoadState& st) {
    const auto& l = st.cfg.login;
    if (l.max_pending_per_user > l.max_pending)
        error_at(st, "login", "max_pending_per_user", "pending_limits",
                 "max_pending_per_user (" + std::to_string(l.max_pending_per_user) +
                     ") is larger than max_pending (" + std::to_string(l.max_pending) + ")");
    check_flows(st, "login", l.flows);
    for (const auto& [name, ov] : st.cfg.services)
        if (ov.flows)
            check_flows(st, "service:" + name, *ov.flows);
}

// design §4: a rule that reads UserInfo cannot be applied without it; refusing the config beats
// silently dropping the rule (or refusing every login).
void check_rules_need_userinfo(LoadState& st, std::string_view section, const AuthzRules& a) {
    if (st.cfg.provider.userinfo)
        return;
    const std::pair<bool, std::string_view> rules[] = {
        {!a.allow_professions.empty(), "allow_professions"},
        {!a.deny_categories.empty(), "deny_categories"},
        {a.require_auth_mode.has_value(), "require_auth_mode"},
    };
    for (const auto& [set, key] : rules)
        if (set)
            error_at(st, section, key, "rule_needs_userinfo",
                     std::string(key) + " reads UserInfo, but userinfo = no in [provider]: set "
                                        "userinfo = yes or remove the rule");
}

void check_rules(LoadState& st) {
    check_rules_need_userinfo(st, "mapping", st.cfg.mapping.authz);
    for (const auto& [name, ov] : st.cfg.services) {
        AuthzRules set_here;
        if (ov.allow_professions)
            set_here.allow_professions = *ov.allow_professions;
        if (ov.deny_categories)
            set_here.deny_categories = *ov.deny_categories;
        if (ov.require_auth_mode)
            set_here.require_auth_mode = *ov.require_auth_mode;
        check_rules_need_userinfo(st, "service:" + name, set_here);
    }
}

// [mapping] source and the keys that belong to each source: a key of another source is a
// mistake (it would be silently ignored), never dropped.
void check_mapping_source(LoadState& st) {
    auto& m = st.cfg.mapping;
    const bool source_set = set_explicitly(st, "mapping", "source");
    if (!source_set && !m.username_template.empty() &&
        set_explicitly(st, "mapping", "map_file")) {
        error_at(st, "mapping", "username_template", "mapping_conflict",
                 "map_file and username_template are exclusive: set only one");
        return;
    }
    if (!source_set && !m.username_template.empty())
        m.source = MappingSource::template_; // username_template alone selects it
    if (m.source != MappingSource::file && set_explicitly(st, "mapping", "map_file"))
        error_at(st, "mapping", "map_file", "mapping_conflict",
                 "map_file is read only with source = file (source is " +
                     std::string(to_string(m.source)) + ")");
    if (m.source != MappingSource::template_ && !m.username_template.empty())
        error_at(st, "mapping", "username_template", "mapping_conflict",
                 "username_template is used only with source = template");
    if (m.source == MappingSource::template_ && m.username_template.empty())
        error_at(st, "mapping", "username_template", "missing_username_template",
                 "source = template needs username_template (e.g. psc-{rpps})");
    static constexpr std::string_view kLdapKeys[] = {
        "ldap_uri",     "ldap_base",    "ldap_filter",             "ldap_idnat_attribute",
        "ldap_user_attribute", "ldap_ca_file", "ldap_bind_dn", "ldap_bind_password_file",
        "ldap_timeout", "ldap_cache_ttl"};
    static constexpr std::string_view kSssdKeys[] = {"sssd_idnat_attribute", "sssd_timeout"};
    if (m.source != MappingSource::sssd) {
        for (std::string_view key : kSssdKeys)
            if (set_explicitly(st, "mapping", key))
                error_at(st, "mapping", key, "sssd_without_source",
                         std::string(key) + " is read only with source = sssd");
    } else if (m.sssd.idnat_attribute.empty()) {
        error_at(st, "mapping", "sssd_idnat_attribute", "sssd_incomplete",
                 "source = sssd needs sssd_idnat_attribute (the attribute SSSD reads the idNat "
                 "from, e.g. employeeNumber)");
    }
    if (m.source != MappingSource::ldap) {
        for (std::string_view key : kLdapKeys)
            if (set_explicitly(st, "mapping", key))
                error_at(st, "mapping", key, "ldap_without_source",
                         std::string(key) + " is read only with source = ldap");
        return;
    }
    const auto& l = m.ldap;
    const std::pair<bool, std::string_view> required[] = {
        {l.uris.empty(), "ldap_uri"},
        {l.base.empty(), "ldap_base"},
        {l.idnat_attribute.empty(), "ldap_idnat_attribute"},
    };
    for (const auto& [missing, key] : required)
        if (missing)
            error_at(st, "mapping", key, "ldap_incomplete",
                     "source = ldap needs " + std::string(key));
    if (l.bind_dn.empty() != l.bind_password_file.empty())
        error_at(st, "mapping", l.bind_dn.empty() ? "ldap_bind_password_file" : "ldap_bind_dn",
                 "ldap_bind_incomplete",
                 "ldap_bind_dn and ldap_bind_password_file must be set together (neither: "
                 "anonymous search)");
}

void check_misc(LoadState& st) {
    const auto& c = st.cfg;
    if (c.callback.tls_cert.empty() != c.callback.tls_key.empty())
        error_at(st, "callback",
                 c.callback.tls_cert.empty() ? "callback_tls_key" : "callback_tls_cert",
                 "callback_tls_incomplete",
                 "callback_tls_cert and callback_tls_key must be set together");
    check_mapping_source(st);
    if (c.provider.http_connect_timeout > c.provider.http_timeout)
        error_at(st, "provider", "http_connect_timeout", "http_timeouts",
                 "http_connect_timeout is longer than http_timeout");
}

// Turns file_io's reasons into the fix an operator should apply; the reason token is kept.
Error with_fix(Error e, const std::string& path, bool secret) {
    if (e.reason == "file_mode")
        e.message = q(path) +
                    (secret ? " is accessible by group or others; run: chmod 600 "
                            : " is writable by group or others; run: chmod go-w ") +
                    path;
    else if (e.reason == "file_owner")
        e.message = q(path) + " is not owned by root; run: chown root " + path;
    else if (e.reason == "file_symlink")
        e.message = q(path) + " is a symbolic link; name the real file";
    return e;
}

void check_file(LoadState& st, std::string_view section, std::string_view key,
                const std::string& path, bool secret, uid_t owner) {
    if (path.empty())
        return;
    Error err;
    if (secret) {
        auto r = read_config_secret(path, owner);
        if (r)
            return;
        err = std::move(r).error();
    } else {
        FileRules rules;
        rules.required_owner = static_cast<long>(owner);
        rules.refuse_group_world_writable = true;
        auto r = read_file_checked(path, rules);
        if (r)
            return;
        err = with_fix(std::move(r).error(), path, false);
    }
    error_at(st, section, key, err.reason, std::string(key) + ": " + err.message);
}

} // namespace

void validate_config(LoadState& st) {
    check_required(st);
    check_provider_url(st, "issuer", st.cfg.provider.issuer);
    check_provider_url(st, "discovery_url", st.cfg.provider.discovery_url);
    check_redirect_uri(st);
    check_client_auth(st);
    check_algs(st);
    check_acr(st);
    check_login(st);
    check_rules(st);
    check_misc(st);
}

void check_config_files(LoadState& st, uid_t owner) {
    const auto& p = st.cfg.provider;
    check_file(st, "provider", "client_secret_file", p.client_secret_file, true, owner);
    check_file(st, "provider", "tls_client_key", p.tls_client_key, true, owner);
    check_file(st, "provider", "client_assertion_key", p.client_assertion_key, true, owner);
    check_file(st, "provider", "id_token_decryption_key", p.id_token_decryption_key, true, owner);
    check_file(st, "callback", "callback_tls_key", st.cfg.callback.tls_key, true, owner);
    check_file(st, "provider", "tls_client_cert", p.tls_client_cert, false, owner);
    check_file(st, "provider", "ca_file", p.ca_file, false, owner);
    check_file(st, "provider", "jwks_file", p.jwks_file, false, owner);
    check_file(st, "provider", "metadata_file", p.metadata_file, false, owner);
    check_file(st, "callback", "callback_tls_cert", st.cfg.callback.tls_cert, false, owner);
    const auto& l = st.cfg.mapping.ldap;
    check_file(st, "mapping", "ldap_bind_password_file", l.bind_password_file, true, owner);
    check_file(st, "mapping", "ldap_ca_file", l.ca_file, false, owner);
}

} // namespace psc::config_detail

namespace psc {

Result<Secret> read_config_secret(const std::string& path, uid_t trusted_owner) {
    FileRules rules;
    rules.max_bytes = 64 * 1024; // a secret or a PEM key; larger is a mistake
    rules.required_owner = static_cast<long>(trusted_owner);
    rules.refuse_group_world_readable = true;
    auto r = read_secret_file(path, rules);
    if (!r)
        return config_detail::with_fix(std::move(r).error(), path, true);
    return r;
}

} // namespace psc
