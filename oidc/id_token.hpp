// SPDX-License-Identifier: LGPL-2.1-or-later
// ID token validation (OpenID Connect Core 1.0 §3.1.3.7, design §3): the JWS is verified with the
// local policy (jws.hpp), then every claim is checked with an injected clock. Fails closed: a claim
// of the wrong JSON type, or missing when required, is a rejection with its own reason.
#pragma once

#include "json.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

struct IdTokenPolicy {
    std::string issuer;    // compared byte for byte
    std::string client_id; // must be in aud
    // Audiences besides client_id that may appear (then azp = client_id is required). Default:
    // none.
    std::vector<std::string> trusted_audiences;
    // The nonce sent in the authorization request (code flow); nullopt when none was sent (CIBA).
    std::optional<std::string> nonce;
    // PSC: the ID token carries eidas1 (docs/pro-sante-connect.md). An empty list accepts no acr
    // value at all.
    std::vector<std::string> acr_accept{"eidas1"};
    bool acr_missing_accept = false; // PSC was seen omitting acr (2023): configurable
    // A generic provider with no acr requirement (config: empty acr_accept): any acr value is
    // accepted; a missing acr is still decided by acr_missing_accept.
    bool acr_any_value = false;
    std::chrono::seconds clock_skew{60};
    // iat older than this (+ skew) is refused. 10 min: the daemon validates an ID token seconds
    // after the token response; anything older is a replay or a badly wrong clock.
    std::chrono::seconds max_token_age{600};
    // OIDC max_age sent in the request: auth_time is then required (Core §3.1.2.1).
    std::optional<std::chrono::seconds> max_age;
    JwsVerifyPolicy jws;
    int json_max_depth = kJsonMaxDepth; // the claims set ([limits] json_max_depth)
    // OIDC Core §3.1.3.8 / §3.3.2.11: the access token and the authorization code the ID token
    // came with (empty: not known). When the token carries at_hash (c_hash) and the value is
    // known, the hash must match. Views: they must outlive the validate_id_token() call.
    std::string_view access_token;
    std::string_view code;
};

struct IdToken {
    std::string iss;
    std::string sub;
    std::vector<std::string> aud;
    std::int64_t exp = 0;
    std::int64_t iat = 0;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> auth_time;
    std::optional<std::string> nonce;
    std::optional<std::string> acr;
    std::optional<std::string> azp;
    JsonPtr claims; // the whole payload, for preferred_username, SubjectNameID, …
    JsonPtr header;
    JwsAlg alg = JwsAlg::RS256;
    std::string kid;
    // An encrypted ID token: the inner signed JWT (for id_token_hint) and the JWE algorithms.
    std::optional<std::string> signed_token;
    std::string jwe_alg, jwe_enc;
};

inline constexpr std::size_t kSubMaxBytes = 255;

// Validates a compact ID token at time `now` (Unix seconds). Reasons: every jws_* reason of
// jws_verify, and id_token_policy (empty issuer/client_id: Errc::config), claims_json, claim_type
// (a claim of the wrong JSON type; the message names it), iss_missing, iss_mismatch, sub_missing,
// sub_invalid (empty or > 255 bytes), aud_missing, aud_mismatch, aud_untrusted, azp_missing,
// azp_mismatch, exp_missing, exp_expired, iat_missing, iat_future, iat_too_old, nbf_future,
// nonce_missing, nonce_mismatch, acr_missing, acr_not_accepted, auth_time_missing,
// auth_time_too_old, auth_time_future, at_hash_mismatch, c_hash_mismatch (and crypto).
[[nodiscard]] Result<IdToken> validate_id_token(std::string_view compact, const JwkSet& keys,
                                                const IdTokenPolicy& policy, std::int64_t now);

// Claims checks only, on an already verified payload (UserInfo JWTs and tests reuse this).
[[nodiscard]] Result<IdToken> validate_id_token_claims(JsonPtr claims, const IdTokenPolicy& policy,
                                                       std::int64_t now);

} // namespace psc
