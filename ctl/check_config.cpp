// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl check-config: load the configuration exactly as psc-authd does and say what is wrong,
// as "file:line: message" lines, or print a short summary. Never prints a secret: the summary
// names files, not their content.
#include "cli_args.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "deploy_checks.hpp"
#include "ini.hpp"
#include "output.hpp"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>

namespace psc::ctl {
namespace {

struct Args {
    std::string config{kDefaultConfigPath};
    std::optional<std::string> service;
    std::string pam_dir = "/etc/pam.d";
    bool json = false;
    bool online = false;
};

void usage(std::FILE* out) {
    std::fputs("Usage: pscctl check-config [--config PATH] [--service NAME] [--pam-dir DIR]\n"
               "                          [--online] [--json]\n\n"
               "Checks psc-login.conf and its drop-ins like psc-authd does, then what they\n"
               "depend on here: a PAM service file for each [service:NAME] (in DIR, default\n"
               "/etc/pam.d), the map file and its accounts, the client certificate and key,\n"
               "the CA file. With --online and source = ldap: binds to the directory and runs\n"
               "one search, as psc-authd would; with source = sssd: asks SSSD's InfoPipe once.\n"
               "Exit status: 0 valid, 1 invalid, 2 bad usage.\n",
               out);
}

// Returns the exit code for bad usage or --help, or nullopt when the arguments are fine.
std::optional<int> parse_check_args(int argc, char** argv, Args& args) {
    const auto a = parse_args(argc, argv, {"--config", "--service", "--pam-dir"},
                              {"--json", "--online"});
    if (a.help) {
        usage(stdout);
        return kExitOk;
    }
    const auto config = option(a, "--config");
    const auto service = option(a, "--service");
    const auto pam_dir = option(a, "--pam-dir");
    if (!a.error.empty() || !a.positional.empty() || (config && config->empty()) ||
        (service && !is_valid_service_name(*service)) || (pam_dir && pam_dir->empty())) {
        std::fprintf(stderr, "pscctl check-config: invalid argument \"%s\"\n",
                     !a.error.empty() ? a.error.c_str()
                     : !a.positional.empty() ? a.positional[0].c_str()
                                             : (service ? service->c_str() : ""));
        usage(stderr);
        return kExitUsage;
    }
    args.config = config.value_or(args.config);
    args.service = service;
    args.pam_dir = pam_dir.value_or(args.pam_dir);
    args.json = has_flag(a, "--json");
    args.online = has_flag(a, "--online");
    return std::nullopt;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : " ") + s;
    return out.empty() ? "(none)" : out;
}

std::string flows_text(const std::vector<Flow>& flows) {
    std::string out;
    for (Flow f : flows)
        out += (out.empty() ? "" : " ") + std::string(to_string(f));
    return out;
}

void print_service(std::string_view name, const ServicePolicy& p) {
    std::printf("service %.*s: flows %s, timeout %llds, ciba_channel %.*s",
                static_cast<int>(name.size()), name.data(), flows_text(p.login.flows).c_str(),
                static_cast<long long>(p.login.timeout.count()),
                static_cast<int>(to_string(p.login.ciba_channel).size()),
                to_string(p.login.ciba_channel).data());
    if (!p.authz.allow_professions.empty())
        std::printf(", professions %s", join(p.authz.allow_professions).c_str());
    if (!p.authz.deny_categories.empty())
        std::printf(
            ", deny categories %s",
            std::string(p.authz.deny_categories.begin(), p.authz.deny_categories.end()).c_str());
    if (p.authz.require_auth_mode)
        std::printf(", auth mode %s", std::string(to_string(*p.authz.require_auth_mode)).c_str());
    std::fputc('\n', stdout);
}

void print_summary(const Config& c, const Args& args) {
    const auto& p = c.provider;
    std::puts(paint(stdout, Tone::good, "OK").c_str());
    std::printf("files: %s\n", join(c.files).c_str());
    std::printf("profile: %s\n", std::string(to_string(p.profile)).c_str());
    std::printf("issuer: %s\n", p.issuer.c_str());
    if (!p.metadata_file.empty())
        std::printf("metadata_file: %s\n", p.metadata_file.c_str());
    else
        std::printf("discovery_url: %s\n", p.discovery_url.c_str());
    std::printf("client_id: %s\n", p.client_id.c_str());
    std::printf("token_auth_method: %s\n", std::string(to_string(p.token_auth_method)).c_str());
    std::printf("id_token_algs: %s\n", join(p.id_token_algs).c_str());
    if (p.id_token_decryption_key.empty())
        std::puts("id_token_decryption_key: none (encrypted ID tokens are refused)");
    else
        std::printf("id_token_decryption_key: %s (%s)\n", p.id_token_decryption_key.c_str(),
                    join(p.id_token_decryption_algs).c_str());
    std::printf("acr: request %s, accept %s, missing %s\n", join(p.acr_values).c_str(),
                join(p.acr_accept).c_str(), std::string(to_string(p.acr_missing)).c_str());
    if (p.https_proxy.empty())
        std::puts("proxy: none (direct)");
    else
        std::printf("proxy: %s (from %s), not for: loopback%s%s\n", p.https_proxy.c_str(),
                    p.proxy_origin.c_str(), p.no_proxy.empty() ? "" : " ",
                    p.no_proxy.empty() ? "" : join(p.no_proxy).c_str());
    if (!p.extra_auth_params.empty()) {
        std::string extra;
        for (const auto& [name, value] : p.extra_auth_params)
            extra += (extra.empty() ? "" : " ") + name + "=" + value;
        std::printf("extra_auth_params: %s\n", extra.c_str());
    }
    if (c.callback.redirect_uri.empty())
        std::printf("callback: %s%s%s:%u\n", c.callback.listen_ipv6 ? "[" : "",
                    c.callback.listen_host.c_str(), c.callback.listen_ipv6 ? "]" : "",
                    static_cast<unsigned>(c.callback.listen_port));
    else
        std::printf("callback: redirect_uri %s\n", c.callback.redirect_uri.c_str());
    if (args.service) {
        print_service(*args.service, c.policy_for(*args.service));
        return;
    }
    print_service("(default)", c.policy_for({}));
    for (const auto& [name, ov] : c.services)
        print_service(name, c.policy_for(name));
}

JsonPtr flows_json(const std::vector<Flow>& flows) {
    auto a = json_new_array();
    for (Flow f : flows)
        json_append_string(a.get(), to_string(f));
    return a;
}

JsonPtr service_json(std::string_view name, const ServicePolicy& p) {
    auto o = json_new_object();
    json_put_string(o.get(), "name", name);
    json_put(o.get(), "flows", flows_json(p.login.flows));
    json_put_int(o.get(), "timeout_seconds", p.login.timeout.count());
    json_put_string(o.get(), "ciba_channel", to_string(p.login.ciba_channel));
    json_put_strings(o.get(), "allow_professions", p.authz.allow_professions);
    std::vector<std::string> categories;
    for (char c : p.authz.deny_categories)
        categories.emplace_back(1, c);
    json_put_strings(o.get(), "deny_categories", categories);
    if (p.authz.require_auth_mode)
        json_put_string(o.get(), "require_auth_mode", to_string(*p.authz.require_auth_mode));
    else
        json_put_null(o.get(), "require_auth_mode");
    return o;
}

// The same facts as print_summary(), for --json.
JsonPtr summary_json(const Config& c, const Args& args) {
    const auto& p = c.provider;
    auto o = json_new_object();
    json_put_strings(o.get(), "files", c.files);
    json_put_string(o.get(), "profile", to_string(p.profile));
    json_put_string(o.get(), "issuer", p.issuer);
    if (!p.metadata_file.empty())
        json_put_string(o.get(), "metadata_file", p.metadata_file);
    else
        json_put_string(o.get(), "discovery_url", p.discovery_url);
    json_put_string(o.get(), "client_id", p.client_id);
    json_put_string(o.get(), "token_auth_method", to_string(p.token_auth_method));
    json_put_strings(o.get(), "id_token_algs", p.id_token_algs);
    json_put_string(o.get(), "id_token_decryption_key", p.id_token_decryption_key);
    json_put_strings(o.get(), "id_token_decryption_algs", p.id_token_decryption_algs);
    auto acr = json_new_object();
    json_put_strings(acr.get(), "request", p.acr_values);
    json_put_strings(acr.get(), "accept", p.acr_accept);
    json_put_string(acr.get(), "missing", to_string(p.acr_missing));
    json_put(o.get(), "acr", std::move(acr));
    if (p.https_proxy.empty()) {
        json_put_null(o.get(), "proxy");
    } else {
        auto proxy = json_new_object();
        json_put_string(proxy.get(), "url", p.https_proxy);
        json_put_string(proxy.get(), "origin", p.proxy_origin);
        json_put_strings(proxy.get(), "no_proxy", p.no_proxy);
        json_put(o.get(), "proxy", std::move(proxy));
    }
    auto extra = json_new_object();
    for (const auto& [name, value] : p.extra_auth_params)
        json_put_string(extra.get(), name.c_str(), value);
    json_put(o.get(), "extra_auth_params", std::move(extra));
    auto cb = json_new_object();
    if (c.callback.redirect_uri.empty()) {
        json_put_string(cb.get(), "listen_host", c.callback.listen_host);
        json_put_int(cb.get(), "listen_port", c.callback.listen_port);
    } else {
        json_put_string(cb.get(), "redirect_uri", c.callback.redirect_uri);
    }
    json_put(o.get(), "callback", std::move(cb));
    auto services = json_new_array();
    if (args.service) {
        json_append(services.get(), service_json(*args.service, c.policy_for(*args.service)));
    } else {
        json_append(services.get(), service_json("(default)", c.policy_for({})));
        for (const auto& [name, ov] : c.services)
            json_append(services.get(), service_json(name, c.policy_for(name)));
    }
    json_put(o.get(), "services", std::move(services));
    return o;
}

JsonPtr problem_json(bool error, const std::string& where, const std::string& reason,
                     const std::string& message) {
    auto o = json_new_object();
    json_put_string(o.get(), "severity", error ? "error" : "warning");
    json_put_string(o.get(), "where", where);
    json_put_string(o.get(), "reason", reason);
    json_put_string(o.get(), "message", message);
    return o;
}

std::string where(const ConfigIssue& i) {
    return i.line == 0 ? i.file : i.file + ":" + std::to_string(i.line);
}

// --json: one object with "valid", every problem found (errors and warnings, with where, reason
// and message), and when valid the summary and notes.
int print_json_report(const Args& args, const ConfigDiagnostics& diag, const Config* cfg,
                      const std::vector<Finding>& findings, const std::vector<std::string>& notes,
                      bool valid) {
    auto doc = json_new_object();
    json_put_bool(doc.get(), "valid", valid);
    json_put_string(doc.get(), "config", args.config);
    auto problems = json_new_array();
    for (const auto* list : {&diag.errors, &diag.warnings})
        for (const auto& i : *list)
            json_append(problems.get(), problem_json(!i.warning, where(i), i.reason, i.message));
    for (const auto& f : findings)
        json_append(problems.get(), problem_json(f.error, f.where, f.reason, f.message));
    json_put(doc.get(), "problems", std::move(problems));
    if (cfg && valid) {
        json_put(doc.get(), "summary", summary_json(*cfg, args));
        json_put_strings(doc.get(), "notes", notes);
    }
    json_print(doc.get());
    return valid ? kExitOk : kExitRejected;
}

} // namespace

