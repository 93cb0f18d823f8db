// SPDX-License-Identifier: LGPL-2.1-or-later
// ID token claims (OIDC Core §3.1.3.7, design §3) and the OpenID RP conformance cases: one test per
// rule, each asserting the exact rejection reason.
#include "base64url.hpp"
#include "id_token.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "testing.hpp"

#include <openssl/evp.h>

using namespace psc;
using namespace psc::testkeys;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const ClaimsOptions kOpts{};

const EVP_PKEY* rsa_key() {
    static const EvpPkeyPtr k = generate_key(KeyType::RSA2048);
    return k.get();
}

const JwkSet& jwks() {
    static const JwkSet set = [] {
        auto r = parse_jwks(jwks_json({public_jwk_json(rsa_key(), {"psc-1", "RS256", "sig"})}));
        assert_true(r.ok());
        return std::move(*r);
    }();
    return set;
}

IdTokenPolicy policy() {
    IdTokenPolicy p;
    p.issuer = kOpts.issuer;
    p.client_id = kOpts.client_id;
    p.nonce = kOpts.nonce;
    return p;
}

std::string sign(const std::string& claims) {
    return mint_simple(claims, signing_key(rsa_key(), JwsAlg::RS256, "psc-1"));
}

Result<IdToken> check(const std::string& claims, const IdTokenPolicy& p = policy(),
                      std::int64_t now = kNow) {
    return validate_id_token(sign(claims), jwks(), p, now);
}

std::string claims() {
    return psc_claims(kNow, kOpts);
}
std::string set(const char* name, std::string_view value) {
    return with_member(claims(), name, value);
}
std::string drop(const char* name) {
    return without_member(claims(), name);
}
std::string num(std::int64_t v) {
    return std::to_string(v);
}

} // namespace

// ---- The happy path ----

static void test_valid_token_accepted(void**) {
    auto t = check(claims());
    assert_ok(t);
    assert_string_equal(t->iss.c_str(), kOpts.issuer.c_str());
    assert_string_equal(t->sub.c_str(), kOpts.sub.c_str());
    assert_int_equal(t->aud.size(), 1);
    assert_int_equal(t->exp, kNow + 120);
    assert_int_equal(t->iat, kNow);
    assert_string_equal(t->acr->c_str(), "eidas1");
    assert_string_equal(t->nonce->c_str(), kOpts.nonce.c_str());
    assert_string_equal(t->kid.c_str(), "psc-1");
    auto pu = json_get_string(t->claims.get(), "preferred_username");
    assert_ok(pu);
    assert_true(**pu == kOpts.preferred_username);
}

static void test_policy_without_issuer_is_config_error(void**) {
    IdTokenPolicy p = policy();
    p.issuer.clear();
    auto r = check(claims(), p);
    assert_reason(r, "id_token_policy");
    assert_true(r.error().code == Errc::config);
}

// ---- Signature layer reached through validate_id_token ----

static void test_bad_signature_rejected(void**) {
    std::string t = sign(claims());
    t[t.size() - 3] = t[t.size() - 3] == 'A' ? 'B' : 'A';
    assert_reason(validate_id_token(t, jwks(), policy(), kNow), "jws_bad_signature");
}

static void test_alg_none_rejected(void**) {
    assert_reason(
        validate_id_token(assemble(R"({"alg":"none"})", claims(), "x"), jwks(), policy(), kNow),
        "jws_alg_none");
}

static void test_hs_rs_key_confusion_rejected(void**) {
    const std::string forged = mint(R"({"alg":"HS256","kid":"psc-1"})", claims(),
                                    hmac_signing_key(JwsAlg::HS256, public_key_pem(rsa_key())));
    assert_reason(validate_id_token(forged, jwks(), policy(), kNow), "jws_alg_not_allowed");
}

static void test_rotated_key_unknown_kid(void**) {
    const EvpPkeyPtr next = generate_key(KeyType::RSA2048);
    const std::string t = mint_simple(claims(), signing_key(next.get(), JwsAlg::RS256, "psc-2"));
    assert_reason(validate_id_token(t, jwks(), policy(), kNow), "jws_unknown_kid");
}

