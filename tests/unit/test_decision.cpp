// SPDX-License-Identifier: LGPL-2.1-or-later
// The decision (decision/decision.hpp), one table row per rule and per refusal: which accounts
// psc-login manages (step 1, before any provider contact), then who may use a managed account
// (step 2). Also the users.map format and the injective username_template with its inverse, for
// every idNat form PSC issues.
#include "decision.hpp"
#include "errors.hpp"
#include "testing.hpp"
#include "username_template.hpp"

using namespace psc;

namespace {

// The idNat forms PSC issues (docs/pro-sante-connect.md): 8+RPPS, 0+ADELI, structure cards
// 3+FINESS/… (Corsica 2A/2B) and 5+SIRET/…, sandbox ANS… test identities.
constexpr const char* kRpps = "810001234567";
constexpr const char* kAdeli = "0691234567";
constexpr const char* kFiness = "3750001234/CPAT0001";
constexpr const char* kFinessCorsicaA = "32A0001234/CPAT0001";
constexpr const char* kFinessCorsicaB = "32B0001234/CPAT0001";
constexpr const char* kSiret = "500000001815646/CPAT00045";
constexpr const char* kSandbox = "ANS20231122132732";

PscIdentity person(std::string idnat, std::vector<Exercice> ex = {{"10", "C"}},
                   std::string mode = "CARD") {
    PscIdentity p;
    p.idnat = std::move(idnat);
    p.exercices = std::move(ex);
    p.auth_mode = std::move(mode);
    return p;
}

ManagedAccount account(std::string user, std::string idnat, uid_t uid = 1001) {
    return ManagedAccount{LocalUser{std::move(user), uid}, std::move(idnat), "map"};
}

void expect_outcome(const char* row, const Status& st, const char* reason, Errc code) {
    if (reason == nullptr) {
        if (!st.ok()) {
            print_error("row \"%s\": expected success, got %s\n", row, st.error().describe().c_str());
            fail();
        }
        return;
    }
    if (st.ok() || st.error().reason != reason || st.error().code != code) {
        print_error("row \"%s\": expected %s (%s), got %s\n", row, reason,
                    std::string(errc_label(code)).c_str(),
                    st.ok() ? "success" : st.error().describe().c_str());
        fail();
    }
}

template <class T>
Status status_of(const Result<T>& r) {
    if (r)
        return {};
    return r.error();
}

} // namespace

// --- step 1: which PAM users psc-login manages ---

static void test_managed_account_rows(void**) {
    struct Row {
        const char* name;
        const char* user;
        std::optional<LocalUser> local;
        std::optional<std::string> idnat;
        AccountRules rules;
        const char* reason; // nullptr: managed
    };
    const AccountRules def;
    const AccountRules allow_daemon{1000, {"daemon"}};
    const Row rows[] = {
        {"mapped account", "claire", LocalUser{"claire", 1001}, kRpps, def, nullptr},
        {"no such account", "ghost", std::nullopt, kRpps, def, "user_missing"},
        {"root, even mapped", "root", LocalUser{"root", 0}, kRpps, def, "system_user"},
        {"root with min_uid lowered", "root", LocalUser{"root", 0}, kRpps,
         AccountRules{100, {"daemon"}}, "system_user"},
        {"system uid below min_uid", "daemon", LocalUser{"daemon", 1}, kRpps, def, "system_user"},
        {"system account listed", "daemon", LocalUser{"daemon", 1}, kRpps, allow_daemon, nullptr},
        {"min_uid raised", "claire", LocalUser{"claire", 1001}, kRpps, AccountRules{1002, {}},
         "system_user"},
        {"account the mapping does not name", "bob", LocalUser{"bob", 1005}, std::nullopt, def,
         "user_unmapped"},
        {"invalid name", "../etc", std::nullopt, std::nullopt, def, "user_name_invalid"},
        {"empty name", "", std::nullopt, std::nullopt, def, "user_name_invalid"},
        {"name starting with -", "-claire", std::nullopt, std::nullopt, def, "user_name_invalid"},
    };
    for (const Row& r : rows) {
        AccountFacts facts{r.local, r.idnat, "map"};
        auto m = managed_account(r.user, facts, r.rules);
        expect_outcome(r.name, status_of(m), r.reason, Errc::unknown_user);
        if (m)
            assert_string_equal(m->idnat.c_str(), r.idnat->c_str());
    }
    // root is managed only when allow_system_users names it.
    AccountFacts root{LocalUser{"root", 0}, kRpps, "map"};
    expect_outcome("root listed", status_of(managed_account("root", root, AccountRules{1000, {"root"}})),
                   nullptr, Errc::internal);
}

