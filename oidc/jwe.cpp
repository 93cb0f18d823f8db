// SPDX-License-Identifier: LGPL-2.1-or-later
#include "jwe.hpp"

#include "base64url.hpp"
#include "file_io.hpp"
#include "secret.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <unistd.h>

namespace psc {
namespace {

using CipherCtxPtr = Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

constexpr int kRsaMinBits = 2048;
constexpr std::size_t kKeyFileMaxBytes = 64 * 1024;

struct AlgInfo {
    JweAlg alg;
    std::string_view name;
    const char* oaep_md; // nullptr for RSA1_5
};

constexpr std::array kAlgs{
    AlgInfo{JweAlg::RSA_OAEP, "RSA-OAEP", "SHA1"},
    AlgInfo{JweAlg::RSA_OAEP_256, "RSA-OAEP-256", "SHA256"},
    AlgInfo{JweAlg::RSA1_5, "RSA1_5", nullptr},
};

struct EncInfo {
    JweEnc enc;
    std::string_view name;
    bool gcm;
    std::size_t cek_bytes; // CBC-HMAC: MAC key ‖ encryption key (RFC 7518 §5.2.2.1)
    std::size_t iv_bytes;
    std::size_t tag_bytes;
    const char* cipher; // OpenSSL name
    const char* mac_md; // CBC-HMAC only
};

constexpr std::array kEncs{
    EncInfo{JweEnc::A128GCM, "A128GCM", true, 16, 12, 16, "AES-128-GCM", nullptr},
    EncInfo{JweEnc::A192GCM, "A192GCM", true, 24, 12, 16, "AES-192-GCM", nullptr},
    EncInfo{JweEnc::A256GCM, "A256GCM", true, 32, 12, 16, "AES-256-GCM", nullptr},
    EncInfo{JweEnc::A128CBC_HS256, "A128CBC-HS256", false, 32, 16, 16, "AES-128-CBC", "SHA256"},
    EncInfo{JweEnc::A192CBC_HS384, "A192CBC-HS384", false, 48, 16, 24, "AES-192-CBC", "SHA384"},
    EncInfo{JweEnc::A256CBC_HS512, "A256CBC-HS512", false, 64, 16, 32, "AES-256-CBC", "SHA512"},
};

const AlgInfo& alg_info(JweAlg alg) noexcept {
    for (const auto& a : kAlgs)
        if (a.alg == alg)
            return a;
    return kAlgs.front();
}

const EncInfo& enc_info(JweEnc enc) noexcept {
    for (const auto& e : kEncs)
        if (e.enc == enc)
            return e;
    return kEncs.front();
}

Error bad(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

Error key_error(std::string reason, std::string message) {
    return make_error(Errc::config, std::move(reason), std::move(message));
}

Error openssl_error(std::string what) {
    return make_error(Errc::internal, "jwe_openssl", std::move(what));
}

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) noexcept {
    return reinterpret_cast<unsigned char*>(s.data());
}

// A string of secret bytes, wiped when it goes (CEKs, raw RSA output, plaintext on failure).
struct Wiped {
    std::string s;
    explicit Wiped(std::size_t n = 0) : s(n, '\0') {}
    Wiped(const Wiped&) = delete;
    Wiped& operator=(const Wiped&) = delete;
    ~Wiped() { secure_wipe(s); }
};

Status random_bytes(std::string& out) {
    if (RAND_bytes(bytes(out), static_cast<int>(out.size())) != 1)
        return openssl_error("no random bytes");
    return {};
}

// ---- Content encryption (RFC 7518 §5) ----

const EVP_CIPHER* cipher_of(const EncInfo& e) {
    return EVP_get_cipherbyname(e.cipher);
}

// AL: the AAD length in bits as a 64-bit big-endian number (RFC 7518 §5.2.2.1 step 4).
std::string aad_length_block(std::size_t aad_bytes) {
    std::string al(8, '\0');
    std::uint64_t bits = static_cast<std::uint64_t>(aad_bytes) * 8;
    for (int i = 7; i >= 0; --i) {
        al[static_cast<std::size_t>(i)] = static_cast<char>(bits & 0xff);
        bits >>= 8;
    }
    return al;
}

Result<std::string> cbc_hmac_tag(const EncInfo& e, std::string_view mac_key, std::string_view aad,
                                 std::string_view iv, std::string_view ct) {
    std::string input;
    input.reserve(aad.size() + iv.size() + ct.size() + 8);
    input.append(aad).append(iv).append(ct).append(aad_length_block(aad.size()));
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, e.mac_md, nullptr, mac_key.data(), mac_key.size(),
                   bytes(input), input.size(), mac, sizeof mac, &mac_len) ||
        mac_len < e.tag_bytes)
        return openssl_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(mac), e.tag_bytes);
}

