// SPDX-License-Identifier: LGPL-2.1-or-later
// Logout tokens (Back-Channel Logout 1.0 §2.4/§2.6): a valid one is accepted; every claim the
// specification requires is checked with its own reason; an ID token is never taken for a logout
// token; a jti is accepted once.
#include "jws.hpp"
#include "keys.hpp"
#include "logout_token.hpp"
#include "testing.hpp"

#include <string>

using namespace psc;
using namespace psc::testkeys;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const char* const kIss = "https://idp.example/realms/r";
const char* const kEvents =
    R"({"http://schemas.openid.net/event/backchannel-logout":{}})";

const EVP_PKEY* key() {
    static EvpPkeyPtr k = generate_key(KeyType::RSA2048);
    return k.get();
}

const JwkSet& keys() {
    static const JwkSet set = [] {
        auto s = parse_jwks(jwks_json({public_jwk_json(key(), {"k1", "", ""})}));
        assert_true(s.ok());
        return std::move(*s);
    }();
    return set;
}

LogoutTokenPolicy policy() {
    LogoutTokenPolicy p;
    p.issuer = kIss;
    p.client_id = "psc-login";
    p.jws.allowed_algs = {JwsAlg::RS256};
    return p;
}

std::string claims() {
    return std::string(R"({"iss":")") + kIss +
           R"(","aud":"psc-login","iat":1700000000,"exp":1700000120,"jti":"j-1",)"
           R"("sid":"s-1","sub":"f:1:810001234567","events":)" +
           kEvents + "}";
}

std::string mint(const std::string& c, const std::string& typ = "logout+jwt") {
    return testkeys::mint(R"({"alg":"RS256","kid":"k1","typ":")" + typ + "\"}", c,
                          signing_key(key(), JwsAlg::RS256, "k1"));
}

Result<LogoutToken> check(const std::string& token, std::int64_t now = kNow) {
    return validate_logout_token(token, keys(), policy(), now);
}

void test_valid(void**) {
    auto t = check(mint(claims()));
    assert_ok(t);
    assert_string_equal(t->iss.c_str(), kIss);
    assert_string_equal(t->jti.c_str(), "j-1");
    assert_string_equal(t->sid->c_str(), "s-1");
    assert_string_equal(t->sub->c_str(), "f:1:810001234567");
    // typ JWT (or none) is accepted too; anything else is not.
    assert_ok(check(mint(claims(), "JWT")));
    assert_reason(check(mint(claims(), "at+jwt")), "jws_typ");
    // sid alone, sub alone.
    assert_ok(check(mint(without_member(claims(), "sub"))));
    assert_ok(check(mint(without_member(claims(), "sid"))));
    // exp is optional.
    assert_ok(check(mint(without_member(claims(), "exp"))));
}

void test_refusals(void**) {
    const std::string c = claims();
    struct Case {
        std::string claims;
        const char* reason;
    };
    const Case cases[] = {
        {with_member(c, "iss", "\"https://other.example\""), "logout_token_iss"},
        {without_member(c, "iss"), "logout_token_iss"},
        {with_member(c, "iss", "5"), "logout_token_claim_type"},
        {with_member(c, "aud", "\"someone-else\""), "logout_token_aud"},
        {without_member(c, "aud"), "logout_token_aud"},
        {with_member(c, "aud", "[\"x\",\"psc-login\"]"), nullptr},
        {without_member(c, "iat"), "logout_token_iat"},
        {with_member(c, "iat", "1700003600"), "logout_token_iat"},
        {with_member(c, "iat", "1699990000"), "logout_token_iat"},
        {with_member(c, "iat", "\"1700000000\""), "logout_token_claim_type"},
        {with_member(c, "exp", "1699999000"), "logout_token_exp"},
        {without_member(c, "jti"), "logout_token_jti"},
        {with_member(c, "jti", "\"\""), "logout_token_jti"},
        {with_member(c, "jti", "\"" + std::string(256, 'j') + "\""), "logout_token_jti"},
        {without_member(c, "events"), "logout_token_events"},
        {with_member(c, "events", "{}"), "logout_token_events"},
        {with_member(c, "events", "[]"), "logout_token_events"},
        {with_member(c, "events",
                     R"({"http://schemas.openid.net/event/backchannel-logout":true})"),
         "logout_token_events"},
        {with_member(c, "nonce", "\"n\""), "logout_token_nonce"},
        {without_member(without_member(c, "sid"), "sub"), "logout_token_subject"},
        {with_member(c, "sid", "\"\""), "logout_token_subject"},
        {with_member(c, "sub", "7"), "logout_token_claim_type"},
    };
    for (const auto& k : cases) {
        if (k.reason)
            assert_reason(check(mint(k.claims)), k.reason);
        else
            assert_ok(check(mint(k.claims)));
    }
    // An ID token (nonce, no events) is not a logout token.
    assert_reason(check(mint(psc_claims(kNow), "JWT")), "logout_token_iss");
    ClaimsOptions o;
    o.issuer = kIss;
    o.client_id = "psc-login";
    assert_reason(check(mint(with_member(psc_claims(kNow, o), "jti", "\"x\""), "JWT")),
                  "logout_token_events");
    // Signature, alg and format rules are the JWS ones.
    std::string t = mint(c);
    t.back() = t.back() == 'A' ? 'B' : 'A';
    assert_false(check(t).ok());
    assert_reason(check(assemble(R"({"alg":"none"})", c, "x")), "jws_alg_none");
    assert_reason(check(mint("[1]")), "logout_token_json");
    LogoutTokenPolicy empty = policy();
    empty.issuer.clear();
    assert_reason(validate_logout_token(mint(c), keys(), empty, kNow), "logout_token_policy");
}

void test_jti_cache(void**) {
    JtiCache cache;
    assert_true(cache.remember("iss", "a", 100, 10));
    assert_false(cache.remember("iss", "a", 100, 20)); // replay
    assert_true(cache.remember("other-iss", "a", 100, 20));
    assert_true(cache.remember("iss", "b", 100, 20));
    assert_int_equal(cache.size(), 3);
    // Past forget_at the entry is gone (the token is too old to be accepted anyway).
    assert_true(cache.remember("iss", "a", 300, 101));
    // Bounded: the oldest go first.
    JtiCache full;
    for (std::size_t i = 0; i < JtiCache::kMaxEntries + 10; ++i)
        assert_true(full.remember("iss", std::to_string(i), 1000, 1));
    assert_int_equal(full.size(), JtiCache::kMaxEntries);
    assert_false(full.remember("iss", std::to_string(JtiCache::kMaxEntries + 5), 1000, 1));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_jti_cache),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
