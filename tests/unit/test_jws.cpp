// SPDX-License-Identifier: LGPL-2.1-or-later
// JWS verification and signing (RFC 7515/7518/8037, design §3): the algorithm comes from the local
// allow-list, the key from the JwkSet, and every forged shape is refused with its own reason.
#include "base64url.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

using namespace psc;
using namespace psc::testkeys;

namespace {

const char* const kClaims = R"({"iss":"https://idp.example","sub":"alice"})";

const EVP_PKEY* key_of(KeyType t) {
    static std::map<KeyType, EvpPkeyPtr> cache;
    auto& k = cache[t];
    if (!k)
        k = generate_key(t);
    return k.get();
}

JwkSet set_of(std::initializer_list<std::string> jwks) {
    auto r = parse_jwks(jwks_json(jwks));
    assert_true(r.ok());
    return std::move(*r);
}

std::string jwk(KeyType t, std::string kid, std::string alg = {}) {
    return public_jwk_json(key_of(t), {std::move(kid), std::move(alg), ""});
}

JwsVerifyPolicy allow(std::vector<JwsAlg> algs, const Secret* secret = nullptr) {
    JwsVerifyPolicy p;
    p.allowed_algs = std::move(algs);
    p.hmac_secret = secret;
    return p;
}

// The default RS256 setup: one RSA key "k1" and a valid token for it.
const JwkSet& rsa_set() {
    static const JwkSet set = set_of({jwk(KeyType::RSA2048, "k1")});
    return set;
}
JwsSigningKey rsa_signer(std::string kid = "k1") {
    return signing_key(key_of(KeyType::RSA2048), JwsAlg::RS256, std::move(kid));
}

std::string header(std::string_view alg, std::string_view kid = "k1") {
    std::string h = "{\"alg\":\"" + std::string(alg) + "\"";
    if (!kid.empty())
        h += ",\"kid\":\"" + std::string(kid) + "\"";
    return h + "}";
}

void round_trip(KeyType t, JwsAlg alg) {
    const JwkSet set = set_of({jwk(t, "rt")});
    auto token = jws_sign(signing_key(key_of(t), alg, "rt"), kClaims);
    assert_ok(token);
    auto v = jws_verify(*token, set, allow({alg}));
    assert_ok(v);
    assert_string_equal(v->payload.c_str(), kClaims);
    assert_int_equal(static_cast<int>(v->alg), static_cast<int>(alg));
    assert_string_equal(v->kid.c_str(), "rt");
}

void hmac_round_trip(JwsAlg alg) {
    const Secret secret("a client secret of at least 64 bytes, for HS512 keys, 0123456789abcdef");
    auto token = jws_sign(hmac_signing_key(alg, secret.view()), kClaims);
    assert_ok(token);
    assert_ok(jws_verify(*token, JwkSet{}, allow({alg}, &secret)));
    const Secret other("another secret");
    assert_reason(jws_verify(*token, JwkSet{}, allow({alg}, &other)), "jws_bad_signature");
}

// Replaces the signature part of a compact token.
std::string with_signature(const std::string& token, std::string_view sig_bytes) {
    return token.substr(0, token.rfind('.') + 1) + base64url_encode(sig_bytes);
}

} // namespace

// ---- Round trips for every algorithm ----

