// SPDX-License-Identifier: LGPL-2.1-or-later
// Loading psc-login.conf: reading the main file and its drop-ins safely, layering them over the
// defaults and the profile preset, and resolving [service:NAME] overrides.
#include "config.hpp"

#include "config_internal.hpp"
#include "config_values.hpp"
#include "file_io.hpp"
#include "owned.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace psc {

namespace config_detail {

std::string origin_key(std::string_view section, std::string_view key) {
    return std::string(section) + "." + std::string(key);
}

Location locate(const LoadState& st, std::string_view section, std::string_view key) {
    if (const auto it = st.origins.find(origin_key(section, key)); it != st.origins.end())
        return it->second;
    if (const auto it = st.sections.find(section); it != st.sections.end())
        return it->second;
    return Location{st.main_file, 0, false};
}

bool set_explicitly(const LoadState& st, std::string_view section, std::string_view key) {
    const auto it = st.origins.find(origin_key(section, key));
    return it != st.origins.end() && !it->second.preset;
}

void error_at(LoadState& st, std::string_view section, std::string_view key, std::string reason,
              std::string message) {
    const Location l = locate(st, section, key);
    st.diag.error(l.file, l.line, std::move(reason), std::move(message));
}

void warn_at(LoadState& st, std::string_view section, std::string_view key, std::string reason,
             std::string message) {
    const Location l = locate(st, section, key);
    st.diag.warn(l.file, l.line, std::move(reason), std::move(message));
}

} // namespace config_detail

namespace {

using config_detail::LoadState;
using config_detail::Location;
using DirPtr = Owned<DIR, ::closedir>;

// Config files decide who gets in: root-owned (or the test's uid), not writable by others.
FileRules config_file_rules(uid_t owner) {
    FileRules r;
    r.max_bytes = kIniMaxFileBytes;
    r.required_owner = static_cast<long>(owner);
    r.refuse_group_world_writable = true;
    return r;
}

bool is_dropin_name(std::string_view n) {
    constexpr std::string_view kSuffix = ".conf";
    return n.size() > kSuffix.size() && n.front() != '.' &&
           n.substr(n.size() - kSuffix.size()) == kSuffix;
}

// The drop-in directory itself is trusted like a config file: a directory others can write to
// would let them add a file. A missing directory is fine; a symlinked one is refused.
std::vector<std::string> list_dropins(const std::string& dir, uid_t owner, ConfigDiagnostics& d) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        const int e = errno;
        if (e != ENOENT)
            d.error(dir, 0, "dropin_dir",
                    e == ELOOP || e == ENOTDIR ? "not a directory (symbolic links are refused)"
                                               : std::string(std::strerror(e)));
        return {};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) {
        d.error(dir, 0, "dropin_dir", std::strerror(errno));
        return {};
    }
    if (st.st_uid != owner && st.st_uid != 0) {
        d.error(dir, 0, "file_owner", "directory is not owned by root; run: chown root " + dir);
        return {};
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        d.error(dir, 0, "file_mode",
                "directory is writable by group or others; run: chmod go-w " + dir);
        return {};
    }
    DirPtr dp(::fdopendir(fd.get()));
    if (!dp) {
        d.error(dir, 0, "dropin_dir", std::strerror(errno));
        return {};
    }
    (void)fd.release(); // now owned by dp
    std::vector<std::string> names;
    while (const dirent* de = ::readdir(dp.get()))
        if (is_dropin_name(de->d_name))
            names.emplace_back(de->d_name);
    // Byte order, as std::string compares with char_traits (memcmp semantics), not the locale.
    std::sort(names.begin(), names.end());
    for (auto& n : names)
        n = dir + "/" + n;
    return names;
}

bool read_and_parse(const std::string& path, uid_t owner, ConfigDiagnostics& d,
                    std::vector<IniDocument>& docs) {
    auto f = read_file_checked(path, config_file_rules(owner));
    if (!f) {
        std::string msg = f.error().message;
        // file_io prefixes the path; the issue's location already names it.
        if (msg.rfind(path + ": ", 0) == 0)
            msg.erase(0, path.size() + 2);
        d.error(path, 0, f.error().reason, msg);
        return false;
    }
    docs.push_back(parse_ini(path, f->content, d));
    return true;
}

std::string dirname_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

void note_sections(LoadState& st, const IniDocument& doc) {
    for (const auto& s : doc.sections) {
        if (!config_detail::is_known_section(s.name)) {
            st.diag.error(doc.file, s.line, "unknown_section",
                          "unknown section [" + strip_control(s.name) +
                              "] (expected provider, callback, login, mapping, limits or "
                              "service:NAME)");
            continue;
        }
        st.sections.try_emplace(s.name, Location{doc.file, s.line, false});
    }
}

