// SPDX-License-Identifier: LGPL-2.1-or-later
#include "jwk.hpp"

#include "base64url.hpp"
#include "jws.hpp"

#include <array>
#include <openssl/core_names.h>

namespace psc {
namespace {

constexpr int kRsaMinBits = 2048;  // design §3
constexpr int kRsaMaxBits = 16384; // verification cost grows with n; nobody publishes more
constexpr std::size_t kRsaMaxExponentBytes = 8;

Error jwk_error(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

// A required base64url member, decoded.
Result<std::string> b64_member(const json_object* jwk, const char* name) {
    auto s = json_get_string(jwk, name);
    if (!s)
        return jwk_error("jwk_member", std::string("\"") + name + "\" is not a string");
    if (!s->has_value())
        return jwk_error("jwk_member", std::string("\"") + name + "\" is missing");
    auto bytes = base64url_decode(**s);
    if (!bytes)
        return jwk_error("jwk_member",
                         std::string("\"") + name +
                             "\" is not canonical base64url: " + bytes.error().message);
    return bytes;
}

// An optional string member; wrong type is an error.
Result<std::string> opt_string(const json_object* jwk, const char* name) {
    auto s = json_get_string(jwk, name);
    if (!s)
        return jwk_error("jwk_member", std::string("\"") + name + "\" is not a string");
    return s->has_value() ? std::string(**s) : std::string();
}

Result<EvpPkeyPtr> pkey_fromdata(const char* type, OSSL_PARAM_BLD* bld) {
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return jwk_error("jwk_openssl", std::string("OpenSSL refused the ") + type + " key");
    return EvpPkeyPtr(raw);
}

Result<EvpPkeyPtr> rsa_key(const json_object* obj, int& bits) {
    auto n = b64_member(obj, "n");
    if (!n)
        return std::move(n).error();
    auto e = b64_member(obj, "e");
    if (!e)
        return std::move(e).error();
    BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                             static_cast<int>(n->size()), nullptr));
    BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                             static_cast<int>(e->size()), nullptr));
    if (!bn_n || !bn_e)
        return jwk_error("jwk_openssl", "cannot allocate RSA numbers");
    bits = BN_num_bits(bn_n.get());
    if (bits < kRsaMinBits)
        return jwk_error("jwk_rsa_too_small", "RSA key of " + std::to_string(bits) +
                                                  " bits (minimum " + std::to_string(kRsaMinBits) +
                                                  ")");
    if (bits > kRsaMaxBits)
        return jwk_error("jwk_rsa_too_large", "RSA key of " + std::to_string(bits) + " bits");
    // An even or tiny exponent is not a usable RSA public key (e = 1 makes every signature valid).
    if (e->size() > kRsaMaxExponentBytes || !BN_is_odd(bn_e.get()) ||
        BN_cmp(bn_e.get(), BN_value_one()) <= 0)
        return jwk_error("jwk_rsa_exponent", "unusable RSA public exponent");
    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return jwk_error("jwk_openssl", "cannot build RSA parameters");
    return pkey_fromdata("RSA", bld.get());
}

struct Curve {
    std::string_view jose;
    const char* group;
    std::size_t coord_bytes;
    int bits;
};
constexpr std::array kCurves{
    Curve{"P-256", "prime256v1", 32, 256},
    Curve{"P-384", "secp384r1", 48, 384},
    Curve{"P-521", "secp521r1", 66, 521},
};

