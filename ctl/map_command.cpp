// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl map IDNAT: offline, from the configuration, the local account(s) an idNat may log in to
// (map_file or username_template, design §4) and whether each passes psc-authd's own decision
// (decision/decision.hpp): a managed account (exists, not a system account unless allowed, named
// by the mapping), the identity check and allow_idnat. UserInfo-based rules (professions,
// categories, auth mode) cannot be judged offline and are only listed.
#include "cli_args.hpp"
#include "commands.hpp"
#include "decision.hpp"
#include "map_file.hpp"
#include "strutil.hpp"
#include "username_template.hpp"

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

// The candidate accounts, and the map they came from (when a map file is the source).
Result<std::vector<std::string>> candidates(const Config& cfg, const std::string& idnat,
                                            std::optional<UserMap>& map) {
    const std::string& tmpl = cfg.mapping.username_template;
    if (!tmpl.empty()) {
        std::printf("source: username_template %s\n", describe_username_template(tmpl).c_str());
        auto accounts = mapped_accounts(nullptr, tmpl, idnat);
        if (accounts)
            std::printf("username_template gives: %s\n", accounts->front().c_str());
        return accounts;
    }
    auto m = read_user_map(cfg.mapping.map_file, ::geteuid());
    if (!m)
        return std::move(m).error();
    map = std::move(*m);
    auto accounts = mapped_accounts(&*map, {}, idnat);
    std::printf("source: map_file %s: %zu account(s)\n", cfg.mapping.map_file.c_str(),
                accounts->size());
    return accounts;
}

void print_offline_rules(const DecisionRules& r) {
    std::string s;
    for (const auto& p : r.allow_professions)
        s += " " + p;
    if (!s.empty())
        std::printf("at login also required: profession in {%s }\n", s.c_str());
    if (!r.deny_categories.empty())
        std::printf("at login also required: category not in {%s}\n",
                    std::string(r.deny_categories.begin(), r.deny_categories.end()).c_str());
    if (!r.require_auth_mode.empty())
        std::printf("at login also required: auth mode %s\n", r.require_auth_mode.c_str());
}

// One candidate through both steps of the decision, as psc-authd would run them.
Result<Decision> judge(const Config& cfg, const UserMap* map, const std::string& account,
                       const std::string& idnat, DecisionRules rules) {
    AccountFacts facts;
    auto local = NssUserDb().lookup(account);
    if (!local)
        return std::move(local).error();
    facts.local = *local;
    facts.idnat = mapped_idnat(map, cfg.mapping.username_template, account);
    facts.source = cfg.mapping.username_template.empty() ? "map" : "template";
    auto managed = managed_account(account, facts, account_rules(cfg));
    if (!managed)
        return std::move(managed).error();
    rules.allow_professions.clear(); // need UserInfo: listed, not judged
    rules.deny_categories.clear();
    rules.require_auth_mode.clear();
    PscIdentity who;
    who.idnat = idnat;
    return decide(who, *managed, rules);
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
        return accounts.error().code == Errc::config ? kExitUsage : kExitRejected;
    }
    const DecisionRules rules = decision_rules(*cfg, service.value_or(""));
    int usable = 0;
    for (const auto& account : *accounts) {
        auto d = judge(*cfg, map ? &*map : nullptr, account, idnat, rules);
        if (d) {
            ++usable;
            std::printf("  %s (uid %u): OK\n", d->user.c_str(), static_cast<unsigned>(d->uid));
        } else {
            std::printf("  %s: %s: %s\n", account.c_str(),
                        d.error().code == Errc::unknown_user ? "not managed" : "refused",
                        strip_control(d.error().describe()).c_str());
        }
    }
    if (accounts->empty())
        std::printf("idNat %s is not mapped to any local account\n", idnat.c_str());
    print_offline_rules(rules);
    return usable > 0 ? kExitOk : kExitRejected;
}

} // namespace psc::ctl
