// SPDX-License-Identifier: LGPL-2.1-or-later
#include "base64url.hpp"
#include "json.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "testing.hpp"
#include "token_request.hpp"
#include "url.hpp"

using namespace psc;

namespace {

constexpr const char* kTokenEndpoint =
    "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/protocol/openid-connect/token";
constexpr const char* kCibaEndpoint = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/"
                                      "protocol/openid-connect/ext/ciba/auth";
constexpr const char* kIssuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet";
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kCodeBody = "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
                                  "&redirect_uri=https%3A%2F%2Fbastion.example%2Fcallback"
                                  "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const SystemTime kNow = SystemTime(std::chrono::seconds(1700000000));

// A secret with every character RFC 6749 §2.3.1 encoding is about: ':', '+', '%', space,
// non-ASCII and '~' (WHATWG encodes it).
const Secret& tricky_secret() {
    static const Secret s("a:b+c%d e€~");
    return s;
}

ClientAuth auth_of(ClientAuthMethod m) {
    ClientAuth a;
    a.method = m;
    a.client_id = "psc-login";
    a.client_secret = &tricky_secret();
    return a;
}

Result<HttpFormRequest> code_request(const ClientAuth& a) {
    return build_code_token_request(a, kTokenEndpoint, "SplxlOBeZQQYbYS6WxSbIA",
                                    "https://bastion.example/callback", kVerifier, kNow);
}

std::string header(const HttpFormRequest& r, std::string_view name) {
    const HttpHeader* h = r.header(name);
    return h ? std::string(h->value.view()) : std::string("<absent>");
}

void assert_form_headers(const HttpFormRequest& r) {
    assert_string_equal(r.method.c_str(), "POST");
    assert_string_equal(header(r, "content-type").c_str(), "application/x-www-form-urlencoded");
    assert_string_equal(header(r, "Accept").c_str(), "application/json");
}

} // namespace

static void test_auth_method_names(void**) {
    for (auto m : {ClientAuthMethod::client_secret_basic, ClientAuthMethod::client_secret_post,
                   ClientAuthMethod::tls_client_auth, ClientAuthMethod::private_key_jwt})
        assert_true(client_auth_method_from_name(client_auth_method_name(m)) == m);
    assert_false(client_auth_method_from_name("client_secret_jwt").has_value());
    assert_false(client_auth_method_from_name("none").has_value());
}

static void test_client_secret_basic_exact(void**) {
    auto r = code_request(auth_of(ClientAuthMethod::client_secret_basic));
    assert_ok(r);
    assert_form_headers(*r);
    assert_string_equal(r->url.c_str(), kTokenEndpoint);
    assert_false(r->mtls);
    // base64("psc-login:a%3Ab%2Bc%25d+e%E2%82%AC%7E"): form-urlencoded first (RFC 6749 §2.3.1).
    assert_string_equal(header(*r, "Authorization").c_str(),
                        "Basic cHNjLWxvZ2luOmElM0FiJTJCYyUyNWQrZSVFMiU4MiVBQyU3RQ==");
    assert_string_equal(r->body.c_str(), kCodeBody);
}

static void test_client_secret_post_exact(void**) {
    auto r = code_request(auth_of(ClientAuthMethod::client_secret_post));
    assert_ok(r);
    assert_form_headers(*r);
    assert_string_equal(header(*r, "Authorization").c_str(), "<absent>");
    assert_false(r->mtls);
    assert_string_equal(
        r->body.c_str(),
        (std::string(kCodeBody) + "&client_id=psc-login&client_secret=a%3Ab%2Bc%25d+e%E2%82%AC%7E")
            .c_str());
    auto q = parse_query(r->body.view());
    assert_ok(q);
    assert_true(tricky_secret().equals(*query_find(*q, "client_secret")));
}

static void test_tls_client_auth_exact(void**) {
    auto a = auth_of(ClientAuthMethod::tls_client_auth);
    a.client_secret = nullptr;
    auto r = code_request(a);
    assert_ok(r);
    assert_form_headers(*r);
    assert_true(r->mtls);
    assert_string_equal(header(*r, "Authorization").c_str(), "<absent>");
    assert_string_equal(r->body.c_str(), (std::string(kCodeBody) + "&client_id=psc-login").c_str());
}