// Runs the cipher over `in`; GCM gets the AAD and (decrypting) the tag. Returns nullopt-like
// failure as an Error with reason jwe_decrypt when the tag or the padding is wrong.
Result<std::string> run_cipher(const EncInfo& e, bool encrypt, std::string_view key,
                               std::string_view iv, std::string_view aad, std::string_view in,
                               std::string* tag) {
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    const EVP_CIPHER* cipher = cipher_of(e);
    if (!ctx || !cipher ||
        EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1 ||
        (e.gcm && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                      static_cast<int>(iv.size()), nullptr) != 1) ||
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(iv), -1) != 1)
        return openssl_error("cannot initialise " + std::string(e.name));
    int len = 0;
    if (e.gcm && EVP_CipherUpdate(ctx.get(), nullptr, &len, bytes(aad),
                                  static_cast<int>(aad.size())) != 1)
        return openssl_error("GCM AAD failed");
    std::string out(in.size() + 32, '\0');
    if (EVP_CipherUpdate(ctx.get(), bytes(out), &len, bytes(in), static_cast<int>(in.size())) != 1)
        return openssl_error("cipher update failed");
    std::size_t total = static_cast<std::size_t>(len);
    if (e.gcm && !encrypt &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag->size()),
                            tag->data()) != 1)
        return openssl_error("cannot set the GCM tag");
    if (EVP_CipherFinal_ex(ctx.get(), bytes(out) + total, &len) != 1) {
        secure_wipe(out);
        return bad("jwe_decrypt", "the token does not decrypt with this key");
    }
    total += static_cast<std::size_t>(len);
    out.resize(total);
    if (e.gcm && encrypt) {
        tag->assign(e.tag_bytes, '\0');
        if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(e.tag_bytes),
                                tag->data()) != 1)
            return openssl_error("cannot read the GCM tag");
    }
    return out;
}

Result<std::string> content_decrypt(const EncInfo& e, std::string_view cek, std::string_view aad,
                                    std::string_view iv, std::string_view ct,
                                    std::string_view tag) {
    if (e.gcm) {
        std::string t(tag);
        return run_cipher(e, false, cek, iv, aad, ct, &t);
    }
    const std::string_view mac_key = cek.substr(0, cek.size() / 2);
    const std::string_view enc_key = cek.substr(cek.size() / 2);
    auto expected = cbc_hmac_tag(e, mac_key, aad, iv, ct);
    if (!expected)
        return std::move(expected).error();
    // The tag first, in constant time; the ciphertext is only decrypted once it is authentic.
    if (CRYPTO_memcmp(expected->data(), tag.data(), e.tag_bytes) != 0)
        return bad("jwe_decrypt", "the token does not decrypt with this key");
    return run_cipher(e, false, enc_key, iv, aad, ct, nullptr);
}

// ---- Key management (RFC 7518 §4.2, §4.3) ----

// RSAES-OAEP: OpenSSL's own decryption is constant time. Any failure yields a random CEK so the
// content step runs (and fails on the tag) exactly as for a wrong key (RFC 7516 §11.5).
Status unwrap_oaep(const AlgInfo& a, EVP_PKEY* key, std::string_view ek, std::string& cek) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), a.oaep_md, nullptr) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), a.oaep_md, nullptr) != 1)
        return openssl_error("cannot set up RSA-OAEP");
    Wiped out(ek.size());
    std::size_t out_len = out.s.size();
    const bool ok =
        EVP_PKEY_decrypt(ctx.get(), bytes(out.s), &out_len, bytes(ek), ek.size()) == 1 &&
        out_len == cek.size();
    ERR_clear_error();
    if (ok)
        std::copy_n(out.s.begin(), cek.size(), cek.begin());
    return {};
}