// OpenSSL decodes the point with EC_POINT_oct2point, which refuses points off the curve; the
// explicit public check below also refuses the point at infinity and small-subgroup points.
Result<EvpPkeyPtr> ec_key(const json_object* obj, const std::string& crv, int& bits) {
    const Curve* curve = nullptr;
    for (const auto& c : kCurves)
        if (c.jose == crv)
            curve = &c;
    if (!curve)
        return jwk_error("jwk_ec_curve_unsupported", "EC curve \"" + crv + "\" is not supported");
    auto x = b64_member(obj, "x");
    if (!x)
        return std::move(x).error();
    auto y = b64_member(obj, "y");
    if (!y)
        return std::move(y).error();
    // RFC 7518 §6.2.1.2: the coordinate is the full-length octet string, leading zeros included.
    if (x->size() != curve->coord_bytes || y->size() != curve->coord_bytes)
        return jwk_error("jwk_ec_coordinate_length", crv + " coordinates must be " +
                                                         std::to_string(curve->coord_bytes) +
                                                         " bytes");
    std::string point = "\x04" + *x + *y;
    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1)
        return jwk_error("jwk_openssl", "cannot build EC parameters");
    auto key = pkey_fromdata("EC", bld.get());
    if (!key)
        return jwk_error("jwk_ec_point_not_on_curve", "the point is not on " + crv);
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
        return jwk_error("jwk_ec_point_not_on_curve", "the point is not a valid " + crv + " key");
    bits = curve->bits;
    return key;
}

Result<EvpPkeyPtr> okp_key(const json_object* obj, const std::string& crv, int& bits) {
    if (crv != "Ed25519") // RFC 8037; Ed448 and X25519/X448 are not used for ID tokens
        return jwk_error("jwk_okp_curve_unsupported", "OKP curve \"" + crv + "\" is not supported");
    auto x = b64_member(obj, "x");
    if (!x)
        return std::move(x).error();
    if (x->size() != 32)
        return jwk_error("jwk_okp_length", "Ed25519 public key must be 32 bytes");
    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(),
                                                 x->size()) != 1)
        return jwk_error("jwk_openssl", "cannot build Ed25519 parameters");
    bits = 256;
    return pkey_fromdata("ED25519", bld.get());
}

// A JWKS is public: a key with private members was published by mistake, and using it would
// hide that mistake (RFC 7517 §9.1: keys must be protected from disclosure).
Status refuse_private_members(const json_object* obj) {
    for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
        if (json_member(obj, m))
            return jwk_error("jwk_private", std::string("private member \"") + m + "\" present");
    return {};
}

Status check_use_and_ops(const json_object* obj, const std::string& use) {
    if (!use.empty() && use != "sig")
        return jwk_error("jwk_use_not_sig", "\"use\" is \"" + use + "\", not \"sig\"");
    auto ops = json_get_string_array(obj, "key_ops");
    if (!ops)
        return jwk_error("jwk_member", "\"key_ops\" is not an array of strings");
    if (ops->has_value()) {
        for (const auto& op : **ops)
            if (op == "verify")
                return {};
        return jwk_error("jwk_key_ops", "\"key_ops\" does not allow \"verify\"");
    }
    return {};
}

bool alg_fits(JwsAlg alg, const std::string& kty, const std::string& crv) {
    switch (alg) {
    case JwsAlg::RS256:
    case JwsAlg::RS384:
    case JwsAlg::RS512:
    case JwsAlg::PS256:
    case JwsAlg::PS384:
    case JwsAlg::PS512:
        return kty == "RSA";
    case JwsAlg::ES256:
        return kty == "EC" && crv == "P-256";
    case JwsAlg::ES384:
        return kty == "EC" && crv == "P-384";
    case JwsAlg::ES512:
        return kty == "EC" && crv == "P-521";
    case JwsAlg::EdDSA:
        return kty == "OKP" && crv == "Ed25519";
    case JwsAlg::HS256:
    case JwsAlg::HS384:
    case JwsAlg::HS512:
        return false; // symmetric keys never come from a JWKS
    }
    return false;
}

Status check_alg(const Jwk& k) {
    if (k.alg.empty())
        return {};
    auto alg = jws_alg_from_name(k.alg);
    if (!alg)
        return jwk_error("jwk_alg_unsupported", "\"alg\" \"" + k.alg + "\" is not supported");
    if (!alg_fits(*alg, k.kty, k.crv))
        return jwk_error("jwk_alg_mismatch", "\"alg\" " + k.alg + " does not fit a " + k.kty +
                                                 (k.crv.empty() ? "" : " " + k.crv) + " key");
    return {};
}

