// SPDX-License-Identifier: LGPL-2.1-or-later
// Message digests the OIDC core needs: PKCE S256 (RFC 7636), the left halves of at_hash and
// c_hash (OIDC Core §3.1.3.6), and keys for lookups that must not compare secrets byte by byte.
#pragma once

#include "result.hpp"

#include <string>
#include <string_view>

namespace psc {

// The raw digest of `data` by an OpenSSL digest name ("SHA256", "SHA384", "SHA512").
// Reasons: crypto (the digest failed or is unknown).
[[nodiscard]] Result<std::string> digest(std::string_view algorithm, std::string_view data);
[[nodiscard]] inline Result<std::string> sha256(std::string_view data) {
    return digest("SHA256", data);
}

// OIDC Core §3.1.3.6 / §3.3.2.11: at_hash and c_hash are base64url(left half of hash(value)),
// the hash being the one of the ID token's JWS algorithm: SHA-256 for *256, SHA-384 for *384,
// SHA-512 for *512 and for EdDSA over Ed25519 (the only curve psc-login accepts). `alg_name` is
// the JOSE name. Reasons: crypto, token_hash_alg (no hash is defined for this name).
[[nodiscard]] Result<std::string> oidc_token_hash(std::string_view alg_name, std::string_view value);

} // namespace psc
