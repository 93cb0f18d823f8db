// SPDX-License-Identifier: LGPL-2.1-or-later
#include "jws.hpp"

#include "base64url.hpp"
#include "file_io.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

namespace psc {
namespace {

enum class Kind { rsa, pss, ecdsa, eddsa, hmac };

struct AlgInfo {
    JwsAlg alg;
    std::string_view name;
    Kind kind;
    const char* md;          // digest name; nullptr for EdDSA (PureEdDSA hashes internally)
    std::size_t coord_bytes; // ECDSA: length of R and of S (RFC 7518 §3.4)
};

constexpr std::array kAlgs{
    AlgInfo{JwsAlg::RS256, "RS256", Kind::rsa, "SHA256", 0},
    AlgInfo{JwsAlg::RS384, "RS384", Kind::rsa, "SHA384", 0},
    AlgInfo{JwsAlg::RS512, "RS512", Kind::rsa, "SHA512", 0},
    AlgInfo{JwsAlg::PS256, "PS256", Kind::pss, "SHA256", 0},
    AlgInfo{JwsAlg::PS384, "PS384", Kind::pss, "SHA384", 0},
    AlgInfo{JwsAlg::PS512, "PS512", Kind::pss, "SHA512", 0},
    AlgInfo{JwsAlg::ES256, "ES256", Kind::ecdsa, "SHA256", 32},
    AlgInfo{JwsAlg::ES384, "ES384", Kind::ecdsa, "SHA384", 48},
    AlgInfo{JwsAlg::ES512, "ES512", Kind::ecdsa, "SHA512", 66},
    AlgInfo{JwsAlg::EdDSA, "EdDSA", Kind::eddsa, nullptr, 0},
    AlgInfo{JwsAlg::HS256, "HS256", Kind::hmac, "SHA256", 0},
    AlgInfo{JwsAlg::HS384, "HS384", Kind::hmac, "SHA384", 0},
    AlgInfo{JwsAlg::HS512, "HS512", Kind::hmac, "SHA512", 0},
};

const AlgInfo& info(JwsAlg alg) noexcept {
    for (const auto& a : kAlgs)
        if (a.alg == alg)
            return a;
    return kAlgs.front(); // unreachable: every enumerator is in the table
}

constexpr int kRsaMinBits = 2048;
constexpr std::size_t kPemMaxBytes = 64 * 1024;

Error bad(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

void openssl_free(unsigned char* p) noexcept {
    OPENSSL_free(p);
}

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// ---- ECDSA signature formats (RFC 7518 §3.4: R‖S, each left-padded to the coordinate size) ----

// The order n of a named curve. Building an EC_GROUP costs more than the ECDSA verification
// itself, so each curve's group is built once and kept for the life of the process.
const BIGNUM* curve_order(const char* curve) {
    using Group = Owned<EC_GROUP, EC_GROUP_free>;
    static const Group p256(EC_GROUP_new_by_curve_name_ex(nullptr, nullptr, NID_X9_62_prime256v1));
    static const Group p384(EC_GROUP_new_by_curve_name_ex(nullptr, nullptr, NID_secp384r1));
    static const Group p521(EC_GROUP_new_by_curve_name_ex(nullptr, nullptr, NID_secp521r1));
    const int nid = OBJ_sn2nid(curve);
    const Group& g = nid == NID_X9_62_prime256v1 ? p256 : nid == NID_secp384r1 ? p384 : p521;
    if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 && nid != NID_secp521r1)
        return nullptr;
    return g ? EC_GROUP_get0_order(g.get()) : nullptr;
}

Result<std::string> ecdsa_raw_to_der(std::string_view raw, std::size_t coord, const char* curve) {
    if (raw.size() != 2 * coord)
        return bad("jws_signature_length", "ECDSA signature must be " + std::to_string(2 * coord) +
                                               " bytes, got " + std::to_string(raw.size()));
    BignumPtr r(BN_bin2bn(bytes(raw), static_cast<int>(coord), nullptr));
    BignumPtr s(BN_bin2bn(bytes(raw) + coord, static_cast<int>(coord), nullptr));
    const BIGNUM* order = curve_order(curve);
    if (!r || !s || !order)
        return make_error(Errc::internal, "jws_openssl", "cannot allocate ECDSA numbers");
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 verified in some libraries. Refuse any
    // r or s outside [1, n-1] before OpenSSL sees it.
    for (const BIGNUM* v : {r.get(), s.get()})
        if (BN_is_zero(v) || BN_cmp(v, order) >= 0)
            return bad("jws_bad_signature", "ECDSA r or s out of range");
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        return make_error(Errc::internal, "jws_openssl", "cannot build ECDSA signature");
    (void)r.release(); // now owned by sig
    (void)s.release();
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(sig.get(), &der);
    if (len <= 0)
        return make_error(Errc::internal, "jws_openssl", "cannot encode ECDSA signature");
    Owned<unsigned char, openssl_free> owner(der);
    return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
}

Result<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t coord) {
    const unsigned char* p = bytes(der);
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig)
        return make_error(Errc::internal, "jws_sign_openssl", "cannot decode ECDSA signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string raw(2 * coord, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, static_cast<int>(coord)) < 0 ||
        BN_bn2binpad(s, out + coord, static_cast<int>(coord)) < 0)
        return make_error(Errc::internal, "jws_sign_openssl", "ECDSA value too large");
    return raw;
}

