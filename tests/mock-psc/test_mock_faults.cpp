// SPDX-License-Identifier: LGPL-2.1-or-later
// One test per mock-psc fault switch: the fault must appear on the wire, and where the OIDC core is
// responsible it must reject it with the expected reason. A switch that silently stops working
// fails here before a daemon test trusts it.
#include "base64url.hpp"
#include "callback.hpp"
#include "discovery.hpp"
#include "jwks_cache.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"
#include "token_request.hpp"

using namespace psc;
using namespace psc::mocktest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMedecin = "810001234567";
constexpr const char* kOidc = "/auth/realms/esante-wallet/protocol/openid-connect";

std::string oidc_url(const std::string& path) {
    return shared_mock().state().base_url + kOidc + path;
}

// Logs in with the fault armed for the next answer and returns the ID token's validation.
Result<IdToken> login_with(const std::string& fault, const IdTokenPolicy* policy = nullptr) {
    shared_mock().fault(fault);
    auto r = code_login(shared_mock(), kMedecin);
    assert_ok(r.callback_check);
    assert_true(r.tokens.has_value());
    if (!policy)
        return std::move(*r.id_token);
    return validate_id_token(r.tokens->id_token.view(), r.keys, *policy, unix_now());
}

// The decoded JOSE header of a compact JWS.
std::string jose_header(std::string_view jws) {
    auto h = base64url_decode(jws.substr(0, jws.find('.')));
    assert_ok(h);
    return *h;
}

std::string raw_id_token(const std::string& fault) {
    shared_mock().fault(fault);
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.tokens.has_value());
    return std::string(r.tokens->id_token.view());
}

// A token answer after a complete login, for UserInfo faults.
LoginResult good_login() {
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.id_token.has_value());
    assert_ok(*r.id_token);
    return r;
}

HttpResponse userinfo_for(const LoginResult& r) {
    auto c = shared_mock().client();
    return must_get(*c, oidc_url("/userinfo"), std::string(r.tokens->access_token.view()));
}

Result<ProviderMetadata> discover(MockProcess& m, const std::string& ca_file) {
    HttpOptions o;
    o.ca_file = ca_file;
    o.total_timeout = 3000ms;
    auto c = HttpClient::create(o);
    assert_ok(c);
    const MockState& s = m.state();
    return fetch_discovery(**c, DiscoverySource{s.discovery_url, "", s.issuer, false});
}

std::string logged_status(const std::string& endpoint) {
    auto log = shared_mock().control("{\"log\":true}");
    assert_ok(log);
    const auto at = log->body.rfind("\"endpoint\":\"" + endpoint + "\"");
    assert_true(at != std::string::npos);
    const auto st = log->body.find("\"status\":", at) + 9;
    return log->body.substr(st, 3);
}

} // namespace

// --- ID token signature and header ---

static void test_id_token_bad_signature(void**) {
    assert_reason(login_with("id_token_bad_signature"), "jws_bad_signature");
}

static void test_id_token_alg_none(void**) {
    const std::string t = raw_id_token("id_token_alg_none");
    assert_true(jose_header(t).find("\"alg\":\"none\"") != std::string::npos);
    assert_true(t.back() == '.'); // RFC 7518 §3.6: empty signature
    auto keys = fetch_jwks(*shared_mock().client(), oidc_url("/certs"));
    assert_ok(keys);
    auto r = validate_id_token(t, *keys, policy_for(shared_mock().state(), ""), unix_now());
    assert_false(r.ok());
    // The core refuses it on shape (empty signature) before even reading alg.
    assert_true(r.error().reason == "jws_format" || r.error().reason == "jws_alg_none");
}

static void test_id_token_hs256_rsa_pubkey(void**) {
    const std::string t = raw_id_token("id_token_hs256_rsa_pubkey");
    assert_true(jose_header(t).find("\"alg\":\"HS256\"") != std::string::npos);
    auto keys = fetch_jwks(*shared_mock().client(), oidc_url("/certs"));
    assert_ok(keys);
    assert_reason(validate_id_token(t, *keys, policy_for(shared_mock().state(), ""), unix_now()),
                  "jws_alg_not_allowed");
}

