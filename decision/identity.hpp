// SPDX-License-Identifier: LGPL-2.1-or-later
// What the daemon learnt about the person from a validated ID token and UserInfo, reduced to what
// the decision looks at. Built by the daemon (daemon/login_finish.cpp); read by decision.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace psc {

// One `SubjectRefPro.exercices[]` entry, reduced to what authorization rules look at.
struct Exercice {
    std::string profession; // codeProfession, e.g. "10" médecin, "60" infirmier ("" when absent)
    std::string category;   // codeCategorieProfessionnelle: C civil, M public agent, E student
};

// One `otherIds[]` entry (alias_claim): another identifier of the same person, with where it
// comes from (`origine`: "ADELI", "RPPS", ...).
struct OtherId {
    std::string id;
    std::string origin;
};

struct PscIdentity {
    std::string idnat;            // identity_claim (preferred_username / SubjectNameID)
    std::vector<OtherId> aliases; // alias_claim entries, as sent (the decision filters them)
    // SubjectRefPro.exercices[]; nullopt when UserInfo carried no practice data at all.
    std::optional<std::vector<Exercice>> exercices;
    std::string auth_mode; // authMode: CARD, MOBILE, or empty when absent
};

} // namespace psc
