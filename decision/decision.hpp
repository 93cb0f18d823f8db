// SPDX-License-Identifier: LGPL-2.1-or-later
// The whole decision of psc-login, from a PAM request to "this account, yes" or a named refusal,
// in two pure steps (no I/O: the caller looks things up and passes the facts in). psc-authd and
// `pscctl map` both use it, so they always agree.
//
//   1. managed_account(), when a login starts, before any provider contact: is the PAM user an
//      account psc-login manages? Root, system accounts (uid < min_uid unless in
//      allow_system_users), missing accounts and accounts the mapping does not name are answered
//      Errc::unknown_user, so the PAM stack's next module (pam_unix) serves them. A managed
//      account has exactly one idNat (users.map allows one per account; a username_template is
//      inverted; a directory entry holds one).
//   2. decide(), once the ID token and UserInfo are validated: the authenticated person must be
//      that account's idNat (or, with alias_claim, have it as their own former ADELI identifier),
//      then the authorization rules. Every refusal here is Errc::denied (or invalid): never
//      unknown_user, which would let a managed account fall through to its local password.
//
// The provider never picks the local account: the PAM user is the only account that can come out.
#pragma once

#include "config.hpp"
#include "identity.hpp"
#include "result.hpp"
#include "user_db.hpp"
#include "user_map.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// What the caller looked up about the PAM user before the login starts.
struct AccountFacts {
    std::optional<LocalUser> local;   // NSS; nullopt: no such account
    std::optional<std::string> idnat; // the mapping source; nullopt: it does not name the account
    std::string source;               // where idnat came from: "map", "template", ...
};

struct AccountRules {
    uid_t min_uid = 1000;
    std::vector<std::string> allow_system_users;
};

struct ManagedAccount {
    LocalUser user;
    std::string idnat;  // the account's own idNat: CIBA's login_hint, what decide() compares with
    std::string source; // "map", "template", ...
};

// The part of step 1 that needs no mapping lookup: root, system and missing accounts are never
// managed, whatever the mapping says. Reasons (Errc::unknown_user): user_name_invalid,
// user_missing, system_user.
[[nodiscard]] Status account_eligible(std::string_view requested_user, const AccountFacts& facts,
                                      const AccountRules& rules);
// Step 1. Reasons, all Errc::unknown_user: account_eligible()'s, user_unmapped.
[[nodiscard]] Result<ManagedAccount> managed_account(std::string_view requested_user,
                                                     const AccountFacts& facts,
                                                     const AccountRules& rules);

// The idNat a map file or a username_template gives a local account (nullopt: none). With a
// template, `map` is not consulted.
[[nodiscard]] std::optional<std::string> mapped_idnat(const UserMap* map,
                                                      std::string_view username_template,
                                                      std::string_view user);
// The reverse, for `pscctl map`: the local accounts an idNat is given. A template that cannot
// represent the idNat gives its refusal (template_lossy, template_no_rpps, ...).
[[nodiscard]] Result<std::vector<std::string>>
mapped_accounts(const UserMap* map, std::string_view username_template, std::string_view idnat);

// The authorization rules of one PAM service (psc-login.conf [mapping], [service:NAME]).
struct DecisionRules {
    bool use_aliases = false;                   // alias_claim is configured
    std::vector<std::string> allow_professions; // empty: any profession
    std::vector<char> deny_categories;
    std::vector<std::string> allow_idnat;  // empty: any idNat
    std::string require_auth_mode;         // empty: any
    [[nodiscard]] bool needs_practice_data() const noexcept {
        return !allow_professions.empty() || !deny_categories.empty();
    }
};

struct Decision {
    std::string user;
    uid_t uid = 0;
    std::string idnat;      // always the person's own idNat (PSC_IDNAT)
    std::string alias;      // the former identifier that matched the account, "" when none
    std::string profession; // the first qualifying practice's codeProfession (PSC_PROFESSION)
    std::string auth_mode;
};

// Step 2. Reasons: idnat_invalid (invalid); mapping_other_user, idnat_not_allowed,
// auth_mode_required, practice_data_missing, profession_not_allowed, category_denied (denied).
[[nodiscard]] Result<Decision> decide(const PscIdentity& identity, const ManagedAccount& account,
                                      const DecisionRules& rules);

// The rules of one PAM service ([mapping] and its [service:NAME] section), and the account
// rules, as psc-login.conf sets them.
[[nodiscard]] DecisionRules decision_rules(const Config& cfg, std::string_view service);
[[nodiscard]] AccountRules account_rules(const Config& cfg);

// The ADELI idNat ("0" + 9 digits) an otherIds entry stands for, when it is one: origine ADELI
// and the identifier either the 9-digit ADELI number or its idNat form. Anything else (another
// RPPS, a structure id, an unknown origine) is never an alias.
[[nodiscard]] std::optional<std::string> adeli_alias(const OtherId& other);

} // namespace psc
