// SPDX-License-Identifier: LGPL-2.1-or-later
// The provider's signing keys and its JWKS. Like Keycloak, the JWKS also lists an encryption key
// (use "enc") that a verifier must skip. Rotation replaces the signing key: the new one
// is published and the old one removed at once (the case a JWKS cache must survive).
#pragma once

#include "jws.hpp"
#include "result.hpp"
#include "ssl_ptr.hpp"

#include <string>
#include <string_view>

namespace psc::mock {

// How the compact JWS of an ID token (or signed UserInfo) is forged, if at all.
enum class Forgery { none, bad_signature, alg_none, hs256_with_public_key, unknown_kid };

class Signer {
public:
    // es256: P-256 / ES256 instead of RSA-2048 / RS256.
    [[nodiscard]] static Result<Signer> create(bool es256);

    [[nodiscard]] Status rotate();
    [[nodiscard]] std::string jwks_json() const;
    [[nodiscard]] const std::string& kid() const noexcept { return key_.kid; }
    [[nodiscard]] JwsAlg alg() const noexcept { return key_.alg; }
    // Compact JWS with header {"typ": typ, "alg", "kid"}.
    [[nodiscard]] Result<std::string> sign(std::string_view payload_json, std::string_view typ,
                                           Forgery forgery = Forgery::none) const;
    // The public verification keys (what the JWKS publishes), for checking id_token_hint.
    [[nodiscard]] Result<JwkSet> public_keys() const;

private:
    Signer() = default;
    bool es256_ = false;
    JwsSigningKey key_;
    EvpPkeyPtr enc_key_; // published only, never used
    std::string enc_kid_;
};

} // namespace psc::mock
