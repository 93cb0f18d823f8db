// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decision.hpp"

#include "username_template.hpp"

#include <algorithm>
#include <array>

namespace psc {
namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
        return up(x) == up(y);
    });
}

Error not_managed(std::string reason, std::string message) {
    return make_error(Errc::unknown_user, std::move(reason), std::move(message));
}

Error denied(std::string reason, std::string message) {
    return make_error(Errc::denied, std::move(reason), std::move(message));
}

// The decision's state as the rules run, in order; each rule may refuse.
struct Facts {
    const PscIdentity& id;
    const ManagedAccount& account;
    const DecisionRules& rules;
    std::string alias;
    std::string profession;
};

Status identity_valid(Facts& f) {
    if (!valid_idnat(f.id.idnat))
        return make_error(Errc::invalid, "idnat_invalid", "the identity claim is not a valid idNat");
    return {};
}

// The person must be the account's idNat, or have it as their own former ADELI identifier.
Status identity_is_account(Facts& f) {
    if (f.id.idnat == f.account.idnat)
        return {};
    if (f.rules.use_aliases)
        for (const auto& other : f.id.aliases)
            if (auto adeli = adeli_alias(other); adeli && *adeli == f.account.idnat) {
                f.alias = *adeli;
                return {};
            }
    return denied("mapping_other_user", "idNat " + f.id.idnat + " is not mapped to user \"" +
                                            f.account.user.name + "\"");
}

// allow_idnat names people: it is checked against the person's own idNat, never an alias.
Status idnat_allowed(Facts& f) {
    if (!f.rules.allow_idnat.empty() && !contains(f.rules.allow_idnat, f.id.idnat))
        return denied("idnat_not_allowed", "idNat " + f.id.idnat + " is not in allow_idnat");
    return {};
}

Status auth_mode(Facts& f) {
    if (!f.rules.require_auth_mode.empty() && f.id.auth_mode != f.rules.require_auth_mode)
        return denied("auth_mode_required",
                      "authentication by " + f.rules.require_auth_mode + " is required, not " +
                          (f.id.auth_mode.empty() ? std::string("an unstated mode")
                                                  : f.id.auth_mode));
    return {};
}

// A practice qualifies when its profession is allowed and its category is known and not denied.
// A rule that needs practice data refuses a person who has none (a structure card, a UserInfo
// without SubjectRefPro): missing data never reads as "allowed".
Status practices(Facts& f) {
    const DecisionRules& r = f.rules;
    const auto& ex = f.id.exercices;
    if (!r.needs_practice_data()) {
        if (ex && !ex->empty())
            f.profession = ex->front().profession;
        return {};
    }
    if (!ex || ex->empty())
        return denied("practice_data_missing",
                      "a profession or category rule is set and the provider sent no practice "
                      "(SubjectRefPro.exercices) for this person");
    bool allowed_profession = false;
    for (const auto& e : *ex) {
        if (!r.allow_professions.empty() && !contains(r.allow_professions, e.profession))
            continue;
        allowed_profession = true;
        if (!r.deny_categories.empty() &&
            (e.category.size() != 1 ||
             std::find(r.deny_categories.begin(), r.deny_categories.end(), e.category[0]) !=
                 r.deny_categories.end()))
            continue;
        f.profession = e.profession;
        return {};
    }
    if (allowed_profession)
        return denied("category_denied",
                      "every qualifying practice is in a denied category (or has none)");
    return denied("profession_not_allowed", "no practice with an allowed profession code");
}

using Rule = Status (*)(Facts&);
// The order is the order a reader should check them in: who, then may they.
constexpr std::array<Rule, 5> kRules = {identity_valid, identity_is_account, idnat_allowed,
                                        auth_mode, practices};

} // namespace

Status account_eligible(std::string_view requested_user, const AccountFacts& facts,
                        const AccountRules& rules) {
    const std::string name(requested_user);
    if (!valid_local_username(requested_user))
        return not_managed("user_name_invalid", "\"" + name + "\" is not a user name psc-login manages");
    if (!facts.local)
        return not_managed("user_missing", "no local account \"" + name + "\"");
    const LocalUser& lu = *facts.local;
    if ((lu.uid == 0 || lu.uid < rules.min_uid) && !contains(rules.allow_system_users, lu.name))
        return not_managed("system_user", "\"" + lu.name + "\" is a system account (uid " +
                                              std::to_string(lu.uid) + " < min_uid " +
                                              std::to_string(rules.min_uid) +
                                              ") and not in allow_system_users");
    return {};
}

Result<ManagedAccount> managed_account(std::string_view requested_user, const AccountFacts& facts,
                                       const AccountRules& rules) {
    PSC_TRY(account_eligible(requested_user, facts, rules));
    const std::string name(requested_user);
    const LocalUser& lu = *facts.local;
    if (!facts.idnat || !valid_idnat(*facts.idnat))
        return not_managed("user_unmapped",
                           "the mapping names no idNat for \"" + name + "\"");
    return ManagedAccount{lu, *facts.idnat, facts.source};
}

std::optional<std::string> mapped_idnat(const UserMap* map, std::string_view username_template,
                                        std::string_view user) {
    if (!username_template.empty())
        return username_template_idnat(username_template, user);
    if (map)
        return map->idnat_for(user);
    return std::nullopt;
}

Result<std::vector<std::string>> mapped_accounts(const UserMap* map,
                                                 std::string_view username_template,
                                                 std::string_view idnat) {
    if (!username_template.empty()) {
        auto name = expand_username_template(username_template, idnat);
        if (!name)
            return std::move(name).error();
        return std::vector<std::string>{std::move(*name)};
    }
    return map ? map->accounts_for(idnat) : std::vector<std::string>{};
}

DecisionRules decision_rules(const Config& cfg, std::string_view service) {
    const AuthzRules authz = cfg.policy_for(service).authz;
    DecisionRules r;
    r.use_aliases = !cfg.mapping.alias_claim.empty();
    r.allow_professions = authz.allow_professions;
    r.deny_categories = authz.deny_categories;
    r.allow_idnat = authz.allow_idnat;
    if (authz.require_auth_mode)
        r.require_auth_mode = std::string(to_string(*authz.require_auth_mode));
    return r;
}

AccountRules account_rules(const Config& cfg) {
    return AccountRules{cfg.mapping.min_uid, cfg.mapping.allow_system_users};
}

std::optional<std::string> adeli_alias(const OtherId& other) {
    if (!iequals(other.origin, "ADELI") || !all_digits(other.id))
        return std::nullopt;
    // PSC documents the ADELI idNat as "0" + the 9-digit number; otherIds may carry either form.
    if (other.id.size() == 9)
        return "0" + other.id;
    if (other.id.size() == 10 && other.id.front() == '0')
        return other.id;
    return std::nullopt;
}

Result<Decision> decide(const PscIdentity& identity, const ManagedAccount& account,
                        const DecisionRules& rules) {
    Facts f{identity, account, rules, {}, {}};
    for (Rule rule : kRules)
        PSC_TRY(rule(f));
    return Decision{account.user.name, account.user.uid, identity.idnat, std::move(f.alias),
                    std::move(f.profession), identity.auth_mode};
}

} // namespace psc
