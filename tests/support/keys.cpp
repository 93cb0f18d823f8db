// SPDX-License-Identifier: LGPL-2.1-or-later
#include "keys.hpp"

#include "base64url.hpp"
#include "json.hpp"

#include <cstdio>
#include <cstdlib>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace psc::testkeys {
namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "testkeys: %s failed\n", what);
    std::abort();
}

std::string bn_param(const EVP_PKEY* key, const char* name, std::size_t pad = 0) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1)
        die(name);
    BignumPtr bn(raw);
    const std::size_t len = pad ? pad : static_cast<std::size_t>(BN_num_bytes(bn.get()));
    std::string out(len, '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                     static_cast<int>(len)) < 0)
        die("BN_bn2binpad");
    return out;
}

void add_string(json_object* obj, const char* name, std::string_view value) {
    json_object_object_add(
        obj, name, json_object_new_string_len(value.data(), static_cast<int>(value.size())));
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::size_t ec_coord_bytes(const EVP_PKEY* key) {
    return static_cast<std::size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
}

const char* ec_crv(const EVP_PKEY* key) {
    switch (EVP_PKEY_get_bits(key)) {
    case 256:
        return "P-256";
    case 384:
        return "P-384";
    case 521:
        return "P-521";
    default:
        die("unknown EC curve");
    }
}

} // namespace

EvpPkeyPtr generate_key(KeyType type) {
    EVP_PKEY* k = nullptr;
    switch (type) {
    case KeyType::RSA1024:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
        break;
    case KeyType::RSA2048:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
        break;
    case KeyType::RSA3072:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(3072));
        break;
    case KeyType::P256:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        break;
    case KeyType::P384:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
        break;
    case KeyType::P521:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
        break;
    case KeyType::Ed25519:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    if (!k)
        die("key generation");
    return EvpPkeyPtr(k);
}

JwsAlg default_alg(const EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "RSA") == 1)
        return JwsAlg::RS256;
    if (EVP_PKEY_is_a(key, "ED25519") == 1)
        return JwsAlg::EdDSA;
    switch (EVP_PKEY_get_bits(key)) {
    case 384:
        return JwsAlg::ES384;
    case 521:
        return JwsAlg::ES512;
    default:
        return JwsAlg::ES256;
    }
}

std::string public_jwk_json(const EVP_PKEY* key, const JwkOptions& opts) {
    JsonPtr obj(json_object_new_object());
    if (EVP_PKEY_is_a(key, "RSA") == 1) {
        add_string(obj.get(), "kty", "RSA");
        add_string(obj.get(), "n", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N)));
        add_string(obj.get(), "e", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E)));
    } else if (EVP_PKEY_is_a(key, "ED25519") == 1) {
        unsigned char raw[32];
        std::size_t len = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1)
            die("EVP_PKEY_get_raw_public_key");
        add_string(obj.get(), "kty", "OKP");
        add_string(obj.get(), "crv", "Ed25519");
        add_string(obj.get(), "x", base64url_encode(raw, len));
    } else {
        const std::size_t coord = ec_coord_bytes(key);
        add_string(obj.get(), "kty", "EC");
        add_string(obj.get(), "crv", ec_crv(key));
        add_string(obj.get(), "x",
                   base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, coord)));
        add_string(obj.get(), "y",
                   base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, coord)));
    }
    if (!opts.kid.empty())
        add_string(obj.get(), "kid", opts.kid);
    if (!opts.alg.empty())
        add_string(obj.get(), "alg", opts.alg);
    if (!opts.use.empty())
        add_string(obj.get(), "use", opts.use);
    return json_to_string(obj.get());
}