int cmd_check_config(int argc, char** argv) {
    Args args;
    if (auto rc = parse_check_args(argc, argv, args))
        return *rc;
    LoadOptions opts;
    opts.proxy_environment = true;
    // Run as root this is exactly psc-authd's check. As another user, files that user owns are
    // trusted too, so a draft can be checked before it is installed.
    opts.trusted_owner = ::geteuid();
    if (opts.trusted_owner != 0)
        std::fprintf(stderr,
                     "note: not running as root: files owned by uid %u are accepted here, "
                     "psc-authd accepts only root-owned files\n",
                     static_cast<unsigned>(opts.trusted_owner));
    ConfigDiagnostics diag;
    auto cfg = load_config(args.config, opts, &diag);
    if (args.json && !cfg)
        return print_json_report(args, diag, nullptr, {}, {}, false);
    if (!args.json)
        for (const auto& w : diag.warnings)
            std::fprintf(stderr, "%s\n", w.text().c_str());
    if (!cfg) {
        for (const auto& e : diag.errors)
            std::fprintf(stderr, "%s\n", e.text().c_str());
        return kExitRejected;
    }
    DeployCheckOptions dopts;
    dopts.pam_dir = args.pam_dir;
    dopts.trusted_owner = opts.trusted_owner;
    dopts.now = std::time(nullptr);
    dopts.online = args.online;
    std::vector<std::string> notes;
    const auto findings = deploy_checks(*cfg, dopts, notes);
    if (args.json) {
        const bool any_error = std::any_of(findings.begin(), findings.end(),
                                           [](const Finding& f) { return f.error; });
        return print_json_report(args, diag, &*cfg, findings, notes, !any_error);
    }
    bool failed = false;
    for (const auto& f : findings) {
        std::fprintf(stderr, "%s\n", f.text().c_str());
        failed = failed || f.error;
    }
    if (failed)
        return kExitRejected;
    print_summary(*cfg, args);
    for (const auto& n : notes)
        std::printf("%s\n", n.c_str());
    return kExitOk;
}

} // namespace psc::ctl