// --- step 2: who may use a managed account ---

static void test_decision_rows(void**) {
    struct Row {
        const char* name;
        PscIdentity who;
        ManagedAccount acct;
        DecisionRules rules;
        const char* reason; // nullptr: allowed
        Errc code;
    };
    DecisionRules none;
    DecisionRules aliases;
    aliases.use_aliases = true;
    DecisionRules deny_students;
    deny_students.deny_categories = {'E'};
    DecisionRules doctors;
    doctors.allow_professions = {"10", "21"};
    DecisionRules nurses_not_students;
    nurses_not_students.allow_professions = {"60"};
    nurses_not_students.deny_categories = {'E'};
    DecisionRules only_rpps;
    only_rpps.allow_idnat = {kRpps};
    DecisionRules card;
    card.require_auth_mode = "CARD";

    PscIdentity alain = person("810005555555");
    alain.aliases = {{"810005555555", "RPPS"}, {"691234567", "ADELI"}};
    PscIdentity alain_idnat_form = person("810005555555");
    alain_idnat_form.aliases = {{"0691234567", "ADELI"}};
    PscIdentity borrows_rpps = person("810005555555");
    borrows_rpps.aliases = {{kRpps, "RPPS"}}; // claire's RPPS listed as someone else's alias
    PscIdentity borrows_rpps_as_adeli = person("810005555555");
    borrows_rpps_as_adeli.aliases = {{kRpps, "ADELI"}}; // not an ADELI form
    PscIdentity borrows_structure = person("810005555555");
    borrows_structure.aliases = {{kSiret, "ADELI"}};
    PscIdentity no_practice = person(kSiret);
    no_practice.exercices.reset();
    PscIdentity empty_practice = person(kSiret, {});
    PscIdentity no_mode = person(kRpps, {{"10", "C"}}, "");

    const Row rows[] = {
        {"own idNat", person(kRpps), account("claire", kRpps), none, nullptr, Errc::internal},
        {"another person's account", person(kRpps), account("lucas", "899900045871"), none,
         "mapping_other_user", Errc::denied},
        {"invalid idNat", person("81000 1234567"), account("claire", kRpps), none, "idnat_invalid",
         Errc::invalid},
        {"empty idNat", person(""), account("claire", kRpps), none, "idnat_invalid", Errc::invalid},
        {"ADELI alias, 9-digit form", alain, account("alain", kAdeli), aliases, nullptr,
         Errc::internal},
        {"ADELI alias, idNat form", alain_idnat_form, account("alain", kAdeli), aliases, nullptr,
         Errc::internal},
        {"alias ignored without alias_claim", alain, account("alain", kAdeli), none,
         "mapping_other_user", Errc::denied},
        {"alias for another account", alain, account("claire", kRpps), aliases,
         "mapping_other_user", Errc::denied},
        {"RPPS alias borrows an account", borrows_rpps, account("claire", kRpps), aliases,
         "mapping_other_user", Errc::denied},
        {"RPPS passed off as ADELI", borrows_rpps_as_adeli, account("claire", kRpps), aliases,
         "mapping_other_user", Errc::denied},
        {"structure id as alias", borrows_structure, account("sophie", kSiret), aliases,
         "mapping_other_user", Errc::denied},
        {"allow_idnat lists the person", person(kRpps), account("claire", kRpps), only_rpps,
         nullptr, Errc::internal},
        {"allow_idnat does not", person("899900045871"), account("lucas", "899900045871"),
         only_rpps, "idnat_not_allowed", Errc::denied},
        {"allow_idnat checks the own idNat, not the alias", alain, account("alain", kAdeli),
         [] {
             DecisionRules r;
             r.use_aliases = true;
             r.allow_idnat = {kAdeli};
             return r;
         }(),
         "idnat_not_allowed", Errc::denied},
        {"student denied", person("899900045871", {{"60", "E"}}), account("lucas", "899900045871"),
         deny_students, "category_denied", Errc::denied},
        {"student who is also a civil aide", person("899900045871", {{"60", "E"}, {"35", "C"}}),
         account("lucas", "899900045871"), deny_students, nullptr, Errc::internal},
        {"practice without category", person("899900045871", {{"60", ""}}),
         account("lucas", "899900045871"), deny_students, "category_denied", Errc::denied},
        {"profession not allowed", person("899900045871", {{"60", "C"}}),
         account("lucas", "899900045871"), doctors, "profession_not_allowed", Errc::denied},
        {"profession allowed", person(kRpps), account("claire", kRpps), doctors, nullptr,
         Errc::internal},
        {"allowed profession only as student", person("899900045871", {{"60", "E"}, {"10", "C"}}),
         account("lucas", "899900045871"), nurses_not_students, "category_denied", Errc::denied},
        {"no practice data, no rule", no_practice, account("sophie", kSiret), none, nullptr,
         Errc::internal},
        {"no practice data, profession rule", no_practice, account("sophie", kSiret), doctors,
         "practice_data_missing", Errc::denied},
        {"no practice data, category rule", no_practice, account("sophie", kSiret), deny_students,
         "practice_data_missing", Errc::denied},
        {"empty practice list, category rule", empty_practice, account("sophie", kSiret),
         deny_students, "practice_data_missing", Errc::denied},
        {"auth mode required and met", person(kRpps), account("claire", kRpps), card, nullptr,
         Errc::internal},
        {"auth mode required, other mode", person(kRpps, {{"10", "C"}}, "MOBILE"),
         account("claire", kRpps), card, "auth_mode_required", Errc::denied},
        {"auth mode required, none stated", no_mode, account("claire", kRpps), card,
         "auth_mode_required", Errc::denied},
    };
    for (const Row& r : rows)
        expect_outcome(r.name, status_of(decide(r.who, r.acct, r.rules)), r.reason, r.code);
}