// ---- Key/alg fit ----

const char* ec_curve_name(JwsAlg alg) noexcept {
    switch (alg) {
    case JwsAlg::ES256:
        return "prime256v1";
    case JwsAlg::ES384:
        return "secp384r1";
    case JwsAlg::ES512:
        return "secp521r1";
    default:
        return "";
    }
}

// Whether an EVP_PKEY (public or private) has the type/curve alg needs. RSA size is checked apart.
bool pkey_fits(const EVP_PKEY* key, JwsAlg alg) {
    switch (info(alg).kind) {
    case Kind::rsa:
    case Kind::pss:
        return EVP_PKEY_is_a(key, "RSA") == 1;
    case Kind::eddsa:
        return EVP_PKEY_is_a(key, "ED25519") == 1;
    case Kind::ecdsa: {
        if (EVP_PKEY_is_a(key, "EC") != 1)
            return false;
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &len) != 1)
            return false;
        return OBJ_sn2nid(group) == OBJ_sn2nid(ec_curve_name(alg));
    }
    case Kind::hmac:
        return false;
    }
    return false;
}

// ---- Primitive operations ----

Status configure_pss(EVP_PKEY_CTX* pctx, Kind kind) {
    if (kind != Kind::pss)
        return {};
    // RFC 7518 §3.5: MGF1 with the same hash, salt length = hash length.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
        return make_error(Errc::internal, "jws_openssl", "cannot configure RSA-PSS");
    return {};
}

Result<std::string> hmac(JwsAlg alg, std::string_view key, std::string_view input) {
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t out_len = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, info(alg).md, nullptr, key.data(), key.size(),
                   bytes(input), input.size(), out, sizeof out, &out_len))
        return make_error(Errc::internal, "jws_openssl", "HMAC failed");
    std::string mac(reinterpret_cast<const char*>(out), out_len);
    secure_wipe(out, sizeof out);
    return mac;
}

Status verify_hmac(JwsAlg alg, const Secret& secret, std::string_view input, std::string_view sig) {
    auto mac = hmac(alg, secret.view(), input);
    if (!mac)
        return std::move(mac).error();
    const bool same =
        mac->size() == sig.size() && CRYPTO_memcmp(mac->data(), sig.data(), sig.size()) == 0;
    secure_wipe(*mac);
    if (!same)
        return bad("jws_bad_signature", "HMAC does not match");
    return {};
}

// An EVP_MD_CTX ready to verify `alg` with `jwk`, set up on first use and kept in the key.
EVP_MD_CTX* verify_template(const Jwk& jwk, JwsAlg alg) {
    for (const auto& [a, ctx] : jwk.verify_templates)
        if (a == static_cast<int>(alg))
            return ctx.get();
    const AlgInfo& a = info(alg);
    EvpMdCtxPtr md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr; // owned by md
    if (!md ||
        EVP_DigestVerifyInit_ex(md.get(), &pctx, a.md, nullptr, nullptr, jwk.key.get(), nullptr) !=
            1 ||
        !configure_pss(pctx, a.kind).ok())
        return nullptr;
    jwk.verify_templates.emplace_back(static_cast<int>(alg), std::move(md));
    return jwk.verify_templates.back().second.get();
}

