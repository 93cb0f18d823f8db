// SPDX-License-Identifier: LGPL-2.1-or-later
// JWE (RFC 7516/7518): the published vectors of RFC 7516 Appendix A and RFC 7520 §6 decrypt,
// every algorithm pair round-trips, and every tampered, mis-addressed or malformed token is
// refused with its reason — an encrypted token is never accepted without its inner signature.
#include "base64url.hpp"
#include "jwe.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "strutil.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <fstream>
#include <openssl/rsa.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace psc;
using namespace psc::testkeys;

namespace {

std::string data(const std::string& name) {
    const char* dir = std::getenv("PSC_TEST_DATA_DIR");
    assert_non_null(dir);
    std::ifstream in(std::string(dir) + "/jwe/" + name);
    assert_true(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return std::string(trim(ss.str()));
}

JweKeySet keys_from(const std::string& text) {
    auto k = parse_jwe_keys(text);
    assert_ok(k);
    return std::move(*k);
}

const EVP_PKEY* rsa_key() {
    static EvpPkeyPtr k = generate_key(KeyType::RSA2048);
    return k.get();
}
const EVP_PKEY* other_rsa_key() {
    static EvpPkeyPtr k = generate_key(KeyType::RSA2048);
    return k.get();
}

JweKeySet rsa_keys(std::string kid = "enc-1") {
    return keys_from(private_rsa_jwk_json(rsa_key(), {std::move(kid), "", "enc"}));
}

JweDecryptPolicy policy_for(const JweKeySet& keys, bool rsa1_5 = false) {
    JweDecryptPolicy p;
    p.keys = &keys;
    if (rsa1_5)
        p.allowed_algs.push_back(JweAlg::RSA1_5);
    return p;
}

std::string encrypt(std::string_view plaintext, JweAlg alg = JweAlg::RSA_OAEP_256,
                    JweEnc enc = JweEnc::A256GCM, std::string_view kid = "enc-1",
                    const EVP_PKEY* to = nullptr, json_object* extra = nullptr) {
    auto t = jwe_encrypt(plaintext, const_cast<EVP_PKEY*>(to ? to : rsa_key()), alg, enc, kid,
                         "JWT", extra);
    assert_ok(t);
    return *t;
}

std::vector<std::string> parts(const std::string& compact) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto dot = compact.find('.', start);
        out.push_back(compact.substr(start, dot == std::string::npos ? dot : dot - start));
        if (dot == std::string::npos)
            return out;
        start = dot + 1;
    }
}

std::string join(const std::vector<std::string>& p) {
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i)
        out += (i ? "." : "") + p[i];
    return out;
}

// Flips one bit in the decoded part i and re-encodes it.
std::string flip(const std::string& compact, std::size_t i, std::size_t byte = 0) {
    auto p = parts(compact);
    auto raw = base64url_decode(p[i]);
    assert_ok(raw);
    (*raw)[byte % raw->size()] ^= 0x01;
    p[i] = base64url_encode(*raw);
    return join(p);
}

std::string with_header(const std::string& compact, const std::string& header_json) {
    auto p = parts(compact);
    p[0] = base64url_encode(header_json);
    return join(p);
}

// ---- Published vectors ----

void test_rfc7516_a1_rsa_oaep_a256gcm(void**) {
    const JweKeySet keys = keys_from(data("rfc7516-a1.jwk"));
    auto d = jwe_decrypt(data("rfc7516-a1.jwe"), policy_for(keys));
    assert_ok(d);
    assert_string_equal(d->plaintext.c_str(), data("rfc7516-a1.txt").c_str());
    assert_true(d->alg == JweAlg::RSA_OAEP);
    assert_true(d->enc == JweEnc::A256GCM);
}