static void test_decision_carries_own_idnat_and_alias(void**) {
    PscIdentity alain = person("810005555555", {{"10", "C"}, {"21", "C"}});
    alain.aliases = {{"691234567", "ADELI"}};
    DecisionRules r;
    r.use_aliases = true;
    auto d = decide(alain, account("alain", kAdeli, 1004), r);
    assert_ok(d);
    assert_string_equal(d->user.c_str(), "alain");
    assert_int_equal(d->uid, 1004);
    assert_string_equal(d->idnat.c_str(), "810005555555"); // the person, never the alias
    assert_string_equal(d->alias.c_str(), kAdeli);
    assert_string_equal(d->profession.c_str(), "10");
    assert_string_equal(d->auth_mode.c_str(), "CARD");
}

static void test_adeli_alias_forms(void**) {
    assert_string_equal(adeli_alias({"691234567", "ADELI"})->c_str(), "0691234567");
    assert_string_equal(adeli_alias({"0691234567", "adeli"})->c_str(), "0691234567");
    assert_false(adeli_alias({"0691234567", "RPPS"}).has_value());
    assert_false(adeli_alias({"0691234567", ""}).has_value());
    assert_false(adeli_alias({"10001234567", "ADELI"}).has_value());
    assert_false(adeli_alias({"1691234567", "ADELI"}).has_value());
    assert_false(adeli_alias({"69123456", "ADELI"}).has_value());
    assert_false(adeli_alias({"69123456A", "ADELI"}).has_value());
    assert_false(adeli_alias({kSiret, "ADELI"}).has_value());
}

// --- username_template: injective, invertible ---