static void test_rs256_round_trip(void**) {
    round_trip(KeyType::RSA2048, JwsAlg::RS256);
}
static void test_rs384_round_trip(void**) {
    round_trip(KeyType::RSA2048, JwsAlg::RS384);
}
static void test_rs512_round_trip(void**) {
    round_trip(KeyType::RSA3072, JwsAlg::RS512);
}
static void test_ps256_round_trip(void**) {
    round_trip(KeyType::RSA2048, JwsAlg::PS256);
}
static void test_ps384_round_trip(void**) {
    round_trip(KeyType::RSA2048, JwsAlg::PS384);
}
static void test_ps512_round_trip(void**) {
    round_trip(KeyType::RSA2048, JwsAlg::PS512);
}
static void test_es256_round_trip(void**) {
    round_trip(KeyType::P256, JwsAlg::ES256);
}
static void test_es384_round_trip(void**) {
    round_trip(KeyType::P384, JwsAlg::ES384);
}
static void test_es512_round_trip(void**) {
    round_trip(KeyType::P521, JwsAlg::ES512);
}
static void test_eddsa_round_trip(void**) {
    round_trip(KeyType::Ed25519, JwsAlg::EdDSA);
}
static void test_hs256_round_trip(void**) {
    hmac_round_trip(JwsAlg::HS256);
}
static void test_hs384_round_trip(void**) {
    hmac_round_trip(JwsAlg::HS384);
}
static void test_hs512_round_trip(void**) {
    hmac_round_trip(JwsAlg::HS512);
}

static void test_ecdsa_signature_is_raw_r_s(void**) {
    auto token = jws_sign(signing_key(key_of(KeyType::P521), JwsAlg::ES512, ""), kClaims);
    assert_ok(token);
    auto sig = base64url_decode(token->substr(token->rfind('.') + 1));
    assert_ok(sig);
    assert_int_equal(sig->size(), 132); // 2 × 66 bytes (RFC 7518 §3.4)
}

// ---- Algorithm policy ----

static void test_alg_none_rejected(void**) {
    const auto all = allow({JwsAlg::RS256, JwsAlg::HS256});
    for (const char* none : {"none", "NONE", "nOnE"}) {
        assert_reason(jws_verify(assemble(header(none), kClaims, ""), rsa_set(), all),
                      "jws_format"); // empty signature part
        assert_reason(jws_verify(assemble(header(none), kClaims, "x"), rsa_set(), all),
                      "jws_alg_none");
    }
}

static void test_alg_not_allowed_rejected(void**) {
    auto t = jws_sign(signing_key(key_of(KeyType::RSA2048), JwsAlg::RS384, "k1"), kClaims);
    assert_ok(t);
    assert_reason(jws_verify(*t, rsa_set(), JwsVerifyPolicy{}), "jws_alg_not_allowed");
}

static void test_alg_unknown_rejected(void**) {
    assert_reason(jws_verify(assemble(header("XS256"), kClaims, "sig"), rsa_set(), {}),
                  "jws_alg_unknown");
    // Names are case-sensitive (RFC 7515 §4.1.1).
    assert_reason(jws_verify(assemble(header("rs256"), kClaims, "sig"), rsa_set(), {}),
                  "jws_alg_unknown");
    assert_reason(jws_verify(assemble(R"({"alg":256})", kClaims, "sig"), rsa_set(), {}),
                  "jws_alg_unknown");
}

static void test_alg_missing_rejected(void**) {
    assert_reason(jws_verify(assemble(R"({"kid":"k1"})", kClaims, "sig"), rsa_set(), {}),
                  "jws_alg_missing");
}

static void test_hs256_not_allowed_by_default(void**) {
    const Secret secret("client-secret");
    auto t = jws_sign(hmac_signing_key(JwsAlg::HS256, secret.view()), kClaims);
    assert_ok(t);
    JwsVerifyPolicy p;
    p.hmac_secret = &secret; // a secret alone does not enable HS*
    assert_reason(jws_verify(*t, rsa_set(), p), "jws_alg_not_allowed");
}

static void test_hs256_without_secret_rejected(void**) {
    const Secret secret("client-secret");
    auto t = jws_sign(hmac_signing_key(JwsAlg::HS256, secret.view()), kClaims);
    assert_ok(t);
    assert_reason(jws_verify(*t, rsa_set(), allow({JwsAlg::HS256})), "jws_hmac_no_secret");
    const Secret empty;
    assert_reason(jws_verify(*t, rsa_set(), allow({JwsAlg::HS256}, &empty)), "jws_hmac_no_secret");
}