void test_rfc7516_a2_rsa1_5_only_when_enabled(void**) {
    const JweKeySet keys = keys_from(data("rfc7516-a2.jwk"));
    assert_reason(jwe_decrypt(data("rfc7516-a2.jwe"), policy_for(keys)), "jwe_alg_not_allowed");
    auto d = jwe_decrypt(data("rfc7516-a2.jwe"), policy_for(keys, true));
    assert_ok(d);
    assert_string_equal(d->plaintext.c_str(), data("rfc7516-a2.txt").c_str());
    assert_true(d->enc == JweEnc::A128CBC_HS256);
    // The published tag, one bit off: refused.
    assert_reason(jwe_decrypt(flip(data("rfc7516-a2.jwe"), 4), policy_for(keys, true)),
                  "jwe_decrypt");
}

// RFC 7520 §5.1 (RSA1_5, A128CBC-HS256, 2048-bit key) and §5.2 (RSA-OAEP, A256GCM, 4096-bit
// key): the same plaintext, each with the kid the key is published under.
void test_rfc7520_s5_1_and_5_2(void**) {
    const std::string text = data("rfc7520-s5.txt");
    const JweKeySet frodo = keys_from(data("rfc7520-s5.1.jwk"));
    assert_reason(jwe_decrypt(data("rfc7520-s5.1.jwe"), policy_for(frodo)), "jwe_alg_not_allowed");
    auto d1 = jwe_decrypt(data("rfc7520-s5.1.jwe"), policy_for(frodo, true));
    assert_ok(d1);
    assert_string_equal(d1->plaintext.c_str(), text.c_str());
    assert_string_equal(d1->kid.c_str(), "frodo.baggins@hobbiton.example");
    const JweKeySet sam = keys_from(data("rfc7520-s6-enc.jwk"));
    auto d2 = jwe_decrypt(data("rfc7520-s5.2.jwe"), policy_for(sam));
    assert_ok(d2);
    assert_string_equal(d2->plaintext.c_str(), text.c_str());
    assert_true(d2->enc == JweEnc::A256GCM);
    // Each token names its key: the other key is refused by kid, before any decryption.
    assert_reason(jwe_decrypt(data("rfc7520-s5.2.jwe"), policy_for(frodo)), "jwe_unknown_kid");
}

// RFC 7520 §6: a JWS (PS256) inside a JWE (RSA-OAEP, A128GCM) — the shape of an encrypted ID
// token. jws_verify decrypts, then verifies the inner signature with the signer's public key.
void test_rfc7520_nested_jwt(void**) {
    const JweKeySet keys = keys_from(data("rfc7520-s6-enc.jwk"));
    auto sig = parse_jwks(data("rfc7520-s6-sig-public.jwks"));
    assert_ok(sig);
    const JweDecryptPolicy dec = policy_for(keys);
    JwsVerifyPolicy p;
    p.allowed_algs = {JwsAlg::PS256};
    p.decryption = &dec;
    auto v = jws_verify(data("rfc7520-s6.jwe"), *sig, p);
    assert_ok(v);
    assert_string_equal(v->payload.c_str(), data("rfc7520-s6-payload.json").c_str());
    assert_true(v->signed_compact.has_value());
    assert_int_equal(std::count(v->signed_compact->begin(), v->signed_compact->end(), '.'), 2);
    assert_string_equal(v->jwe_alg.c_str(), "RSA-OAEP");
    assert_string_equal(v->jwe_enc.c_str(), "A128GCM");
    // Without the decryption key: refused, never read as something else.
    p.decryption = nullptr;
    assert_reason(jws_verify(data("rfc7520-s6.jwe"), *sig, p), "jwe_no_key");
    // The inner signature is still required: a key set without the signer refuses it.
    p.decryption = &dec;
    auto wrong = parse_jwks(jwks_json({public_jwk_json(rsa_key(), {"x", "", ""})}));
    assert_ok(wrong);
    assert_reason(jws_verify(data("rfc7520-s6.jwe"), *wrong, p), "jws_bad_signature");
}

// ---- Round trips ----