struct Effective {
    const std::string* file;
    const IniEntry* entry;
};

// Later files, and later lines, win: only the last setting of each key is applied, so a value
// a drop-in overrides is not reported.
std::vector<Effective> effective_entries(const std::vector<IniDocument>& docs) {
    std::map<std::pair<std::string_view, std::string_view>, std::size_t> last;
    std::vector<Effective> all;
    for (const auto& doc : docs)
        for (const auto& e : doc.entries) {
            if (!config_detail::is_known_section(e.section))
                continue;
            last[{e.section, e.key}] = all.size();
            all.push_back(Effective{&doc.file, &e});
        }
    std::vector<Effective> out;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (last[{all[i].entry->section, all[i].entry->key}] == i)
            out.push_back(all[i]);
    return out;
}

// OpenID Connect Discovery §4: drop a trailing "/" of the issuer before appending.
void derive_defaults(LoadState& st) {
    auto& p = st.cfg.provider;
    if (p.discovery_url.empty() && !p.issuer.empty()) {
        std::string base = p.issuer;
        while (!base.empty() && base.back() == '/')
            base.pop_back();
        p.discovery_url = base + std::string(p.profile == Profile::generic ? kOidcDiscoverySuffix
                                                                           : kPscDiscoverySuffix);
    }
    // Requesting a level and accepting any would be a silent downgrade: accept what is asked.
    if (!config_detail::set_explicitly(st, "provider", "acr_accept") &&
        config_detail::set_explicitly(st, "provider", "acr_values"))
        p.acr_accept = p.acr_values;
}

void build(LoadState& st, const std::vector<IniDocument>& docs) {
    const std::size_t errors_before = st.diag.errors.size();
    for (const auto& doc : docs)
        note_sections(st, doc);
    const auto entries = effective_entries(docs);
    for (const auto& e : entries)
        if (e.entry->section == "provider" && e.entry->key == "profile")
            if (auto p = config_detail::parse_profile(e.entry->value))
                config_detail::apply_profile_preset(st, *p,
                                                    Location{*e.file, e.entry->line, false});
    for (const auto& e : entries)
        config_detail::apply_entry(st, *e.file, *e.entry);
    derive_defaults(st);
    for (const auto& [name, loc] : st.sections)
        if (name.rfind("service:", 0) == 0)
            st.cfg.service_locations.emplace(name.substr(8),
                                             loc.file + ":" + std::to_string(loc.line));
    // Cross-key rules on a config with bad values would mostly report consequences of those.
    if (st.diag.errors.size() == errors_before)
        config_detail::validate_config(st);
}

// The proxy keys win over the environment; a bad environment value is an error like a bad key
// (a half-read proxy setting would send provider traffic somewhere the operator did not mean).
void resolve_proxy(LoadState& st, bool use_environment) {
    auto& p = st.cfg.provider;
    const auto from_env = [&](std::initializer_list<const char*> names, auto&& apply) {
        if (!use_environment)
            return;
        for (const char* name : names) {
            const char* v = std::getenv(name);
            if (v == nullptr || *v == '\0')
                continue;
            const std::string where = std::string("environment variable ") + name;
            if (auto st2 = apply(where, std::string_view(v)); !st2)
                st.diag.error("environment", 0, st2.error().reason, st2.error().message);
            return;
        }
    };
    if (config_detail::set_explicitly(st, "provider", "https_proxy")) {
        const auto loc = config_detail::locate(st, "provider", "https_proxy");
        if (!p.https_proxy.empty())
            p.proxy_origin = loc.file + ":" + std::to_string(loc.line);
    } else {
        from_env({"https_proxy", "HTTPS_PROXY"}, [&](const std::string& where, std::string_view v) {
            auto url = parse_proxy_url(where, v);
            if (!url)
                return Status(std::move(url).error());
            p.https_proxy = std::move(*url);
            p.proxy_origin = where;
            return Status{};
        });
    }
    if (!config_detail::set_explicitly(st, "provider", "no_proxy"))
        from_env({"no_proxy", "NO_PROXY"}, [&](const std::string& where, std::string_view v) {
            auto list = parse_no_proxy(where, v);
            if (!list)
                return Status(std::move(list).error());
            p.no_proxy = std::move(*list);
            return Status{};
        });
}

Result<Config> finish(LoadState& st, std::size_t errors_before) {
    if (st.diag.errors.size() == errors_before)
        return std::move(st.cfg);
    const ConfigIssue& first = st.diag.errors[errors_before];
    return make_error(Errc::config, first.reason, first.text());
}

} // namespace

