// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl map IDNAT: offline, from the configuration, the local account(s) an idNat may log in to
// (map_file or username_template, SPEC §4) and whether each passes the account rules (exists via
// NSS, not a system account unless allowed, allow_idnat of the service). Uses the daemon's own
// decide(), so the answer is the daemon's; UserInfo-based rules (professions, categories, auth
// mode) cannot be judged offline and are only listed.
#include "cli_args.hpp"
#include "commands.hpp"
#include "file_io.hpp"
#include "ini.hpp"
#include "mapping.hpp"
#include "strutil.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace psc::ctl {
namespace {

constexpr const char* kUsage =
    "Usage: pscctl map IDNAT [--service NAME] [--config PATH]\n\n"
    "Shows which local account(s) the configuration gives this idNat and whether each\n"
    "passes the account rules.\n"
    "Exit status: 0 at least one usable account, 1 none, 2 bad usage or unreadable map.\n";

// The map file as the daemon reads it (daemon/login_finish.cpp MapFileCache): owner and mode
// checked, any bad line rejects the whole map.
Result<UserMap> read_map(const std::string& path) {
    FileRules rules;
    rules.required_owner = static_cast<long>(::geteuid());
    rules.refuse_group_world_writable = true;
    auto f = read_file_checked(path, rules);
    if (!f)
        return make_error(Errc::unavailable, "map_unusable", path + ": " + f.error().describe());
    return UserMap::parse(f->content, path);
}

// The candidate accounts and how they were found.
Result<std::vector<std::string>> candidates(const Config& cfg, const std::string& idnat,
                                            std::optional<UserMap>& map) {
    if (!cfg.mapping.username_template.empty()) {
        auto name = expand_username_template(cfg.mapping.username_template, idnat);
        if (!name)
            return std::move(name).error();
        std::printf("username_template %s gives: %s\n", cfg.mapping.username_template.c_str(),
                    name->c_str());
        return std::vector<std::string>{*name};
    }
    auto m = read_map(cfg.mapping.map_file);
    if (!m)
        return std::move(m).error();
    map = std::move(*m);
    auto accounts = map->accounts_for(idnat);
    std::printf("map_file %s: %zu account(s)\n", cfg.mapping.map_file.c_str(), accounts.size());
    return accounts;
}

void print_offline_rules(const AuthzRules& authz) {
    std::string s;
    for (const auto& p : authz.allow_professions)
        s += " " + p;
    if (!s.empty())
        std::printf("at login also required: profession in {%s }\n", s.c_str());
    if (!authz.deny_categories.empty())
        std::printf("at login also required: category not in {%s}\n",
                    std::string(authz.deny_categories.begin(), authz.deny_categories.end()).c_str());
    if (authz.require_auth_mode)
        std::printf("at login also required: auth mode %s\n",
                    std::string(to_string(*authz.require_auth_mode)).c_str());
}

} // namespace

int cmd_map(int argc, char** argv) {
    const auto a = parse_args(argc, argv, {"--config", "--service"});
    if (a.help) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    const auto service = option(a, "--service");
    if (!a.error.empty() || a.positional.size() != 1 || !valid_idnat(a.positional[0]) ||
        (service && !is_valid_service_name(*service))) {
        std::fprintf(stderr, "pscctl map: invalid arguments (IDNAT: 1-64 of [A-Za-z0-9/._-])\n%s",
                     kUsage);
        return kExitUsage;
    }
    const std::string& idnat = a.positional[0];
    auto cfg = load_config_for_cli(option(a, "--config").value_or(std::string(kDefaultConfigPath)));
    if (!cfg)
        return kExitUsage;
    std::optional<UserMap> map;
    auto accounts = candidates(*cfg, idnat, map);
    if (!accounts) {
        std::printf("%s\n", strip_control(accounts.error().describe()).c_str());
        return accounts.error().reason == "map_unusable" || accounts.error().code == Errc::invalid ||
                       accounts.error().code == Errc::config
                   ? kExitUsage
                   : kExitRejected;
    }
    const AuthzRules authz = cfg->policy_for(service.value_or("")).authz;
    MappingPolicy policy;
    policy.username_template = cfg->mapping.username_template;
    policy.min_uid = cfg->mapping.min_uid;
    policy.allow_system_users = cfg->mapping.allow_system_users;
    policy.allow_idnat = authz.allow_idnat;
    PscIdentity who;
    who.idnat = idnat;
    const NssUserDb users;
    int usable = 0;
    for (const auto& account : *accounts) {
        auto d = decide(who, account, map ? &*map : nullptr, policy, users);
        if (d) {
            ++usable;
            std::printf("  %s (uid %u): OK\n", d->user.name.c_str(),
                        static_cast<unsigned>(d->user.uid));
        } else {
            std::printf("  %s: refused: %s\n", account.c_str(),
                        strip_control(d.error().describe()).c_str());
        }
    }
    if (accounts->empty())
        std::printf("idNat %s is not mapped to any local account\n", idnat.c_str());
    print_offline_rules(authz);
    return usable > 0 ? kExitOk : kExitRejected;
}

} // namespace psc::ctl