void test_every_alg_and_enc_round_trips(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy pol = policy_for(keys, true);
    for (JweAlg alg : {JweAlg::RSA_OAEP, JweAlg::RSA_OAEP_256, JweAlg::RSA1_5})
        for (JweEnc enc : {JweEnc::A128GCM, JweEnc::A192GCM, JweEnc::A256GCM,
                           JweEnc::A128CBC_HS256, JweEnc::A192CBC_HS384, JweEnc::A256CBC_HS512})
            for (std::string_view text : {"x", "exactly sixteen!", "a longer plaintext, 33 bytes."}) {
                const std::string t = encrypt(text, alg, enc);
                auto d = jwe_decrypt(t, pol);
                assert_ok(d);
                assert_string_equal(d->plaintext.c_str(), std::string(text).c_str());
                assert_string_equal(d->kid.c_str(), "enc-1");
                auto n = jwe_enc_from_name(jwe_enc_name(enc));
                assert_true(n && *n == enc);
                auto a = jwe_alg_from_name(jwe_alg_name(alg));
                assert_true(a && *a == alg);
                // Tampering anywhere the tag covers is refused with the one reason.
                assert_reason(jwe_decrypt(flip(t, 4), pol), "jwe_decrypt");
                assert_reason(jwe_decrypt(flip(t, 3), pol), "jwe_decrypt");
                assert_reason(jwe_decrypt(flip(t, 2), pol), "jwe_decrypt");
                assert_reason(jwe_decrypt(flip(t, 1, 7), pol), "jwe_decrypt");
            }
}

void test_header_is_authenticated(void**) {
    const JweKeySet keys = rsa_keys();
    const std::string t = encrypt("payload");
    // Same alg/enc/kid, one more member: the AAD changed, the tag no longer matches.
    const std::string forged = with_header(
        t, R"({"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc-1","cty":"JWT","x":1})");
    assert_reason(jwe_decrypt(forged, policy_for(keys)), "jwe_decrypt");
}

void test_wrong_key_refused(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy pol = policy_for(keys, true);
    for (JweAlg alg : {JweAlg::RSA_OAEP, JweAlg::RSA_OAEP_256, JweAlg::RSA1_5})
        assert_reason(jwe_decrypt(encrypt("p", alg, JweEnc::A128CBC_HS256, "enc-1",
                                          other_rsa_key()),
                                  pol),
                      "jwe_decrypt");
}

// RSA1_5 implicit rejection: bad padding and a CEK of the wrong length end exactly as a wrong
// key does (the tag check fails on a random CEK), never with a padding-specific reason.
void test_rsa1_5_bad_padding_is_implicitly_rejected(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy pol = policy_for(keys, true);
    const std::string good = encrypt("p", JweAlg::RSA1_5, JweEnc::A128CBC_HS256);
    auto p = parts(good);
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(rsa_key()),
                                                 nullptr));
    assert_non_null(ctx.get());
    assert_int_equal(EVP_PKEY_encrypt_init(ctx.get()), 1);
    // (a) raw RSA of a block with no PKCS#1 padding at all
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING), 1);
    std::string block(256, '\x01');
    block[0] = 0;
    std::size_t len = 256;
    std::string ek(256, '\0');
    assert_int_equal(EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(ek.data()),
                                      &len, reinterpret_cast<const unsigned char*>(block.data()),
                                      block.size()),
                     1);
    p[1] = base64url_encode(ek);
    assert_reason(jwe_decrypt(join(p), pol), "jwe_decrypt");
    // (b) valid padding around a 16-byte CEK where A128CBC-HS256 needs 32
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING), 1);
    const std::string short_cek(16, 'k');
    len = 256;
    assert_int_equal(EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(ek.data()),
                                      &len,
                                      reinterpret_cast<const unsigned char*>(short_cek.data()),
                                      short_cek.size()),
                     1);
    p[1] = base64url_encode(ek);
    assert_reason(jwe_decrypt(join(p), pol), "jwe_decrypt");
}

// ---- Keys and kid ----