Status verify_asym(JwsAlg alg, const Jwk& jwk, std::string_view input, std::string_view sig) {
    const AlgInfo& a = info(alg);
    EVP_PKEY* key = jwk.key.get();
    std::string der;
    if (a.kind == Kind::ecdsa) {
        auto d = ecdsa_raw_to_der(sig, a.coord_bytes, ec_curve_name(alg));
        if (!d)
            return std::move(d).error();
        der = std::move(*d);
        sig = der;
    } else if (a.kind != Kind::eddsa &&
               sig.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) {
        // RFC 7518 §3.3: the signature is exactly k octets (k = modulus length).
        return bad("jws_signature_length", "RSA signature length differs from the modulus length");
    } else if (a.kind == Kind::eddsa && sig.size() != 64) {
        return bad("jws_signature_length", "Ed25519 signature must be 64 bytes");
    }
    EVP_MD_CTX* tmpl = verify_template(jwk, alg);
    EvpMdCtxPtr md(EVP_MD_CTX_new());
    if (!tmpl || !md || EVP_MD_CTX_copy_ex(md.get(), tmpl) != 1)
        return make_error(Errc::internal, "jws_openssl", "cannot initialise verification");
    if (EVP_DigestVerify(md.get(), bytes(sig), sig.size(), bytes(input), input.size()) != 1)
        return bad("jws_bad_signature", std::string(a.name) + " signature does not verify");
    return {};
}

// ---- Header checks ----

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

Result<JwsAlg> header_alg(const json_object* header, const JwsVerifyPolicy& policy) {
    auto name = json_get_string(header, "alg");
    if (!name)
        return bad("jws_alg_unknown", "header \"alg\" is not a string");
    if (!name->has_value())
        return bad("jws_alg_missing", "header has no \"alg\"");
    const std::string_view n = **name;
    if (iequals(n, "none"))
        return bad("jws_alg_none", "unsigned tokens (alg none) are never accepted");
    auto alg = jws_alg_from_name(n);
    if (!alg)
        return bad("jws_alg_unknown", "unknown alg \"" + strip_control(n.substr(0, 32)) + "\"");
    if (std::find(policy.allowed_algs.begin(), policy.allowed_algs.end(), *alg) ==
        policy.allowed_algs.end())
        return bad("jws_alg_not_allowed", "alg " + std::string(n) + " is not in the allowed list");
    if (jws_alg_is_hmac(*alg) && (!policy.hmac_secret || policy.hmac_secret->empty()))
        return bad("jws_hmac_no_secret", "alg " + std::string(n) + " needs a configured secret");
    return *alg;
}

// RFC 7515 §4.1.11: crit lists extensions the recipient must understand. We understand none, so any
// well-formed crit is a rejection; a malformed one (not a non-empty array of strings) too.
Status check_crit(const json_object* header) {
    json_object* crit = json_member(header, "crit");
    if (!crit)
        return {};
    auto list = json_get_string_array(header, "crit");
    if (!list || !list->has_value() || (*list)->empty())
        return bad("jws_crit_malformed", "header \"crit\" must be a non-empty array of strings");
    return bad("jws_crit_unsupported", "critical header extension \"" +
                                           strip_control((*list)->front().substr(0, 32)) +
                                           "\" is not supported");
}

// RFC 7515 §4.1.9/RFC 7519 §5.1: "JWT" (media type application/jwt), compared case-insensitively.
Status check_typ(const json_object* header, bool logout_typ) {
    auto typ = json_get_string(header, "typ");
    if (!typ)
        return bad("jws_typ", "header \"typ\" is not a string");
    if (typ->has_value() && logout_typ &&
        (iequals(**typ, "logout+jwt") || iequals(**typ, "application/logout+jwt")))
        return {};
    if (typ->has_value() && !iequals(**typ, "JWT") && !iequals(**typ, "application/jwt"))
        return bad("jws_typ",
                   "header \"typ\" is \"" + strip_control((*typ)->substr(0, 32)) + "\", not JWT");
    return {};
}

