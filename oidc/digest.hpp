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

} // namespace psc
