// SPDX-License-Identifier: LGPL-2.1-or-later
// From an authenticated PSC identity to a yes/no for one local account (SPEC §4).
//
// The rule that matters most: the identity must map to *the PAM user that was asked for*. The
// provider never picks the local account; an identity that maps elsewhere is a username-switch
// attempt and is denied. Everything here is pure (no I/O except through UserDb) so it can be
// fuzzed.
#pragma once

#include "result.hpp"
#include "username_template.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace psc {

// One `SubjectRefPro.exercices[]` entry, reduced to what authorization rules look at.
struct Exercice {
    std::string profession; // codeProfession, e.g. "10" médecin, "60" infirmier
    std::string category;   // codeCategorieProfessionnelle: C civil, M public agent, E student
};

// What the daemon learnt from a validated ID token and UserInfo.
struct PscIdentity {
    std::string idnat;                // identity_claim (preferred_username / SubjectNameID)
    std::vector<std::string> aliases; // alias_claim (otherIds[].identifiant), e.g. old ADELI forms
    std::vector<Exercice> exercices;
    std::string auth_mode; // authMode: CARD, MOBILE, or empty when absent
};

// `IDNAT  localuser [localuser...]` lines (SPEC §4). A local account has at most one idNat.
class UserMap {
public:
    // Parses the whole file; any bad line rejects the whole map (reason map_syntax, map_idnat,
    // map_user, map_conflict), with "path:line: why" in the message.
    [[nodiscard]] static Result<UserMap> parse(std::string_view text, std::string_view path);

    // Local accounts this idNat may use (empty when unmapped).
    [[nodiscard]] std::vector<std::string> accounts_for(std::string_view idnat) const;
    // The reverse: the idNat mapped to a local account (CIBA's login_hint), nullopt when none.
    [[nodiscard]] std::optional<std::string> idnat_for(std::string_view user) const;
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::string idnat;
        std::string user;
    };
    std::vector<Entry> entries_; // small (hundreds of lines): linear scans keep it obviously right
};

struct MappingPolicy {
    std::string username_template; // e.g. "psc-{idnat_digits}"; empty: map file only
    uid_t min_uid = 1000;
    std::vector<std::string> allow_system_users;
    std::vector<std::string> allow_professions; // empty: any profession (and none)
    std::vector<std::string> deny_categories;
    std::vector<std::string> allow_idnat; // empty: any idNat
    std::string require_auth_mode;        // empty: any
};

struct LocalUser {
    std::string name;
    uid_t uid = 0;
};

// Account lookup, injectable for tests; the real one uses getpwnam_r.
class UserDb {
public:
    virtual ~UserDb() = default;
    // nullopt when the account does not exist; error when the lookup itself failed.
    [[nodiscard]] virtual Result<std::optional<LocalUser>>
    lookup(const std::string& name) const = 0;
};

class NssUserDb final : public UserDb {
public:
    [[nodiscard]] Result<std::optional<LocalUser>> lookup(const std::string& name) const override;
};

// True for idNat forms we accept as identifiers: 1–64 chars of [A-Za-z0-9/._-] (RPPS `8…`,
// ADELI `0…`, structure `5<SIRET>/<id>`, sandbox `ANS…`).
[[nodiscard]] bool valid_idnat(std::string_view idnat) noexcept;
[[nodiscard]] bool valid_local_username(std::string_view name) noexcept;

struct Decision {
    LocalUser user;
    std::string idnat;      // the identity that matched (primary or alias)
    std::string matched_by; // "map", "alias", "template"
    std::string profession; // first allowed exercice's codeProfession, for PSC_PROFESSION
};

// The whole decision for one login. Reasons (stable, reach PSC_REASON in the journal):
//   unknown_user:  identity_unmapped (maps to no account), user_missing (no such local account)
//   denied:        mapping_other_user (maps, but not to the requested user), system_user,
//                  idnat_not_allowed, profession_not_allowed, category_denied, auth_mode_required
//   invalid:       idnat_invalid, requested_user_invalid
[[nodiscard]] Result<Decision> decide(const PscIdentity& identity, std::string_view requested_user,
                                      const UserMap* map, const MappingPolicy& policy,
                                      const UserDb& users);

} // namespace psc
