// SPDX-License-Identifier: LGPL-2.1-or-later
#include "signer.hpp"

#include "base64url.hpp"
#include "json.hpp"
#include "keys.hpp"
#include "random.hpp"

namespace psc::mock {

namespace {

using testkeys::KeyType;

void add(json_object* obj, const char* key, std::string_view v) {
    json_object_object_add(obj, key,
                           json_object_new_string_len(v.data(), static_cast<int>(v.size())));
}

std::string header_json(std::string_view alg, std::string_view kid, std::string_view typ) {
    JsonPtr h(json_object_new_object());
    add(h.get(), "alg", alg);
    add(h.get(), "typ", typ);
    if (!kid.empty())
        add(h.get(), "kid", kid);
    return json_to_string(h.get());
}

// A valid JWS whose signature then has one bit flipped: well-formed, same length, wrong.
Result<std::string> flip_signature(std::string jws) {
    const auto dot = jws.rfind('.');
    auto sig = base64url_decode(std::string_view(jws).substr(dot + 1));
    if (!sig || sig->empty())
        return make_error(Errc::internal, "forgery", "cannot decode own signature");
    (*sig)[sig->size() / 2] = static_cast<char>((*sig)[sig->size() / 2] ^ 0x01);
    return jws.substr(0, dot + 1) + base64url_encode(*sig);
}

} // namespace

Result<Signer> Signer::create(bool es256) {
    Signer s;
    s.es256_ = es256;
    auto enc_kid = random_token(32);
    if (!enc_kid)
        return std::move(enc_kid).error();
    s.enc_kid_ = *enc_kid;
    // EC rather than Keycloak's RSA-OAEP key: RSA generation would double the start-up time.
    s.enc_key_ = testkeys::generate_key(KeyType::P256);
    PSC_TRY(s.rotate());
    return s;
}

Status Signer::rotate() {
    auto kid = random_token(32); // Keycloak kids are opaque 43-character strings
    if (!kid)
        return std::move(kid).error();
    EvpPkeyPtr key = testkeys::generate_key(es256_ ? KeyType::P256 : KeyType::RSA2048);
    key_ = testkeys::signing_key(key.get(), es256_ ? JwsAlg::ES256 : JwsAlg::RS256, *kid);
    return {};
}

std::string Signer::jwks_json() const {
    const std::string alg(jws_alg_name(key_.alg));
    return testkeys::jwks_json({
        testkeys::public_jwk_json(key_.key.get(), {key_.kid, alg, "sig"}),
        testkeys::public_jwk_json(enc_key_.get(), {enc_kid_, "ECDH-ES", "enc"}),
    });
}

Result<JwkSet> Signer::public_keys() const {
    return parse_jwks(jwks_json());
}

Result<std::string> Signer::sign(std::string_view payload_json, std::string_view typ,
                                 Forgery forgery) const {
    const std::string alg(jws_alg_name(key_.alg));
    switch (forgery) {
    case Forgery::alg_none: // RFC 7518 §3.6: empty signature
        return testkeys::assemble(header_json("none", "", typ), payload_json, "");
    case Forgery::hs256_with_public_key: {
        // The classic key confusion: HMAC keyed with the PEM text of the published public key.
        const auto hmac =
            testkeys::hmac_signing_key(JwsAlg::HS256, testkeys::public_key_pem(key_.key.get()));
        return testkeys::mint(header_json("HS256", key_.kid, typ), payload_json, hmac);
    }
    case Forgery::unknown_kid: {
        auto other = random_token(32);
        if (!other)
            return std::move(other).error();
        return testkeys::mint(header_json(alg, *other, typ), payload_json, key_);
    }
    case Forgery::bad_signature:
    case Forgery::none:
        break;
    }
    JsonPtr extra(json_object_new_object());
    add(extra.get(), "typ", typ);
    auto jws = jws_sign(key_, payload_json, extra.get());
    if (!jws || forgery != Forgery::bad_signature)
        return jws;
    return flip_signature(std::move(*jws));
}

} // namespace psc::mock