static void test_payload_not_json_rejected(void**) {
    const std::string t = mint(R"({"alg":"RS256","kid":"psc-1"})", "[1,2]",
                               signing_key(rsa_key(), JwsAlg::RS256, ""));
    assert_reason(validate_id_token(t, jwks(), policy(), kNow), "claims_json");
}

// ---- iss ----

static void test_iss_mismatch_rejected(void**) {
    assert_reason(check(set("iss", "\"https://evil.example\"")), "iss_mismatch");
    // Byte for byte: a trailing slash is a different issuer.
    assert_reason(check(set("iss", "\"" + kOpts.issuer + "/\"")), "iss_mismatch");
}

static void test_iss_missing_rejected(void**) {
    assert_reason(check(drop("iss")), "iss_missing");
}

// ---- sub ----

static void test_sub_missing_rejected(void**) {
    assert_reason(check(drop("sub")), "sub_missing");
}

static void test_sub_empty_or_too_long_rejected(void**) {
    assert_reason(check(set("sub", "\"\"")), "sub_invalid");
    assert_reason(check(set("sub", "\"" + std::string(256, 's') + "\"")), "sub_invalid");
    assert_ok(check(set("sub", "\"" + std::string(255, 's') + "\"")));
}

// ---- aud / azp ----

static void test_aud_mismatch_rejected(void**) {
    assert_reason(check(set("aud", "\"another-client\"")), "aud_mismatch");
    assert_reason(check(set("aud", "[]")), "aud_mismatch");
}

static void test_aud_missing_rejected(void**) {
    assert_reason(check(drop("aud")), "aud_missing");
}

static void test_aud_one_element_array_accepted(void**) {
    assert_ok(check(set("aud", "[\"" + kOpts.client_id + "\"]")));
}

static void test_aud_extra_untrusted_rejected(void**) {
    assert_reason(check(set("aud", "[\"" + kOpts.client_id + "\",\"other-rp\"]")), "aud_untrusted");
}

static void test_aud_extra_trusted_with_azp_accepted(void**) {
    IdTokenPolicy p = policy();
    p.trusted_audiences = {"hospital-broker"};
    auto t = check(set("aud", "[\"" + kOpts.client_id + "\",\"hospital-broker\"]"), p);
    assert_ok(t);
    assert_int_equal(t->aud.size(), 2);
}

static void test_aud_extra_trusted_without_azp_rejected(void**) {
    IdTokenPolicy p = policy();
    p.trusted_audiences = {"hospital-broker"};
    const std::string c = without_member(
        with_member(claims(), "aud", "[\"" + kOpts.client_id + "\",\"hospital-broker\"]"), "azp");
    assert_reason(check(c, p), "azp_missing");
}

static void test_azp_mismatch_rejected(void**) {
    assert_reason(check(set("azp", "\"other-rp\"")), "azp_mismatch");
}

static void test_azp_absent_single_audience_accepted(void**) {
    assert_ok(check(drop("azp")));
}

// ---- exp / iat / nbf, with the clock-skew edges ----

static void test_exp_missing_rejected(void**) {
    assert_reason(check(drop("exp")), "exp_missing");
}

static void test_exp_expired_rejected(void**) {
    assert_reason(check(set("exp", num(kNow - 3600))), "exp_expired");
}

static void test_exp_skew_edge(void**) {
    assert_reason(check(set("exp", num(kNow - 60))), "exp_expired");
    assert_ok(check(set("exp", num(kNow - 59))));
}

static void test_iat_missing_rejected(void**) {
    assert_reason(check(drop("iat")), "iat_missing");
}

static void test_iat_future_rejected(void**) {
    assert_reason(check(set("iat", num(kNow + 3600))), "iat_future");
}

static void test_iat_future_skew_edge(void**) {
    assert_ok(check(set("iat", num(kNow + 60))));
    assert_reason(check(set("iat", num(kNow + 61))), "iat_future");
}

static void test_iat_week_old_rejected(void**) {
    const std::string c = with_member(set("iat", num(kNow - 7 * 86400)), "exp", num(kNow + 3600));
    assert_reason(check(c), "iat_too_old");
}

