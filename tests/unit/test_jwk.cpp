// SPDX-License-Identifier: LGPL-2.1-or-later
// JWK/JWKS parsing (RFC 7517/7518/8037, design §3): usable keys kept, every unusable one skipped
// with its own reason, a JWKS with no usable key refused.
#include "base64url.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "testing.hpp"

#include <cstring>

using namespace psc;
using namespace psc::testkeys;

namespace {

const EVP_PKEY* key_of(KeyType t) {
    static std::map<KeyType, EvpPkeyPtr> cache;
    auto& k = cache[t];
    if (!k)
        k = generate_key(t);
    return k.get();
}

Result<Jwk> parse_text(const std::string& text) {
    auto obj = json_parse_object(text);
    if (!obj)
        return std::move(obj).error();
    return parse_jwk(obj->get());
}

std::string jwk(KeyType t, std::string kid = "k1") {
    return public_jwk_json(key_of(t), {std::move(kid), "", ""});
}

std::string member(const std::string& jwk_text, const char* name) {
    auto obj = json_parse_object(jwk_text);
    assert_true(obj.ok());
    auto s = json_get_string(obj->get(), name);
    assert_true(s.ok() && s->has_value());
    return std::string(**s);
}

} // namespace

static void test_rsa_2048_parses(void**) {
    auto k = parse_text(public_jwk_json(key_of(KeyType::RSA2048), {"r1", "RS256", "sig"}));
    assert_ok(k);
    assert_string_equal(k->kty.c_str(), "RSA");
    assert_string_equal(k->kid.c_str(), "r1");
    assert_string_equal(k->alg.c_str(), "RS256");
    assert_int_equal(k->bits, 2048);
    assert_non_null(k->key.get());
}

static void test_rsa_3072_parses(void**) {
    auto k = parse_text(jwk(KeyType::RSA3072));
    assert_ok(k);
    assert_int_equal(k->bits, 3072);
}

static void test_rsa_1024_rejected(void**) {
    assert_reason(parse_text(jwk(KeyType::RSA1024)), "jwk_rsa_too_small");
}

static void test_rsa_even_exponent_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::RSA2048), "e", "\"AQAC\"")),
                  "jwk_rsa_exponent");
}

static void test_rsa_exponent_one_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::RSA2048), "e", "\"AQ\"")),
                  "jwk_rsa_exponent");
}

static void test_ec_curves_parse(void**) {
    const std::pair<KeyType, int> cases[] = {
        {KeyType::P256, 256}, {KeyType::P384, 384}, {KeyType::P521, 521}};
    for (auto [t, bits] : cases) {
        auto k = parse_text(jwk(t));
        assert_ok(k);
        assert_string_equal(k->kty.c_str(), "EC");
        assert_int_equal(k->bits, bits);
    }
}

static void test_ec_point_not_on_curve_rejected(void**) {
    const std::string text = jwk(KeyType::P256);
    std::string y = *base64url_decode(member(text, "y"));
    y.back() = static_cast<char>(y.back() ^ 1);
    assert_reason(parse_text(with_member(text, "y", "\"" + base64url_encode(y) + "\"")),
                  "jwk_ec_point_not_on_curve");
}

static void test_ec_coordinate_length_exact(void**) {
    const std::string text = jwk(KeyType::P256);
    // The same point with a leading zero byte added to x: numerically equal, wrong length.
    const std::string x = std::string(1, '\0') + *base64url_decode(member(text, "x"));
    assert_reason(parse_text(with_member(text, "x", "\"" + base64url_encode(x) + "\"")),
                  "jwk_ec_coordinate_length");
}

static void test_ec_unknown_curve_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "crv", "\"secp256k1\"")),
                  "jwk_ec_curve_unsupported");
}

static void test_ec_curve_mismatch_rejected(void**) {
    // P-384 coordinates announced as P-256: the length no longer fits.
    assert_reason(parse_text(with_member(jwk(KeyType::P384), "crv", "\"P-256\"")),
                  "jwk_ec_coordinate_length");
}

