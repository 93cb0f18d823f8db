// SPDX-License-Identifier: LGPL-2.1-or-later
#include "auth_request.hpp"
#include "testing.hpp"
#include "url.hpp"

#include <cstring>

using namespace psc;

namespace {

AuthRequestParams psc_params() {
    AuthRequestParams p;
    p.authorization_endpoint = "https://wallet.bas.psc.esante.gouv.fr/auth";
    p.client_id = "psc-login-bastion";
    p.redirect_uri = "https://bastion.example/callback";
    p.scope = "openid scope_all";
    p.acr_values = "eidas1";
    return p;
}

bool rfc7636_alphabet(std::string_view s) {
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return false;
    return true;
}

} // namespace

static void test_pkce_rfc7636_appendix_b(void**) {
    auto c = pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_ok(c);
    assert_string_equal(c->c_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_pkce_rejects_short_verifier(void**) {
    assert_reason(pkce_challenge_s256(std::string(42, 'a')), "pkce_verifier_invalid");
    assert_ok(pkce_challenge_s256(std::string(43, 'a')));
}

static void test_pkce_rejects_long_verifier(void**) {
    assert_ok(pkce_challenge_s256(std::string(128, 'a')));
    assert_reason(pkce_challenge_s256(std::string(129, 'a')), "pkce_verifier_invalid");
}

static void test_pkce_rejects_bad_alphabet(void**) {
    assert_reason(pkce_challenge_s256(std::string(42, 'a') + "+"), "pkce_verifier_invalid");
    assert_reason(pkce_challenge_s256(std::string(42, 'a') + "="), "pkce_verifier_invalid");
}

static void test_pkce_generate_fresh(void**) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        auto p = pkce_generate();
        assert_ok(p);
        assert_true(p->verifier.size() >= 43 && p->verifier.size() <= 128);
        assert_true(rfc7636_alphabet(p->verifier.view()));
        auto c = pkce_challenge_s256(p->verifier.view());
        assert_ok(c);
        assert_true(*c == p->challenge);
        assert_true(seen.insert(std::string(p->verifier.view())).second);
    }
}