static void test_iat_too_old_edge(void**) {
    // Default max_token_age 600 s + 60 s skew.
    assert_ok(check(set("iat", num(kNow - 660))));
    assert_reason(check(set("iat", num(kNow - 661))), "iat_too_old");
}

static void test_nbf_future_rejected(void**) {
    assert_reason(check(set("nbf", num(kNow + 61))), "nbf_future");
    assert_ok(check(set("nbf", num(kNow + 60))));
}

// ---- nonce ----

static void test_nonce_mismatch_rejected(void**) {
    assert_reason(check(set("nonce", "\"n-other\"")), "nonce_mismatch");
    assert_reason(check(set("nonce", "\"" + kOpts.nonce + "x\"")), "nonce_mismatch");
}

static void test_nonce_missing_rejected(void**) {
    assert_reason(check(drop("nonce")), "nonce_missing");
}

static void test_nonce_not_expected_accepted(void**) {
    IdTokenPolicy p = policy();
    p.nonce.reset(); // CIBA: no nonce sent; one in the token is fine, none is fine
    assert_ok(check(claims(), p));
    assert_ok(check(drop("nonce"), p));
}

// ---- acr (PSC quirks) ----

static void test_acr_missing_rejected_by_default(void**) {
    assert_reason(check(drop("acr")), "acr_missing");
}

static void test_acr_missing_accepted_when_configured(void**) {
    IdTokenPolicy p = policy();
    p.acr_missing_accept = true;
    auto t = check(drop("acr"), p);
    assert_ok(t);
    assert_false(t->acr.has_value());
}

static void test_acr_eidas3_rejected_by_default(void**) {
    assert_reason(check(set("acr", "\"eidas3\"")), "acr_not_accepted");
}

static void test_acr_any_value_for_generic_provider(void**) {
    // A generic provider without an acr requirement: any value passes, a missing acr does not
    // unless acr_missing says so.
    IdTokenPolicy p = policy();
    p.acr_any_value = true;
    assert_ok(check(set("acr", "\"urn:example:loa:1\""), p));
    assert_reason(check(drop("acr"), p), "acr_missing");
    p.acr_missing_accept = true;
    assert_ok(check(drop("acr"), p));
    assert_reason(check(set("acr", "42"), p), "claim_type");
}

static void test_acr_accept_list_configurable(void**) {
    IdTokenPolicy p = policy();
    p.acr_accept = {"eidas1", "eidas3"};
    assert_ok(check(set("acr", "\"eidas3\""), p));
    p.acr_missing_accept = true; // a present but unlisted acr is still refused
    assert_reason(check(set("acr", "\"eidas2\""), p), "acr_not_accepted");
}

// ---- auth_time / max_age ----

static void test_auth_time_missing_with_max_age_rejected(void**) {
    IdTokenPolicy p = policy();
    p.max_age = std::chrono::seconds(300);
    assert_reason(check(drop("auth_time"), p), "auth_time_missing");
    p.max_age.reset();
    assert_ok(check(drop("auth_time"), p));
}

static void test_auth_time_too_old_rejected(void**) {
    IdTokenPolicy p = policy();
    p.max_age = std::chrono::seconds(300);
    assert_ok(check(set("auth_time", num(kNow - 360)), p));
    assert_reason(check(set("auth_time", num(kNow - 361)), p), "auth_time_too_old");
}

static void test_auth_time_future_rejected(void**) {
    assert_reason(check(set("auth_time", num(kNow + 61))), "auth_time_future");
}

// ---- JSON types ----

static void test_claims_of_wrong_type_rejected(void**) {
    const std::pair<const char*, const char*> cases[] = {
        {"iss", "1"},    {"sub", "42"},           {"aud", "[1]"},         {"aud", "{}"},
        {"azp", "true"}, {"exp", "\"9999\""},     {"iat", "null"},        {"nbf", "[]"},
        {"nonce", "1"},  {"acr", "[\"eidas1\"]"}, {"auth_time", "\"0\""},
    };
    for (auto [name, value] : cases)
        assert_reason(check(set(name, value)), "claim_type");
}

