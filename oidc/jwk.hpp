// SPDX-License-Identifier: LGPL-2.1-or-later
// JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037): public signature keys from a provider's JWKS.
// Only what can verify a JWS is kept: RSA ≥ 2048 bits, EC P-256/P-384/P-521, OKP Ed25519. A JWKS
// may carry keys we cannot or must not use (encryption keys, unknown kty, private members); those
// are skipped, not fatal (design §3), so a provider adding a new key type does not lock everybody
// out.
#pragma once

#include "json.hpp"
#include "result.hpp"
#include "ssl_ptr.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// kty values after parsing ("RSA", "EC", "OKP"); `crv` tells the curve apart.
struct Jwk {
    std::string kid; // may be empty (a single key without kid is allowed, design §3)
    std::string kty; // "RSA", "EC", "OKP"
    std::string crv; // "P-256", "P-384", "P-521", "Ed25519"; empty for RSA
    std::string alg; // optional JWK "alg"; when set, a JWS must use exactly this alg
    std::string use; // optional; when set it is "sig"
    EvpPkeyPtr key;  // public key
    int bits = 0;    // RSA modulus size / EC field size / 256 for Ed25519

    // Verification contexts initialised once per JWS algorithm and copied for each token:
    // EVP_DigestVerifyInit costs about a sixth of an RS256 verification, and a provider's keys
    // verify thousands of tokens. A cache, hence mutable; like the daemon, not thread-safe.
    mutable std::vector<std::pair<int, EvpMdCtxPtr>> verify_templates;
};

struct JwkSet {
    std::vector<std::shared_ptr<const Jwk>> keys;
    std::vector<std::string> skipped; // one line per ignored key, for logs ("kid=x: reason: msg")
};

// Caps for a JWKS document: a provider publishes a handful of keys, never megabytes.
inline constexpr std::size_t kJwksMaxBytes = 64 * 1024;
inline constexpr std::size_t kJwksMaxKeys = 64;

// Parses a JWKS ({"keys": [...]}). Unusable keys go to `skipped`; no usable key → error
// "jwks_no_usable_key". limits.max_bytes is additionally capped at kJwksMaxBytes.
// Reasons: jwks_too_large, jwks_json, jwks_keys_missing, jwks_too_many_keys, jwks_no_usable_key.
[[nodiscard]] Result<JwkSet> parse_jwks(std::string_view json, const JsonLimits& limits = {});

// Parses one JWK. Reasons (each also used in `skipped` lines): jwk_not_object, jwk_kty_missing,
// jwk_kty_unsupported, jwk_use_not_sig, jwk_private, jwk_member (missing/wrong-type/bad base64url
// member), jwk_rsa_too_small, jwk_rsa_exponent, jwk_ec_curve_unsupported, jwk_ec_coordinate_length,
// jwk_ec_point_not_on_curve, jwk_okp_curve_unsupported, jwk_okp_length, jwk_alg_mismatch (alg not
// fitting kty/crv), jwk_key_ops (key_ops without "verify"), jwk_openssl.
[[nodiscard]] Result<Jwk> parse_jwk(const json_object* jwk);

// Builds a one-key set from an already-parsed key (tests, static configuration).
[[nodiscard]] JwkSet jwk_set_of(Jwk key);

} // namespace psc
