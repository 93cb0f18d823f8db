// SPDX-License-Identifier: LGPL-2.1-or-later
// JSON Web Signature (RFC 7515), compact serialisation only, with the algorithms of RFC 7518 §3 and
// RFC 8037 (EdDSA/Ed25519). Verification takes the algorithm from a local allow-list and the key
// from a JwkSet — never from the token (design §3): `none` is always refused, HS* only when allowed
// and a secret is configured, and embedded jwk/jku/x5u/x5c headers are ignored.
#pragma once

#include "json.hpp"
#include "jwe.hpp"
#include "jwk.hpp"
#include "result.hpp"
#include "secret.hpp"
#include "ssl_ptr.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

enum class JwsAlg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
    HS256,
    HS384,
    HS512
};

// Exact, case-sensitive JOSE names (RFC 7518 §3.1); "none" and unknown names → nullopt.
[[nodiscard]] std::optional<JwsAlg> jws_alg_from_name(std::string_view name) noexcept;
[[nodiscard]] std::string_view jws_alg_name(JwsAlg alg) noexcept;
[[nodiscard]] bool jws_alg_is_hmac(JwsAlg alg) noexcept;
// Whether a JWKS key may verify alg: key type/curve fit, RSA ≥ 2048 bits, JWK "alg" (if any) equal.
[[nodiscard]] bool jwk_fits_alg(const Jwk& key, JwsAlg alg) noexcept;
// For the config key `id_token_algs`: space-separated names, at least one, no duplicates, no
// "none". Reasons: alg_list_empty, alg_unknown (incl. none), alg_duplicate.
[[nodiscard]] Result<std::vector<JwsAlg>> parse_alg_list(std::string_view space_separated);

inline constexpr std::size_t kJwtMaxBytes = 16 * 1024; // design §9: JWT 16 KiB

struct JwsVerifyPolicy {
    std::vector<JwsAlg> allowed_algs{JwsAlg::RS256, JwsAlg::PS256, JwsAlg::ES256};
    const Secret* hmac_secret = nullptr; // HS* only if in allowed_algs AND this is set (non-empty)
    std::size_t max_bytes = kJwtMaxBytes;
    // Encrypted (nested) tokens: decrypted with these keys, then the inner JWS is verified as
    // above. Null: an encrypted token is refused (jwe_no_key).
    const JweDecryptPolicy* decryption = nullptr;
    // Logout tokens (Back-Channel Logout 1.0 §2.4): typ "logout+jwt" accepted besides JWT.
    bool logout_typ = false;
};

struct VerifiedJws {
    JsonPtr header;
    std::string payload; // decoded bytes; not parsed here (the caller knows what it expects)
    JwsAlg alg = JwsAlg::RS256;
    std::string kid; // header kid, empty when absent
    // Set when the token was a JWE: the inner signed JWT (what id_token_hint must carry, OIDC
    // RP-Initiated Logout §2) and the JWE's algorithms, for logs.
    std::optional<std::string> signed_compact;
    std::string jwe_alg, jwe_enc;
};

// Verifies a compact JWS. Reasons (stable; errors are Errc::invalid):
//   jws_too_large, jws_format (not three parts / empty signature), jws_base64 (non-canonical or
//   padded base64url), jws_header_json, jws_alg_missing, jws_alg_none, jws_alg_unknown,
//   jws_alg_not_allowed, jws_hmac_no_secret, jws_crit_unsupported, jws_crit_malformed, jws_typ,
//   jws_kid_type, jws_unknown_kid (a cache refetches once on this), jws_kid_ambiguous (no kid and
//   several keys usable for alg), jws_no_usable_key (no kid and no key usable for alg),
//   jws_key_alg_mismatch (the kid names only keys that cannot do alg), jws_signature_length,
//   jws_bad_signature. A five-part token is a JWE (jwe.hpp): its size may be twice max_bytes
//   (jws_too_large), then jwe_decrypt's reasons, jwe_nested (a JWE inside), jwe_not_signed (the
//   content is not a signed JWT: an encrypted but unsigned token is never accepted), and the
//   inner JWS's reasons.
[[nodiscard]] Result<VerifiedJws> jws_verify(std::string_view compact, const JwkSet& keys,
                                             const JwsVerifyPolicy& policy);

// Signing: client assertions (private_key_jwt), the mock provider, tests.
struct JwsSigningKey {
    JwsAlg alg = JwsAlg::RS256;
    EvpPkeyPtr key; // private key for RS/PS/ES/EdDSA
    Secret hmac;    // key for HS*
    std::string kid;
};

// Header = extra_header members (copied; not consumed) + "alg" + "kid" (if set); "typ" is not added
// unless extra_header has it. Reasons: jws_sign_key (key does not fit alg, RSA < 2048 bits, empty
// HMAC key), jws_sign_openssl.
[[nodiscard]] Result<std::string> jws_sign(const JwsSigningKey& key, std::string_view payload_json,
                                           json_object* extra_header = nullptr);

// Loads a PEM private key (PKCS#8 or traditional, unencrypted) read with secret-file rules (not
// group/world readable, ≤ 64 KiB, no symlink). alg nullopt → RS256 for RSA, ES256/384/512 by
// curve, EdDSA for Ed25519. Reasons: file_io reasons, signing_key_pem, jws_sign_key.
[[nodiscard]] Result<JwsSigningKey>
load_signing_key_pem(const std::string& path, std::optional<JwsAlg> alg, std::string kid);
// The raw signature over signing_input (ECDSA as R‖S). Checks the key type fits alg but not the
// RSA size, so tests can forge weak-key tokens; prefer jws_sign.
[[nodiscard]] Result<std::string> jws_signature(const JwsSigningKey& key,
                                                std::string_view signing_input);

// Same, from PEM text in memory (tests, benchmark).
[[nodiscard]] Result<JwsSigningKey>
signing_key_from_pem(std::string_view pem, std::optional<JwsAlg> alg, std::string kid);

} // namespace psc
