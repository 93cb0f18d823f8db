// SPDX-License-Identifier: LGPL-2.1-or-later
// UserInfo: JSON and signed JWT responses, the sub binding to the ID token, and the PSC accessors
// on the three PSC samples in tests/fixtures.
#include "keys.hpp"
#include "testing.hpp"
#include "userinfo.hpp"

#include <cstdlib>

using namespace psc;

namespace {

constexpr const char* kIssuer = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
constexpr const char* kClient = "psc-login-test";
constexpr const char* kMedecinSub = "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:810001234567";

std::string fixture(const char* name) {
    const char* dir = std::getenv("PSC_TEST_FIXTURES_DIR");
    std::ifstream f(std::string(dir ? dir : "tests/fixtures") + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

UserInfoCheck check_for(std::string sub, const JwkSet* keys = nullptr) {
    UserInfoCheck c;
    c.expected_sub = std::move(sub);
    c.issuer = kIssuer;
    c.client_id = kClient;
    c.keys = keys;
    return c;
}

HttpResponse json_response(std::string body) {
    return HttpResponse{200, "application/json;charset=UTF-8", std::move(body)};
}

// The sub of a fixture, read back with the JSON parser.
std::string sub_of(const std::string& json) {
    auto doc = json_parse_object(json);
    assert_ok(doc);
    auto s = json_get_string(doc->get(), "sub");
    assert_ok(s);
    return std::string(**s);
}

UserInfo parse_ok(const std::string& json) {
    auto r = parse_userinfo(json_response(json), check_for(sub_of(json)));
    assert_ok(r);
    return std::move(*r);
}

template <class T>
T value_of(Result<T> r) {
    assert_ok(r);
    return std::move(*r);
}

struct Signer {
    EvpPkeyPtr key = testkeys::generate_key(testkeys::KeyType::P256);
    JwkSet keys() const {
        auto s = parse_jwks(
            testkeys::jwks_json({testkeys::public_jwk_json(key.get(), {"k1", "ES256", "sig"})}));
        assert_ok(s);
        return std::move(*s);
    }
    std::string sign(const std::string& claims) const {
        return testkeys::mint_simple(claims, testkeys::signing_key(key.get(), JwsAlg::ES256, "k1"));
    }
};

std::string signed_claims(std::string json) {
    json = testkeys::with_member(json, "iss", std::string("\"") + kIssuer + "\"");
    return testkeys::with_member(json, "aud", std::string("[\"") + kClient + "\"]");
}

} // namespace

static void test_medecin_fixture(void**) {
    const UserInfo ui = parse_ok(fixture("psc-userinfo-medecin.json"));
    assert_false(ui.was_signed);
    assert_string_equal(ui.sub.c_str(), kMedecinSub);
    assert_string_equal(value_of(userinfo_idnat(ui))->c_str(), "810001234567");
    assert_string_equal(value_of(userinfo_idnat(ui, "preferred_username"))->c_str(),
                        "810001234567");
    assert_string_equal(value_of(userinfo_auth_mode(ui))->c_str(), "CARD");
    const auto prof = value_of(userinfo_professions(ui));
    assert_int_equal(prof.size(), 1);
    assert_string_equal(prof[0].c_str(), "10");
    const auto cat = value_of(userinfo_categories(ui));
    assert_int_equal(cat.size(), 1);
    assert_string_equal(cat[0].c_str(), "C");
    const auto ids = value_of(userinfo_other_ids(ui));
    assert_int_equal(ids.size(), 1);
    assert_string_equal(ids[0].id.c_str(), "810001234567");
    assert_string_equal(ids[0].origin.c_str(), "RPPS");
}

static void test_student_nurse_fixture(void**) {
    const UserInfo ui = parse_ok(fixture("psc-userinfo-etudiant-infirmier.json"));
    assert_string_equal(value_of(userinfo_auth_mode(ui))->c_str(), "MOBILE");
    assert_string_equal(value_of(userinfo_professions(ui))[0].c_str(), "60");
    assert_string_equal(value_of(userinfo_categories(ui))[0].c_str(), "E");
    const auto ids = value_of(userinfo_other_ids(ui));
    assert_int_equal(ids.size(), 2);
    assert_string_equal(ids[1].id.c_str(), "069123456"); // the ADELI alias
    assert_string_equal(ids[1].origin.c_str(), "ADELI");
    // alias_claim names the claim: another name reads nothing.
    assert_true(value_of(userinfo_other_ids(ui, "formerIds")).empty());
}

static void test_exercices_keep_profession_and_category_together(void**) {
    const UserInfo student = parse_ok(fixture("psc-userinfo-etudiant-infirmier.json"));
    const auto ex = *value_of(userinfo_exercices(student));
    assert_int_equal(ex.size(), 1);
    assert_string_equal(ex[0].profession.c_str(), "60");
    assert_string_equal(ex[0].category.c_str(), "E");
    const UserInfo both = parse_ok(
        R"({"sub":"s","SubjectRefPro":{"exercices":[
            {"codeProfession":"60","codeCategorieProfessionnelle":"E"},
            {"codeProfession":"35","codeCategorieProfessionnelle":"C"},{}]}})");
    const auto ex2 = *value_of(userinfo_exercices(both));
    assert_int_equal(ex2.size(), 3);
    assert_string_equal(ex2[1].profession.c_str(), "35");
    assert_string_equal(ex2[1].category.c_str(), "C");
    assert_string_equal(ex2[2].profession.c_str(), ""); // a practice without codes stays visible
    // A structure card has an empty list; a UserInfo without SubjectRefPro has no data at all.
    assert_true(
        value_of(userinfo_exercices(parse_ok(fixture("psc-userinfo-structure-cpe.json"))))->empty());
    assert_false(value_of(userinfo_exercices(parse_ok(R"({"sub":"s"})"))).has_value());
    assert_false(
        value_of(userinfo_exercices(parse_ok(R"({"sub":"s","SubjectRefPro":{}})"))).has_value());
    assert_reason(userinfo_exercices(parse_ok(R"({"sub":"s","SubjectRefPro":{"exercices":{}}})")),
                  "userinfo_claim_type");
    assert_reason(userinfo_exercices(parse_ok(R"({"sub":"s","SubjectRefPro":{"exercices":[1]}})")),
                  "userinfo_claim_type");
    assert_reason(userinfo_exercices(parse_ok(
                      R"({"sub":"s","SubjectRefPro":{"exercices":[{"codeProfession":10}]}})")),
                  "userinfo_claim_type");
}