void test_kid_selects_the_key(void**) {
    const std::string k1 = private_rsa_jwk_json(rsa_key(), {"enc-1", "", "enc"});
    const std::string k2 = private_rsa_jwk_json(other_rsa_key(), {"enc-2", "", ""});
    const JweKeySet both = keys_from("{\"keys\":[" + k1 + "," + k2 + "]}");
    assert_int_equal(both.keys.size(), 2);
    const JweDecryptPolicy pol = policy_for(both);
    assert_ok(jwe_decrypt(encrypt("a", JweAlg::RSA_OAEP, JweEnc::A128GCM, "enc-1"), pol));
    assert_ok(jwe_decrypt(
        encrypt("b", JweAlg::RSA_OAEP, JweEnc::A128GCM, "enc-2", other_rsa_key()), pol));
    // A kid the operator never published (the mock's "wrong kid for encryption").
    assert_reason(jwe_decrypt(encrypt("c", JweAlg::RSA_OAEP, JweEnc::A128GCM, "enc-9"), pol),
                  "jwe_unknown_kid");
    // No kid with two keys: which one is not guessed.
    assert_reason(jwe_decrypt(encrypt("d", JweAlg::RSA_OAEP, JweEnc::A128GCM, ""), pol),
                  "jwe_kid_ambiguous");
    // One JWK with a kid: another kid is refused; no kid is that key.
    const JweKeySet one = rsa_keys("enc-1");
    assert_reason(jwe_decrypt(encrypt("e", JweAlg::RSA_OAEP, JweEnc::A128GCM, "enc-2"),
                              policy_for(one)),
                  "jwe_unknown_kid");
    assert_ok(jwe_decrypt(encrypt("f", JweAlg::RSA_OAEP, JweEnc::A128GCM, ""), policy_for(one)));
    // A PEM key has no kid: it answers any.
    const JweKeySet pem = keys_from(private_key_pem(rsa_key()));
    assert_true(pem.keys.front()->kid.empty());
    assert_ok(jwe_decrypt(encrypt("g", JweAlg::RSA_OAEP, JweEnc::A128GCM, "whatever"),
                          policy_for(pem)));
}