static void test_id_token_unknown_kid(void**) {
    auto c = shared_mock().client();
    JwksCache cache;
    auto keys = fetch_jwks(*c, oidc_url("/certs"));
    assert_ok(keys);
    // Fetched over a minute ago, so the unknown kid may trigger the one refetch.
    cache.replace(std::move(*keys), std::chrono::steady_clock::now() - 61s);
    const std::string t = raw_id_token("id_token_unknown_kid");
    // Even after the refetch an unknown kid is unknown.
    assert_reason(verify_with_refetch(cache, *c, oidc_url("/certs"), t, JwsVerifyPolicy{},
                                      std::chrono::steady_clock::now()),
                  "jws_unknown_kid");
}

static void test_key_rotation(void**) {
    auto c = shared_mock().client();
    auto before = fetch_jwks(*c, oidc_url("/certs"));
    assert_ok(before);
    const std::string old_kid = before->keys[0]->kid;
    JwksCache cache;
    cache.replace(std::move(*before), std::chrono::steady_clock::now() - 61s);
    const std::string t = raw_id_token("key_rotation");
    // The old set cannot verify the new token; one refetch (new key published) can.
    assert_reason(jws_verify(t, cache.keys(), JwsVerifyPolicy{}), "jws_unknown_kid");
    auto v = verify_with_refetch(cache, *c, oidc_url("/certs"), t, JwsVerifyPolicy{},
                                 std::chrono::steady_clock::now());
    assert_ok(v);
    assert_string_not_equal(v->kid.c_str(), old_kid.c_str());
    auto after = fetch_jwks(*c, oidc_url("/certs"));
    assert_ok(after);
    assert_int_equal(after->keys.size(), 1); // the old key was removed
    assert_string_not_equal(after->keys[0]->kid.c_str(), old_kid.c_str());
}

// --- ID token claims ---

static void test_id_token_wrong_iss(void**) {
    assert_reason(login_with("id_token_wrong_iss"), "iss_mismatch");
}
static void test_id_token_missing_iss(void**) {
    assert_reason(login_with("id_token_missing_iss"), "iss_missing");
}
static void test_id_token_wrong_aud(void**) {
    assert_reason(login_with("id_token_wrong_aud"), "aud_mismatch");
}
static void test_id_token_missing_aud(void**) {
    assert_reason(login_with("id_token_missing_aud"), "aud_missing");
}

static void test_id_token_extra_aud_with_azp(void**) {
    assert_reason(login_with("id_token_extra_aud_with_azp"), "aud_untrusted");
    // Accepted once the operator trusts the extra audience (azp names the client).
    auto policy = policy_for(shared_mock().state(), "");
    policy.trusted_audiences = {"mock-psc-other-audience"};
    shared_mock().fault("id_token_extra_aud_with_azp");
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.tokens.has_value());
    policy.nonce = r.nonce;
    assert_ok(validate_id_token(r.tokens->id_token.view(), r.keys, policy, unix_now()));
}

static void test_id_token_extra_aud_without_azp(void**) {
    auto policy = policy_for(shared_mock().state(), "");
    policy.trusted_audiences = {"mock-psc-other-audience"};
    shared_mock().fault("id_token_extra_aud_without_azp");
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.tokens.has_value());
    policy.nonce = r.nonce;
    assert_reason(validate_id_token(r.tokens->id_token.view(), r.keys, policy, unix_now()),
                  "azp_missing");
}

static void test_id_token_expired(void**) {
    assert_reason(login_with("id_token_expired"), "exp_expired");
}
static void test_id_token_iat_future(void**) {
    assert_reason(login_with("id_token_iat_future"), "iat_future");
}
static void test_id_token_iat_week_old(void**) {
    assert_reason(login_with("id_token_iat_week_old"), "iat_too_old");
}
static void test_id_token_wrong_nonce(void**) {
    assert_reason(login_with("id_token_wrong_nonce"), "nonce_mismatch");
}
static void test_id_token_missing_nonce(void**) {
    assert_reason(login_with("id_token_missing_nonce"), "nonce_missing");
}
static void test_id_token_missing_sub(void**) {
    assert_reason(login_with("id_token_missing_sub"), "sub_missing");
}
static void test_id_token_acr_missing(void**) {
    assert_reason(login_with("id_token_acr_missing"), "acr_missing");
}
static void test_id_token_acr_eidas3(void**) {
    assert_reason(login_with("id_token_acr_eidas3"), "acr_not_accepted");
}
static void test_id_token_acr_unlisted(void**) {
    assert_reason(login_with("id_token_acr_unlisted"), "acr_not_accepted");
}