static void test_structure_fixture_without_exercices(void**) {
    const UserInfo ui = parse_ok(fixture("psc-userinfo-structure-cpe.json"));
    assert_string_equal(value_of(userinfo_idnat(ui))->c_str(), "500000001815646/CPAT00045");
    assert_true(value_of(userinfo_professions(ui)).empty());
    assert_true(value_of(userinfo_categories(ui)).empty());
}

static void test_missing_members_tolerated(void**) {
    const UserInfo ui = parse_ok(R"({"sub":"s1","SubjectNameID":"","SubjectRefPro":{}})");
    assert_false(value_of(userinfo_idnat(ui)).has_value()); // empty: no identity
    assert_false(value_of(userinfo_auth_mode(ui)).has_value());
    assert_true(value_of(userinfo_professions(ui)).empty());
    assert_true(value_of(userinfo_other_ids(ui)).empty());
    const UserInfo partial = parse_ok(
        R"({"sub":"s1","SubjectRefPro":{"exercices":[{"codeProfession":""},{"codeProfession":"21"},
            {"codeProfession":"21","codeCategorieProfessionnelle":"C"}]}})");
    const auto prof = value_of(userinfo_professions(partial));
    assert_int_equal(prof.size(), 1); // empty skipped, duplicates merged
    assert_string_equal(prof[0].c_str(), "21");
}

static void test_wrong_types_rejected(void**) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"sub":"s","SubjectRefPro":"x"})", "professions"},
        {R"({"sub":"s","SubjectRefPro":{"exercices":{}}})", "professions"},
        {R"({"sub":"s","SubjectRefPro":{"exercices":[1]}})", "professions"},
        {R"({"sub":"s","SubjectRefPro":{"exercices":[{"codeProfession":10}]}})", "professions"},
        {R"({"sub":"s","SubjectRefPro":{"exercices":[{"codeCategorieProfessionnelle":[]}]}})",
         "categories"},
        {R"({"sub":"s","otherIds":"x"})", "other_ids"},
        {R"({"sub":"s","otherIds":[{"identifiant":1}]})", "other_ids"},
        {R"({"sub":"s","authMode":1})", "auth_mode"},
        {R"({"sub":"s","SubjectNameID":["a"]})", "idnat"},
    };
    for (const auto& [json, what] : cases) {
        const UserInfo ui = parse_ok(json);
        const std::string w = what;
        if (w == "professions")
            assert_reason(userinfo_professions(ui), "userinfo_claim_type");
        else if (w == "categories")
            assert_reason(userinfo_categories(ui), "userinfo_claim_type");
        else if (w == "other_ids")
            assert_reason(userinfo_other_ids(ui), "userinfo_claim_type");
        else if (w == "auth_mode")
            assert_reason(userinfo_auth_mode(ui), "userinfo_claim_type");
        else
            assert_reason(userinfo_idnat(ui), "userinfo_claim_type");
    }
}