static void test_private_key_jwt_assertion_verifies(void**) {
    EvpPkeyPtr key = testkeys::generate_key(testkeys::KeyType::P256);
    JwsSigningKey sk = testkeys::signing_key(key.get(), JwsAlg::ES256, "client-key-1");
    auto a = auth_of(ClientAuthMethod::private_key_jwt);
    a.client_secret = nullptr;
    a.signing_key = &sk;
    a.assertion_audience = kIssuer;
    auto r = code_request(a);
    assert_ok(r);
    assert_form_headers(*r);
    assert_false(r->mtls);
    assert_string_equal(header(*r, "Authorization").c_str(), "<absent>");
    auto q = parse_query(r->body.view());
    assert_ok(q);
    assert_string_equal(query_find(*q, "client_id")->c_str(), "psc-login");
    assert_string_equal(query_find(*q, "client_assertion_type")->c_str(),
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert_string_equal(query_find(*q, "code_verifier")->c_str(), kVerifier);

    auto jwks = parse_jwks(testkeys::jwks_json(
        {testkeys::public_jwk_json(key.get(), {"client-key-1", "ES256", "sig"})}));
    assert_ok(jwks);
    JwsVerifyPolicy policy;
    policy.allowed_algs = {JwsAlg::ES256};
    auto v = jws_verify(*query_find(*q, "client_assertion"), *jwks, policy);
    assert_ok(v);
    assert_string_equal(v->kid.c_str(), "client-key-1");
    auto claims = json_parse_object(v->payload);
    assert_ok(claims);
    auto str = [&](const char* k) { return std::string(**json_get_string(claims->get(), k)); };
    auto num = [&](const char* k) { return **json_get_int64(claims->get(), k); };
    assert_string_equal(str("iss").c_str(), "psc-login");
    assert_string_equal(str("sub").c_str(), "psc-login");
    assert_string_equal(str("aud").c_str(), kIssuer);
    assert_true(str("jti").size() >= 43);
    assert_int_equal(num("iat"), 1700000000);
    assert_int_equal(num("exp"), 1700000060);
}

static void test_private_key_jwt_fresh_jti(void**) {
    EvpPkeyPtr key = testkeys::generate_key(testkeys::KeyType::RSA2048);
    JwsSigningKey sk = testkeys::signing_key(key.get(), JwsAlg::RS256, "k");
    auto a = auth_of(ClientAuthMethod::private_key_jwt);
    a.signing_key = &sk;
    a.assertion_audience = kIssuer;
    a.assertion_lifetime = std::chrono::seconds(3600); // capped to 300 s
    std::set<std::string> jtis;
    for (int i = 0; i < 5; ++i) {
        auto jwt = make_client_assertion(a, kNow);
        assert_ok(jwt);
        const auto dot1 = jwt->find('.');
        const auto dot2 = jwt->find('.', dot1 + 1);
        auto payload = base64url_decode(jwt->substr(dot1 + 1, dot2 - dot1 - 1));
        assert_ok(payload);
        auto claims = json_parse_object(*payload);
        assert_ok(claims);
        assert_int_equal(**json_get_int64(claims->get(), "exp"), 1700000300);
        assert_true(jtis.insert(std::string(**json_get_string(claims->get(), "jti"))).second);
    }
}

static void test_rejects_missing_signing_key(void**) {
    auto a = auth_of(ClientAuthMethod::private_key_jwt);
    a.assertion_audience = kIssuer;
    assert_reason(code_request(a), "client_signing_key_missing");
}

static void test_rejects_missing_audience(void**) {
    EvpPkeyPtr key = testkeys::generate_key(testkeys::KeyType::P256);
    JwsSigningKey sk = testkeys::signing_key(key.get(), JwsAlg::ES256, "k");
    auto a = auth_of(ClientAuthMethod::private_key_jwt);
    a.signing_key = &sk;
    assert_reason(code_request(a), "client_audience_missing");
}

static void test_rejects_missing_client_id(void**) {
    auto a = auth_of(ClientAuthMethod::tls_client_auth);
    a.client_id.clear();
    assert_reason(code_request(a), "client_id_missing");
}

static void test_rejects_missing_secret(void**) {
    auto a = auth_of(ClientAuthMethod::client_secret_basic);
    a.client_secret = nullptr;
    assert_reason(code_request(a), "client_secret_missing");
    const Secret empty;
    a = auth_of(ClientAuthMethod::client_secret_post);
    a.client_secret = &empty;
    assert_reason(code_request(a), "client_secret_missing");
}

static void test_rejects_bad_endpoint(void**) {
    const auto a = auth_of(ClientAuthMethod::client_secret_basic);
    assert_reason(build_code_token_request(a, "not a url", "c", "https://r/", kVerifier, kNow),
                  "request_bad_endpoint");
    assert_reason(
        build_code_token_request(a, "https://idp/token#f", "c", "https://r/", kVerifier, kNow),
        "request_bad_endpoint");
}

static void test_rejects_empty_code(void**) {
    const auto a = auth_of(ClientAuthMethod::client_secret_basic);
    assert_reason(build_code_token_request(a, kTokenEndpoint, "", "https://r/", kVerifier, kNow),
                  "token_request_invalid");
    assert_reason(build_code_token_request(a, kTokenEndpoint, "c", "https://r/", "", kNow),
                  "token_request_invalid");
}

static void test_refresh_request_exact(void**) {
    auto r = build_refresh_request(auth_of(ClientAuthMethod::client_secret_basic), kTokenEndpoint,
                                   "rt/+1", "openid scope_all", kNow);
    assert_ok(r);
    assert_string_equal(r->body.c_str(),
                        "grant_type=refresh_token&refresh_token=rt%2F%2B1&scope=openid+scope_all");
    auto s = build_refresh_request(auth_of(ClientAuthMethod::client_secret_basic), kTokenEndpoint,
                                   "rt", "", kNow);
    assert_ok(s);
    assert_string_equal(s->body.c_str(), "grant_type=refresh_token&refresh_token=rt");
    assert_reason(build_refresh_request(auth_of(ClientAuthMethod::client_secret_basic),
                                        kTokenEndpoint, "", "", kNow),
                  "token_request_invalid");
}

static CibaAuthParams psc_ciba() {
    CibaAuthParams p;
    p.scope = "openid scope_all";
    p.acr_values = "eidas1";
    p.login_hint = "899700218896";
    p.binding_message = "42";
    p.channel = "MOBILE";
    return p;
}

static void test_ciba_auth_request_exact(void**) {
    auto a = auth_of(ClientAuthMethod::tls_client_auth);
    auto p = psc_ciba();
    p.requested_expiry = 120;
    auto r = build_ciba_auth_request(a, kCibaEndpoint, p, kNow);
    assert_ok(r);
    assert_form_headers(*r);
    assert_true(r->mtls);
    assert_string_equal(r->url.c_str(), kCibaEndpoint);
    assert_string_equal(
        r->body.c_str(),
        "scope=openid+scope_all&acr_values=eidas1&login_hint=899700218896"
        "&binding_message=42&channel=MOBILE&requested_expiry=120&client_id=psc-login");
}

static void test_ciba_auth_request_minimal(void**) {
    auto p = psc_ciba();
    p.acr_values.clear();
    p.channel.clear();
    auto r = build_ciba_auth_request(auth_of(ClientAuthMethod::client_secret_basic), kCibaEndpoint,
                                     p, kNow);
    assert_ok(r);
    assert_string_equal(r->body.c_str(),
                        "scope=openid+scope_all&login_hint=899700218896&binding_message=42");
}

static void test_ciba_rejects_missing_login_hint(void**) {
    auto p = psc_ciba();
    p.login_hint.clear();
    assert_reason(build_ciba_auth_request(auth_of(ClientAuthMethod::client_secret_basic),
                                          kCibaEndpoint, p, kNow),
                  "ciba_login_hint_missing");
}

static void test_ciba_rejects_bad_binding_message(void**) {
    const auto a = auth_of(ClientAuthMethod::client_secret_basic);
    auto p = psc_ciba();
    p.binding_message.clear();
    assert_reason(build_ciba_auth_request(a, kCibaEndpoint, p, kNow), "ciba_bad_binding_message");
    p.binding_message = "4\n2";
    assert_reason(build_ciba_auth_request(a, kCibaEndpoint, p, kNow), "ciba_bad_binding_message");
    p.binding_message = std::string(65, '1');
    assert_reason(build_ciba_auth_request(a, kCibaEndpoint, p, kNow), "ciba_bad_binding_message");
}

static void test_ciba_rejects_bad_channel(void**) {
    auto p = psc_ciba();
    p.channel = "mobile";
    assert_reason(build_ciba_auth_request(auth_of(ClientAuthMethod::client_secret_basic),
                                          kCibaEndpoint, p, kNow),
                  "ciba_bad_channel");
}

static void test_ciba_rejects_bad_expiry(void**) {
    auto p = psc_ciba();
    p.requested_expiry = 0;
    assert_reason(build_ciba_auth_request(auth_of(ClientAuthMethod::client_secret_basic),
                                          kCibaEndpoint, p, kNow),
                  "ciba_bad_expiry");
}

static void test_ciba_token_request_exact(void**) {
    auto r = build_ciba_token_request(auth_of(ClientAuthMethod::client_secret_post), kTokenEndpoint,
                                      "1c266114-a1be-4252-8ad1-04986c5b9ac1", kNow);
    assert_ok(r);
    assert_string_equal(r->body.c_str(),
                        "grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba"
                        "&auth_req_id=1c266114-a1be-4252-8ad1-04986c5b9ac1"
                        "&client_id=psc-login&client_secret=a%3Ab%2Bc%25d+e%E2%82%AC%7E");
    assert_reason(build_ciba_token_request(auth_of(ClientAuthMethod::client_secret_post),
                                           kTokenEndpoint, "", kNow),
                  "token_request_invalid");
}

static void test_device_requests_exact(void**) {
    auto a = auth_of(ClientAuthMethod::tls_client_auth);
    auto d =
        build_device_authorization_request(a, "https://idp.example/device", "openid profile", kNow);
    assert_ok(d);
    assert_true(d->mtls);
    assert_string_equal(d->body.c_str(), "scope=openid+profile&client_id=psc-login");
    auto t = build_device_token_request(a, kTokenEndpoint,
                                        "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS", kNow);
    assert_ok(t);
    assert_string_equal(
        t->body.c_str(),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        "&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS&client_id=psc-login");
    assert_reason(build_device_token_request(a, kTokenEndpoint, "", kNow), "token_request_invalid");
}

static void test_binding_message_two_digits(void**) {
    std::set<std::string> seen;
    for (int i = 0; i < 5000 && seen.size() < 100; ++i) {
        auto m = make_binding_message();
        assert_ok(m);
        assert_int_equal(m->size(), 2);
        assert_true((*m)[0] >= '0' && (*m)[0] <= '9' && (*m)[1] >= '0' && (*m)[1] <= '9');
        seen.insert(*m);
    }
    // Zero-padded values ("00"-"09") and the whole range are reachable.
    assert_int_equal(seen.size(), 100);
    assert_true(seen.count("00") == 1 && seen.count("99") == 1);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_method_names),
        cmocka_unit_test(test_client_secret_basic_exact),
        cmocka_unit_test(test_client_secret_post_exact),
        cmocka_unit_test(test_tls_client_auth_exact),
        cmocka_unit_test(test_private_key_jwt_assertion_verifies),
        cmocka_unit_test(test_private_key_jwt_fresh_jti),
        cmocka_unit_test(test_rejects_missing_signing_key),
        cmocka_unit_test(test_rejects_missing_audience),
        cmocka_unit_test(test_rejects_missing_client_id),
        cmocka_unit_test(test_rejects_missing_secret),
        cmocka_unit_test(test_rejects_bad_endpoint),
        cmocka_unit_test(test_rejects_empty_code),
        cmocka_unit_test(test_refresh_request_exact),
        cmocka_unit_test(test_ciba_auth_request_exact),
        cmocka_unit_test(test_ciba_auth_request_minimal),
        cmocka_unit_test(test_ciba_rejects_missing_login_hint),
        cmocka_unit_test(test_ciba_rejects_bad_binding_message),
        cmocka_unit_test(test_ciba_rejects_bad_channel),
        cmocka_unit_test(test_ciba_rejects_bad_expiry),
        cmocka_unit_test(test_ciba_token_request_exact),
        cmocka_unit_test(test_device_requests_exact),
        cmocka_unit_test(test_binding_message_two_digits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
