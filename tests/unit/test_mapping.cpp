// SPDX-License-Identifier: LGPL-2.1-or-later
// SPEC §4: the identity must map to the requested PAM user, system accounts are refused, and the
// profession rules decide. One test per rule and per rejection.
#include "mapping.hpp"
#include "testing.hpp"

#include <map>

using namespace psc;

namespace {

class FakeUsers final : public UserDb {
public:
    std::map<std::string, uid_t> users{{"claire", 1001}, {"lucas", 1002}, {"sophie", 1003},
                                       {"root", 0},      {"daemon", 1},   {"psc-10001234567", 1500},
                                       {"backup", 34},   {"alain", 1004}};
    bool fail = false;
    Result<std::optional<LocalUser>> lookup(const std::string& name) const override {
        if (fail)
            return make_error(Errc::unavailable, "nss_lookup", "sssd is down");
        auto it = users.find(name);
        if (it == users.end())
            return std::optional<LocalUser>{};
        return std::optional<LocalUser>{LocalUser{it->first, it->second}};
    }
};

const char* kMap = R"(# idNat          local account(s)
810001234567     claire
899900045871     lucas
500000001815646/CPAT00045  sophie   # structure card (CPE)
810009999999     root daemon
0691234567       alain            # old ADELI identity, migrated to RPPS since
)";

UserMap load_map() {
    auto m = UserMap::parse(kMap, "/etc/psc-login/users.map");
    assert_ok(m);
    return std::move(m).value();
}

PscIdentity medecin() {
    return PscIdentity{"810001234567", {"810001234567"}, {{"10", "C"}}, "CARD"};
}

} // namespace

static void test_map_file_maps_requested_user(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    auto d = decide(medecin(), "claire", &map, {}, users);
    assert_ok(d);
    assert_string_equal(d->user.name.c_str(), "claire");
    assert_int_equal(d->user.uid, 1001);
    assert_string_equal(d->matched_by.c_str(), "map");
    assert_string_equal(d->profession.c_str(), "10");
}

static void test_identity_mapping_to_another_user_is_denied(void**) {
    // Username switch: Claire authenticates but asks for Lucas's account.
    const UserMap map = load_map();
    FakeUsers users;
    auto d = decide(medecin(), "lucas", &map, {}, users);
    assert_reason(d, "mapping_other_user");
    assert_int_equal(static_cast<int>(d.error().code), static_cast<int>(Errc::denied));
}

static void test_unmapped_identity_is_unknown_user(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity stranger{"899999999999", {}, {{"10", "C"}}, "CARD"};
    auto d = decide(stranger, "claire", &map, {}, users);
    assert_reason(d, "identity_unmapped");
    assert_int_equal(static_cast<int>(d.error().code), static_cast<int>(Errc::unknown_user));
}

static void test_mapped_but_missing_local_account(void**) {
    auto map = UserMap::parse("810001234567 ghost\n", "users.map");
    assert_ok(map);
    FakeUsers users;
    assert_reason(decide(medecin(), "ghost", &map.value(), {}, users), "user_missing");
}

static void test_user_lookup_failure_is_unavailable(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    users.fail = true;
    auto d = decide(medecin(), "claire", &map, {}, users);
    assert_reason(d, "nss_lookup");
    assert_int_equal(static_cast<int>(d.error().code), static_cast<int>(Errc::unavailable));
}

static void test_root_refused_even_when_mapped(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity admin{"810009999999", {}, {{"10", "C"}}, "CARD"};
    assert_reason(decide(admin, "root", &map, {}, users), "system_user");
}

static void test_system_uid_below_min_uid_refused(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity admin{"810009999999", {}, {{"10", "C"}}, "CARD"};
    assert_reason(decide(admin, "daemon", &map, {}, users), "system_user");
}

static void test_allow_system_users_lets_listed_account_in(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.allow_system_users = {"daemon"};
    PscIdentity admin{"810009999999", {}, {{"10", "C"}}, "CARD"};
    assert_ok(decide(admin, "daemon", &map, policy, users));
    assert_reason(decide(admin, "root", &map, policy, users), "system_user");
}

static void test_min_uid_configurable(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.min_uid = 1002;
    assert_reason(decide(medecin(), "claire", &map, policy, users), "system_user");
}