static void test_template_every_idnat_form(void**) {
    struct Row {
        const char* tmpl;
        const char* idnat;
        const char* name;   // expected account, or nullptr
        const char* reason; // expected refusal when name is nullptr
    };
    const Row rows[] = {
        {"psc-{rpps}", kRpps, "psc-10001234567", nullptr},
        {"psc-{rpps}", kAdeli, nullptr, "template_no_rpps"},
        {"psc-{rpps}", kFiness, nullptr, "template_no_rpps"},
        {"psc-{rpps}", kSiret, nullptr, "template_no_rpps"},
        {"psc-{rpps}", kSandbox, nullptr, "template_no_rpps"},
        {"psc-{idnat_digits}", kRpps, "psc-810001234567", nullptr},
        {"psc-{idnat_digits}", kAdeli, "psc-0691234567", nullptr},
        {"psc-{idnat_digits}", kFiness, nullptr, "template_lossy"},
        {"psc-{idnat_digits}", kFinessCorsicaA, nullptr, "template_lossy"},
        {"psc-{idnat_digits}", kFinessCorsicaB, nullptr, "template_lossy"},
        {"psc-{idnat_digits}", kSiret, nullptr, "template_lossy"},
        {"psc-{idnat_digits}", kSandbox, nullptr, "template_lossy"},
        {"u{idnat_lower}", kRpps, "u810001234567", nullptr},
        {"u{idnat_lower}", kAdeli, "u0691234567", nullptr},
        {"u{idnat_lower}", kSandbox, "uans20231122132732", nullptr},
        {"u{idnat_lower}", "ans20231122132732", nullptr, "template_lossy"},
        {"u{idnat_lower}", kFinessCorsicaA, nullptr, "template_invalid_name"},
        {"u{idnat_lower}", kSiret, nullptr, "template_invalid_name"},
        {"u{idnat}", kRpps, "u810001234567", nullptr},
        {"u{idnat}", kSandbox, nullptr, "template_invalid_name"},
        {"u{idnat}", kFiness, nullptr, "template_invalid_name"},
        // Never truncated: 33 characters is refused, not cut to a name another idNat has.
        {"psc-fleet-account-for-{idnat_digits}", kRpps, nullptr, "template_invalid_name"},
    };
    for (const Row& r : rows) {
        auto name = expand_username_template(r.tmpl, r.idnat);
        if (r.name) {
            if (!name || *name != r.name) {
                print_error("%s with %s: expected %s, got %s\n", r.tmpl, r.idnat, r.name,
                            name ? name->c_str() : name.error().describe().c_str());
                fail();
            }
            // The inverse gives the idNat back: the name has exactly one person.
            auto back = username_template_idnat(r.tmpl, *name);
            assert_true(back.has_value());
            assert_string_equal(back->c_str(), r.idnat);
        } else {
            expect_outcome(r.tmpl, status_of(name), r.reason, Errc::unknown_user);
        }
    }
}

static void test_template_collisions_impossible(void**) {
    // What {idnat_digits} used to merge (digits only) and {idnat_lower} (case) now stays apart:
    // one of each pair is refused, so no two idNats ever share an account.
    assert_true(expand_username_template("psc-{idnat_digits}", kFinessCorsicaA).error().reason ==
                "template_lossy");
    assert_true(expand_username_template("psc-{idnat_digits}", kFinessCorsicaB).error().reason ==
                "template_lossy");
    auto upper = expand_username_template("u{idnat_lower}", "ANS1");
    assert_ok(upper);
    assert_reason(expand_username_template("u{idnat_lower}", "ans1"), "template_lossy");
    assert_reason(expand_username_template("u{idnat_lower}", "Ans1"), "template_lossy");
    // A template must hold exactly one placeholder, even when it did not come through the config
    // loader: a constant one would give every idNat the same account, two would need two idNats.
    assert_reason(expand_username_template("psc-shared", kRpps), "template_syntax");
    assert_reason(expand_username_template("p{rpps}{rpps}", kRpps), "template_syntax");
    assert_reason(expand_username_template("p{rpps", kRpps), "template_syntax");
    assert_reason(expand_username_template("p{uid}", kRpps), "template_variable");
    assert_false(username_template_idnat("psc-shared", "psc-shared").has_value());
    // Many distinct idNats, every one that yields a name yields its own.
    std::map<std::string, std::string> seen;
    const char* forms[] = {kRpps, kAdeli, kFiness, kFinessCorsicaA, kFinessCorsicaB, kSiret, kSandbox,
                           "810001234568", "0691234568", "ANS1", "ans1", "8100012345678",
                           "81000123456"};
    for (const char* tmpl : {"p{rpps}", "p{idnat_digits}", "p{idnat_lower}", "p{idnat}"})
        for (const char* id : forms)
            if (auto n = expand_username_template(tmpl, id)) {
                const std::string key = std::string(tmpl) + " " + *n;
                if (auto [it, fresh] = seen.emplace(key, id); !fresh) {
                    print_error("%s: %s and %s share %s\n", tmpl, it->second.c_str(), id, n->c_str());
                    fail();
                }
            }
}