static void test_ed25519_parses(void**) {
    auto k = parse_text(jwk(KeyType::Ed25519));
    assert_ok(k);
    assert_string_equal(k->kty.c_str(), "OKP");
    assert_string_equal(k->crv.c_str(), "Ed25519");
}

static void test_okp_other_curve_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::Ed25519), "crv", "\"Ed448\"")),
                  "jwk_okp_curve_unsupported");
}

static void test_okp_length_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::Ed25519), "x", "\"AAAA\"")),
                  "jwk_okp_length");
}

static void test_kty_missing_rejected(void**) {
    assert_reason(parse_text(without_member(jwk(KeyType::P256), "kty")), "jwk_kty_missing");
}

static void test_kty_unknown_rejected(void**) {
    assert_reason(parse_text(R"({"kty":"oct2","kid":"x"})"), "jwk_kty_unsupported");
}

static void test_use_enc_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::RSA2048), "use", "\"enc\"")),
                  "jwk_use_not_sig");
}

static void test_private_member_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "d", "\"AAAA\"")), "jwk_private");
    assert_reason(parse_text(R"({"kty":"oct","k":"c2VjcmV0"})"), "jwk_private");
}

static void test_missing_member_rejected(void**) {
    assert_reason(parse_text(without_member(jwk(KeyType::RSA2048), "n")), "jwk_member");
    assert_reason(parse_text(without_member(jwk(KeyType::P256), "y")), "jwk_member");
}

static void test_bad_base64_member_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::Ed25519), "x", "\"AA==\"")), "jwk_member");
}

static void test_member_wrong_type_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "kid", "7")), "jwk_member");
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "x", "[]")), "jwk_member");
}

static void test_key_ops_without_verify_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "key_ops", R"(["encrypt"])")),
                  "jwk_key_ops");
    assert_ok(parse_text(with_member(jwk(KeyType::P256), "key_ops", R"(["verify"])")));
}

static void test_alg_mismatch_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::P256), "alg", "\"RS256\"")),
                  "jwk_alg_mismatch");
    assert_reason(parse_text(with_member(jwk(KeyType::P384), "alg", "\"ES256\"")),
                  "jwk_alg_mismatch");
}

static void test_alg_unknown_rejected(void**) {
    assert_reason(parse_text(with_member(jwk(KeyType::RSA2048), "alg", "\"RSA-OAEP\"")),
                  "jwk_alg_unsupported");
}

static void test_not_object_rejected(void**) {
    auto arr = json_parse("[1]");
    assert_ok(arr);
    assert_reason(parse_jwk(arr->get()), "jwk_not_object");
    assert_reason(parse_jwk(nullptr), "jwk_not_object");
}

static void test_jwks_skips_unusable_keys(void**) {
    const std::string set = jwks_json({
        R"({"kty":"oct","k":"c2VjcmV0","kid":"hmac"})",
        R"({"kty":"XYZ","kid":"future"})",
        R"({"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"})",
        with_member(jwk(KeyType::RSA2048, "enc1"), "use", "\"enc\""),
        jwk(KeyType::RSA1024, "weak"),
        jwk(KeyType::RSA2048, "good"),
        jwk(KeyType::Ed25519, "ed"),
    });
    auto r = parse_jwks(set);
    assert_ok(r);
    assert_int_equal(r->keys.size(), 2);
    assert_string_equal(r->keys[0]->kid.c_str(), "good");
    assert_string_equal(r->keys[1]->kid.c_str(), "ed");
    assert_int_equal(r->skipped.size(), 5);
    assert_non_null(strstr(r->skipped[4].c_str(), "jwk_rsa_too_small"));
    assert_non_null(strstr(r->skipped[4].c_str(), "weak"));
}

static void test_jwks_no_usable_key_rejected(void**) {
    assert_reason(parse_jwks(jwks_json({jwk(KeyType::RSA1024)})), "jwks_no_usable_key");
    assert_reason(parse_jwks(R"({"keys":[]})"), "jwks_no_usable_key");
}

static void test_jwks_not_json_rejected(void**) {
    assert_reason(parse_jwks("{\"keys\":["), "jwks_json");
    assert_reason(parse_jwks("[]"), "jwks_json");
}