static void test_student_denied_by_category(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.deny_categories = {"E"};
    PscIdentity student{"899900045871", {}, {{"60", "E"}}, "MOBILE"};
    auto d = decide(student, "lucas", &map, policy, users);
    assert_reason(d, "category_denied");
    assert_int_equal(static_cast<int>(d.error().code), static_cast<int>(Errc::denied));
}

static void test_student_with_another_civil_practice_allowed(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.deny_categories = {"E"};
    PscIdentity both{"899900045871", {}, {{"60", "E"}, {"35", "C"}}, "MOBILE"};
    auto d = decide(both, "lucas", &map, policy, users);
    assert_ok(d);
    assert_string_equal(d->profession.c_str(), "35");
}

static void test_profession_not_allowed(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.allow_professions = {"10", "21"};
    PscIdentity nurse{"899900045871", {}, {{"60", "C"}}, "CARD"};
    assert_reason(decide(nurse, "lucas", &map, policy, users), "profession_not_allowed");
    assert_ok(decide(medecin(), "claire", &map, policy, users));
}

static void test_allowed_profession_only_as_student_is_denied(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.allow_professions = {"60"};
    policy.deny_categories = {"E"};
    PscIdentity s{"899900045871", {}, {{"60", "E"}, {"10", "C"}}, "CARD"};
    assert_reason(decide(s, "lucas", &map, policy, users), "category_denied");
}

static void test_structure_card_without_practice(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity cpe{"500000001815646/CPAT00045", {}, {}, "CARD"};
    assert_ok(decide(cpe, "sophie", &map, {}, users)); // no profession rule configured
    MappingPolicy policy;
    policy.allow_professions = {"10"};
    assert_reason(decide(cpe, "sophie", &map, policy, users), "profession_not_allowed");
}

static void test_allow_idnat_list(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.allow_idnat = {"899900045871"};
    assert_reason(decide(medecin(), "claire", &map, policy, users), "idnat_not_allowed");
    policy.allow_idnat = {"810001234567"};
    assert_ok(decide(medecin(), "claire", &map, policy, users));
}

static void test_require_auth_mode(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    MappingPolicy policy;
    policy.require_auth_mode = "CARD";
    PscIdentity mobile = medecin();
    mobile.auth_mode = "MOBILE";
    assert_reason(decide(mobile, "claire", &map, policy, users), "auth_mode_required");
    mobile.auth_mode.clear(); // authMode absent from UserInfo
    assert_reason(decide(mobile, "claire", &map, policy, users), "auth_mode_required");
    assert_ok(decide(medecin(), "claire", &map, policy, users));
}

static void test_alias_maps_migrated_adeli_identity(void**) {
    // Alain's map line still names his old ADELI idNat; PSC now sends his RPPS idNat and lists the
    // ADELI one in otherIds.
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity alain{"810005555555", {"810005555555", "0691234567"}, {{"10", "C"}}, "CARD"};
    auto d = decide(alain, "alain", &map, {}, users);
    assert_ok(d);
    assert_string_equal(d->matched_by.c_str(), "alias");
    assert_string_equal(d->idnat.c_str(), "0691234567");
}

static void test_alias_cannot_reach_other_users(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity alain{"810005555555", {"0691234567"}, {{"10", "C"}}, "CARD"};
    assert_reason(decide(alain, "claire", &map, {}, users), "mapping_other_user");
}

static void test_template_maps_fleet_accounts(void**) {
    FakeUsers users;
    MappingPolicy policy;
    policy.username_template = "psc-{idnat_digits}";
    PscIdentity id{"810001234567", {}, {{"10", "C"}}, "CARD"};
    // 810001234567 → psc-810001234567 does not exist; the fake knows psc-10001234567 via {rpps}.
    assert_reason(decide(id, "psc-810001234567", nullptr, policy, users), "user_missing");
    policy.username_template = "psc-{rpps}";
    auto d = decide(id, "psc-10001234567", nullptr, policy, users);
    assert_ok(d);
    assert_string_equal(d->matched_by.c_str(), "template");
    assert_reason(decide(id, "claire", nullptr, policy, users), "mapping_other_user");
}

