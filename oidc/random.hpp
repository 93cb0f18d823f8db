// SPDX-License-Identifier: LGPL-2.1-or-later
// Unpredictable values from OpenSSL's CSPRNG: state, nonce, PKCE verifiers, CIBA binding codes.
#pragma once

#include "result.hpp"

#include <string>

namespace psc {

// `bytes` random bytes, base64url-encoded (32 bytes → 43 characters, 256 bits).
[[nodiscard]] Result<std::string> random_token(std::size_t bytes = 32);
// A uniformly distributed integer in [0, bound) without modulo bias.
[[nodiscard]] Result<unsigned> random_below(unsigned bound);

} // namespace psc