// RSAES-PKCS1-v1_5 with implicit rejection (RFC 7516 §11.5, RFC 3218 §2.3.2): the raw RSA
// result is checked for the padding of a CEK of the expected length without a branch on secret
// data, and a random CEK (drawn before) is selected when the check fails. The caller then sees
// the same tag failure for bad padding, a wrong length and a wrong key.
Status unwrap_pkcs1(EVP_PKEY* key, std::string_view ek, std::string& cek) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1)
        return openssl_error("cannot set up RSA1_5");
    const std::size_t k = ek.size();
    const std::size_t l = cek.size();
    Wiped em(k);
    std::size_t em_len = k;
    // A ciphertext ≥ the modulus is refused by OpenSSL: a property of the public input only.
    if (EVP_PKEY_decrypt(ctx.get(), bytes(em.s), &em_len, bytes(ek), ek.size()) != 1 ||
        em_len != k) {
        ERR_clear_error();
        return {}; // cek keeps its random bytes
    }
    // EM = 0x00 ‖ 0x02 ‖ PS (k-l-3 non-zero bytes) ‖ 0x00 ‖ M (l bytes)
    const auto* p = reinterpret_cast<const unsigned char*>(em.s.data());
    unsigned good = static_cast<unsigned>(p[0] == 0x00) & static_cast<unsigned>(p[1] == 0x02);
    for (std::size_t i = 2; i < k - l - 1; ++i)
        good &= static_cast<unsigned>(p[i] != 0);
    good &= static_cast<unsigned>(p[k - l - 1] == 0);
    const auto mask = static_cast<unsigned char>(0u - good); // 0xff when good, else 0x00
    for (std::size_t j = 0; j < l; ++j) {
        const auto m = p[k - l + j];
        const auto r = static_cast<unsigned char>(cek[j]);
        cek[j] = static_cast<char>((m & mask) | (r & static_cast<unsigned char>(~mask)));
    }
    return {};
}

// ---- Header ----

struct Header {
    JsonPtr json;
    JweAlg alg = JweAlg::RSA_OAEP;
    JweEnc enc = JweEnc::A256GCM;
    std::optional<std::string> kid;
};

Result<Header> parse_header(std::string_view b64, const JweDecryptPolicy& policy) {
    auto text = base64url_decode(b64);
    if (!text)
        return bad("jwe_base64", "JWE header: " + text.error().message);
    auto json = json_parse_object(*text, JsonLimits{8 * 1024, 8});
    if (!json)
        return bad("jwe_header_json", "JWE header: " + json.error().describe());
    Header h;
    auto alg = json_get_string(json->get(), "alg");
    if (!alg)
        return bad("jwe_alg_unknown", "JWE header \"alg\" is not a string");
    if (!alg->has_value())
        return bad("jwe_alg_missing", "JWE header has no \"alg\"");
    auto a = jwe_alg_from_name(**alg);
    if (!a)
        return bad("jwe_alg_unknown", "unsupported key management algorithm \"" +
                                          strip_control((*alg)->substr(0, 32)) + "\"");
    if (std::find(policy.allowed_algs.begin(), policy.allowed_algs.end(), *a) ==
        policy.allowed_algs.end())
        return bad("jwe_alg_not_allowed",
                   std::string(jwe_alg_name(*a)) + " is not in id_token_decryption_algs" +
                       (*a == JweAlg::RSA1_5 ? " (a padding oracle: enable it only if the "
                                               "provider offers nothing else)"
                                             : ""));
    h.alg = *a;
    auto enc = json_get_string(json->get(), "enc");
    if (!enc)
        return bad("jwe_enc_unknown", "JWE header \"enc\" is not a string");
    if (!enc->has_value())
        return bad("jwe_enc_missing", "JWE header has no \"enc\"");
    auto e = jwe_enc_from_name(**enc);
    if (!e)
        return bad("jwe_enc_unknown", "unsupported content encryption \"" +
                                          strip_control((*enc)->substr(0, 32)) + "\"");
    h.enc = *e;
    // Compression before encryption leaks the plaintext's content through its length (and
    // inflating is a decompression bomb): never.
    if (json_member(json->get(), "zip"))
        return bad("jwe_zip", "compressed (zip) JWE content is refused");
    if (json_member(json->get(), "crit"))
        return bad("jwe_crit_unsupported", "JWE header lists critical extensions; none is "
                                           "supported");
    auto kid = json_get_string(json->get(), "kid");
    if (!kid)
        return bad("jwe_kid_type", "JWE header \"kid\" is not a string");
    if (kid->has_value())
        h.kid = std::string(**kid);
    h.json = std::move(*json);
    return h;
}