Result<EvpPkeyPtr> build_key(const json_object* obj, Jwk& k) {
    if (k.kty == "RSA")
        return rsa_key(obj, k.bits);
    if (k.kty == "EC")
        return ec_key(obj, k.crv, k.bits);
    if (k.kty == "OKP")
        return okp_key(obj, k.crv, k.bits);
    return jwk_error("jwk_kty_unsupported", "key type \"" + k.kty + "\" is not supported");
}

std::string skipped_line(std::size_t index, const json_object* obj, const Error& e) {
    std::string line = "key #" + std::to_string(index);
    auto kid = json_get_string(obj, "kid");
    if (kid && kid->has_value())
        line += " (kid \"" + std::string((*kid)->substr(0, 64)) + "\")";
    return line + ": " + e.describe();
}

} // namespace

Result<Jwk> parse_jwk(const json_object* obj) {
    if (!obj || !json_object_is_type(obj, json_type_object))
        return jwk_error("jwk_not_object", "a JWK must be a JSON object");
    Jwk k;
    auto kty = opt_string(obj, "kty");
    if (!kty)
        return std::move(kty).error();
    if (kty->empty())
        return jwk_error("jwk_kty_missing", "\"kty\" is missing");
    k.kty = std::move(*kty);
    PSC_TRY(refuse_private_members(obj));
    for (auto [field, name] : {std::pair{&k.kid, "kid"}, std::pair{&k.alg, "alg"},
                               std::pair{&k.use, "use"}, std::pair{&k.crv, "crv"}}) {
        auto v = opt_string(obj, name);
        if (!v)
            return std::move(v).error();
        *field = std::move(*v);
    }
    if (k.kty == "RSA")
        k.crv.clear();
    PSC_TRY(check_use_and_ops(obj, k.use));
    auto key = build_key(obj, k);
    if (!key)
        return std::move(key).error();
    k.key = std::move(*key);
    PSC_TRY(check_alg(k));
    return k;
}

Result<JwkSet> parse_jwks(std::string_view json, const JsonLimits& limits) {
    JsonLimits lim = limits;
    lim.max_bytes = std::min(lim.max_bytes, kJwksMaxBytes);
    if (json.size() > lim.max_bytes)
        return make_error(Errc::invalid, "jwks_too_large",
                          "JWKS of " + std::to_string(json.size()) +
                              " bytes exceeds the limit of " + std::to_string(lim.max_bytes));
    auto doc = json_parse_object(json, lim);
    if (!doc)
        return make_error(Errc::invalid, "jwks_json", "JWKS: " + doc.error().describe());
    json_object* keys = json_member(doc->get(), "keys");
    if (!keys || !json_object_is_type(keys, json_type_array))
        return make_error(Errc::invalid, "jwks_keys_missing", "JWKS has no \"keys\" array");
    const std::size_t n = json_object_array_length(keys);
    if (n > kJwksMaxKeys)
        return make_error(Errc::invalid, "jwks_too_many_keys",
                          "JWKS has " + std::to_string(n) + " keys (limit " +
                              std::to_string(kJwksMaxKeys) + ")");
    JwkSet set;
    for (std::size_t i = 0; i < n; ++i) {
        const json_object* obj = json_object_array_get_idx(keys, i);
        auto k = parse_jwk(obj);
        if (k)
            set.keys.push_back(std::make_shared<const Jwk>(std::move(*k)));
        else
            set.skipped.push_back(skipped_line(i, obj, k.error()));
    }
    if (set.keys.empty())
        return make_error(Errc::invalid, "jwks_no_usable_key",
                          "JWKS has no usable signature key (" + std::to_string(n) + " skipped)");
    return set;
}

JwkSet jwk_set_of(Jwk key) {
    JwkSet set;
    set.keys.push_back(std::make_shared<const Jwk>(std::move(key)));
    return set;
}

bool jwk_fits_alg(const Jwk& key, JwsAlg alg) noexcept {
    if (!alg_fits(alg, key.kty, key.crv))
        return false;
    if (!key.alg.empty() && key.alg != jws_alg_name(alg))
        return false;
    if (key.kty == "RSA" && key.bits < kRsaMinBits)
        return false;
    return key.key != nullptr;
}

} // namespace psc