// ---- Key selection (design §3) ----

Result<std::vector<const Jwk*>> candidate_keys(const JwkSet& set, JwsAlg alg,
                                               const std::optional<std::string_view>& kid) {
    std::vector<const Jwk*> out;
    if (kid) {
        bool kid_seen = false;
        for (const auto& k : set.keys)
            if (k && k->kid == *kid) {
                kid_seen = true;
                if (jwk_fits_alg(*k, alg))
                    out.push_back(k.get());
            }
        if (!kid_seen)
            return bad("jws_unknown_kid",
                       "no key with kid \"" + strip_control(kid->substr(0, 64)) + "\"");
        if (out.empty())
            return bad("jws_key_alg_mismatch", "key \"" + strip_control(kid->substr(0, 64)) +
                                                   "\" cannot verify " +
                                                   std::string(jws_alg_name(alg)));
        return out;
    }
    for (const auto& k : set.keys)
        if (k && jwk_fits_alg(*k, alg))
            out.push_back(k.get());
    if (out.empty())
        return bad("jws_no_usable_key", "no key can verify " + std::string(jws_alg_name(alg)));
    if (out.size() > 1)
        return bad("jws_kid_ambiguous",
                   "token has no kid and " + std::to_string(out.size()) + " keys could verify it");
    return out;
}

struct Parts {
    std::string_view header, payload, signature;
};

Result<Parts> split_compact(std::string_view compact) {
    const auto d1 = compact.find('.');
    const auto d2 = d1 == std::string_view::npos ? d1 : compact.find('.', d1 + 1);
    if (d2 == std::string_view::npos || compact.find('.', d2 + 1) != std::string_view::npos)
        return bad("jws_format", "a compact JWS has exactly three parts");
    Parts p{compact.substr(0, d1), compact.substr(d1 + 1, d2 - d1 - 1), compact.substr(d2 + 1)};
    if (p.header.empty() || p.signature.empty())
        return bad("jws_format", "empty JWS header or signature");
    return p;
}

Result<std::string> decode_part(std::string_view part, const char* what) {
    auto r = base64url_decode(part);
    if (!r)
        return bad("jws_base64", std::string("JWS ") + what + ": " + r.error().message);
    return r;
}

Status verify_signature(JwsAlg alg, const std::vector<const Jwk*>& keys, std::string_view input,
                        std::string_view sig) {
    Status last = bad("jws_bad_signature", "no key verified the signature");
    for (const Jwk* k : keys) {
        last = verify_asym(alg, *k, input, sig);
        if (last.ok() || last.error().reason != "jws_bad_signature")
            return last;
    }
    return last;
}

} // namespace

std::optional<JwsAlg> jws_alg_from_name(std::string_view name) noexcept {
    for (const auto& a : kAlgs)
        if (a.name == name)
            return a.alg;
    return std::nullopt;
}

std::string_view jws_alg_name(JwsAlg alg) noexcept {
    return info(alg).name;
}

bool jws_alg_is_hmac(JwsAlg alg) noexcept {
    return info(alg).kind == Kind::hmac;
}

Result<std::vector<JwsAlg>> parse_alg_list(std::string_view space_separated) {
    std::vector<JwsAlg> out;
    for (const auto& name : split_ws(space_separated)) {
        auto alg = jws_alg_from_name(name);
        if (!alg)
            return make_error(Errc::config, "alg_unknown",
                              "\"" + strip_control(name) + "\" is not a supported JWS algorithm");
        if (std::find(out.begin(), out.end(), *alg) != out.end())
            return make_error(Errc::config, "alg_duplicate", name + " is listed twice");
        out.push_back(*alg);
    }
    if (out.empty())
        return make_error(Errc::config, "alg_list_empty", "no JWS algorithm allowed");
    return out;
}