Result<Config> load_config(const std::string& path, const LoadOptions& opts,
                           ConfigDiagnostics* diag) {
    ConfigDiagnostics local;
    ConfigDiagnostics& d = diag ? *diag : local;
    const std::size_t errors_before = d.errors.size();
    LoadState st{Config{}, d, path, {}, {}};
    std::vector<IniDocument> docs;
    if (!read_and_parse(path, opts.trusted_owner, d, docs))
        return finish(st, errors_before);
    st.cfg.files.push_back(path);
    for (const auto& f :
         list_dropins(dirname_of(path) + "/psc-login.conf.d", opts.trusted_owner, d))
        if (read_and_parse(f, opts.trusted_owner, d, docs))
            st.cfg.files.push_back(f);
    build(st, docs);
    resolve_proxy(st, opts.proxy_environment);
    if (opts.check_files)
        config_detail::check_config_files(st, opts.trusted_owner);
    return finish(st, errors_before);
}

Result<Config> load_config_from_text(std::string_view name, std::string_view text,
                                     ConfigDiagnostics* diag) {
    ConfigDiagnostics local;
    ConfigDiagnostics& d = diag ? *diag : local;
    const std::size_t errors_before = d.errors.size();
    LoadState st{Config{}, d, std::string(name), {}, {}};
    if (text.size() > kIniMaxFileBytes) {
        d.error(std::string(name), 0, "file_too_large",
                "larger than " + std::to_string(kIniMaxFileBytes) + " bytes");
        return finish(st, errors_before);
    }
    std::vector<IniDocument> docs;
    docs.push_back(parse_ini(name, text, d));
    st.cfg.files.emplace_back(name);
    build(st, docs);
    resolve_proxy(st, false);
    return finish(st, errors_before);
}

ServicePolicy Config::policy_for(std::string_view service) const {
    ServicePolicy p{login, mapping.authz};
    const auto it = services.find(service);
    if (it == services.end())
        return p;
    const ServiceOverride& o = it->second;
    if (o.flows)
        p.login.flows = *o.flows;
    if (o.timeout)
        p.login.timeout = *o.timeout;
    if (o.ciba_channel)
        p.login.ciba_channel = *o.ciba_channel;
    if (o.logout_on_session_close)
        p.login.logout_on_session_close = *o.logout_on_session_close;
    if (o.allow_professions)
        p.authz.allow_professions = *o.allow_professions;
    if (o.deny_categories)
        p.authz.deny_categories = *o.deny_categories;
    if (o.allow_idnat)
        p.authz.allow_idnat = *o.allow_idnat;
    if (o.require_auth_mode)
        p.authz.require_auth_mode = *o.require_auth_mode;
    return p;
}

Result<Secret> load_client_secret(const Config& cfg, uid_t trusted_owner) {
    if (cfg.provider.client_secret_file.empty())
        return make_error(Errc::config, "missing_client_secret_file",
                          "no client_secret_file in [provider]");
    return read_config_secret(cfg.provider.client_secret_file, trusted_owner);
}

std::string_view to_string(Profile p) noexcept {
    switch (p) {
    case Profile::psc_production:
        return "psc-production";
    case Profile::psc_sandbox:
        return "psc-sandbox";
    case Profile::generic:
        break;
    }
    return "generic";
}

std::string_view to_string(TokenAuthMethod m) noexcept {
    switch (m) {
    case TokenAuthMethod::client_secret_basic:
        return "client_secret_basic";
    case TokenAuthMethod::client_secret_post:
        return "client_secret_post";
    case TokenAuthMethod::tls_client_auth:
        return "tls_client_auth";
    case TokenAuthMethod::private_key_jwt:
        break;
    }
    return "private_key_jwt";
}

std::string_view to_string(AcrMissing a) noexcept {
    return a == AcrMissing::accept ? "accept" : "reject";
}

std::string_view to_string(Flow f) noexcept {
    switch (f) {
    case Flow::code:
        return "code";
    case Flow::ciba:
        return "ciba";
    case Flow::device:
        break;
    }
    return "device";
}

std::string_view to_string(CibaChannel c) noexcept {
    return c == CibaChannel::mobile ? "MOBILE" : "CARD";
}

std::string_view to_string(AuthMode m) noexcept {
    return m == AuthMode::card ? "CARD" : "MOBILE";
}

std::string_view to_string(ConfirmCode c) noexcept {
    switch (c) {
    case ConfirmCode::always:
        return "always";
    case ConfirmCode::never:
        return "never";
    case ConfirmCode::automatic:
        break;
    }
    return "auto";
}

std::string_view to_string(MappingSource s) noexcept {
    switch (s) {
    case MappingSource::template_:
        return "template";
    case MappingSource::ldap:
        return "ldap";
    case MappingSource::sssd:
        return "sssd";
    case MappingSource::file:
        break;
    }
    return "file";
}

} // namespace psc