// The classic key-confusion forgery: HS256 "signed" with the RSA public key as HMAC secret.
static void test_hs_rs_key_confusion_rejected(void**) {
    for (const std::string& pub :
         {public_key_pem(key_of(KeyType::RSA2048)), public_key_der(key_of(KeyType::RSA2048))}) {
        const std::string forged =
            mint(header("HS256"), kClaims, hmac_signing_key(JwsAlg::HS256, pub, "k1"));
        assert_reason(jws_verify(forged, rsa_set(), JwsVerifyPolicy{}), "jws_alg_not_allowed");
        const Secret client_secret("the real client secret");
        assert_reason(
            jws_verify(forged, rsa_set(), allow({JwsAlg::RS256, JwsAlg::HS256}, &client_secret)),
            "jws_bad_signature");
    }
}

// ---- Signatures ----

static void test_bad_signature_rejected(void**) {
    auto t = jws_sign(rsa_signer(), kClaims);
    assert_ok(t);
    std::string sig = *base64url_decode(t->substr(t->rfind('.') + 1));
    sig[10] = static_cast<char>(sig[10] ^ 0x01);
    assert_reason(jws_verify(with_signature(*t, sig), rsa_set(), {}), "jws_bad_signature");
}

static void test_tampered_payload_rejected(void**) {
    auto t = jws_sign(rsa_signer(), kClaims);
    assert_ok(t);
    const auto d1 = t->find('.');
    const auto d2 = t->rfind('.');
    const std::string other = base64url_encode(R"({"iss":"https://idp.example","sub":"root"})");
    assert_reason(jws_verify(t->substr(0, d1 + 1) + other + t->substr(d2), rsa_set(), {}),
                  "jws_bad_signature");
}

static void test_rsa_signature_length_rejected(void**) {
    auto t = jws_sign(rsa_signer(), kClaims);
    assert_ok(t);
    std::string sig = *base64url_decode(t->substr(t->rfind('.') + 1));
    assert_reason(jws_verify(with_signature(*t, std::string(1, '\0') + sig), rsa_set(), {}),
                  "jws_signature_length");
}

// CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
static void test_es256_zero_signature_rejected(void**) {
    const JwkSet set = set_of({jwk(KeyType::P256, "e1")});
    const std::string forged = assemble(header("ES256", "e1"), kClaims, std::string(64, '\0'));
    assert_reason(jws_verify(forged, set, allow({JwsAlg::ES256})), "jws_bad_signature");
}

static void test_es256_r_equal_to_order_rejected(void**) {
    const JwkSet set = set_of({jwk(KeyType::P256, "e1")});
    const std::string n = *base64url_decode("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE");
    const std::string forged = assemble(header("ES256", "e1"), kClaims, n + n);
    assert_reason(jws_verify(forged, set, allow({JwsAlg::ES256})), "jws_bad_signature");
}

static void test_ecdsa_der_signature_rejected(void**) {
    const JwkSet set = set_of({jwk(KeyType::P256, "e1")});
    auto t = jws_sign(signing_key(key_of(KeyType::P256), JwsAlg::ES256, "e1"), kClaims);
    assert_ok(t);
    std::string sig = *base64url_decode(t->substr(t->rfind('.') + 1));
    assert_reason(
        jws_verify(with_signature(*t, sig + std::string(1, '\0')), set, allow({JwsAlg::ES256})),
        "jws_signature_length");
}

// ---- Header rules ----

static void test_crit_unsupported_rejected(void**) {
    const std::string t =
        mint(R"({"alg":"RS256","kid":"k1","crit":["exp"],"exp":1})", kClaims, rsa_signer());
    assert_reason(jws_verify(t, rsa_set(), {}), "jws_crit_unsupported");
}

static void test_crit_malformed_rejected(void**) {
    for (const char* h :
         {R"({"alg":"RS256","kid":"k1","crit":"exp"})", R"({"alg":"RS256","kid":"k1","crit":[]})",
          R"({"alg":"RS256","kid":"k1","crit":[1]})"})
        assert_reason(jws_verify(mint(h, kClaims, rsa_signer()), rsa_set(), {}),
                      "jws_crit_malformed");
}

// An attacker's key embedded in the header (jwk/jku/x5u/x5c) is never used to verify.
static void test_embedded_jwk_ignored(void**) {
    const EvpPkeyPtr attacker = generate_key(KeyType::RSA2048);
    const std::string h = R"({"alg":"RS256","jwk":)" +
                          public_jwk_json(attacker.get(), {"", "", ""}) +
                          R"(,"jku":"https://evil.example/jwks","x5u":"https://evil.example/c"})";
    const std::string t = mint(h, kClaims, signing_key(attacker.get(), JwsAlg::RS256, ""));
    assert_reason(jws_verify(t, rsa_set(), {}), "jws_bad_signature");
}

static void test_embedded_headers_do_not_block_valid_token(void**) {
    const std::string h =
        R"({"alg":"RS256","kid":"k1","x5c":["MIIB"],"jku":"https://evil.example/jwks"})";
    assert_ok(jws_verify(mint(h, kClaims, rsa_signer()), rsa_set(), {}));
}

static void test_typ_jwt_accepted_any_case(void**) {
    for (const char* h :
         {R"({"alg":"RS256","kid":"k1","typ":"JWT"})", R"({"alg":"RS256","kid":"k1","typ":"jwt"})",
          R"({"alg":"RS256","kid":"k1","typ":"application/jwt"})"})
        assert_ok(jws_verify(mint(h, kClaims, rsa_signer()), rsa_set(), {}));
}

static void test_typ_other_rejected(void**) {
    for (const char* h :
         {R"({"alg":"RS256","kid":"k1","typ":"at+jwt"})", R"({"alg":"RS256","kid":"k1","typ":1})"})
        assert_reason(jws_verify(mint(h, kClaims, rsa_signer()), rsa_set(), {}), "jws_typ");
}

static void test_kid_not_string_rejected(void**) {
    assert_reason(
        jws_verify(mint(R"({"alg":"RS256","kid":1})", kClaims, rsa_signer()), rsa_set(), {}),
        "jws_kid_type");
}

static void test_header_not_json_rejected(void**) {
    assert_reason(jws_verify(assemble("not json", kClaims, "sig"), rsa_set(), {}),
                  "jws_header_json");
    assert_reason(jws_verify(assemble("[\"RS256\"]", kClaims, "sig"), rsa_set(), {}),
                  "jws_header_json");
}

// ---- Key selection ----

static void test_no_kid_single_key_accepted(void**) {
    const std::string t = mint(header("RS256", ""), kClaims, rsa_signer(""));
    assert_ok(jws_verify(t, rsa_set(), {}));
}

static void test_no_kid_many_keys_rejected(void**) {
    const EvpPkeyPtr other = generate_key(KeyType::RSA2048);
    const JwkSet set =
        set_of({jwk(KeyType::RSA2048, "k1"), public_jwk_json(other.get(), {"k2", "", ""})});
    const std::string t = mint(header("RS256", ""), kClaims, rsa_signer(""));
    assert_reason(jws_verify(t, set, {}), "jws_kid_ambiguous");
}

static void test_no_kid_one_usable_key_among_others_accepted(void**) {
    const JwkSet set = set_of({jwk(KeyType::RSA2048, "k1"), jwk(KeyType::P256, "e1")});
    const std::string t =
        mint(header("ES256", ""), kClaims, signing_key(key_of(KeyType::P256), JwsAlg::ES256, ""));
    assert_ok(jws_verify(t, set, allow({JwsAlg::ES256})));
}

static void test_no_kid_no_usable_key_rejected(void**) {
    const std::string t =
        mint(header("ES256", ""), kClaims, signing_key(key_of(KeyType::P256), JwsAlg::ES256, ""));
    assert_reason(jws_verify(t, rsa_set(), allow({JwsAlg::ES256})), "jws_no_usable_key");
}

// Key rotation: the provider signs with a key the cached JWKS does not have yet.
static void test_unknown_kid_rejected(void**) {
    const std::string t = mint(header("RS256", "k2-rotated"), kClaims, rsa_signer("k2-rotated"));
    assert_reason(jws_verify(t, rsa_set(), {}), "jws_unknown_kid");
}

static void test_kid_of_wrong_key_type_rejected(void**) {
    const JwkSet set = set_of({jwk(KeyType::P256, "k1")});
    assert_reason(jws_verify(jws_sign(rsa_signer(), kClaims).value(), set, {}),
                  "jws_key_alg_mismatch");
}

static void test_jwk_alg_must_match(void**) {
    const JwkSet set = set_of({jwk(KeyType::RSA2048, "k1", "RS256")});
    auto t = jws_sign(signing_key(key_of(KeyType::RSA2048), JwsAlg::PS256, "k1"), kClaims);
    assert_ok(t);
    assert_reason(jws_verify(*t, set, {}), "jws_key_alg_mismatch");
}

static void test_duplicate_kid_tries_each_key(void**) {
    const EvpPkeyPtr other = generate_key(KeyType::RSA2048);
    const JwkSet set =
        set_of({public_jwk_json(other.get(), {"k1", "", ""}), jwk(KeyType::RSA2048, "k1")});
    assert_ok(jws_verify(jws_sign(rsa_signer(), kClaims).value(), set, {}));
}

static void test_unparseable_extra_keys_ignored(void**) {
    const JwkSet set = set_of({R"({"kty":"RSA","kid":"bad","n":"@@","e":"AQAB"})",
                               R"({"kty":"EC","kid":"bad2","crv":"P-256","x":"AA","y":"AA"})",
                               R"({"kty":"quantum","kid":"new"})", jwk(KeyType::RSA2048, "k1")});
    assert_int_equal(set.skipped.size(), 3);
    assert_ok(jws_verify(jws_sign(rsa_signer(), kClaims).value(), set, {}));
}

// ---- Compact form ----

static void test_wrong_part_count_rejected(void**) {
    const std::string t = jws_sign(rsa_signer(), kClaims).value();
    assert_reason(jws_verify(t.substr(0, t.rfind('.')), rsa_set(), {}), "jws_format");
    assert_reason(jws_verify(t + ".x", rsa_set(), {}), "jws_format");
    assert_reason(jws_verify(t.substr(0, t.rfind('.') + 1), rsa_set(), {}), "jws_format");
    assert_reason(jws_verify("", rsa_set(), {}), "jws_format");
}

static void test_padded_base64_rejected(void**) {
    const std::string t = jws_sign(rsa_signer(), kClaims).value();
    const auto d1 = t.find('.');
    assert_reason(jws_verify(t.substr(0, d1) + "=" + t.substr(d1), rsa_set(), {}), "jws_base64");
    assert_reason(jws_verify(t + "==", rsa_set(), {}), "jws_base64");
}

static void test_non_canonical_base64_rejected(void**) {
    // 256-byte RSA signature → 342 chars with 4 unused low bits in the last one: set one.
    std::string t = jws_sign(rsa_signer(), kClaims).value();
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto pos = alphabet.find(t.back());
    t.back() = alphabet[pos ^ 1];
    assert_reason(jws_verify(t, rsa_set(), {}), "jws_base64");
    // Standard-alphabet characters are not base64url.
    std::string std_b64 = jws_sign(rsa_signer(), kClaims).value();
    std_b64[std_b64.find('.') + 2] = '+';
    assert_reason(jws_verify(std_b64, rsa_set(), {}), "jws_base64");
}

static void test_oversized_token_rejected_before_parsing(void**) {
    // Not even a JWS: size is checked before anything else.
    assert_reason(jws_verify(std::string(kJwtMaxBytes + 1, 'A'), rsa_set(), {}), "jws_too_large");
    const std::string big = R"({"iss":"x","pad":")" + std::string(kJwtMaxBytes, 'p') + "\"}";
    assert_reason(jws_verify(jws_sign(rsa_signer(), big).value(), rsa_set(), {}), "jws_too_large");
    // At the limit exactly, the size rule does not fire.
    auto t = jws_sign(rsa_signer(), kClaims).value();
    JwsVerifyPolicy p;
    p.max_bytes = t.size();
    assert_ok(jws_verify(t, rsa_set(), p));
    p.max_bytes = t.size() - 1;
    assert_reason(jws_verify(t, rsa_set(), p), "jws_too_large");
}