static void test_fractional_times_accepted(void**) {
    assert_ok(check(set("iat", std::to_string(kNow) + ".5")));
}

// ---- at_hash / c_hash (OIDC Core §3.1.3.8, §3.3.2.11) ----

namespace {

// The expected value, computed here with OpenSSL directly (not with the code under test).
std::string expected_hash(const EVP_MD* md, std::string_view value) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(value.data(), value.size(), out, &len, md, nullptr), 1);
    return base64url_encode(out, len / 2);
}

struct AlgCase {
    JwsAlg alg;
    KeyType key; // unused for HS*
    const EVP_MD* (*md)();
};

} // namespace

static void test_at_hash_and_c_hash_every_alg_family(void**) {
    const Secret hmac("a-client-secret-long-enough-for-hs512-0123456789abcdefghijklmnopqrstuv");
    const AlgCase cases[] = {
        {JwsAlg::RS256, KeyType::RSA2048, EVP_sha256}, {JwsAlg::RS384, KeyType::RSA2048, EVP_sha384},
        {JwsAlg::RS512, KeyType::RSA2048, EVP_sha512}, {JwsAlg::PS256, KeyType::RSA2048, EVP_sha256},
        {JwsAlg::PS384, KeyType::RSA2048, EVP_sha384}, {JwsAlg::PS512, KeyType::RSA2048, EVP_sha512},
        {JwsAlg::ES256, KeyType::P256, EVP_sha256},    {JwsAlg::ES384, KeyType::P384, EVP_sha384},
        {JwsAlg::ES512, KeyType::P521, EVP_sha512},    {JwsAlg::EdDSA, KeyType::Ed25519, EVP_sha512},
        {JwsAlg::HS256, KeyType::P256, EVP_sha256},    {JwsAlg::HS384, KeyType::P256, EVP_sha384},
        {JwsAlg::HS512, KeyType::P256, EVP_sha512},
    };
    const std::string access = "at-0123456789", code = "code-abcdef";
    for (const auto& c : cases) {
        const std::string name(jws_alg_name(c.alg));
        IdTokenPolicy p = policy();
        p.jws.allowed_algs = {c.alg};
        p.access_token = access;
        p.code = code;
        JwkSet keys;
        EvpPkeyPtr key;
        std::optional<JwsSigningKey> signer;
        if (jws_alg_is_hmac(c.alg)) {
            p.jws.hmac_secret = &hmac;
            signer = hmac_signing_key(c.alg, std::string(hmac.view()));
        } else {
            key = generate_key(c.key);
            auto set = parse_jwks(jwks_json({public_jwk_json(key.get(), {"k", name, "sig"})}));
            assert_true(set.ok());
            keys = std::move(*set);
            signer = signing_key(key.get(), c.alg, "k");
        }
        const std::string at = expected_hash(c.md(), access), ch = expected_hash(c.md(), code);
        const std::string good =
            with_member(with_member(claims(), "at_hash", "\"" + at + "\""), "c_hash",
                        "\"" + ch + "\"");
        auto ok = validate_id_token(mint_simple(good, *signer), keys, p, kNow);
        if (!ok)
            print_error("%s: %s\n", name.c_str(), ok.error().describe().c_str());
        assert_true(ok.ok());
        // The hash of another digest (SHA-256 where the alg asks for more, or the reverse).
        const EVP_MD* other = c.md() == EVP_sha256() ? EVP_sha512() : EVP_sha256();
        assert_reason(validate_id_token(mint_simple(with_member(claims(), "at_hash",
                                                                "\"" + expected_hash(other, access) + "\""),
                                                    *signer),
                                        keys, p, kNow),
                      "at_hash_mismatch");
        // Another access token, another code.
        IdTokenPolicy q = p;
        q.access_token = "another-access-token";
        assert_reason(validate_id_token(mint_simple(good, *signer), keys, q, kNow),
                      "at_hash_mismatch");
        q = p;
        q.code = "another-code";
        assert_reason(validate_id_token(mint_simple(good, *signer), keys, q, kNow),
                      "c_hash_mismatch");
    }
}