static void test_fault_scope_all_until_reset(void**) {
    shared_mock().fault("id_token_wrong_iss", "all");
    for (int i = 0; i < 2; ++i) {
        auto r = code_login(shared_mock(), kMedecin);
        assert_reason(*r.id_token, "iss_mismatch");
    }
    assert_int_equal(reset_shared_mock(nullptr), 0);
    (void)good_login();
}

// --- UserInfo ---

static void test_userinfo_other_sub(void**) {
    auto r = good_login();
    shared_mock().fault("userinfo_other_sub");
    auto info = parse_userinfo(userinfo_for(r),
                               UserInfoCheck{r.id_token->value().sub, "", "", nullptr, {}});
    assert_reason(info, "userinfo_sub_mismatch");
}

static void test_userinfo_signed_jwt(void**) {
    auto r = good_login();
    shared_mock().fault("userinfo_signed_jwt");
    const auto resp = userinfo_for(r);
    assert_string_equal(http_media_type(resp.content_type).c_str(), "application/jwt");
    const MockState& s = shared_mock().state();
    auto info = parse_userinfo(
        resp, UserInfoCheck{r.id_token->value().sub, s.issuer, s.client_id, &r.keys, {}});
    assert_ok(info);
    assert_true(info->was_signed);
    // Without keys the signed form cannot be accepted.
    assert_reason(
        parse_userinfo(resp,
                       UserInfoCheck{r.id_token->value().sub, s.issuer, s.client_id, nullptr, {}}),
        "userinfo_no_keys");
}

// --- Discovery ---

static void test_discovery_wrong_issuer(void**) {
    shared_mock().fault("discovery_wrong_issuer");
    assert_reason(discover(shared_mock(), shared_mock().state().ca_file),
                  "discovery_issuer_mismatch");
    assert_ok(discover(shared_mock(), shared_mock().state().ca_file)); // "next" only
}

// --- Authorization response ---

static void test_authz_wrong_iss(void**) {
    shared_mock().fault("authz_wrong_iss");
    assert_reason(code_login(shared_mock(), kMedecin).callback_check, "callback_iss_mismatch");
}

static void test_authz_missing_iss(void**) {
    shared_mock().fault("authz_missing_iss");
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.authorize.location.find("iss=") == std::string::npos);
    assert_reason(r.callback_check, "callback_iss_missing");
}

static void test_authz_wrong_state(void**) {
    shared_mock().fault("authz_wrong_state");
    assert_reason(code_login(shared_mock(), kMedecin).callback_check, "callback_state_mismatch");
}

static void test_authz_missing_state(void**) {
    shared_mock().fault("authz_missing_state");
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.authorize.location.find("?state=") == std::string::npos);
    assert_true(r.authorize.location.find("&state=") == std::string::npos);
    assert_reason(r.callback_check, "callback_state_missing");
}

// --- OAuth errors ---

static void test_oauth_error_at_authorize(void**) {
    shared_mock().fault("oauth_error", "next", "\"endpoint\":\"authorize\"");
    assert_reason(code_login(shared_mock(), kMedecin).callback_check, "access_denied");
}

static void test_oauth_error_at_token(void**) {
    shared_mock().fault("oauth_error", "next",
                        "\"endpoint\":\"token\",\"error\":\"invalid_grant\"");
    auto r = code_login(shared_mock(), kMedecin);
    assert_true(r.token_error.has_value());
    assert_reason(Status(oauth_error_to_error(*r.token_error)), "invalid_grant");
}

// --- Transport ---

static void test_http_500(void**) {
    shared_mock().fault("http_500", "next", "\"endpoint\":\"token\"");
    auto r = perform(*shared_mock().client(),
                     HttpRequest{HttpMethod::post, oidc_url("/token"), {}, "", false});
    assert_reason(r, "http_status");
    assert_string_equal(logged_status("token").c_str(), "500");
}

