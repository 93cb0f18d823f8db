// SPDX-License-Identifier: LGPL-2.1-or-later
// Test-only key material and token minting: keys are generated at test time (never checked in),
// published as JWK/JWKS, and tokens can be minted from arbitrary header/claims JSON so tests can
// forge every malformed or malicious shape a verifier must refuse. Used by the unit tests, the
// mock provider and the benchmarks. Failures here are test bugs: functions abort on error.
#pragma once

#include "jwk.hpp"
#include "jws.hpp"
#include "ssl_ptr.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace psc::testkeys {

enum class KeyType { RSA1024, RSA2048, RSA3072, P256, P384, P521, Ed25519 };

// A fresh private key (aborts on failure).
[[nodiscard]] EvpPkeyPtr generate_key(KeyType type);

// The default JWS alg for a key: RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519.
[[nodiscard]] JwsAlg default_alg(const EVP_PKEY* key);

struct JwkOptions {
    std::string kid;
    std::string alg; // "" → no alg member
    std::string use; // "" → no use member
};

// The public part of key as a JWK object (JSON text).
[[nodiscard]] std::string public_jwk_json(const EVP_PKEY* key, const JwkOptions& opts);
// An RSA private key as a JWK (n, e, d, p, q, dp, dq, qi): JWE decryption keys.
[[nodiscard]] std::string private_rsa_jwk_json(const EVP_PKEY* key, const JwkOptions& opts);
// {"keys":[...]} from JWK texts.
[[nodiscard]] std::string jwks_json(std::initializer_list<std::string> jwks);
// Public key as PEM (SubjectPublicKeyInfo) and DER, for the HS/RS key-confusion forgery.
[[nodiscard]] std::string public_key_pem(const EVP_PKEY* key);
[[nodiscard]] std::string public_key_der(const EVP_PKEY* key);
// Private key as unencrypted PKCS#8 PEM (for load_signing_key_pem tests / the mock provider).
[[nodiscard]] std::string private_key_pem(const EVP_PKEY* key);

// A signing key sharing key's EVP_PKEY.
[[nodiscard]] JwsSigningKey signing_key(const EVP_PKEY* key, JwsAlg alg, std::string kid);
[[nodiscard]] JwsSigningKey hmac_signing_key(JwsAlg alg, std::string_view secret,
                                             std::string kid = {});

// Signs claims_json with a header built from `header_json` (used verbatim: the caller chooses
// alg/kid/crit/…). Signature computed with `key` for the alg given (which need not match the
// header, so tests can forge). Aborts on failure.
[[nodiscard]] std::string mint(std::string_view header_json, std::string_view claims_json,
                               const JwsSigningKey& key);
// b64(header).b64(claims).b64(signature) with the raw bytes given — for alg none, r=s=0, garbage.
[[nodiscard]] std::string assemble(std::string_view header_json, std::string_view claims_json,
                                   std::string_view signature_bytes);
// Convenience: {"alg":<alg>,"kid":<kid>,"typ":"JWT"} (kid omitted if empty) signed with key.
[[nodiscard]] std::string mint_simple(std::string_view claims_json, const JwsSigningKey& key);

// Returns the JSON object text `json` with member `name` set to the JSON value `value_json`
// (any JSON text: "1", "\"x\"", "[\"a\"]", "null"), or with it removed.
[[nodiscard]] std::string with_member(std::string_view json, const char* name,
                                      std::string_view value_json);
[[nodiscard]] std::string without_member(std::string_view json, const char* name);

struct ClaimsOptions {
    std::string issuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet";
    std::string client_id = "psc-login-test";
    std::string nonce = "n-0S6_WzA2Mj";
    std::string sub = "f:550dc1c2-4b7c-4f2d-9d14-1ae3e1e1b0b1:899700218896";
    std::string preferred_username = "899700218896";
    std::string acr = "eidas1"; // "" → no acr claim (PSC was seen sending none)
    std::int64_t lifetime = 120;
};
// A valid PSC-like claims set issued at `now` (JSON text).
[[nodiscard]] std::string psc_claims(std::int64_t now, const ClaimsOptions& opts = {});

} // namespace psc::testkeys