static void test_template_inverse_names_only_what_it_produces(void**) {
    assert_string_equal(username_template_idnat("psc-{rpps}", "psc-10001234567")->c_str(), kRpps);
    assert_false(username_template_idnat("psc-{rpps}", "claire").has_value());
    assert_false(username_template_idnat("psc-{rpps}", "psc-1000123456").has_value());  // 10 digits
    assert_false(username_template_idnat("psc-{rpps}", "psc-1000123456a").has_value()); // not digits
    assert_false(username_template_idnat("psc-{rpps}", "root").has_value());
    assert_false(username_template_idnat("psc-{idnat_digits}", "psc-").has_value());
    assert_false(username_template_idnat("u{idnat_lower}", "uAns1").has_value()); // never generated
    assert_string_equal(username_template_idnat("u{idnat_lower}", "uans1")->c_str(), "ANS1");
    assert_string_equal(username_template_idnat("{idnat_lower}-x", "ans1-x")->c_str(), "ANS1");
}

static void test_mapped_idnat_and_accounts(void**) {
    auto map = UserMap::parse("810001234567 claire claire-admin\n0691234567 alain\n", "m");
    assert_ok(map);
    assert_string_equal(mapped_idnat(&*map, {}, "claire-admin")->c_str(), kRpps);
    assert_false(mapped_idnat(&*map, {}, "bob").has_value());
    // A template wins over any map (the config allows only one of them).
    assert_string_equal(mapped_idnat(&*map, "psc-{rpps}", "psc-10001234567")->c_str(), kRpps);
    assert_false(mapped_idnat(&*map, "psc-{rpps}", "claire").has_value());
    auto accounts = mapped_accounts(&*map, {}, kRpps);
    assert_ok(accounts);
    assert_int_equal(accounts->size(), 2);
    assert_reason(mapped_accounts(nullptr, "psc-{rpps}", kAdeli), "template_no_rpps");
}

// --- users.map ---

static void test_map_file_errors(void**) {
    auto r1 = UserMap::parse("810001234567\n", "users.map");
    assert_reason(r1, "map_syntax");
    assert_string_equal(r1.error().message.c_str(),
                        "users.map:1: expected \"IDNAT localuser\", found only \"810001234567\"");
    assert_int_equal(static_cast<int>(r1.error().code), static_cast<int>(Errc::config));
    auto r2 = UserMap::parse("# ok\n810001234567 claire\nbad:id claire2\n", "users.map");
    assert_reason(r2, "map_idnat");
    assert_true(r2.error().message.starts_with("users.map:3: "));
    assert_reason(UserMap::parse("810001234567 cl/aire\n", "m"), "map_user");
    auto r4 = UserMap::parse("810001234567 claire\n899900045871 claire\n", "m");
    assert_reason(r4, "map_conflict");
    assert_true(r4.error().message.starts_with("m:2: "));
    assert_reason(UserMap::parse("810001234567 claire\x01\n", "m"), "map_syntax");
}

static void test_map_file_one_idnat_several_accounts(void**) {
    auto m = UserMap::parse("810001234567 claire\n810001234567 claire-admin claire\n", "m");
    assert_ok(m);
    auto accounts = m->accounts_for(kRpps);
    assert_int_equal(accounts.size(), 2);
    assert_string_equal(accounts[0].c_str(), "claire");
    assert_string_equal(accounts[1].c_str(), "claire-admin");
    assert_true(m->accounts_for("899900045871").empty());
    assert_int_equal(m->duplicates().size(), 1); // "claire" twice on the second line's idNat
    assert_true(m->duplicates()[0].starts_with("m:2: "));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_managed_account_rows),
        cmocka_unit_test(test_decision_rows),
        cmocka_unit_test(test_decision_carries_own_idnat_and_alias),
        cmocka_unit_test(test_adeli_alias_forms),
        cmocka_unit_test(test_template_every_idnat_form),
        cmocka_unit_test(test_template_collisions_impossible),
        cmocka_unit_test(test_template_inverse_names_only_what_it_produces),
        cmocka_unit_test(test_mapped_idnat_and_accounts),
        cmocka_unit_test(test_map_file_errors),
        cmocka_unit_test(test_map_file_one_idnat_several_accounts),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