// ---- Names and configuration ----

static void test_alg_names(void**) {
    assert_true(jws_alg_from_name("PS384") == JwsAlg::PS384);
    assert_true(jws_alg_from_name("EdDSA") == JwsAlg::EdDSA);
    assert_false(jws_alg_from_name("none").has_value());
    assert_false(jws_alg_from_name("es256").has_value());
    assert_true(jws_alg_name(JwsAlg::HS512) == "HS512");
}

static void test_parse_alg_list(void**) {
    auto l = parse_alg_list("  RS256 PS256\tES256 ");
    assert_ok(l);
    assert_int_equal(l->size(), 3);
    assert_true((*l)[2] == JwsAlg::ES256);
    assert_reason(parse_alg_list("   "), "alg_list_empty");
    assert_reason(parse_alg_list("RS256 none"), "alg_unknown");
    assert_reason(parse_alg_list("RS256 RS256"), "alg_duplicate");
}

// ---- Signing keys ----

static void test_sign_refuses_weak_or_wrong_key(void**) {
    assert_reason(jws_sign(signing_key(key_of(KeyType::RSA1024), JwsAlg::RS256, ""), kClaims),
                  "jws_sign_key");
    assert_reason(jws_sign(signing_key(key_of(KeyType::P256), JwsAlg::RS256, ""), kClaims),
                  "jws_sign_key");
    assert_reason(jws_sign(signing_key(key_of(KeyType::P384), JwsAlg::ES256, ""), kClaims),
                  "jws_sign_key");
    assert_reason(jws_sign(hmac_signing_key(JwsAlg::HS256, ""), kClaims), "jws_sign_key");
}

