// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl map IDNAT: from the configuration, the local account(s) an idNat may log in to
// (map_file, username_template, or with source = ldap or sssd the directory itself, asked as
// psc-authd asks it, design §4) and whether each passes psc-authd's own decision
// (decision/decision.hpp): a managed account (exists, not a system account unless allowed, named
// by the mapping), the identity check and allow_idnat. UserInfo-based rules (professions,
// categories, auth mode) cannot be judged offline and are only listed.
#include "cli_args.hpp"
#include "commands.hpp"
#include "decision.hpp"
#include "directory.hpp"
#include "directory_source.hpp"
#include "map_file.hpp"
#include "output.hpp"
#include "strutil.hpp"
#include "username_template.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace psc::ctl {
namespace {

constexpr const char* kUsage =
    "Usage: pscctl map IDNAT [--service NAME] [--config PATH] [--json]\n\n"
    "Shows which local account(s) the configuration gives this idNat and whether each\n"
    "passes the account rules. With source = ldap or sssd, the directory is asked.\n"
    "Exit status: 0 at least one usable account, 1 none, 2 bad usage or unreadable map.\n";

// Where the candidates came from: "map_file" or "username_template", and what (the file, or the
// template described).
struct Source {
    std::string kind, detail;
};

// The mapping source as psc-authd reads it: the map file, the template, or the directory.
struct Mapping {
    std::optional<UserMap> map;
    std::unique_ptr<DirectorySearch> directory;
};

// The candidate accounts (source = ldap or sssd: every account an entry holding the idNat names).
Result<std::vector<std::string>> candidates(const Config& cfg, const std::string& idnat,
                                            Mapping& mapping, Source& source) {
    switch (cfg.mapping.source) {
    case MappingSource::template_:
        source = {"username_template", describe_username_template(cfg.mapping.username_template)};
        return mapped_accounts(nullptr, cfg.mapping.username_template, idnat);
    case MappingSource::ldap:
    case MappingSource::sssd: {
        auto directory = open_directory(cfg.mapping, ::geteuid());
        if (!directory)
            return std::move(directory).error();
        mapping.directory = std::move(*directory);
        source = {std::string(to_string(cfg.mapping.source)), mapping.directory->where()};
        auto entries = mapping.directory->idnat_entries(idnat);
        if (!entries)
            return std::move(entries).error();
        source.detail = mapping.directory->where(); // the server that answered
        std::vector<std::string> accounts;
        for (const auto& e : *entries)
            for (const auto& u : e.users)
                if (std::find(accounts.begin(), accounts.end(), u) == accounts.end())
                    accounts.push_back(u);
        return accounts;
    }
    case MappingSource::file:
        break;
    }
    source = {"map_file", cfg.mapping.map_file};
    auto m = read_user_map(cfg.mapping.map_file, ::geteuid());
    if (!m)
        return std::move(m).error();
    mapping.map = std::move(*m);
    return mapped_accounts(&*mapping.map, {}, idnat);
}

// One candidate's verdict.
struct Verdict {
    std::string account;
    Result<Decision> decision;
};

void print_report(const Source& src, const std::vector<Verdict>& verdicts, const std::string& idnat,
                  const DecisionRules& rules);

JsonPtr rules_json(const DecisionRules& r) {
    auto o = json_new_object();
    json_put_strings(o.get(), "allow_professions", r.allow_professions);
    std::vector<std::string> categories;
    for (char c : r.deny_categories)
        categories.emplace_back(1, c);
    json_put_strings(o.get(), "deny_categories", categories);
    if (r.require_auth_mode.empty())
        json_put_null(o.get(), "require_auth_mode");
    else
        json_put_string(o.get(), "require_auth_mode", r.require_auth_mode);
    return o;
}

// {"idnat", "source": {"kind", "detail"}, "accounts": [{"account", "usable", "uid" | "verdict",
// "reason", "message"}], "at_login_also_required": {...}}; or {"idnat", "source", "error"}.
void print_json(const Source& src, const std::vector<Verdict>* verdicts, const Error* error,
                const std::string& idnat, const DecisionRules& rules) {
    auto doc = json_new_object();
    json_put_string(doc.get(), "idnat", idnat);
    auto s = json_new_object();
    json_put_string(s.get(), "kind", src.kind);
    json_put_string(s.get(), "detail", src.detail);
    json_put(doc.get(), "source", std::move(s));
    if (error != nullptr) {
        json_put(doc.get(), "error", json_error(*error));
        json_print(doc.get());
        return;
    }
    auto list = json_new_array();
    for (const auto& v : *verdicts) {
        auto o = json_new_object();
        json_put_string(o.get(), "account", v.account);
        json_put_bool(o.get(), "usable", static_cast<bool>(v.decision));
        if (v.decision) {
            json_put_int(o.get(), "uid", v.decision->uid);
        } else {
            const auto& e = v.decision.error();
            json_put_string(o.get(), "verdict",
                            e.code == Errc::unknown_user ? "not managed" : "refused");
            json_put_string(o.get(), "reason", e.reason);
            json_put_string(o.get(), "message", e.message);
        }
        json_append(list.get(), std::move(o));
    }
    json_put(doc.get(), "accounts", std::move(list));
    json_put(doc.get(), "at_login_also_required", rules_json(rules));
    json_print(doc.get());
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
Result<Decision> judge(const Config& cfg, Mapping& mapping, const std::string& account,
                       const std::string& idnat, DecisionRules rules) {
    AccountFacts facts;
    auto local = NssUserDb().lookup(account);
    if (!local)
        return std::move(local).error();
    facts.local = *local;
    // Root, system and missing accounts: psc-authd never asks the mapping about them.
    if (auto st = account_eligible(account, facts, account_rules(cfg)); !st)
        return std::move(st).error();
    facts.source = std::string(to_string(cfg.mapping.source));
    if (mapping.directory) {
        auto m = directory_account_idnat(*mapping.directory, account);
        if (!m)
            return std::move(m).error();
        facts.idnat = m->idnat;
    } else {
        facts.idnat = mapped_idnat(mapping.map ? &*mapping.map : nullptr,
                                   cfg.mapping.username_template, account);
    }
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

void print_report(const Source& src, const std::vector<Verdict>& verdicts, const std::string& idnat,
                  const DecisionRules& rules) {
    if (src.kind == "ldap" || src.kind == "sssd") {
        std::printf("source: %s %s: %zu account(s) hold this idNat\n", src.kind.c_str(),
                    src.detail.c_str(),
                    verdicts.size());
        // InfoPipe's ListByAttr searches SSSD's cache only (the login itself looks the account
        // up first, so its own entry is always there).
        if (src.kind == "sssd")
            std::printf("(SSSD searched its cache: accounts it has not looked up yet are not "
                        "counted unless its domain has enumerate = true)\n");
    } else if (src.kind == "username_template") {
        std::printf("source: username_template %s\n", src.detail.c_str());
        if (!verdicts.empty())
            std::printf("username_template gives: %s\n", verdicts.front().account.c_str());
    } else {
        std::printf("source: map_file %s: %zu account(s)\n", src.detail.c_str(), verdicts.size());
    }
    for (const auto& v : verdicts) {
        if (v.decision) {
            std::printf("  %s (uid %u): %s\n", v.decision->user.c_str(),
                        static_cast<unsigned>(v.decision->uid),
                        paint(stdout, Tone::good, "OK").c_str());
        } else {
            const auto& e = v.decision.error();
            std::printf("  %s: %s: %s\n", v.account.c_str(),
                        paint(stdout, Tone::bad,
                              e.code == Errc::unknown_user ? "not managed" : "refused")
                            .c_str(),
                        strip_control(e.describe()).c_str());
        }
    }
    if (verdicts.empty())
        std::printf("idNat %s is not mapped to any local account\n", idnat.c_str());
    print_offline_rules(rules);
}

} // namespace

int cmd_map(int argc, char** argv) {
    const auto a = parse_args(argc, argv, {"--config", "--service"}, {"--json"});
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
    const bool json = has_flag(a, "--json");
    const std::string& idnat = a.positional[0];
    auto cfg = load_config_for_cli(option(a, "--config").value_or(std::string(kDefaultConfigPath)));
    if (!cfg)
        return kExitUsage;
    Mapping mapping;
    Source src;
    const DecisionRules rules = decision_rules(*cfg, service.value_or(""));
    auto accounts = candidates(*cfg, idnat, mapping, src);
    if (!accounts) {
        if (json)
            print_json(src, nullptr, &accounts.error(), idnat, rules);
        else
            std::printf("%s\n", strip_control(accounts.error().describe()).c_str());
        return accounts.error().code == Errc::config ? kExitUsage : kExitRejected;
    }
    std::vector<Verdict> verdicts;
    for (const auto& account : *accounts)
        verdicts.push_back({account, judge(*cfg, mapping, account, idnat, rules)});
    if (json)
        print_json(src, &verdicts, nullptr, idnat, rules);
    else
        print_report(src, verdicts, idnat, rules);
    const bool usable = std::any_of(verdicts.begin(), verdicts.end(),
                                    [](const Verdict& v) { return static_cast<bool>(v.decision); });
    return usable ? kExitOk : kExitRejected;
}

} // namespace psc::ctl