// Absent claims pass (they are optional at the token endpoint); a claim whose value is not known
// (CIBA has no code) is not checked; present and known, it is.
static void test_token_hash_checked_only_when_known(void**) {
    IdTokenPolicy p = policy();
    assert_true(check(claims(), p).ok()); // neither claim, nothing known
    p.access_token = "at-1";
    p.code = "code-1";
    assert_true(check(claims(), p).ok()); // neither claim
    IdTokenPolicy unknown = policy();
    assert_true(check(set("at_hash", "\"AAAA\""), unknown).ok());
    assert_true(check(set("c_hash", "\"AAAA\""), unknown).ok());
    assert_reason(check(set("at_hash", "\"AAAA\""), p), "at_hash_mismatch");
    assert_reason(check(set("c_hash", "\"\""), p), "c_hash_mismatch");
    assert_true(check(set("at_hash", "\"" + expected_hash(EVP_sha256(), "at-1") + "\""), p).ok());
}

static void test_token_hash_wrong_type_rejected(void**) {
    IdTokenPolicy p = policy();
    p.access_token = "at-1";
    assert_reason(check(set("at_hash", "42"), p), "claim_type");
    p.code = "code-1";
    assert_reason(check(set("c_hash", "[\"x\"]"), p), "claim_type");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_token_accepted),
        cmocka_unit_test(test_policy_without_issuer_is_config_error),
        cmocka_unit_test(test_bad_signature_rejected),
        cmocka_unit_test(test_alg_none_rejected),
        cmocka_unit_test(test_hs_rs_key_confusion_rejected),
        cmocka_unit_test(test_rotated_key_unknown_kid),
        cmocka_unit_test(test_payload_not_json_rejected),
        cmocka_unit_test(test_iss_mismatch_rejected),
        cmocka_unit_test(test_iss_missing_rejected),
        cmocka_unit_test(test_sub_missing_rejected),
        cmocka_unit_test(test_sub_empty_or_too_long_rejected),
        cmocka_unit_test(test_aud_mismatch_rejected),
        cmocka_unit_test(test_aud_missing_rejected),
        cmocka_unit_test(test_aud_one_element_array_accepted),
        cmocka_unit_test(test_aud_extra_untrusted_rejected),
        cmocka_unit_test(test_aud_extra_trusted_with_azp_accepted),
        cmocka_unit_test(test_aud_extra_trusted_without_azp_rejected),
        cmocka_unit_test(test_azp_mismatch_rejected),
        cmocka_unit_test(test_azp_absent_single_audience_accepted),
        cmocka_unit_test(test_exp_missing_rejected),
        cmocka_unit_test(test_exp_expired_rejected),
        cmocka_unit_test(test_exp_skew_edge),
        cmocka_unit_test(test_iat_missing_rejected),
        cmocka_unit_test(test_iat_future_rejected),
        cmocka_unit_test(test_iat_future_skew_edge),
        cmocka_unit_test(test_iat_week_old_rejected),
        cmocka_unit_test(test_iat_too_old_edge),
        cmocka_unit_test(test_nbf_future_rejected),
        cmocka_unit_test(test_nonce_mismatch_rejected),
        cmocka_unit_test(test_nonce_missing_rejected),
        cmocka_unit_test(test_nonce_not_expected_accepted),
        cmocka_unit_test(test_acr_missing_rejected_by_default),
        cmocka_unit_test(test_acr_missing_accepted_when_configured),
        cmocka_unit_test(test_acr_eidas3_rejected_by_default),
        cmocka_unit_test(test_acr_accept_list_configurable),
        cmocka_unit_test(test_acr_any_value_for_generic_provider),
        cmocka_unit_test(test_auth_time_missing_with_max_age_rejected),
        cmocka_unit_test(test_auth_time_too_old_rejected),
        cmocka_unit_test(test_auth_time_future_rejected),
        cmocka_unit_test(test_claims_of_wrong_type_rejected),
        cmocka_unit_test(test_fractional_times_accepted),
        cmocka_unit_test(test_at_hash_and_c_hash_every_alg_family),
        cmocka_unit_test(test_token_hash_checked_only_when_known),
        cmocka_unit_test(test_token_hash_wrong_type_rejected),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
