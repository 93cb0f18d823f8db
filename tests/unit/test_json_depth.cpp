// SPDX-License-Identifier: LGPL-2.1-or-later
// [limits] json_max_depth (design §9) reaches every JSON parser psc-authd runs on provider data:
// discovery, JWKS, token/CIBA/device responses, UserInfo and ID token claims take the configured
// depth through their options, and the daemon copies it from the configuration. Each document
// below is valid except for one member nested 10 deep: refused at depth 8, accepted at the default.
#include "config.hpp"
#include "discovery.hpp"
#include "id_token.hpp"
#include "jwks_cache.hpp"
#include "keys.hpp"
#include "login_finish.hpp"
#include "testing.hpp"
#include "token_response.hpp"
#include "userinfo.hpp"

using namespace psc;
using namespace psc::testkeys;

namespace {

constexpr int kShallow = 8;
constexpr std::int64_t kNow = 1'700'000'000;
const std::string kDeep = R"([[[[[[[[[["deep"]]]]]]]]]])"; // 10 levels

const std::string kIssuer = "https://idp.example.org/realms/x";

std::string discovery_doc() {
    return with_member(R"({"issuer":")" + kIssuer +
                           R"(","authorization_endpoint":"https://idp.example.org/auth",)"
                           R"("token_endpoint":"https://idp.example.org/token",)"
                           R"("jwks_uri":"https://idp.example.org/certs"})",
                       "x-deep", kDeep);
}

void discovery_depth(void**) {
    assert_reason(parse_discovery(discovery_doc(), kIssuer, false, kShallow), "discovery_json");
    assert_ok(parse_discovery(discovery_doc(), kIssuer, false));
}

void discovery_response_depth(void**) {
    const HttpResponse resp{200, "application/json", discovery_doc()};
    assert_reason(discovery_from_response(resp, kIssuer, false, kShallow), "discovery_json");
    assert_ok(discovery_from_response(resp, kIssuer, false));
}

const EVP_PKEY* rsa_key() {
    static const EvpPkeyPtr k = generate_key(KeyType::RSA2048);
    return k.get();
}

void jwks_depth(void**) {
    const std::string body =
        with_member(jwks_json({public_jwk_json(rsa_key(), {"k1", "RS256", "sig"})}), "x", kDeep);
    const HttpResponse resp{200, "application/json", body};
    assert_reason(jwks_from_response(resp, kShallow), "jwks_json");
    assert_ok(jwks_from_response(resp));
}

const std::string kToken =
    with_member(R"({"access_token":"at","token_type":"Bearer","id_token":"a.b.c"})", "x", kDeep);

void token_response_depth(void**) {
    assert_reason(parse_token_response(200, kToken, true, kShallow), "response_not_json");
    assert_ok(parse_token_response(200, kToken, true));
}

// An OAuth error answer goes through the same parser.
void token_error_response_depth(void**) {
    const std::string err = with_member(R"({"error":"invalid_grant"})", "x", kDeep);
    assert_reason(parse_token_response(400, err, true, kShallow), "response_not_json");
    assert_ok(parse_token_response(400, err, true));
}

void ciba_response_depth(void**) {
    const std::string body = with_member(R"({"auth_req_id":"r1","expires_in":120})", "x", kDeep);
    assert_reason(parse_ciba_auth_response(200, body, kShallow), "response_not_json");
    assert_ok(parse_ciba_auth_response(200, body));
}

void device_response_depth(void**) {
    const std::string body = with_member(
        R"({"device_code":"d1","user_code":"ABCD-EFGH","verification_uri":"https://idp.example.org/device","expires_in":600})",
        "x", kDeep);
    assert_reason(parse_device_auth_response(200, body, kShallow), "response_not_json");
    assert_ok(parse_device_auth_response(200, body));
}

void userinfo_depth(void**) {
    const std::string body = with_member(R"({"sub":"s1"})", "x", kDeep);
    UserInfoCheck check;
    check.expected_sub = "s1";
    check.json_max_depth = kShallow;
    assert_reason(parse_userinfo_body(body, "application/json", check), "userinfo_json");
    check.json_max_depth = kJsonMaxDepth;
    assert_ok(parse_userinfo_body(body, "application/json", check));
}

void id_token_claims_depth(void**) {
    ClaimsOptions o;
    o.issuer = kIssuer;
    const std::string token = mint_simple(with_member(psc_claims(kNow, o), "x", kDeep),
                                          signing_key(rsa_key(), JwsAlg::RS256, "k1"));
    auto keys = parse_jwks(jwks_json({public_jwk_json(rsa_key(), {"k1", "RS256", "sig"})}));
    assert_ok(keys);
    IdTokenPolicy p;
    p.issuer = kIssuer;
    p.client_id = o.client_id;
    p.nonce = o.nonce;
    p.json_max_depth = kShallow;
    assert_reason(validate_id_token(token, *keys, p, kNow), "claims_json");
    p.json_max_depth = kJsonMaxDepth;
    assert_ok(validate_id_token(token, *keys, p, kNow));
}

// The daemon's ID token policy carries the configured depth.
void daemon_policy_uses_config(void**) {
    auto cfg = load_config_from_text(
        "t.conf", "[provider]\nissuer = " + kIssuer +
                      "\nclient_id = c\nclient_secret_file = /nonexistent\n[limits]\n"
                      "json_max_depth = 7\n");
    assert_ok(cfg);
    assert_int_equal(cfg->limits.json_max_depth, 7);
    ProviderMetadata md;
    md.issuer = kIssuer;
    auto pol = id_token_policy(*cfg, md, std::nullopt, nullptr);
    assert_ok(pol);
    assert_int_equal(pol->json_max_depth, 7);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(discovery_depth),
        cmocka_unit_test(discovery_response_depth),
        cmocka_unit_test(jwks_depth),
        cmocka_unit_test(token_response_depth),
        cmocka_unit_test(token_error_response_depth),
        cmocka_unit_test(ciba_response_depth),
        cmocka_unit_test(device_response_depth),
        cmocka_unit_test(userinfo_depth),
        cmocka_unit_test(id_token_claims_depth),
        cmocka_unit_test(daemon_policy_uses_config),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
