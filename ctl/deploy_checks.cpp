// SPDX-License-Identifier: LGPL-2.1-or-later
#include "deploy_checks.hpp"
#include "jwe.hpp"

#include "decision.hpp"
#include "directory.hpp"
#include "sssd.hpp"
#include "file_io.hpp"
#include "map_file.hpp"
#include "strutil.hpp"
#include "tls_files.hpp"
#include "username_template.hpp"

#include <sys/stat.h>

namespace psc::ctl {
namespace {

Finding error_at(std::string where, const Error& e) {
    return Finding{true, std::move(where), e.reason, e.message};
}

// design §7: a [service:NAME] section whose NAME has no PAM service file applies to nothing — a
// typo ("ssh" for "sshd") silently drops its rules.
void check_services(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out) {
    for (const auto& [name, where] : cfg.service_locations) {
        struct stat st {};
        const std::string path = o.pam_dir + "/" + name;
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
            continue;
        out.push_back({true, where, "service_no_pam_file",
                       "[service:" + name + "] names no PAM service: " + path +
                           " does not exist, so these settings never apply (a typo?)"});
    }
}

// A CA bundle (ca_file, ldap_ca_file): readable as the daemon reads it and holding certificates.
void check_ca_file(std::string_view key, const std::string& path, const DeployCheckOptions& o,
                   std::vector<Finding>& out, std::vector<std::string>& notes) {
    if (path.empty())
        return;
    FileRules rules;
    rules.required_owner = static_cast<long>(o.trusted_owner);
    rules.refuse_group_world_writable = true;
    auto f = read_file_checked(path, rules);
    if (!f)
        return; // the loader reported the file itself
    auto n = check_ca_pem(f->content, path);
    if (!n)
        out.push_back(error_at("", n.error()));
    else
        notes.push_back(std::string(key) + " " + path + ": " + std::to_string(*n) +
                        " certificate(s)");
}

// source = ldap: the password file and CA as psc-authd reads them; online, one bind and one
// search (an account name no directory holds: the base, the filter and the rights are tried).
void check_directory(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out,
                     std::vector<std::string>& notes) {
    const LdapConfig& l = cfg.mapping.ldap;
    check_ca_file("ldap_ca_file", l.ca_file, o, out, notes);
    auto password = read_ldap_bind_password(l, o.trusted_owner);
    if (!password) {
        out.push_back(error_at("", password.error()));
        return;
    }
    std::string uris;
    for (const auto& u : l.uris)
        uris += (uris.empty() ? "" : " ") + u;
    notes.push_back("ldap " + uris + ": base " + l.base + ", filter " + l.effective_filter() +
                    ", account in " + l.user_attribute +
                    (l.bind_dn.empty() ? ", anonymous" : ", bind as " + l.bind_dn));
    if (!o.online)
        return;
    LdapDirectory dir(l, std::move(*password));
    auto r = dir.account_entries("psc-login-check");
    if (!r) {
        out.push_back(error_at("", r.error()));
        return;
    }
    notes.push_back("ldap online: " + dir.where() + " answered a search");
}

// source = sssd: online, one ListByAttr for a value nobody holds (InfoPipe on the bus, psc-authd
// allowed to use it, the attribute searchable).
void check_sssd(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out,
                std::vector<std::string>& notes) {
    const SssdConfig& s = cfg.mapping.sssd;
    notes.push_back("sssd: InfoPipe on the system bus, idNat in " + s.idnat_attribute);
    if (!o.online)
        return;
    SssdDirectory dir(s);
    auto r = dir.idnat_entries("psc-login-check");
    if (!r) {
        out.push_back(error_at("", r.error()));
        return;
    }
    notes.push_back("sssd online: " + dir.where() + " answered a search by " + s.idnat_attribute);
}

void check_map(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out,
               std::vector<std::string>& notes) {
    if (cfg.mapping.source == MappingSource::ldap)
        return check_directory(cfg, o, out, notes);
    if (cfg.mapping.source == MappingSource::sssd)
        return check_sssd(cfg, o, out, notes);
    if (!cfg.mapping.username_template.empty()) {
        notes.push_back("username_template " + describe_username_template(cfg.mapping.username_template));
        return;
    }
    const std::string& path = cfg.mapping.map_file;
    auto map = read_user_map(path, o.trusted_owner);
    if (!map) {
        out.push_back(error_at("", map.error()));
        return;
    }
    notes.push_back("map_file " + path + ": " + std::to_string(map->size()) + " account(s)");
    for (const auto& d : map->duplicates())
        out.push_back({false, "", "map_duplicate", d + " (the repeated line is ignored)"});
    const NssUserDb users;
    const AccountRules rules = account_rules(cfg);
    for (const auto& user : map->users()) {
        auto local = users.lookup(user);
        if (!local) {
            out.push_back(error_at(path, local.error()));
            continue;
        }
        AccountFacts facts{*local, map->idnat_for(user), "map"};
        auto eligible = account_eligible(user, facts, rules);
        if (eligible)
            continue;
        if (eligible.error().reason == "user_missing")
            out.push_back({true, path, "map_user_missing",
                           "\"" + user + "\" has no local account: create it, or remove its line"});
        else
            out.push_back({false, path, "map_system_user",
                           "\"" + user + "\" is a system account: psc-login will not manage it "
                                         "unless allow_system_users lists it"});
    }
}

void check_client_cert(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out,
                       std::vector<std::string>& notes) {
    const ProviderConfig& p = cfg.provider;
    if (p.token_auth_method != TokenAuthMethod::tls_client_auth || p.tls_client_cert.empty() ||
        p.tls_client_key.empty())
        return;
    FileRules rules;
    rules.required_owner = static_cast<long>(o.trusted_owner);
    rules.refuse_group_world_writable = true;
    auto cert = read_file_checked(p.tls_client_cert, rules);
    auto key = read_config_secret(p.tls_client_key, o.trusted_owner);
    if (!cert || !key)
        return; // the loader reported the file itself
    auto s = check_client_credentials(cert->content, p.tls_client_cert, *key, p.tls_client_key,
                                      o.now);
    if (!s) {
        out.push_back(error_at("", s.error()));
        return;
    }
    notes.push_back("client certificate: " + s->subject + ", issued by " + s->issuer +
                    ", valid until " + utc_date(s->not_after));
    const auto left = s->not_after - o.now;
    if (left < static_cast<std::time_t>(o.expiry_warning_days) * 86400)
        out.push_back({false, "", "tls_cert_expiring",
                       p.tls_client_cert + " expires on " + utc_date(s->not_after) + " (in " +
                           std::to_string(left / 86400) + " day(s)): renew it with the ANS now"});
}

// The decryption key is parsed as psc-authd will at start: a key it cannot use is an error now,
// not a daemon that refuses to start later.
void check_decryption_key(const Config& cfg, const DeployCheckOptions& o,
                          std::vector<Finding>& out, std::vector<std::string>& notes) {
    const ProviderConfig& p = cfg.provider;
    if (p.id_token_decryption_key.empty())
        return;
    auto text = read_config_secret(p.id_token_decryption_key, o.trusted_owner);
    if (!text)
        return; // the loader reported the file itself
    auto keys = parse_jwe_keys(text->view());
    if (!keys) {
        out.push_back({true, p.id_token_decryption_key, keys.error().reason,
                       keys.error().message});
        return;
    }
    std::string kids;
    for (const auto& k : keys->keys)
        kids += (kids.empty() ? "" : ", ") +
                (k->kid.empty() ? std::string("no kid") : "kid " + k->kid) + " (RSA " +
                std::to_string(k->bits) + ")";
    notes.push_back("ID token decryption key(s): " + kids);
}

void check_ca(const Config& cfg, const DeployCheckOptions& o, std::vector<Finding>& out,
              std::vector<std::string>& notes) {
    check_ca_file("ca_file", cfg.provider.ca_file, o, out, notes);
}

} // namespace

std::string Finding::text() const {
    return (where.empty() ? std::string() : where + ": ") + (error ? "" : "warning: ") +
           strip_control(message);
}

std::vector<Finding> deploy_checks(const Config& cfg, const DeployCheckOptions& o,
                                   std::vector<std::string>& notes) {
    std::vector<Finding> out;
    check_services(cfg, o, out);
    check_map(cfg, o, out, notes);
    check_client_cert(cfg, o, out, notes);
    check_decryption_key(cfg, o, out, notes);
    check_ca(cfg, o, out, notes);
    return out;
}

} // namespace psc::ctl