static void test_sign_header_has_alg_kid_and_extras(void**) {
    JsonPtr extra(json_object_new_object());
    json_object_object_add(extra.get(), "typ", json_object_new_string("JWT"));
    json_object_object_add(extra.get(), "alg", json_object_new_string("none")); // overridden
    auto t = jws_sign(rsa_signer(), kClaims, extra.get());
    assert_ok(t);
    auto v = jws_verify(*t, rsa_set(), {});
    assert_ok(v);
    assert_string_equal(json_object_get_string(json_member(v->header.get(), "alg")), "RS256");
    assert_string_equal(json_object_get_string(json_member(v->header.get(), "typ")), "JWT");
    assert_string_equal(v->kid.c_str(), "k1");
}

static void test_load_signing_key_pem(void**) {
    char dir[] = "/tmp/psc-jws-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const std::string path = std::string(dir) + "/client.key";
    { std::ofstream(path) << private_key_pem(key_of(KeyType::P384)); }
    assert_int_equal(chmod(path.c_str(), 0600), 0);
    auto k = load_signing_key_pem(path, std::nullopt, "assertion-key");
    assert_ok(k);
    assert_true(k->alg == JwsAlg::ES384);
    const JwkSet set = set_of({jwk(KeyType::P384, "assertion-key")});
    assert_ok(jws_verify(jws_sign(*k, kClaims).value(), set, allow({JwsAlg::ES384})));
    assert_reason(load_signing_key_pem(path, JwsAlg::RS256, ""), "jws_sign_key");
    assert_int_equal(chmod(path.c_str(), 0644), 0);
    assert_reason(load_signing_key_pem(path, std::nullopt, ""), "file_mode");
    std::filesystem::remove_all(dir);
}