Result<const JweKey*> select_key(const JweKeySet& set, const std::optional<std::string>& kid) {
    if (set.keys.empty())
        return bad("jwe_no_key", "no decryption key");
    if (!kid) {
        if (set.keys.size() == 1)
            return set.keys.front().get();
        return bad("jwe_kid_ambiguous",
                   "encrypted token has no kid and " + std::to_string(set.keys.size()) +
                       " decryption keys are configured");
    }
    const JweKey* any_kid = nullptr;
    for (const auto& k : set.keys) {
        if (k->kid == *kid)
            return k.get();
        if (k->kid.empty())
            any_kid = k.get();
    }
    if (any_kid)
        return any_kid;
    return bad("jwe_unknown_kid", "the token is encrypted to key \"" +
                                      strip_control(kid->substr(0, 64)) +
                                      "\", which is not the configured decryption key");
}

struct Parts {
    std::array<std::string_view, 5> p;
};

Result<Parts> split5(std::string_view compact) {
    Parts out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        const auto dot = compact.find('.', start);
        if ((dot == std::string_view::npos) != (i == 4))
            return bad("jwe_format", "a compact JWE has exactly five parts");
        out.p[i] = compact.substr(start, dot == std::string_view::npos ? dot : dot - start);
        start = dot + 1;
    }
    if (out.p[0].empty() || out.p[1].empty() || out.p[2].empty() || out.p[4].empty())
        return bad("jwe_format", "empty JWE header, encrypted key, IV or tag");
    return out;
}

Result<std::string> decode(std::string_view part, const char* what) {
    auto r = base64url_decode(part);
    if (!r)
        return bad("jwe_base64", std::string("JWE ") + what + ": " + r.error().message);
    return r;
}

// ---- Keys ----

Result<BignumPtr> jwk_number(const json_object* jwk, const char* name, bool required) {
    auto v = json_get_string(jwk, name);
    if (!v || (!v->has_value() && required))
        return key_error("jwe_key_member", std::string("JWK member \"") + name +
                                               "\" is missing or not a string");
    if (!v->has_value())
        return BignumPtr{};
    auto raw = base64url_decode(**v);
    if (!raw || raw->empty())
        return key_error("jwe_key_member",
                         std::string("JWK member \"") + name + "\" is not base64url");
    BignumPtr bn(BN_bin2bn(bytes(*raw), static_cast<int>(raw->size()), nullptr));
    secure_wipe(*raw);
    if (!bn)
        return openssl_error("cannot allocate a number");
    return bn;
}

Result<std::shared_ptr<const JweKey>> key_from_pkey(EvpPkeyPtr pkey, std::string kid) {
    if (EVP_PKEY_is_a(pkey.get(), "RSA") != 1)
        return key_error("jwe_key_not_rsa", "the decryption key is not an RSA key");
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < kRsaMinBits)
        return key_error("jwe_key_too_small", "RSA decryption key of " + std::to_string(bits) +
                                                  " bits; at least 2048 are required");
    auto k = std::make_shared<JweKey>();
    k->kid = std::move(kid);
    k->bits = bits;
    k->key = std::move(pkey);
    return std::shared_ptr<const JweKey>(std::move(k));
}