static void test_sub_mismatch_rejected(void**) {
    const std::string json = fixture("psc-userinfo-medecin.json");
    assert_reason(parse_userinfo(json_response(json), check_for(std::string(kMedecinSub) + "x")),
                  "userinfo_sub_mismatch");
    assert_reason(parse_userinfo(json_response(json), check_for("")), "userinfo_sub_mismatch");
}

static void test_missing_sub_rejected(void**) {
    assert_reason(parse_userinfo(json_response(R"({"SubjectNameID":"810001234567"})"),
                                 check_for(kMedecinSub)),
                  "userinfo_sub_missing");
    assert_reason(parse_userinfo(json_response(R"({"sub":""})"), check_for("")),
                  "userinfo_sub_missing");
    assert_reason(parse_userinfo(json_response(R"({"sub":42})"), check_for("42")),
                  "userinfo_claim_type");
}

static void test_wrong_content_type_rejected(void**) {
    const std::string json = fixture("psc-userinfo-medecin.json");
    assert_reason(parse_userinfo(HttpResponse{200, "text/html", json}, check_for(kMedecinSub)),
                  "userinfo_content_type");
    assert_reason(parse_userinfo(HttpResponse{200, "", json}, check_for(kMedecinSub)),
                  "userinfo_content_type");
}

static void test_error_status_rejected(void**) {
    assert_reason(
        parse_userinfo(HttpResponse{401, "application/json", R"({"error":"invalid_token"})"},
                       check_for(kMedecinSub)),
        "userinfo_status");
}

static void test_malformed_and_oversized_rejected(void**) {
    assert_reason(parse_userinfo(json_response("{\"sub\":"), check_for("s")), "userinfo_json");
    UserInfoCheck small = check_for("s");
    small.max_bytes = 64;
    assert_reason(
        parse_userinfo(json_response(R"({"sub":"s","pad":")" + std::string(100, 'a') + "\"}"),
                       small),
        "userinfo_too_large");
}

static void test_signed_userinfo_accepted(void**) {
    Signer s;
    const JwkSet keys = s.keys();
    const std::string jwt = s.sign(signed_claims(fixture("psc-userinfo-medecin.json")));
    auto r = parse_userinfo(HttpResponse{200, "application/jwt", jwt + "\n"},
                            check_for(kMedecinSub, &keys));
    assert_ok(r);
    assert_true(r->was_signed);
    assert_string_equal(value_of(userinfo_professions(*r))[0].c_str(), "10");
}

static void test_signed_userinfo_checks(void**) {
    Signer s, other;
    const JwkSet keys = s.keys();
    const std::string claims = fixture("psc-userinfo-medecin.json");
    const auto check = check_for(kMedecinSub, &keys);
    const auto jwt = [](std::string t) { return HttpResponse{200, "application/jwt", t}; };
    assert_reason(parse_userinfo(jwt(s.sign(testkeys::with_member(signed_claims(claims), "iss",
                                                                  "\"https://evil.example\""))),
                                 check),
                  "userinfo_iss_mismatch");
    assert_reason(
        parse_userinfo(jwt(s.sign(testkeys::without_member(signed_claims(claims), "aud"))), check),
        "userinfo_aud_mismatch");
    assert_reason(parse_userinfo(jwt(s.sign(testkeys::with_member(signed_claims(claims), "aud",
                                                                  "\"someone-else\""))),
                                 check),
                  "userinfo_aud_mismatch");
    assert_reason(parse_userinfo(jwt(s.sign(claims)), check), "userinfo_iss_mismatch");
    assert_reason(parse_userinfo(jwt(other.sign(signed_claims(claims))), check),
                  "jws_bad_signature");
    assert_reason(
        parse_userinfo(
            jwt(s.sign(testkeys::with_member(signed_claims(claims), "sub", "\"f:other\""))), check),
        "userinfo_sub_mismatch");
    assert_reason(parse_userinfo(jwt(s.sign(signed_claims(claims))), check_for(kMedecinSub)),
                  "userinfo_no_keys");
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_medecin_fixture),
        cmocka_unit_test(test_student_nurse_fixture),
        cmocka_unit_test(test_exercices_keep_profession_and_category_together),
        cmocka_unit_test(test_structure_fixture_without_exercices),
        cmocka_unit_test(test_missing_members_tolerated),
        cmocka_unit_test(test_wrong_types_rejected),
        cmocka_unit_test(test_sub_mismatch_rejected),
        cmocka_unit_test(test_missing_sub_rejected),
        cmocka_unit_test(test_wrong_content_type_rejected),
        cmocka_unit_test(test_error_status_rejected),
        cmocka_unit_test(test_malformed_and_oversized_rejected),
        cmocka_unit_test(test_signed_userinfo_accepted),
        cmocka_unit_test(test_signed_userinfo_checks),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