std::string private_rsa_jwk_json(const EVP_PKEY* key, const JwkOptions& opts) {
    JsonPtr obj(json_object_new_object());
    add_string(obj.get(), "kty", "RSA");
    static constexpr std::pair<const char*, const char*> kMembers[] = {
        {"n", OSSL_PKEY_PARAM_RSA_N},
        {"e", OSSL_PKEY_PARAM_RSA_E},
        {"d", OSSL_PKEY_PARAM_RSA_D},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    for (const auto& [name, param] : kMembers)
        add_string(obj.get(), name, base64url_encode(bn_param(key, param)));
    if (!opts.kid.empty())
        add_string(obj.get(), "kid", opts.kid);
    if (!opts.alg.empty())
        add_string(obj.get(), "alg", opts.alg);
    if (!opts.use.empty())
        add_string(obj.get(), "use", opts.use);
    return json_to_string(obj.get());
}

std::string jwks_json(std::initializer_list<std::string> jwks) {
    std::string out = "{\"keys\":[";
    bool first = true;
    for (const auto& k : jwks) {
        if (!first)
            out += ",";
        out += k;
        first = false;
    }
    return out + "]}";
}

std::string public_key_pem(const EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
        die("PEM_write_bio_PUBKEY");
    return bio_contents(bio.get());
}

std::string public_key_der(const EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key, &der);
    if (len <= 0)
        die("i2d_PUBKEY");
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

std::string private_key_pem(const EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        die("PEM_write_bio_PrivateKey");
    return bio_contents(bio.get());
}

JwsSigningKey signing_key(const EVP_PKEY* key, JwsAlg alg, std::string kid) {
    JwsSigningKey k;
    k.alg = alg;
    k.key = evp_pkey_share(const_cast<EVP_PKEY*>(key));
    k.kid = std::move(kid);
    return k;
}

JwsSigningKey hmac_signing_key(JwsAlg alg, std::string_view secret, std::string kid) {
    JwsSigningKey k;
    k.alg = alg;
    k.hmac = Secret(secret);
    k.kid = std::move(kid);
    return k;
}

std::string assemble(std::string_view header_json, std::string_view claims_json,
                     std::string_view signature_bytes) {
    return base64url_encode(header_json) + "." + base64url_encode(claims_json) + "." +
           base64url_encode(signature_bytes);
}

std::string mint(std::string_view header_json, std::string_view claims_json,
                 const JwsSigningKey& key) {
    const std::string input = base64url_encode(header_json) + "." + base64url_encode(claims_json);
    auto sig = jws_signature(key, input);
    if (!sig) {
        std::fprintf(stderr, "testkeys: mint: %s\n", sig.error().describe().c_str());
        std::abort();
    }
    return input + "." + base64url_encode(*sig);
}

std::string mint_simple(std::string_view claims_json, const JwsSigningKey& key) {
    JsonPtr h(json_object_new_object());
    add_string(h.get(), "alg", jws_alg_name(key.alg));
    if (!key.kid.empty())
        add_string(h.get(), "kid", key.kid);
    add_string(h.get(), "typ", "JWT");
    return mint(json_to_string(h.get()), claims_json, key);
}

std::string with_member(std::string_view json, const char* name, std::string_view value_json) {
    auto obj = json_parse_object(json);
    if (!obj)
        die("with_member: parse object");
    JsonPtr value(json_tokener_parse(std::string(value_json).c_str()));
    if (!value && value_json != "null")
        die("with_member: parse value");
    json_object_object_add(obj->get(), name, value.release());
    return json_to_string(obj->get());
}

std::string without_member(std::string_view json, const char* name) {
    auto obj = json_parse_object(json);
    if (!obj)
        die("without_member: parse object");
    json_object_object_del(obj->get(), name);
    return json_to_string(obj->get());
}

std::string psc_claims(std::int64_t now, const ClaimsOptions& opts) {
    JsonPtr c(json_object_new_object());
    add_string(c.get(), "iss", opts.issuer);
    add_string(c.get(), "sub", opts.sub);
    add_string(c.get(), "aud", opts.client_id);
    json_object_object_add(c.get(), "exp", json_object_new_int64(now + opts.lifetime));
    json_object_object_add(c.get(), "iat", json_object_new_int64(now));
    json_object_object_add(c.get(), "auth_time", json_object_new_int64(now - 5));
    if (!opts.nonce.empty())
        add_string(c.get(), "nonce", opts.nonce);
    if (!opts.acr.empty())
        add_string(c.get(), "acr", opts.acr);
    add_string(c.get(), "azp", opts.client_id);
    add_string(c.get(), "preferred_username", opts.preferred_username);
    add_string(c.get(), "SubjectNameID", opts.preferred_username);
    add_string(c.get(), "typ", "ID");
    add_string(c.get(), "session_state", "3f1c7e5a-0d0e-4c59-9a0f-5b0d0b1e2c3d");
    return json_to_string(c.get());
}

} // namespace psc::testkeys