Result<std::shared_ptr<const JweKey>> key_from_jwk(const json_object* jwk) {
    if (!json_object_is_type(jwk, json_type_object))
        return key_error("jwe_key_json", "a JWK is not a JSON object");
    auto kty = json_get_string(jwk, "kty");
    if (!kty || !kty->has_value() || **kty != "RSA")
        return key_error("jwe_key_not_rsa", "the decryption JWK is not \"kty\": \"RSA\"");
    auto use = json_get_string(jwk, "use");
    if (!use || (use->has_value() && **use != "enc"))
        return key_error("jwe_key_use", "the decryption JWK has a \"use\" other than \"enc\"");
    auto kid = json_get_string(jwk, "kid");
    if (!kid)
        return key_error("jwe_key_member", "JWK member \"kid\" is not a string");
    if (!json_member(jwk, "d"))
        return key_error("jwe_key_not_private",
                         "the decryption JWK has no private exponent \"d\" (a public key?)");
    static constexpr std::array<std::pair<const char*, const char*>, 8> kMembers{{
        {"n", OSSL_PKEY_PARAM_RSA_N},
        {"e", OSSL_PKEY_PARAM_RSA_E},
        {"d", OSSL_PKEY_PARAM_RSA_D},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    }};
    std::array<BignumPtr, 8> nums;
    bool crt = true;
    for (std::size_t i = 0; i < kMembers.size(); ++i) {
        auto bn = jwk_number(jwk, kMembers[i].first, i < 3);
        if (!bn)
            return std::move(bn).error();
        nums[i] = std::move(*bn);
        crt = crt && (i < 3 || nums[i]);
    }
    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld)
        return openssl_error("cannot allocate key parameters");
    for (std::size_t i = 0; i < kMembers.size(); ++i)
        if (nums[i] && (i < 3 || crt) &&
            OSSL_PARAM_BLD_push_BN(bld.get(), kMembers[i].second, nums[i].get()) != 1)
            return openssl_error("cannot build key parameters");
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1)
        return key_error("jwe_key_member", "the JWK's numbers do not make an RSA key");
    EvpPkeyPtr pkey(raw);
    // A key whose parts do not belong together would decrypt nothing: say so at load time.
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
        ERR_clear_error();
        return key_error("jwe_key_member", "the JWK's private and public parts do not match");
    }
    return key_from_pkey(std::move(pkey), kid->has_value() ? std::string(**kid) : std::string());
}

Result<JweKeySet> keys_from_json(std::string_view text) {
    auto doc = json_parse_object(text, JsonLimits{kKeyFileMaxBytes, 8});
    if (!doc)
        return key_error("jwe_key_json", "decryption key: " + doc.error().describe());
    JweKeySet set;
    json_object* list = json_member(doc->get(), "keys");
    if (!list) {
        auto k = key_from_jwk(doc->get());
        if (!k)
            return std::move(k).error();
        set.keys.push_back(std::move(*k));
        return set;
    }
    if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0 ||
        json_object_array_length(list) > 16)
        return key_error("jwe_key_json", "\"keys\" must be an array of 1 to 16 JWKs");
    for (std::size_t i = 0; i < json_object_array_length(list); ++i) {
        auto k = key_from_jwk(json_object_array_get_idx(list, i));
        if (!k)
            return std::move(k).error();
        set.keys.push_back(std::move(*k));
    }
    if (set.keys.size() > 1)
        for (std::size_t i = 0; i < set.keys.size(); ++i) {
            if (set.keys[i]->kid.empty())
                return key_error("jwe_key_kid", "with several decryption keys each needs a kid");
            for (std::size_t j = 0; j < i; ++j)
                if (set.keys[j]->kid == set.keys[i]->kid)
                    return key_error("jwe_key_kid",
                                     "two decryption keys share kid \"" + set.keys[i]->kid + "\"");
        }
    return set;
}

Result<JweKeySet> keys_from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    pem_password_cb* no_passphrase = [](char*, int, int, void*) noexcept -> int { return -1; };
    EvpPkeyPtr pkey(bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_passphrase, nullptr,
                                                     nullptr, nullptr)
                        : nullptr);
    ERR_clear_error();
    if (!pkey)
        return key_error("jwe_key_format", "not an unencrypted PEM private key");
    auto k = key_from_pkey(std::move(pkey), {});
    if (!k)
        return std::move(k).error();
    JweKeySet set;
    set.keys.push_back(std::move(*k));
    return set;
}

} // namespace