static void test_signing_key_from_pem_defaults(void**) {
    auto rsa = signing_key_from_pem(private_key_pem(key_of(KeyType::RSA2048)), std::nullopt, "");
    assert_ok(rsa);
    assert_true(rsa->alg == JwsAlg::RS256);
    auto ed = signing_key_from_pem(private_key_pem(key_of(KeyType::Ed25519)), std::nullopt, "");
    assert_ok(ed);
    assert_true(ed->alg == JwsAlg::EdDSA);
    assert_reason(signing_key_from_pem(private_key_pem(key_of(KeyType::RSA1024)), std::nullopt, ""),
                  "jws_sign_key");
    assert_reason(signing_key_from_pem(public_key_pem(key_of(KeyType::RSA2048)), std::nullopt, ""),
                  "signing_key_pem");
    assert_reason(signing_key_from_pem("garbage", std::nullopt, ""), "signing_key_pem");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rs256_round_trip),
        cmocka_unit_test(test_rs384_round_trip),
        cmocka_unit_test(test_rs512_round_trip),
        cmocka_unit_test(test_ps256_round_trip),
        cmocka_unit_test(test_ps384_round_trip),
        cmocka_unit_test(test_ps512_round_trip),
        cmocka_unit_test(test_es256_round_trip),
        cmocka_unit_test(test_es384_round_trip),
        cmocka_unit_test(test_es512_round_trip),
        cmocka_unit_test(test_eddsa_round_trip),
        cmocka_unit_test(test_hs256_round_trip),
        cmocka_unit_test(test_hs384_round_trip),
        cmocka_unit_test(test_hs512_round_trip),
        cmocka_unit_test(test_ecdsa_signature_is_raw_r_s),
        cmocka_unit_test(test_alg_none_rejected),
        cmocka_unit_test(test_alg_not_allowed_rejected),
        cmocka_unit_test(test_alg_unknown_rejected),
        cmocka_unit_test(test_alg_missing_rejected),
        cmocka_unit_test(test_hs256_not_allowed_by_default),
        cmocka_unit_test(test_hs256_without_secret_rejected),
        cmocka_unit_test(test_hs_rs_key_confusion_rejected),
        cmocka_unit_test(test_bad_signature_rejected),
        cmocka_unit_test(test_tampered_payload_rejected),
        cmocka_unit_test(test_rsa_signature_length_rejected),
        cmocka_unit_test(test_es256_zero_signature_rejected),
        cmocka_unit_test(test_es256_r_equal_to_order_rejected),
        cmocka_unit_test(test_ecdsa_der_signature_rejected),
        cmocka_unit_test(test_crit_unsupported_rejected),
        cmocka_unit_test(test_crit_malformed_rejected),
        cmocka_unit_test(test_embedded_jwk_ignored),
        cmocka_unit_test(test_embedded_headers_do_not_block_valid_token),
        cmocka_unit_test(test_typ_jwt_accepted_any_case),
        cmocka_unit_test(test_typ_other_rejected),
        cmocka_unit_test(test_kid_not_string_rejected),
        cmocka_unit_test(test_header_not_json_rejected),
        cmocka_unit_test(test_no_kid_single_key_accepted),
        cmocka_unit_test(test_no_kid_many_keys_rejected),
        cmocka_unit_test(test_no_kid_one_usable_key_among_others_accepted),
        cmocka_unit_test(test_no_kid_no_usable_key_rejected),
        cmocka_unit_test(test_unknown_kid_rejected),
        cmocka_unit_test(test_kid_of_wrong_key_type_rejected),
        cmocka_unit_test(test_jwk_alg_must_match),
        cmocka_unit_test(test_duplicate_kid_tries_each_key),
        cmocka_unit_test(test_unparseable_extra_keys_ignored),
        cmocka_unit_test(test_wrong_part_count_rejected),
        cmocka_unit_test(test_padded_base64_rejected),
        cmocka_unit_test(test_non_canonical_base64_rejected),
        cmocka_unit_test(test_oversized_token_rejected_before_parsing),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_parse_alg_list),
        cmocka_unit_test(test_sign_refuses_weak_or_wrong_key),
        cmocka_unit_test(test_sign_header_has_alg_kid_and_extras),
        cmocka_unit_test(test_load_signing_key_pem),
        cmocka_unit_test(test_signing_key_from_pem_defaults),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