static void test_template_expansion_rules(void**) {
    auto a = expand_username_template("psc-{idnat_digits}", "500000001815646/CPAT00045");
    assert_ok(a);
    assert_string_equal(a->c_str(), "psc-50000000181564600045");
    auto b = expand_username_template("{idnat_lower}", "ANS20231122132732");
    assert_ok(b);
    assert_string_equal(b->c_str(), "ans20231122132732");
    // {idnat} is the claim as sent: upper case breaks the rule for generated names.
    assert_reason(expand_username_template("{idnat}", "ANS20231122132732"),
                  "template_invalid_name");
    // Generated names must start with a letter, be ≤ 32 chars, and hold no '.', '/', ':'.
    assert_reason(expand_username_template("{idnat_digits}", "810001234567"),
                  "template_invalid_name");
    assert_reason(expand_username_template("u-{idnat_lower}", "500000001815646/CPAT00045"),
                  "template_invalid_name");
    assert_reason(expand_username_template("psc-{idnat_digits}-{idnat_digits}-{idnat_digits}",
                                           "810001234567"),
                  "template_invalid_name");
    assert_reason(expand_username_template("psc-{rpps}", "0691234567"), "template_no_rpps");
    assert_reason(expand_username_template("psc-{uid}", "810001234567"), "template_variable");
    assert_reason(expand_username_template("psc-{idnat", "810001234567"), "template_syntax");
}

static void test_invalid_inputs_rejected(void**) {
    const UserMap map = load_map();
    FakeUsers users;
    PscIdentity bad{"81000 1234567", {}, {}, ""};
    assert_reason(decide(bad, "claire", &map, {}, users), "idnat_invalid");
    PscIdentity empty{"", {}, {}, ""};
    assert_reason(decide(empty, "claire", &map, {}, users), "idnat_invalid");
    assert_reason(decide(medecin(), "../etc", &map, {}, users), "requested_user_invalid");
    assert_reason(decide(medecin(), "", &map, {}, users), "requested_user_invalid");
    assert_reason(decide(medecin(), "-claire", &map, {}, users), "requested_user_invalid");
}

static void test_map_file_errors(void**) {
    auto r1 = UserMap::parse("810001234567\n", "users.map");
    assert_reason(r1, "map_syntax");
    assert_string_equal(r1.error().message.c_str(),
                        "users.map:1: expected \"IDNAT localuser\", found only \"810001234567\"");
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
    auto accounts = m->accounts_for("810001234567");
    assert_int_equal(accounts.size(), 2);
    assert_string_equal(accounts[0].c_str(), "claire");
    assert_string_equal(accounts[1].c_str(), "claire-admin");
    assert_true(m->accounts_for("899900045871").empty());
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_file_maps_requested_user),
        cmocka_unit_test(test_identity_mapping_to_another_user_is_denied),
        cmocka_unit_test(test_unmapped_identity_is_unknown_user),
        cmocka_unit_test(test_mapped_but_missing_local_account),
        cmocka_unit_test(test_user_lookup_failure_is_unavailable),
        cmocka_unit_test(test_root_refused_even_when_mapped),
        cmocka_unit_test(test_system_uid_below_min_uid_refused),
        cmocka_unit_test(test_allow_system_users_lets_listed_account_in),
        cmocka_unit_test(test_min_uid_configurable),
        cmocka_unit_test(test_student_denied_by_category),
        cmocka_unit_test(test_student_with_another_civil_practice_allowed),
        cmocka_unit_test(test_profession_not_allowed),
        cmocka_unit_test(test_allowed_profession_only_as_student_is_denied),
        cmocka_unit_test(test_structure_card_without_practice),
        cmocka_unit_test(test_allow_idnat_list),
        cmocka_unit_test(test_require_auth_mode),
        cmocka_unit_test(test_alias_maps_migrated_adeli_identity),
        cmocka_unit_test(test_alias_cannot_reach_other_users),
        cmocka_unit_test(test_template_maps_fleet_accounts),
        cmocka_unit_test(test_template_expansion_rules),
        cmocka_unit_test(test_invalid_inputs_rejected),
        cmocka_unit_test(test_map_file_errors),
        cmocka_unit_test(test_map_file_one_idnat_several_accounts),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