static void test_http_502(void**) {
    shared_mock().fault("http_502", "next", "\"endpoint\":\"discovery\"");
    assert_reason(discover(shared_mock(), shared_mock().state().ca_file), "http_status");
    assert_string_equal(logged_status("discovery").c_str(), "502");
}

static void test_http_503(void**) {
    shared_mock().fault("http_503", "next", "\"endpoint\":\"certs\"");
    assert_reason(fetch_jwks(*shared_mock().client(), oidc_url("/certs")), "http_status");
    assert_string_equal(logged_status("certs").c_str(), "503");
}

static void test_stall(void**) {
    shared_mock().fault("stall", "next", "\"endpoint\":\"certs\",\"seconds\":2");
    auto c = shared_mock().client(false, 700ms);
    assert_reason(fetch_jwks(*c, oidc_url("/certs")), "http_timeout");
    std::this_thread::sleep_for(1500ms); // the held answer is released; the mock serves again
    assert_ok(fetch_jwks(*shared_mock().client(), oidc_url("/certs")));
}

static void test_oversized_body(void**) {
    auto r = good_login();
    shared_mock().fault("oversized_body", "next", "\"endpoint\":\"userinfo\"");
    auto c = shared_mock().client();
    HttpRequest req{HttpMethod::get,
                    oidc_url("/userinfo"),
                    {"Authorization: Bearer " + std::string(r.tokens->access_token.view())},
                    "",
                    false};
    assert_reason(perform(*c, std::move(req)), "http_too_large");
}

static void test_malformed_json(void**) {
    shared_mock().fault("malformed_json", "next", "\"endpoint\":\"discovery\"");
    assert_reason(discover(shared_mock(), shared_mock().state().ca_file), "discovery_json");
    shared_mock().fault("malformed_json", "next", "\"endpoint\":\"token\"");
    assert_reason(code_login(shared_mock(), kMedecin).token_parse, "response_not_json");
}

static void test_tls_untrusted(void**) {
    auto m = MockProcess::start({"--fault", "tls_untrusted"});
    assert_ok(m);
    assert_reason(discover(**m, (*m)->state().ca_file), "tls_verify");
    // The certificate really comes from the other CA.
    assert_ok(discover(**m, (*m)->state().untrusted_ca_file));
}

static int group_setup(void**) {
    return start_shared_mock({"--ciba-interval", "1"});
}

int main() {
#define T(name) cmocka_unit_test_setup(name, reset_shared_mock)
    const struct CMUnitTest tests[] = {
        T(test_id_token_bad_signature),
        T(test_id_token_alg_none),
        T(test_id_token_hs256_rsa_pubkey),
        T(test_id_token_unknown_kid),
        T(test_key_rotation),
        T(test_id_token_wrong_iss),
        T(test_id_token_missing_iss),
        T(test_id_token_wrong_aud),
        T(test_id_token_missing_aud),
        T(test_id_token_extra_aud_with_azp),
        T(test_id_token_extra_aud_without_azp),
        T(test_id_token_expired),
        T(test_id_token_iat_future),
        T(test_id_token_iat_week_old),
        T(test_id_token_wrong_nonce),
        T(test_id_token_missing_nonce),
        T(test_id_token_missing_sub),
        T(test_id_token_acr_missing),
        T(test_id_token_acr_eidas3),
        T(test_id_token_acr_unlisted),
        T(test_fault_scope_all_until_reset),
        T(test_userinfo_other_sub),
        T(test_userinfo_signed_jwt),
        T(test_discovery_wrong_issuer),
        T(test_authz_wrong_iss),
        T(test_authz_missing_iss),
        T(test_authz_wrong_state),
        T(test_authz_missing_state),
        T(test_oauth_error_at_authorize),
        T(test_oauth_error_at_token),
        T(test_http_500),
        T(test_http_502),
        T(test_http_503),
        T(test_stall),
        T(test_oversized_body),
        T(test_malformed_json),
        T(test_tls_untrusted),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, stop_shared_mock);
}