std::optional<JweAlg> jwe_alg_from_name(std::string_view name) noexcept {
    for (const auto& a : kAlgs)
        if (a.name == name)
            return a.alg;
    return std::nullopt;
}

std::string_view jwe_alg_name(JweAlg alg) noexcept {
    return alg_info(alg).name;
}

std::optional<JweEnc> jwe_enc_from_name(std::string_view name) noexcept {
    for (const auto& e : kEncs)
        if (e.name == name)
            return e.enc;
    return std::nullopt;
}

std::string_view jwe_enc_name(JweEnc enc) noexcept {
    return enc_info(enc).name;
}

Result<std::vector<JweAlg>> parse_jwe_alg_list(std::string_view space_separated) {
    std::vector<JweAlg> out;
    for (const auto& name : split_ws(space_separated)) {
        auto alg = jwe_alg_from_name(name);
        if (!alg)
            return make_error(Errc::config, "alg_unknown",
                              "\"" + strip_control(name) +
                                  "\" is not a supported key management algorithm (RSA-OAEP, "
                                  "RSA-OAEP-256, RSA1_5)");
        if (std::find(out.begin(), out.end(), *alg) != out.end())
            return make_error(Errc::config, "alg_duplicate", name + " is listed twice");
        out.push_back(*alg);
    }
    if (out.empty())
        return make_error(Errc::config, "alg_list_empty", "no key management algorithm");
    return out;
}

Result<JweKeySet> parse_jwe_keys(std::string_view text) {
    const std::string_view t = trim(text);
    if (t.size() > kKeyFileMaxBytes)
        return key_error("jwe_key_format", "decryption key file too large");
    if (!t.empty() && t.front() == '{')
        return keys_from_json(t);
    if (t.substr(0, 11) == "-----BEGIN ")
        return keys_from_pem(t);
    return key_error("jwe_key_format", "neither a PEM private key nor a JWK / JWK Set");
}

Result<JweKeySet> load_jwe_keys(const std::string& path) {
    FileRules rules;
    rules.max_bytes = kKeyFileMaxBytes;
    rules.required_owner = static_cast<long>(::geteuid());
    rules.refuse_group_world_writable = true;
    rules.refuse_group_world_readable = true;
    auto text = read_secret_file(path, rules);
    if (!text)
        return std::move(text).error();
    return parse_jwe_keys(text->view());
}

bool is_compact_jwe(std::string_view compact) noexcept {
    return std::count(compact.begin(), compact.end(), '.') == 4;
}

Result<JweDecrypted> jwe_decrypt(std::string_view compact, const JweDecryptPolicy& policy) {
    auto parts = split5(compact);
    if (!parts)
        return std::move(parts).error();
    if (!policy.keys || policy.keys->keys.empty())
        return bad("jwe_no_key", "the token is encrypted but no id_token_decryption_key is set");
    auto header = parse_header(parts->p[0], policy);
    if (!header)
        return std::move(header).error();
    auto key = select_key(*policy.keys, header->kid);
    if (!key)
        return std::move(key).error();
    const EncInfo& e = enc_info(header->enc);
    auto ek = decode(parts->p[1], "encrypted key");
    if (!ek)
        return std::move(ek).error();
    auto iv = decode(parts->p[2], "IV");
    if (!iv)
        return std::move(iv).error();
    auto ct = decode(parts->p[3], "ciphertext");
    if (!ct)
        return std::move(ct).error();
    auto tag = decode(parts->p[4], "tag");
    if (!tag)
        return std::move(tag).error();
    // Public, length-only checks: they say nothing about the key.
    if (ek->size() != static_cast<std::size_t>(EVP_PKEY_get_size((*key)->key.get())))
        return bad("jwe_key_length", "the encrypted key is not as long as the RSA modulus");
    if (iv->size() != e.iv_bytes)
        return bad("jwe_iv_length", std::string(e.name) + " needs a " +
                                        std::to_string(e.iv_bytes) + "-byte IV");
    if (tag->size() != e.tag_bytes)
        return bad("jwe_tag_length", std::string(e.name) + " needs a " +
                                         std::to_string(e.tag_bytes) + "-byte tag");
    if (!e.gcm && (ct->empty() || ct->size() % 16 != 0))
        return bad("jwe_decrypt", "the token does not decrypt with this key");
    Wiped cek(e.cek_bytes);
    PSC_TRY(random_bytes(cek.s));
    const AlgInfo& a = alg_info(header->alg);
    PSC_TRY(a.oaep_md ? unwrap_oaep(a, (*key)->key.get(), *ek, cek.s)
                      : unwrap_pkcs1((*key)->key.get(), *ek, cek.s));
    auto plain = content_decrypt(e, cek.s, parts->p[0], *iv, *ct, *tag);
    if (!plain)
        return std::move(plain).error();
    JweDecrypted out;
    out.header = std::move(header->json);
    out.plaintext = std::move(*plain);
    out.alg = header->alg;
    out.enc = header->enc;
    out.kid = header->kid.value_or("");
    return out;
}