static Result<VerifiedJws> jws_verify_nested(std::string_view compact, const JwkSet& keys,
                                      const JwsVerifyPolicy& policy) {
    // Base64url of the inner JWS plus the encrypted key, IV and tag: twice the JWS limit.
    if (compact.size() > 2 * policy.max_bytes)
        return bad("jws_too_large", "encrypted token of " + std::to_string(compact.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(2 * policy.max_bytes));
    if (!policy.decryption)
        return bad("jwe_no_key", "the provider sent an encrypted token but no "
                                 "id_token_decryption_key is configured");
    auto d = jwe_decrypt(compact, *policy.decryption);
    if (!d)
        return std::move(d).error();
    const std::string_view inner = trim(d->plaintext);
    if (is_compact_jwe(inner))
        return bad("jwe_nested", "an encrypted token inside an encrypted token");
    if (inner.empty() || inner.front() == '{' || std::count(inner.begin(), inner.end(), '.') != 2)
        return bad("jwe_not_signed", "the encrypted token holds no signed JWT: an encrypted but "
                                     "unsigned token is never accepted");
    auto v = jws_verify(inner, keys, policy);
    if (!v)
        return std::move(v).error();
    v->signed_compact = std::string(inner);
    v->jwe_alg = std::string(jwe_alg_name(d->alg));
    v->jwe_enc = std::string(jwe_enc_name(d->enc));
    return v;
}

Result<VerifiedJws> jws_verify(std::string_view compact, const JwkSet& keys,
                               const JwsVerifyPolicy& policy) {
    if (is_compact_jwe(compact))
        return jws_verify_nested(compact, keys, policy);
    // Size first: nothing of an oversized token is decoded or parsed (design §9).
    if (compact.size() > policy.max_bytes)
        return bad("jws_too_large", "token of " + std::to_string(compact.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(policy.max_bytes));
    auto parts = split_compact(compact);
    if (!parts)
        return std::move(parts).error();
    auto header_text = decode_part(parts->header, "header");
    if (!header_text)
        return std::move(header_text).error();
    auto header = json_parse_object(*header_text, JsonLimits{policy.max_bytes, 8});
    if (!header)
        return bad("jws_header_json", "JWS header: " + header.error().describe());
    auto alg = header_alg(header->get(), policy);
    if (!alg)
        return std::move(alg).error();
    PSC_TRY(check_crit(header->get()));
    PSC_TRY(check_typ(header->get(), policy.logout_typ));
    auto kid = json_get_string(header->get(), "kid");
    if (!kid)
        return bad("jws_kid_type", "header \"kid\" is not a string");
    auto payload = decode_part(parts->payload, "payload");
    if (!payload)
        return std::move(payload).error();
    auto sig = decode_part(parts->signature, "signature");
    if (!sig)
        return std::move(sig).error();
    const std::string_view input =
        compact.substr(0, parts->header.size() + 1 + parts->payload.size());
    if (jws_alg_is_hmac(*alg)) {
        PSC_TRY(verify_hmac(*alg, *policy.hmac_secret, input, *sig));
    } else {
        auto cands = candidate_keys(keys, *alg, *kid);
        if (!cands)
            return std::move(cands).error();
        PSC_TRY(verify_signature(*alg, *cands, input, *sig));
    }
    VerifiedJws out;
    out.kid = kid->has_value() ? std::string(**kid) : std::string();
    out.header = std::move(*header);
    out.payload = std::move(*payload);
    out.alg = *alg;
    return out;
}

// ---- Signing ----

Result<std::string> jws_signature(const JwsSigningKey& key, std::string_view input) {
    const AlgInfo& a = info(key.alg);
    if (a.kind == Kind::hmac) {
        if (key.hmac.empty())
            return make_error(Errc::config, "jws_sign_key", "empty HMAC key");
        return hmac(key.alg, key.hmac.view(), input);
    }
    if (!key.key || !pkey_fits(key.key.get(), key.alg))
        return make_error(Errc::config, "jws_sign_key",
                          "the private key cannot sign " + std::string(a.name));
    EvpMdCtxPtr md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr; // owned by md
    if (!md ||
        EVP_DigestSignInit_ex(md.get(), &pctx, a.md, nullptr, nullptr, key.key.get(), nullptr) != 1)
        return make_error(Errc::internal, "jws_sign_openssl", "cannot initialise signing");
    PSC_TRY(configure_pss(pctx, a.kind));
    std::size_t len = 0;
    if (EVP_DigestSign(md.get(), nullptr, &len, bytes(input), input.size()) != 1)
        return make_error(Errc::internal, "jws_sign_openssl", "cannot size the signature");
    std::string sig(len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(input),
                       input.size()) != 1)
        return make_error(Errc::internal, "jws_sign_openssl", "signing failed");
    sig.resize(len);
    if (a.kind == Kind::ecdsa)
        return ecdsa_der_to_raw(sig, a.coord_bytes);
    return sig;
}

Result<std::string> jws_sign(const JwsSigningKey& key, std::string_view payload_json,
                             json_object* extra_header) {
    if ((info(key.alg).kind == Kind::rsa || info(key.alg).kind == Kind::pss) && key.key &&
        EVP_PKEY_get_bits(key.key.get()) < kRsaMinBits)
        return make_error(Errc::config, "jws_sign_key", "RSA signing key under 2048 bits");
    JsonPtr header(json_object_new_object());
    if (!header)
        return make_error(Errc::internal, "oom", "cannot allocate JWS header");
    if (extra_header && json_object_is_type(extra_header, json_type_object)) {
        json_object_object_foreach(extra_header, name, value) {
            if (std::string_view(name) != "alg" && std::string_view(name) != "kid")
                json_object_object_add(header.get(), name, json_object_get(value));
        }
    }
    const std::string_view alg_name = jws_alg_name(key.alg);
    json_object_object_add(
        header.get(), "alg",
        json_object_new_string_len(alg_name.data(), static_cast<int>(alg_name.size())));
    if (!key.kid.empty())
        json_object_object_add(header.get(), "kid", json_object_new_string(key.kid.c_str()));
    std::string input =
        base64url_encode(json_to_string(header.get())) + "." + base64url_encode(payload_json);
    auto sig = jws_signature(key, input);
    if (!sig)
        return std::move(sig).error();
    return input + "." + base64url_encode(*sig);
}

Result<JwsSigningKey> signing_key_from_pem(std::string_view pem, std::optional<JwsAlg> alg,
                                           std::string kid) {
    if (pem.size() > kPemMaxBytes)
        return make_error(Errc::config, "signing_key_pem", "PEM key too large");
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    // A passphrase callback that refuses: the daemon has no terminal to prompt on, and OpenSSL's
    // default callback would try to read one.
    pem_password_cb* no_passphrase = [](char*, int, int, void*) noexcept -> int { return -1; };
    EvpPkeyPtr pkey(bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_passphrase, nullptr,
                                                     nullptr, nullptr)
                        : nullptr);
    if (!pkey)
        return make_error(Errc::config, "signing_key_pem", "not an unencrypted PEM private key");
    JwsSigningKey key;
    if (alg) {
        key.alg = *alg;
    } else if (EVP_PKEY_is_a(pkey.get(), "RSA") == 1) {
        key.alg = JwsAlg::RS256;
    } else if (EVP_PKEY_is_a(pkey.get(), "ED25519") == 1) {
        key.alg = JwsAlg::EdDSA;
    } else {
        key.alg = JwsAlg::ES256;
        for (JwsAlg es : {JwsAlg::ES384, JwsAlg::ES512})
            if (pkey_fits(pkey.get(), es))
                key.alg = es;
    }
    if (jws_alg_is_hmac(key.alg) || !pkey_fits(pkey.get(), key.alg))
        return make_error(Errc::config, "jws_sign_key",
                          "the PEM key cannot sign " + std::string(jws_alg_name(key.alg)));
    if (EVP_PKEY_is_a(pkey.get(), "RSA") == 1 && EVP_PKEY_get_bits(pkey.get()) < kRsaMinBits)
        return make_error(Errc::config, "jws_sign_key", "RSA signing key under 2048 bits");
    key.key = std::move(pkey);
    key.kid = std::move(kid);
    return key;
}

Result<JwsSigningKey> load_signing_key_pem(const std::string& path, std::optional<JwsAlg> alg,
                                           std::string kid) {
    FileRules rules;
    rules.max_bytes = kPemMaxBytes;
    rules.required_owner = static_cast<long>(::geteuid());
    rules.refuse_group_world_writable = true;
    rules.refuse_group_world_readable = true;
    auto pem = read_secret_file(path, rules);
    if (!pem)
        return std::move(pem).error();
    return signing_key_from_pem(pem->view(), alg, std::move(kid));
}

} // namespace psc
