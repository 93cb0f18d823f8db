// SPDX-License-Identifier: LGPL-2.1-or-later
// The decision (decision/decision.hpp) and the users.map parser on arbitrary input. The input is
// split at the first NUL: before it a users.map, after it "idnat requested_user uid template
// alias:origine...". Invariants: a successful decision is always for the requested account; a
// template never gives two idNats one name (expand ∘ inverse is the identity).
#include "decision.hpp"
#include "strutil.hpp"
#include "username_template.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = in.find('\0');
    const std::string_view map_text = in.substr(0, nul);
    const std::string_view rest = nul == std::string_view::npos ? "" : in.substr(nul + 1);

    auto map = psc::UserMap::parse(map_text, "fuzz.map");
    const auto words = psc::split_ws(rest);
    if (words.size() < 3)
        return 0;
    const std::string& user = words[1];
    uid_t uid = 0;
    (void)std::from_chars(words[2].data(), words[2].data() + words[2].size(), uid);
    const std::string tmpl = words.size() > 3 ? words[3] : std::string();

    // A template's inverse must round-trip, and its expansion of the idNat must invert to it.
    if (!tmpl.empty()) {
        if (auto id = psc::username_template_idnat(tmpl, user)) {
            auto again = psc::expand_username_template(tmpl, *id);
            if (!again || *again != user)
                __builtin_trap();
        }
        if (auto name = psc::expand_username_template(tmpl, words[0])) {
            auto back = psc::username_template_idnat(tmpl, *name);
            if (!back || *back != words[0])
                __builtin_trap();
        }
    }

    psc::AccountFacts facts;
    facts.local = psc::LocalUser{user, uid};
    facts.idnat = psc::mapped_idnat(map.ok() ? &map.value() : nullptr, tmpl, user);
    auto account = psc::managed_account(user, facts, psc::AccountRules{});
    if (!account)
        return 0;
    psc::PscIdentity id;
    id.idnat = words[0];
    id.exercices = std::vector<psc::Exercice>{{"10", "C"}, {"60", "E"}};
    for (std::size_t i = 4; i < words.size(); ++i) {
        const auto colon = words[i].find(':');
        id.aliases.push_back({words[i].substr(0, colon),
                              colon == std::string::npos ? "" : words[i].substr(colon + 1)});
    }
    psc::DecisionRules rules;
    rules.use_aliases = true;
    rules.deny_categories = {'E'};
    auto d = psc::decide(id, *account, rules);
    if (d.ok() && (d->user != user || d->idnat != id.idnat))
        __builtin_trap();
    // Only the account's own idNat, or a genuine ADELI former identifier of it, opens it.
    if (d.ok() && id.idnat != account->idnat && d->alias != account->idnat)
        __builtin_trap();
    return 0;
}