static void test_exact_psc_authorization_url(void**) {
    auto url = build_authorization_url(psc_params(), "st4te", "n0nce",
                                       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_ok(url);
    assert_string_equal(
        url->c_str(),
        "https://wallet.bas.psc.esante.gouv.fr/auth?response_type=code&client_id=psc-login-bastion"
        "&redirect_uri=https%3A%2F%2Fbastion.example%2Fcallback&scope=openid%20scope_all"
        "&state=st4te&nonce=n0nce&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256&acr_values=eidas1");
}

static void test_optional_parameters(void**) {
    auto p = psc_params();
    p.acr_values.clear();
    p.max_age = 0;
    p.prompt = "login";
    p.login_hint = "899700218896 é&x";
    auto url = build_authorization_url(p, "s", "n", "c");
    assert_ok(url);
    assert_null(strstr(url->c_str(), "acr_values"));
    assert_non_null(
        strstr(url->c_str(), "&max_age=0&prompt=login&login_hint=899700218896%20%C3%A9%26x"));
}

// extra_auth_params: appended last, percent-encoded, never one of ours or a repeat, never a name
// the endpoint's own query already has.
static void test_extra_params(void**) {
    auto p = psc_params();
    p.extra = {{"kc_idp_hint", "psc"}, {"ui_locales", "fr&x=1"}};
    auto url = build_authorization_url(p, "s", "n", "c");
    assert_ok(url);
    assert_true(std::string_view(*url).ends_with(
        "&acr_values=eidas1&kc_idp_hint=psc&ui_locales=fr%26x%3D1"));
    p.extra = {{"state", "attacker"}};
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    p.extra = {{"Redirect_URI", "https://evil.example/"}};
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    p.extra = {{"a", "1"}, {"a", "2"}};
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    p.extra = {{"", "1"}};
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    p.extra = {{"kc_idp_hint", "psc"}};
    p.authorization_endpoint = "https://idp.example/authorize?kc_idp_hint=other";
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_endpoint_param_conflict");
    // The endpoint's own query may not set a parameter that would change the flow either.
    p.extra.clear();
    p.authorization_endpoint = "https://idp.example/authorize?response_mode=fragment";
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_endpoint_param_conflict");
}

static void test_endpoint_with_query_appends_ampersand(void**) {
    auto p = psc_params();
    p.authorization_endpoint = "https://idp.example/authorize?tenant=a%20b";
    auto url = build_authorization_url(p, "s", "n", "c");
    assert_ok(url);
    assert_non_null(strstr(url->c_str(), "authorize?tenant=a%20b&response_type=code&"));
    // The whole thing parses back with every parameter once.
    auto parts = split_url(*url);
    assert_ok(parts);
    auto q = parse_query(*parts->query);
    assert_ok(q);
    assert_string_equal(query_find(*q, "tenant")->c_str(), "a b");
    assert_string_equal(query_find(*q, "scope")->c_str(), "openid scope_all");
}

static void test_rejects_endpoint_with_fragment(void**) {
    auto p = psc_params();
    p.authorization_endpoint = "https://idp.example/authorize#x";
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_endpoint_invalid");
}

static void test_rejects_endpoint_not_url(void**) {
    auto p = psc_params();
    p.authorization_endpoint = "wallet.example/auth";
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_endpoint_invalid");
}

static void test_rejects_endpoint_param_conflict(void**) {
    auto p = psc_params();
    p.authorization_endpoint = "https://idp.example/authorize?client_id=other";
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_endpoint_param_conflict");
}

static void test_rejects_missing_client_id(void**) {
    auto p = psc_params();
    p.client_id.clear();
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    p = psc_params();
    p.max_age = -1;
    assert_reason(build_authorization_url(p, "s", "n", "c"), "auth_request_invalid");
    assert_reason(build_authorization_url(psc_params(), "", "n", "c"), "auth_request_invalid");
}

static void test_make_auth_request_fresh_values(void**) {
    auto a = make_auth_request(psc_params());
    auto b = make_auth_request(psc_params());
    assert_ok(a);
    assert_ok(b);
    // 256 bits each (43 base64url characters), never reused between logins.
    assert_int_equal(a->state.size(), 43);
    assert_int_equal(a->nonce.size(), 43);
    assert_int_equal(a->pkce.verifier.size(), 43);
    assert_true(a->state != b->state);
    assert_true(a->nonce != b->nonce);
    assert_true(a->state != a->nonce);
    assert_false(a->pkce.verifier.equals(b->pkce.verifier.view()));
    auto parts = split_url(a->url);
    assert_ok(parts);
    auto q = parse_query(*parts->query);
    assert_ok(q);
    assert_true(*query_find(*q, "state") == a->state);
    assert_true(*query_find(*q, "nonce") == a->nonce);
    assert_true(*query_find(*q, "code_challenge") == a->pkce.challenge);
    assert_string_equal(query_find(*q, "code_challenge_method")->c_str(), "S256");
    // The verifier itself never appears in the front channel.
    assert_null(strstr(a->url.c_str(), a->pkce.verifier.c_str()));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce_rfc7636_appendix_b),
        cmocka_unit_test(test_pkce_rejects_short_verifier),
        cmocka_unit_test(test_pkce_rejects_long_verifier),
        cmocka_unit_test(test_pkce_rejects_bad_alphabet),
        cmocka_unit_test(test_pkce_generate_fresh),
        cmocka_unit_test(test_exact_psc_authorization_url),
        cmocka_unit_test(test_optional_parameters),
        cmocka_unit_test(test_extra_params),
        cmocka_unit_test(test_endpoint_with_query_appends_ampersand),
        cmocka_unit_test(test_rejects_endpoint_with_fragment),
        cmocka_unit_test(test_rejects_endpoint_not_url),
        cmocka_unit_test(test_rejects_endpoint_param_conflict),
        cmocka_unit_test(test_rejects_missing_client_id),
        cmocka_unit_test(test_make_auth_request_fresh_values),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
