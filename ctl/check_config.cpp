// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl check-config: load the configuration exactly as psc-authd does and say what is wrong,
// as "file:line: message" lines, or print a short summary. Never prints a secret: the summary
// names files, not their content.
#include "cli_args.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "deploy_checks.hpp"
#include "ini.hpp"

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
};

void usage(std::FILE* out) {
    std::fputs("Usage: pscctl check-config [--config PATH] [--service NAME] [--pam-dir DIR]\n\n"
               "Checks psc-login.conf and its drop-ins like psc-authd does, then what they\n"
               "depend on here: a PAM service file for each [service:NAME] (in DIR, default\n"
               "/etc/pam.d), the map file and its accounts, the client certificate and key,\n"
               "the CA file.\n"
               "Exit status: 0 valid, 1 invalid, 2 bad usage.\n",
               out);
}

// Returns the exit code for bad usage or --help, or nullopt when the arguments are fine.
std::optional<int> parse_check_args(int argc, char** argv, Args& args) {
    const auto a = parse_args(argc, argv, {"--config", "--service", "--pam-dir"});
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
    std::puts("OK");
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
    std::printf("acr: request %s, accept %s, missing %s\n", join(p.acr_values).c_str(),
                join(p.acr_accept).c_str(), std::string(to_string(p.acr_missing)).c_str());
    if (p.https_proxy.empty())
        std::puts("proxy: none (direct)");
    else
        std::printf("proxy: %s (from %s), not for: %s\n", p.https_proxy.c_str(),
                    p.proxy_origin.c_str(), join(p.no_proxy).c_str());
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
    std::vector<std::string> notes;
    const auto findings = deploy_checks(*cfg, dopts, notes);
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