void test_key_parsing_refusals(void**) {
    assert_reason(parse_jwe_keys("not a key"), "jwe_key_format");
    assert_reason(parse_jwe_keys("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
                  "jwe_key_format");
    assert_reason(parse_jwe_keys("{\"kty\":"), "jwe_key_json");
    assert_reason(parse_jwe_keys(public_jwk_json(rsa_key(), {"k", "", ""})),
                  "jwe_key_not_private");
    static EvpPkeyPtr ec = generate_key(KeyType::P256);
    assert_reason(parse_jwe_keys(public_jwk_json(ec.get(), {"k", "", ""})), "jwe_key_not_rsa");
    assert_reason(parse_jwe_keys(private_key_pem(ec.get())), "jwe_key_not_rsa");
    static EvpPkeyPtr small = generate_key(KeyType::RSA1024);
    assert_reason(parse_jwe_keys(private_rsa_jwk_json(small.get(), {"k", "", ""})),
                  "jwe_key_too_small");
    assert_reason(parse_jwe_keys(private_key_pem(small.get())), "jwe_key_too_small");
    assert_reason(parse_jwe_keys(private_rsa_jwk_json(rsa_key(), {"k", "", "sig"})),
                  "jwe_key_use");
    // Parts of two different keys.
    std::string mixed = private_rsa_jwk_json(rsa_key(), {"k", "", ""});
    const std::string other = public_jwk_json(other_rsa_key(), {"k", "", ""});
    auto n_other = json_parse_object(other);
    assert_ok(n_other);
    auto n = json_get_string(n_other->get(), "n");
    assert_true(n && n->has_value());
    mixed = with_member(mixed, "n", "\"" + std::string(**n) + "\"");
    assert_reason(parse_jwe_keys(mixed), "jwe_key_member");
    assert_reason(parse_jwe_keys(without_member(private_rsa_jwk_json(rsa_key(), {"k", "", ""}),
                                                "e")),
                  "jwe_key_member");
    // Sets: every key needs its own kid.
    const std::string a = private_rsa_jwk_json(rsa_key(), {"a", "", ""});
    const std::string nokid = private_rsa_jwk_json(other_rsa_key(), {"", "", ""});
    const std::string a2 = private_rsa_jwk_json(other_rsa_key(), {"a", "", ""});
    assert_reason(parse_jwe_keys("{\"keys\":[" + a + "," + nokid + "]}"), "jwe_key_kid");
    assert_reason(parse_jwe_keys("{\"keys\":[" + a + "," + a2 + "]}"), "jwe_key_kid");
    assert_reason(parse_jwe_keys("{\"keys\":[]}"), "jwe_key_json");
}

void test_load_key_file_is_secret(void**) {
    char dir[] = "/tmp/psc-jwe-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const std::string path = std::string(dir) + "/enc.jwk";
    {
        std::ofstream out(path);
        out << private_rsa_jwk_json(rsa_key(), {"enc-1", "", ""});
    }
    assert_int_equal(chmod(path.c_str(), 0644), 0);
    assert_reason(load_jwe_keys(path), "file_mode");
    assert_int_equal(chmod(path.c_str(), 0600), 0);
    auto k = load_jwe_keys(path);
    assert_ok(k);
    assert_string_equal(k->keys.front()->kid.c_str(), "enc-1");
    unlink(path.c_str());
    rmdir(dir);
}

// ---- Header and format refusals ----

void test_header_refusals(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy pol = policy_for(keys);
    const std::string t = encrypt("p");
    struct Case {
        const char* header;
        const char* reason;
    };
    const Case cases[] = {
        {R"({"enc":"A256GCM"})", "jwe_alg_missing"},
        {R"({"alg":"RSA-OAEP"})", "jwe_enc_missing"},
        {R"({"alg":"dir","enc":"A256GCM"})", "jwe_alg_unknown"},
        {R"({"alg":"A128KW","enc":"A256GCM"})", "jwe_alg_unknown"},
        {R"({"alg":"ECDH-ES","enc":"A256GCM"})", "jwe_alg_unknown"},
        {R"({"alg":7,"enc":"A256GCM"})", "jwe_alg_unknown"},
        {R"({"alg":"RSA-OAEP","enc":"A256CTR"})", "jwe_enc_unknown"},
        {R"({"alg":"RSA-OAEP","enc":"A256GCM","zip":"DEF"})", "jwe_zip"},
        {R"({"alg":"RSA-OAEP","enc":"A256GCM","crit":["exp"],"exp":1})", "jwe_crit_unsupported"},
        {R"({"alg":"RSA-OAEP","enc":"A256GCM","kid":5})", "jwe_kid_type"},
        {R"({"alg":"RSA1_5","enc":"A256GCM"})", "jwe_alg_not_allowed"},
        {R"(["alg"])", "jwe_header_json"},
        {R"({"alg":"RSA-OAEP",)", "jwe_header_json"},
    };
    for (const auto& c : cases)
        assert_reason(jwe_decrypt(with_header(t, c.header), pol), c.reason);
    // Only what the policy lists: RSA-OAEP alone refuses RSA-OAEP-256.
    JweDecryptPolicy oaep_only = pol;
    oaep_only.allowed_algs = {JweAlg::RSA_OAEP};
    assert_reason(jwe_decrypt(t, oaep_only), "jwe_alg_not_allowed");
}

void test_format_refusals(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy pol = policy_for(keys);
    const std::string t = encrypt("p", JweAlg::RSA_OAEP, JweEnc::A128CBC_HS256);
    auto p = parts(t);
    assert_reason(jwe_decrypt(p[0] + "." + p[1] + "." + p[2] + "." + p[3], pol), "jwe_format");
    assert_reason(jwe_decrypt(t + ".x", pol), "jwe_format");
    assert_reason(jwe_decrypt(p[0] + ".." + p[2] + "." + p[3] + "." + p[4], pol), "jwe_format");
    assert_reason(jwe_decrypt(p[0] + "." + p[1] + "." + p[2] + "." + p[3] + ".", pol),
                  "jwe_format");
    auto q = p;
    q[3] += "=";
    assert_reason(jwe_decrypt(join(q), pol), "jwe_base64");
    q = p;
    q[2] = base64url_encode(std::string(12, 'i'));
    assert_reason(jwe_decrypt(join(q), pol), "jwe_iv_length");
    q = p;
    q[4] = base64url_encode(std::string(32, 't'));
    assert_reason(jwe_decrypt(join(q), pol), "jwe_tag_length");
    q = p;
    q[1] = base64url_encode(std::string(128, 'k'));
    assert_reason(jwe_decrypt(join(q), pol), "jwe_key_length");
    q = p;
    q[3] = base64url_encode(std::string(15, 'c')); // CBC: whole blocks only
    assert_reason(jwe_decrypt(join(q), pol), "jwe_decrypt");
    JweDecryptPolicy none;
    assert_reason(jwe_decrypt(t, none), "jwe_no_key");
}

// ---- Through jws_verify: nesting rules and size ----

void test_nested_rules(void**) {
    const JweKeySet keys = rsa_keys();
    const JweDecryptPolicy dec = policy_for(keys);
    const JwsSigningKey signer = signing_key(rsa_key(), JwsAlg::RS256, "sig-1");
    auto sig_set = parse_jwks(jwks_json({public_jwk_json(rsa_key(), {"sig-1", "", ""})}));
    assert_ok(sig_set);
    JwsVerifyPolicy p;
    p.decryption = &dec;
    const std::string claims = R"({"sub":"alice"})";
    // Signed then encrypted: accepted, payload and inner token kept.
    auto jws = jws_sign(signer, claims);
    assert_ok(jws);
    auto v = jws_verify(encrypt(*jws), *sig_set, p);
    assert_ok(v);
    assert_string_equal(v->payload.c_str(), claims.c_str());
    assert_string_equal(v->signed_compact->c_str(), jws->c_str());
    // Encrypted but unsigned: refused.
    assert_reason(jws_verify(encrypt(claims), *sig_set, p), "jwe_not_signed");
    assert_reason(jws_verify(encrypt("a.b.c.d"), *sig_set, p), "jwe_not_signed");
    assert_reason(jws_verify(encrypt(R"({"a":"x.y.z"})"), *sig_set, p), "jwe_not_signed");
    // alg none inside: the inner JWS rules apply unchanged.
    assert_reason(jws_verify(encrypt(assemble(R"({"alg":"none"})", claims, "")), *sig_set, p),
                  "jws_format");
    assert_reason(
        jws_verify(encrypt(assemble(R"({"alg":"none"})", claims, "x")), *sig_set, p),
        "jws_alg_none");
    // A JWE inside a JWE: refused.
    assert_reason(jws_verify(encrypt(encrypt(*jws)), *sig_set, p), "jwe_nested");
    // Size: more than twice the JWS limit is refused before any decoding.
    JwsVerifyPolicy small = p;
    small.max_bytes = 256;
    assert_reason(jws_verify(encrypt(*jws), *sig_set, small), "jws_too_large");
}

void test_alg_list(void**) {
    auto l = parse_jwe_alg_list("RSA-OAEP RSA1_5");
    assert_ok(l);
    assert_int_equal(l->size(), 2);
    assert_reason(parse_jwe_alg_list(""), "alg_list_empty");
    assert_reason(parse_jwe_alg_list("RSA-OAEP A128KW"), "alg_unknown");
    assert_reason(parse_jwe_alg_list("RSA-OAEP RSA-OAEP"), "alg_duplicate");
    assert_false(is_compact_jwe("a.b.c"));
    assert_true(is_compact_jwe("a.b.c.d.e"));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7516_a1_rsa_oaep_a256gcm),
        cmocka_unit_test(test_rfc7516_a2_rsa1_5_only_when_enabled),
        cmocka_unit_test(test_rfc7520_s5_1_and_5_2),
        cmocka_unit_test(test_rfc7520_nested_jwt),
        cmocka_unit_test(test_every_alg_and_enc_round_trips),
        cmocka_unit_test(test_header_is_authenticated),
        cmocka_unit_test(test_wrong_key_refused),
        cmocka_unit_test(test_rsa1_5_bad_padding_is_implicitly_rejected),
        cmocka_unit_test(test_kid_selects_the_key),
        cmocka_unit_test(test_key_parsing_refusals),
        cmocka_unit_test(test_load_key_file_is_secret),
        cmocka_unit_test(test_header_refusals),
        cmocka_unit_test(test_format_refusals),
        cmocka_unit_test(test_nested_rules),
        cmocka_unit_test(test_alg_list),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