static void test_jwks_keys_missing_rejected(void**) {
    assert_reason(parse_jwks("{}"), "jwks_keys_missing");
    assert_reason(parse_jwks(R"({"keys":{}})"), "jwks_keys_missing");
}

static void test_jwks_too_large_rejected(void**) {
    std::string big = "{\"keys\":[],\"pad\":\"" + std::string(kJwksMaxBytes, 'a') + "\"}";
    assert_reason(parse_jwks(big), "jwks_too_large");
    // A caller's smaller limit wins.
    assert_reason(parse_jwks(jwks_json({jwk(KeyType::P256)}), JsonLimits{64, 32}),
                  "jwks_too_large");
}

static void test_jwks_too_many_keys_rejected(void**) {
    std::string set = "{\"keys\":[";
    for (std::size_t i = 0; i <= kJwksMaxKeys; ++i)
        set += std::string(i ? "," : "") + "{\"kty\":\"none\"}";
    assert_reason(parse_jwks(set + "]}"), "jwks_too_many_keys");
}

static void test_key_fits_alg(void**) {
    auto rsa = parse_text(jwk(KeyType::RSA2048));
    auto ec = parse_text(jwk(KeyType::P256));
    auto ed = parse_text(jwk(KeyType::Ed25519));
    auto pinned = parse_text(public_jwk_json(key_of(KeyType::RSA2048), {"p", "PS256", ""}));
    assert_ok(rsa);
    assert_ok(ec);
    assert_ok(ed);
    assert_ok(pinned);
    assert_true(jwk_fits_alg(*rsa, JwsAlg::RS256));
    assert_true(jwk_fits_alg(*rsa, JwsAlg::PS512));
    assert_false(jwk_fits_alg(*rsa, JwsAlg::ES256));
    assert_false(jwk_fits_alg(*rsa, JwsAlg::HS256));
    assert_true(jwk_fits_alg(*ec, JwsAlg::ES256));
    assert_false(jwk_fits_alg(*ec, JwsAlg::ES384));
    assert_true(jwk_fits_alg(*ed, JwsAlg::EdDSA));
    assert_true(jwk_fits_alg(*pinned, JwsAlg::PS256));
    assert_false(jwk_fits_alg(*pinned, JwsAlg::RS256));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_2048_parses),
        cmocka_unit_test(test_rsa_3072_parses),
        cmocka_unit_test(test_rsa_1024_rejected),
        cmocka_unit_test(test_rsa_even_exponent_rejected),
        cmocka_unit_test(test_rsa_exponent_one_rejected),
        cmocka_unit_test(test_ec_curves_parse),
        cmocka_unit_test(test_ec_point_not_on_curve_rejected),
        cmocka_unit_test(test_ec_coordinate_length_exact),
        cmocka_unit_test(test_ec_unknown_curve_rejected),
        cmocka_unit_test(test_ec_curve_mismatch_rejected),
        cmocka_unit_test(test_ed25519_parses),
        cmocka_unit_test(test_okp_other_curve_rejected),
        cmocka_unit_test(test_okp_length_rejected),
        cmocka_unit_test(test_kty_missing_rejected),
        cmocka_unit_test(test_kty_unknown_rejected),
        cmocka_unit_test(test_use_enc_rejected),
        cmocka_unit_test(test_private_member_rejected),
        cmocka_unit_test(test_missing_member_rejected),
        cmocka_unit_test(test_bad_base64_member_rejected),
        cmocka_unit_test(test_member_wrong_type_rejected),
        cmocka_unit_test(test_key_ops_without_verify_rejected),
        cmocka_unit_test(test_alg_mismatch_rejected),
        cmocka_unit_test(test_alg_unknown_rejected),
        cmocka_unit_test(test_not_object_rejected),
        cmocka_unit_test(test_jwks_skips_unusable_keys),
        cmocka_unit_test(test_jwks_no_usable_key_rejected),
        cmocka_unit_test(test_jwks_not_json_rejected),
        cmocka_unit_test(test_jwks_keys_missing_rejected),
        cmocka_unit_test(test_jwks_too_large_rejected),
        cmocka_unit_test(test_jwks_too_many_keys_rejected),
        cmocka_unit_test(test_key_fits_alg),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