Result<std::string> jwe_encrypt(std::string_view plaintext, EVP_PKEY* public_key, JweAlg alg,
                                JweEnc enc, std::string_view kid, std::string_view cty,
                                json_object* extra_header) {
    if (!public_key || EVP_PKEY_is_a(public_key, "RSA") != 1)
        return key_error("jwe_key_not_rsa", "JWE encryption needs an RSA public key");
    const AlgInfo& a = alg_info(alg);
    const EncInfo& e = enc_info(enc);
    JsonPtr header(json_object_new_object());
    if (!header)
        return openssl_error("cannot allocate the JWE header");
    if (extra_header && json_object_is_type(extra_header, json_type_object)) {
        json_object_object_foreach(extra_header, name, value) {
            json_object_object_add(header.get(), name, json_object_get(value));
        }
    }
    json_object_object_add(header.get(), "alg",
                           json_object_new_string_len(a.name.data(), int(a.name.size())));
    json_object_object_add(header.get(), "enc",
                           json_object_new_string_len(e.name.data(), int(e.name.size())));
    if (!kid.empty())
        json_object_object_add(header.get(), "kid",
                               json_object_new_string_len(kid.data(), int(kid.size())));
    if (!cty.empty())
        json_object_object_add(header.get(), "cty",
                               json_object_new_string_len(cty.data(), int(cty.size())));
    const std::string header_b64 = base64url_encode(json_to_string(header.get()));
    Wiped cek(e.cek_bytes);
    std::string iv(e.iv_bytes, '\0');
    PSC_TRY(random_bytes(cek.s));
    PSC_TRY(random_bytes(iv));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, public_key, nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(),
                                     a.oaep_md ? RSA_PKCS1_OAEP_PADDING : RSA_PKCS1_PADDING) != 1 ||
        (a.oaep_md && (EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), a.oaep_md, nullptr) != 1 ||
                       EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), a.oaep_md, nullptr) != 1)))
        return openssl_error("cannot set up RSA encryption");
    std::size_t ek_len = 0;
    if (EVP_PKEY_encrypt(ctx.get(), nullptr, &ek_len, bytes(cek.s), cek.s.size()) != 1)
        return openssl_error("RSA encryption failed");
    std::string ek(ek_len, '\0');
    if (EVP_PKEY_encrypt(ctx.get(), bytes(ek), &ek_len, bytes(cek.s), cek.s.size()) != 1)
        return openssl_error("RSA encryption failed");
    ek.resize(ek_len);
    std::string tag;
    Result<std::string> ct = std::string();
    if (e.gcm) {
        ct = run_cipher(e, true, cek.s, iv, header_b64, plaintext, &tag);
    } else {
        const std::string_view all(cek.s);
        ct = run_cipher(e, true, all.substr(e.cek_bytes / 2), iv, header_b64, plaintext, nullptr);
        if (ct) {
            auto t = cbc_hmac_tag(e, all.substr(0, e.cek_bytes / 2), header_b64, iv, *ct);
            if (!t)
                return std::move(t).error();
            tag = std::move(*t);
        }
    }
    if (!ct)
        return std::move(ct).error();
    return header_b64 + "." + base64url_encode(ek) + "." + base64url_encode(iv) + "." +
           base64url_encode(*ct) + "." + base64url_encode(tag);
}

} // namespace psc
